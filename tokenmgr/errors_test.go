package tokenmgr

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/deltashare/deltashare/internal/hint"
	"github.com/deltashare/deltashare/internal/secrettest"
	"github.com/deltashare/deltashare/sharing/protocol"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deltashare/deltashare/tokenmgr/databricks/fakeworkspace"
)

// TestStoreErrors: the store's errors are *StoreError values that name what was being done and
// match their sentinel.
func TestStoreErrors(t *testing.T) {
	s := newTestStore(t)
	raw := testProfileJSON("https://x.example.com/ds", storeTestToken, "")
	require.NoError(t, s.Put("prod", raw, Meta{}, false))

	_, missing := s.Get("nosuch")
	pending := s.putPending("later", Sensitive("https://h.example.com/delta_sharing/retrieve_config.html?abc0123"), Meta{})
	require.NoError(t, pending)
	_, pendingErr := s.Get("later")
	require.NoError(t, s.Put("gone", raw, Meta{}, false))
	require.NoError(t, os.Remove(s.profilePath("gone")))
	_, goneErr := s.Get("gone")
	tests := []struct {
		name   string
		err    error
		kind   error
		advice string // what the error advises, options named {LikeThis} ("": none)
	}{
		{"exists", s.Put("PROD", raw, Meta{}, false), ErrCredentialExists, "choose another name, pass {Overwrite} to replace it, or remove it first ({tokenmgr.Store.Remove} "},
		{"not found", missing, ErrCredentialNotFound, "{tokenmgr.Store.List} shows the stored credentials"},
		{"pending", pendingErr, ErrCredentialPending, "run {tokenmgr.Activate} {Name} later to download it"},
		{"profile file missing", goneErr, ErrCredentialNotFound, "remove the credential ({tokenmgr.Store.Remove} gone) and activate or import it again"},
		{"invalid name", s.Put("../x", raw, Meta{}, false), ErrInvalidCredentialName, ""},
		{"invalid profile", s.Put("bad", []byte(`{}`), Meta{}, false), protocol.ErrInvalidProfile, ""},
		{"export over a file", func() error {
			out := filepath.Join(t.TempDir(), "out.share")
			require.NoError(t, os.WriteFile(out, []byte("x"), 0o600))
			return s.Export("prod", out, false)
		}(), ErrCredentialExists, "choose another file, or pass {Overwrite} to replace it"},
		{"nowhere to save", func() error {
			_, err := Activate(context.Background(), ActivateOptions{Link: Sensitive("https://h.example.com/delta_sharing/retrieve_config.html?abc0123")})
			return err
		}(), nil, "give a credential store or an output file ({Out} FILE)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Error(t, tc.err)
			var se *StoreError
			require.ErrorAs(t, tc.err, &se)
			assert.NotEmpty(t, se.Op)
			if tc.kind != nil {
				assert.ErrorIs(t, tc.err, tc.kind)
			}
			assert.Equal(t, tc.kind, se.Kind)
			secrettest.AssertNoSecret(t, tc.err, storeTestToken)
			if tc.advice != "" {
				secrettest.AssertAdvice(t, tc.err, tc.advice)
				assert.Contains(t, se.Error(), hint.Render(tc.advice, nil), "the StoreError's own text has the advice")
			}
		})
	}

	// A write failure keeps the file system error as the cause.
	s.fault = func(step, _ string) error {
		if step == "create" {
			return fs.ErrPermission
		}
		return nil
	}
	err := s.Put("other", raw, Meta{}, false)
	var se *StoreError
	require.ErrorAs(t, err, &se)
	assert.Nil(t, se.Kind)
	assert.ErrorIs(t, err, fs.ErrPermission)
}

// TestActivationErrors: link and download errors are *ActivationError values with the
// service's status; Activate's local failures are *StoreError values.
func TestActivationErrors(t *testing.T) {
	_, _, err := ParseActivationLink("https://h.example.com/wrong?abc")
	var ae *ActivationError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, ErrInvalidActivationLink, ae.Kind)
	assert.Zero(t, ae.StatusCode)

	f := newActivationFixture(t)
	f.fw.InjectFault(fakeworkspace.Fault{Path: fakeworkspace.PathActivationRetrieve + "*", Status: 500, Times: 2})
	_, err = FetchActivation(context.Background(), f.host, f.code, nil)
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, 500, ae.StatusCode)
	assert.Nil(t, ae.Kind)
	secrettest.AssertNoSecret(t, err, f.code, f.link)

	// Through Activate, a transient failure keeps the status for the caller.
	_, err = Activate(context.Background(), ActivateOptions{Link: Sensitive(f.link), Name: "acme", Store: f.store})
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, 500, ae.StatusCode)
	secrettest.AssertAdvice(t, err, "run {tokenmgr.Activate} {Name} acme to try again")

	// The pending entry now reserves the name: a local refusal, a *StoreError.
	_, err = Activate(context.Background(), ActivateOptions{Link: Sensitive(f.host + "/delta_sharing/retrieve_config.html?other0123"), Name: "acme", Store: f.store})
	var se *StoreError
	require.ErrorAs(t, err, &se)
	assert.ErrorIs(t, err, ErrCredentialExists)
	assert.False(t, errors.As(err, &ae))

	// Once the link is used up, the error says so, with the service's status.
	f2 := newActivationFixture(t)
	_, err = FetchActivation(context.Background(), f2.host, f2.code, nil)
	require.NoError(t, err)
	_, err = FetchActivation(context.Background(), f2.host, f2.code, nil)
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, ErrActivationUsed, ae.Kind)
	assert.Equal(t, 404, ae.StatusCode)
}

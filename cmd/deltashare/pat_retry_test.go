package main

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deltashare/deltashare/tokenmgr/databricks/fakeworkspace"
)

// TestPATCreateAnswerLost: a token creation whose answer is lost (the workspace created the
// token, then answered 503) is not retried blindly: the token is looked up by its comment,
// revoked (its value is gone), and the creation tried once more. One live token results.
func TestPATCreateAnswerLost(t *testing.T) {
	fw, admin := workspaceEnv(t)
	fw.AddServicePrincipal(fivetranApp, "FIVETRAN_USER")
	tr := &transcript{t: t}
	for _, tc := range []struct {
		name, path string
		args       []string
		owner      string
	}{
		{"own token", fakeworkspace.PathTokenCreate, nil, ""},
		{"on behalf of a service principal", fakeworkspace.PathOnBehalfOf, []string{"--for-service-principal", "FIVETRAN_USER"}, fivetranApp},
	} {
		before := fw.TokenIDs(tc.owner)
		fw.InjectFault(fakeworkspace.Fault{Method: "POST", Path: tc.path, Status: 503, AfterHandling: true})
		r := run(t, "", append([]string{"pat", "create", "--comment", "lost answer", "--show", "-O", "json"}, tc.args...)...)
		require.Equal(t, exitOK, r.Code, "%s: %s", tc.name, r.Err)
		var created map[string]any
		require.NoError(t, json.Unmarshal([]byte(r.Out), &created))
		value := created["tokenValue"].(string)
		assert.True(t, fw.TokenValid(value), tc.name)
		after := fw.TokenIDs(tc.owner)
		assert.Len(t, after, len(before)+1, "%s: the orphan was revoked, one token remains", tc.name)
		assert.Len(t, fw.RequestsTo(tc.path), 2, "%s: created twice, once unanswered", tc.name)
		assert.Contains(t, r.Err, "no reliable answer to the token creation (HTTP 503)", tc.name)
		assert.Contains(t, r.Err, "whose value was lost: revoked", tc.name)
		fw.ResetRequests()

		// A 503 that created nothing: tried once more, nothing to revoke.
		fw.InjectFault(fakeworkspace.Fault{Method: "POST", Path: tc.path, Status: 503})
		r = tr.run("", append([]string{"pat", "create", "--comment", "not created", "--out", t.TempDir() + "/tok"}, tc.args...)...)
		require.Equal(t, exitOK, r.Code, "%s: %s", tc.name, r.Err)
		assert.Contains(t, r.Err, "it created nothing", tc.name)
		assert.Len(t, fw.TokenIDs(tc.owner), len(after)+1, tc.name)
		fw.ResetRequests()
	}
	sweepSecrets(t, tr, admin)
}

// TestWorkspaceTimeout: a persistent 429 and an unreachable workspace end at --timeout with a
// message saying what was retried, said on standard error while it lasts.
func TestWorkspaceTimeout(t *testing.T) {
	fw, admin := workspaceEnv(t)
	tr := &transcript{t: t}
	fw.InjectFault(fakeworkspace.Fault{Path: fakeworkspace.PathTokenList, Status: 429, Times: 1000})
	r := tr.run("", "pat", "list", "--timeout", "2s")
	assert.Equal(t, exitError, r.Code, r.Err)
	assert.Contains(t, r.Err, "still trying: GET "+fakeworkspace.PathTokenList+": HTTP 429 for")
	assert.Contains(t, r.Err, "HTTP 429")
	assert.Contains(t, r.Err, "allow more time with --timeout")

	// Nothing listens on this port.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	dead := "http://" + l.Addr().String()
	require.NoError(t, l.Close())
	start := time.Now()
	r = tr.run("", "pat", "list", "--timeout", "2s", "--host", dead)
	assert.Equal(t, exitError, r.Code, r.Err)
	assert.Contains(t, r.Err, "could not reach the workspace")
	assert.Contains(t, r.Err, "still trying")
	assert.Contains(t, r.Err, "allow more time with --timeout")
	t.Logf("gave up after %s: %s", time.Since(start).Round(time.Second), r.Err) // informative only

	r = tr.run("", "pat", "list", "--timeout", "soon")
	assert.Equal(t, exitUsage, r.Code, r.Err)
	// A negative timeout is a usage error in every workspace command, pat rotate (which
	// connects its own way) included.
	for _, args := range [][]string{{"pat", "list"}, {"pat", "rotate", "--databricks-profile", "DEFAULT", "--comment", "c", "--show"}} {
		r = tr.run("", append(args, "--timeout", "-1s")...)
		assert.Equal(t, exitUsage, r.Code, "%v: %s", args, r.Err)
		assert.Contains(t, r.Err, "--timeout must not be negative", args)
	}
	sweepSecrets(t, tr, admin)
}

// TestPATCreateWriteAndRevokeFail: a token created whose --out file cannot be written, and
// whose revocation fails too, is named with the command that revokes it by hand: with --admin
// for a service principal's token (another principal's token needs the token management API).
func TestPATCreateWriteAndRevokeFail(t *testing.T) {
	if info, err := os.Stat("/proc/self"); err != nil || !info.IsDir() {
		t.Skip("needs /proc (Linux): a folder where no file can be created")
	}
	fw, admin := workspaceEnv(t)
	fw.AddServicePrincipal(fivetranApp, "FIVETRAN_USER")
	tr := &transcript{t: t}
	for _, tc := range []struct {
		name, revokePath string
		args             []string
		owner            string
		byHand           string
	}{
		{"own token", fakeworkspace.PathTokenDelete, nil, "", "deltashare pat revoke %s\n"},
		{"service principal", fakeworkspace.PathTokenManagement + "/*", []string{"--for-service-principal", "FIVETRAN_USER"}, fivetranApp, "deltashare pat revoke %s --admin\n"},
	} {
		before := fw.TokenIDs(tc.owner)
		fw.InjectFault(fakeworkspace.Fault{Method: "", Path: tc.revokePath, Status: 403, Times: 20})
		// A folder that exists and where no file can be created, not even by root: the write
		// fails after the checks that come before the creation.
		out := "/proc/deltashare-test-token"
		r := tr.run("", append([]string{"pat", "create", "--comment", "unwritable", "--out", out}, tc.args...)...)
		require.NotEqual(t, exitOK, r.Code, tc.name)
		after := fw.TokenIDs(tc.owner)
		require.Len(t, after, len(before)+1, "%s: the token is still live", tc.name)
		id := ""
		for _, a := range after {
			if !slices.Contains(before, a) {
				id = a
			}
		}
		assert.Contains(t, r.Err+"\n", fmt.Sprintf(tc.byHand, id), tc.name)
		assert.NoFileExists(t, out)
	}
	sweepSecrets(t, tr, admin)
}

package tokenmgr

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deltashare/deltashare/internal/secrettest"
	"github.com/deltashare/deltashare/tokenmgr/databricks/fakeworkspace"
)

// contaminateEnv gives the test environment every kind of Databricks credential the SDK
// could pick up, all valid on the fake.
func contaminateEnv(t *testing.T, fw *fakeworkspace.Workspace) (envToken, fileToken string) {
	t.Helper()
	_, envToken = fw.MintToken("", "env", 0)
	_, fileToken = fw.MintToken("", "file", 0)
	cfg := filepath.Join(os.Getenv("HOME"), ".databrickscfg")
	secrettest.WriteFile(t, cfg, "[DEFAULT]\nhost = "+fw.URL()+"\ntoken = "+fileToken+"\n", 0o600)
	t.Setenv("DATABRICKS_CONFIG_FILE", cfg)
	t.Setenv("DATABRICKS_HOST", fw.URL())
	t.Setenv("DATABRICKS_TOKEN", envToken)
	t.Setenv("DATABRICKS_AUTH_TYPE", "pat")
	t.Setenv("DATABRICKS_METADATA_SERVICE_URL", fw.URL()+"/metadata")
	return envToken, fileToken
}

func TestFetchActivation(t *testing.T) {
	fw := fakeworkspace.NewIsolated(t)
	envToken, fileToken := contaminateEnv(t, fw)
	link := fw.AddRecipient("acme")
	host, code, err := ParseActivationLink(link)
	require.NoError(t, err)
	fw.ResetRequests()

	cred, err := FetchActivation(context.Background(), host, code, &http.Client{Timeout: 10 * time.Second})
	require.NoError(t, err)
	assert.Equal(t, 1, cred.ShareCredentialsVersion)
	assert.Equal(t, fw.RecipientBearerToken("acme"), cred.BearerToken.Reveal())
	assert.Equal(t, fw.SharingEndpoint(), cred.Endpoint)
	assert.NotEmpty(t, cred.ExpirationTime)
	assert.WithinDuration(t, time.Now().Add(90*24*time.Hour), cred.Expiry, time.Minute)

	reqs := fw.Requests()
	require.Len(t, reqs, 2, "only the two public endpoints are called: %v", reqs)
	assert.Equal(t, fakeworkspace.PathActivationInfo+code, reqs[0].Path)
	assert.Equal(t, fakeworkspace.PathActivationRetrieve+code, reqs[1].Path)
	for _, r := range reqs {
		assert.Empty(t, r.Header.Values("Authorization"), "no credentials on public endpoint %s", r.Path)
		assert.Empty(t, r.Header.Values("Cookie"))
		for k, vs := range r.Header {
			for _, v := range vs {
				assert.NotContains(t, v, envToken, k)
				assert.NotContains(t, v, fileToken, k)
			}
		}
	}
	assert.Equal(t, reqs[1].ResponseBody, cred.Profile(), "the profile is kept byte for byte")

	secrettest.AssertNoSecret(t, cred, cred.BearerToken.Reveal(), code)
	secrettest.AssertNoSecret(t, *cred, cred.BearerToken.Reveal(), code)

	// Second download: the link is used up.
	_, err = FetchActivation(context.Background(), host, code, nil)
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrActivationUsed)
	assert.True(t, strings.HasPrefix(err.Error(), "this activation link was already used; ask the data provider to issue a new link"), err.Error())
	secrettest.AssertNoSecret(t, err, code, link)
	for _, r := range fw.Requests() {
		assert.Empty(t, r.Header.Values("Authorization"), r.Path)
	}
}

func TestFetchActivationKeepsUnknownFields(t *testing.T) {
	fw := fakeworkspace.NewIsolated(t)
	host, code, err := ParseActivationLink(fw.AddRecipient("acme"))
	require.NoError(t, err)
	body := `{"shareCredentialsVersion": 2, "bearerToken": "tok-123456", "endpoint": "https://sharing.example.com/delta-sharing/",` +
		` "expirationTime": "2031-05-06T07:08:09.123Z", "futureField": {"nested": [1, 2]}}`
	fw.InjectFault(fakeworkspace.Fault{Path: fakeworkspace.PathActivationRetrieve + "*", Status: 200, Body: body})
	cred, err := FetchActivation(context.Background(), host, code, nil)
	require.NoError(t, err)
	assert.Equal(t, body, string(cred.Profile()))
	assert.Equal(t, 2, cred.ShareCredentialsVersion)
	assert.Equal(t, time.Date(2031, 5, 6, 7, 8, 9, 123e6, time.UTC), cred.Expiry)
	assert.Equal(t, "2031-05-06T07:08:09.123Z", cred.ExpirationTime)
	p := cred.Profile()
	p[0] = 'X'
	assert.Equal(t, body, string(cred.Profile()), "Profile returns a copy")
}

func TestFetchActivationUsedShapes(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
	}{
		{"default 404", 0, ""},
		{"400 with a message", 400, `{"error_code":"INVALID_PARAMETER_VALUE","message":"The activation link has already been used."}`},
		{"410 gone", 410, `{"error_code":"GONE","message":"gone"}`},
		{"400 invalid state", 400, `{"error_code":"INVALID_STATE","message":"Token already retrieved"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fw := fakeworkspace.NewIsolated(t)
			if tc.status != 0 {
				fw.SetActivationUsedError(tc.status, tc.body)
			}
			link := fw.AddRecipient("acme")
			host, code, err := ParseActivationLink(link)
			require.NoError(t, err)
			_, err = FetchActivation(context.Background(), host, code, nil)
			require.NoError(t, err)
			_, err = FetchActivation(context.Background(), host, code, nil)
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrActivationUsed)
			secrettest.AssertNoSecret(t, err, code)
		})
	}
}

func TestFetchActivationOtherErrors(t *testing.T) {
	tests := []struct {
		name     string
		fault    fakeworkspace.Fault
		contains string
	}{
		{"server error", fakeworkspace.Fault{Path: fakeworkspace.PathActivationRetrieve + "*", Status: 500}, "try again later"},
		{"bad request echoing the code", fakeworkspace.Fault{Path: fakeworkspace.PathActivationInfo + "*", Status: 400,
			Body: `{"error_code":"INVALID_PARAMETER_VALUE","message":"bad code CODE"}`}, "[redacted]"},
		{"not JSON", fakeworkspace.Fault{Path: fakeworkspace.PathActivationRetrieve + "*", Status: 200, Body: "<html>hi</html>"}, "unexpected answer"},
		{"no bearer token", fakeworkspace.Fault{Path: fakeworkspace.PathActivationRetrieve + "*", Status: 200,
			Body: `{"shareCredentialsVersion":1,"endpoint":"https://x/"}`}, "lacks bearerToken"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fw := fakeworkspace.NewIsolated(t)
			host, code, err := ParseActivationLink(fw.AddRecipient("acme"))
			require.NoError(t, err)
			f := tc.fault
			f.Body = strings.ReplaceAll(f.Body, "CODE", code)
			fw.InjectFault(f)
			_, err = FetchActivation(context.Background(), host, code, nil)
			require.Error(t, err)
			assert.NotErrorIs(t, err, ErrActivationUsed)
			assert.Contains(t, err.Error(), tc.contains)
			secrettest.AssertNoSecret(t, err, code)
		})
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestFetchActivationTransportErrorsAreRedacted(t *testing.T) {
	fakeworkspace.IsolateEnv(t)
	code := "c0ffee0123456789abcdef"
	broken := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		return nil, fmt.Errorf("tls failure talking to %s", r.URL)
	})}
	_, err := FetchActivation(context.Background(), "https://dbc-1.cloud.databricks.com", code, broken)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "cannot reach https://dbc-1.cloud.databricks.com")
	secrettest.AssertNoSecret(t, err, code)
	assert.Nil(t, errors.Unwrap(err), "the SDK error (with the URL) is not chained")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = FetchActivation(ctx, "https://dbc-1.cloud.databricks.com", code, broken)
	assert.ErrorIs(t, err, context.Canceled)
	secrettest.AssertNoSecret(t, err, code)
}

func TestParseActivationLink(t *testing.T) {
	tests := []struct {
		link, host, code string
	}{
		{"https://dbc-1234abcd-5678.cloud.databricks.com/delta_sharing/retrieve_config.html?AbC123_-.~", "https://dbc-1234abcd-5678.cloud.databricks.com", "AbC123_-.~"},
		{"  https://adb-1.2.azuredatabricks.net:443/delta_sharing/retrieve_config.html?xyz=  ", "https://adb-1.2.azuredatabricks.net:443", "xyz="},
		{"HTTPS://Host.Example.com/delta_sharing/retrieve_config.html?q", "https://Host.Example.com", "q"},
		{"http://127.0.0.1:8080/delta_sharing/retrieve_config.html?abc", "http://127.0.0.1:8080", "abc"},
		{"http://localhost/delta_sharing/retrieve_config.html?abc", "http://localhost", "abc"},
	}
	for _, tc := range tests {
		host, code, err := ParseActivationLink(tc.link)
		require.NoError(t, err, tc.link)
		assert.Equal(t, tc.host, host)
		assert.Equal(t, tc.code, code)
	}
}

func TestParseActivationLinkMalformed(t *testing.T) {
	const secret = "s3cr3tc0de"
	tests := []struct{ name, link, reason string }{
		{"empty", "   ", "empty"},
		{"bare code", secret, "not a URL"},
		{"other scheme", "ftp://h/delta_sharing/retrieve_config.html?" + secret, "https"},
		{"plain http to a remote host", "http://example.com/delta_sharing/retrieve_config.html?" + secret, "https"},
		{"wrong page", "https://h/sharing/other.html?" + secret, "path must end in"},
		{"no code", "https://h/delta_sharing/retrieve_config.html", "missing"},
		{"code with a slash", "https://h/delta_sharing/retrieve_config.html?" + secret + "/x", "unexpected characters"},
		{"code with a space", "https://h/delta_sharing/retrieve_config.html?" + secret + "%20x", "unexpected characters"},
		{"user info", "https://me:" + secret + "@h/delta_sharing/retrieve_config.html?" + secret, "user information"},
		{"no host", "https:///delta_sharing/retrieve_config.html?" + secret, "not a valid URL"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := ParseActivationLink(tc.link)
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrInvalidActivationLink)
			assert.Contains(t, err.Error(), tc.reason)
			assert.Contains(t, err.Error(), "e.g. https://")
			assert.NotContains(t, err.Error(), secret)
		})
	}
}

func TestParseActivationInput(t *testing.T) {
	link := "https://h.example.com/delta_sharing/retrieve_config.html?abc"
	tests := []struct {
		name, in, host, wantHost, wantCode, err string
	}{
		{"link", link, "", "https://h.example.com", "abc", ""},
		{"link with the same host", link, "h.example.com", "https://h.example.com", "abc", ""},
		{"link with another host", link, "https://other.example.com", "", "", "differs"},
		{"bare code and host", "abc", "h.example.com/", "https://h.example.com", "abc", ""},
		{"bare code and URL host", "abc", "https://h.example.com/some/path", "https://h.example.com", "abc", ""},
		{"bare code without host", "abc", "", "", "", "needs the workspace host"},
		{"bad bare code", "a/b", "h", "", "", "unexpected characters"},
		{"http host", "abc", "http://h.example.com", "", "", "https"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, c, err := ParseActivationInput(tc.in, tc.host)
			if tc.err != "" {
				require.Error(t, err)
				assert.ErrorIs(t, err, ErrInvalidActivationLink)
				assert.Contains(t, err.Error(), tc.err)
				if tc.host == "" && !strings.Contains(tc.in, "://") {
					secrettest.AssertAdvice(t, err, "a bare activation code needs the workspace host ({Host} https://...)")
				}
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.wantHost, h)
			assert.Equal(t, tc.wantCode, c)
		})
	}
}

func FuzzParseActivationLink(f *testing.F) {
	for _, s := range []string{
		"https://h/delta_sharing/retrieve_config.html?abc",
		"http://127.0.0.1:1/delta_sharing/retrieve_config.html?a=b",
		"https://h/delta_sharing/retrieve_config.html?a/b#c",
		"abc", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, link string) {
		host, code, err := ParseActivationLink(link)
		if err != nil {
			if !errors.Is(err, ErrInvalidActivationLink) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		if !validCode(code) || strings.ContainsAny(code, "/?#% ") {
			t.Fatalf("bad code %q", code)
		}
		if !strings.HasPrefix(host, "https://") && !strings.HasPrefix(host, "http://") {
			t.Fatalf("bad host %q", host)
		}
	})
}

// TestFetchActivationTellsFailuresApart: a used link, an expired link, a link cut short and a
// host that is not an activation service each get their own error (and sentinel), keep the
// service's message, and never show the link or its code.
func TestFetchActivationTellsFailuresApart(t *testing.T) {
	htmlHost := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, "<html><body><h1>404 Not Found</h1><p>nginx</p></body></html>")
	}))
	t.Cleanup(htmlHost.Close)
	okHTMLHost := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = io.WriteString(w, "<html><body>Welcome</body></html>")
	}))
	t.Cleanup(okHTMLHost.Close)
	otherJSONHost := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"errorCode":"NOT_FOUND","message":"no such path"}`)
	}))
	t.Cleanup(otherJSONHost.Close)

	tests := []struct {
		name string
		// setup returns the host and code to fetch (the fake's recipient link is downloaded
		// first when used is true).
		setup    func(t *testing.T, fw *fakeworkspace.Workspace, link string) (host, code string)
		used     bool
		kind     error
		contains []string
	}{
		{"used", nil, true, ErrActivationUsed, []string{"already used", "has already been used to download the credential file"}},
		{"expired", func(t *testing.T, fw *fakeworkspace.Workspace, link string) (string, string) {
			fw.InjectFault(fakeworkspace.Fault{Path: fakeworkspace.PathActivationInfo + "*", Status: 400,
				Body: `{"error_code":"INVALID_PARAMETER_VALUE","message":"Activation link expired on 2026-01-01."}`})
			h, c, err := ParseActivationLink(link)
			require.NoError(t, err)
			return h, c
		}, false, ErrActivationExpired, []string{"has expired", "Activation link expired on 2026-01-01."}},
		{"cut short by five characters", func(t *testing.T, fw *fakeworkspace.Workspace, link string) (string, string) {
			h, c, err := ParseActivationLink(link[:len(link)-5])
			require.NoError(t, err)
			return h, c
		}, false, ErrActivationLinkUnknown, []string{"does not know this activation link", "incomplete", "Activation url does not exist."}},
		{"a web server's 404 page", func(t *testing.T, _ *fakeworkspace.Workspace, link string) (string, string) {
			_, c, err := ParseActivationLink(link)
			require.NoError(t, err)
			return htmlHost.URL, c
		}, false, ErrNotActivationEndpoint, []string{"not a Delta Sharing activation service", htmlHost.URL, "HTTP 404"}},
		{"a web server's home page", func(t *testing.T, _ *fakeworkspace.Workspace, link string) (string, string) {
			_, c, err := ParseActivationLink(link)
			require.NoError(t, err)
			return okHTMLHost.URL, c
		}, false, ErrNotActivationEndpoint, []string{"not a Delta Sharing activation service", okHTMLHost.URL}},
		{"another JSON API", func(t *testing.T, _ *fakeworkspace.Workspace, link string) (string, string) {
			_, c, err := ParseActivationLink(link)
			require.NoError(t, err)
			return otherJSONHost.URL, c
		}, false, ErrNotActivationEndpoint, []string{"not a Delta Sharing activation service", "no such path"}},
	}
	all := []error{ErrActivationUsed, ErrActivationExpired, ErrActivationLinkUnknown, ErrNotActivationEndpoint, ErrInvalidActivationLink}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fw := fakeworkspace.NewIsolated(t)
			link := fw.AddRecipient("acme")
			host, code, err := ParseActivationLink(link)
			require.NoError(t, err)
			if tc.used {
				_, err := FetchActivation(context.Background(), host, code, nil)
				require.NoError(t, err)
			}
			if tc.setup != nil {
				host, code = tc.setup(t, fw, link)
			}
			_, err = FetchActivation(context.Background(), host, code, nil)
			require.Error(t, err)
			for _, k := range all {
				if k == tc.kind {
					assert.ErrorIs(t, err, k)
				} else {
					assert.NotErrorIs(t, err, k, "only one kind")
				}
			}
			for _, s := range tc.contains {
				assert.Contains(t, err.Error(), s)
			}
			secrettest.AssertNoSecret(t, err, code, link, link[:len(link)-5])
		})
	}
}

package sharing

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"testing"

	"github.com/deltashare/deltashare/sharing/protocol"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestProxyFromEnvironment checks that the default transport sends requests through the proxy
// named by HTTP_PROXY. net/http reads the proxy variables once per process, so the check runs
// in a child process of the test binary with the variables set from the start.
func TestProxyFromEnvironment(t *testing.T) {
	if os.Getenv("DELTASHARE_PROXY_CHILD") == "1" {
		proxyChild(t)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestProxyFromEnvironment$", "-test.count=1")
	cmd.Env = append(os.Environ(), "DELTASHARE_PROXY_CHILD=1")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "child test failed:\n%s", out)
	assert.NotContains(t, string(out), "no tests to run")
}

func proxyChild(t *testing.T) {
	proxy := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		// A proxy receives the absolute URL of the target.
		if r.Host != "sharing.example.test" || r.URL.Path != "/api/shares" {
			writeJSON(w, 502, protocol.ErrorBody{Message: "unexpected target"})
			return
		}
		writeRaw(w, 200, []byte(`{"items":[{"name":"via-proxy"}]}`))
	})
	t.Setenv("HTTP_PROXY", proxy.URL)
	t.Setenv("http_proxy", proxy.URL)
	t.Setenv("NO_PROXY", "")
	t.Setenv("no_proxy", "")
	c, err := NewClient(bearerProfile("http://sharing.example.test/api"), WithRetryPolicy(RetryPolicy{MaxTries: 1}))
	require.NoError(t, err)
	shares, err := c.ListShares(context.Background())
	require.NoError(t, err)
	assert.Equal(t, []protocol.Share{{Name: "via-proxy"}}, shares)
	reqs := proxy.requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, "Bearer "+testToken, reqs[0].Header.Get("Authorization"))
}

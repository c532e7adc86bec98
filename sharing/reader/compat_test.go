package reader

import (
	"encoding/json"
	"net"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
)

const testToken = "test-bearer-token-must-not-leak"

func i64(v int64) *int64 { return &v }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func assertNoLeak(t *testing.T, s string) {
	t.Helper()
	for _, secret := range []string{testToken, "must-not-leak", "private-secret", "signed-url-secret"} {
		assert.NotContains(t, s, secret)
	}
}

// resetConnection hijacks the connection and closes it with a TCP reset.
func resetConnection(w http.ResponseWriter) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

package tokenmgr

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/databricks/databricks-sdk-go/service/sharing"
)

// FuzzActivationResponse: the activation service's answer (untrusted JSON) either gives a
// credential with a token and an endpoint, or a clear error; the token never shows in the
// credential's text forms nor in the error.
func FuzzActivationResponse(f *testing.F) {
	for _, s := range []string{
		`{"shareCredentialsVersion":1,"bearerToken":"tok-0123456789","endpoint":"https://h/api/2.0/delta-sharing/metastores/x","expirationTime":"2030-01-01T00:00:00.0Z"}`,
		`{"shareCredentialsVersion":1,"bearerToken":"","endpoint":"https://h/"}`,
		`{"bearerToken":"tok-0123456789"}`,
		`{"shareCredentialsVersion":"1","bearerToken":5}`,
		`{"expirationTime":"not a time","bearerToken":"tok-0123456789","endpoint":"e"}`,
		`[]`, `null`, ``, `<html>`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var resp *sharing.RetrieveTokenResponse
		var r sharing.RetrieveTokenResponse
		if json.Unmarshal(raw, &r) == nil {
			resp = &r
		}
		c, err := credentialFromResponse("fetch", raw, resp)
		if err != nil {
			if resp != nil && len(resp.BearerToken) >= 8 && strings.Contains(err.Error(), resp.BearerToken) {
				t.Fatalf("the error shows the token: %v", err)
			}
			return
		}
		if c.BearerToken == "" || c.Endpoint == "" {
			t.Fatalf("a credential without token or endpoint: %+v", c)
		}
		tok := string(c.BearerToken)
		if len(tok) < 8 {
			return
		}
		for _, s := range []string{c.String(), fmt.Sprintf("%v %+v %#v", c, c, c)} {
			if strings.Contains(s, tok) {
				t.Fatalf("the token shows in %q", s)
			}
		}
		if b, err := json.Marshal(c); err == nil && strings.Contains(string(b), tok) {
			t.Fatalf("the token shows in the JSON form %s", b)
		}
	})
}

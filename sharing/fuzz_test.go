package sharing

import (
	"encoding/json"
	"testing"

	"github.com/deltashare/deltashare/internal/sharedtest"
)

func FuzzParseProfile(f *testing.F) {
	for _, b := range sharedtest.Seeds("protocol/profiles", "*") {
		f.Add(b)
	}
	f.Add([]byte(`{"shareCredentialsVersion":1,"endpoint":"https://h/","bearerToken":"t","expirationTime":"2021-11-12T00:12:29.0Z"}`))
	f.Add([]byte(`{"shareCredentialsVersion":"2","type":"oauth_client_credentials","endpoint":"http://h","tokenEndpoint":"http://i","clientId":"c","clientSecret":"s","scope":" a b "}`))
	f.Add([]byte(`{"shareCredentialsVersion":1e0}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParseProfile(data)
		if err != nil {
			if p != nil {
				t.Fatal("profile and error both returned")
			}
			return
		}
		// A parsed profile writes back to a profile that parses to the same value, and its
		// String never shows its secrets.
		b, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		q, err := ParseProfile(b)
		if err != nil {
			t.Fatalf("re-parsing %s: %v", b, err)
		}
		if p.String() != q.String() || p.BearerToken != q.BearerToken || p.ClientSecret != q.ClientSecret || !p.ExpirationTime.Equal(q.ExpirationTime) {
			t.Fatalf("round trip changed the profile: %v vs %v", p, q)
		}
		// String does not depend on the secrets' values.
		masked := *p
		if masked.BearerToken != "" {
			masked.BearerToken = "x"
		}
		if masked.ClientSecret != "" {
			masked.ClientSecret = "x"
		}
		if p.String() != masked.String() {
			t.Fatalf("String shows a secret: %s", p)
		}
	})
}

package sharing

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/deltashare/deltashare/internal/sharedtest"
)

// fixtureSeeds returns the files under protocol/<dir> (nothing when the shared data is absent).
func fixtureSeeds(dir string) [][]byte {
	root := sharedtest.Root()
	if root == "" {
		return nil
	}
	files, _ := filepath.Glob(filepath.Join(root, "protocol", dir, "*"))
	var out [][]byte
	for _, f := range files {
		if b, err := os.ReadFile(f); err == nil {
			out = append(out, b)
		}
	}
	return out
}

func FuzzParseProfile(f *testing.F) {
	for _, b := range fixtureSeeds("profiles") {
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

func FuzzDecodeLine(f *testing.F) {
	for _, b := range fixtureSeeds("ndjson") {
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			f.Add(append([]byte(nil), sc.Bytes()...))
		}
	}
	f.Add([]byte(`{"add":{"url":"https://x","id":"a","partitionValues":{},"size":1,"version":0,"timestamp":1}}`))
	f.Add([]byte(`{"endStreamAction":{"errorMessage":"e","httpStatusErrorCode":500}}`))
	f.Add([]byte(`{"nextPageToken":"n"}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		it, err := DecodeLine(line)
		if err != nil || it.IsZero() {
			return
		}
		_ = it.String()
		var enc func(Item) ([]byte, error)
		switch it.Format {
		case FormatDelta:
			enc = EncodeDeltaLine
		default:
			enc = func(it Item) ([]byte, error) { return EncodeParquetLine(it, true) }
		}
		b1, err := enc(it)
		if err != nil {
			t.Fatalf("encoding a decoded item: %v", err)
		}
		again, err := DecodeLine(b1)
		if err != nil {
			t.Fatalf("decoding %s: %v", b1, err)
		}
		if again.IsZero() {
			t.Fatalf("re-decoded to nothing: %s", b1)
		}
		b2, err := enc(again)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b1, b2) {
			t.Fatalf("decode/encode is not stable:\n%s\n%s", b1, b2)
		}
	})
}

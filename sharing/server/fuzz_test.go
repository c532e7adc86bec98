package server

import (
	"strings"
	"testing"
)

func FuzzParseFilePath(f *testing.F) {
	for _, s := range []string{"/files/t/a.parquet", "/files/t/%2e%2e/x", "/files/t/a%2Fb", "/files//x", "/files/t/a/../b", "/files/t/%00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, escaped string) {
		id, rel, ok := parseFilePath(escaped)
		if !ok {
			return
		}
		if id == "" || rel == "" || strings.HasPrefix(rel, "/") || strings.ContainsAny(id+rel, "\\\x00") || strings.Contains(id, "/") {
			t.Fatalf("unsafe parse of %q: %q %q", escaped, id, rel)
		}
		for _, seg := range strings.Split(rel, "/") {
			if seg == "" || seg == "." || seg == ".." {
				t.Fatalf("unsafe segment in %q: %q", escaped, rel)
			}
		}
	})
}

func FuzzPageToken(f *testing.F) {
	p := pageTokens{key: []byte("0123456789abcdef0123456789abcdef")}
	f.Add(p.make("shares", 3))
	f.Add("3.AAAA")
	f.Fuzz(func(t *testing.T, tok string) {
		n, ok := p.parse("shares", tok)
		if ok && p.make("shares", n) != tok {
			t.Fatalf("accepted a token %q that the server did not make", tok)
		}
	})
}

func FuzzParseConfig(f *testing.F) {
	f.Add([]byte("shares:\n  - name: s\ntokens:\n  - value: abc\n"))
	f.Add([]byte("version: 1\nurlTTL: 1h\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = ParseConfig(data, "fuzz.yaml", t.TempDir(), ConfigOptions{LookupEnv: func(string) (string, bool) { return "", false }})
	})
}

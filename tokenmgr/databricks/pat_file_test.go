package databricks

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestProfileTokenRewrite(t *testing.T) {
	tests := []struct {
		name, profile, in, want string
	}{
		{"spaces around =", "p", "[p]\nhost = h\ntoken = OLD\n", "[p]\nhost = h\ntoken = NEW\n"},
		{"no spaces", "p", "[p]\ntoken=OLD\n", "[p]\ntoken=NEW\n"},
		{"colon delimiter", "p", "[p]\ntoken: OLD\n", "[p]\ntoken: NEW\n"},
		{"double quotes", "p", "[p]\ntoken = \"OLD\"\n", "[p]\ntoken = \"NEW\"\n"},
		{"backquotes", "p", "[p]\ntoken = `OLD`\n", "[p]\ntoken = `NEW`\n"},
		{"inline comment", "p", "[p]\ntoken = OLD # rotated monthly\n", "[p]\ntoken = NEW # rotated monthly\n"},
		{"trailing spaces", "p", "[p]\ntoken = OLD   \n", "[p]\ntoken = NEW   \n"},
		{"CRLF line endings", "p", "[a]\r\ntoken = X\r\n[p]\r\ntoken = OLD\r\nhost = h\r\n", "[a]\r\ntoken = X\r\n[p]\r\ntoken = NEW\r\nhost = h\r\n"},
		{"no final newline", "p", "[p]\ntoken = OLD", "[p]\ntoken = NEW"},
		{"indented key and section", "p", "  [p]\n  token = OLD\n", "  [p]\n  token = NEW\n"},
		{"section with a comment", "p", "[p] # prod\ntoken = OLD\n", "[p] # prod\ntoken = NEW\n"},
		{"implicit DEFAULT", "DEFAULT", "host = h\ntoken = OLD\n[p]\ntoken = X\n", "host = h\ntoken = NEW\n[p]\ntoken = X\n"},
		{"explicit DEFAULT", "DEFAULT", "[DEFAULT]\ntoken = OLD\n[p]\ntoken = X\n", "[DEFAULT]\ntoken = NEW\n[p]\ntoken = X\n"},
		{"same token in other profiles", "p", "[a]\ntoken = OLD\n[p]\ntoken = OLD\n[b]\ntoken = OLD\n", "[a]\ntoken = OLD\n[p]\ntoken = NEW\n[b]\ntoken = OLD\n"},
		{"comments that look like keys", "p", "[p]\n# token = COMMENTED\n; token = ALSO\ntoken = OLD\n", "[p]\n# token = COMMENTED\n; token = ALSO\ntoken = NEW\n"},
		{"hash without space is part of a value", "p", "[p]\npassword = a#b\ntoken = OLD\n", "[p]\npassword = a#b\ntoken = NEW\n"},
		{"byte order mark", "DEFAULT", "\ufefftoken = OLD\n", "\ufefftoken = NEW\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := newTargetFile(t, tc.in)
			assertRewrite(t, &profileTarget{fileState: fileState{path: path}, profile: tc.profile}, path, tc.in, tc.want)
		})
	}
}

func TestProfileTokenRewriteRefusesAmbiguity(t *testing.T) {
	tests := []struct{ name, in, msg string }{
		{"duplicate section", "[p]\ntoken = A\n[q]\n[p]\nhost = h\n", "appears 2 times"},
		{"duplicate key", "[p]\ntoken = A\ntoken = B\n", "sets token 2 times"},
		{"empty token", "[p]\ntoken =\n", "has no token"},
		{"spaces inside brackets name another section", "[ p ]\ntoken = A\n", "has no profile p"},
		{"unclosed section", "[p\ntoken = A\n", "without closing it"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := &profileTarget{fileState: fileState{path: newTargetFile(t, tc.in)}, profile: "p"}
			_, _, err := p.load()
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.msg)
			assert.NotContains(t, err.Error(), "token = A")
		})
	}
}

func TestTokenFileRewrite(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"newline", "OLD\n", "NEW\n"},
		{"no newline", "OLD", "NEW"},
		{"CRLF and leading blank line", "\nOLD\r\n", "\nNEW\r\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := newTargetFile(t, tc.in)
			assertRewrite(t, &tokenFileTarget{fileState{path: path}}, path, tc.in, tc.want)
		})
	}
	for _, bad := range []string{"", "\n", "two words\n", "two\nlines\n"} {
		_, _, err := (&tokenFileTarget{fileState{path: newTargetFile(t, bad)}}).load()
		assert.Error(t, err, "%q", bad)
	}
}

// newTargetFile writes content to a new private file and returns its path.
func newTargetFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "target")
	writeFile(t, path, content, 0o600)
	return path
}

// assertRewrite checks a rotation target of the file at path, which holds in: it loads the
// token OLD, writing NEW leaves want in the file, a Databricks client reads NEW back, and
// restore puts the exact bytes of in back.
func assertRewrite(t *testing.T, target rotationTarget, path, in, want string) {
	t.Helper()
	tok, _, err := target.load()
	require.NoError(t, err)
	assert.Equal(t, "OLD", tok)
	require.NoError(t, target.write("NEW"))
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, want, string(got))
	back, err := target.readBack()
	require.NoError(t, err)
	assert.Equal(t, "NEW", back, "the SDK's own loader reads the new token")
	require.NoError(t, target.restore())
	got, err = os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, in, string(got), "restore puts the exact bytes back")
}

func FuzzKeyValue(f *testing.F) {
	for _, s := range []string{"token = x", "a:b", `k = "v" # c`, "k = `v", "= ", "\ufeffk=v ;c", `k = """x"""`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		_, s, e, ok := keyValue(body)
		if ok && (s < 0 || e < s || e > len(body)) {
			t.Fatalf("range %d:%d out of %d", s, e, len(body))
		}
	})
}

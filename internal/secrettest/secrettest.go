package secrettest

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deltashare/deltashare/internal/hint"
)

// AssertNoSecret checks that none of the secrets appear in any rendering of v. Every secret
// must be non-empty.
func AssertNoSecret(t testing.TB, v any, secrets ...string) {
	t.Helper()
	var renders []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"} {
		renders = append(renders, fmt.Sprintf(verb, v))
	}
	if b, err := json.Marshal(v); err == nil {
		renders = append(renders, string(b))
	}
	var logged strings.Builder
	slog.New(slog.NewTextHandler(&logged, nil)).Info("x", "v", v)
	renders = append(renders, logged.String())
	if err, ok := v.(error); ok {
		renders = append(renders, err.Error())
	}
	for _, r := range renders {
		for _, s := range secrets {
			require.NotEmpty(t, s)
			assert.NotContains(t, r, s)
			assert.NotContains(t, strings.ToLower(r), strings.ToLower(fmt.Sprintf("%x", s)), "hex-encoded secret")
		}
	}
}

// AssertAdvice checks that err carries advice (options and operations named {LikeThis}, which
// the command line renders as its flags and commands) and that its text shows the advice as
// rendered for a library user.
func AssertAdvice(t testing.TB, err error, advice string) {
	t.Helper()
	var h interface{ Hint() string }
	require.ErrorAs(t, err, &h)
	assert.Contains(t, h.Hint(), advice)
	assert.Contains(t, err.Error(), hint.Render(advice, nil))
}

// WriteFile writes content to path with exactly mode (whatever the umask), creating its
// directory with mode 0700, as credential files are kept.
func WriteFile(t testing.TB, path, content string, mode os.FileMode) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o700))
	require.NoError(t, os.WriteFile(path, []byte(content), mode))
	require.NoError(t, os.Chmod(path, mode))
}

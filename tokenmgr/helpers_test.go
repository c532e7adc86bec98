package tokenmgr

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deltashare/deltashare/internal/hint"
	"github.com/deltashare/deltashare/internal/secrettest"
	"github.com/deltashare/deltashare/tokenmgr/databricks/fakeworkspace"
)

// newFake isolates the environment from the host and starts a fake workspace.
func newFake(t *testing.T) *fakeworkspace.Workspace {
	t.Helper()
	fakeworkspace.IsolateEnv(t)
	return fakeworkspace.New(t)
}

// assertNoSecret checks that none of the secrets appear in any rendering of v.
func assertNoSecret(t *testing.T, v any, secrets ...string) {
	t.Helper()
	secrettest.AssertNoSecret(t, v, secrets...)
}

// assertAdvice checks that err carries advice (options and operations named {LikeThis}, which
// the command line renders as its flags and commands) and that its text shows the advice as
// rendered for a library user.
func assertAdvice(t *testing.T, err error, advice string) {
	t.Helper()
	var h interface{ Hint() string }
	require.ErrorAs(t, err, &h)
	assert.Contains(t, h.Hint(), advice)
	assert.Contains(t, err.Error(), hint.Render(advice, nil))
}

func writeFile(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o700))
	require.NoError(t, os.WriteFile(path, []byte(content), mode))
	require.NoError(t, os.Chmod(path, mode))
}

package tokenmgr

import (
	"os"
	"testing"

	"github.com/deltashare/deltashare/internal/secrettest"
	"github.com/deltashare/deltashare/tokenmgr/databricks/fakeworkspace"
)

// newFake isolates the environment from the host and starts a fake workspace.
func newFake(t *testing.T) *fakeworkspace.Workspace { return fakeworkspace.NewIsolated(t) }

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
	secrettest.AssertAdvice(t, err, advice)
}

func writeFile(t *testing.T, path, content string, mode os.FileMode) {
	secrettest.WriteFile(t, path, content, mode)
}

package sharedtest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSkipsAreLogged: a test skipped for missing shared data is skipped, and recorded in the skip
// log (one line per test) that make test counts.
func TestSkipsAreLogged(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "skips")
	t.Setenv("DELTASHARE_SHARED_TESTDATA", filepath.Join(dir, "absent"))
	t.Setenv("DELTASHARE_REQUIRE_SHARED", "")
	t.Setenv(SkipLogEnv, log)
	for _, name := range []string{"one", "two"} {
		ran := false
		t.Run(name, func(t *testing.T) {
			ran = true
			Path(t, "some", "table")
			t.Error("not skipped")
		})
		assert.True(t, ran)
	}
	data, err := os.ReadFile(log)
	require.NoError(t, err)
	assert.Equal(t, []string{"TestSkipsAreLogged/one", "TestSkipsAreLogged/two"}, strings.Fields(string(data)))

	// An element missing from present data: skipped and logged too.
	require.NoError(t, os.Mkdir(filepath.Join(dir, "absent"), 0o755))
	t.Run("element", func(t *testing.T) { Path(t, "nosuch"); t.Error("not skipped") })
	data, err = os.ReadFile(log)
	require.NoError(t, err)
	assert.Len(t, strings.Fields(string(data)), 3)

	// Without the variable nothing is written.
	t.Setenv(SkipLogEnv, "")
	require.NoError(t, os.Remove(log))
	t.Run("unlogged", func(t *testing.T) { Path(t, "nosuch"); t.Error("not skipped") })
	assert.NoFileExists(t, log)
}

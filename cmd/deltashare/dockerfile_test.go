package main

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDockerfileBuildsAStaticBinary runs the Dockerfile's build step as written (its RUN line
// with the go build, here on the host toolchain) and checks what the distroless final stage
// needs: a statically linked binary (no program interpreter, no shared libraries) that runs and
// reports the version passed as the build argument. Building the image itself needs a container
// engine and a registry, which `make image` uses and this test does not.
func TestDockerfileBuildsAStaticBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary: not in -short")
	}
	b, err := os.ReadFile(filepath.Join("..", "..", "Dockerfile"))
	require.NoError(t, err)
	df := string(b)
	assert.Contains(t, df, "FROM gcr.io/distroless/static", "the final stage is a static base")
	assert.Regexp(t, `(?m)^USER 65532`, df, "the final stage runs as a non-root user")

	run := regexp.MustCompile(`(?m)^RUN (CGO_ENABLED=0 go build .*)$`).FindStringSubmatch(df)
	require.NotNil(t, run, "the Dockerfile's build step: RUN CGO_ENABLED=0 go build ...")
	out := filepath.Join(t.TempDir(), "out")
	// -trimpath is left out here: with it every package compiles again (another build cache).
	script := strings.NewReplacer("/out/", out+"/", "${VERSION}", "v9.9.9-test", "./cmd/deltashare", ".", "-trimpath ", "").Replace(run[1])
	cmd := exec.Command("sh", "-c", script)
	cmd.Env = os.Environ()
	msg, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s: %s", script, msg)

	bin := filepath.Join(out, "deltashare")
	f, err := elf.Open(bin)
	require.NoError(t, err)
	defer f.Close()
	for _, p := range f.Progs {
		assert.NotEqual(t, elf.PT_INTERP, p.Type, "a static binary has no program interpreter")
	}
	libs, err := f.ImportedLibraries()
	require.NoError(t, err)
	assert.Empty(t, libs, "a static binary loads no shared library")

	v, err := exec.Command(bin, "version").CombinedOutput()
	require.NoError(t, err, "%s", v)
	assert.Contains(t, string(v), "v9.9.9-test")
}

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCompletionScripts: completion prints a script per shell (bash's passes bash -n, zsh's
// zsh -n where those shells exist); an unknown shell is a usage error.
func TestCompletionScripts(t *testing.T) {
	for shell, marker := range map[string]string{
		"bash":       "complete -o default -o bashdefault -F _deltashare_complete deltashare",
		"zsh":        "compdef _deltashare deltashare",
		"fish":       "complete -c deltashare",
		"powershell": "Register-ArgumentCompleter -Native -CommandName 'deltashare'",
	} {
		t.Run(shell, func(t *testing.T) {
			r := run(t, "", "completion", shell)
			require.Equal(t, 0, r.Code, r.Err)
			assert.Contains(t, r.Out, marker)
			if shell == "fish" {
				assert.Contains(t, r.Out, "export", "fish lists the commands")
			}
			if sh := map[string]string{"bash": "bash", "zsh": "zsh"}[shell]; sh != "" {
				path, err := exec.LookPath(sh)
				if err != nil {
					t.Logf("%s is not installed: syntax not checked", sh)
					return
				}
				cmd := exec.Command(path, "-n")
				cmd.Stdin = strings.NewReader(r.Out)
				out, err := cmd.CombinedOutput()
				assert.NoError(t, err, "%s -n: %s", sh, out)
			}
		})
	}
	r := run(t, "", "completion", "tcsh")
	assert.Equal(t, exitUsage, r.Code)
	assert.Contains(t, r.Err, "bash, zsh, fish or powershell")
	r = run(t, "", "completion")
	assert.Equal(t, exitUsage, r.Code)
}

// TestBashCompletionWorks: bash, with the script loaded, completes commands and a command's
// flags by asking the real program.
func TestBashCompletionWorks(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash is not installed")
	}
	self, err := os.Executable()
	require.NoError(t, err)
	dir := t.TempDir()
	prog := filepath.Join(dir, "deltashare")
	require.NoError(t, os.WriteFile(prog, []byte("#!/bin/sh\n"+runAsMainEnv+"=1 exec '"+self+"' \"$@\"\n"), 0o700))
	script := filepath.Join(dir, "completion.bash")
	require.NoError(t, os.WriteFile(script, []byte(run(t, "", "completion", "bash").Out), 0o600))

	complete := func(words ...string) []string {
		t.Helper()
		line := `source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _deltashare_complete; printf '%s\n' "${COMPREPLY[@]}"`
		cmd := exec.Command(bash, append([]string{"-c", line, "bash", script, prog}, words...)...)
		cmd.Env = append(os.Environ(), "DELTASHARE_CONFIG_DIR="+t.TempDir())
		out, err := cmd.Output()
		require.NoError(t, err)
		return strings.Fields(string(out))
	}
	assert.Equal(t, []string{"export"}, complete("exp"))
	assert.ElementsMatch(t, []string{"schema", "schemas", "serve", "shares", "sp", "sync"}, complete("s"))
	assert.Equal(t, []string{"--overwrite"}, complete("export", "--overw"))
	assert.Equal(t, []string{"--where"}, complete("export", "demo.sales.orders", "--wh"))
	assert.Contains(t, complete("creds", ""), "list", "subcommands")
}

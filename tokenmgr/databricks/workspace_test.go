package databricks

import (
	"context"
	"errors"
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
func newFake(t *testing.T) *fakeworkspace.Workspace { return fakeworkspace.NewIsolated(t) }

// connect returns a workspace client authenticated with token.
func connect(t *testing.T, fw *fakeworkspace.Workspace, token string) *Workspace {
	t.Helper()
	ws, err := NewWorkspace(context.Background(), WorkspaceOptions{Host: fw.URL(), Token: token})
	require.NoError(t, err)
	return ws
}

// newConnected starts a fake workspace and returns it with a client authenticated as its
// default user (an admin) by a new token with the comment.
func newConnected(t *testing.T, comment string) (*fakeworkspace.Workspace, *Workspace) {
	t.Helper()
	fw := newFake(t)
	_, tok := fw.MintToken("", comment, 0)
	return fw, connect(t, fw, tok)
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
	secrettest.AssertAdvice(t, err, advice)
	var we *WorkspaceError
	if errors.As(err, &we) {
		assert.Contains(t, we.Error(), hint.Render(advice, nil), "the WorkspaceError's own text has the advice")
	}
}

func writeFile(t *testing.T, path, content string, mode os.FileMode) {
	secrettest.WriteFile(t, path, content, mode)
}

func TestNewWorkspaceAuthSources(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, fw *fakeworkspace.Workspace, token, home string) WorkspaceOptions
	}{
		{"explicit host and token", func(t *testing.T, fw *fakeworkspace.Workspace, token, _ string) WorkspaceOptions {
			return WorkspaceOptions{Host: fw.URL(), Token: token}
		}},
		{"environment variables", func(t *testing.T, fw *fakeworkspace.Workspace, token, _ string) WorkspaceOptions {
			t.Setenv("DATABRICKS_HOST", fw.URL())
			t.Setenv("DATABRICKS_TOKEN", token)
			return WorkspaceOptions{}
		}},
		{"named profile in a given file", func(t *testing.T, fw *fakeworkspace.Workspace, token, home string) WorkspaceOptions {
			path := filepath.Join(home, "cfg", "databricks.cfg")
			writeFile(t, path, "[DEFAULT]\nhost = https://wrong.invalid\ntoken = nope\n\n[prod]\nhost = "+fw.URL()+"\ntoken = "+token+"\n", 0o600)
			return WorkspaceOptions{Profile: "prod", ConfigFile: path}
		}},
		{"profile from DATABRICKS_CONFIG_FILE", func(t *testing.T, fw *fakeworkspace.Workspace, token, home string) WorkspaceOptions {
			path := filepath.Join(home, "other.cfg")
			writeFile(t, path, "[prod]\nhost = "+fw.URL()+"\ntoken = "+token+"\n", 0o600)
			t.Setenv("DATABRICKS_CONFIG_FILE", path)
			return WorkspaceOptions{Profile: "prod"}
		}},
		{"DEFAULT profile of ~/.databrickscfg", func(t *testing.T, fw *fakeworkspace.Workspace, token, home string) WorkspaceOptions {
			writeFile(t, filepath.Join(home, ".databrickscfg"), "[DEFAULT]\nhost = "+fw.URL()+"\ntoken = "+token+"\n", 0o600)
			require.NoError(t, os.Unsetenv("DATABRICKS_CONFIG_FILE"))
			return WorkspaceOptions{}
		}},
		{"explicit options win over the environment", func(t *testing.T, fw *fakeworkspace.Workspace, token, _ string) WorkspaceOptions {
			t.Setenv("DATABRICKS_HOST", "https://wrong.invalid")
			t.Setenv("DATABRICKS_TOKEN", "dapi-wrong")
			t.Setenv("DATABRICKS_CLIENT_ID", "someone")
			return WorkspaceOptions{Host: fw.URL(), Token: token, NoEnvironment: true}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fw := newFake(t)
			home := os.Getenv("HOME")
			_, token := fw.MintToken("", "test", 0)
			opts := tc.setup(t, fw, token, home)
			ws, err := NewWorkspace(context.Background(), opts)
			require.NoError(t, err)
			assert.Equal(t, fw.URL(), ws.Host())
			assert.Equal(t, "pat", ws.AuthType())
			me, err := ws.Me(context.Background())
			require.NoError(t, err)
			assert.Equal(t, fakeworkspace.DefaultUser, me.UserName)
			assertNoSecret(t, ws, token)
		})
	}
}

func TestNewWorkspaceConfigurationErrors(t *testing.T) {
	tests := []struct {
		name     string
		setup    func(t *testing.T, fw *fakeworkspace.Workspace, home string) WorkspaceOptions
		kind     error
		contains []string
		advice   string // what the error advises, options named {LikeThis}
	}{
		{"nothing configured", func(t *testing.T, _ *fakeworkspace.Workspace, _ string) WorkspaceOptions {
			return WorkspaceOptions{}
		}, ErrNoWorkspaceCredentials, []string{"DATABRICKS_HOST", "DATABRICKS_TOKEN"}, "or pass {WorkspaceOptions.Profile} NAME"},
		{"host but no credentials", func(t *testing.T, fw *fakeworkspace.Workspace, _ string) WorkspaceOptions {
			t.Setenv("DATABRICKS_HOST", fw.URL())
			return WorkspaceOptions{}
		}, ErrNoWorkspaceCredentials, []string{"DATABRICKS_TOKEN", "DATABRICKS_CLIENT_ID"}, "or pass {WorkspaceOptions.Profile} NAME"},
		{"token but no host", func(t *testing.T, _ *fakeworkspace.Workspace, _ string) WorkspaceOptions {
			return WorkspaceOptions{Token: "dapi0123456789"}
		}, ErrNoWorkspaceHost, []string{"DATABRICKS_HOST"}, "pass {WorkspaceOptions.Host}"},
		{"profile missing from the file", func(t *testing.T, fw *fakeworkspace.Workspace, home string) WorkspaceOptions {
			path := filepath.Join(home, "cfg")
			writeFile(t, path, "[prod]\nhost = "+fw.URL()+"\ntoken = dapi0123456789\n", 0o600)
			return WorkspaceOptions{Profile: "staging", ConfigFile: path}
		}, ErrNoWorkspaceCredentials, []string{"staging"}, "check the profile name ({WorkspaceOptions.Profile}) and the config file ({WorkspaceOptions.ConfigFile} / DATABRICKS_CONFIG_FILE)"},
		{"config file missing", func(t *testing.T, _ *fakeworkspace.Workspace, home string) WorkspaceOptions {
			return WorkspaceOptions{Profile: "prod", ConfigFile: filepath.Join(home, "nope.cfg")}
		}, ErrNoWorkspaceCredentials, []string{"nope.cfg", "does not exist"}, "point {WorkspaceOptions.ConfigFile} / DATABRICKS_CONFIG_FILE at it"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fw := newFake(t)
			opts := tc.setup(t, fw, os.Getenv("HOME"))
			_, err := NewWorkspace(context.Background(), opts)
			require.Error(t, err)
			assert.ErrorIs(t, err, tc.kind)
			for _, s := range tc.contains {
				assert.Contains(t, err.Error(), s)
			}
			assertAdvice(t, err, tc.advice)
			assertNoSecret(t, err, "dapi0123456789")
		})
	}
}

func TestWorkspaceErrorsAreClearAndRedacted(t *testing.T) {
	fw := newFake(t)
	_, token := fw.MintToken("", "", 0)
	fw.AddUser("plain@example.com", false)
	_, plainToken := fw.MintToken("plain@example.com", "", 0)

	t.Run("invalid token", func(t *testing.T) {
		ws := connect(t, fw, "dapi-not-a-valid-token")
		_, err := ws.Me(context.Background())
		require.Error(t, err)
		assert.ErrorIs(t, err, ErrWorkspaceAuth)
		assert.Contains(t, err.Error(), "HTTP 401")
		assert.Contains(t, err.Error(), "invalid, expired or revoked")
		var we *WorkspaceError
		require.ErrorAs(t, err, &we)
		assert.Equal(t, 401, we.StatusCode)
		assertNoSecret(t, err, "dapi-not-a-valid-token")
	})
	t.Run("not an admin", func(t *testing.T) {
		ws := connect(t, fw, plainToken)
		_, err := ws.ListWorkspaceTokens(context.Background(), AdminListOptions{})
		require.Error(t, err)
		assert.ErrorIs(t, err, ErrWorkspacePermission)
		assert.Contains(t, err.Error(), "HTTP 403")
		assert.Contains(t, err.Error(), "admin")
		assertNoSecret(t, err, plainToken)
	})
	t.Run("server message echoing the token", func(t *testing.T) {
		ws := connect(t, fw, token)
		fw.InjectFault(fakeworkspace.Fault{Path: fakeworkspace.PathMe, Status: 500,
			Body: `{"error_code":"INTERNAL_ERROR","message":"failure for token ` + token + `"}`})
		_, err := ws.Me(context.Background())
		require.Error(t, err)
		assert.Contains(t, err.Error(), "HTTP 500")
		assert.Contains(t, err.Error(), "[redacted]")
		assertNoSecret(t, err, token)
	})
	t.Run("cancelled context", func(t *testing.T) {
		ws := connect(t, fw, token)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := ws.Me(ctx)
		require.Error(t, err)
		assert.ErrorIs(t, err, context.Canceled)
	})
}

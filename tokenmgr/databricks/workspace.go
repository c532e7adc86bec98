package databricks

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	sdk "github.com/databricks/databricks-sdk-go"
	"github.com/databricks/databricks-sdk-go/common/environment"
	"github.com/databricks/databricks-sdk-go/config"
	"github.com/databricks/databricks-sdk-go/service/iam"

	"github.com/deltashare/deltashare/tokenmgr/secret"
)

// WorkspaceOptions configures [NewWorkspace]. Every field is optional: fields left empty are
// filled by the SDK's unified authentication from DATABRICKS_* / ARM_* environment variables
// and from ~/.databrickscfg (the DEFAULT profile, or Profile), unless NoEnvironment is set.
type WorkspaceOptions struct {
	// Host is the workspace URL, e.g. https://dbc-1234abcd-5678.cloud.databricks.com.
	Host string
	// Profile names a profile in the Databricks config file.
	Profile string
	// ConfigFile is the Databricks config file; default $DATABRICKS_CONFIG_FILE, then
	// ~/.databrickscfg.
	ConfigFile string
	// Token is a personal access token (auth type "pat").
	Token string
	// ClientID and ClientSecret are a service principal's OAuth secret (auth type "oauth-m2m").
	ClientID     string
	ClientSecret string
	// AzureClientID, AzureClientSecret and AzureTenantID are an Azure (Entra ID) service
	// principal (auth type "azure-client-secret").
	AzureClientID     string
	AzureClientSecret string
	AzureTenantID     string
	// AzureResourceID is the Azure resource ID of the workspace (instead of Host).
	AzureResourceID string
	// AzureLoginEndpoint is the Entra ID (Azure AD) authority host, e.g.
	// https://login.microsoftonline.us/ (the CLI takes it from AZURE_AUTHORITY_HOST). Setting
	// it makes the workspace an Azure Databricks workspace whatever its host name; the
	// default is the public cloud's endpoint for *.azuredatabricks.net hosts.
	AzureLoginEndpoint string
	// AuthType forces one SDK auth type ("pat", "oauth-m2m", "azure-client-secret",
	// "databricks-cli", ...). When empty it is derived from the explicit credentials above, or
	// the SDK tries every method in turn.
	AuthType string
	// NoEnvironment ignores DATABRICKS_* / ARM_* environment variables and the config file:
	// only the fields above are used (the config file is still read when Profile is set).
	NoEnvironment bool
	// HTTPClient, when set, provides the transport (and, if it has one, the timeout of each
	// request).
	HTTPClient *http.Client
	// Timeout bounds each workspace call, its retries included (0: DefaultTimeout). Throttling
	// (429), unavailability (503, 504) and an unreachable host are retried within it.
	Timeout time.Duration
	// OnRetry, when set, is told what is being retried once a call has been retrying for a few
	// seconds (the CLI prints it on standard error).
	OnRetry func(msg string)
}

// Workspace is a Databricks workspace client with resolved authentication.
type Workspace struct {
	client  *sdk.WorkspaceClient
	host    string
	secrets []string
	// httpClient is WorkspaceOptions.HTTPClient, reused to connect with new tokens.
	httpClient *http.Client
	timeout    time.Duration
	onRetry    func(string)
}

// noLoader keeps the SDK from reading environment variables or config files.
type noLoader struct{}

func (noLoader) Name() string                   { return "deltashare-explicit" }
func (noLoader) Configure(*config.Config) error { return nil }

// NewWorkspace resolves the configuration and credentials (no request is sent to the
// workspace for PATs; OAuth methods fetch their first token) and returns a client.
// Misconfiguration yields a *WorkspaceError matching ErrNoWorkspaceCredentials or
// ErrNoWorkspaceHost whose message says which variables or profile to set.
func NewWorkspace(ctx context.Context, opts WorkspaceOptions) (*Workspace, error) {
	const op = "connect to Databricks"
	cfg := &config.Config{
		Host:              opts.Host,
		Profile:           opts.Profile,
		ConfigFile:        opts.ConfigFile,
		Token:             opts.Token,
		ClientID:          opts.ClientID,
		ClientSecret:      opts.ClientSecret,
		AzureClientID:     opts.AzureClientID,
		AzureClientSecret: opts.AzureClientSecret,
		AzureTenantID:     opts.AzureTenantID,
		AzureResourceID:   opts.AzureResourceID,
		AuthType:          opts.AuthType,
	}
	if opts.AzureLoginEndpoint != "" {
		cfg.DatabricksEnvironment = azureEnvironment(opts.AzureLoginEndpoint)
	}
	if cfg.AuthType == "" {
		cfg.AuthType = authTypeOf(cfg, true)
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	var base http.RoundTripper
	cfg.HTTPTimeoutSeconds = int(math.Ceil(timeout.Seconds()))
	cfg.RetryTimeoutSeconds = cfg.HTTPTimeoutSeconds
	if opts.HTTPClient != nil {
		base = opts.HTTPClient.Transport
		if t := opts.HTTPClient.Timeout; t > 0 && t < timeout {
			cfg.HTTPTimeoutSeconds = int(math.Ceil(t.Seconds()))
		}
	}
	cfg.HTTPTransport = newWatchTransport(base, timeout, opts.OnRetry)
	if opts.NoEnvironment {
		cfg.Loaders = []config.Loader{noLoader{}}
		if opts.Profile != "" {
			if cfg.ConfigFile == "" {
				cfg.ConfigFile = "~/.databrickscfg"
			}
			cfg.Loaders = []config.Loader{config.ConfigFile}
		}
	}
	secrets := []string{opts.Token, opts.ClientSecret, opts.AzureClientSecret}
	if err := cfg.EnsureResolved(); err != nil {
		return nil, profileError(op, opts.Profile, err, secrets)
	}
	secrets = append(secrets, cfg.Token, cfg.ClientSecret, cfg.AzureClientSecret, cfg.Password)
	if cfg.AuthType == "" {
		// Credentials found in the environment or a profile pick their method explicitly:
		// otherwise the SDK tries every method in turn and a rejected secret ends as "no
		// credentials found" instead of "rejected".
		cfg.AuthType = authTypeOf(cfg, false)
	}
	if opts.Profile != "" {
		path, err := expandHome(defaultString(cfg.ConfigFile, "~/.databrickscfg"))
		if err == nil {
			if _, statErr := os.Stat(path); errors.Is(statErr, os.ErrNotExist) {
				return nil, newHintedError(op, ErrNoWorkspaceCredentials,
					fmt.Sprintf("%s: profile %q: the Databricks config file %s does not exist; ", op, opts.Profile, path),
					"create it with `databricks configure` or point {WorkspaceOptions.ConfigFile} / DATABRICKS_CONFIG_FILE at it", nil)
			}
		}
	}
	if cfg.Host == "" && cfg.AzureResourceID == "" {
		if cfg.Token == "" && cfg.ClientID == "" && cfg.AzureClientID == "" && opts.Profile == "" {
			return nil, newHintedError(op, ErrNoWorkspaceCredentials, op+": no Databricks credentials found: ", noCredentialsHint, nil)
		}
		return nil, mapError(op, config.ErrNoHostConfigured, secrets...)
	}
	// Authenticate a dummy request now, so that configuration problems surface here
	// rather than on the first API call.
	probe, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://localhost/", nil)
	if err != nil {
		return nil, mapError(op, err, secrets...)
	}
	if err := cfg.Authenticate(probe); err != nil {
		return nil, profileError(op, opts.Profile, err, secrets)
	}
	wc, err := sdk.NewWorkspaceClient((*sdk.Config)(cfg))
	if err != nil {
		return nil, mapError(op, err, secrets...)
	}
	return &Workspace{client: wc, host: cfg.Host, secrets: nonEmpty(secrets), httpClient: opts.HTTPClient, timeout: timeout, onRetry: opts.OnRetry}, nil
}

// authTypeOf is the SDK auth type the credentials in cfg call for ("" when they call for none):
// a token, an OAuth client ID and secret, or an Azure client ID and secret. An Azure client
// secret counts when given as options (explicit) or, found in the environment or a profile,
// for an Azure workspace.
func authTypeOf(cfg *config.Config, explicit bool) string {
	switch {
	case cfg.Token != "":
		return "pat"
	case cfg.ClientID != "" && cfg.ClientSecret != "":
		return "oauth-m2m"
	case cfg.AzureClientID != "" && cfg.AzureClientSecret != "" && (explicit || cfg.IsAzure()):
		return "azure-client-secret"
	}
	return ""
}

// azureEnvironment is the public Azure Databricks environment with another Entra ID
// authority host.
func azureEnvironment(login string) *environment.DatabricksEnvironment {
	for _, e := range environment.AllEnvironments() {
		if e.Cloud == environment.CloudAzure && e.DnsZone == ".azuredatabricks.net" && e.AzureEnvironment != nil {
			az := *e.AzureEnvironment
			if !strings.HasSuffix(login, "/") {
				login += "/"
			}
			az.ActiveDirectoryEndpoint = login
			e.AzureEnvironment = &az
			return &e
		}
	}
	return nil
}

// profileError adds the profile name to configuration errors about it.
func profileError(op, profile string, err error, secrets []string) error {
	if profile != "" && strings.Contains(err.Error(), "profile") {
		return newHintedError(op, ErrNoWorkspaceCredentials, fmt.Sprintf("%s: %s; ", op, secret.Redact(err.Error(), secrets...)),
			"check the profile name ({WorkspaceOptions.Profile}) and the config file ({WorkspaceOptions.ConfigFile} / DATABRICKS_CONFIG_FILE)", err)
	}
	return mapError(op, err, secrets...)
}

// Host returns the canonical workspace URL.
func (w *Workspace) Host() string { return w.host }

// AuthType returns the SDK auth type in use ("pat", "oauth-m2m", ...).
func (w *Workspace) AuthType() string { return w.client.Config.AuthType }

// SDK returns the underlying SDK client, for calls this package does not wrap.
func (w *Workspace) SDK() *sdk.WorkspaceClient { return w.client }

// String describes the workspace without any credential.
func (w Workspace) String() string {
	return fmt.Sprintf("Databricks workspace %s (auth %s)", w.host, w.client.Config.AuthType)
}

// GoString keeps %#v from printing credentials.
func (w Workspace) GoString() string { return "databricks.Workspace{" + w.String() + "}" }

// Format makes every fmt verb print the credential-free description.
func (w Workspace) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		_, _ = io.WriteString(f, w.GoString())
		return
	}
	_, _ = io.WriteString(f, w.String())
}

// err maps an SDK error, scrubbing this workspace's secrets.
func (w *Workspace) err(op string, err error, more ...string) error {
	return mapError(op, err, append(append([]string{}, w.secrets...), more...)...)
}

// CurrentUser is the identity the workspace credentials authenticate as.
type CurrentUser struct {
	ID          string `json:"id"`
	UserName    string `json:"user_name"`
	DisplayName string `json:"display_name,omitempty"`
	Active      bool   `json:"active"`
}

// Me returns the authenticated user or service principal (SCIM Me). It is the cheapest call
// that proves the credentials work.
func (w *Workspace) Me(ctx context.Context) (*CurrentUser, error) {
	u, err := w.client.CurrentUser.Me(ctx, iam.MeRequest{})
	if err != nil {
		return nil, w.err("look up the current user", err)
	}
	return &CurrentUser{ID: u.Id, UserName: u.UserName, DisplayName: u.DisplayName, Active: u.Active}, nil
}

func defaultString(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func nonEmpty(ss []string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// expandHome expands a leading ~ to the user's home directory.
func expandHome(path string) (string, error) {
	if path != "~" && !strings.HasPrefix(path, "~/") {
		return path, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("cannot find the home directory to expand %s: %w", path, err)
	}
	return filepath.Join(home, strings.TrimPrefix(path, "~")), nil
}

package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/databricks/databricks-sdk-go/logger"

	"github.com/deltashare/deltashare/tokenmgr/databricks"
	"github.com/urfave/cli/v2"
)

// This file holds `deltashare pat` (its subcommands are in pat_*.go) and the Databricks workspace
// flags the pat and recipient commands share.

func init() {
	commandSet = append(commandSet, patCommand)
	hintNames["WorkspaceOptions.Timeout"] = "--timeout"
	// The Databricks SDK logs through the standard logger to stderr; our commands say what
	// matters themselves.
	logger.DefaultLogger = &logger.SimpleLogger{Level: logger.LevelError + 1}
}

// Databricks workspace flags, shared by the pat and recipient commands. Whatever they leave
// empty comes from the Databricks SDK's unified authentication: DATABRICKS_HOST,
// DATABRICKS_TOKEN, DATABRICKS_CLIENT_ID/SECRET, ARM_*, DATABRICKS_CONFIG_PROFILE and
// ~/.databrickscfg.
var (
	dbHostFlag = &cli.StringFlag{
		Name:    "host",
		Aliases: []string{"databricks-host"},
		Usage:   "Databricks workspace URL (default $DATABRICKS_HOST or the profile's host)",
	}
	dbProfileFlag = &cli.StringFlag{
		Name:  "databricks-profile",
		Usage: "profile of ~/.databrickscfg to use (default $DATABRICKS_CONFIG_PROFILE)",
	}
	dbConfigFileFlag = &cli.StringFlag{
		Name:  "databricks-config-file",
		Usage: "Databricks config file (default $DATABRICKS_CONFIG_FILE, then ~/.databrickscfg)",
	}
	dbTimeoutFlag = &cli.DurationFlag{
		Name:        "timeout",
		Usage:       "give up on a workspace call after this long, retries included (30s, 2m, ...)",
		DefaultText: "60s",
	}
)

// workspaceFlags are the flags every workspace command takes.
func workspaceFlags(extra ...cli.Flag) []cli.Flag {
	return append([]cli.Flag{dbHostFlag, dbProfileFlag, dbConfigFileFlag, dbTimeoutFlag, outputFlag, quietFlag}, extra...)
}

// workspaceOptionsFrom maps the workspace flags to tokenmgr's options.
func workspaceOptionsFrom(c *cli.Context) databricks.WorkspaceOptions {
	var timeout time.Duration
	if c.IsSet("timeout") {
		timeout = c.Duration("timeout")
	}
	return databricks.WorkspaceOptions{
		Timeout:    timeout,
		Host:       c.String("host"),
		Profile:    c.String("databricks-profile"),
		ConfigFile: c.String("databricks-config-file"),
		// The Entra ID authority host of sovereign clouds, as the Azure SDKs name it.
		AzureLoginEndpoint: os.Getenv("AZURE_AUTHORITY_HOST"),
	}
}

// parseWorkspaceTarget reads what a workspace command acting on one named object takes: the
// output mode, its one NAME argument (usage is the argument line a wrong count is told) and the
// workspace flags.
func parseWorkspaceTarget(c *cli.Context, usage string) (output string, ws databricks.WorkspaceOptions, name string, err error) {
	if output, err = outputArgs(c, 1, 1, usage); err != nil {
		return "", ws, "", err
	}
	return output, workspaceOptionsFrom(c), c.Args().First(), nil
}

// connectWorkspace connects with o, telling standard error what is being retried when a call
// takes long.
func connectWorkspace(ctx context.Context, d *deps, o databricks.WorkspaceOptions) (*databricks.Workspace, error) {
	if err := checkTimeout(o.Timeout); err != nil {
		return nil, err
	}
	if o.OnRetry == nil {
		o.OnRetry = stillTrying(d)
	}
	return d.Workspace(ctx, o)
}

// checkTimeout refuses a negative --timeout (a usage error).
func checkTimeout(t time.Duration) error {
	if t < 0 {
		return usageError(fmt.Errorf("--timeout must not be negative (got %s)", t))
	}
	return nil
}

// stillTrying tells standard error what a workspace call is retrying.
func stillTrying(d *deps) func(msg string) {
	errw := d.IO.Err
	return func(msg string) { fmt.Fprintf(errw, "deltashare: still trying: %s\n", msg) }
}

// connectFind connects with o and finds the object ref names with find (a recipient, a service
// principal): the first steps of every command acting on one existing object of a workspace.
func connectFind[T any](ctx context.Context, d *deps, o databricks.WorkspaceOptions, ref string, find func(*databricks.Workspace, context.Context, string) (*T, error)) (*databricks.Workspace, *T, error) {
	ws, err := connectWorkspace(ctx, d, o)
	if err != nil {
		return nil, nil, err
	}
	v, err := find(ws, ctx, ref)
	if err != nil {
		return nil, nil, err
	}
	return ws, v, nil
}

// durationFlag reads a day-suffixed duration flag.
func durationFlag(c *cli.Context, name string) (time.Duration, error) {
	return parseDays(name, c.String(name))
}

func patCommand() *cli.Command {
	return &cli.Command{
		Name:     "pat",
		Usage:    "Databricks personal access tokens: create, list, revoke, rotate",
		Category: "databricks",
		Description: `Manages Databricks personal access tokens (PATs). Authentication is the Databricks SDK's
unified authentication: DATABRICKS_HOST with DATABRICKS_TOKEN, DATABRICKS_CLIENT_ID and
DATABRICKS_CLIENT_SECRET (OAuth machine-to-machine), ARM_* (Azure service principal), or a
profile of ~/.databrickscfg (--databricks-profile, $DATABRICKS_CONFIG_PROFILE).
Token values are printed only when asked for (--show) or written to a 0600 file (--out).
Rejected credentials exit 4.`,
		Subcommands: []*cli.Command{patCreateCommand(), patListCommand(), patRevokeCommand(), patRotateCommand()},
	}
}

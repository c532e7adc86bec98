package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/deltashare/deltashare/internal/atomicfile"
	"github.com/deltashare/deltashare/tokenmgr/databricks"
	"github.com/urfave/cli/v2"
)

func init() { commandSet = append(commandSet, patCommand) }

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
)

// workspaceFlags are the flags every workspace command takes.
func workspaceFlags(extra ...cli.Flag) []cli.Flag {
	return append([]cli.Flag{dbHostFlag, dbProfileFlag, dbConfigFileFlag, outputFlag, quietFlag}, extra...)
}

// workspaceOptionsFrom maps the workspace flags to tokenmgr's options.
func workspaceOptionsFrom(c *cli.Context) databricks.WorkspaceOptions {
	return databricks.WorkspaceOptions{
		Host:       c.String("host"),
		Profile:    c.String("databricks-profile"),
		ConfigFile: c.String("databricks-config-file"),
	}
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

// ---------------------------------------------------------------------------------------------
// pat create.

// patCreateOptions are the options of `deltashare pat create`.
type patCreateOptions struct {
	Comment  string
	Lifetime time.Duration
	// ForServicePrincipal is the application ID of a service principal to create the token
	// for (token management, admins only).
	ForServicePrincipal string
	Show                bool
	Out                 string
	Output              string
	Quiet               bool
}

func patCreateCommand() *cli.Command {
	return &cli.Command{
		Name:  "create",
		Usage: "create a token (its value goes to --out FILE and/or is printed with --show)",
		Description: `Creates a personal access token for the caller, or with --for-service-principal APP_ID one on
behalf of a service principal (workspace admins). Databricks shows a token's value only once,
so say where it goes: --out FILE writes it to a new 0600 file, --show prints it. With neither,
nothing is created.`,
		Flags: workspaceFlags(
			&cli.StringFlag{Name: "comment", Usage: "the token's comment (what it is for)"},
			&cli.StringFlag{Name: "lifetime", Value: "90d", Usage: "lifetime (90d, 36h, ...; 0 asks for no expiry, which the workspace may refuse or cap)"},
			&cli.StringFlag{Name: "for-service-principal", Usage: "create the token on behalf of the service principal with this application ID"},
			&cli.BoolFlag{Name: "show", Usage: "print the token value"},
			&cli.StringFlag{Name: "out", Usage: "write the token value to this new file (mode 0600)"},
		),
		Action: func(c *cli.Context) error {
			mode, err := outputMode(c)
			if err != nil {
				return err
			}
			if err := nargs(c, 0, 0, "--comment C [--lifetime 90d] --show|--out FILE"); err != nil {
				return err
			}
			lifetime, err := durationFlag(c, "lifetime")
			if err != nil {
				return err
			}
			o := patCreateOptions{Comment: c.String("comment"), Lifetime: lifetime, ForServicePrincipal: c.String("for-service-principal"),
				Show: c.Bool("show"), Out: c.String("out"), Output: mode, Quiet: c.Bool("quiet")}
			if !o.Show && o.Out == "" {
				return usageError(errors.New("pat create: Databricks shows a new token's value only once: pass --out FILE to write it to a private file, or --show to print it (nothing was created)"))
			}
			if o.Out != "" {
				if err := checkNewFile(o.Out); err != nil {
					return err
				}
			}
			ws, err := databricks.NewWorkspace(c.Context, workspaceOptionsFrom(c))
			if err != nil {
				return err
			}
			return runPATCreate(c.Context, ws, o, ioFrom(c))
		},
	}
}

// checkNewFile refuses an existing file or a missing directory (before creating a secret that
// could then not be saved).
func checkNewFile(path string) error {
	if _, err := os.Lstat(path); err == nil {
		return usageError(fmt.Errorf("%s already exists: choose another --out file (nothing was created)", path))
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("cannot use --out %s: %w", path, err)
	}
	if info, err := os.Stat(filepath.Dir(path)); err != nil || !info.IsDir() {
		return usageError(fmt.Errorf("the directory of --out %s does not exist: create it first (nothing was created)", path))
	}
	return nil
}

// createdTokenJSON is the --output json shape of `pat create`.
type createdTokenJSON struct {
	databricks.TokenInfo
	Value string `json:"token_value,omitempty"`
	Out   string `json:"written_to,omitempty"`
}

func runPATCreate(ctx context.Context, ws *databricks.Workspace, o patCreateOptions, st *streams) error {
	var created *databricks.CreatedToken
	var err error
	if o.ForServicePrincipal != "" {
		created, err = ws.CreateOBOToken(ctx, o.ForServicePrincipal, o.Comment, o.Lifetime)
	} else {
		created, err = ws.CreatePAT(ctx, o.Comment, o.Lifetime)
	}
	if err != nil {
		return err
	}
	if o.Out != "" {
		if werr := atomicfile.WriteSecret(o.Out, []byte(created.Value.Reveal()+"\n")); werr != nil {
			// The value is lost: do not leave a live token nobody has.
			var pe *fs.PathError
			if errors.As(werr, &pe) {
				werr = pe.Err
			}
			msg := fmt.Sprintf("pat create: token %s was created but writing %s failed (%v)", created.Info.ID, o.Out, werr)
			revoke := ws.RevokePAT
			if o.ForServicePrincipal != "" {
				revoke = ws.RevokeWorkspaceToken
			}
			if rerr := revoke(context.WithoutCancel(ctx), created.Info.ID); rerr != nil {
				return fmt.Errorf("%s, and revoking it failed too (%v): revoke it by hand with deltashare pat revoke %s", msg, rerr, created.Info.ID)
			}
			return fmt.Errorf("%s; the token was revoked again: fix the problem and try again", msg)
		}
	}
	now := time.Now()
	if o.Output == "json" {
		out := createdTokenJSON{TokenInfo: created.Info, Out: o.Out}
		if o.Show {
			out.Value = created.Value.Reveal()
		}
		return writeJSON(st.Out, out)
	}
	if !o.Quiet {
		who := ""
		if o.ForServicePrincipal != "" {
			who = " for service principal " + o.ForServicePrincipal
		}
		fmt.Fprintf(st.Out, "created token %s%s", created.Info.ID, who)
		if created.Info.Comment != "" {
			fmt.Fprintf(st.Out, " (%q)", created.Info.Comment)
		}
		fmt.Fprintf(st.Out, ", expires %s\n", expiryPhrase(now, created.Info.Expiry))
		if o.Out != "" {
			fmt.Fprintf(st.Out, "token value written to %s (mode 0600)\n", o.Out)
		}
	}
	if o.Show {
		// Asked for: the value alone on its line (also with --quiet, for scripts).
		if !o.Quiet {
			fmt.Fprint(st.Out, "token value: ")
		}
		fmt.Fprintln(st.Out, created.Value.Reveal())
	}
	return nil
}

// ---------------------------------------------------------------------------------------------
// pat list.

// patListOptions are the options of `deltashare pat list`.
type patListOptions struct {
	// All lists every user's tokens (token-management API, admins).
	All bool
	// Window marks tokens expiring within it; Filter keeps only those.
	Window time.Duration
	Filter bool
	Output string
}

// tokenRowJSON is one token of `pat list --output json`.
type tokenRowJSON struct {
	databricks.TokenInfo
	ExpiresIn   string `json:"expires_in"`
	ExpiresSoon bool   `json:"expires_soon"`
	Expired     bool   `json:"expired"`
}

func patListCommand() *cli.Command {
	return &cli.Command{
		Name:  "list",
		Usage: "list your tokens (--all: every user's, for admins), flagging those that expire soon",
		Flags: workspaceFlags(
			&cli.StringFlag{Name: "expiring-within", Value: "30d", Usage: "flag tokens expiring within this window; when given, list only those"},
			&cli.BoolFlag{Name: "all", Usage: "list the tokens of every user (token management API; workspace admins)"},
		),
		Action: func(c *cli.Context) error {
			mode, err := outputMode(c)
			if err != nil {
				return err
			}
			if err := nargs(c, 0, 0, "[--expiring-within 30d] [--all]"); err != nil {
				return err
			}
			window, err := durationFlag(c, "expiring-within")
			if err != nil {
				return err
			}
			ws, err := databricks.NewWorkspace(c.Context, workspaceOptionsFrom(c))
			if err != nil {
				return err
			}
			return runPATList(c.Context, ws, patListOptions{All: c.Bool("all"), Window: window, Filter: c.IsSet("expiring-within"), Output: mode}, ioFrom(c).Out, time.Now())
		},
	}
}

func runPATList(ctx context.Context, ws *databricks.Workspace, o patListOptions, out io.Writer, now time.Time) error {
	var tokens []databricks.TokenInfo
	var err error
	if o.All {
		tokens, err = ws.ListWorkspaceTokens(ctx, databricks.AdminListOptions{})
	} else {
		tokens, err = ws.ListPATs(ctx)
	}
	if err != nil {
		return err
	}
	sort.SliceStable(tokens, func(i, j int) bool {
		if !tokens[i].Created.Equal(tokens[j].Created) {
			return tokens[i].Created.Before(tokens[j].Created)
		}
		return tokens[i].ID < tokens[j].ID
	})
	rows := make([]tokenRowJSON, 0, len(tokens))
	for _, t := range tokens {
		soon := t.ExpiringSoonAt(now, o.Window)
		if o.Filter && !soon {
			continue
		}
		rows = append(rows, tokenRowJSON{TokenInfo: t, ExpiresIn: expiresIn(now, t.Expiry), ExpiresSoon: soon, Expired: t.Expired(now)})
	}
	if o.Output == "json" {
		return writeJSON(out, rows)
	}
	tw := newTable(out)
	header := "ID\tCOMMENT\tCREATED\tEXPIRES\t"
	if o.All {
		header = "ID\tOWNER\tCOMMENT\tCREATED\tEXPIRES\t"
	}
	fmt.Fprintln(tw, header)
	for _, r := range rows {
		flag := ""
		switch {
		case r.Expired:
			flag = "EXPIRED"
		case r.ExpiresSoon:
			flag = "EXPIRES SOON"
		}
		exp := "never"
		if !r.Expiry.IsZero() {
			exp = r.Expiry.UTC().Format("2006-01-02 15:04") + " (" + r.ExpiresIn + ")"
		}
		created := "-"
		if !r.Created.IsZero() {
			created = r.Created.UTC().Format("2006-01-02")
		}
		if o.All {
			owner := r.CreatedBy
			if owner == "" && r.OwnerID != 0 {
				owner = fmt.Sprint(r.OwnerID)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, orDash(owner), orDash(r.Comment), created, exp, flag)
		} else {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.ID, orDash(r.Comment), created, exp, flag)
		}
	}
	return tw.Flush()
}

// ---------------------------------------------------------------------------------------------
// pat revoke.

func patRevokeCommand() *cli.Command {
	return &cli.Command{
		Name:      "revoke",
		Usage:     "revoke a token by ID (pat list shows the IDs)",
		ArgsUsage: "ID",
		Flags: workspaceFlags(
			&cli.BoolFlag{Name: "admin", Usage: "revoke another user's token (token management API; workspace admins)"},
		),
		Action: func(c *cli.Context) error {
			if err := nargs(c, 1, 1, "ID"); err != nil {
				return err
			}
			id := c.Args().First()
			ws, err := databricks.NewWorkspace(c.Context, workspaceOptionsFrom(c))
			if err != nil {
				return err
			}
			if c.Bool("admin") {
				err = ws.RevokeWorkspaceToken(c.Context, id)
			} else {
				err = ws.RevokePAT(c.Context, id)
			}
			if err != nil {
				return err
			}
			say(c, ioFrom(c).Out, "revoked token %s", id)
			return nil
		},
	}
}

// ---------------------------------------------------------------------------------------------
// pat rotate.

func patRotateCommand() *cli.Command {
	return &cli.Command{
		Name:  "rotate",
		Usage: "replace the token in a ~/.databrickscfg profile or a token file, revoking the old one",
		Description: `Creates a new token with the stored one, writes it in place of the old one (keeping the rest of
the file and its mode), verifies it as read back, then revokes the old token. If a step fails,
the old token is put back and the new one revoked; the error says what was rolled back.

The stored token cannot be recognised by its value: if its identity has several tokens, pass
--old-id ID (see pat list). The new value is printed only with --show.`,
		Flags: []cli.Flag{dbHostFlag, dbProfileFlag, dbConfigFileFlag, outputFlag, quietFlag,
			&cli.StringFlag{Name: "token-file", Usage: "file holding just the token (instead of --databricks-profile; needs --host)"},
			&cli.StringFlag{Name: "old-id", Usage: "ID of the token stored in the target"},
			&cli.StringFlag{Name: "comment", Value: "deltashare", Usage: "comment of the new token"},
			&cli.StringFlag{Name: "lifetime", Value: "90d", Usage: "lifetime of the new token (0: no expiry)"},
			&cli.BoolFlag{Name: "show", Usage: "print the new token value"},
		},
		Action: func(c *cli.Context) error {
			mode, err := outputMode(c)
			if err != nil {
				return err
			}
			if err := nargs(c, 0, 0, "--databricks-profile P | --token-file F --host H"); err != nil {
				return err
			}
			lifetime, err := durationFlag(c, "lifetime")
			if err != nil {
				return err
			}
			o := databricks.RotateOptions{
				Profile: c.String("databricks-profile"), ConfigFile: cmp.Or(c.String("databricks-config-file"), os.Getenv("DATABRICKS_CONFIG_FILE")),
				TokenFile: c.String("token-file"), Host: c.String("host"),
				OldTokenID: c.String("old-id"), Comment: c.String("comment"), Lifetime: lifetime, Show: c.Bool("show"),
			}
			switch {
			case o.TokenFile != "" && o.Host == "":
				o.Host = os.Getenv("DATABRICKS_HOST")
			case o.TokenFile == "" && o.Profile == "":
				o.Profile = os.Getenv("DATABRICKS_CONFIG_PROFILE")
			}
			if o.Profile == "" && o.TokenFile == "" {
				return usageError(errors.New("pat rotate: say where the token lives: --databricks-profile NAME (in ~/.databrickscfg) or --token-file FILE --host URL"))
			}
			res, err := databricks.RotatePAT(c.Context, o)
			if err != nil {
				return err
			}
			out := ioFrom(c).Out
			if mode == "json" {
				return writeJSON(out, res)
			}
			if !c.Bool("quiet") || o.Show {
				fmt.Fprintln(out, res.String())
			}
			return nil
		},
	}
}

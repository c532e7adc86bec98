package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/deltashare/deltashare/internal/atomicfile"
	"github.com/deltashare/deltashare/tokenmgr/databricks"
)

// patCreateOptions are the options of `deltashare pat create`.
type patCreateOptions struct {
	Workspace databricks.WorkspaceOptions
	Comment   string
	Lifetime  time.Duration
	// ForServicePrincipal is the display name or application ID of a service principal to
	// create the token for (token management, admins only).
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
		Description: `Creates a personal access token for the caller, or with --for-service-principal NAME|APP_ID one
on behalf of a service principal (workspace admins; see deltashare sp list). Databricks shows a token's value only once,
so say where it goes: --out FILE writes it to a new 0600 file, --show prints it. With neither,
nothing is created.`,
		Flags: workspaceFlags(
			&cli.StringFlag{Name: "comment", Usage: "the token's comment (what it is for)"},
			&cli.StringFlag{Name: "lifetime", Value: "90d", Usage: "lifetime (90d, 36h, ...; 0 asks for no expiry, which the workspace may refuse or cap)"},
			&cli.StringFlag{Name: "for-service-principal", Usage: "create the token on behalf of this service principal (display name or application ID)"},
			&cli.BoolFlag{Name: "show", Usage: "print the token value"},
			&cli.StringFlag{Name: "out", Usage: "write the token value to this new file (mode 0600)"},
		),
		Action: action(parsePATCreateOptions, runPATCreate),
	}
}

func parsePATCreateOptions(c *cli.Context) (o patCreateOptions, err error) {
	if o.Output, err = outputArgs(c, 0, 0, "--comment C [--lifetime 90d] --show|--out FILE"); err != nil {
		return o, err
	}
	if o.Lifetime, err = durationFlag(c, "lifetime"); err != nil {
		return o, err
	}
	o.Workspace, o.Comment, o.ForServicePrincipal = workspaceOptionsFrom(c), c.String("comment"), c.String("for-service-principal")
	o.Show, o.Out, o.Quiet = c.Bool("show"), c.String("out"), c.Bool("quiet")
	if !o.Show && o.Out == "" {
		return o, usageError(errors.New("pat create: Databricks shows a new token's value only once: pass --out FILE to write it to a private file, or --show to print it (nothing was created)"))
	}
	return o, nil
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
	tokenJSON
	// TokenValue only with --show.
	TokenValue string `json:"tokenValue,omitempty"`
	WrittenTo  string `json:"writtenTo,omitempty"`
}

func runPATCreate(ctx context.Context, o patCreateOptions, d *deps) error {
	if o.Out != "" {
		if err := checkNewFile(o.Out); err != nil {
			return err
		}
	}
	ws, err := connectWorkspace(ctx, d, o.Workspace)
	if err != nil {
		return err
	}
	created, err := createToken(ctx, ws, o)
	if err != nil {
		return err
	}
	if o.Output == "json" {
		out := createdTokenJSON{tokenJSON: toTokenJSON(created.Info, "", d.Now()), WrittenTo: o.Out}
		if o.Show {
			out.TokenValue = created.Value.Reveal()
		}
		return writeJSON(d.IO.Out, out)
	}
	printCreatedToken(d, o, created)
	return nil
}

// createToken creates the token and writes its value to o.Out, if given. When the value cannot
// be written, the token is revoked again: no live token nobody has.
func createToken(ctx context.Context, ws *databricks.Workspace, o patCreateOptions) (*databricks.CreatedToken, error) {
	var created *databricks.CreatedToken
	var err error
	if o.ForServicePrincipal != "" {
		sp, ferr := findPrincipal(ctx, ws, o.ForServicePrincipal)
		if ferr != nil {
			return nil, ferr
		}
		created, err = ws.CreateOBOToken(ctx, sp.ApplicationID, o.Comment, o.Lifetime)
	} else {
		created, err = ws.CreatePAT(ctx, o.Comment, o.Lifetime)
	}
	if err != nil || o.Out == "" {
		return created, err
	}
	werr := atomicfile.WriteSecret(o.Out, []byte(created.Value.Reveal()+"\n"))
	if werr == nil {
		return created, nil
	}
	var pe *fs.PathError
	if errors.As(werr, &pe) {
		werr = pe.Err
	}
	msg := fmt.Sprintf("pat create: token %s was created but writing %s failed (%v)", created.Info.ID, o.Out, werr)
	revoke, byHand := ws.RevokePAT, "deltashare pat revoke "+created.Info.ID
	if o.ForServicePrincipal != "" {
		// Another principal's token: revoked through the token management API.
		revoke, byHand = ws.RevokeWorkspaceToken, byHand+" --admin"
	}
	if rerr := revoke(context.WithoutCancel(ctx), created.Info.ID); rerr != nil {
		return nil, fmt.Errorf("%s, and revoking it failed too (%v): revoke it by hand with %s", msg, rerr, byHand)
	}
	return nil, fmt.Errorf("%s; the token was revoked again: fix the problem and try again", msg)
}

// printCreatedToken says what was created; the value only with --show (alone on its line with
// --quiet, for scripts).
func printCreatedToken(d *deps, o patCreateOptions, created *databricks.CreatedToken) {
	out := d.IO.Out
	if !o.Quiet {
		who := ""
		if o.ForServicePrincipal != "" {
			who = " for service principal " + o.ForServicePrincipal
		}
		fmt.Fprintf(out, "created token %s%s", created.Info.ID, who)
		if created.Info.Comment != "" {
			fmt.Fprintf(out, " (%q)", created.Info.Comment)
		}
		fmt.Fprintf(out, ", expires %s\n", expiryPhrase(d.Now(), created.Info.Expiry))
		if o.Out != "" {
			fmt.Fprintf(out, "token value written to %s (mode 0600)\n", o.Out)
		}
	}
	if o.Show {
		if !o.Quiet {
			fmt.Fprint(out, "token value: ")
		}
		fmt.Fprintln(out, created.Value.Reveal())
	}
}

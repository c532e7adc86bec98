package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/deltashare/deltashare/sharing"
	"github.com/deltashare/deltashare/tokenmgr"
	"github.com/urfave/cli/v2"
)

func init() { commandSet = append(commandSet, activateCommand) }

// activateOptions are the options of `deltashare activate`.
type activateOptions struct {
	// Link is the activation link, or a bare activation code with Host; empty resumes the
	// pending activation recorded under Name.
	Link tokenmgr.Sensitive
	// LinkFromStdin reads the link from standard input (LINK given as -).
	LinkFromStdin bool
	Host          string
	Name          string
	Out           string
	// Check configures the access check run on the new credential.
	Check accessCheck
}

func activateCommand() *cli.Command {
	return &cli.Command{
		Name:      "activate",
		Usage:     "download the credential behind an activation link, store it, and check it",
		ArgsUsage: "LINK|CODE|-",
		Category:  "credentials",
		Description: `Downloads the credential behind a Delta Sharing activation link (as Databricks open sharing
sends them: https://HOST/delta_sharing/retrieve_config.html?CODE), stores it under --name
(default: the first label of the link's host), then checks what it can read, as
deltashare check does, and exits with the check's code (0 ok, 3 some tables unreadable,
4 rejected, 5 expiring within --warn-expiry).

An activation link works once: the name (in any letter case) and --out must be free, which is
checked before the download. The link is recorded first, so an interrupted download can be
retried with deltashare activate --name NAME. If the credential cannot be stored, it is kept in
a recovery file (named in the error, mode 0600) to import with deltashare creds import.

LINK - reads the link from standard input (keeps it out of shell history and process lists).
A bare activation CODE needs --host. A used or expired link exits 4: ask the data provider for
a new one. A link cut short when copied (the service does not know its code), or one whose host
is not an activation service, exits 2. The link, the code and the token are never printed.`,
		Flags: []cli.Flag{outputFlag, configDirFlag, quietFlag, warnExpiryFlag, checkParallelFlag,
			&cli.StringFlag{Name: "name", Aliases: []string{"n"}, Usage: "store the credential under this name (default: from the link's host)"},
			&cli.StringFlag{Name: "out", Usage: "also write the profile file here (0600; must not exist)"},
			&cli.StringFlag{Name: "host", Usage: "workspace host, with a bare activation CODE instead of a link"},
		},
		Action: action(parseActivateOptions, runActivate),
	}
}

func parseActivateOptions(c *cli.Context) (o activateOptions, err error) {
	o.Host, o.Name, o.Out = c.String("host"), c.String("name"), c.String("out")
	if o.Check, err = parseAccessCheck(c); err != nil {
		return o, err
	}
	if err := nargs(c, 0, 1, "[--name NAME] LINK (or - to read it from standard input; or --name NAME alone to resume)"); err != nil {
		return o, err
	}
	switch arg := c.Args().First(); arg {
	case "":
		if o.Name == "" {
			return o, usageError(errors.New("activate needs the activation link (or - to read it from standard input); --name NAME alone resumes an interrupted activation"))
		}
	case "-":
		o.LinkFromStdin = true
	default:
		o.Link = tokenmgr.Sensitive(arg)
	}
	return o, nil
}

// readLink reads the activation link from the first line of r.
func readLink(r io.Reader) (tokenmgr.Sensitive, error) {
	line, err := bufio.NewReader(io.LimitReader(r, 8<<10)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("activate: cannot read the link from standard input: %w", err)
	}
	link := tokenmgr.Sensitive(strings.TrimSpace(line))
	if link.IsZero() {
		return "", usageError(errors.New("activate: standard input held no activation link"))
	}
	return link, nil
}

// activationJSON is the --output json shape of `activate`.
type activationJSON struct {
	Credential activatedJSON         `json:"credential"`
	Check      *tokenmgr.CheckReport `json:"check,omitempty"`
	// CheckError is set when the check could not run at all (server unreachable).
	CheckError string `json:"checkError,omitempty"`
}

type activatedJSON struct {
	Name     string    `json:"name"`
	Path     string    `json:"path"`
	Out      string    `json:"out,omitempty"`
	Endpoint string    `json:"endpoint"`
	Expiry   time.Time `json:"expirationTime,omitzero"`
}

// runActivate activates, stores, and checks the new credential.
func runActivate(ctx context.Context, o activateOptions, d *deps) error {
	if o.LinkFromStdin {
		var err error
		if o.Link, err = readLink(d.IO.In); err != nil {
			return err
		}
	}
	store, err := d.Store()
	if err != nil {
		return err
	}
	res, err := tokenmgr.Activate(ctx, tokenmgr.ActivateOptions{Link: o.Link, Host: o.Host, Name: o.Name, Out: o.Out, Store: store})
	if err != nil {
		return activationFailed(res, err, d.IO, store.Dir())
	}
	st, now := d.IO, d.Now()
	cred, err := store.Get(res.Name)
	if err != nil {
		return fmt.Errorf("the credential was stored as %s, but reading it back failed: %w", res.Name, err)
	}
	aj := activatedJSON{Name: cred.Name, Path: res.StoredPath, Out: res.OutPath, Endpoint: cred.Endpoint, Expiry: cred.Expiry}
	if o.Check.Output != "json" && !o.Check.Quiet {
		fmt.Fprintf(st.Out, "Activated credential %s: stored in %s (mode 0600)\n", aj.Name, aj.Path)
		if aj.Out != "" {
			fmt.Fprintf(st.Out, "Also written to %s (mode 0600)\n", aj.Out)
		}
		fmt.Fprintf(st.Out, "Expires: %s. Use it with: deltashare tables -p %s\n\nChecking access...\n", expiryPhrase(now, aj.Expiry), aj.Name)
	}
	return checkActivated(ctx, o.Check, aj, cred.Profile, st, now)
}

// checkActivated checks the new credential and reports the check (with the credential, in
// JSON); its result is the check's.
func checkActivated(ctx context.Context, o accessCheck, aj activatedJSON, p *sharing.Profile, st *streams, now time.Time) error {
	cl, err := sharing.NewClient(p)
	if err != nil {
		return fmt.Errorf("the credential was stored as %s, but it cannot be used: %w", aj.Name, err)
	}
	defer releaseConnections(cl)
	rep, cerr := tokenmgr.Check(ctx, cl, tokenmgrCheckOptions(o))
	if cerr != nil {
		cerr = fmt.Errorf("the credential was stored as %s, but checking it failed: %w; try again later with deltashare check -p %s", aj.Name, cerr, aj.Name)
		if o.Output == "json" {
			if err := writeJSON(st.Out, activationJSON{Credential: aj, CheckError: errorText(cerr)}); err != nil {
				return err
			}
		}
		return cerr
	}
	if o.Output == "json" {
		if err := writeJSON(st.Out, activationJSON{Credential: aj, Check: rep}); err != nil {
			return err
		}
	} else if err := printCheck(st.Out, rep, o); err != nil {
		return err
	}
	return checkResult(rep, now)
}

// importStoreDir is the store `deltashare creds import` uses without --config-dir ("" if
// unknown).
func importStoreDir() string {
	if d := os.Getenv("DELTASHARE_CONFIG_DIR"); d != "" {
		return d
	}
	d, err := tokenmgr.DefaultStoreDir()
	if err != nil {
		return ""
	}
	return d
}

// sameDir reports whether two paths name the same directory (after making them absolute).
func sameDir(a, b string) bool {
	aa, err1 := filepath.Abs(a)
	bb, err2 := filepath.Abs(b)
	return err1 == nil && err2 == nil && filepath.Clean(aa) == filepath.Clean(bb)
}

// activationFailed reports a failed activation. When the downloaded credential could not be
// written anywhere, it is printed on standard output: the link cannot be downloaded again, so
// this is the only copy left.
//
// The advised `deltashare creds import` stores into the store that command finds
// (DELTASHARE_CONFIG_DIR, else the default); when this activation used another one
// (--config-dir), a note says to give it.
func activationFailed(res *tokenmgr.ActivateResult, err error, st *streams, storeDir string) error {
	if !errors.Is(err, tokenmgr.ErrCredentialNotSaved) {
		return err
	}
	if storeDir != "" && !sameDir(storeDir, importStoreDir()) {
		err = fmt.Errorf("%w; this activation used the credential store %s: add --config-dir %s to that creds import command", err, storeDir, shellQuote(storeDir))
	}
	if res != nil && res.Credential != nil && res.StoredPath == "" && res.OutPath == "" && res.RecoveryPath == "" {
		raw := res.Credential.Profile()
		if _, werr := st.Out.Write(raw); werr == nil {
			if len(raw) == 0 || raw[len(raw)-1] != '\n' {
				fmt.Fprintln(st.Out)
			}
			fmt.Fprintln(st.Err, "deltashare: the credential above (standard output) is the ONLY copy: save it to a private file now, then run: deltashare creds import NAME FILE")
		}
	}
	return withCode(exitError, err)
}

package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/deltashare/deltashare/sharing"
	"github.com/deltashare/deltashare/tokenmgr"
	"github.com/deltashare/deltashare/tokenmgr/databricks"
	"github.com/urfave/cli/v2"
)

// This file holds `deltashare creds` (the credential store) and the helpers the credential
// commands share: day-suffixed durations, expiry phrases, argument checks and the exit codes
// of tokenmgr's errors.

func init() {
	commandSet = append(commandSet, credsCommand)
	errorCodeMappers = append(errorCodeMappers, mapTokenmgrErrors)
}

// mapTokenmgrErrors gives the credential and workspace errors their exit codes:
//
//   - 4: a credential problem the user must fix by getting another credential: a used or
//     expired activation link, credentials Databricks rejects (401) or that lack permission
//     for the operation (403);
//   - 2: nothing usable configured or a malformed argument: no Databricks credentials or host,
//     an invalid credential name or activation link, a rotation that needs --old-id;
//   - 1: everything else (a rotation that failed and was rolled back, a name already taken,
//     a credential file other users can read, ...).
func mapTokenmgrErrors(err error) (int, bool) {
	switch {
	case errors.Is(err, databricks.ErrRotationFailed):
		return exitError, true // rolled back; the cause (even a 401) is in the message
	case errors.Is(err, tokenmgr.ErrActivationUsed),
		errors.Is(err, databricks.ErrWorkspaceAuth),
		errors.Is(err, databricks.ErrWorkspacePermission):
		return exitAuth, true
	case errors.Is(err, databricks.ErrNoWorkspaceCredentials),
		errors.Is(err, databricks.ErrNoWorkspaceHost),
		errors.Is(err, tokenmgr.ErrInvalidCredentialName),
		errors.Is(err, tokenmgr.ErrInvalidActivationLink),
		errors.Is(err, databricks.ErrOldTokenUnknown):
		return exitUsage, true
	}
	return 0, false
}

// ---------------------------------------------------------------------------------------------
// Shared helpers.

// dayDurationRe matches a leading day count: "7d", "1.5d", "2d12h".
var dayDurationRe = regexp.MustCompile(`^(\d+(?:\.\d+)?)d(.*)$`)

// maxDays bounds day counts so durations cannot overflow (about 290 years fit in a Duration).
const maxDays = 36500

// parseDays parses a duration that may start with a day count: Go durations ("36h", "90m",
// "1h30m"), days ("7d", "1.5d", "2d12h") and "0". Negative durations are refused.
func parseDays(flag, s string) (time.Duration, error) {
	in := strings.TrimSpace(s)
	bad := func() error {
		return usageError(fmt.Errorf("invalid --%s %q: use a duration such as 7d, 36h, 90m or 2d12h (0 for none)", flag, s))
	}
	if in == "" {
		return 0, bad()
	}
	if in == "0" {
		return 0, nil
	}
	var d time.Duration
	rest := in
	if m := dayDurationRe.FindStringSubmatch(in); m != nil {
		days, err := strconv.ParseFloat(m[1], 64)
		if err != nil || days > maxDays {
			return 0, bad()
		}
		d = time.Duration(days * float64(24*time.Hour))
		rest = m[2]
		if rest == "" {
			return d, nil
		}
	}
	r, err := time.ParseDuration(rest)
	if err != nil || r < 0 || strings.HasPrefix(rest, "+") {
		return 0, bad()
	}
	return d + r, nil
}

// roughDuration renders a positive duration in at most two units: "6d 3h", "5h 20m", "12m",
// "40s".
func roughDuration(d time.Duration) string {
	const day = 24 * time.Hour
	switch {
	case d >= day:
		days, hours := int64(d/day), int64((d%day)/time.Hour)
		if hours == 0 {
			return fmt.Sprintf("%dd", days)
		}
		return fmt.Sprintf("%dd %dh", days, hours)
	case d >= time.Hour:
		hours, mins := int64(d/time.Hour), int64((d%time.Hour)/time.Minute)
		if mins == 0 {
			return fmt.Sprintf("%dh", hours)
		}
		return fmt.Sprintf("%dh %dm", hours, mins)
	case d >= time.Minute:
		return fmt.Sprintf("%dm", int64(d/time.Minute))
	default:
		return fmt.Sprintf("%ds", int64(d/time.Second))
	}
}

// expiresIn says how long until exp: "6d 3h", "expired 2d ago", or "never" for a zero time.
func expiresIn(now, exp time.Time) string {
	if exp.IsZero() {
		return "never"
	}
	if left := exp.Sub(now); left > 0 {
		return roughDuration(left)
	}
	return "expired " + roughDuration(now.Sub(exp)) + " ago"
}

// expiryPhrase is expiresIn as a phrase with the date: "2026-03-01T00:00:00Z (in 6d 3h)",
// "2026-03-01T00:00:00Z (expired 2d ago)", "never".
func expiryPhrase(now, exp time.Time) string {
	if exp.IsZero() {
		return "never"
	}
	rel := expiresIn(now, exp)
	if exp.After(now) {
		rel = "in " + rel
	}
	return exp.UTC().Format(time.RFC3339) + " (" + rel + ")"
}

// nargs checks the argument count.
func nargs(c *cli.Context, min, max int, usage string) error {
	if n := c.NArg(); n < min || (max >= 0 && n > max) {
		return usageError(fmt.Errorf("usage: deltashare %s %s", c.Command.FullName(), usage))
	}
	return nil
}

// say prints a status line on w unless --quiet.
func say(c *cli.Context, w io.Writer, format string, args ...any) {
	if c.Bool("quiet") {
		return
	}
	fmt.Fprintf(w, format+"\n", args...)
}

// ---------------------------------------------------------------------------------------------
// deltashare creds.

func credsCommand() *cli.Command {
	return &cli.Command{
		Name:     "creds",
		Usage:    "manage stored credentials (list, show, import, export, remove)",
		Category: "credentials",
		Description: `Stored credentials are Delta Sharing profiles kept under a name in a private directory
(--config-dir, $DELTASHARE_CONFIG_DIR, default: the user's config dir/deltashare): files 0600,
directories 0700; files other users could read are refused with the chmod command that fixes
them. A stored NAME works wherever a profile file does (-p NAME). Names ignore letter case.`,
		Subcommands: []*cli.Command{
			credsListCommand(), credsShowCommand(), credsImportCommand(), credsExportCommand(), credsRemoveCommand(),
		},
	}
}

// credJSON is a stored credential in `creds list` and `creds show` JSON.
type credJSON struct {
	tokenmgr.Meta
	ExpiresIn string          `json:"expiresIn"`
	Path      string          `json:"path,omitempty"`
	Profile   json.RawMessage `json:"profile,omitempty"`
}

func credsListCommand() *cli.Command {
	return &cli.Command{
		Name:  "list",
		Usage: "list stored credentials: name, state, endpoint, time to expiry",
		Flags: []cli.Flag{outputFlag, configDirFlag},
		Action: func(c *cli.Context) error {
			mode, err := outputMode(c)
			if err != nil {
				return err
			}
			if err := nargs(c, 0, 0, "[--output json]"); err != nil {
				return err
			}
			store, err := openStore(c)
			if err != nil {
				return err
			}
			return runCredsList(store, mode, ioFrom(c).Out, time.Now())
		},
	}
}

func runCredsList(store *tokenmgr.Store, mode string, out io.Writer, now time.Time) error {
	metas, err := store.List()
	if err != nil {
		return err
	}
	if mode == "json" {
		rows := make([]credJSON, 0, len(metas))
		for _, m := range metas {
			rows = append(rows, credJSON{Meta: m, ExpiresIn: credExpiresIn(now, m)})
		}
		return writeJSON(out, rows)
	}
	if len(metas) == 0 {
		_, err := fmt.Fprintf(out, "no stored credentials in %s: add one with deltashare activate LINK or deltashare creds import NAME FILE\n", store.Dir())
		return err
	}
	tw := newTable(out)
	fmt.Fprintln(tw, "NAME\tSTATE\tENDPOINT\tEXPIRES IN")
	for _, m := range metas {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", m.Name, m.State, orDash(m.Endpoint), credExpiresIn(now, m))
	}
	return tw.Flush()
}

func credExpiresIn(now time.Time, m tokenmgr.Meta) string {
	if m.State == tokenmgr.StatePending {
		return "-"
	}
	return expiresIn(now, m.Expiry)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// redactedProfileJSON is the profile file JSON with the bearer token and client secret
// replaced by "[redacted]".
func redactedProfileJSON(p *sharing.Profile) (json.RawMessage, error) {
	q := *p
	if q.BearerToken != "" {
		q.BearerToken = "[redacted]"
	}
	if q.ClientSecret != "" {
		q.ClientSecret = "[redacted]"
	}
	return json.Marshal(q)
}

func credsShowCommand() *cli.Command {
	return &cli.Command{
		Name:      "show",
		Usage:     "show a stored credential: metadata and profile (token and client secret redacted)",
		ArgsUsage: "NAME",
		Flags:     []cli.Flag{outputFlag, configDirFlag},
		Action: func(c *cli.Context) error {
			mode, err := outputMode(c)
			if err != nil {
				return err
			}
			if err := nargs(c, 1, 1, "NAME"); err != nil {
				return err
			}
			store, err := openStore(c)
			if err != nil {
				return err
			}
			return runCredsShow(store, c.Args().First(), mode, ioFrom(c).Out, time.Now())
		},
	}
}

func runCredsShow(store *tokenmgr.Store, name, mode string, out io.Writer, now time.Time) error {
	m, err := store.Stat(name)
	if err != nil {
		return err
	}
	cj := credJSON{Meta: m, ExpiresIn: credExpiresIn(now, m)}
	if m.State != tokenmgr.StatePending {
		cred, err := store.Get(name)
		if err != nil {
			return err
		}
		cj.Meta, cj.Path = cred.Meta, cred.Path
		if cj.Profile, err = redactedProfileJSON(cred.Profile); err != nil {
			return err
		}
	}
	if mode == "json" {
		return writeJSON(out, cj)
	}
	fmt.Fprintf(out, "name:      %s\n", m.Name)
	fmt.Fprintf(out, "state:     %s\n", m.State)
	fmt.Fprintf(out, "endpoint:  %s\n", orDash(m.Endpoint))
	if m.ProfileType != "" {
		fmt.Fprintf(out, "type:      %s\n", m.ProfileType)
	}
	src := string(m.Source.Kind)
	if m.Source.Host != "" {
		src += " from " + m.Source.Host
	}
	if m.Source.File != "" {
		src += " of " + m.Source.File
	}
	fmt.Fprintf(out, "source:    %s\n", src)
	if !m.Created.IsZero() {
		fmt.Fprintf(out, "created:   %s\n", m.Created.UTC().Format(time.RFC3339))
	}
	if m.State == tokenmgr.StatePending {
		fmt.Fprintf(out, "the activation link was recorded but the credential was not downloaded: run deltashare activate --name %s to download it\n", m.Name)
		return nil
	}
	fmt.Fprintf(out, "expires:   %s\n", expiryPhrase(now, m.Expiry))
	fmt.Fprintf(out, "file:      %s\n", cj.Path)
	var pretty strings.Builder
	if err := writeJSON(&pretty, cj.Profile); err != nil {
		return err
	}
	fmt.Fprintf(out, "profile (secrets redacted; deltashare creds export %s writes the real file):\n%s", m.Name, pretty.String())
	return nil
}

func credsImportCommand() *cli.Command {
	return &cli.Command{
		Name:      "import",
		Usage:     "store a profile file under NAME (FILE - reads standard input)",
		ArgsUsage: "NAME FILE",
		Flags: []cli.Flag{configDirFlag, quietFlag,
			&cli.BoolFlag{Name: "overwrite", Aliases: []string{"force"}, Usage: "replace a stored credential of the same name"},
		},
		Action: func(c *cli.Context) error {
			if err := nargs(c, 2, 2, "NAME FILE"); err != nil {
				return err
			}
			store, err := openStore(c)
			if err != nil {
				return err
			}
			name, file := c.Args().Get(0), c.Args().Get(1)
			if err := runCredsImport(store, name, file, c.Bool("overwrite"), ioFrom(c).In); err != nil {
				return err
			}
			m, err := store.Stat(name)
			if err != nil {
				return err
			}
			say(c, ioFrom(c).Out, "stored credential %s (endpoint %s, expires %s); use it with -p %s", m.Name, m.Endpoint, expiryPhrase(time.Now(), m.Expiry), m.Name)
			return nil
		},
	}
}

func runCredsImport(store *tokenmgr.Store, name, file string, overwrite bool, stdin io.Reader) error {
	if file != "-" && !overwrite {
		return store.Import(name, file)
	}
	var raw []byte
	var err error
	src := tokenmgr.Source{Kind: tokenmgr.SourceImport}
	if file == "-" {
		raw, err = io.ReadAll(io.LimitReader(stdin, sharing.MaxProfileSize+1))
		if err != nil {
			return fmt.Errorf("import: cannot read standard input: %w", err)
		}
	} else {
		raw, err = os.ReadFile(file)
		if err != nil {
			var pe *os.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return fmt.Errorf("import: cannot read %s: %v", file, err)
		}
		if abs, aerr := filepath.Abs(file); aerr == nil {
			src.File = abs
		}
	}
	if len(raw) > sharing.MaxProfileSize {
		return usageError(fmt.Errorf("import: the profile is larger than %d bytes: this is not a profile file", sharing.MaxProfileSize))
	}
	if _, err := sharing.ParseProfile(raw); err != nil {
		return usageError(fmt.Errorf("import: not a usable profile: %w", err))
	}
	return store.Put(name, raw, tokenmgr.Meta{Source: src}, overwrite)
}

func credsExportCommand() *cli.Command {
	return &cli.Command{
		Name:      "export",
		Usage:     "write a stored credential's profile file (0600; default ./NAME.share; --out - for standard output)",
		ArgsUsage: "NAME",
		Flags: []cli.Flag{configDirFlag, quietFlag,
			&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "output file (default NAME.share in the current directory; - writes the secret to standard output)"},
			&cli.BoolFlag{Name: "overwrite", Aliases: []string{"force"}, Usage: "replace an existing output file"},
		},
		Action: func(c *cli.Context) error {
			if err := nargs(c, 1, 1, "[--out FILE] NAME"); err != nil {
				return err
			}
			store, err := openStore(c)
			if err != nil {
				return err
			}
			name, out := c.Args().First(), c.String("out")
			st := ioFrom(c)
			if out == "-" {
				cred, err := store.Get(name)
				if err != nil {
					return err
				}
				// Always said, even with --quiet: the secret is about to go somewhere visible.
				fmt.Fprintln(st.Err, "warning: the profile written to standard output contains the credential's secret: do not paste it in chats, tickets or logs")
				_, err = st.Out.Write(cred.Raw)
				return err
			}
			if out == "" {
				out = name + ".share"
			}
			if err := store.Export(name, out, c.Bool("overwrite")); err != nil {
				return err
			}
			say(c, st.Out, "wrote %s (mode 0600): it contains the credential's secret", out)
			return nil
		},
	}
}

func credsRemoveCommand() *cli.Command {
	return &cli.Command{
		Name:      "remove",
		Aliases:   []string{"rm"},
		Usage:     "delete a stored credential (the token stays valid at the provider until it expires)",
		ArgsUsage: "NAME",
		Flags:     []cli.Flag{configDirFlag, quietFlag},
		Action: func(c *cli.Context) error {
			if err := nargs(c, 1, 1, "NAME"); err != nil {
				return err
			}
			store, err := openStore(c)
			if err != nil {
				return err
			}
			name := c.Args().First()
			m, err := store.Stat(name)
			if err != nil && !errors.Is(err, tokenmgr.ErrInsecurePermissions) {
				return err
			}
			if err := store.Remove(name); err != nil {
				return err
			}
			if m.Name != "" {
				name = m.Name
			}
			say(c, ioFrom(c).Out, "removed credential %s", name)
			return nil
		},
	}
}

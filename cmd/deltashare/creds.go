package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/deltashare/deltashare/tokenmgr"
	"github.com/deltashare/deltashare/tokenmgr/databricks"
	"github.com/urfave/cli/v2"
)

// This file holds `deltashare creds` (the credential store; its subcommands are in
// creds_*.go) and the helpers the credential commands share: day-suffixed durations, expiry
// phrases, argument checks and the exit codes of tokenmgr's errors.

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
//     an invalid credential name or activation link (malformed, cut short, or not pointing at
//     an activation service), a rotation that needs --old-id;
//   - 1: everything else (a rotation that failed and was rolled back, a name already taken,
//     a credential file other users can read, ...).
func mapTokenmgrErrors(err error) (int, bool) {
	switch {
	case errors.Is(err, databricks.ErrRotationFailed):
		return exitError, true // rolled back; the cause (even a 401) is in the message
	case errors.Is(err, tokenmgr.ErrActivationUsed), errors.Is(err, tokenmgr.ErrActivationExpired),
		errors.Is(err, databricks.ErrWorkspaceAuth),
		errors.Is(err, databricks.ErrWorkspacePermission):
		return exitAuth, true
	case errors.Is(err, tokenmgr.ErrNoCredential),
		errors.Is(err, databricks.ErrNoWorkspaceCredentials),
		errors.Is(err, databricks.ErrNoWorkspaceHost),
		errors.Is(err, tokenmgr.ErrInvalidCredentialName),
		errors.Is(err, tokenmgr.ErrInvalidActivationLink),
		errors.Is(err, tokenmgr.ErrActivationLinkUnknown),
		errors.Is(err, tokenmgr.ErrNotActivationEndpoint),
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

// expiresIn says how long until exp: "6d 3h", "expired 2d ago", or "never" for a zero time.
func expiresIn(now, exp time.Time) string {
	if exp.IsZero() {
		return "never"
	}
	if left := exp.Sub(now); left > 0 {
		return tokenmgr.DurationText(left)
	}
	return "expired " + tokenmgr.DurationText(now.Sub(exp)) + " ago"
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

// outputArgs reads what most commands check first: --output (text or json), then the number of
// arguments (see nargs).
func outputArgs(c *cli.Context, min, max int, usage string) (string, error) {
	output, err := outputMode(c)
	if err != nil {
		return "", err
	}
	return output, nargs(c, min, max, usage)
}

// say prints a status line on w unless quiet (--quiet).
func say(quiet bool, w io.Writer, format string, args ...any) {
	if quiet {
		return
	}
	fmt.Fprintf(w, format+"\n", args...)
}

// ---------------------------------------------------------------------------------------------
// deltashare creds.

func credsCommand() *cli.Command {
	return &cli.Command{
		Name:     "creds",
		Usage:    "manage stored credentials (list, show, import, export, remove, default)",
		Category: "credentials",
		Description: `Stored credentials are Delta Sharing profiles kept under a name in a private directory
(--config-dir, $DELTASHARE_CONFIG_DIR, default: the user's config dir/deltashare): files 0600,
directories 0700; files other users could read are refused with the chmod command that fixes
them. A stored NAME works wherever a profile file does (-p NAME). Names ignore letter case.
The default credential (deltashare creds default NAME) is used when no -p is given.`,
		Subcommands: []*cli.Command{
			credsListCommand(), credsShowCommand(), credsImportCommand(), credsExportCommand(), credsRemoveCommand(), credsDefaultCommand(),
		},
	}
}

// credJSON is a stored credential in `creds list` and `creds show` JSON (see docs/json.md):
// protocol names, RFC 3339 times, durations in whole seconds.
type credJSON struct {
	Name        string          `json:"name"`
	State       tokenmgr.State  `json:"state"`
	Default     bool            `json:"default"`
	Endpoint    string          `json:"endpoint,omitempty"`
	ProfileType string          `json:"type,omitempty"`
	Source      tokenmgr.Source `json:"source"`
	CreatedTime time.Time       `json:"createdTime,omitzero"`
	// ExpirationTime and ExpiresInSeconds (negative once expired) are absent when the token
	// never expires, and while the credential is pending.
	ExpirationTime   time.Time       `json:"expirationTime,omitzero"`
	ExpiresInSeconds *int64          `json:"expiresInSeconds,omitempty"`
	Problem          string          `json:"problem,omitempty"`
	Path             string          `json:"path,omitempty"`
	Profile          json.RawMessage `json:"profile,omitempty"`
}

// newCredJSON is the JSON of a stored credential's metadata.
func newCredJSON(now time.Time, m tokenmgr.Meta, isDefault bool) credJSON {
	cj := credJSON{Name: m.Name, State: m.State, Default: isDefault, Endpoint: m.Endpoint, ProfileType: m.ProfileType,
		Source: m.Source, CreatedTime: m.Created, Problem: m.Problem}
	if m.State != tokenmgr.StatePending && !m.Expiry.IsZero() {
		cj.ExpirationTime, cj.ExpiresInSeconds = m.Expiry.UTC(), secondsLeft(now, m.Expiry)
	}
	return cj
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

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/deltashare/deltashare/sharing/protocol"

	"github.com/deltashare/deltashare/sharing"
	"github.com/deltashare/deltashare/tokenmgr"
	"github.com/urfave/cli/v2"
)

func init() { commandSet = append(commandSet, checkCommand) }

// Flags of the commands that run a credential check (check, activate).
var (
	warnExpiryFlag = &cli.StringFlag{
		Name:  "warn-expiry",
		Value: "7d",
		Usage: "exit 5 when the token expires within this window (7d, 36h, ...; 0 disables)",
	}
	checkParallelFlag = &cli.IntFlag{
		Name:  "parallel",
		Value: tokenmgr.DefaultCheckParallel,
		Usage: "tables examined at once",
	}
)

// accessCheck configures a credential's access check and its report: for check, and for
// activate after the download.
type accessCheck struct {
	Tables []protocol.Table
	// WarnExpiry is the warning window; 0 disables the warning.
	WarnExpiry time.Duration
	Parallel   int
	Output     string // text or json
	Quiet      bool
}

// parseAccessCheck reads the check flags.
func parseAccessCheck(c *cli.Context) (o accessCheck, err error) {
	if o.Output, err = outputMode(c); err != nil {
		return o, err
	}
	if o.WarnExpiry, err = parseDays("warn-expiry", c.String("warn-expiry")); err != nil {
		return o, err
	}
	if o.Parallel = c.Int("parallel"); o.Parallel < 1 || o.Parallel > 64 {
		return o, usageError(fmt.Errorf("invalid --parallel %d: use 1 to 64", o.Parallel))
	}
	o.Quiet = c.Bool("quiet")
	return o, nil
}

// checkOptions are the options of `deltashare check`.
type checkOptions struct {
	accessCheck
	Profile string // the credential: the PROFILE# of the TABLE arguments, else --profile
}

func checkCommand() *cli.Command {
	return &cli.Command{
		Name:      "check",
		Usage:     "check a credential: token accepted, time left, shares and tables readable",
		ArgsUsage: "[TABLE ...]",
		Category:  "credentials",
		Description: `Checks what a credential can do: whether the server accepts the token and how long it lasts,
which shares, schemas and tables it reaches, and for every table (or the TABLEs given, as
share.schema.table) its version, its metadata and one data file's Parquet footer.

Exit codes: 0 all good; 3 some share or table could not be read, or no table is readable
yet (the shares hold none); 4 the token is expired or rejected; 5 everything readable but
the token expires within --warn-expiry (default 7d).
Precedence 4 > 3 > 5. With --output json the report's "exitCode" says the same.`,
		Flags:  []cli.Flag{profileFlag, outputFlag, configDirFlag, quietFlag, warnExpiryFlag, checkParallelFlag},
		Action: action(parseCheckOptions, runCheck),
	}
}

func parseCheckOptions(c *cli.Context) (o checkOptions, err error) {
	if o.accessCheck, err = parseAccessCheck(c); err != nil {
		return o, err
	}
	embedded := ""
	for _, a := range c.Args().Slice() {
		ref, t, err := tableArg(a)
		if err != nil {
			return o, err
		}
		if ref != "" {
			if embedded != "" && ref != embedded {
				return o, usageError(errors.New("the TABLE arguments name different profiles: check one credential at a time"))
			}
			embedded = ref
		}
		o.Tables = append(o.Tables, t)
	}
	o.Profile, err = profileRef(c, embedded)
	return o, err
}

// runCheck checks the credential, prints the report and returns an error carrying the
// report's exit code when it is not 0.
func runCheck(ctx context.Context, o checkOptions, d *deps) error {
	cl, err := d.Client(o.Profile)
	if err != nil {
		return err
	}
	defer releaseConnections(cl)
	rep, err := tokenmgr.Check(ctx, cl, tokenmgrCheckOptions(o.accessCheck))
	if err != nil {
		return err
	}
	if err := printCheck(d.IO.Out, rep, o.accessCheck); err != nil {
		return err
	}
	return checkResult(rep, d.Now())
}

// releaseConnections closes the client's idle connections once a command is done with it.
// Parallel requests can leave connections that were dialled but never used; a server shutting
// down gracefully waits for those (net/http gives them 5 seconds), so they are closed here
// rather than left to the process exit.
func releaseConnections(cl *sharing.Client) {
	if hc := cl.HTTPClient(); hc != nil {
		hc.CloseIdleConnections()
	}
}

func tokenmgrCheckOptions(o accessCheck) tokenmgr.CheckOptions {
	warn := o.WarnExpiry
	if warn == 0 {
		warn = -1 // tokenmgr: 0 is the default window, negative disables
	}
	return tokenmgr.CheckOptions{Tables: o.Tables, WarnExpiry: warn, Parallel: o.Parallel, ErrorText: errorText}
}

func printCheck(out io.Writer, rep *tokenmgr.CheckReport, o accessCheck) error {
	switch {
	case o.Output == "json":
		return writeJSON(out, rep)
	case o.Quiet:
		return nil
	}
	_, err := io.WriteString(out, rep.Text())
	return err
}

// checkResult turns a report into the command's result: nil for exit 0, otherwise an error
// with the exit code and a sentence saying what to do.
func checkResult(rep *tokenmgr.CheckReport, now time.Time) error {
	code := rep.ExitCode()
	if code == exitOK {
		return nil
	}
	var msg string
	switch rep.Status {
	case tokenmgr.CheckExpired:
		msg = fmt.Sprintf("the token expired on %s: ask the data provider for a new activation link, then run deltashare activate", rep.ExpirationTime.UTC().Format(time.RFC3339))
	case tokenmgr.CheckRejected:
		msg = "the server rejected the token (revoked, rotated or mistyped): ask the data provider for a new activation link, then run deltashare activate"
	case tokenmgr.CheckPartial:
		var badShares, badTables, parts []string
		for _, s := range rep.Shares {
			if s.Error != "" {
				badShares = append(badShares, s.Name)
			}
		}
		for _, t := range rep.Tables {
			if !t.OK() {
				badTables = append(badTables, t.Table.String())
			}
		}
		if len(badShares) > 0 {
			parts = append(parts, fmt.Sprintf("%d of %s could not be listed (%s)", len(badShares), tokenmgr.Plural(len(rep.Shares), "share"), strings.Join(badShares, ", ")))
		}
		if len(badTables) > 0 {
			parts = append(parts, fmt.Sprintf("%d of %s could not be read (%s)", len(badTables), tokenmgr.Plural(len(rep.Tables), "table"), strings.Join(badTables, ", ")))
		}
		msg = strings.Join(parts, "; ") + ": see the report for the reasons; tell the data provider if it persists"
	case tokenmgr.CheckEmpty:
		msg = fmt.Sprintf("the token is accepted, but no table is readable yet: the %s hold no tables; "+
			"the data provider may not have added them yet: try again later, or ask them", tokenmgr.Plural(len(rep.Shares), "share"))
		if len(rep.Shares) == 1 {
			msg = strings.Replace(msg, "share hold", "share holds", 1)
		}
	case tokenmgr.CheckExpiring:
		msg = fmt.Sprintf("the token expires %s, within the %s warning window: ask the data provider for a new credential before then",
			expiryPhrase(now, rep.ExpirationTime), tokenmgr.DurationText(time.Duration(rep.WarnExpirySeconds)*time.Second))
	default:
		msg = string(rep.Status)
	}
	return withCode(code, errors.New("check: "+msg))
}

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/deltashare/deltashare/sharing/protocol"

	"github.com/deltashare/deltashare/sharing"
	"github.com/deltashare/deltashare/tokenmgr"
	"github.com/urfave/cli/v2"
	"golang.org/x/term"
)

// streams are the command's standard streams (cli/cli iostreams): data on Out, diagnostics and
// progress on Err. Tests run commands with buffers.
type streams struct {
	In          io.Reader
	Out         io.Writer
	Err         io.Writer
	ErrTerminal bool // stderr is a terminal: progress bars may be drawn
	OutTerminal bool // stdout is a terminal: no progress bar while data is written to it
}

func stdStreams() *streams {
	return &streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr,
		ErrTerminal: term.IsTerminal(int(os.Stderr.Fd())), OutTerminal: term.IsTerminal(int(os.Stdout.Fd()))}
}

// streamsKey carries the streams in the cli.Context's metadata so tests can substitute buffers.
const streamsKey = "streams"

func ioFrom(c *cli.Context) *streams {
	if s, ok := c.App.Metadata[streamsKey].(*streams); ok {
		return s
	}
	return stdStreams()
}

// Flags shared by many commands.
var (
	profileFlag = &cli.StringFlag{
		Name:    "profile",
		Aliases: []string{"p"},
		EnvVars: []string{"DELTASHARE_PROFILE"},
		Usage:   "credential: a stored credential NAME, a profile FILE, - for stdin, env:VAR, or the profile JSON itself",
	}
	outputFlag = &cli.StringFlag{
		Name:    "output",
		Aliases: []string{"O"},
		Value:   "text",
		Usage:   "output format: text or json",
	}
	configDirFlag = &cli.StringFlag{
		Name:    "config-dir",
		EnvVars: []string{"DELTASHARE_CONFIG_DIR"},
		Usage:   "directory of the credential store (default: the user's config dir/deltashare)",
	}
	quietFlag = &cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print only errors"}
)

// outputMode validates --output.
func outputMode(c *cli.Context) (string, error) {
	switch o := strings.ToLower(c.String("output")); o {
	case "", "text":
		return "text", nil
	case "json":
		return "json", nil
	default:
		return "", usageError(fmt.Errorf("unknown --output %q: use text or json", o))
	}
}

// writeJSON prints v as indented JSON.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// printResult prints a command's result: v as JSON for --output json, else what text writes for
// people.
func printResult(d *deps, output string, v any, text func(w io.Writer) error) error {
	if output == "json" {
		return writeJSON(d.IO.Out, v)
	}
	return text(d.IO.Out)
}

// fieldLines writes a record for people as "label: value" lines, the values aligned at column
// width.
type fieldLines struct {
	w     io.Writer
	width int
}

// linef writes a line of label and the value format and args give.
func (f fieldLines) linef(label, format string, args ...any) {
	fmt.Fprintf(f.w, "%-*s%s\n", f.width, label+":", fmt.Sprintf(format, args...))
}

// optional writes a line of label and value unless value is empty.
func (f fieldLines) optional(label, value string) {
	if value != "" {
		f.linef(label, "%s", value)
	}
}

// newTable returns a tab-aligned writer for text listings.
func newTable(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 0, 4, 2, ' ', 0) }

// secondsLeft is how many whole seconds are left until exp (negative: expired), for the
// expiresInSeconds fields; nil for a zero exp (never expires).
func secondsLeft(now, exp time.Time) *int64 {
	if exp.IsZero() {
		return nil
	}
	s := int64(exp.Sub(now) / time.Second)
	return &s
}

// printTable writes items for people in aligned columns: the header, then the cells row gives
// for each item.
func printTable[T any](w io.Writer, header []string, items []T, row func(T) []string) error {
	tw := newTable(w)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, it := range items {
		fmt.Fprintln(tw, strings.Join(row(it), "\t"))
	}
	return tw.Flush()
}

// printListing writes a listing for people: the header and one line per row, in aligned
// columns, then how many there are ("3 recipient(s)").
func printListing(w io.Writer, noun string, header []string, rows [][]string) error {
	if err := printTable(w, header, rows, func(r []string) []string { return r }); err != nil {
		return err
	}
	fmt.Fprintf(w, "%d %s(s)\n", len(rows), noun)
	return nil
}

// openStore opens the credential store of --config-dir (env DELTASHARE_CONFIG_DIR, default
// under the user's config directory).
func openStore(c *cli.Context) (*tokenmgr.Store, error) {
	dir := c.String("config-dir")
	if dir == "" {
		var err error
		if dir, err = tokenmgr.DefaultStoreDir(); err != nil {
			return nil, err
		}
	}
	return tokenmgr.OpenStore(dir)
}

// profileResolver turns a --profile value into a profile: a stored credential's name works
// wherever a profile file does.
func profileResolver(c *cli.Context, ref string) (*sharing.Profile, error) {
	store, err := openStore(c)
	if err != nil && strings.TrimSpace(ref) == "" {
		return nil, usageError(fmt.Errorf("no credential given: pass -p NAME|FILE (or set DELTASHARE_PROFILE); the default credential cannot be read either: %s", errorText(err)))
	}
	if err != nil {
		// No usable store: files still resolve; a name cannot, and the store's error says why.
		p, perr := sharing.LoadProfileWith(ref, sharing.LoadProfileOptions{Stdin: ioFrom(c).In, LookupEnv: os.LookupEnv})
		if perr != nil {
			return nil, fmt.Errorf("%w (the credential store cannot be used either: %s)", perr, errorText(err))
		}
		return p, nil
	}
	return store.ResolveProfile(ref, sharing.LoadProfileOptions{Stdin: ioFrom(c).In, LookupEnv: os.LookupEnv})
}

// tableArg parses a TABLE argument: share.schema.table or PROFILE#share.schema.table.
// It returns the profile reference embedded in the argument, if any.
func tableArg(s string) (profileRef string, t protocol.Table, err error) {
	if strings.Contains(s, "#") {
		p, t, err := protocol.ParseTableURL(s)
		if err != nil {
			return "", t, usageError(err)
		}
		return p, t, nil
	}
	t, err = protocol.ParseTable(s)
	if err != nil {
		return "", t, usageError(err)
	}
	return "", t, nil
}

// tableArgument parses the single TABLE argument of command cmd. It returns the profile
// reference embedded in the argument, if any.
func tableArgument(c *cli.Context, cmd string) (profileRef string, t protocol.Table, err error) {
	if c.NArg() != 1 {
		return "", t, usageError(fmt.Errorf("%s needs one argument: TABLE as share.schema.table (or PROFILE#share.schema.table)", cmd))
	}
	return tableArg(c.Args().First())
}

// clientFor builds a protocol client from --profile (or a profile embedded in a table argument).
func clientFor(c *cli.Context, embedded string) (*sharing.Client, error) {
	ref, err := profileRef(c, embedded)
	if err != nil {
		return nil, err
	}
	return depsFrom(c).Client(ref)
}

// clientOptions are the options of a command whose run function takes the protocol client:
// embeddedProfile is the profile its TABLE argument names ("" for --profile).
type clientOptions interface{ embeddedProfile() string }

// clientAction is the Action of the commands whose run function takes the protocol client
// (export, changes and sync): parse maps the flags and arguments to options, run does the work
// with the client of the options' credential.
func clientAction[O clientOptions](parse func(*cli.Context) (O, error), run func(context.Context, *sharing.Client, O, *streams) error) cli.ActionFunc {
	return func(c *cli.Context) error {
		o, err := parse(c)
		if err != nil {
			return err
		}
		cl, err := clientFor(c, o.embeddedProfile())
		if err != nil {
			return err
		}
		return run(c.Context, cl, o, ioFrom(c))
	}
}

// mapSharingErrors gives protocol errors their exit codes: a rejected or expired credential
// exits 4.
func mapSharingErrors(err error) (int, bool) {
	switch {
	case errors.Is(err, protocol.ErrTokenExpired), errors.Is(err, protocol.ErrUnauthorized):
		return exitAuth, true
	case errors.Is(err, protocol.ErrInvalidProfile), errors.Is(err, protocol.ErrInvalidRead):
		return exitUsage, true
	}
	return 0, false
}

func init() { errorCodeMappers = append(errorCodeMappers, mapSharingErrors) }

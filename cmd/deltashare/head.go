package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/urfave/cli/v2"

	"github.com/deltashare/deltashare/formats"
	"github.com/deltashare/deltashare/sharing/reader"
)

// headOptions are the options of `deltashare head`.
type headOptions struct {
	tableTarget
	Output string // text or json
	// Read holds the rows (Limit), --columns, --where and the version or time.
	Read reader.ReadOptions
	// MaxWidth truncates wider values in text output (0: never).
	MaxWidth int
}

// headDefaultRows is the rows head prints without -n.
const headDefaultRows = 20

func headCommand() *cli.Command {
	return &cli.Command{
		Name:        "head",
		Usage:       "print the first rows of a table as an aligned table (names, then types)",
		ArgsUsage:   "TABLE",
		Category:    "explore",
		Description: whereHelp,
		Flags: tableFlags(
			&cli.Int64Flag{Name: "rows", Aliases: []string{"n"}, Usage: "print at most N rows", Value: headDefaultRows},
			&cli.StringFlag{Name: "columns", Usage: "comma-separated columns to print, in this order"},
			&cli.StringFlag{Name: "where", Usage: "row filter, e.g. \"region = 'EMEA'\" (applied exactly)"},
			&cli.Int64Flag{Name: "version", Usage: "rows of this table version", Value: -1, DefaultText: "latest"},
			&cli.StringFlag{Name: "timestamp", Usage: "rows at this time (ISO 8601)"},
			&cli.IntFlag{Name: "max-width", Usage: "text: cut values wider than N characters with … (0: never)", Value: 40},
		),
		Action: action(parseHeadOptions, runHead),
	}
}

func parseHeadOptions(c *cli.Context) (o headOptions, err error) {
	if o.Output, o.tableTarget, o.Read.Version, o.Read.Timestamp, err = parseTableAt(c, "head"); err != nil {
		return o, err
	}
	n := c.Int64("rows")
	if n < 0 {
		return o, usageError(fmt.Errorf("--rows %d: give 0 or more rows", n))
	}
	o.Read.Limit = &n
	o.Read.Columns = splitList(c.String("columns"))
	o.Read.Where = c.String("where")
	if o.MaxWidth = c.Int("max-width"); o.MaxWidth != 0 && o.MaxWidth < 2 {
		return o, usageError(fmt.Errorf("--max-width %d: give 2 or more characters, or 0 for no limit", o.MaxWidth))
	}
	return o, nil
}

func runHead(ctx context.Context, o headOptions, d *deps) error {
	cl, err := d.Client(o.Profile)
	if err != nil {
		return err
	}
	r, err := reader.Open(ctx, cl, o.Table, o.Read)
	if err != nil {
		return err
	}
	defer r.Release()
	if o.Output == "json" {
		return writeHeadJSON(d.IO.Out, r)
	}
	cells, err := formats.NewCells(r.Schema(), formats.Options{})
	if err != nil {
		return err
	}
	g := newGrid(r.Schema(), deltaTypes(r), o.MaxWidth)
	for r.Next() {
		rec := r.Record()
		if err := cells.Bind(rec); err != nil {
			return err
		}
		for row := range int(rec.NumRows()) {
			line := make([]string, rec.NumCols())
			for col := range line {
				text, null := cells.Cell(col, row)
				if null {
					text = "null"
				}
				line[col] = g.fit(text)
			}
			g.rows = append(g.rows, line)
		}
	}
	if err := r.Err(); err != nil {
		return err
	}
	return g.print(d.IO.Out)
}

// writeHeadJSON writes the rows as a JSON array of objects, the values as `export -f json`
// writes them.
func writeHeadJSON(out io.Writer, r *reader.Reader) error {
	enc, err := formats.New(out, r.Schema(), formats.Options{Format: formats.JSON})
	if err != nil {
		return err
	}
	for r.Next() {
		if err := enc.Write(r.Record()); err != nil {
			enc.Close()
			return err
		}
	}
	if err := r.Err(); err != nil {
		enc.Close()
		return err
	}
	return enc.Close()
}

// deltaTypes are the Delta types of the reader's columns, as Delta spells them.
func deltaTypes(r *reader.Reader) []string {
	fields := r.Schema().Fields()
	out := make([]string, len(fields))
	st, err := r.Metadata().Metadata.Schema()
	for i, f := range fields {
		out[i] = f.Type.String()
		if err != nil {
			continue
		}
		for _, df := range st.Fields {
			if strings.EqualFold(df.Name, f.Name) {
				out[i] = df.Type.String()
				break
			}
		}
	}
	return out
}

// grid lays out rows of text for a terminal: a line of column names, a line of types, a rule,
// the rows (numbers aligned right), then the number of rows.
type grid struct {
	names, types []string
	right        []bool
	maxWidth     int
	rows         [][]string
}

func newGrid(s *arrow.Schema, types []string, maxWidth int) *grid {
	g := &grid{types: types, maxWidth: maxWidth}
	for _, f := range s.Fields() {
		g.names = append(g.names, f.Name)
		g.right = append(g.right, arrow.IsInteger(f.Type.ID()) || arrow.IsFloating(f.Type.ID()) || arrow.IsDecimal(f.Type.ID()))
	}
	return g
}

// fit makes a value one line (control characters escaped) no wider than the grid's maximum
// (cut with an ellipsis).
func (g *grid) fit(s string) string {
	s = escapeControls(s)
	if g.maxWidth > 0 && utf8.RuneCountInString(s) > g.maxWidth {
		rs := []rune(s)
		s = string(rs[:g.maxWidth-1]) + "…"
	}
	return s
}

// escapeControls writes newlines, tabs and other control characters as escapes (\n, \t,
// \x01), so a value stays on its line.
func escapeControls(s string) string {
	if !strings.ContainsFunc(s, isControl) {
		return s
	}
	var b strings.Builder
	for _, c := range s {
		switch {
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c == '\t':
			b.WriteString(`\t`)
		case isControl(c):
			fmt.Fprintf(&b, `\x%02x`, c)
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}

func isControl(c rune) bool { return c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) }

func (g *grid) print(out io.Writer) error {
	widths := make([]int, len(g.names))
	lines := append([][]string{g.names, g.types}, g.rows...)
	for i := range g.names {
		g.names[i], g.types[i] = g.fit(g.names[i]), g.fit(g.types[i])
	}
	for _, l := range lines {
		for i, c := range l {
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	rule := make([]string, len(widths))
	for i, w := range widths {
		rule[i] = strings.Repeat("-", w)
	}
	lines = append([][]string{g.names, g.types, rule}, g.rows...)
	var b strings.Builder
	for _, l := range lines {
		line := make([]string, len(l))
		for i, c := range l {
			pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c))
			if g.right[i] {
				line[i] = pad + c
			} else {
				line[i] = c + pad
			}
		}
		b.WriteString(strings.TrimRight(strings.Join(line, "  "), " "))
		b.WriteByte('\n')
	}
	if len(g.rows) == 1 {
		b.WriteString("(1 row)\n")
	} else {
		fmt.Fprintf(&b, "(%d rows)\n", len(g.rows))
	}
	_, err := io.WriteString(out, b.String())
	return err
}

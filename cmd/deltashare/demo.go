package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/deltashare/deltashare/sharing/protocol"
	"github.com/deltashare/deltashare/sharing/reader"

	"github.com/deltashare/deltashare/export"
	"github.com/deltashare/deltashare/formats"
	"github.com/deltashare/deltashare/sharing"
	"github.com/deltashare/deltashare/sharing/server"
	"github.com/deltashare/deltashare/sharing/server/demo"
	"github.com/deltashare/deltashare/tokenmgr"
	"github.com/urfave/cli/v2"
)

func init() { commandSet = append(commandSet, demoCommand) }

// demoOptions are the options of `deltashare demo`.
type demoOptions struct {
	Dir         string // where the credential and exports go
	KeepServing bool   // leave the server running after the tour
}

func demoCommand() *cli.Command {
	return &cli.Command{
		Name:     "demo",
		Usage:    "run the whole job end to end on the embedded demo: server, activation, listing, export",
		Category: "serve",
		Description: `Generates the demo Delta tables, serves them with our own Delta Sharing server on a free
loopback port with activation on, activates a credential through a one-time link, lists what it
can read, checks access, exports demo.sales.orders (CSV and Parquet) and the change data feed
of demo.sales.customers, and syncs demo.sales.customers as a Delta table (sync --format delta)
into --dir (default ./deltashare-demo), printing the table's versions. Nothing leaves this
machine.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "dir", Value: "deltashare-demo", Usage: "directory for the demo's credential store and exports"},
			&cli.BoolFlag{Name: "keep-serving", Usage: "keep the server running after the tour (Ctrl-C stops it) to try commands by hand"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usageError(fmt.Errorf("demo takes no arguments"))
			}
			return runDemo(c.Context, demoOptions{Dir: c.String("dir"), KeepServing: c.Bool("keep-serving")}, ioFrom(c))
		},
	}
}

// demoStep prints the title of step n of the tour.
func demoStep(out io.Writer, n int, format string, args ...any) {
	fmt.Fprintf(out, "\n[%d] %s\n", n, fmt.Sprintf(format, args...))
}

// runDemo runs the tour: tables, server, activation, check, exports; with KeepServing it then
// serves until ctx ends.
func runDemo(ctx context.Context, o demoOptions, st *streams) error {
	out := st.Out
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return err
	}
	tables, err := os.MkdirTemp("", "deltashare-demo-tables-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tables)
	srv, err := newDemoServer(out, tables)
	if err != nil {
		return err
	}
	ln, err := srv.Listen("")
	if err != nil {
		return err
	}
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(sctx, ln) }()
	fmt.Fprintf(out, "    endpoint %s\n", srv.Endpoint())

	storeDir := filepath.Join(dir, "config")
	client, err := demoActivate(ctx, out, srv, storeDir)
	if err != nil {
		return err
	}
	demoStep(out, 5, "Checking access: deltashare check -p demo")
	report, err := tokenmgr.Check(ctx, client, tokenmgr.CheckOptions{ErrorText: errorText})
	if err != nil {
		return err
	}
	fmt.Fprint(out, indent(report.Text()))
	if err := demoExports(ctx, out, client, dir); err != nil {
		return err
	}
	if err := demoLake(ctx, out, client, dir); err != nil {
		return err
	}

	fmt.Fprintf(out, "\nDone. Exports are in %s.\n", dir)
	if !o.KeepServing {
		stop()
		return <-served
	}
	self, conf := shellQuote(selfCommand()), shellQuote(storeDir)
	fmt.Fprintf(out, "The server keeps running; try, from another terminal:\n"+
		"    %s --help\n    DELTASHARE_CONFIG_DIR=%s %s tables -p demo\n"+
		"    DELTASHARE_CONFIG_DIR=%s %s export -p demo demo.sales.orders -o - --where \"region = 'Europe'\" --limit 5\n"+
		"Press Ctrl-C to stop.\n", self, conf, self, conf, self)
	return <-served
}

// selfCommand is how to run this program from a shell: "deltashare" when that name on PATH is
// this program, else the path of the running executable (bin/deltashare after make build is not
// on PATH).
func selfCommand() string {
	exe, err := os.Executable()
	if err != nil {
		return "deltashare"
	}
	if onPath, err := exec.LookPath("deltashare"); err == nil {
		a, aerr := os.Stat(onPath)
		b, berr := os.Stat(exe)
		if aerr == nil && berr == nil && os.SameFile(a, b) {
			return "deltashare"
		}
	}
	if wd, err := os.Getwd(); err == nil {
		if rel, err := filepath.Rel(wd, exe); err == nil && !strings.HasPrefix(rel, "..") {
			return "./" + filepath.ToSlash(rel)
		}
	}
	return exe
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=@%+,", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// newDemoServer is the tour's first steps: the demo tables generated into dir, and our server
// over them with activation on (not yet listening).
func newDemoServer(out io.Writer, dir string) (*server.Server, error) {
	demoStep(out, 1, "Generating the demo Delta tables (Parquet files and _delta_log) in %s", dir)
	if err := demo.Generate(dir); err != nil {
		return nil, err
	}
	cfg := server.Config{Addr: "127.0.0.1:0", Activation: true}
	for _, t := range demo.Tables {
		cfg.AddTable(server.TableFlag{Share: t.Share, Schema: t.Schema, Table: t.Name, Location: filepath.Join(dir, filepath.FromSlash(t.Path))})
		fmt.Fprintf(out, "    %s.%s.%s: %s\n", t.Share, t.Schema, t.Name, t.Description)
	}
	demoStep(out, 2, "Starting our Delta Sharing server on loopback")
	logger, err := newLogger(os.Stderr, "warn", "text")
	if err != nil {
		return nil, err
	}
	return server.New(cfg, server.WithLogger(logger))
}

// demoActivate is the tour's activation steps: the server mints a one-time link, and a fresh
// credential store in storeDir activates it (a second download is refused). It returns a
// client of the stored credential.
func demoActivate(ctx context.Context, out io.Writer, srv *server.Server, storeDir string) (*sharing.Client, error) {
	demoStep(out, 3, "The provider mints a one-time activation link (Databricks open sharing style)")
	link, err := srv.NewActivation(ctx, 90*24*time.Hour)
	if err != nil {
		return nil, err
	}
	fmt.Fprintln(out, "    link created (it is a secret: shown only to the recipient)")
	if err := os.RemoveAll(storeDir); err != nil {
		return nil, err
	}
	store, err := tokenmgr.OpenStore(storeDir)
	if err != nil {
		return nil, err
	}
	demoStep(out, 4, "Activating: deltashare activate LINK --name demo")
	res, err := tokenmgr.Activate(ctx, tokenmgr.ActivateOptions{Link: tokenmgr.Sensitive(link), Name: "demo", Store: store})
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "    credential %q stored in %s (mode 0600)\n", res.Name, res.StoredPath)
	cred, err := store.Get("demo")
	if err != nil {
		return nil, err
	}
	client, err := sharing.NewClient(cred.Profile)
	if err != nil {
		return nil, err
	}
	if _, err := tokenmgr.Activate(ctx, tokenmgr.ActivateOptions{Link: tokenmgr.Sensitive(link), Name: "again", Store: store}); err != nil {
		fmt.Fprintf(out, "    a second download of the same link is refused: %v\n", err)
	}
	return client, nil
}

// demoExports is the tour's last steps: exports of the demo tables into dir.
func demoExports(ctx context.Context, out io.Writer, client *sharing.Client, dir string) error {
	jobs := []struct {
		title, table, file string
		format             formats.Format
		changes            bool
	}{
		{"demo.sales.orders to CSV", "demo.sales.orders", "orders.csv", formats.CSV, false},
		{"demo.sales.orders to Parquet", "demo.sales.orders", "orders.parquet", formats.Parquet, false},
		{"the change data feed of demo.sales.customers to NDJSON", "demo.sales.customers", "customers-changes.ndjson", formats.NDJSON, true},
	}
	for i, j := range jobs {
		demoStep(out, 6+i, "Exporting %s", j.title)
		t, err := protocol.ParseTable(j.table)
		if err != nil {
			return err
		}
		table := export.NewSharedTable(client, t, reader.ReadOptions{})
		path := filepath.Join(dir, j.file)
		opts := export.Options{Output: path, Format: formats.Options{Format: j.format}, Overwrite: true}
		var sum *export.Summary
		if j.changes {
			v := int64(0)
			sum, err = table.ExportChanges(ctx, protocol.ChangesRequest{StartingVersion: &v}, nil, opts)
		} else {
			sum, err = table.Export(ctx, nil, opts)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "    %s\n    %s\n", path, sum.Text())
	}
	return nil
}

// demoLakeStep is the number of the tour's last step.
const demoLakeStep = 9

// demoLake is the tour's last step: demo.sales.customers synced as a Delta table into
// dir/customers-delta, then the versions of that table.
func demoLake(ctx context.Context, out io.Writer, client *sharing.Client, dir string) error {
	demoStep(out, demoLakeStep, "Syncing demo.sales.customers as a Delta table: deltashare sync -p demo demo.sales.customers -o %s --format delta", filepath.Join(dir, "customers-delta"))
	t, err := protocol.ParseTable("demo.sales.customers")
	if err != nil {
		return err
	}
	// A rerun of the tour starts the table afresh: its server has a new endpoint.
	if err := os.RemoveAll(filepath.Join(dir, "customers-delta")); err != nil {
		return err
	}
	sink := export.NewLocalSink(filepath.Join(dir, "customers-delta"))
	res, err := export.Sync(ctx, export.NewSharedTable(client, t, reader.ReadOptions{}), sink,
		export.SyncOptions{Table: t.String(), Endpoint: client.Endpoint(), Format: formats.Options{Format: export.FormatDelta}})
	if err != nil {
		return err
	}
	fmt.Fprint(out, indent(res.Text()))
	versions, err := export.LakeHistory(ctx, sink)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "    versions of the Delta table (read it with Spark, DuckDB delta_scan, delta-rs or Polars):")
	for _, v := range versions {
		fmt.Fprintf(out, "      version %d: %s at %s, source version %d, %d data files added, %d removed\n",
			v.Version, v.Operation, v.Timestamp.Format(time.RFC3339), v.SourceVersion, v.Added, v.Removed)
	}
	return nil
}

// indent prefixes every line with four spaces.
func indent(s string) string {
	var b []byte
	line := true
	for i := 0; i < len(s); i++ {
		if line {
			b = append(b, "    "...)
		}
		b = append(b, s[i])
		line = s[i] == '\n'
	}
	if len(b) > 0 && b[len(b)-1] != '\n' {
		b = append(b, '\n')
	}
	return string(b)
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/deltashare/deltashare/sharing/delta"

	"github.com/deltashare/deltashare/sharing/protocol"
	"github.com/deltashare/deltashare/sharing/reader"

	"github.com/deltashare/deltashare/export"
	"github.com/deltashare/deltashare/formats"
	"github.com/deltashare/deltashare/sharing"
	"github.com/urfave/cli/v2"
)

func init() { commandSet = append(commandSet, syncCommand) }

// syncOptions are the parsed flags of sync.
type syncOptions struct {
	Out    string
	Sync   export.SyncOptions
	Read   reader.ReadOptions
	Quiet  bool
	JSON   bool
	Format formats.Options
}

func syncCommand() *cli.Command {
	return &cli.Command{
		Name:      "sync",
		Usage:     "keep a directory or bucket up to date with a table: a snapshot first, then its changes",
		ArgsUsage: "TABLE",
		Category:  "export",
		Description: `The first run exports the table at its latest version V to DEST/snapshot/v=V/. Each later
run exports the change data feed of the new versions (V+1 to the latest, with _change_type,
_commit_version and _commit_timestamp) to DEST/changes/v=FROM-TO/, then advances the state file
DEST/_deltashare_state.json. A table without change data feed is exported whole again to a new
snapshot/v=W/ folder (the output says so). With no new version, sync prints "up to date at
version V" and exits 0.

Files appear under their final names only when all of the run's files are written, and the state
is written last: a run that dies leaves the previous state, and the next run redoes its work
(same file names; leftovers it finds are removed) without duplicating rows. A lock object
(_deltashare_state.lock) keeps two runs on one destination apart.

A schema change since the last run stops the sync (exit 1, listing the added, removed and changed
columns) unless --allow-schema-change. --shard I/N exports only the files whose id hashes to I,
so N workers split a table; each keeps its own state (_deltashare_state.shard-I-of-N.json).

DEST is a local directory or s3://bucket/prefix/, gs://bucket/prefix/, azblob://container/prefix/
(credentials from each cloud's standard environment).

Examples:
  deltashare sync -p me.share sales.emea.orders -o /data/orders --format parquet
  deltashare sync -p me.share sales.emea.orders -o s3://lake/orders/ --dry-run
  deltashare sync -p me.share sales.emea.orders -o s3://lake/orders/ --shard "$JOB_COMPLETION_INDEX/4"`,
		Flags: tableFlags(
			&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "destination: DIR, or s3://, gs://, azblob:// URL of a prefix", Required: true},
			&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "parquet", Usage: "parquet, csv or ndjson (a destination keeps the format of its first run)"},
			&cli.StringFlag{Name: "compression", Usage: "csv/ndjson: none, gzip or zstd; parquet: snappy (default), zstd, gzip or none"},
			&cli.StringFlag{Name: "shard", Usage: "export only shard I of N (I from 0), e.g. 0/4; file ids must be stable on the server"},
			&cli.BoolFlag{Name: "allow-schema-change", Usage: "go on when the table's columns changed since the last run"},
			&cli.BoolFlag{Name: "dry-run", Usage: "say what would be exported (versions, files, estimated rows) without writing"},
			&cli.IntFlag{Name: "parallel", Usage: "files downloaded at once (default: number of CPUs)"},
			quietFlag,
		),
		Action: func(c *cli.Context) error {
			o, err := parseSyncOptions(c)
			if err != nil {
				return err
			}
			cl, t, err := oneTable(c, "sync")
			if err != nil {
				return err
			}
			return runSync(c, cl, t, o)
		},
	}
}

func parseSyncOptions(c *cli.Context) (syncOptions, error) {
	mode, err := outputMode(c)
	if err != nil {
		return syncOptions{}, err
	}
	o := syncOptions{Out: c.String("out"), Quiet: c.Bool("quiet"), JSON: mode == "json"}
	if o.Out == "-" {
		return o, usageError(errors.New("sync writes to a directory or a bucket, not standard output: use export -o - for a one-off export"))
	}
	if o.Format.Format, err = formats.ParseFormat(c.String("format")); err != nil {
		return o, usageError(err)
	}
	switch o.Format.Format {
	case formats.Parquet, formats.CSV, formats.NDJSON:
	default:
		return o, usageError(fmt.Errorf("--format %s: sync writes parquet, csv or ndjson (files that can be appended to a folder)", o.Format.Format))
	}
	if z := c.String("compression"); z != "" {
		if o.Format.Compression, err = formats.ParseCompression(z); err != nil {
			return o, usageError(err)
		}
	}
	if err := o.Format.Validate(); err != nil {
		return o, usageError(err)
	}
	shard, err := export.ParseShard(c.String("shard"))
	if err != nil {
		return o, usageError(fmt.Errorf("--shard: %w", err))
	}
	if p := c.Int("parallel"); p < 0 || p > 256 {
		return o, usageError(fmt.Errorf("--parallel %d: give 1 to 256", p))
	} else {
		o.Read.Parallel = p
	}
	o.Read.Shard = shard.Filter()
	o.Sync = export.SyncOptions{Format: o.Format, Shard: shard, AllowSchemaChange: c.Bool("allow-schema-change"), DryRun: c.Bool("dry-run")}
	return o, nil
}

// dirOutput makes out name a directory: a trailing separator (before a URL's query string).
func dirOutput(out string) string {
	if export.IsBlobURL(out) {
		p, q, hasQ := strings.Cut(out, "?")
		if !strings.HasSuffix(p, "/") {
			p += "/"
		}
		if hasQ {
			return p + "?" + q
		}
		return p
	}
	if strings.HasSuffix(out, "/") || strings.HasSuffix(out, string(filepath.Separator)) {
		return out
	}
	return out + string(filepath.Separator)
}

// syncSink opens the destination of a sync (a test may substitute it).
var syncSink = func(out string) (export.Sink, error) {
	sink, _, err := export.OpenSink(dirOutput(out))
	return sink, err
}

func runSync(c *cli.Context, cl *sharing.Client, t protocol.Table, o syncOptions) error {
	st := ioFrom(c)
	sink, err := syncSink(o.Out)
	if err != nil {
		return usageError(err)
	}
	if closer, ok := sink.(io.Closer); ok {
		defer closer.Close()
	}
	o.Sync.Table, o.Sync.Endpoint = t.String(), cl.Endpoint()
	if st.ErrTerminal && !o.Quiet && !o.Sync.DryRun {
		if f, ok := st.Err.(*os.File); ok {
			o.Sync.Progress = export.TerminalProgress(f)
		}
	}
	res, err := export.Sync(c.Context, &sharedTable{c: cl, t: t, read: o.Read}, sink, o.Sync)
	if err != nil {
		var sc *export.SchemaChangeError
		if errors.As(err, &sc) && o.JSON {
			_ = writeJSON(st.Out, map[string]any{"table": t.String(), "error": "schema changed", "schemaChange": sc.Diff,
				"fromVersion": sc.FromVersion, "toVersion": sc.ToVersion})
		}
		return err
	}
	if o.JSON {
		return writeJSON(st.Out, res)
	}
	if !o.Quiet {
		_, err = fmt.Fprintln(st.Out, res.Text())
	}
	return err
}

// sharedTable is a shared table as export.Sync sees it.
type sharedTable struct {
	c    *sharing.Client
	t    protocol.Table
	read reader.ReadOptions // with the shard filter
}

var _ export.SyncTable = (*sharedTable)(nil)

func (s *sharedTable) Info(ctx context.Context) (export.TableInfo, error) {
	md, err := s.c.Metadata(ctx, s.t, protocol.MetadataOptions{})
	if err != nil {
		return export.TableInfo{}, err
	}
	v := md.Version
	if v < 0 {
		if v, err = s.c.TableVersion(ctx, s.t, ""); err != nil {
			return export.TableInfo{}, err
		}
	}
	schema, err := md.Metadata.Schema()
	if err != nil {
		return export.TableInfo{}, fmt.Errorf("table %s: %w", s.t, err)
	}
	cols := make([]export.Column, len(schema.Fields))
	for i, f := range schema.Fields {
		cols[i] = export.Column{Name: f.Name, Type: f.Type.String(), Nullable: f.Nullable}
	}
	return export.TableInfo{Version: v, Columns: cols, ChangeDataFeed: md.Metadata.ChangeDataFeedEnabled(), ID: md.Metadata.ID}, nil
}

func (s *sharedTable) Snapshot(ctx context.Context, version int64) (export.Source, error) {
	opts := s.read
	opts.Version = &version
	r, err := reader.Open(ctx, s.c, s.t, opts)
	if err != nil {
		return nil, err
	}
	return r, nil
}

func (s *sharedTable) Changes(ctx context.Context, from, to int64) (export.Source, error) {
	r, err := reader.OpenChanges(ctx, s.c, s.t, protocol.ChangesRequest{StartingVersion: &from, EndingVersion: &to}, s.read)
	if err != nil {
		return nil, err
	}
	return r, nil
}

func (s *sharedTable) Plan(ctx context.Context, kind export.RunKind, from, to int64) (export.ReadPlan, error) {
	var res *sharing.QueryResult
	var err error
	if kind == export.RunChanges {
		res, err = s.c.Changes(ctx, s.t, protocol.ChangesRequest{StartingVersion: &from, EndingVersion: &to})
	} else {
		res, err = s.c.Query(ctx, s.t, protocol.QueryRequest{Version: &to})
	}
	if err != nil {
		return export.ReadPlan{}, err
	}
	p := export.ReadPlan{}
	for _, f := range res.Files {
		if s.read.Shard != nil && !s.read.Shard(f.ID) {
			continue
		}
		p.Files++
		p.Bytes += f.Size
		if p.Rows < 0 {
			continue
		}
		n, ok := delta.LiveRows(f.Stats, f.DeletionVector)
		if !ok {
			p.Rows = -1
			continue
		}
		p.Rows += n
	}
	return p, nil
}

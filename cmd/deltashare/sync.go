package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/deltashare/deltashare/export"
	"github.com/deltashare/deltashare/sharing"
	"github.com/deltashare/deltashare/sharing/protocol"
)

func init() { commandSet = append(commandSet, syncCommand) }

// syncOptions are the options of `deltashare sync`.
type syncOptions struct {
	Table             protocol.Table
	Profile           string        // a profile embedded in the TABLE argument; "" for --profile
	Output            outputOptions // Out is the destination
	AllowSchemaChange bool
	DryRun            bool
	BreakLock         bool
	Lake              export.LakeOptions // --format delta only
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
(same file names; leftovers it finds are removed, also when there is nothing new) without
duplicating rows. A lock object (_deltashare_state.lock) keeps two runs on one destination apart:
it names the run's host and process, is refreshed while the run goes on, and expires 10 minutes
after the run stopped refreshing it. A run checks that it still holds the lock before each file
it makes visible and before the state; one that lost it (paused past the expiry while another run
took over) stops with "lost the lock" and leaves nothing under final names. A lock of a run on the
same host whose process no longer runs (killed) is taken over at once. --break-lock removes the
lock whoever holds it: use it for a lock left by a run on another machine that died, only when no
run is going (a run still going then stops before its next write, and the next run removes its
files).

A schema change since the last run stops the sync (exit 1, listing the added, removed and changed
columns) unless --allow-schema-change. --shard I/N exports only the files whose id hashes to I,
so N workers split a table; each keeps its own state (_deltashare_state.shard-I-of-N.json).

--format delta keeps a Delta table at DEST instead, which Spark, Databricks, DuckDB (delta_scan),
delta-rs, Polars and Trino read as one table at its latest version: the first run writes the
table (snappy Parquet data files and _delta_log/ version 0); each later run brings it to the
source's latest version in one atomic commit, transferring only the files added since (deletion
vectors applied, column-mapped names written as logical names) and removing the data files of
the source files removed since. Without shared history a run rewrites the table in one commit
(the output says so). The source version each commit reaches is in the log (a txn action), so a
rerun never applies a version twice; commits are created put-if-absent (two runs cannot both
write a version) and no lock object is used. A checkpoint is written every --checkpoint-interval
commits. --vacuum RETENTION deletes data files removed by commits older than RETENTION (at least
24h unless --force-vacuum). Small source files of one partition are coalesced into data files of
up to --target-file-size (a source file is never split). Data files of a killed run are removed
by a later run after a day.
With --allow-schema-change an added nullable column is a new metaData in the same commit; any
other schema change rewrites the table.

DEST is a local directory or s3://bucket/prefix/, gs://bucket/prefix/, azblob://container/prefix/
(credentials from each cloud's standard environment).

Examples:
  deltashare sync -p me.share sales.emea.orders -o /data/orders --format parquet
  deltashare sync -p me.share sales.emea.orders -o s3://lake/orders/ --dry-run
  deltashare sync -p me.share sales.emea.orders -o s3://lake/orders/ --shard "$JOB_COMPLETION_INDEX/4"
  deltashare sync -p me.share sales.emea.orders -o s3://lake/tables/orders/ --format delta --vacuum 7d`,
		Flags: tableFlags(outputFlags(syncOutput,
			&cli.BoolFlag{Name: "allow-schema-change", Usage: "go on when the table's columns changed since the last run"},
			&cli.BoolFlag{Name: "dry-run", Usage: "say what would be exported (versions, files, estimated rows) without writing"},
			&cli.BoolFlag{Name: "break-lock", Usage: "remove the destination's lock whoever holds it (a run on another host that died); a run still going then stops before its next write"},
			&cli.Int64Flag{Name: "checkpoint-interval", Value: export.DefaultCheckpointInterval, Usage: "--format delta: write a checkpoint every N commits"},
			&cli.StringFlag{Name: "vacuum", DefaultText: "off", Usage: "--format delta: delete data files removed by commits older than RETENTION (e.g. 168h or 7d; at least 24h)"},
			&cli.BoolFlag{Name: "force-vacuum", Usage: "--format delta: allow a --vacuum retention below 24h (readers of older versions may fail)"},
			&cli.StringFlag{Name: "target-file-size", Value: "128MiB", Usage: "--format delta: coalesce small source files of a partition into data files of about SIZE (e.g. 64MiB; 0: one data file per source file)"},
		)...),
		Action: clientAction(parseSyncFlags, runSync),
	}
}

func (o syncOptions) embeddedProfile() string { return o.Profile }

// parseSyncFlags maps the flags and the argument of sync to options.
func parseSyncFlags(c *cli.Context) (o syncOptions, err error) {
	if o.Output, err = parseOutput(c, syncOutput); err != nil {
		return o, err
	}
	o.AllowSchemaChange, o.DryRun, o.BreakLock = c.Bool("allow-schema-change"), c.Bool("dry-run"), c.Bool("break-lock")
	delta := o.Output.Format.Format == export.FormatDelta
	for _, f := range []string{"checkpoint-interval", "vacuum", "force-vacuum", "target-file-size"} {
		if c.IsSet(f) && !delta {
			return o, usageError(fmt.Errorf("--%s applies to --format delta only", f))
		}
	}
	if o.Lake.CheckpointInterval = c.Int64("checkpoint-interval"); o.Lake.CheckpointInterval < 1 {
		return o, usageError(fmt.Errorf("--checkpoint-interval %d: give 1 or more commits", o.Lake.CheckpointInterval))
	}
	if v := c.String("vacuum"); v != "" {
		if o.Lake.Vacuum, err = parseRetention(v); err != nil {
			return o, usageError(fmt.Errorf("--vacuum %s: %w", v, err))
		}
	}
	o.Lake.ForceVacuum = c.Bool("force-vacuum")
	if delta {
		if o.Lake.TargetFileSize, err = parseSize(c.String("target-file-size")); err != nil {
			return o, usageError(fmt.Errorf("--target-file-size %s: %w", c.String("target-file-size"), err))
		}
		if o.Lake.TargetFileSize == 0 {
			o.Lake.TargetFileSize = -1 // one data file per source file
		}
	}
	if o.Lake.Vacuum > 0 && o.Lake.Vacuum < export.MinVacuumRetention && !o.Lake.ForceVacuum {
		return o, usageError(fmt.Errorf("--vacuum %s is below 24h: readers of older versions of the table, or a run in progress, may still need those files; give 24h or more, or add --force-vacuum", c.String("vacuum")))
	}
	o.Profile, o.Table, err = tableArgument(c, "sync")
	return o, err
}

// sizeUnits are the units parseSize accepts, longest first.
var sizeUnits = []struct {
	suffix string
	n      int64
}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"B", 1}}

// parseSize reads a size in bytes: a number with an optional unit (B, KB, MB, GB, KiB, MiB,
// GiB; case-insensitive).
func parseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range sizeUnits {
		if len(s) > len(u.suffix) && strings.EqualFold(s[len(s)-len(u.suffix):], u.suffix) {
			s, mult = strings.TrimSpace(s[:len(s)-len(u.suffix)]), u.n
			break
		}
	}
	n, err := strconv.ParseFloat(s, 64)
	if err != nil || n < 0 || n*float64(mult) > float64(1<<50) {
		return 0, errors.New("give a size such as 128MiB, 64MB or 0")
	}
	return int64(n * float64(mult)), nil
}

// parseRetention reads a retention: a Go duration (168h, 90m) or a number of days (7d).
func parseRetention(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseFloat(d, 64)
		if err != nil || n <= 0 {
			return 0, errors.New("give a positive duration such as 168h or 7d")
		}
		return time.Duration(n * float64(24*time.Hour)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, errors.New("give a positive duration such as 168h or 7d")
	}
	return d, nil
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

// runSync brings the destination up to date with the table and prints the result.
func runSync(ctx context.Context, cl *sharing.Client, o syncOptions, st *streams) error {
	sink, _, err := export.OpenSink(dirOutput(o.Output.Out))
	if err != nil {
		return usageError(err)
	}
	if closer, ok := sink.(io.Closer); ok {
		defer closer.Close()
	}
	opts := export.SyncOptions{Table: o.Table.String(), Endpoint: cl.Endpoint(), Format: o.Output.Format, Shard: o.Output.Shard,
		AllowSchemaChange: o.AllowSchemaChange, DryRun: o.DryRun, BreakLock: o.BreakLock, Lake: o.Lake}
	if !o.DryRun {
		opts.Progress = progressBar(st, o.Output.Quiet)
	}
	res, err := export.Sync(ctx, export.NewSharedTable(cl, o.Table, o.Output.Read), sink, opts)
	if err != nil {
		var sc *export.SchemaChangeError
		if errors.As(err, &sc) && o.Output.JSON {
			_ = writeJSON(st.Out, map[string]any{"table": refOf(o.Table), "error": "schema changed", "schemaChange": sc.Diff,
				"fromVersion": sc.FromVersion, "toVersion": sc.ToVersion})
		}
		return err
	}
	if o.Output.JSON {
		m, err := styled(res, &o.Table, nil)
		if err != nil {
			return err
		}
		return writeJSON(st.Out, m)
	}
	if !o.Output.Quiet {
		_, err = fmt.Fprintln(st.Out, res.Text())
	}
	return err
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

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

DEST is a local directory or s3://bucket/prefix/, gs://bucket/prefix/, azblob://container/prefix/
(credentials from each cloud's standard environment).

Examples:
  deltashare sync -p me.share sales.emea.orders -o /data/orders --format parquet
  deltashare sync -p me.share sales.emea.orders -o s3://lake/orders/ --dry-run
  deltashare sync -p me.share sales.emea.orders -o s3://lake/orders/ --shard "$JOB_COMPLETION_INDEX/4"`,
		Flags: tableFlags(outputFlags(syncOutput,
			&cli.BoolFlag{Name: "allow-schema-change", Usage: "go on when the table's columns changed since the last run"},
			&cli.BoolFlag{Name: "dry-run", Usage: "say what would be exported (versions, files, estimated rows) without writing"},
			&cli.BoolFlag{Name: "break-lock", Usage: "remove the destination's lock whoever holds it (a run on another host that died); a run still going then stops before its next write"},
		)...),
		Action: func(c *cli.Context) error {
			o, err := parseSyncFlags(c)
			if err != nil {
				return err
			}
			cl, err := clientFor(c, o.Profile)
			if err != nil {
				return err
			}
			return runSync(c.Context, cl, o, ioFrom(c))
		},
	}
}

// parseSyncFlags maps the flags and the argument of sync to options.
func parseSyncFlags(c *cli.Context) (o syncOptions, err error) {
	if o.Output, err = parseOutput(c, syncOutput); err != nil {
		return o, err
	}
	o.AllowSchemaChange, o.DryRun, o.BreakLock = c.Bool("allow-schema-change"), c.Bool("dry-run"), c.Bool("break-lock")
	o.Profile, o.Table, err = tableArgument(c, "sync")
	return o, err
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
		AllowSchemaChange: o.AllowSchemaChange, DryRun: o.DryRun, BreakLock: o.BreakLock}
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

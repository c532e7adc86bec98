package export

import (
	"context"
	"fmt"
	"io"

	"github.com/deltashare/deltashare/sharing"
	"github.com/deltashare/deltashare/sharing/delta"
	"github.com/deltashare/deltashare/sharing/protocol"
	"github.com/deltashare/deltashare/sharing/reader"
)

// SharedTable is a table of a Delta Sharing server, read through sharing/reader. It is the
// one place where a shared table is opened and exported: Export and ExportChanges for a one-off
// export, and, as a [SyncTable], the table that Sync follows.
type SharedTable struct {
	client *sharing.Client
	table  protocol.Table
	read   reader.ReadOptions
}

var _ SyncTable = (*SharedTable)(nil)

// NewSharedTable returns table t of the server of client c, read with read: its Shard filter
// applies to every read (Export, ExportChanges, and Sync's Snapshot, Changes and Plan). Export
// reads at read.Version or read.Timestamp (the latest version when both are unset);
// ExportChanges and Sync choose their versions themselves, so leave those unset for them.
func NewSharedTable(c *sharing.Client, t protocol.Table, read reader.ReadOptions) *SharedTable {
	return &SharedTable{client: c, table: t, read: read}
}

// Export reads the table and exports it to sink as opts says: see [Run]. A nil sink is opened
// from opts.Output with [OpenSink] (and closed at the end). The summary's TableVersion is the
// version read.
func (s *SharedTable) Export(ctx context.Context, sink Sink, opts Options) (*Summary, error) {
	return exportReader(ctx, sink, opts, func() (*reader.Reader, error) {
		return reader.Open(ctx, s.client, s.table, s.read)
	})
}

// ExportChanges reads the table's change data of req (with the columns _change_type,
// _commit_version and _commit_timestamp) and exports it like Export. The summary's TableVersion
// is the table version the server answered at.
func (s *SharedTable) ExportChanges(ctx context.Context, req protocol.ChangesRequest, sink Sink, opts Options) (*Summary, error) {
	return exportReader(ctx, sink, opts, func() (*reader.Reader, error) {
		return reader.OpenChanges(ctx, s.client, s.table, req, s.read)
	})
}

// exportReader opens a reader and runs the export from it.
func exportReader(ctx context.Context, sink Sink, opts Options, open func() (*reader.Reader, error)) (*Summary, error) {
	if sink == nil {
		s, name, err := OpenSink(opts.Output)
		if err != nil {
			return nil, err
		}
		if c, ok := s.(io.Closer); ok {
			defer c.Close()
		}
		sink, opts.Output = s, name
	}
	r, err := open()
	if err != nil {
		return nil, err
	}
	defer r.Release()
	sum, err := Run(ctx, r, sink, opts)
	if sum != nil {
		sum.TableVersion = r.Version()
	}
	return sum, err
}

// Info returns the table's latest version, its columns there, whether it has a change data
// feed and its Delta table id.
func (s *SharedTable) Info(ctx context.Context) (TableInfo, error) {
	md, v, cols, err := s.latest(ctx)
	if err != nil {
		return TableInfo{}, err
	}
	return TableInfo{Version: v, Columns: cols, ChangeDataFeed: md.ChangeDataFeedEnabled(), ID: md.ID}, nil
}

// latest returns the table's metadata at its latest version, that version and the table's
// top-level columns there.
func (s *SharedTable) latest(ctx context.Context) (*delta.Metadata, int64, []Column, error) {
	md, err := s.client.Metadata(ctx, s.table, protocol.MetadataOptions{})
	if err != nil {
		return nil, 0, nil, err
	}
	v := md.Version
	if v < 0 {
		if v, err = s.client.TableVersion(ctx, s.table, ""); err != nil {
			return nil, 0, nil, err
		}
	}
	cols, err := columnsOf(md.Metadata.SchemaString)
	if err != nil {
		return nil, 0, nil, fmt.Errorf("table %s: %w", s.table, err)
	}
	return &md.Metadata, v, cols, nil
}

// columnsOf returns the top-level columns of a Delta schema string.
func columnsOf(schema string) ([]Column, error) {
	st, err := delta.ParseSchema(schema)
	if err != nil {
		return nil, err
	}
	cols := make([]Column, len(st.Fields))
	for i, f := range st.Fields {
		cols[i] = Column{Name: f.Name, Type: f.Type.String(), Nullable: f.Nullable}
	}
	return cols, nil
}

// Snapshot opens the table at version.
func (s *SharedTable) Snapshot(ctx context.Context, version int64) (Source, error) {
	opts := s.read
	opts.Version, opts.Timestamp = &version, ""
	r, err := reader.Open(ctx, s.client, s.table, opts)
	if err != nil {
		return nil, err
	}
	return r, nil
}

// Changes opens the change data of versions from..to.
func (s *SharedTable) Changes(ctx context.Context, from, to int64) (Source, error) {
	r, err := reader.OpenChanges(ctx, s.client, s.table, protocol.ChangesRequest{StartingVersion: &from, EndingVersion: &to}, s.read)
	if err != nil {
		return nil, err
	}
	return r, nil
}

// Plan lists the files Snapshot or Changes would read (those of the shard) and estimates their
// rows from the files' statistics and deletion vectors.
func (s *SharedTable) Plan(ctx context.Context, kind RunKind, from, to int64) (ReadPlan, error) {
	var res *sharing.QueryResult
	var err error
	if kind == RunChanges {
		res, err = s.client.Changes(ctx, s.table, protocol.ChangesRequest{StartingVersion: &from, EndingVersion: &to})
	} else {
		res, err = s.client.Query(ctx, s.table, protocol.QueryRequest{Version: &to})
	}
	if err != nil {
		return ReadPlan{}, err
	}
	p := ReadPlan{}
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

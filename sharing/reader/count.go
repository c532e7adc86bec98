package reader

import (
	"context"
	"fmt"
	"strings"

	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/deltashare/deltashare/sharing"
	"github.com/deltashare/deltashare/sharing/delta"
	"github.com/deltashare/deltashare/sharing/protocol"
)

// CountOptions select what Count counts: the latest version, a version or a point in time,
// and the rows matching a filter.
type CountOptions struct {
	// Version or Timestamp (ISO 8601) selects an earlier table version; not both.
	Version   *int64
	Timestamp string
	// Where counts only the rows matching this filter (see ReadOptions.Where), exactly.
	Where string
	// Parallel and Allocator are those of the read when the rows must be scanned (see
	// ReadOptions).
	Parallel  int
	Allocator memory.Allocator
}

// RowCount is the exact number of rows of a table (or of those matching a filter).
type RowCount struct {
	Rows int64
	// Version is the table version counted (-1 when the server did not say).
	Version int64
	// FromStatistics says the count is the sum of the files' record counts (numRecords of their
	// statistics): no file was read. Otherwise Scanned files were read.
	FromStatistics bool
	// Files is the number of files the query returned; Scanned the number read.
	Files   int
	Scanned int
}

// Count counts the rows of table t exactly. Without a filter, when every file's statistics
// give its record count and no deletion vector hides rows of it, the count is their sum.
// Otherwise the files are read, as few columns as can be (a partition column's values come
// from the query, not the files; else the filter's columns; else the narrowest column), and
// the rows left after deletion vectors and the exact filter are counted.
func Count(ctx context.Context, c *sharing.Client, t protocol.Table, opts CountOptions) (*RowCount, error) {
	if opts.Where == "" {
		list, err := c.Query(ctx, t, protocol.QueryRequest{Version: opts.Version, Timestamp: opts.Timestamp})
		if err != nil {
			return nil, err
		}
		if n, ok := countFromStats(list.Files); ok {
			return &RowCount{Rows: n, Version: list.Version, FromStatistics: true, Files: len(list.Files)}, nil
		}
	}
	md, err := c.Metadata(ctx, t, protocol.MetadataOptions{Version: opts.Version, Timestamp: opts.Timestamp})
	if err != nil {
		return nil, err
	}
	col, err := countColumn(t, &md.Metadata, opts.Where)
	if err != nil {
		return nil, err
	}
	r, err := Open(ctx, c, t, ReadOptions{Version: opts.Version, Timestamp: opts.Timestamp, Where: opts.Where,
		Columns: []string{col}, Parallel: opts.Parallel, Allocator: opts.Allocator})
	if err != nil {
		return nil, err
	}
	defer r.Release()
	var n int64
	for r.Next() {
		n += r.Record().NumRows()
	}
	if err := r.Err(); err != nil {
		return nil, err
	}
	return &RowCount{Rows: n, Version: r.Version(), Files: r.FileCount(), Scanned: r.FileCount()}, nil
}

// countFromStats sums the record counts of files; ok is false when a file has none or has a
// deletion vector.
func countFromStats(files []protocol.File) (n int64, ok bool) {
	for _, f := range files {
		if f.DeletionVector != nil {
			return 0, false
		}
		k, ok := delta.NumRecords(f.Stats)
		if !ok {
			return 0, false
		}
		n += k
	}
	return n, true
}

// countColumn picks the column a count reads: the first partition column (read from no file),
// else the first column of the filter (read anyway), else the narrowest column.
func countColumn(t protocol.Table, m *delta.Metadata, where string) (string, error) {
	st, err := m.Schema()
	if err != nil {
		return "", fmt.Errorf("sharing: table %s: %w", t, err)
	}
	if len(st.Fields) == 0 {
		return "", fmt.Errorf("sharing: table %s has no columns", t)
	}
	for _, p := range m.PartitionColumns {
		for _, f := range st.Fields {
			if strings.EqualFold(f.Name, p) {
				return f.Name, nil
			}
		}
	}
	if where != "" {
		e, err := bindWhere(where, st)
		if err != nil {
			return "", err
		}
		for _, name := range e.Columns() {
			for _, f := range st.Fields {
				if strings.EqualFold(f.Name, name) || strings.HasPrefix(strings.ToLower(name), strings.ToLower(f.Name)+".") {
					return f.Name, nil
				}
			}
		}
	}
	best := st.Fields[0]
	for _, f := range st.Fields[1:] {
		if typeWidth(f.Type) < typeWidth(best.Type) {
			best = f
		}
	}
	return best.Name, nil
}

// typeWidth ranks types by the bytes a value takes to read: fixed widths first, then strings
// and binary, then nested types.
func typeWidth(t delta.DataType) int {
	switch t := t.(type) {
	case *delta.PrimitiveType:
		switch t.Name {
		case delta.TypeBoolean, delta.TypeByte, delta.TypeVoid:
			return 1
		case delta.TypeShort:
			return 2
		case delta.TypeInteger, delta.TypeFloat, delta.TypeDate:
			return 4
		case delta.TypeLong, delta.TypeDouble, delta.TypeTimestamp, delta.TypeTimestampNTZ:
			return 8
		case delta.TypeString, delta.TypeBinary:
			return 32
		}
	case *delta.DecimalType:
		return 16
	}
	return 64
}

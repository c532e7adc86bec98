package export

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/deltashare/deltashare/sharing/delta"
	"github.com/deltashare/deltashare/sharing/protocol"
	"github.com/deltashare/deltashare/sharing/reader"
)

var _ LakeTable = (*SharedTable)(nil)

// LakeInfo returns the table's latest version with its logical schema and partition columns.
func (s *SharedTable) LakeInfo(ctx context.Context) (LakeInfo, error) {
	md, v, cols, err := s.latest(ctx)
	if err != nil {
		return LakeInfo{}, err
	}
	schema, err := LogicalSchema(md.SchemaString)
	if err != nil {
		return LakeInfo{}, fmt.Errorf("table %s: %w", s.table, err)
	}
	return LakeInfo{Version: v, TableID: md.ID, Columns: cols, SchemaString: schema,
		PartitionColumns: append([]string{}, md.PartitionColumns...)}, nil
}

// FileChanges lists the add and remove files of versions from..to (a query with
// startingVersion and endingVersion).
func (s *SharedTable) FileChanges(ctx context.Context, from, to int64) ([]FileChange, error) {
	res, err := s.client.Query(ctx, s.table, protocol.QueryRequest{StartingVersion: &from, EndingVersion: &to})
	if err != nil {
		if errors.Is(err, protocol.ErrBadRequest) || errors.Is(err, protocol.ErrForbidden) {
			return nil, fmt.Errorf("%w (%s asked for the changes of versions %d to %d: %v)", ErrNoHistory, s.table, from, to, err)
		}
		return nil, err
	}
	out := make([]FileChange, 0, len(res.Files))
	for _, f := range res.Files {
		if f.Kind != protocol.FileAdd && f.Kind != protocol.FileRemove {
			continue
		}
		if f.Version == nil {
			return nil, fmt.Errorf("table %s: the server's change listing gives file %s without its version", s.table, f.ID)
		}
		out = append(out, FileChange{Version: *f.Version, Remove: f.Kind == protocol.FileRemove, ID: f.ID})
	}
	return out, nil
}

// FileIDs lists the ids of the files of the table at version (the file list of a query,
// nothing downloaded).
func (s *SharedTable) FileIDs(ctx context.Context, version int64) ([]string, error) {
	res, err := s.client.Query(ctx, s.table, protocol.QueryRequest{Version: &version})
	if errors.Is(err, protocol.ErrBadRequest) {
		if res, err = s.client.Query(ctx, s.table, protocol.QueryRequest{}); err == nil && res.Version >= 0 && res.Version != version {
			return nil, fmt.Errorf("%w: table %s moved from version %d to %d during the run", ErrTableMoved, s.table, version, res.Version)
		}
	}
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(res.Files))
	for i, f := range res.Files {
		ids[i] = f.ID
	}
	return ids, nil
}

// ReadFiles reads the files of the table at version that keep selects.
func (s *SharedTable) ReadFiles(ctx context.Context, version int64, keep func(id string) bool) (LakeSource, error) {
	opts := s.read
	opts.Version, opts.Timestamp, opts.Shard = &version, "", keep
	r, err := reader.Open(ctx, s.client, s.table, opts)
	if errors.Is(err, protocol.ErrBadRequest) {
		// A server that shares no history answers no query by version: read the latest one,
		// which must still be version.
		opts.Version = nil
		if r, err = reader.Open(ctx, s.client, s.table, opts); err == nil && r.Version() != version {
			got := r.Version()
			r.Release()
			return nil, fmt.Errorf("%w: table %s moved from version %d to %d during the run", ErrTableMoved, s.table, version, got)
		}
	}
	if err != nil {
		return nil, err
	}
	ls := &lakeReader{Reader: r, logical: map[string]string{}}
	md := r.Metadata().Metadata
	if st, err := md.Schema(); err == nil {
		mode := md.ColumnMappingMode()
		for _, f := range st.Fields {
			ls.logical[f.PhysicalName(mode)] = f.Name
		}
	}
	return ls, nil
}

// lakeReader is a table reader as a LakeSource.
type lakeReader struct {
	*reader.Reader
	logical map[string]string // physical -> logical column name
}

func (l *lakeReader) File() (string, delta.PartitionValues, int64) {
	f := l.CurrentFile()
	pv := make(delta.PartitionValues, len(f.PartitionValues))
	for k, v := range f.PartitionValues {
		name := k
		if n, ok := l.logical[k]; ok {
			name = n
		}
		pv[name] = v
	}
	return f.ID, pv, f.Size
}

func (l *lakeReader) FileIDs() []string {
	fs := l.Files()
	ids := make([]string, len(fs))
	for i, f := range fs {
		ids[i] = f.ID
	}
	return ids
}

// LogicalSchema returns a Delta schema string without what a table without column mapping or
// table features must not carry: field metadata of Delta itself ("delta.*": column mapping ids
// and physical names, generation expressions, identity columns, invariants) and Parquet field
// ids. Comments and other metadata stay.
func LogicalSchema(schema string) (string, error) {
	if _, err := delta.ParseSchema(schema); err != nil {
		return "", err
	}
	dec := json.NewDecoder(strings.NewReader(schema))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return "", err
	}
	stripMetadata(v)
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

func stripMetadata(v any) {
	switch t := v.(type) {
	case map[string]any:
		if md, ok := t["metadata"].(map[string]any); ok {
			for k := range md {
				if strings.HasPrefix(k, "delta.") || strings.HasPrefix(k, "parquet.field") {
					delete(md, k)
				}
			}
		}
		for k, x := range t {
			if k != "metadata" {
				stripMetadata(x)
			}
		}
	case []any:
		for _, x := range t {
			stripMetadata(x)
		}
	}
}

package reader

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/deltashare/deltashare/sharing"
	"github.com/deltashare/deltashare/sharing/delta"
	"github.com/deltashare/deltashare/sharing/predicate"
	"github.com/deltashare/deltashare/sharing/protocol"
)

// ListOptions select what ListFiles asks for: the latest version, a version or a point in
// time, a filter and a row count the server may use to return fewer files.
type ListOptions struct {
	// Version or Timestamp (ISO 8601) selects an earlier table version (time travel); not both.
	Version   *int64
	Timestamp string
	// Where is a filter in the filter language (see predicate.Parse), bound to the table's
	// schema and sent to the server as jsonPredicateHints. A server may ignore hints: the files
	// listed are those it returned, which may hold rows that do not match.
	Where string
	// LimitHint asks the server for just enough files for this many rows.
	LimitHint *int64
}

// FileInfo is one data file of a query's answer, without its pre-signed URL.
type FileInfo struct {
	ID   string
	Size int64
	// Rows is the record count of the file's statistics (deletion vectors not applied); nil
	// when the statistics do not give one.
	Rows *int64
	// PartitionValues are the file's partition values by column; never nil.
	PartitionValues map[string]string
	// Version is the table version that added the file, when the server says.
	Version *int64
	// URLExpires is when the file's pre-signed URL expires (zero: not given).
	URLExpires time.Time
	// DeletionVector is set when rows of the file are deleted by a deletion vector.
	DeletionVector bool
}

// FileList is what a query of a table returned, file by file.
type FileList struct {
	// Version is the table version the files belong to (-1 when the server did not say).
	Version int64
	Files   []FileInfo
}

// Totals adds the files up: how many, their size in bytes, and the rows their statistics
// count (a file without a record count adds none).
func (l *FileList) Totals() (files int, bytes, rows int64) {
	for _, f := range l.Files {
		bytes += f.Size
		if f.Rows != nil {
			rows += *f.Rows
		}
	}
	return len(l.Files), bytes, rows
}

// ListFiles queries table t and lists the data files the answer holds, without downloading
// any. A filter that does not parse or does not fit the table's schema is an error wrapping
// protocol.ErrInvalidRead.
func ListFiles(ctx context.Context, c *sharing.Client, t protocol.Table, opts ListOptions) (*FileList, error) {
	if opts.Version != nil && opts.Timestamp != "" {
		return nil, fmt.Errorf("%w: give a version or a timestamp, not both", protocol.ErrInvalidRead)
	}
	req := protocol.QueryRequest{Version: opts.Version, Timestamp: opts.Timestamp, LimitHint: opts.LimitHint}
	if opts.Where != "" {
		var err error
		if req.JSONPredicateHints, err = whereHints(ctx, c, t, opts.Where, opts.Version, opts.Timestamp); err != nil {
			return nil, err
		}
	}
	res, err := c.Query(ctx, t, req)
	if err != nil {
		return nil, err
	}
	l := &FileList{Version: res.Version, Files: make([]FileInfo, 0, len(res.Files))}
	for _, f := range res.Files {
		fi := FileInfo{ID: f.ID, Size: f.Size, PartitionValues: f.PartitionValues, Version: f.Version,
			URLExpires: f.Expiration(), DeletionVector: f.DeletionVector != nil}
		if fi.PartitionValues == nil {
			fi.PartitionValues = map[string]string{}
		}
		if n, ok := delta.NumRecords(f.Stats); ok {
			fi.Rows = &n
		}
		l.Files = append(l.Files, fi)
	}
	return l, nil
}

// whereHints binds a filter to the schema of table t (at version or timestamp, else the
// latest) and returns the jsonPredicateHints to send ("" when no part of it can be a hint).
func whereHints(ctx context.Context, c *sharing.Client, t protocol.Table, where string, version *int64, timestamp string) (string, error) {
	md, err := c.Metadata(ctx, t, protocol.MetadataOptions{Version: version, Timestamp: timestamp})
	if err != nil {
		return "", err
	}
	st, err := md.Metadata.Schema()
	if err != nil {
		return "", fmt.Errorf("sharing: table %s: %w", t, err)
	}
	bound, err := bindWhere(where, st)
	if err != nil {
		return "", err
	}
	h := predicate.Hints(bound)
	if h == nil {
		return "", nil
	}
	b, err := json.Marshal(h)
	if err != nil {
		return "", fmt.Errorf("sharing: encoding the filter as a predicate hint: %w", err)
	}
	return string(b), nil
}

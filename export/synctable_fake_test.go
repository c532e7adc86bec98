package export

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/apache/arrow/go/v17/parquet/file"
	"github.com/apache/arrow/go/v17/parquet/pqarrow"
	"github.com/stretchr/testify/require"
)

// This file holds fakeTable, an in-memory SyncTable for the tests of Sync, and helpers that
// read exported files back.

// fakeRow is one row of a fake table: column name -> value (int64 for long, int32 for integer,
// string for string). A missing column is null.
type fakeRow map[string]any

// fakeChange is one row of a commit's change data.
type fakeChange struct {
	Type string // insert, update_preimage, update_postimage or delete
	Row  fakeRow
}

// fakeCommit is one version of a fake table.
type fakeCommit struct {
	Columns []Column       // the schema from this version on; nil: unchanged (version 0 must set it)
	Files   [][]fakeChange // the commit's data files, each with its change rows
}

// fakeTable is an in-memory Delta table as Sync sees it. Its versions are commits[0..latest];
// later commits exist but are not published yet (publish brings them in). A snapshot is the
// live rows sorted by id in "files" of snapFileRows rows; the change data of a range is one file
// per data file of each commit. Files become records of at most recordRows rows.
type fakeTable struct {
	t   testing.TB
	mem *memory.CheckedAllocator

	mu      sync.Mutex
	commits []fakeCommit
	latest  int64
	cdf     bool
	id      string
	shard   Shard // rows whose id hashes to another shard are left out (as a sharded reader does)

	snapFileRows int // rows per snapshot file; 0 means 2
	recordRows   int // rows per record; 0 means a file is one record

	infoErr     error
	openErr     error // Snapshot and Changes fail with it
	planErr     error
	planNoStats bool // Plan reports unknown rows
	// readErr makes a source fail when it reaches file readErrFile (0-based), at its record
	// readErrRecord (0-based within the file).
	readErr                    error
	readErrFile, readErrRecord int
	// beforeRecord runs before a source yields each record (file index, record index in file).
	beforeRecord func(file, rec int)

	calls    []string // "info", "snapshot 3", "changes 2-3", "plan changes 2-3"
	opened   int
	released int
}

// commitTime is the commit timestamp of version v.
func commitTime(v int64) time.Time {
	return time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(v) * time.Hour)
}

// changeCols are the columns a change data feed adds.
var changeCols = []Column{{"_change_type", "string", false}, {"_commit_version", "long", false}, {"_commit_timestamp", "timestamp", false}}

// newFakeTable returns a table with commits, published up to latest, with change data feed
// cdf. The table's memory is checked at the end of the test: every record must be released.
func newFakeTable(t testing.TB, latest int64, cdf bool, commits ...fakeCommit) *fakeTable {
	ft := &fakeTable{t: t, mem: memory.NewCheckedAllocator(memory.NewGoAllocator()), commits: commits,
		latest: latest, cdf: cdf, id: "table-id-1", readErrFile: -1}
	t.Cleanup(func() { ft.mem.AssertSize(t, 0) })
	return ft
}

// peopleTable is the table most tests follow:
//
//	v0: insert 1..5 (two files)
//	v1: insert 6, 7
//	v2: update 2 (b -> B), delete 3
//	v3: insert 8; update 6 (f -> F) (two files)
//	v4: delete 1, insert 9
//	v5: insert 10
func peopleTable(t testing.TB, latest int64, cdf bool) *fakeTable {
	ins := func(id int64, name string) fakeChange { return fakeChange{"insert", fakeRow{"id": id, "name": name}} }
	upd := func(id int64, from, to string) []fakeChange {
		return []fakeChange{{"update_preimage", fakeRow{"id": id, "name": from}}, {"update_postimage", fakeRow{"id": id, "name": to}}}
	}
	del := func(id int64, name string) fakeChange { return fakeChange{"delete", fakeRow{"id": id, "name": name}} }
	return newFakeTable(t, latest, cdf,
		fakeCommit{Columns: peopleColumns(), Files: [][]fakeChange{{ins(1, "a"), ins(2, "b"), ins(3, "c")}, {ins(4, "d"), ins(5, "e")}}},
		fakeCommit{Files: [][]fakeChange{{ins(6, "f"), ins(7, "g")}}},
		fakeCommit{Files: [][]fakeChange{append(upd(2, "b", "B"), del(3, "c"))}},
		fakeCommit{Files: [][]fakeChange{{ins(8, "h")}, upd(6, "f", "F")}},
		fakeCommit{Files: [][]fakeChange{{del(1, "a"), ins(9, "i")}}},
		fakeCommit{Files: [][]fakeChange{{ins(10, "j")}}},
	)
}

func peopleColumns() []Column { return []Column{{"id", "long", false}, {"name", "string", true}} }

// publish makes versions up to v visible.
func (ft *fakeTable) publish(v int64) {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	require.Less(ft.t, v, int64(len(ft.commits)))
	ft.latest = v
}

func (ft *fakeTable) called() []string {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	return append([]string(nil), ft.calls...)
}

func (ft *fakeTable) resetCalls() {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	ft.calls = nil
}

func (ft *fakeTable) log(format string, args ...any) {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	ft.calls = append(ft.calls, fmt.Sprintf(format, args...))
}

// columnsAt returns the schema at version v.
func (ft *fakeTable) columnsAt(v int64) []Column {
	var cols []Column
	for i := int64(0); i <= v; i++ {
		if ft.commits[i].Columns != nil {
			cols = ft.commits[i].Columns
		}
	}
	return cols
}

func (ft *fakeTable) inShard(r fakeRow) bool { return ft.shard.Contains(fmt.Sprint(r["id"])) }

// snapshotRows returns the live rows at version v (of the table's shard), sorted by id.
func (ft *fakeTable) snapshotRows(v int64) []fakeRow {
	live := map[int64]fakeRow{}
	for i := int64(0); i <= v; i++ {
		for _, f := range ft.commits[i].Files {
			for _, c := range f {
				id := c.Row["id"].(int64)
				switch c.Type {
				case "insert", "update_postimage":
					live[id] = c.Row
				case "delete":
					delete(live, id)
				}
			}
		}
	}
	var out []fakeRow
	for _, r := range live {
		if ft.inShard(r) {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i]["id"].(int64) < out[j]["id"].(int64) })
	return out
}

// snapshotFiles splits the snapshot at v into files.
func (ft *fakeTable) snapshotFiles(v int64) [][]fakeRow {
	n := ft.snapFileRows
	if n <= 0 {
		n = 2
	}
	rows := ft.snapshotRows(v)
	var files [][]fakeRow
	for len(rows) > 0 {
		k := min(n, len(rows))
		files = append(files, rows[:k])
		rows = rows[k:]
	}
	return files
}

// changeFiles returns the change rows of versions from..to, one file per data file, with the
// change data columns.
func (ft *fakeTable) changeFiles(from, to int64) [][]fakeRow {
	var files [][]fakeRow
	for v := from; v <= to; v++ {
		for _, f := range ft.commits[v].Files {
			var rows []fakeRow
			for _, c := range f {
				if !ft.inShard(c.Row) {
					continue
				}
				r := fakeRow{"_change_type": c.Type, "_commit_version": v, "_commit_timestamp": commitTime(v)}
				for k, val := range c.Row {
					r[k] = val
				}
				rows = append(rows, r)
			}
			if len(rows) > 0 {
				files = append(files, rows)
			}
		}
	}
	return files
}

func (ft *fakeTable) Info(ctx context.Context) (TableInfo, error) {
	ft.log("info")
	ft.mu.Lock()
	defer ft.mu.Unlock()
	if ft.infoErr != nil {
		return TableInfo{}, ft.infoErr
	}
	return TableInfo{Version: ft.latest, Columns: ft.columnsAt(ft.latest), ChangeDataFeed: ft.cdf, ID: ft.id}, nil
}

func (ft *fakeTable) Snapshot(ctx context.Context, version int64) (Source, error) {
	ft.log("snapshot %d", version)
	ft.mu.Lock()
	defer ft.mu.Unlock()
	require.LessOrEqual(ft.t, version, ft.latest, "Sync asked for an unpublished version")
	if ft.openErr != nil {
		return nil, ft.openErr
	}
	return ft.newSource(ft.columnsAt(version), ft.snapshotFiles(version)), nil
}

func (ft *fakeTable) Changes(ctx context.Context, from, to int64) (Source, error) {
	ft.log("changes %d-%d", from, to)
	ft.mu.Lock()
	defer ft.mu.Unlock()
	require.LessOrEqual(ft.t, to, ft.latest, "Sync asked for an unpublished version")
	require.LessOrEqual(ft.t, from, to)
	if ft.openErr != nil {
		return nil, ft.openErr
	}
	return ft.newSource(append(append([]Column{}, ft.columnsAt(to)...), changeCols...), ft.changeFiles(from, to)), nil
}

func (ft *fakeTable) Plan(ctx context.Context, kind RunKind, from, to int64) (ReadPlan, error) {
	ft.log("plan %s %d-%d", kind, from, to)
	ft.mu.Lock()
	defer ft.mu.Unlock()
	if ft.planErr != nil {
		return ReadPlan{}, ft.planErr
	}
	var files [][]fakeRow
	if kind == RunChanges {
		files = ft.changeFiles(from, to)
	} else {
		require.Equal(ft.t, from, to)
		files = ft.snapshotFiles(to)
	}
	p := ReadPlan{Files: len(files)}
	for _, f := range files {
		p.Rows += int64(len(f))
	}
	p.Bytes = 1000 * int64(p.Files)
	if ft.planNoStats {
		p.Rows = -1
	}
	return p, nil
}

// arrowType maps the Delta type names the fake tables use.
func arrowType(typ string) arrow.DataType {
	switch typ {
	case "long":
		return arrow.PrimitiveTypes.Int64
	case "integer":
		return arrow.PrimitiveTypes.Int32
	case "string":
		return arrow.BinaryTypes.String
	case "timestamp":
		return &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}
	}
	panic("fake table: no arrow type for " + typ)
}

// newSource builds the records of files (the caller holds ft.mu).
func (ft *fakeTable) newSource(cols []Column, files [][]fakeRow) *fakeSource {
	fields := make([]arrow.Field, len(cols))
	for i, c := range cols {
		fields[i] = arrow.Field{Name: c.Name, Type: arrowType(c.Type), Nullable: c.Nullable}
	}
	s := &fakeSource{ft: ft, schema: arrow.NewSchema(fields, nil), i: -1, fileCount: len(files),
		failFile: ft.readErrFile, failRec: ft.readErrRecord, failErr: ft.readErr, hook: ft.beforeRecord}
	per := ft.recordRows
	for fi, rows := range files {
		n := per
		if n <= 0 {
			n = len(rows)
		}
		for k := 0; k < len(rows); k += n {
			s.recs = append(s.recs, buildRecord(ft.t, ft.mem, s.schema, rows[k:min(k+n, len(rows))]))
			s.files = append(s.files, fi)
			s.recInFile = append(s.recInFile, k/n)
		}
	}
	for _, r := range files {
		s.rows += int64(len(r))
	}
	ft.opened++
	return s
}

func buildRecord(t testing.TB, mem memory.Allocator, schema *arrow.Schema, rows []fakeRow) arrow.Record {
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	for _, r := range rows {
		for i, f := range schema.Fields() {
			v, ok := r[f.Name]
			if !ok || v == nil {
				b.Field(i).AppendNull()
				continue
			}
			switch fb := b.Field(i).(type) {
			case *array.Int64Builder:
				fb.Append(v.(int64))
			case *array.Int32Builder:
				fb.Append(v.(int32))
			case *array.StringBuilder:
				fb.Append(v.(string))
			case *array.TimestampBuilder:
				fb.Append(arrow.Timestamp(v.(time.Time).UnixMicro()))
			default:
				t.Fatalf("fake table: cannot build %T", fb)
			}
		}
	}
	return b.NewRecord()
}

// fakeSource yields a fake table's records, one input file after the other (FileBoundaries:
// Run writes one part per input file).
type fakeSource struct {
	ft        *fakeTable
	schema    *arrow.Schema
	recs      []arrow.Record
	files     []int // input file of each record
	recInFile []int
	fileCount int
	rows      int64
	i         int
	err       error
	failFile  int
	failRec   int
	failErr   error
	hook      func(file, rec int)
	released  bool
}

var (
	_ FileBoundaries = (*fakeSource)(nil)
	_ TotalsHint     = (*fakeSource)(nil)
)

func (s *fakeSource) Schema() *arrow.Schema { return s.schema }

func (s *fakeSource) Next() bool {
	if s.err != nil || s.i+1 >= len(s.recs) {
		return false
	}
	n := s.i + 1
	if s.failErr != nil && s.files[n] == s.failFile && s.recInFile[n] >= s.failRec {
		s.err = s.failErr
		return false
	}
	if s.hook != nil {
		s.hook(s.files[n], s.recInFile[n])
	}
	s.i = n
	return true
}

func (s *fakeSource) Record() arrow.Record        { return s.recs[s.i] }
func (s *fakeSource) Err() error                  { return s.err }
func (s *fakeSource) FileIndex() int              { return s.files[s.i] }
func (s *fakeSource) FileCount() int              { return s.fileCount }
func (s *fakeSource) Totals() (rows, bytes int64) { return s.rows, -1 }

func (s *fakeSource) Release() {
	if s.released {
		return
	}
	s.released = true
	for _, r := range s.recs {
		r.Release()
	}
	s.ft.mu.Lock()
	s.ft.released++
	s.ft.mu.Unlock()
}

// allReleased reports whether every source the table opened was released.
func (ft *fakeTable) allReleased() bool {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	return ft.opened == ft.released
}

// rowKeys renders rows as "id|name|note|_change_type|_commit_version" strings (empty for null or
// missing), sorted: what the exported files must hold.
func rowKeys(rows []map[string]string) []string {
	out := make([]string, 0, len(rows))
	for _, r := range rows {
		out = append(out, strings.Join([]string{r["id"], r["name"], r["note"], r["_change_type"], r["_commit_version"]}, "|"))
	}
	sort.Strings(out)
	return out
}

// fakeKeys renders the fake table's rows as rowKeys does.
func fakeKeys(files [][]fakeRow) []string {
	var rows []map[string]string
	for _, f := range files {
		for _, r := range f {
			m := map[string]string{}
			for k, v := range r {
				switch v := v.(type) {
				case time.Time:
					m[k] = v.UTC().Format(time.RFC3339)
				case nil:
				default:
					m[k] = fmt.Sprint(v)
				}
			}
			rows = append(rows, m)
		}
	}
	return rowKeys(rows)
}

// decodeRows reads an exported file back: one map per row, column -> text ("" for null).
// Timestamps are RFC 3339 text in UTC, whatever the format.
func decodeRows(t testing.TB, format string, data []byte) (cols []string, rows []map[string]string) {
	t.Helper()
	switch format {
	case "csv":
		recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
		require.NoError(t, err)
		require.NotEmpty(t, recs, "a csv file has a header")
		cols = recs[0]
		for _, rec := range recs[1:] {
			m := map[string]string{}
			for i, c := range cols {
				m[c] = normTime(rec[i])
			}
			rows = append(rows, m)
		}
	case "ndjson":
		for _, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
			if line == "" {
				continue
			}
			dec := json.NewDecoder(strings.NewReader(line))
			dec.UseNumber()
			tok, err := dec.Token()
			require.NoError(t, err, line)
			require.Equal(t, json.Delim('{'), tok, line)
			m := map[string]string{}
			var keys []string
			for dec.More() {
				k, err := dec.Token()
				require.NoError(t, err, line)
				var v any
				require.NoError(t, dec.Decode(&v), line)
				keys = append(keys, k.(string))
				if v != nil {
					m[k.(string)] = normTime(fmt.Sprint(v))
				}
			}
			if cols == nil {
				cols = keys
			}
			rows = append(rows, m)
		}
	case "parquet":
		rdr, err := file.NewParquetReader(bytes.NewReader(data))
		require.NoError(t, err)
		defer rdr.Close()
		fr, err := pqarrow.NewFileReader(rdr, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
		require.NoError(t, err)
		tbl, err := fr.ReadTable(context.Background())
		require.NoError(t, err)
		defer tbl.Release()
		for i := 0; i < int(tbl.NumRows()); i++ {
			rows = append(rows, map[string]string{})
		}
		for c := 0; c < int(tbl.NumCols()); c++ {
			col := tbl.Column(c)
			cols = append(cols, col.Name())
			i := 0
			for _, chunk := range col.Data().Chunks() {
				for k := 0; k < chunk.Len(); k, i = k+1, i+1 {
					if chunk.IsNull(k) {
						continue
					}
					var s string
					switch a := chunk.(type) {
					case *array.Int64:
						s = strconv.FormatInt(a.Value(k), 10)
					case *array.Int32:
						s = strconv.FormatInt(int64(a.Value(k)), 10)
					case *array.String:
						s = a.Value(k)
					case *array.Timestamp:
						unit := a.DataType().(*arrow.TimestampType).Unit
						s = a.Value(k).ToTime(unit).UTC().Format(time.RFC3339)
					default:
						t.Fatalf("parquet column %s: unexpected %T", col.Name(), chunk)
					}
					rows[i][col.Name()] = s
				}
			}
		}
	default:
		t.Fatalf("no decoder for %s", format)
	}
	return cols, rows
}

// normTime turns timestamp text ("2026-03-01 02:00:00Z", "2026-03-01T02:00:00.000000Z", ...)
// into RFC 3339 in UTC; other text is returned as it is.
func normTime(s string) string {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999"} {
		if ts, err := time.Parse(layout, s); err == nil {
			return ts.UTC().Format(time.RFC3339)
		}
	}
	return s
}

// errInjected is the failure the fakes inject.
var errInjected = errors.New("injected failure")

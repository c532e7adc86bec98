package export_test

// Helpers of the end-to-end tests on the shared real Delta tables (e2e_shared_test.go). They
// compute what a correct export contains WITHOUT the project's readers: the _delta_log JSON is
// replayed here, data files are read with pqarrow, deletion vectors are decoded here (Z85 and
// the portable RoaringBitmapArray layout), partition values are parsed here. Only the server
// under test, SharedTable (the export) and formats.New (to spell expected values in CSV/NDJSON)
// are shared with the code under test.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2/roaring64"
	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/compute"
	"github.com/apache/arrow/go/v17/arrow/decimal128"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/apache/arrow/go/v17/parquet"
	"github.com/apache/arrow/go/v17/parquet/file"
	"github.com/apache/arrow/go/v17/parquet/pqarrow"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deltashare/deltashare/export"
	"github.com/deltashare/deltashare/formats"
	"github.com/deltashare/deltashare/internal/arrowtest"
	"github.com/deltashare/deltashare/internal/exporttest"
	"github.com/deltashare/deltashare/sharing"
	"github.com/deltashare/deltashare/sharing/reader"
)

// serveTables serves tables (table name -> table root) as e2e.s.<name> on loopback with our
// server and returns a client of it.
func serveTables(t *testing.T, tables map[string]string, o serverOptions) *sharing.Client {
	t.Helper()
	named := map[string]string{}
	for n, d := range tables {
		named["e2e.s."+n] = d
	}
	return startServer(t, named, o).Client
}

// e2eTable is table e2e.s.<name> of the server of cl, read with read.
func e2eTable(t testing.TB, cl *sharing.Client, name string, read reader.ReadOptions) *export.SharedTable {
	return shared(t, cl, "e2e.s."+name, read)
}

// ---------------------------------------------------------------------------------------------
// The Delta log, replayed independently.

type dvDesc struct {
	StorageType    string `json:"storageType"`
	PathOrInlineDv string `json:"pathOrInlineDv"`
	Offset         *int64 `json:"offset"`
	SizeInBytes    int64  `json:"sizeInBytes"`
	Cardinality    int64  `json:"cardinality"`
}

func (d *dvDesc) id() string {
	if d == nil {
		return ""
	}
	off := int64(-1)
	if d.Offset != nil {
		off = *d.Offset
	}
	return fmt.Sprintf("%s%s@%d", d.StorageType, d.PathOrInlineDv, off)
}

type fileAction struct {
	Path            string             `json:"path"`
	PartitionValues map[string]*string `json:"partitionValues"`
	Size            int64              `json:"size"`
	Stats           string             `json:"stats"`
	DataChange      bool               `json:"dataChange"`
	DeletionVector  *dvDesc            `json:"deletionVector"`
}

func (f fileAction) key() string { return f.Path + "|" + f.DeletionVector.id() }

// numRecords is stats.numRecords, or -1.
func (f fileAction) numRecords() int64 {
	var st struct {
		NumRecords *int64 `json:"numRecords"`
	}
	if f.Stats == "" || json.Unmarshal([]byte(f.Stats), &st) != nil || st.NumRecords == nil {
		return -1
	}
	return *st.NumRecords
}

type metaData struct {
	SchemaString     string            `json:"schemaString"`
	PartitionColumns []string          `json:"partitionColumns"`
	Configuration    map[string]string `json:"configuration"`
}

type logLine struct {
	Add        *fileAction `json:"add"`
	Remove     *fileAction `json:"remove"`
	CDC        *fileAction `json:"cdc"`
	MetaData   *metaData   `json:"metaData"`
	CommitInfo *struct {
		Timestamp         *int64 `json:"timestamp"`
		InCommitTimestamp *int64 `json:"inCommitTimestamp"`
	} `json:"commitInfo"`
}

// commit is one JSON commit of a table.
type commit struct {
	Version              int64
	Adds, Removes, CDCs  []fileAction
	Meta                 *metaData
	TimestampMs          int64 // inCommitTimestamp, else commitInfo.timestamp, else the file's mtime
	HasCommitInfoTimeRaw bool
}

var commitRE = regexp.MustCompile(`^(\d{20})\.json$`)

// readCommits reads every JSON commit of dir, in version order; they must start at 0 and be
// contiguous (true of every table replayed here).
func readCommits(t testing.TB, dir string) []commit {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(dir, "_delta_log"))
	require.NoError(t, err)
	var out []commit
	for _, e := range ents {
		m := commitRE.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		v, _ := strconv.ParseInt(m[1], 10, 64)
		require.Equal(t, int64(len(out)), v, "%s: the JSON commits must start at 0 and be contiguous", dir)
		p := filepath.Join(dir, "_delta_log", e.Name())
		data, err := os.ReadFile(p)
		require.NoError(t, err)
		fi, err := os.Stat(p)
		require.NoError(t, err)
		c := commit{Version: v, TimestampMs: fi.ModTime().UnixMilli()}
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(nil, 64<<20)
		for sc.Scan() {
			if len(bytes.TrimSpace(sc.Bytes())) == 0 {
				continue
			}
			var l logLine
			require.NoError(t, json.Unmarshal(sc.Bytes(), &l), "%s", p)
			switch {
			case l.Add != nil:
				c.Adds = append(c.Adds, *l.Add)
			case l.Remove != nil:
				c.Removes = append(c.Removes, *l.Remove)
			case l.CDC != nil:
				c.CDCs = append(c.CDCs, *l.CDC)
			case l.MetaData != nil:
				c.Meta = l.MetaData
			case l.CommitInfo != nil:
				if l.CommitInfo.InCommitTimestamp != nil {
					c.TimestampMs, c.HasCommitInfoTimeRaw = *l.CommitInfo.InCommitTimestamp, true
				} else if l.CommitInfo.Timestamp != nil {
					c.TimestampMs, c.HasCommitInfoTimeRaw = *l.CommitInfo.Timestamp, true
				}
			}
		}
		require.NoError(t, sc.Err())
		out = append(out, c)
	}
	require.NotEmpty(t, out, "%s has no JSON commits", dir)
	return out
}

// snapshot is the table state at a version: its metadata and live files (path order).
type snapshot struct {
	Meta  metaData
	Files []fileAction
}

// snapshotAt replays commits 0..version: a file is identified by its path and deletion vector,
// so a remove+add pair that changes a file's deletion vector replaces it.
func snapshotAt(t testing.TB, commits []commit, version int64) snapshot {
	t.Helper()
	require.Less(t, version, int64(len(commits)))
	var s snapshot
	live := map[string]fileAction{}
	for _, c := range commits[:version+1] {
		if c.Meta != nil {
			s.Meta = *c.Meta
		}
		for _, r := range c.Removes {
			delete(live, r.key())
		}
		for _, a := range c.Adds {
			live[a.key()] = a
		}
	}
	for _, f := range live {
		s.Files = append(s.Files, f)
	}
	slices.SortFunc(s.Files, func(a, b fileAction) int { return strings.Compare(a.key(), b.key()) })
	return s
}

// liveCount is numRecords minus deletion vector cardinality over the live files; a file
// without numRecords in its stats counts the rows in its Parquet footer.
func (s snapshot) liveCount(t testing.TB, tableDir string) int64 {
	var n int64
	for _, f := range s.Files {
		r := f.numRecords()
		if r < 0 {
			p, err := url.PathUnescape(f.Path)
			require.NoError(t, err)
			r = exporttest.ParquetRows(t, filepath.Join(tableDir, filepath.FromSlash(p)))
		}
		n += r
		if f.DeletionVector != nil {
			n -= f.DeletionVector.Cardinality
		}
	}
	return n
}

// schemaField is a top-level field of a Delta schema string.
type schemaField struct {
	Name     string          `json:"name"`
	Type     json.RawMessage `json:"type"`
	Metadata map[string]any  `json:"metadata"`
}

func (m metaData) fields(t testing.TB) []schemaField {
	var st struct {
		Fields []schemaField `json:"fields"`
	}
	require.NoError(t, json.Unmarshal([]byte(m.SchemaString), &st))
	return st.Fields
}

// physicalName is the name of the field in the data files (column mapping name or id mode).
func (m metaData) physicalName(f schemaField) string {
	if mode := m.Configuration["delta.columnMapping.mode"]; mode == "name" || mode == "id" {
		if p, ok := f.Metadata["delta.columnMapping.physicalName"].(string); ok {
			return p
		}
	}
	return f.Name
}

// ---------------------------------------------------------------------------------------------
// Deletion vectors, decoded independently.

const z85Alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#"

// z85 decodes Z85 text. A block's value is computed in uint32 and so wraps, as in Delta's
// decoder (Delta pads inline vectors with characters whose block value overflows).
func z85(t testing.TB, s string) []byte {
	t.Helper()
	require.Zero(t, len(s)%5, "Z85 text length")
	var out []byte
	for i := 0; i < len(s); i += 5 {
		var v uint32
		for j := range 5 {
			d := strings.IndexByte(z85Alphabet, s[i+j])
			require.GreaterOrEqual(t, d, 0, "Z85 character %q", s[i+j])
			v = v*85 + uint32(d)
		}
		out = binary.BigEndian.AppendUint32(out, v)
	}
	return out
}

// deletedRows returns the row indexes a deletion vector deletes (nil for none).
func deletedRows(t testing.TB, tableDir string, d *dvDesc) map[int64]bool {
	t.Helper()
	if d == nil {
		return nil
	}
	var blob []byte
	switch d.StorageType {
	case "i":
		blob = z85(t, d.PathOrInlineDv)[:d.SizeInBytes]
	case "u", "p":
		var p string
		if d.StorageType == "u" {
			s := d.PathOrInlineDv
			require.GreaterOrEqual(t, len(s), 20)
			u := z85(t, s[len(s)-20:])
			h := hex.EncodeToString(u)
			name := fmt.Sprintf("deletion_vector_%s-%s-%s-%s-%s.bin", h[0:8], h[8:12], h[12:16], h[16:20], h[20:32])
			p = filepath.Join(tableDir, s[:len(s)-20], name)
		} else {
			u, err := url.Parse(d.PathOrInlineDv)
			require.NoError(t, err)
			p = u.Path
		}
		data, err := os.ReadFile(p)
		require.NoError(t, err)
		off := int64(1) // after the format version byte
		if d.Offset != nil {
			off = *d.Offset
		}
		size := int64(binary.BigEndian.Uint32(data[off:]))
		require.Equal(t, d.SizeInBytes, size, "deletion vector size in %s", p)
		blob = data[off+4 : off+4+size]
	default:
		t.Fatalf("unknown deletion vector storage type %q", d.StorageType)
	}
	require.Equal(t, uint32(1681511377), binary.LittleEndian.Uint32(blob), "portable RoaringBitmapArray magic")
	bm := roaring64.New()
	_, err := bm.ReadFrom(bytes.NewReader(blob[4:]))
	require.NoError(t, err)
	require.Equal(t, uint64(d.Cardinality), bm.GetCardinality(), "deletion vector cardinality")
	out := map[int64]bool{}
	it := bm.Iterator()
	for it.HasNext() {
		out[int64(it.Next())] = true
	}
	return out
}

// ---------------------------------------------------------------------------------------------
// Parquet files and Arrow records.

// readParquet reads a whole Parquet file as one record (chunks concatenated).
func readParquet(t testing.TB, path string) arrow.Record {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	pf, err := file.NewParquetReader(f)
	require.NoError(t, err)
	defer pf.Close()
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: 1 << 16}, memory.DefaultAllocator)
	require.NoError(t, err)
	tbl, err := fr.ReadTable(context.Background())
	require.NoError(t, err)
	defer tbl.Release()
	cols := arrowtest.Columns(t, tbl, memory.DefaultAllocator)
	fields := slices.Clone(tbl.Schema().Fields())
	// pqarrow reads INT96 timestamps as nanoseconds, which overflow outside 1677-2262 (the
	// edge-timestamp tables hold 9999-12-31): top-level INT96 columns are decoded here from the
	// raw values (Julian day, nanoseconds of the day) into microseconds, as Delta readers do.
	sch := pf.MetaData().Schema
	for i := range fields {
		leaf := sch.ColumnIndexByName(fields[i].Name)
		if leaf < 0 || sch.Column(leaf).PhysicalType() != parquet.Types.Int96 {
			continue
		}
		b := array.NewTimestampBuilder(memory.DefaultAllocator, &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"})
		for rg := range pf.NumRowGroups() {
			cr, err := pf.RowGroup(rg).Column(leaf)
			require.NoError(t, err)
			r := cr.(*file.Int96ColumnChunkReader)
			n := pf.MetaData().RowGroup(rg).NumRows()
			vals := make([]parquet.Int96, n)
			defs := make([]int16, n)
			_, read, err := r.ReadBatch(n, vals, defs, nil)
			require.NoError(t, err)
			k := 0
			for j := range n {
				if sch.Column(leaf).MaxDefinitionLevel() > 0 && defs[j] == 0 {
					b.AppendNull()
					continue
				}
				require.Less(t, k, read)
				v := vals[k][:]
				k++
				nanos := int64(binary.LittleEndian.Uint64(v[:8]))
				day := int64(binary.LittleEndian.Uint32(v[8:]))
				b.Append(arrow.Timestamp((day-2440588)*86400_000_000 + nanos/1000))
			}
		}
		cols[i].Release()
		cols[i] = b.NewArray()
		b.Release()
		fields[i] = arrow.Field{Name: fields[i].Name, Type: cols[i].DataType(), Nullable: true, Metadata: fields[i].Metadata}
	}
	md := tbl.Schema().Metadata()
	rec := array.NewRecord(arrow.NewSchema(fields, &md), cols, tbl.NumRows())
	for _, c := range cols {
		c.Release()
	}
	return rec
}

// readParquetDir reads every *.parquet file under dir (a file path works too).
func readParquetDir(t testing.TB, dir string) []arrow.Record {
	t.Helper()
	var recs []arrow.Record
	require.NoError(t, filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() && strings.HasSuffix(p, ".parquet") {
			recs = append(recs, readParquet(t, p))
		}
		return err
	}))
	return recs
}

// colByName finds a column case-insensitively, or, for column mapping id mode, by field id.
func colByName(rec arrow.Record, name string, fieldID string) (arrow.Array, bool) {
	for i, f := range rec.Schema().Fields() {
		if strings.EqualFold(f.Name, name) {
			return rec.Column(i), true
		}
	}
	if fieldID != "" {
		for i, f := range rec.Schema().Fields() {
			if id, ok := f.Metadata.GetValue("PARQUET:field_id"); ok && id == fieldID {
				return rec.Column(i), true
			}
		}
	}
	return nil, false
}

// conform builds a record of schema out from n rows: get returns each field's values (any
// type). Arrays whose type differs from the output type are cast with arrow's safe cast (a
// lossy cast fails the test): this is the one normalisation of expected values, so that e.g. a
// DAT file's timestamp[ns] or int32 column meets our timestamp[us] or int64 column. keep, when
// not nil, selects the rows (deletion vectors).
func conform(t testing.TB, out *arrow.Schema, n int, get func(f arrow.Field) arrow.Array, keep []bool) arrow.Record {
	t.Helper()
	cols := make([]arrow.Array, out.NumFields())
	for i, f := range out.Fields() {
		a := get(f)
		require.Equal(t, n, a.Len(), "column %s", f.Name)
		if !arrow.TypeEqual(a.DataType(), f.Type) {
			t.Logf("normalised expected column %s: %s cast to %s", f.Name, a.DataType(), f.Type)
			c, err := compute.CastArray(context.Background(), a, compute.SafeCastOptions(f.Type))
			require.NoError(t, err, "cast column %s from %s to %s", f.Name, a.DataType(), f.Type)
			a.Release()
			a = c
		}
		cols[i] = a
	}
	rec := array.NewRecord(out, cols, int64(n))
	for _, c := range cols {
		c.Release()
	}
	if keep == nil {
		return rec
	}
	b := array.NewBooleanBuilder(memory.DefaultAllocator)
	b.AppendValues(keep, nil)
	mask := b.NewBooleanArray()
	defer mask.Release()
	defer rec.Release()
	res, err := compute.FilterRecordBatch(context.Background(), rec, mask, compute.DefaultFilterOptions())
	require.NoError(t, err)
	return res
}

// constArray is n copies of a Delta partition value (raw text, nil for null) as type dt.
func constArray(t testing.TB, dt arrow.DataType, raw *string, n int) arrow.Array {
	t.Helper()
	b := array.NewBuilder(memory.DefaultAllocator, dt)
	defer b.Release()
	for range n {
		if raw == nil {
			b.AppendNull()
			continue
		}
		s := *raw
		switch b := b.(type) {
		case *array.StringBuilder:
			b.Append(s)
		case *array.BinaryBuilder:
			b.Append([]byte(s))
		case *array.BooleanBuilder:
			v, err := strconv.ParseBool(s)
			require.NoError(t, err)
			b.Append(v)
		case *array.Int8Builder:
			b.Append(int8(parseInt(t, s, 8)))
		case *array.Int16Builder:
			b.Append(int16(parseInt(t, s, 16)))
		case *array.Int32Builder:
			b.Append(int32(parseInt(t, s, 32)))
		case *array.Int64Builder:
			b.Append(parseInt(t, s, 64))
		case *array.Float32Builder:
			b.Append(float32(parseFloat(t, s, 32)))
		case *array.Float64Builder:
			b.Append(parseFloat(t, s, 64))
		case *array.Date32Builder:
			d, err := time.Parse("2006-01-02", s)
			require.NoError(t, err)
			b.Append(arrow.Date32(d.Unix() / 86400))
		case *array.TimestampBuilder:
			// Delta writes "2021-01-01 10:00:00[.ffffff]" (UTC for timestamp, wall clock for
			// timestamp_ntz) or ISO 8601 with a zone.
			var ts time.Time
			var err error
			for _, layout := range []string{"2006-01-02 15:04:05.999999999", time.RFC3339Nano, "2006-01-02T15:04:05.999999999"} {
				if ts, err = time.Parse(layout, s); err == nil {
					break
				}
			}
			require.NoError(t, err, "timestamp partition value %q", s)
			unit := dt.(*arrow.TimestampType).Unit
			b.Append(arrow.Timestamp(ts.UnixNano() / int64(unit.Multiplier())))
		case *array.Decimal128Builder:
			dt := dt.(*arrow.Decimal128Type)
			v, err := decimal128.FromString(s, dt.Precision, dt.Scale)
			require.NoError(t, err)
			b.Append(v)
		default:
			t.Fatalf("partition column of type %s is not handled by the test", dt)
		}
	}
	return b.NewArray()
}

// parseInt and parseFloat parse a partition value of bits bits.
func parseInt(t testing.TB, s string, bits int) int64 {
	t.Helper()
	v, err := strconv.ParseInt(s, 10, bits)
	require.NoError(t, err, "integer partition value %q", s)
	return v
}

func parseFloat(t testing.TB, s string, bits int) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(s, bits)
	require.NoError(t, err, "floating point partition value %q", s)
	return v
}

// fileRecord is one data file of a table as a record of schema out: data columns found by their
// physical name, partition columns from the action's partitionValues, extra constant columns
// from consts (name -> array builder), deletion vector rows removed.
func fileRecord(t testing.TB, tableDir string, md metaData, fa fileAction, out *arrow.Schema, consts map[string]func(n int) arrow.Array) arrow.Record {
	t.Helper()
	p, err := url.PathUnescape(fa.Path)
	require.NoError(t, err)
	data := readParquet(t, filepath.Join(tableDir, filepath.FromSlash(p)))
	defer data.Release()
	n := int(data.NumRows())
	fields := md.fields(t)
	get := func(f arrow.Field) arrow.Array {
		if c, ok := consts[f.Name]; ok {
			return c(n)
		}
		for _, pc := range md.PartitionColumns {
			if strings.EqualFold(pc, f.Name) {
				// With column mapping, partitionValues are keyed by the physical name.
				key := pc
				for _, sf := range fields {
					if strings.EqualFold(sf.Name, pc) {
						key = md.physicalName(sf)
					}
				}
				var raw *string
				for k, v := range fa.PartitionValues {
					if strings.EqualFold(k, key) {
						raw = v
					}
				}
				return constArray(t, f.Type, raw, n)
			}
		}
		for _, sf := range fields {
			if !strings.EqualFold(sf.Name, f.Name) {
				continue
			}
			id := ""
			if md.Configuration["delta.columnMapping.mode"] == "id" {
				if v, ok := sf.Metadata["delta.columnMapping.id"].(float64); ok {
					id = strconv.FormatInt(int64(v), 10)
				}
			}
			if c, ok := colByName(data, md.physicalName(sf), id); ok {
				c.Retain()
				return c
			}
			// A column added after the file was written reads as nulls.
			return array.MakeArrayOfNull(memory.DefaultAllocator, f.Type, n)
		}
		if c, ok := colByName(data, f.Name, ""); ok { // e.g. _change_type in cdc files
			c.Retain()
			return c
		}
		t.Fatalf("output column %s is neither in the schema nor in %s", f.Name, fa.Path)
		return nil
	}
	var keep []bool
	if del := deletedRows(t, tableDir, fa.DeletionVector); del != nil {
		keep = make([]bool, n)
		for i := range keep {
			keep[i] = !del[int64(i)]
		}
	}
	return conform(t, out, n, get, keep)
}

// snapshotRecords is the table at version, independently read, as records of schema out.
func snapshotRecords(t testing.TB, tableDir string, commits []commit, version int64, out *arrow.Schema) []arrow.Record {
	t.Helper()
	s := snapshotAt(t, commits, version)
	var recs []arrow.Record
	for _, f := range s.Files {
		recs = append(recs, fileRecord(t, tableDir, s.Meta, f, out, nil))
	}
	return recs
}

func releaseAll(recs []arrow.Record) {
	for _, r := range recs {
		r.Release()
	}
}

// ---------------------------------------------------------------------------------------------
// Canonical rendering and comparisons.

// canon renders one value for value comparisons, independent of the Arrow type's width or
// unit: integers in decimal; floats with the shortest text at their precision; timestamps as
// microseconds since the epoch (an instant and a wall clock alike; zones are checked on the
// schema), with a nanosecond remainder when there is one; dates as YYYY-MM-DD; decimals exactly
// at their scale; binary in hex; strings quoted; structs as {name=value} with names
// lower-cased; lists in order; maps sorted by entry.
func canon(a arrow.Array, i int) string { return arrowtest.Cell(a, i, timeCanon) }

// timeCanon renders timestamps as "ts:" microseconds since the epoch (with a nanosecond
// remainder) and dates as YYYY-MM-DD.
func timeCanon(a arrow.Array, i int) (string, bool) {
	switch v := a.(type) {
	case *array.Timestamp:
		x := int64(v.Value(i))
		switch v.DataType().(*arrow.TimestampType).Unit {
		case arrow.Second:
			return "ts:" + strconv.FormatInt(x*1e6, 10), true
		case arrow.Millisecond:
			return "ts:" + strconv.FormatInt(x*1e3, 10), true
		case arrow.Microsecond:
			return "ts:" + strconv.FormatInt(x, 10), true
		default:
			q, r := x/1000, x%1000
			if r < 0 {
				q, r = q-1, r+1000
			}
			if r != 0 {
				return fmt.Sprintf("ts:%d+%dns", q, r), true
			}
			return "ts:" + strconv.FormatInt(q, 10), true
		}
	case *array.Date32:
		return v.Value(i).FormattedString(), true
	case *array.Date64:
		return v.Value(i).FormattedString(), true
	}
	return "", false
}

// canonRows renders records row by row, columns in the order of names (matched
// case-insensitively), sorted: a multiset.
func canonRows(t testing.TB, recs []arrow.Record, names []string) []string {
	t.Helper()
	var rows []string
	for _, rec := range recs {
		idx := make([]int, len(names))
		for k, n := range names {
			idx[k] = -1
			for c := range int(rec.NumCols()) {
				if strings.EqualFold(rec.ColumnName(c), n) {
					idx[k] = c
				}
			}
			require.GreaterOrEqual(t, idx[k], 0, "column %s missing from %v", n, rec.Schema())
		}
		for i := range int(rec.NumRows()) {
			parts := make([]string, len(idx))
			for k, c := range idx {
				parts[k] = canon(rec.Column(c), i)
			}
			rows = append(rows, strings.Join(parts, "|"))
		}
	}
	sort.Strings(rows)
	return rows
}

func fieldNames(s *arrow.Schema) []string {
	out := make([]string, s.NumFields())
	for i, f := range s.Fields() {
		out[i] = f.Name
	}
	return out
}

// encodeText writes records with formats.New (the encoder the export uses) in opts's format.
func encodeText(t testing.TB, schema *arrow.Schema, recs []arrow.Record, opts formats.Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc, err := formats.New(&buf, schema, opts)
	require.NoError(t, err)
	for _, r := range recs {
		require.NoError(t, enc.Write(r))
	}
	require.NoError(t, enc.Close())
	return buf.Bytes()
}

// csvRecords parses CSV text: the header and the data records joined by NUL, sorted.
func csvRecords(t testing.TB, data []byte) (header []string, rows []string) {
	t.Helper()
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	all, err := r.ReadAll()
	require.NoError(t, err)
	require.NotEmpty(t, all, "no header")
	for _, rec := range all[1:] {
		rows = append(rows, strings.Join(rec, "\x00"))
	}
	sort.Strings(rows)
	return all[0], rows
}

// lines splits NDJSON text into its lines, sorted.
func lines(data []byte) []string {
	s := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(s) == 1 && s[0] == "" {
		return nil
	}
	sort.Strings(s)
	return s
}

// assertSameRows compares sorted row lists, printing a short diff on failure.
func assertSameRows(t testing.TB, want, got []string, what string) bool {
	t.Helper()
	if slices.Equal(want, got) {
		return true
	}
	var missing, extra []string
	i, j := 0, 0
	for i < len(want) || j < len(got) {
		switch {
		case j >= len(got) || (i < len(want) && want[i] < got[j]):
			missing = append(missing, want[i])
			i++
		case i >= len(want) || got[j] < want[i]:
			extra = append(extra, got[j])
			j++
		default:
			i++
			j++
		}
	}
	return assert.Fail(t, what+": rows differ", "want %d rows, got %d\nmissing (first 5): %q\nunexpected (first 5): %q",
		len(want), len(got), head(missing, 5), head(extra, 5))
}

func head(s []string, n int) []string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// checkExports exports table (at version, or the latest when version < 0) to Parquet, CSV and
// NDJSON and compares each with want (records of the expected rows, any schema whose columns
// cast to ours). It returns the output schema.
func checkExports(t *testing.T, cl *sharing.Client, table string, version int64, want []arrow.Record, formatsToCheck ...formats.Format) *arrow.Schema {
	t.Helper()
	dir := t.TempDir()
	var read reader.ReadOptions
	if version >= 0 {
		read.Version = &version
	}
	st := e2eTable(t, cl, table, read)
	// Parquet: read back with pqarrow, compared value by value.
	pq := filepath.Join(dir, "out.parquet")
	exportTo(t, st, pq)
	got := readParquetDir(t, pq)
	defer releaseAll(got)
	require.NotEmpty(t, got)
	schema := got[0].Schema()
	names := fieldNames(schema)
	// The expected records, conformed to our output schema by column name.
	var exp []arrow.Record
	for _, w := range want {
		exp = append(exp, conform(t, schema, int(w.NumRows()), func(f arrow.Field) arrow.Array {
			c, ok := colByName(w, f.Name, "")
			require.True(t, ok, "expected rows have no column %s (have %v)", f.Name, fieldNames(w.Schema()))
			c.Retain()
			return c
		}, nil))
	}
	defer releaseAll(exp)
	assertSameRows(t, canonRows(t, exp, names), canonRows(t, got, names), table+" parquet")

	for _, f := range formatsToCheck {
		out := filepath.Join(dir, "out."+string(f))
		exportTo(t, st, out)
		data, err := os.ReadFile(out)
		require.NoError(t, err)
		wantText := encodeText(t, schema, exp, formats.Options{Format: f})
		switch f {
		case formats.CSV:
			gh, gr := csvRecords(t, data)
			wh, wr := csvRecords(t, wantText)
			assert.Equal(t, wh, gh, "CSV header")
			assert.Equal(t, strings.SplitN(string(wantText), "\n", 2)[0], strings.SplitN(string(data), "\n", 2)[0], "CSV header line")
			assertSameRows(t, wr, gr, table+" csv")
		case formats.NDJSON:
			assertSameRows(t, lines(wantText), lines(data), table+" ndjson")
		}
	}
	return schema
}

// constInt64, constString and constTimestampMs build constant columns of change data rows.
func constInt64(v int64) func(n int) arrow.Array {
	return constColumn(func() *array.Int64Builder { return array.NewInt64Builder(memory.DefaultAllocator) }, v)
}

func constString(s string) func(n int) arrow.Array {
	return constColumn(func() *array.StringBuilder { return array.NewStringBuilder(memory.DefaultAllocator) }, s)
}

// constTimestampMs is a timestamp column of dt (any unit) holding a Unix time in ms.
func constTimestampMs(dt arrow.DataType, ms int64) func(n int) arrow.Array {
	tt := dt.(*arrow.TimestampType)
	v := arrow.Timestamp(time.UnixMilli(ms).UnixNano() / int64(tt.Unit.Multiplier()))
	return constColumn(func() *array.TimestampBuilder { return array.NewTimestampBuilder(memory.DefaultAllocator, tt) }, v)
}

// constColumn builds columns of n values v with the builders newBuilder makes.
func constColumn[V any, B interface {
	array.Builder
	Append(V)
}](newBuilder func() B, v V) func(n int) arrow.Array {
	return func(n int) arrow.Array {
		b := newBuilder()
		defer b.Release()
		for range n {
			b.Append(v)
		}
		return b.NewArray()
	}
}

// expectedChanges computes a table's change data feed from version `from` on, independently:
// for each commit, the rows of its _change_data (cdc) files with their own _change_type; for a
// commit without cdc files, the rows of its added files (dataChange) as inserts and of its
// removed files (dataChange, with the deletion vector the file had) as deletes. Every row
// carries _commit_version and _commit_timestamp (the commit's inCommitTimestamp, else
// commitInfo.timestamp, else the commit file's modification time, made strictly increasing
// over the versions as Delta's history does: a timestamp not after the previous version's
// becomes the previous plus 1 ms; kernel-cdf/cdf-table-with-dv has no commitInfo and commit
// files with equal modification times).
func expectedChanges(t testing.TB, dir string, commits []commit, from int64, out *arrow.Schema) []arrow.Record {
	t.Helper()
	tsType := out.Field(out.FieldIndices("_commit_timestamp")[0]).Type
	commitTS := make([]int64, len(commits))
	for i, c := range commits {
		commitTS[i] = c.TimestampMs
		if i > 0 && commitTS[i] <= commitTS[i-1] {
			commitTS[i] = commitTS[i-1] + 1
		}
	}
	var recs []arrow.Record
	for _, c := range commits[from:] {
		c.TimestampMs = commitTS[c.Version]
		snap := snapshotAt(t, commits, c.Version)
		consts := func(changeType string) map[string]func(int) arrow.Array {
			m := map[string]func(int) arrow.Array{
				"_commit_version":   constInt64(c.Version),
				"_commit_timestamp": constTimestampMs(tsType, c.TimestampMs),
			}
			if changeType != "" {
				m["_change_type"] = constString(changeType)
			}
			return m
		}
		if len(c.CDCs) > 0 {
			for _, f := range c.CDCs {
				recs = append(recs, fileRecord(t, dir, snap.Meta, f, out, consts("")))
			}
			continue
		}
		for _, f := range c.Adds {
			if f.DataChange {
				recs = append(recs, fileRecord(t, dir, snap.Meta, f, out, consts("insert")))
			}
		}
		var prev snapshot
		if c.Version > 0 {
			prev = snapshotAt(t, commits, c.Version-1)
		}
		for _, f := range c.Removes {
			if !f.DataChange {
				continue
			}
			if f.PartitionValues == nil { // a remove without extended file metadata
				for _, p := range prev.Files {
					if p.key() == f.key() {
						f.PartitionValues = p.PartitionValues
					}
				}
			}
			recs = append(recs, fileRecord(t, dir, prev.Meta, f, out, consts("delete")))
		}
	}
	return recs
}

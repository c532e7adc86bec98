package demo

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/deltashare/deltashare/sharing/delta"
)

// Row is one table row: a Go value per field of the table schema, in schema order, partition
// columns included (they go to the directory name and the log, not into the data file). nil is
// null. The Go type of each value follows the Delta type:
//
//	long int64, integer int32, short int16, byte int8 (an untyped int also works when it fits)
//	float float32, double float64, boolean bool, string string, binary []byte
//	date, timestamp, timestamp_ntz time.Time (date: its calendar date; timestamp: the instant;
//	    timestamp_ntz: its wall clock reading, location ignored)
//	decimal(p,s) the unscaled value: int64 or *big.Int (12345 in decimal(10,2) is 123.45)
//	struct Row or []any of its fields; array []any
type Row []any

// ChangeType is the `_change_type` of a change data row.
type ChangeType string

// The change types of the change data feed.
const (
	Insert          ChangeType = "insert"
	UpdatePreimage  ChangeType = "update_preimage"
	UpdatePostimage ChangeType = "update_postimage"
	Delete          ChangeType = "delete"
)

// Change is one row of change data.
type Change struct {
	Type ChangeType
	Row  Row
}

const changeTypeColumn = "_change_type"

// DefaultBaseTime is the timestamp of version 0 when TableOptions.BaseTime is zero.
var DefaultBaseTime = time.Date(2025, 1, 6, 9, 0, 0, 0, time.UTC)

// TableOptions describe a table to create.
type TableOptions struct {
	Name, Description string
	Schema            *delta.StructType
	PartitionColumns  []string
	// Configuration is the table properties, e.g. "delta.enableChangeDataFeed": "true".
	Configuration map[string]string
	// Seed names the table in the derived metadata id, file names and transaction ids
	// (default: Name). Two tables with the same seed get the same ids.
	Seed string
	// Commit v is timestamped BaseTime + v*CommitInterval (defaults DefaultBaseTime, 1h): in
	// commitInfo, in add/remove times, and as the mtime of the commit and data files.
	BaseTime       time.Time
	CommitInterval time.Duration
	// RowGroupRows bounds the rows of a Parquet row group (default 131072).
	RowGroupRows int64
	// InCommitTimestamps turns on the inCommitTimestamp writer feature, so the commit
	// timestamps are part of the log and survive copies that lose file mtimes (git does).
	InCommitTimestamps bool
}

// Table is a Delta table being written. It is not safe for concurrent use, except for the
// FileWriters of one Txn, which may be written and closed concurrently.
type Table struct {
	dir      string
	opts     TableOptions
	protocol delta.Protocol
	metadata delta.Metadata
	data     *fileSchema
	changes  *fileSchema // nil unless the change data feed is on
	partIdx  []int       // schema index of each partition column
	version  int64
	live     map[string]*liveFile
	txn      *Txn
}

type liveFile struct {
	add *delta.Add
	pv  map[string]*string
}

// CreateTable prepares a new table in dir (created if missing; it must not hold a _delta_log).
// Nothing is written until the first Txn commits version 0 with the protocol and metadata.
func CreateTable(dir string, opts TableOptions) (*Table, error) {
	if opts.Schema == nil || len(opts.Schema.Fields) == 0 {
		return nil, fmt.Errorf("demo: table %q has no schema", opts.Name)
	}
	if _, err := os.Stat(filepath.Join(dir, "_delta_log")); err == nil {
		return nil, fmt.Errorf("demo: %s already holds a Delta table; remove it first or write elsewhere", dir)
	}
	if opts.Seed == "" {
		opts.Seed = opts.Name
	}
	if opts.BaseTime.IsZero() {
		opts.BaseTime = DefaultBaseTime
	}
	if opts.CommitInterval == 0 {
		opts.CommitInterval = time.Hour
	}
	if opts.RowGroupRows <= 0 {
		opts.RowGroupRows = 128 * 1024
	}
	conf := map[string]string{}
	for k, v := range opts.Configuration {
		conf[k] = v
	}
	if opts.InCommitTimestamps {
		conf["delta.enableInCommitTimestamps"] = "true"
	}
	t := &Table{dir: dir, opts: opts, version: -1, live: map[string]*liveFile{}}
	for _, pc := range opts.PartitionColumns {
		i := slices.IndexFunc(opts.Schema.Fields, func(f *delta.StructField) bool { return f.Name == pc })
		if i < 0 {
			return nil, fmt.Errorf("demo: partition column %q is not in the schema", pc)
		}
		if _, err := SerializePartitionValue(opts.Schema.Fields[i].Type, nil); err != nil {
			return nil, err
		}
		t.partIdx = append(t.partIdx, i)
	}
	schemaString, err := delta.MarshalSchema(opts.Schema)
	if err != nil {
		return nil, fmt.Errorf("demo: schema: %w", err)
	}
	created := opts.BaseTime.UnixMilli()
	t.metadata = delta.Metadata{
		ID:               DeterministicUUID("table", opts.Seed),
		Name:             opts.Name,
		Description:      opts.Description,
		Format:           delta.Format{Provider: "parquet", Options: map[string]string{}},
		SchemaString:     schemaString,
		PartitionColumns: append([]string{}, opts.PartitionColumns...),
		CreatedTime:      &created,
		Configuration:    conf,
	}
	t.protocol = protocolFor(opts.Schema, &t.metadata, opts.InCommitTimestamps)
	if t.data, err = buildFileSchema(opts.Schema, opts.PartitionColumns, false); err != nil {
		return nil, err
	}
	if t.metadata.ChangeDataFeedEnabled() {
		if t.changes, err = buildFileSchema(opts.Schema, opts.PartitionColumns, true); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// protocolFor picks the lowest protocol that covers the table: (1,2); writer 4 for the change
// data feed; table features (3,7) when a timestamp_ntz column needs the timestampNtz feature,
// writer 7 when in-commit timestamps are on.
func protocolFor(st *delta.StructType, md *delta.Metadata, ict bool) delta.Protocol {
	p := delta.Protocol{MinReaderVersion: 1, MinWriterVersion: 2}
	cdf := md.ChangeDataFeedEnabled()
	if cdf {
		p.MinWriterVersion = 4
	}
	ntz := hasNTZ(st)
	if !ntz && !ict {
		return p
	}
	p.MinWriterVersion = 7
	var wf []string
	if ntz {
		p.MinReaderVersion = 3
		p.ReaderFeatures = []string{"timestampNtz"}
		wf = append(wf, "timestampNtz")
	}
	if cdf {
		wf = append(wf, "changeDataFeed")
	}
	if ict {
		wf = append(wf, "inCommitTimestamp")
	}
	sort.Strings(wf)
	p.WriterFeatures = wf
	return p
}

func hasNTZ(dt delta.DataType) bool {
	switch t := dt.(type) {
	case *delta.StructType:
		for _, f := range t.Fields {
			if hasNTZ(f.Type) {
				return true
			}
		}
	case *delta.ArrayType:
		return hasNTZ(t.ElementType)
	case *delta.MapType:
		return hasNTZ(t.KeyType) || hasNTZ(t.ValueType)
	case *delta.PrimitiveType:
		return t.Name == delta.TypeTimestampNTZ
	}
	return false
}

// CreateIDTable creates in dir the table name of one long column, id, with change data feed
// on and no commit yet: the least table, grown commit by commit with AppendIDs by tests of
// readers of a changing log.
func CreateIDTable(dir, name string) (*Table, error) {
	schema, err := delta.ParseSchema(`{"type":"struct","fields":[{"name":"id","type":"long","nullable":false,"metadata":{}}]}`)
	if err != nil {
		return nil, err
	}
	return CreateTable(dir, TableOptions{Name: name, Schema: schema,
		Configuration: map[string]string{"delta.enableChangeDataFeed": "true"}})
}

// AppendIDs commits the next version v of an id table (CreateIDTable): one file of the rows
// 2v and 2v+1. It returns the file's add action.
func (t *Table) AppendIDs() (*delta.Add, error) {
	tx, err := t.Begin("WRITE", nil)
	if err != nil {
		return nil, err
	}
	id := (t.Version() + 1) * 2
	adds, err := tx.Append([]Row{{id}, {id + 1}})
	if err != nil {
		return nil, err
	}
	if _, err := tx.Commit(); err != nil {
		return nil, err
	}
	return adds[0], nil
}

// Dir returns the table's directory.
func (t *Table) Dir() string { return t.dir }

// Version returns the last committed version, -1 before the first commit.
func (t *Table) Version() int64 { return t.version }

// Protocol returns the table's protocol action.
func (t *Table) Protocol() delta.Protocol { return t.protocol }

// Metadata returns the table's metaData action.
func (t *Table) Metadata() delta.Metadata { return t.metadata }

// CommitTime returns the timestamp of version v.
func (t *Table) CommitTime(v int64) time.Time {
	return t.opts.BaseTime.Add(time.Duration(v) * t.opts.CommitInterval)
}

// Files returns the add actions of the live files after the last commit, sorted by path.
func (t *Table) Files() []delta.Add {
	out := make([]delta.Add, 0, len(t.live))
	for _, lf := range t.live {
		out = append(out, *lf.add)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// Begin starts the transaction that will commit the next version. operation names it in
// commitInfo ("WRITE", "UPDATE", "DELETE", ...); params become operationParameters.
func (t *Table) Begin(operation string, params map[string]any) (*Txn, error) {
	if t.txn != nil {
		return nil, fmt.Errorf("demo: a transaction on %s is already open; commit it first", t.dir)
	}
	if params == nil {
		params = map[string]any{}
	}
	t.txn = &Txn{t: t, version: t.version + 1, op: operation, params: params, removed: map[string]bool{}}
	return t.txn, nil
}

// Txn collects the actions of one commit.
type Txn struct {
	t       *Table
	version int64
	op      string
	params  map[string]any

	mu        sync.Mutex
	adds      []*FileWriter // by part index; nil until closed
	cdcs      []*FileWriter
	removes   []*delta.Remove
	removePVs []map[string]*string
	removed   map[string]bool
	open      int
	done      bool
	failed    bool
}

// Version returns the version this transaction commits.
func (tx *Txn) Version() int64 { return tx.version }

// Timestamp returns the commit timestamp of this transaction.
func (tx *Txn) Timestamp() time.Time { return tx.t.CommitTime(tx.version) }

// NewFile starts a data file in the partition given by partition (a value per partition
// column, nil for null; nil map for an unpartitioned table). Files are numbered in the order
// NewFile is called; they may be written and closed concurrently.
func (tx *Txn) NewFile(partition map[string]any) (*FileWriter, error) {
	return tx.newFile(partition, false)
}

// NewChangeFile starts a change data file (under _change_data) in the given partition. The
// table must have delta.enableChangeDataFeed=true.
func (tx *Txn) NewChangeFile(partition map[string]any) (*FileWriter, error) {
	if tx.t.changes == nil {
		return nil, fmt.Errorf("demo: table %q does not have delta.enableChangeDataFeed=true; cannot write change data", tx.t.opts.Name)
	}
	return tx.newFile(partition, true)
}

func (tx *Txn) newFile(partition map[string]any, cdc bool) (*FileWriter, error) {
	t := tx.t
	if len(partition) != len(t.partIdx) {
		return nil, fmt.Errorf("demo: want a value for each partition column %v, got %d values", t.opts.PartitionColumns, len(partition))
	}
	pv := map[string]*string{}
	var dirs []string
	for _, i := range t.partIdx {
		f := t.opts.Schema.Fields[i]
		v, ok := partition[f.Name]
		if !ok {
			return nil, fmt.Errorf("demo: no value for partition column %q (use nil for null)", f.Name)
		}
		s, err := SerializePartitionValue(f.Type, v)
		if err != nil {
			return nil, fmt.Errorf("demo: partition column %q: %w", f.Name, err)
		}
		pv[f.Name] = s
		dirs = append(dirs, delta.PartitionDir(f.Name, s))
	}

	tx.mu.Lock()
	if tx.done {
		tx.mu.Unlock()
		return nil, fmt.Errorf("demo: transaction for version %d is already committed", tx.version)
	}
	var name string
	fw := &FileWriter{tx: tx, pv: pv, cdc: cdc}
	if cdc {
		fw.index = len(tx.cdcs)
		tx.cdcs = append(tx.cdcs, nil)
		name = fmt.Sprintf("cdc-%05d-%s.c000.snappy.parquet", fw.index,
			DeterministicUUID(t.opts.Seed, "cdc", strconv.FormatInt(tx.version, 10), strconv.Itoa(fw.index)))
		dirs = append([]string{"_change_data"}, dirs...)
		fw.fs = t.changes
	} else {
		fw.index = len(tx.adds)
		tx.adds = append(tx.adds, nil)
		name = fmt.Sprintf("part-%05d-%s-c000.snappy.parquet", fw.index,
			DeterministicUUID(t.opts.Seed, "part", strconv.FormatInt(tx.version, 10), strconv.Itoa(fw.index)))
		fw.fs = t.data
	}
	tx.open++
	tx.mu.Unlock()

	rel := strings.Join(append(dirs, name), "/")
	fw.logPath = escapeURIPath(rel)
	fw.osPath = filepath.Join(t.dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(fw.osPath), 0o755); err != nil {
		tx.fileDone()
		return nil, fmt.Errorf("demo: %w", err)
	}
	f, err := os.OpenFile(fw.osPath, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		tx.fileDone()
		return nil, fmt.Errorf("demo: data file: %w (data files are never overwritten; write the table into an empty directory)", err)
	}
	fw.f = f
	fw.buf = bufio.NewWriterSize(f, 1<<20)
	fw.pw = parquet.NewGenericWriter[any](fw.buf, fw.fs.schema,
		parquet.Compression(&parquet.Snappy),
		parquet.CreatedBy("deltashare", "demo", "parquet-go"),
		parquet.MaxRowsPerRowGroup(t.opts.RowGroupRows),
		parquet.DataPageVersion(1), // what Spark writes; every reader knows it
	)
	fw.stats = newFileStats(fw.fs)
	return fw, nil
}

func (tx *Txn) fileDone() {
	tx.mu.Lock()
	tx.open--
	tx.mu.Unlock()
}

// Append writes rows as new data files, one per partition (in the order partitions first
// appear in rows), and returns their add actions.
func (tx *Txn) Append(rows []Row) ([]*delta.Add, error) {
	files, err := tx.writeByPartition(len(rows), func(i int) Row { return rows[i] }, tx.NewFile,
		func(fw *FileWriter, i int) error { return fw.Write(rows[i]) })
	if err != nil {
		return nil, err
	}
	var adds []*delta.Add
	for _, fw := range files {
		adds = append(adds, fw.Add())
	}
	return adds, nil
}

// AppendChanges writes change rows as change data files, one per partition, and returns their
// cdc actions.
func (tx *Txn) AppendChanges(changes []Change) ([]*delta.CDC, error) {
	files, err := tx.writeByPartition(len(changes), func(i int) Row { return changes[i].Row }, tx.NewChangeFile,
		func(fw *FileWriter, i int) error { return fw.WriteChange(changes[i].Type, changes[i].Row) })
	if err != nil {
		return nil, err
	}
	var cdcs []*delta.CDC
	for _, fw := range files {
		cdcs = append(cdcs, fw.CDC())
	}
	return cdcs, nil
}

// writeByPartition writes rows 0..n-1 (row gives their values) into one file per partition,
// made by newFile, with write. It returns the closed files, or nil and the first error.
func (tx *Txn) writeByPartition(n int, row func(i int) Row, newFile func(partition map[string]any) (*FileWriter, error),
	write func(fw *FileWriter, i int) error) ([]*FileWriter, error) {
	var files []*FileWriter
	for _, g := range tx.groupByPartition(n, row) {
		fw, err := newFile(g.partition)
		if err != nil {
			return nil, err
		}
		for _, i := range g.rows {
			if err := write(fw, i); err != nil {
				fw.Abort()
				return nil, err
			}
		}
		if err := fw.Close(); err != nil {
			return nil, err
		}
		files = append(files, fw)
	}
	return files, nil
}

type partGroup struct {
	partition map[string]any
	rows      []int
}

func (tx *Txn) groupByPartition(n int, row func(int) Row) []*partGroup {
	var groups []*partGroup
	byKey := map[string]*partGroup{}
	for i := 0; i < n; i++ {
		r := row(i)
		var key strings.Builder
		part := map[string]any{}
		for _, pi := range tx.t.partIdx {
			var v any
			if pi < len(r) {
				v = r[pi]
			}
			part[tx.t.opts.Schema.Fields[pi].Name] = v
			s, _ := SerializePartitionValue(tx.t.opts.Schema.Fields[pi].Type, v)
			if s == nil {
				key.WriteString("\x01")
			} else {
				key.WriteString("\x02" + *s)
			}
			key.WriteByte(0)
		}
		g := byKey[key.String()]
		if g == nil {
			g = &partGroup{partition: part}
			byKey[key.String()] = g
			groups = append(groups, g)
		}
		g.rows = append(g.rows, i)
	}
	return groups
}

// Remove removes a live file (by its path as recorded in the log).
func (tx *Txn) Remove(path string) error {
	lf, ok := tx.t.live[path]
	if !ok {
		return fmt.Errorf("demo: %s is not a live file of table %q", path, tx.t.opts.Name)
	}
	tx.mu.Lock()
	defer tx.mu.Unlock()
	if tx.removed[path] {
		return fmt.Errorf("demo: %s is already removed in this transaction", path)
	}
	tx.removed[path] = true
	ts := tx.Timestamp().UnixMilli()
	size := lf.add.Size
	tx.removes = append(tx.removes, &delta.Remove{
		Path:                 path,
		DeletionTimestamp:    &ts,
		DataChange:           true,
		ExtendedFileMetadata: true,
		PartitionValues:      flattenPV(lf.pv),
		Size:                 &size,
	})
	tx.removePVs = append(tx.removePVs, lf.pv)
	return nil
}

// Commit writes _delta_log/<version>.json: commitInfo first, then (at version 0) protocol and
// metaData, then add, remove and cdc actions in the order they were made.
func (tx *Txn) Commit() (int64, error) {
	t := tx.t
	tx.mu.Lock()
	defer tx.mu.Unlock()
	if tx.done {
		return 0, fmt.Errorf("demo: transaction for version %d is already committed", tx.version)
	}
	if tx.failed {
		return 0, errAborted
	}
	if tx.open > 0 {
		return 0, fmt.Errorf("demo: %d data files of version %d are still open; close them before Commit", tx.open, tx.version)
	}
	ts := tx.Timestamp().UnixMilli()

	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	var numRows, numBytes int64
	for _, fw := range tx.adds {
		numRows += fw.stats.numRecords
		numBytes += fw.size
	}
	ci := commitInfoJSON{
		CommitInfo:       &delta.CommitInfo{Timestamp: &ts, Operation: tx.op, OperationParameters: tx.params},
		IsolationLevel:   "Serializable",
		IsBlindAppend:    len(tx.removes) == 0 && len(tx.cdcs) == 0,
		EngineInfo:       "deltashare-demo",
		TxnID:            DeterministicUUID(t.opts.Seed, "txn", strconv.FormatInt(tx.version, 10)),
		OperationMetrics: map[string]string{},
	}
	if t.opts.InCommitTimestamps {
		ci.CommitInfo.InCommitTimestamp = &ts
	}
	if tx.version > 0 {
		rv := tx.version - 1
		ci.ReadVersion = &rv
	}
	ci.OperationMetrics["numAddedFiles"] = strconv.Itoa(len(tx.adds))
	ci.OperationMetrics["numRemovedFiles"] = strconv.Itoa(len(tx.removes))
	ci.OperationMetrics["numAddedChangeFiles"] = strconv.Itoa(len(tx.cdcs))
	ci.OperationMetrics["numOutputRows"] = strconv.FormatInt(numRows, 10)
	ci.OperationMetrics["numOutputBytes"] = strconv.FormatInt(numBytes, 10)

	lines := []any{map[string]any{"commitInfo": ci}}
	if tx.version == 0 {
		p, m := t.protocol, t.metadata
		lines = append(lines, delta.Action{Protocol: &p}, delta.Action{MetaData: &m})
	}
	for _, fw := range tx.adds {
		lines = append(lines, map[string]any{"add": addJSON{Path: fw.add.Path, PartitionValues: fw.pv, Add: fw.add}})
	}
	for i, r := range tx.removes {
		lines = append(lines, map[string]any{"remove": removeJSON{Path: r.Path, DeletionTimestamp: r.DeletionTimestamp,
			DataChange: r.DataChange, ExtendedFileMetadata: r.ExtendedFileMetadata, PartitionValues: tx.removePVs[i], Remove: r}})
	}
	for _, fw := range tx.cdcs {
		lines = append(lines, map[string]any{"cdc": cdcJSON{Path: fw.cdcAction.Path, PartitionValues: fw.pv, CDC: fw.cdcAction}})
	}
	for _, l := range lines {
		if err := enc.Encode(l); err != nil {
			return 0, fmt.Errorf("demo: encoding version %d: %w", tx.version, err)
		}
	}

	logDir := filepath.Join(t.dir, "_delta_log")
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return 0, fmt.Errorf("demo: %w", err)
	}
	name := filepath.Join(logDir, commitName(tx.version))
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return 0, fmt.Errorf("demo: commit %d: %w", tx.version, err)
	}
	if _, err := f.Write(buf.Bytes()); err != nil {
		f.Close()
		return 0, fmt.Errorf("demo: commit %d: %w", tx.version, err)
	}
	if err := f.Close(); err != nil {
		return 0, fmt.Errorf("demo: commit %d: %w", tx.version, err)
	}
	mt := tx.Timestamp()
	if err := os.Chtimes(name, mt, mt); err != nil {
		return 0, fmt.Errorf("demo: %w", err)
	}

	for _, r := range tx.removes {
		delete(t.live, r.Path)
	}
	for _, fw := range tx.adds {
		t.live[fw.add.Path] = &liveFile{add: fw.add, pv: fw.pv}
	}
	tx.done = true
	t.version = tx.version
	t.txn = nil
	return tx.version, nil
}

// commitName is the file name of a version's commit in _delta_log.
func commitName(v int64) string { return fmt.Sprintf("%020d.json", v) }

// commitInfoJSON adds the provenance fields Spark writes to the typed commitInfo.
type commitInfoJSON struct {
	*delta.CommitInfo
	ReadVersion      *int64            `json:"readVersion,omitempty"`
	IsolationLevel   string            `json:"isolationLevel"`
	IsBlindAppend    bool              `json:"isBlindAppend"`
	OperationMetrics map[string]string `json:"operationMetrics"`
	EngineInfo       string            `json:"engineInfo"`
	TxnID            string            `json:"txnId"`
}

// The file actions are written with partition values that can be JSON null, as Delta writers
// write a null partition (delta.Add keeps them as a map of strings, where null reads as "").
type addJSON struct {
	Path            string             `json:"path"`
	PartitionValues map[string]*string `json:"partitionValues"`
	*delta.Add
}

type removeJSON struct {
	Path                 string             `json:"path"`
	DeletionTimestamp    *int64             `json:"deletionTimestamp,omitempty"`
	DataChange           bool               `json:"dataChange"`
	ExtendedFileMetadata bool               `json:"extendedFileMetadata,omitempty"`
	PartitionValues      map[string]*string `json:"partitionValues"`
	*delta.Remove
}

type cdcJSON struct {
	Path            string             `json:"path"`
	PartitionValues map[string]*string `json:"partitionValues"`
	*delta.CDC
}

func flattenPV(pv map[string]*string) map[string]string {
	out := make(map[string]string, len(pv))
	for k, v := range pv {
		if v != nil {
			out[k] = *v
		} else {
			out[k] = ""
		}
	}
	return out
}

// FileWriter streams rows into one data file (or change data file) of a transaction.
type FileWriter struct {
	tx      *Txn
	fs      *fileSchema
	cdc     bool
	index   int
	pv      map[string]*string
	logPath string
	osPath  string

	f     *os.File
	buf   *bufio.Writer
	pw    *parquet.GenericWriter[any]
	stats *fileStats
	batch []parquet.Row
	size  int64

	add       *delta.Add
	cdcAction *delta.CDC
	closed    bool
}

// Path returns the file's path as recorded in the log (relative, URI-escaped).
func (fw *FileWriter) Path() string { return fw.logPath }

// Write appends table rows to a data file. The rows' partition columns must hold the file's
// partition values.
func (fw *FileWriter) Write(rows ...Row) error {
	if fw.cdc {
		return fmt.Errorf("demo: %s is a change data file; use WriteChange", fw.logPath)
	}
	for _, r := range rows {
		if err := fw.writeRow(r, ""); err != nil {
			return err
		}
	}
	return nil
}

// WriteChange appends one change row to a change data file.
func (fw *FileWriter) WriteChange(ct ChangeType, row Row) error {
	if !fw.cdc {
		return fmt.Errorf("demo: %s is a data file; use Write", fw.logPath)
	}
	switch ct {
	case Insert, UpdatePreimage, UpdatePostimage, Delete:
	default:
		return fmt.Errorf("demo: unknown change type %q", ct)
	}
	return fw.writeRow(row, string(ct))
}

func (fw *FileWriter) writeRow(r Row, ct string) error {
	t := fw.tx.t
	if fw.closed {
		return fmt.Errorf("demo: %s is closed", fw.logPath)
	}
	if len(r) != len(t.opts.Schema.Fields) {
		return fmt.Errorf("demo: row has %d values, table %q has %d columns", len(r), t.opts.Name, len(t.opts.Schema.Fields))
	}
	for _, pi := range t.partIdx {
		f := t.opts.Schema.Fields[pi]
		s, err := SerializePartitionValue(f.Type, r[pi])
		if err != nil {
			return fmt.Errorf("demo: partition column %q: %w", f.Name, err)
		}
		if want := fw.pv[f.Name]; (s == nil) != (want == nil) || s != nil && *s != *want {
			return fmt.Errorf("demo: row's %s=%v does not belong in file %s", f.Name, r[pi], fw.logPath)
		}
	}
	pr, err := fw.fs.shredRow(nil, r, ct)
	if err != nil {
		return fmt.Errorf("demo: table %q: %w", t.opts.Name, err)
	}
	fw.batch = append(fw.batch, pr)
	if len(fw.batch) >= 1024 {
		return fw.flushBatch()
	}
	return nil
}

func (fw *FileWriter) flushBatch() error {
	err := fw.WriteParquetRows(fw.batch)
	fw.batch = fw.batch[:0]
	return err
}

// WriteParquetRows appends rows already shredded for the file's Parquet schema (leaf values in
// column order with their levels and column indexes set; for a change data file the last
// column is `_change_type`). It is the fast path for large generated tables; statistics are
// computed from the values. The rows may be reused after the call.
func (fw *FileWriter) WriteParquetRows(rows []parquet.Row) error {
	if fw.closed {
		return fmt.Errorf("demo: %s is closed", fw.logPath)
	}
	for _, r := range rows {
		fw.stats.add(r)
	}
	if _, err := fw.pw.WriteRows(rows); err != nil {
		return fmt.Errorf("demo: writing %s: %w", fw.logPath, err)
	}
	return nil
}

// Close finishes the file and records its add (or cdc) action in the transaction.
func (fw *FileWriter) Close() error {
	if fw.closed {
		return nil
	}
	err := fw.flushBatch()
	fw.closed = true
	defer fw.tx.fileDone()
	if err == nil {
		err = fw.pw.Close()
	}
	if err == nil {
		err = fw.buf.Flush()
	}
	if cerr := fw.f.Close(); err == nil {
		err = cerr
	}
	// The transaction keeps the writer until Commit: drop the buffers now.
	fw.pw, fw.buf, fw.f, fw.batch = nil, nil, nil, nil
	if err != nil {
		return fmt.Errorf("demo: writing %s: %w", fw.logPath, err)
	}
	st, err := os.Stat(fw.osPath)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	fw.size = st.Size()
	mt := fw.tx.Timestamp()
	if err := os.Chtimes(fw.osPath, mt, mt); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	tx := fw.tx
	tx.mu.Lock()
	defer tx.mu.Unlock()
	if fw.cdc {
		fw.cdcAction = &delta.CDC{Path: fw.logPath, PartitionValues: flattenPV(fw.pv), Size: fw.size}
		tx.cdcs[fw.index] = fw
	} else {
		fw.add = &delta.Add{
			Path:             fw.logPath,
			PartitionValues:  flattenPV(fw.pv),
			Size:             fw.size,
			ModificationTime: mt.UnixMilli(),
			DataChange:       true,
			Stats:            fw.stats.JSON(),
		}
		tx.adds[fw.index] = fw
	}
	return nil
}

// Abort closes and deletes a file after a failure. The transaction can no longer commit.
func (fw *FileWriter) Abort() {
	if fw.closed {
		return
	}
	fw.closed = true
	fw.f.Close()
	os.Remove(fw.osPath)
	fw.tx.fileDone()
	fw.tx.mu.Lock()
	fw.tx.failed = true // a hole in the file numbering: refuse to commit
	fw.tx.mu.Unlock()
}

// Add returns the file's add action once Close succeeded (nil for change data files).
func (fw *FileWriter) Add() *delta.Add { return fw.add }

// CDC returns the file's cdc action once Close succeeded (nil for data files).
func (fw *FileWriter) CDC() *delta.CDC { return fw.cdcAction }

// NumRecords returns the rows written so far.
func (fw *FileWriter) NumRecords() int64 { return fw.stats.numRecords }

var errAborted = errors.New("demo: a data file of this transaction was aborted; the transaction cannot commit, start over in an empty directory")

package lake

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/deltashare/deltashare/sharing/delta"
	"github.com/parquet-go/parquet-go"
	"github.com/stretchr/testify/require"
)

// memStore is a Store in memory.
type memStore struct {
	mu   sync.Mutex
	objs map[string][]byte
}

func newMemStore() *memStore { return &memStore{objs: map[string][]byte{}} }

func (m *memStore) ReadObject(_ context.Context, name string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.objs[name]
	if !ok {
		return nil, fmt.Errorf("%s: %w", name, fs.ErrNotExist)
	}
	return b, nil
}

func (m *memStore) List(_ context.Context, prefix string) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for n := range m.objs {
		if strings.HasPrefix(n, prefix) {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out, nil
}

func (m *memStore) CreateExclusive(_ context.Context, name string, data []byte) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.objs[name]; ok {
		return false, nil
	}
	m.objs[name] = data
	return true, nil
}

func (m *memStore) Put(_ context.Context, name string, data []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.objs[name] = data
	return nil
}

func (m *memStore) Remove(_ context.Context, name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.objs, name)
	return nil
}

func firstCommit() []delta.Action {
	one := int64(1)
	return []delta.Action{
		{CommitInfo: &delta.CommitInfo{Timestamp: &one, Operation: "WRITE"}},
		{Protocol: &delta.Protocol{MinReaderVersion: 1, MinWriterVersion: 2}},
		{MetaData: &delta.Metadata{ID: "id", Format: delta.Format{Provider: "parquet", Options: map[string]string{}},
			SchemaString:     `{"type":"struct","fields":[{"name":"p","type":"string","nullable":true,"metadata":{}}]}`,
			PartitionColumns: []string{"p"}, Configuration: map[string]string{}}},
		{Txn: &delta.Txn{AppID: "app", Version: 4}},
		{Add: &delta.Add{Path: "a.parquet", PartitionValues: delta.PartitionValues{"p": ""}, Size: 10, DataChange: true, Tags: map[string]string{"src": "1"}}},
		{Add: &delta.Add{Path: "b.parquet", PartitionValues: delta.PartitionValues{"p": "x=y/ z"}, Size: 20, DataChange: true}},
	}
}

func TestCommitIsPutIfAbsentAndReadBack(t *testing.T) {
	ctx := context.Background()
	s := newMemStore()
	snap, err := Read(ctx, s)
	require.NoError(t, err)
	require.Equal(t, int64(-1), snap.Version)

	require.NoError(t, Commit(ctx, s, 0, firstCommit()))
	err = Commit(ctx, s, 0, firstCommit()[:1])
	require.ErrorIs(t, err, ErrConflict, "a second writer of version 0 fails")
	five := int64(5)
	require.NoError(t, Commit(ctx, s, 1, []delta.Action{
		{Txn: &delta.Txn{AppID: "app", Version: 6}},
		{Remove: &delta.Remove{Path: "a.parquet", DeletionTimestamp: &five, DataChange: true}},
	}))

	snap, err = Read(ctx, s)
	require.NoError(t, err)
	require.Equal(t, int64(1), snap.Version)
	require.Equal(t, int64(6), snap.Txns["app"].Version)
	require.Len(t, snap.Files, 1)
	require.Nil(t, snap.Tombstones["a.parquet"].PartitionValues)
	require.True(t, snap.Referenced("a.parquet"))
	require.Equal(t, "x=y/ z", snap.Files["b.parquet"].PartitionValues["p"])

	// The commit is one JSON action a line, null partition values written as null.
	b, _ := s.ReadObject(ctx, CommitName(0))
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	require.Len(t, lines, 6)
	require.Contains(t, lines[4], `"partitionValues":{"p":null}`)

	// A checkpoint replays to the same table, null partition values included; commits before
	// it are no longer needed.
	require.NoError(t, WriteCheckpoint(ctx, s, snap))
	require.NoError(t, s.Remove(ctx, CommitName(0)))
	require.NoError(t, s.Remove(ctx, CommitName(1)))
	again, err := Read(ctx, s)
	require.NoError(t, err)
	require.Equal(t, int64(1), again.Checkpoint)
	require.Equal(t, snap.Txns, again.Txns)
	require.Equal(t, snap.Files["b.parquet"].PartitionValues, again.Files["b.parquet"].PartitionValues)
	require.Contains(t, again.Tombstones, "a.parquet")
	require.Equal(t, snap.Metadata.SchemaString, again.Metadata.SchemaString)
	lc, err := s.ReadObject(ctx, LastCheckpointName)
	require.NoError(t, err)
	require.JSONEq(t, `{"version":1,"size":5,"sizeInBytes":`+fmt.Sprint(len(s.objs[CheckpointName(1)]))+`,"numOfAddFiles":1}`, string(lc))
}

// The checkpoint holds a null partition value as null, as the JSON commit does, and in the
// column layout of the protocol's classic checkpoint; it replays to the empty string (null).
func TestCheckpointHoldsNullPartitionValues(t *testing.T) {
	ctx := context.Background()
	s := newMemStore()
	require.NoError(t, Commit(ctx, s, 0, firstCommit()))
	snap, err := Read(ctx, s)
	require.NoError(t, err)
	require.NoError(t, WriteCheckpoint(ctx, s, snap))

	data := s.objs[CheckpointName(0)]
	f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
	require.NoError(t, err)
	for _, path := range [][]string{{"add", "partitionValues"}, {"add", "stats"}, {"remove", "deletionTimestamp"},
		{"metaData", "format", "provider"}, {"protocol", "minReaderVersion"}, {"txn", "appId"}} {
		c := f.Root()
		for _, name := range path {
			require.NotNil(t, c, "the checkpoint has the column %v", path)
			c = c.Column(name)
		}
		require.NotNil(t, c, "the checkpoint has the column %v", path)
	}
	pr := parquet.NewReader(f)
	values := map[string]string{} // path -> partition value p, "<null>" for null
	for {
		row := map[string]any{}
		if err := pr.Read(&row); err != nil {
			require.ErrorIs(t, err, io.EOF)
			break
		}
		if add, ok := row["add"].(map[string]any); ok {
			pv := add["partitionValues"].(map[string]any)
			v := "<null>"
			if b, _ := pv["p"].(*[]byte); b != nil {
				v = string(*b)
			}
			values[add["path"].(string)] = v
		}
	}
	require.Equal(t, map[string]string{"a.parquet": "<null>", "b.parquet": "x=y/ z"}, values)

	again, err := readCheckpoint(ctx, s, 0)
	require.NoError(t, err)
	require.Equal(t, delta.PartitionValues{"p": ""}, again.Files["a.parquet"].PartitionValues)
	require.Equal(t, delta.PartitionValues{"p": "x=y/ z"}, again.Files["b.parquet"].PartitionValues)
	for _, f := range snap.Files {
		f.DataChange = false // a checkpoint holds no changes
	}
	require.Equal(t, snap.Files, again.Files, "optional fields absent in the commit are absent in the checkpoint")
	require.Equal(t, snap.Metadata, again.Metadata)
	require.Equal(t, snap.Protocol, again.Protocol)
}

func TestReadRefusesAGapInTheLog(t *testing.T) {
	ctx := context.Background()
	s := newMemStore()
	require.NoError(t, Commit(ctx, s, 0, firstCommit()))
	require.NoError(t, Commit(ctx, s, 2, firstCommit()[:1]))
	_, err := Read(ctx, s)
	require.ErrorContains(t, err, "misses the commit of version 1")
	require.False(t, errors.Is(err, ErrConflict))
}

func TestStats(t *testing.T) {
	mem := memory.NewGoAllocator()
	ts := &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "i", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "f", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "t", Type: ts, Nullable: true},
		{Name: "d", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
		{Name: "nan", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "b", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	b.Field(0).(*array.Int64Builder).AppendValues([]int64{5, -3, 0}, []bool{true, true, false})
	b.Field(1).(*array.Float64Builder).AppendValues([]float64{1.5, -2.25, 0}, nil)
	long := strings.Repeat("z", 40)
	b.Field(2).(*array.StringBuilder).AppendValues([]string{"b" + long, "a" + long, "b"}, nil)
	t0 := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	b.Field(3).(*array.TimestampBuilder).AppendValues([]arrow.Timestamp{
		arrow.Timestamp(t0.UnixMicro() + 1500), arrow.Timestamp(t0.UnixMicro() + 999), arrow.Timestamp(t0.UnixMicro() + 2000)}, nil)
	b.Field(4).(*array.Date32Builder).AppendValues([]arrow.Date32{arrow.Date32FromTime(t0), arrow.Date32FromTime(t0.AddDate(0, 0, 2)), arrow.Date32FromTime(t0)}, nil)
	b.Field(5).(*array.Float64Builder).AppendValues([]float64{1, math.NaN(), 2}, nil)
	b.Field(6).(*array.BooleanBuilder).AppendValues([]bool{true, false, true}, nil)
	rec := b.NewRecord()
	defer rec.Release()

	st := NewStats(schema)
	st.Add(rec)
	var got struct {
		NumRecords int64          `json:"numRecords"`
		MinValues  map[string]any `json:"minValues"`
		MaxValues  map[string]any `json:"maxValues"`
		NullCount  map[string]any `json:"nullCount"`
	}
	require.NoError(t, json.Unmarshal([]byte(st.JSON()), &got))
	require.Equal(t, int64(3), got.NumRecords)
	require.Equal(t, float64(-3), got.MinValues["i"])
	require.Equal(t, float64(5), got.MaxValues["i"])
	require.Equal(t, float64(1), got.NullCount["i"])
	require.Equal(t, -2.25, got.MinValues["f"])
	require.Equal(t, 1.5, got.MaxValues["f"])
	require.Equal(t, "a"+strings.Repeat("z", 31), got.MinValues["s"], "a long minimum is cut to a prefix (still a lower bound)")
	require.NotContains(t, got.MaxValues, "s", "a long maximum is left out (a cut one is no upper bound)")
	require.Equal(t, "2024-03-01T10:00:00.000Z", got.MinValues["t"], "the minimum is rounded down to milliseconds")
	require.Equal(t, "2024-03-01T10:00:00.002Z", got.MaxValues["t"], "the maximum is rounded up to milliseconds")
	require.Equal(t, "2024-03-01", got.MinValues["d"])
	require.Equal(t, "2024-03-03", got.MaxValues["d"])
	require.NotContains(t, got.MinValues, "nan", "no bounds with NaN")
	require.Equal(t, float64(0), got.NullCount["nan"])
	require.NotContains(t, got.MinValues, "b")
}

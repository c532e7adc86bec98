package deltalog

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/deltashare/deltashare/sharing/delta"
	"github.com/parquet-go/parquet-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Checkpoint rows as parquet-go writes them: another writer layout (different column order,
// int32 sizes, no tags or deletionVector columns).
type cpAdd struct {
	Path             string            `parquet:"path"`
	Size             int32             `parquet:"size"`
	PartitionValues  map[string]string `parquet:"partitionValues"`
	ModificationTime int64             `parquet:"modificationTime"`
	DataChange       bool              `parquet:"dataChange"`
}

type cpProtocol struct {
	MinReaderVersion int32 `parquet:"minReaderVersion"`
	MinWriterVersion int32 `parquet:"minWriterVersion"`
}

type cpFormat struct {
	Provider string `parquet:"provider"`
}

type cpMeta struct {
	ID               string            `parquet:"id"`
	Format           cpFormat          `parquet:"format"`
	SchemaString     string            `parquet:"schemaString"`
	PartitionColumns []string          `parquet:"partitionColumns,list"`
	Configuration    map[string]string `parquet:"configuration"`
}

type cpRow struct {
	Add      *cpAdd      `parquet:"add,optional"`
	MetaData *cpMeta     `parquet:"metaData,optional"`
	Protocol *cpProtocol `parquet:"protocol,optional"`
}

func writeCheckpointPart(t *testing.T, p string, rows []cpRow) {
	t.Helper()
	f, err := os.Create(p)
	require.NoError(t, err)
	w := parquet.NewGenericWriter[cpRow](f)
	_, err = w.Write(rows)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	require.NoError(t, f.Close())
}

// A multi-part checkpoint (N.checkpoint.K.M.parquet) is read whole; an incomplete set of parts
// is ignored in favour of the JSON commits.
func TestMultiPartCheckpoint(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	schema := `{"type":"struct","fields":[{"name":"a","type":"long","nullable":true,"metadata":{}},{"name":"p","type":"string","nullable":true,"metadata":{}}]}`
	meta := &cpMeta{ID: "m", Format: cpFormat{Provider: "parquet"}, SchemaString: schema, PartitionColumns: []string{"p"}, Configuration: map[string]string{"k": "v"}}
	log := filepath.Join(dir, "_delta_log")
	require.NoError(t, os.MkdirAll(log, 0o755))
	writeCheckpointPart(t, filepath.Join(log, fmt.Sprintf("%020d.checkpoint.%010d.%010d.parquet", 3, 1, 2)), []cpRow{
		{Protocol: &cpProtocol{1, 2}}, {MetaData: meta},
		{Add: &cpAdd{Path: "p=x%20y/one.parquet", Size: 10, PartitionValues: map[string]string{"p": "x y"}, DataChange: true}},
	})
	writeCheckpointPart(t, filepath.Join(log, fmt.Sprintf("%020d.checkpoint.%010d.%010d.parquet", 3, 2, 2)), []cpRow{
		{Add: &cpAdd{Path: "two.parquet", Size: 20, PartitionValues: map[string]string{}, DataChange: true}},
		{Add: &cpAdd{Path: "three.parquet", Size: 30, DataChange: true}},
	})
	// An incomplete newer multi-part checkpoint must be ignored.
	writeCheckpointPart(t, filepath.Join(log, fmt.Sprintf("%020d.checkpoint.%010d.%010d.parquet", 4, 1, 3)), []cpRow{{Protocol: &cpProtocol{1, 2}}})
	writeCommit(t, dir, 4, `{"commitInfo":{"timestamp":4000}}`, `{"remove":{"path":"two.parquet","dataChange":true}}`)

	tbl := mustOpen(t, dir)
	s, err := tbl.Snapshot(ctx, -1)
	require.NoError(t, err)
	assert.Equal(t, int64(4), s.Version)
	var paths []string
	for _, f := range s.Files {
		paths = append(paths, f.Path)
	}
	assert.Equal(t, []string{"p=x%20y/one.parquet", "three.parquet"}, paths)
	assert.Equal(t, delta.PartitionValues{"p": "x y"}, s.Files[0].PartitionValues)
	assert.Equal(t, int64(10), s.Files[0].Size)
	assert.Equal(t, []string{"p"}, s.Metadata.PartitionColumns)
	assert.Equal(t, map[string]string{"k": "v"}, s.Metadata.Configuration)
	assert.Equal(t, 2, s.Protocol.MinWriterVersion)

	s3, err := tbl.Snapshot(ctx, 3)
	require.NoError(t, err)
	assert.Len(t, s3.Files, 3)
	_, err = tbl.Snapshot(ctx, 2)
	assert.ErrorIs(t, err, ErrVersionNotFound)
}

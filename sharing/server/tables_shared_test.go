package server

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/deltashare/deltashare/sharing/protocol"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deltashare/deltashare/sharing/server/deltalog"
)

// snapshotRel returns the table-relative paths of a snapshot's files, sorted.
func snapshotRel(t *testing.T, dt *deltalog.Table, root string, snap *deltalog.Snapshot) []string {
	var out []string
	for _, f := range snap.Files {
		abs, err := dt.AbsPath(f.Path)
		require.NoError(t, err)
		rel, err := filepath.Rel(root, abs)
		require.NoError(t, err)
		out = append(out, filepath.ToSlash(rel))
	}
	sort.Strings(out)
	return out
}

func resultRel(t *testing.T, files []protocol.File) []string {
	var out []string
	for _, f := range files {
		out = append(out, urlRelPath(t, f.URL))
	}
	sort.Strings(out)
	return out
}

// checkQuery queries name at version (latest when < 0) and checks the file set against the
// snapshot and every download against the file's bytes. It returns the live row count from the
// downloaded footers minus deletion vector cardinalities.
func checkQuery(t *testing.T, env *tableEnv, name string, dt *deltalog.Table, version int64) int64 {
	t.Helper()
	ctx := context.Background()
	root := env.dirs[name]
	snap, err := dt.Snapshot(ctx, version)
	require.NoError(t, err)
	req := protocol.QueryRequest{}
	if version >= 0 {
		req.Version = &version
	}
	res, err := env.client.Query(ctx, tbl(name), req)
	require.NoError(t, err, "%s v%d", name, version)
	assert.Equal(t, snap.Version, res.Version, "Delta-Table-Version")
	require.Equal(t, snapshotRel(t, dt, root, snap), resultRel(t, res.Files), "%s v%d: file set", name, version)
	wantFormat := protocol.FormatParquet
	if len(deltaOnlyFeatures(snap.Protocol, snap.Metadata)) > 0 {
		wantFormat = protocol.FormatDelta
	}
	assert.Equal(t, wantFormat, res.Format, name)
	urls := make([]string, len(res.Files))
	for i, f := range res.Files {
		urls[i] = f.URL
		if version >= 0 {
			require.NotNil(t, f.Version)
			assert.Equal(t, snap.Version, *f.Version)
			require.NotNil(t, f.Timestamp)
			assert.Equal(t, snap.Timestamp.UnixMilli(), *f.Timestamp)
		} else {
			assert.Nil(t, f.Version, "latest snapshots carry no file versions")
		}
		require.NotNil(t, f.ExpirationTimestamp)
	}
	bodies, status := downloads(t, urls)
	var rows int64
	for i, f := range res.Files {
		want, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(urlRelPath(t, f.URL))))
		if errors.Is(err, os.ErrNotExist) {
			// Some fixtures hold only their log: the URL is valid, the file is gone.
			assert.Equal(t, 404, status[i], "%s: download of a missing file", name)
			continue
		}
		require.NoError(t, err)
		require.Equal(t, 200, status[i], "%s: download of %s: %s", name, f.ID, bodies[i])
		require.Equal(t, want, bodies[i], "%s: download of %s", name, f.ID)
		assert.Equal(t, int64(len(want)), f.Size)
		rows += parquetRowsOf(t, bodies[i])
		if dv := f.DeletionVector; dv != nil {
			rows -= dv.Cardinality
			if dv.StorageType == "p" {
				assert.NotEmpty(t, f.DeletionVectorFileID)
				st, b := download(t, dv.PathOrInlineDV)
				require.Equal(t, 200, st)
				dvFile, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(urlRelPath(t, dv.PathOrInlineDV))))
				require.NoError(t, err)
				require.Equal(t, dvFile, b)
				require.NotNil(t, dv.Offset)
				assert.LessOrEqual(t, int(*dv.Offset)+int(dv.SizeInBytes), len(b))
			} else {
				assert.Equal(t, "i", dv.StorageType, "only inline vectors keep their storage type")
			}
		}
	}
	// Every deletion vector of the snapshot reached the client (delta format).
	var snapDVs, gotDVs int
	for _, f := range snap.Files {
		if f.DeletionVector != nil {
			snapDVs++
		}
	}
	for _, f := range res.Files {
		if f.DeletionVector != nil {
			gotDVs++
		}
	}
	assert.Equal(t, snapDVs, gotDVs, "%s: deletion vectors", name)
	if snapDVs > 0 {
		assert.Equal(t, protocol.FormatDelta, res.Format)
	}
	return rows
}

// Every shared Delta table: metadata, the latest snapshot and, for DAT cases, each expected
// version, with downloads checked byte for byte and row counts against the expected content.
func TestSharedTablesQuery(t *testing.T) {
	ctx := context.Background()
	tables, dat := sharedTables(t)
	env := startTables(t, tables, nil)
	for _, name := range sortedNames(tables) {
		t.Run(name, func(t *testing.T) {
			dt, err := deltalog.Open(ctx, tables[name])
			require.NoError(t, err)
			snap, err := dt.Snapshot(ctx, -1)
			require.NoError(t, err)

			tm, err := env.client.Metadata(ctx, tbl(name), protocol.MetadataOptions{})
			require.NoError(t, err)
			assert.Equal(t, snap.Version, tm.Version)
			assert.Equal(t, snap.Metadata.ID, tm.Metadata.ID)
			assert.Equal(t, snap.Metadata.SchemaString, tm.Metadata.SchemaString)
			needs := deltaOnlyFeatures(snap.Protocol, snap.Metadata)
			if len(needs) > 0 {
				assert.Equal(t, protocol.FormatDelta, tm.Format)
				assert.Equal(t, *snap.Protocol, tm.Protocol)
				_, err := env.newClient(t, parquetOnly()).Metadata(ctx, tbl(name), protocol.MetadataOptions{})
				var ae *protocol.APIError
				require.True(t, errors.As(err, &ae), "parquet only on a %v table: %v", needs, err)
				assert.Equal(t, 400, ae.Status)
				assert.Equal(t, CodeUnsupportedOperation, ae.Code)
			} else {
				assert.Equal(t, protocol.FormatParquet, tm.Format)
				assert.Equal(t, 1, tm.Protocol.MinReaderVersion, "parquet format reports minReaderVersion 1")
			}

			rows := checkQuery(t, env, name, dt, -1)
			caseDir, ok := dat[name]
			if !ok {
				return
			}
			exps, err := filepath.Glob(filepath.Join(caseDir, "expected", "*"))
			require.NoError(t, err)
			for _, e := range exps {
				var md struct {
					Version int64 `json:"version"`
				}
				b, err := os.ReadFile(filepath.Join(e, "table_version_metadata.json"))
				require.NoError(t, err)
				require.NoError(t, json.Unmarshal(b, &md))
				got := rows
				if strings.HasPrefix(filepath.Base(e), "v") {
					got = checkQuery(t, env, name, dt, md.Version)
				}
				parts, err := filepath.Glob(filepath.Join(e, "table_content.parquet", "*.parquet"))
				require.NoError(t, err)
				var want int64
				for _, p := range parts {
					pb, err := os.ReadFile(p)
					require.NoError(t, err)
					want += parquetRowsOf(t, pb)
				}
				assert.Equal(t, want, got, "%s: rows", e)
			}
		})
	}
}

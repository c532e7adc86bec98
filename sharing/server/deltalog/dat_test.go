package deltalog

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deltashare/deltashare/internal/sharedtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every DAT case: the snapshot at each expected version has the expected version, protocol,
// properties and number of live rows.
func TestDATCases(t *testing.T) {
	ctx := context.Background()
	cases, err := filepath.Glob(filepath.Join(sharedtest.Path(t, "delta", "dat"), "*"))
	require.NoError(t, err)
	require.NotEmpty(t, cases)
	checked := 0
	for _, c := range cases {
		t.Run(filepath.Base(c), func(t *testing.T) {
			tbl := mustOpen(t, filepath.Join(c, "delta"))
			exps, err := filepath.Glob(filepath.Join(c, "expected", "*"))
			require.NoError(t, err)
			require.NotEmpty(t, exps)
			for _, e := range exps {
				var md struct {
					Version          int64             `json:"version"`
					Properties       map[string]string `json:"properties"`
					MinReaderVersion int               `json:"min_reader_version"`
					MinWriterVersion int               `json:"min_writer_version"`
				}
				b, err := os.ReadFile(filepath.Join(e, "table_version_metadata.json"))
				require.NoError(t, err)
				require.NoError(t, json.Unmarshal(b, &md))
				want := int64(-1)
				if name := filepath.Base(e); name != "latest" {
					want = md.Version
					require.Equal(t, "v", name[:1])
				} else {
					lv, err := tbl.LatestVersion(ctx)
					require.NoError(t, err)
					assert.Equal(t, md.Version, lv)
				}
				snap, err := tbl.Snapshot(ctx, want)
				require.NoError(t, err, e)
				assert.Equal(t, md.Version, snap.Version, e)
				assert.Equal(t, md.MinReaderVersion, snap.Protocol.MinReaderVersion, e)
				assert.Equal(t, md.MinWriterVersion, snap.Protocol.MinWriterVersion, e)
				assert.Equal(t, md.Properties, snap.Metadata.Configuration, e)
				require.NotNil(t, snap.Schema)

				// expected rows: table_content.parquet is a directory of part files
				var wantRows int64
				parts, err := filepath.Glob(filepath.Join(e, "table_content.parquet", "*.parquet"))
				require.NoError(t, err)
				require.NotEmpty(t, parts)
				for _, p := range parts {
					wantRows += parquetRows(t, p)
				}
				got, ok := statsRows(snap)
				if !ok {
					require.True(t, strings.Contains(c, "no_stats") || strings.Contains(c, "stats_as_struct"),
						"%s: only the no-stats cases should lack numRecords", e)
				} else {
					assert.Equal(t, wantRows, got, "%s: rows from stats", e)
				}
				assert.Equal(t, wantRows, liveFooterRows(t, tbl, snap), "%s: rows from footers", e)
				checked++
			}
		})
	}
	t.Logf("checked %d DAT expectations", checked)
}

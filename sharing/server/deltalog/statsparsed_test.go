package deltalog

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deltashare/deltashare/internal/sharedtest"
	"github.com/parquet-go/parquet-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Where a checkpoint holds both the JSON stats and stats_parsed, the JSON rebuilt from
// stats_parsed (used when a writer omits the JSON) equals the JSON the writer wrote.
func TestStatsParsedMatchesJSONStats(t *testing.T) {
	root := sharedtest.Path(t, "delta")
	var files []string
	require.NoError(t, filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() && strings.HasSuffix(p, ".parquet") && strings.Contains(p, "_delta_log") {
			files = append(files, p)
		}
		return err
	}))
	compared := 0
	for _, p := range files {
		f, err := os.Open(p)
		require.NoError(t, err)
		st, _ := f.Stat()
		pf, err := parquet.OpenFile(f, st.Size())
		require.NoError(t, err, p)
		for _, rg := range pf.RowGroups() {
			g := &rowGroup{root: pf.Root(), rg: rg, n: int(rg.NumRows()), cache: map[int][]parquet.Value{}}
			base, ok := g.find("add")
			if !ok {
				continue
			}
			stats, err := g.scalar(base, "stats")
			require.NoError(t, err)
			sp, err := g.statsParsedDecoder(base, nil) // nil: pretend no JSON stats were written
			require.NoError(t, err)
			if sp == nil || stats == nil {
				continue
			}
			for r := 0; r < g.n; r++ {
				if !present(stats, r) {
					continue
				}
				var want, got map[string]any
				require.NoError(t, json.Unmarshal(stats[r].ByteArray(), &want))
				require.NoError(t, json.Unmarshal([]byte(sp.json(r)), &got), sp.json(r))
				// stats_parsed holds only the columns the writer chose; compare those.
				for k, gv := range got {
					assert.Equal(t, want[k], gv, "%s row %d: %s", p, r, k)
				}
				assert.Equal(t, want["numRecords"], got["numRecords"])
				compared++
			}
		}
		f.Close()
	}
	t.Logf("compared %d rows", compared)
	assert.Positive(t, compared)
}

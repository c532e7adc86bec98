package bench

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseAnchor(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     map[string]Anchor
		err      string
	}{
		{
			name: "three formats among npm noise",
			in: "npm warn Unknown user config \"nodedir\".\n" +
				"duckdb csv rows=1111930 seconds=0.586 rows_per_s=1897918 out_bytes=45342779\n" +
				"duckdb ndjson rows=1111930 seconds=0.970 rows_per_s=1146509 out_bytes=107748503\n" +
				"duckdb parquet rows=1111930 seconds=0.409 rows_per_s=2720002 out_bytes=3888116\n",
			want: map[string]Anchor{
				"csv":     {Format: "csv", Rows: 1111930, Seconds: 0.586, RowsPerSec: 1897918, OutBytes: 45342779},
				"ndjson":  {Format: "ndjson", Rows: 1111930, Seconds: 0.970, RowsPerSec: 1146509, OutBytes: 107748503},
				"parquet": {Format: "parquet", Rows: 1111930, Seconds: 0.409, RowsPerSec: 2720002, OutBytes: 3888116},
			},
		},
		{name: "nothing", in: "", want: map[string]Anchor{}},
		{name: "bad number", in: "duckdb csv rows=x seconds=1 rows_per_s=1 out_bytes=1\n", err: "rows"},
		{name: "missing field", in: "duckdb csv rows=10 seconds=1\n", err: "want rows"},
		{name: "not key=value", in: "duckdb csv rows=10 seconds\n", err: "not key=value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseAnchor(strings.NewReader(tc.in))
			if tc.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestBestKeepsFastestTimeAndHighestRSS(t *testing.T) {
	samples := []Sample{
		{Measurement{Seconds: 4, CPUSeconds: 5, PeakRSS: 200e6}, 10_000_000, 1_000_000_000},
		{Measurement{Seconds: 2, CPUSeconds: 3, PeakRSS: 150e6}, 10_000_000, 1_000_000_000},
		{Measurement{Seconds: 3, CPUSeconds: 4, PeakRSS: 250e6}, 10_000_000, 1_000_000_000},
	}
	duck := []Anchor{
		{Format: "csv", Rows: 10_000_000, Seconds: 2.5, RowsPerSec: 4e6},
		{Format: "csv", Rows: 10_000_000, Seconds: 2.0, RowsPerSec: 5e6},
	}
	r := Best("bench-10M", KindBase, "csv", samples, duck)
	assert.Equal(t, 2.0, r.Seconds)
	assert.Equal(t, 3.0, r.CPUSeconds)
	assert.Equal(t, 5e6, r.RowsPerSec)
	assert.Equal(t, 500.0, r.MBPerSec)
	assert.Equal(t, 250.0, r.PeakRSSMB, "the worst peak RSS of all runs")
	assert.Equal(t, []float64{4, 2, 3}, r.AllSeconds)
	require.NotNil(t, r.DuckDB)
	assert.Equal(t, 2.0, r.DuckDB.Seconds)
	assert.Equal(t, 5e6, r.DuckDB.RowsPerSec)
	assert.InDelta(t, 1.0, r.Ratio, 1e-9)
	assert.Equal(t, 0.7, r.Target)
	assert.Equal(t, "PASS", r.Speed)

	slow := Best("t", KindOther, "ndjson", samples[:1], []Anchor{{Format: "ndjson", Rows: 10_000_000, Seconds: 2}})
	assert.InDelta(t, 0.5, slow.Ratio, 1e-9)
	assert.Equal(t, "MISS", slow.Speed, "NDJSON must reach 1.0x")

	none := Best("t", KindOther, "parquet", samples, nil)
	assert.Nil(t, none.DuckDB)
	assert.Equal(t, "n/a", none.Speed)
}

func TestCheckRSS(t *testing.T) {
	results := []Result{
		{Table: "bench-10M", Kind: KindBase, Format: "csv", PeakRSSMB: 200},
		{Table: "bench-10M", Kind: KindBase, Format: "parquet", PeakRSSMB: 310},
		{Table: "bench-40M", Kind: KindLarge, Format: "csv", PeakRSSMB: 239},
		{Table: "bench-40M", Kind: KindLarge, Format: "parquet", PeakRSSMB: 380},
		{Table: "bench-40M", Kind: KindLarge, Format: "ndjson", PeakRSSMB: 360},
		{Table: "COVID-19_NYT", Kind: KindOther, Format: "csv", PeakRSSMB: 999},
	}
	CheckRSS(results)
	want := []struct{ target, status string }{
		{"<300", "PASS"},
		{"<300", "MISS"},
		{"<=240", "PASS"},
		{"<=372", "MISS"},
		{"<=372", "PASS"}, // no ndjson run on the base table: held to its highest
		{"-", ""},
	}
	for i, w := range want {
		assert.Equal(t, w.target, results[i].RSSTarget, results[i].Table+" "+results[i].Format)
		if w.status != "" {
			assert.Equal(t, w.status, results[i].RSS, results[i].Table+" "+results[i].Format)
		}
	}
}

func TestWriteTableAligns(t *testing.T) {
	rs := []Result{
		Best("bench-10M", KindBase, "csv", []Sample{{Measurement{Seconds: 2, PeakRSS: 100e6}, 10_000_000, 2e9}},
			[]Anchor{{Format: "csv", Rows: 10_000_000, Seconds: 1}}),
		Best("COVID-19_NYT", KindOther, "parquet", []Sample{{Measurement{Seconds: 0.5, PeakRSS: 50e6}, 1_111_930, 5e6}}, nil),
	}
	CheckRSS(rs)
	var b strings.Builder
	require.NoError(t, WriteTable(&b, rs))
	lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	require.Len(t, lines, 3)
	assert.True(t, strings.HasPrefix(lines[0], "table"))
	assert.Contains(t, lines[1], "bench-10M")
	assert.Contains(t, lines[1], "5000000") // rows/s
	assert.Contains(t, lines[1], "0.50x")   // ratio
	assert.Contains(t, lines[1], "MISS")
	assert.Contains(t, lines[2], "n/a")
	// Right-aligned numeric columns end at the same offset in every line.
	col := strings.Index(lines[0], "rows/s") + len("rows/s")
	for _, l := range lines[1:] {
		assert.NotEqual(t, byte(' '), l[col-1], "rows/s column is right-aligned: %q", l)
	}
}

func TestMeasureReportsTimeAndPeakRSS(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	m, err := Measure(exec.Command(sh, "-c", "exit 0"))
	require.NoError(t, err)
	assert.Greater(t, m.Seconds, 0.0)
	assert.Greater(t, m.PeakRSS, int64(0), "rusage gives the child's peak RSS")

	_, err = Measure(exec.Command(sh, "-c", "exit 3"))
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, 3, ee.ExitCode())
}

func TestReportWriteJSON(t *testing.T) {
	path := filepath.Join(t.TempDir(), "results.json")
	r := &Report{Date: "2026-01-01T00:00:00Z", Repeats: 3, Results: []Result{{Table: "t", Format: "csv", Rows: 5}}}
	require.NoError(t, r.WriteJSON(path))
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"table": "t"`)
	assert.Contains(t, string(b), `"repeats": 3`)
	_, err = os.Stat(path + ".tmp")
	assert.True(t, os.IsNotExist(err))
}

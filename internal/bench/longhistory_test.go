package bench

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMedian(t *testing.T) {
	assert.Zero(t, Median(nil))
	assert.Equal(t, 2.0, Median([]float64{3, 1, 2}))
	assert.Equal(t, 2.5, Median([]float64{4, 1, 3, 2}))
	xs := []float64{3, 1, 2}
	Median(xs)
	assert.Equal(t, []float64{3, 1, 2}, xs, "the input is not reordered")
}

func TestHistoryResultRatioAndVerdict(t *testing.T) {
	r := NewHistoryResult("changes", 500, 5000, 10, 100, []float64{1, 2, 3}, []float64{3, 4, 100})
	assert.Equal(t, 2.0, r.ShortMs)
	assert.Equal(t, 4.0, r.LongMs)
	assert.Equal(t, 2.0, r.Ratio)
	assert.Equal(t, "PASS", r.Verdict, "a ratio of exactly the target passes")
	assert.Equal(t, 100.0, r.LongColdMs)

	r = NewHistoryResult("query", 500, 5000, 1, 1, []float64{1}, []float64{2.5})
	assert.Equal(t, "MISS", r.Verdict)
	r = NewHistoryResult("query", 500, 5000, 1, 1, nil, []float64{2.5})
	assert.Equal(t, "MISS", r.Verdict, "no short figure, no verdict of PASS")
}

func TestWriteHistoryTableAligns(t *testing.T) {
	var b strings.Builder
	require.NoError(t, WriteHistoryTable(&b, []HistoryResult{
		NewHistoryResult("changes, last 10 versions", 500, 5000, 170, 1500, []float64{0.8}, []float64{0.96}),
		NewHistoryResult("version", 500, 5000, 6, 20, []float64{0.2}, []float64{0.25}),
	}))
	lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	require.Len(t, lines, 3)
	assert.Contains(t, lines[0], "500 commits ms")
	assert.Contains(t, lines[0], "5000 commits ms")
	assert.Contains(t, lines[1], "1.20x")
	assert.Contains(t, lines[1], "PASS")
	// The ratio column ends at the same offset on every line.
	end := strings.Index(lines[0], "ratio") + len("ratio")
	for _, l := range lines[1:] {
		assert.Equal(t, "x", l[end-1:end], l)
	}
}

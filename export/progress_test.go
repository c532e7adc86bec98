package export

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deltashare/deltashare/formats"
)

type fakeProgress struct {
	starts      [][2]int64
	adds        int
	rows, bytes int64
	files       int
	finishes    int
	inputs      [][2]int // (done, total) input files, per Files call
}

func (p *fakeProgress) Files(done, total int) { p.inputs = append(p.inputs, [2]int{done, total}) }

func (p *fakeProgress) Start(rows, bytes int64) { p.starts = append(p.starts, [2]int64{rows, bytes}) }
func (p *fakeProgress) Add(rows, bytes int64, files int) {
	p.adds++
	p.rows += rows
	p.bytes += bytes
	p.files += files
}
func (p *fakeProgress) Finish() { p.finishes++ }

func TestProgressCounts(t *testing.T) {
	recs := makeRecords(t, memory.DefaultAllocator, 0, []int{5, 4, 4, 7}, nil)
	defer releaseAll(recs)
	dir := t.TempDir()
	p := &fakeProgress{}
	src := withFiles(newSource(recs), []int{0, 0, 1, 2})
	sum, err := Run(context.Background(), src, NewLocalSink(dir), Options{Format: formats.Options{Format: formats.CSV}, Progress: p})
	require.NoError(t, err)
	assert.Equal(t, [][2]int64{{20, 12345}}, p.starts)
	assert.EqualValues(t, 20, p.rows)
	assert.Equal(t, 3, p.files)
	assert.Equal(t, sum.Bytes, p.bytes)
	assert.Equal(t, 1, p.finishes)
	assert.Equal(t, 5, p.adds, "one per record and one at the end")
	// Input files (not outputs): records of files 0, 0, 1, 2; then all 3 read.
	assert.Equal(t, [][2]int{{0, 3}, {0, 3}, {1, 3}, {2, 3}, {3, 3}}, p.inputs)
	var size int64
	for _, n := range listFiles(t, dir) {
		fi, err := os.Stat(filepath.Join(dir, n))
		require.NoError(t, err)
		size += fi.Size()
	}
	assert.Equal(t, size, sum.Bytes)

	t.Run("unknown totals and a failure still finish", func(t *testing.T) {
		p := &fakeProgress{}
		src := newSource(recs)
		src.failAfter = 1
		_, err := Run(context.Background(), src, NewLocalSink(t.TempDir()), Options{Format: formats.Options{Format: formats.CSV}, Progress: p})
		require.Error(t, err)
		assert.Equal(t, [][2]int64{{-1, -1}}, p.starts)
		assert.Equal(t, 1, p.finishes)
	})
}

func TestBar(t *testing.T) {
	var buf bytes.Buffer
	now := time.Unix(1000, 0)
	b := NewBar(&buf)
	b.now = func() time.Time { return now }
	b.Start(1000, -1)
	b.Add(250, 2048, 0) // first Add draws
	now = now.Add(50 * time.Millisecond)
	b.Add(250, 2048, 1) // too soon: no redraw
	assert.Equal(t, 1, strings.Count(buf.String(), "\r"))
	now = now.Add(time.Second - 50*time.Millisecond)
	b.Add(0, 0, 0)
	assert.Equal(t, 2, strings.Count(buf.String(), "\r"))
	assert.Equal(t, "[==========          ]  50% 500 rows, 1 file, 4.0 KiB, 500 rows/s, 4.0 KiB/s, ETA 1s", b.Line(time.Second))
	b.Finish()
	assert.True(t, strings.HasSuffix(buf.String(), "\n"))

	nb := NewBar(&buf)
	nb.Start(-1, -1)
	nb.Add(1234567, 3<<20, 2)
	assert.Equal(t, "1,234,567 rows, 2 files, 3.0 MiB, 617,283 rows/s, 1.5 MiB/s", nb.Line(2*time.Second))

	// With input files known, the bar counts them (done/total), not the outputs.
	ib := NewBar(&buf)
	ib.Start(-1, -1)
	ib.Add(1, 10, 0)
	ib.Files(1, 12)
	assert.Equal(t, "1 row, 1/12 files, 10 B", ib.Line(0))
	ib.Files(12, 12)
	assert.Equal(t, "1 row, 12/12 files, 10 B", ib.Line(0))
}

func TestTerminalProgressIsSilentOffTerminal(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "stderr")
	require.NoError(t, err)
	defer f.Close()
	p := TerminalProgress(f)
	assert.IsType(t, NoProgress{}, p)
	p.Start(1, 1)
	p.Add(1, 1, 1)
	p.Finish()
	fi, err := f.Stat()
	require.NoError(t, err)
	assert.Zero(t, fi.Size())
}

func TestSummary(t *testing.T) {
	s := &Summary{Rows: 1000000, Files: 4, Bytes: 24641536, Seconds: 1.25, Outputs: []string{"a", "b"}, TableVersion: 7}
	assert.Equal(t, "exported 1,000,000 rows to 4 files (23.5 MiB) in 1.25s (800,000 rows/s), table version 7", s.Text())
	one := &Summary{Rows: 1, Files: 1, Bytes: 12, TableVersion: -1, Removed: []string{"x"}}
	assert.Equal(t, "exported 1 row to 1 file (12 B) in 0.00s, 1 old part file removed", one.Text())
	b, err := json.Marshal(s)
	require.NoError(t, err)
	assert.JSONEq(t, `{"rows":1000000,"files":4,"bytes":24641536,"seconds":1.25,"outputs":["a","b"],"tableVersion":7}`, string(b))
}

func TestHumanBytes(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 1536: "1.5 KiB", 5 << 30: "5.0 GiB", 1 << 62: "4096.0 PiB"} {
		assert.Equal(t, want, HumanBytes(n), n)
	}
	assert.Equal(t, "-1,234", groupDigits(-1234))
	assert.Equal(t, "123", groupDigits(123))
}

package export

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deltashare/deltashare/formats"
)

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(b)
}

func TestOverwriteFile(t *testing.T) {
	recs := makeRecords(t, memory.DefaultAllocator, 0, []int{3}, nil)
	defer releaseAll(recs)
	dir := t.TempDir()
	out := filepath.Join(dir, "out.csv")
	writeFile(t, out, "previous export\n")
	opts := Options{Output: out, Format: formats.Options{Format: formats.CSV}}

	_, err := Run(context.Background(), newSource(recs), nil, opts)
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrExists)
	assert.Equal(t, "use {Overwrite} to replace it, or choose another name", hintOf(err))
	assert.Contains(t, err.Error(), out+" already exists: use the Overwrite option to replace it")
	assert.Equal(t, "previous export\n", readFile(t, out))
	assert.Equal(t, []string{"out.csv"}, listFiles(t, dir))

	opts.Overwrite = true
	_, err = Run(context.Background(), newSource(recs), nil, opts)
	require.NoError(t, err)
	assert.Equal(t, idRange(0, 3), csvIDs(t, readCSV(t, out)))
	assert.Equal(t, []string{"out.csv"}, listFiles(t, dir))
}

func TestOverwriteDirectory(t *testing.T) {
	recs := makeRecords(t, memory.DefaultAllocator, 0, []int{3, 4}, nil)
	defer releaseAll(recs)
	dir := t.TempDir()
	// An earlier partitioned parquet export, and files that are not ours.
	writeFile(t, filepath.Join(dir, "region=EMEA", "part-00000.parquet"), "old")
	writeFile(t, filepath.Join(dir, "region=EMEA", "part-00001.parquet"), "old")
	writeFile(t, filepath.Join(dir, "part-00000.csv"), "old")
	writeFile(t, filepath.Join(dir, "README.txt"), "keep me")
	writeFile(t, filepath.Join(dir, "notes", "part-00000.csv"), "not under a col=value directory")
	before := listFiles(t, dir)
	opts := Options{Format: formats.Options{Format: formats.CSV}}

	_, err := Run(context.Background(), newSource(recs), NewLocalSink(dir), opts)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "already holds 3 part files")
	assert.ErrorIs(t, err, ErrExists)
	assert.Equal(t, "use {Overwrite} to replace them, or choose another directory", hintOf(err))
	assert.Contains(t, err.Error(), "...): use the Overwrite option to replace them")
	assert.Equal(t, before, listFiles(t, dir))
	assert.Equal(t, "old", readFile(t, filepath.Join(dir, "part-00000.csv")))

	opts.Overwrite = true
	sum, err := Run(context.Background(), newSource(recs), NewLocalSink(dir), opts)
	require.NoError(t, err)
	assert.Equal(t, []string{"README.txt", "notes/part-00000.csv", "part-00000.csv"}, listFiles(t, dir))
	assert.Equal(t, idRange(0, 7), csvIDs(t, readCSV(t, filepath.Join(dir, "part-00000.csv"))))
	assert.Equal(t, []string{filepath.Join(dir, "region=EMEA", "part-00000.parquet"), filepath.Join(dir, "region=EMEA", "part-00001.parquet")}, sum.Removed)
	_, err = os.Stat(filepath.Join(dir, "region=EMEA"))
	assert.True(t, errors.Is(err, os.ErrNotExist), "emptied partition directory should be removed")
}

func TestOtherFilesNeedNoOverwrite(t *testing.T) {
	recs := makeRecords(t, memory.DefaultAllocator, 0, []int{3}, nil)
	defer releaseAll(recs)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "_SUCCESS"), "")
	writeFile(t, filepath.Join(dir, "data.csv"), "x")
	writeFile(t, filepath.Join(dir, ".part-00000.csv"+TempMarker+"0011223344556677"), "stale temp of a killed run")
	_, err := Run(context.Background(), newSource(recs), NewLocalSink(dir), Options{Format: formats.Options{Format: formats.CSV}})
	require.NoError(t, err)
	assert.Contains(t, listFiles(t, dir), "part-00000.csv")
}

// cancelAt returns a source hook that cancels after record k has been handed out.
func TestFailureLeavesNothing(t *testing.T) {
	modes := []struct {
		name     string
		output   string // relative to the temp dir
		opts     Options
		previous map[string]string
	}{
		{"single file", "out.csv", Options{Overwrite: true}, map[string]string{"out.csv": "previous"}},
		{"directory", "out/", Options{Overwrite: true, MaxRowsPerFile: 4}, map[string]string{"out/part-00000.csv": "previous", "out/part-00007.csv": "previous"}},
		{"partitioned into a new directory", "new/deeper/", Options{PartitionBy: []string{"region"}}, nil},
		{"parquet", "out.parquet", Options{}, nil},
	}
	failures := []struct {
		name     string
		setup    func(s *testSource, cancel context.CancelFunc)
		canceled bool
		want     string
	}{
		{"source error", func(s *testSource, _ context.CancelFunc) { s.failAfter = 2 }, false, "connection reset while reading file 3"},
		{"cancelled", func(s *testSource, cancel context.CancelFunc) {
			s.before = func(i int) {
				if i == 1 {
					cancel()
				}
			}
		}, true, "export cancelled"},
		{"cancelled at the end", func(s *testSource, cancel context.CancelFunc) {
			s.before = func(i int) {
				if i == 2 {
					cancel()
				}
			}
		}, true, "export cancelled"},
	}
	for _, m := range modes {
		for _, f := range failures {
			t.Run(m.name+"/"+f.name, func(t *testing.T) {
				mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
				defer mem.AssertSize(t, 0)
				recs := makeRecords(t, mem, 0, []int{5, 6, 7}, nil)
				defer releaseAll(recs)
				dir := t.TempDir()
				for n, c := range m.previous {
					writeFile(t, filepath.Join(dir, n), c)
				}
				before := listAll(t, dir)
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				src := newSource(recs)
				f.setup(src, cancel)
				opts := m.opts
				opts.Output = filepath.Join(dir, m.output)
				if strings.HasSuffix(m.output, "/") {
					opts.Output += "/"
				}
				opts.Format = formats.Options{Format: formats.CSV}
				if strings.HasSuffix(m.output, ".parquet") {
					opts.Format = formats.Options{Format: formats.Parquet, Allocator: mem}
				}
				sum, err := Run(ctx, src, nil, opts)
				require.Error(t, err)
				assert.Nil(t, sum)
				assert.Contains(t, err.Error(), f.want)
				assert.Equal(t, f.canceled, errors.Is(err, context.Canceled), err)
				assert.Equal(t, before, listAll(t, dir), "the directory must look as before")
				for n, c := range m.previous {
					assert.Equal(t, c, readFile(t, filepath.Join(dir, n)))
				}
			})
		}
	}
}

// failSink wraps a LocalSink; objects whose name is failName fail to commit, and writes fail
// after failWriteAfter bytes when it is positive.
type failSink struct {
	*LocalSink
	failName       string
	failWriteAfter int
}

type failObject struct {
	Object
	s       *failSink
	name    string
	written int
}

func (s *failSink) Create(ctx context.Context, name string) (Object, error) {
	o, err := s.LocalSink.Create(ctx, name)
	if err != nil {
		return nil, err
	}
	return &failObject{Object: o, s: s, name: name}, nil
}

func (o *failObject) Write(p []byte) (int, error) {
	if o.s.failWriteAfter > 0 && o.written+len(p) > o.s.failWriteAfter {
		return 0, syscall.ENOSPC
	}
	o.written += len(p)
	return o.Object.Write(p)
}

func (o *failObject) Commit() error {
	if o.name == o.s.failName {
		_ = o.Object.Abort()
		return errors.New("injected rename failure")
	}
	return o.Object.Commit()
}

func (o *failObject) Close() error { return o.Object.(io.Closer).Close() }

func TestCommitFailureRemovesWhatItRenamed(t *testing.T) {
	recs := makeRecords(t, memory.DefaultAllocator, 0, []int{5, 6, 7}, nil)
	defer releaseAll(recs)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "README.txt"), "keep")
	sink := &failSink{LocalSink: NewLocalSink(dir), failName: "part-00002.csv"}
	_, err := Run(context.Background(), newSource(recs), sink, Options{Format: formats.Options{Format: formats.CSV}, MaxRowsPerFile: 5})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "commit "+filepath.Join(dir, "part-00002.csv"))
	assert.Contains(t, err.Error(), "injected rename failure")
	assert.Contains(t, err.Error(), "the 2 files already committed in this run were removed")
	assert.Equal(t, []string{"README.txt"}, listAll(t, dir))
}

func TestUnwritableDestination(t *testing.T) {
	recs := makeRecords(t, memory.DefaultAllocator, 0, []int{3}, nil)
	defer releaseAll(recs)
	t.Run("parent is a file", func(t *testing.T) {
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, "blocker"), "x")
		for _, out := range []string{"blocker/out.csv", "blocker/sub/"} {
			_, err := Run(context.Background(), newSource(recs), nil, Options{Output: dir + "/" + out, Format: formats.Options{Format: formats.CSV}})
			require.Error(t, err, out)
			assert.ErrorIs(t, err, syscall.ENOTDIR)
			assert.Contains(t, err.Error(), "choose another output")
			assert.Equal(t, []string{"blocker"}, listAll(t, dir))
		}
	})
	t.Run("read-only directory", func(t *testing.T) {
		if os.Geteuid() == 0 {
			t.Skip("root writes into read-only directories")
		}
		dir := t.TempDir()
		ro := filepath.Join(dir, "ro")
		require.NoError(t, os.Mkdir(ro, 0o555))
		defer os.Chmod(ro, 0o755)
		_, err := Run(context.Background(), newSource(recs), nil, Options{Output: filepath.Join(ro, "x", "out.csv"), Format: formats.Options{Format: formats.CSV}})
		require.ErrorIs(t, err, os.ErrPermission)
		assert.Contains(t, err.Error(), "writable")
		assert.Equal(t, []string{"ro"}, listAll(t, dir))
	})
}

// otherSchemaSource yields a record of another schema second.
type otherSchemaSource struct {
	*testSource
	other arrow.Record
}

func (s *otherSchemaSource) Record() arrow.Record {
	if s.i == 1 {
		return s.other
	}
	return s.testSource.Record()
}

func TestEncoderErrorsNameTheFile(t *testing.T) {
	recs := makeRecords(t, memory.DefaultAllocator, 0, []int{3, 3, 3}, nil)
	defer releaseAll(recs)
	t.Run("record of another schema", func(t *testing.T) {
		dir := t.TempDir()
		other := recs[0].NewSlice(0, 1)
		defer other.Release()
		cols := other.Columns()[:2]
		short := recordOf(t, cols)
		defer short.Release()
		src := &otherSchemaSource{testSource: newSource(recs), other: short}
		_, err := Run(context.Background(), src, NewLocalSink(dir), Options{Format: formats.Options{Format: formats.NDJSON}})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "write "+filepath.Join(dir, "part-00000.ndjson"))
		assert.Contains(t, err.Error(), "record has 2 columns")
		assert.Empty(t, listAll(t, dir))
	})
	t.Run("disk full", func(t *testing.T) {
		dir := t.TempDir()
		sink := &failSink{LocalSink: NewLocalSink(dir), failWriteAfter: 10}
		_, err := Run(context.Background(), newSource(recs), sink, Options{Output: "x.csv", Format: formats.Options{Format: formats.CSV}})
		require.Error(t, err)
		assert.Contains(t, err.Error(), filepath.Join(dir, "x.csv"))
		assert.ErrorIs(t, err, syscall.ENOSPC)
		assert.Empty(t, listAll(t, dir))
	})
}

func recordOf(t *testing.T, cols []arrow.Array) arrow.Record {
	fields := make([]arrow.Field, len(cols))
	for i, c := range cols {
		fields[i] = arrow.Field{Name: fmt.Sprint("c", i), Type: c.DataType(), Nullable: true}
	}
	return arrowRecord(arrow.NewSchema(fields, nil), cols)
}

package reader

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/apache/arrow/go/v17/parquet/compress"
	"github.com/apache/arrow/go/v17/parquet/file"
	"github.com/apache/arrow/go/v17/parquet/pqarrow"

	"github.com/deltashare/deltashare/internal/sharedtest"
	"github.com/deltashare/deltashare/internal/sharingtest"
	"github.com/deltashare/deltashare/sharing/delta"
	"github.com/deltashare/deltashare/sharing/protocol"
)

// FuzzReadParquet mutates real Parquet data files (the demo tables', files compressed with
// snappy, zstd and gzip, and third-party tables' from ../shared/testdata) and decodes them as
// the reader decodes a downloaded file, with the table schema the file's own footer implies.
// Whatever the bytes, decoding ends with records or an error: no panic, no hang, and every
// buffer released.
func FuzzReadParquet(f *testing.F) {
	var seeds [][]byte
	demo, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "demo", "sales", "*", "*", "*.parquet"))
	for _, p := range demo[:min(len(demo), 2)] {
		if b, err := os.ReadFile(p); err == nil {
			seeds = append(seeds, b)
		}
	}
	for _, codec := range []compress.Compression{compress.Codecs.Snappy, compress.Codecs.Zstd, compress.Codecs.Gzip} {
		b, err := os.ReadFile(filepath.Join(sharingtest.CompressedTable(f, codec), sharingtest.CompressedTableFile))
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, b)
	}
	for _, dir := range []string{"delta/delta-rs/simple_table", "delta/kernel-cdf/cdf-column-mapping-name-mode", "delta/r-fixtures/cdf"} {
		s := sharedtest.Seeds(dir, "*.parquet")
		seeds = append(seeds, s[:min(len(s), 2)]...)
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<20 {
			return
		}
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		err := decodeBytes(t, mem, data) // records or an error; a panic fails the target
		// After a decoder panic (recovered) Arrow may not have released the aborted batch's
		// buffers to the allocator; otherwise every buffer must be released.
		if dp := (*decoderPanic)(nil); !errors.As(err, &dp) {
			mem.AssertSize(t, 0)
		}
	})
}

// decodeBytes decodes data as a downloaded data file of a table whose schema is the one the
// file's footer implies (or a fixed one when the footer does not read).
func decodeBytes(t *testing.T, mem memory.Allocator, data []byte) error {
	t.Helper()
	st := footerSchema(data)
	if st == nil || len(st.Fields) == 0 {
		st = &delta.StructType{Fields: []*delta.StructField{
			{Name: "id", Type: &delta.PrimitiveType{Name: delta.TypeLong}, Nullable: true},
			{Name: "city", Type: &delta.PrimitiveType{Name: delta.TypeString}, Nullable: true},
		}}
	}
	ss, err := delta.MarshalSchema(st)
	if err != nil {
		t.Fatal(err)
	}
	tm := &protocol.TableMetadata{Protocol: delta.Protocol{MinReaderVersion: 1}, Metadata: delta.Metadata{SchemaString: ss}}
	opts := ReadOptions{Allocator: mem, BatchSize: 512, MaxInMemoryFile: DefaultMaxInMemoryFile}
	plan, err := newPlan(protocol.Table{Share: "s", Schema: "d", Name: "fuzz"}, tm, false, opts)
	if err != nil {
		return nil // a footer schema the table model refuses (duplicate names, ...)
	}
	r := &Reader{plan: plan, log: slog.New(slog.NewTextHandler(io.Discard, nil)), opts: opts}
	s := &fileSlot{ch: make(chan slotItem, 2)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for it := range s.ch {
			if it.rec != nil {
				it.rec.Release()
			}
		}
	}()
	err = r.decodeFile(context.Background(), s, protocol.File{ID: "f", Size: int64(len(data))}, nil, bytes.NewReader(data), false, nil, nil)
	close(s.ch)
	<-done
	return err
}

// footerSchema is the Delta schema of the top-level columns of data's footer whose types have
// a Delta equivalent; nil when the footer does not read.
func footerSchema(data []byte) (st *delta.StructType) {
	defer func() {
		if recover() != nil {
			st = nil
		}
	}()
	pf, err := file.NewParquetReader(bytes.NewReader(data))
	if err != nil {
		return nil
	}
	defer pf.Close()
	sc, err := pqarrow.FromParquet(pf.MetaData().Schema, nil, nil) // the reader ignores the stored Arrow schema too
	if err != nil {
		return nil
	}
	st = &delta.StructType{}
	seen := map[string]bool{}
	for _, fld := range sc.Fields() {
		if dt := deltaType(fld.Type); dt != nil && !seen[fld.Name] {
			seen[fld.Name] = true
			st.Fields = append(st.Fields, &delta.StructField{Name: fld.Name, Type: dt, Nullable: true})
		}
	}
	return st
}

// deltaType is the Delta type of an Arrow type read from a Parquet file; nil when none.
func deltaType(at arrow.DataType) delta.DataType {
	prim := func(n string) delta.DataType { return &delta.PrimitiveType{Name: n} }
	switch t := at.(type) {
	case *arrow.Int8Type:
		return prim(delta.TypeByte)
	case *arrow.Int16Type:
		return prim(delta.TypeShort)
	case *arrow.Int32Type:
		return prim(delta.TypeInteger)
	case *arrow.Int64Type:
		return prim(delta.TypeLong)
	case *arrow.Float32Type:
		return prim(delta.TypeFloat)
	case *arrow.Float64Type:
		return prim(delta.TypeDouble)
	case *arrow.BooleanType:
		return prim(delta.TypeBoolean)
	case *arrow.StringType, *arrow.LargeStringType:
		return prim(delta.TypeString)
	case *arrow.BinaryType, *arrow.LargeBinaryType:
		return prim(delta.TypeBinary)
	case *arrow.Date32Type:
		return prim(delta.TypeDate)
	case *arrow.TimestampType:
		if t.TimeZone == "" {
			return prim(delta.TypeTimestampNTZ)
		}
		return prim(delta.TypeTimestamp)
	case *arrow.Decimal128Type:
		return &delta.DecimalType{Precision: int(t.Precision), Scale: int(t.Scale)}
	case *arrow.ListType:
		if e := deltaType(t.Elem()); e != nil {
			return &delta.ArrayType{ElementType: e, ContainsNull: true}
		}
	case *arrow.StructType:
		st := &delta.StructType{}
		for _, fld := range t.Fields() {
			dt := deltaType(fld.Type)
			if dt == nil {
				return nil
			}
			st.Fields = append(st.Fields, &delta.StructField{Name: fld.Name, Type: dt, Nullable: true})
		}
		if len(st.Fields) > 0 {
			return st
		}
	}
	return nil
}

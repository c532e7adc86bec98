package reader

import (
	"errors"
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/deltashare/deltashare/internal/hint"

	"github.com/apache/arrow/go/v17/parquet/file"
	"github.com/apache/arrow/go/v17/parquet/metadata"
	"github.com/apache/arrow/go/v17/parquet/schema"
)

// Damaged data files. Arrow's page codecs report a corrupt compressed page (snappy, zstd, gzip,
// ...) by panicking: their interface returns no error. Every call into the Parquet decoder is
// made through decoding, which turns such a panic into an error; a decoding error is then
// traced to the column whose pages are damaged, so that the message names the table, the file
// and the column. The worker reading a file also recovers (see Reader.start): a panic anywhere
// else while reading a downloaded file fails the read instead of the process.

// ErrCorruptFile marks an error reading a data file whose bytes cannot be decoded: a damaged
// page, a bad footer, values that do not fit the file's own metadata.
var ErrCorruptFile = errors.New("the data file is damaged")

// corruptAdvice is the advice of an ErrCorruptFile error.
const corruptAdvice = "the table's data file is damaged on the server (or was changed in transit): tell the data provider; retrying will not help"

// decoding runs f, a call into the Parquet decoder, and turns a panic in it into an error.
func decoding(f func() error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = panicError(v)
		}
	}()
	return f()
}

// panicError is the error of a recovered panic value: the codec's own error when it is one.
// Buffers Arrow had allocated for the batch being decoded may not have been released to the
// allocator (with Go's allocator, the default, the collector frees them).
func panicError(v any) error {
	return fmt.Errorf("%w: %w", ErrCorruptFile, &decoderPanic{v})
}

// decoderPanic is a panic recovered while decoding: its text is the panic's.
type decoderPanic struct{ v any }

func (p *decoderPanic) Error() string {
	if e, ok := p.v.(error); ok {
		return e.Error()
	}
	return fmt.Sprint(p.v)
}

func (p *decoderPanic) Unwrap() error {
	e, _ := p.v.(error)
	return e
}

// workerPanic is the error of a panic that reached the file boundary (a bug or a decoder path
// not covered by decoding): the stack goes to the log, not into the message.
func (r *Reader) workerPanic(v any) error {
	r.log.Error("panic while reading a data file", "table", r.plan.table.String(), "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
	return fmt.Errorf("%w, or deltashare has a bug: reading it failed unexpectedly (%v)", ErrCorruptFile, v)
}

// corruptColumn finds the first of leaves (leaf column indexes of pf) whose pages cannot be read
// (a page header, a decompression or a checksum fails), and the row group. ok is false
// when every page of these columns reads (the damage is elsewhere, e.g. in the values).
func corruptColumn(pf *file.Reader, leaves []int) (leaf, rowGroup int, ok bool) {
	l, rg, err := firstBadPage(pf, leaves)
	return l, rg, err != nil
}

// firstBadPage reads every page of leaves (leaf column indexes of pf), row group by row group,
// and returns the first leaf whose pages cannot be read, its row group and why; err is nil when
// all read.
func firstBadPage(pf *file.Reader, leaves []int) (leaf, rowGroup int, err error) {
	for rg := range pf.NumRowGroups() {
		for _, l := range leaves {
			err := decoding(func() error {
				pr, err := pf.RowGroup(rg).GetColumnPageReader(l)
				if err != nil {
					return err
				}
				for pr.Next() {
				}
				return pr.Err()
			})
			if err != nil {
				return l, rg, err
			}
		}
	}
	return 0, 0, nil
}

// leafName names leaf column l of sch for a message: the logical column name, plus the path in
// the file when it differs (a nested field, column mapping).
func leafName(sch *schema.Schema, l int, logical string) string {
	path := sch.Column(l).ColumnPath().String()
	if logical == "" || strings.EqualFold(path, logical) {
		if logical == "" {
			return path
		}
		return logical
	}
	return fmt.Sprintf("%s (%s in the file)", logical, path)
}

// decodeError is the error of decoding rows off and on of pf (leaves are the columns read,
// names their logical names). A failure of a local file is the file's damage: the damaged
// column is looked for (by reading its pages again) and named. A failure reading a file by
// byte ranges may be the network's: it is reported as it came unless a decoder panicked.
func decodeError(pf *file.Reader, leaves []int, names map[int]string, local bool, off int64, err error) error {
	if !local && !errors.Is(err, ErrCorruptFile) {
		return fmt.Errorf("decoding rows %d and on: %w", off, err)
	}
	if !errors.Is(err, ErrCorruptFile) {
		err = fmt.Errorf("%w: %w", ErrCorruptFile, err)
	}
	if l, rg, ok := corruptColumn(pf, leaves); ok {
		return hint.New(fmt.Errorf("column %s, row group %d: %w", leafName(pf.MetaData().Schema, l, names[l]), rg, err), corruptAdvice)
	}
	return hint.New(fmt.Errorf("decoding rows %d and on: %w", off, err), corruptAdvice)
}

// checkFooter checks, before pqarrow's column readers are made, what they take from the
// footer: they are made on goroutines of their own, where a panic on a damaged footer (a column
// chunk without metadata, ...) cannot be recovered. Every column chunk must have metadata, lie
// inside the file (size bytes) and not be encrypted.
func checkFooter(pf *file.Reader, size int64) error {
	md := pf.MetaData()
	n := md.Schema.NumColumns()
	for rg := range pf.NumRowGroups() {
		rmd := md.RowGroup(rg)
		if rmd.NumColumns() != n || rmd.NumRows() < 0 {
			return fmt.Errorf("%w: row group %d has %d columns and %d rows; the schema has %d columns", ErrCorruptFile, rg, rmd.NumColumns(), rmd.NumRows(), n)
		}
		for ci := range n {
			err := decoding(func() error {
				cc, err := rmd.ColumnChunk(ci)
				if err != nil {
					return err
				}
				if cc.CryptoMetadata() != nil {
					return errors.New("the column is encrypted, which this reader does not support")
				}
				start := cc.DataPageOffset()
				if d := cc.DictionaryPageOffset(); cc.HasDictionaryPage() && d > 0 && d < start {
					start = d
				}
				if l := cc.TotalCompressedSize(); start < 0 || l < 0 || start > size || l > size-start {
					return fmt.Errorf("%w: its bytes (%d from %d) are not inside the file of %d bytes", ErrCorruptFile, l, start, size)
				}
				if cc.NumValues() < 0 {
					return fmt.Errorf("%w: %d values", ErrCorruptFile, cc.NumValues())
				}
				return nil
			})
			if err != nil {
				if !errors.Is(err, ErrCorruptFile) {
					err = fmt.Errorf("%w: %w", ErrCorruptFile, err)
				}
				return fmt.Errorf("column %s, row group %d: %w", md.Schema.Column(ci).ColumnPath(), rg, err)
			}
		}
	}
	return nil
}

// checkNestedPages reads every page of the leaves (of those read) inside structs, lists and
// maps: pqarrow decodes the fields of a struct on goroutines of their own, where a panic on a
// damaged compressed page cannot be recovered. The pages are decompressed twice, for these
// columns only.
func checkNestedPages(pf *file.Reader, leaves []int) (leaf, rowGroup int, err error) {
	sch := pf.MetaData().Schema
	var nested []int
	for _, l := range leaves {
		if len(sch.Column(l).ColumnPath()) > 1 {
			nested = append(nested, l)
		}
	}
	return firstBadPage(pf, nested)
}

// arrowSchemaKey is the footer key under which Arrow writers store the Arrow schema of a file.
const arrowSchemaKey = "ARROW:schema"

// dropArrowSchema hides the Arrow schema stored in pf's footer from pqarrow. Decoding it trusts
// the lengths in its flatbuffer: a damaged one can ask for an allocation of any size, which ends
// the process (out of memory) where no recover reaches. The reader does not need it: the
// columns are read from the Parquet schema and aligned to the table's Delta schema.
func dropArrowSchema(pf *file.Reader) {
	kv := pf.MetaData().KeyValueMetadata()
	for i, k := range kv.Keys() {
		if k == arrowSchemaKey {
			blank := metadata.NewKeyValueMetadata()
			_ = blank.Append("deltashare:ignored", "")
			kv[i] = blank[0]
		}
	}
}

package reader

import (
	"context"
	"sync"

	"github.com/apache/arrow/go/v17/parquet"
	"github.com/apache/arrow/go/v17/parquet/metadata"
)

// Sizing of one data file's read from its footer: the buffers of the column chunk streams and
// the rows of a record follow the file's sizes, so a file of 50 rows does not cost what a file
// of a million rows does, and a row of 1,000 columns does not cost 32Ki times its size per
// record.

const (
	// maxStreamBuffer is the largest buffer of a column chunk's page stream (pages larger than
	// the buffer grow it); minStreamBuffer the smallest: Arrow peeks pageHeaderPeek bytes for
	// the first page header of every chunk, so a smaller buffer was allocated, then
	// reallocated and copied (on thousands of small files, 6% of the CPU).
	maxStreamBuffer = 1 << 20
	minStreamBuffer = pageHeaderPeek
	// streamBuffersBytes bounds the stream buffers of a file's columns together: every column
	// of a row group has its stream open at once, so 1,000 columns of 80 KB chunks held 80 MB
	// of buffers beside their pages. The buffer only needs to hold a page header: Arrow copies
	// page data out of the stream into the page's own buffer, and peeks pageHeaderPeek bytes
	// for a header (a smaller buffer grows to that).
	streamBuffersBytes = 16 << 20
	pageHeaderPeek     = 16 << 10
	// DefaultBatchBytes is the decoded size a record aims at (ReadOptions.BatchBytes): records
	// have BatchSize rows unless their rows are wider than DefaultBatchBytes / BatchSize.
	DefaultBatchBytes = 8 << 20
	// minBatchRows bounds records from below whatever the row width, so per-record costs
	// stay small beside the rows' (files with fewer rows give one record).
	minBatchRows = 256
)

// streamBufferSize is the buffer of every column chunk stream of a file: its largest column
// chunk (so a chunk is read in one go), at least minStreamBuffer and at most maxStreamBuffer,
// and for files of many columns at most their share of streamBuffersBytes (never below
// pageHeaderPeek). A file read by byte ranges (ranged) keeps the chunk-sized buffer: every
// fill of a buffer is a request, and a chunk read in one go is one request.
func streamBufferSize(md *metadata.FileMetaData, ranged bool) int64 {
	if ranged {
		return chunkStreamBuffer(md)
	}
	return min(chunkStreamBuffer(md), perColumnStreamBuffer(md))
}

// perColumnStreamBuffer is a column's share of streamBuffersBytes.
func perColumnStreamBuffer(md *metadata.FileMetaData) int64 {
	cols := int64(max(md.Schema.NumColumns(), 1))
	return max(streamBuffersBytes/cols, pageHeaderPeek)
}

// chunkStreamBuffer is the file's largest column chunk, within [minStreamBuffer, maxStreamBuffer].
func chunkStreamBuffer(md *metadata.FileMetaData) int64 {
	var largest int64
	for g := range len(md.RowGroups) {
		rg := md.RowGroup(g)
		for c := range rg.NumColumns() {
			cc, err := rg.ColumnChunk(c)
			if err != nil {
				return maxStreamBuffer
			}
			largest = max(largest, cc.TotalCompressedSize())
		}
	}
	// Older writers leave the dictionary page header out of the chunk size; the stream is
	// read a little past it then (see file.RowGroupReader.GetColumnPageReader).
	return min(max(largest+1024, minStreamBuffer), maxStreamBuffer)
}

// rowBytes estimates the decoded (Arrow) size of one row of a file: fixed-width columns by
// their width, byte arrays by their average size in the file plus an offset, and a validity
// bit per column rounded up to a byte.
func rowBytes(md *metadata.FileMetaData) int64 {
	sch := md.Schema
	rows := md.NumRows
	var total float64
	for c := range sch.NumColumns() {
		d := sch.Column(c)
		var w float64
		switch d.PhysicalType() {
		case parquet.Types.Boolean:
			w = 1
		case parquet.Types.Int32, parquet.Types.Float:
			w = 4
		case parquet.Types.Int64, parquet.Types.Double, parquet.Types.Int96:
			w = 8
		case parquet.Types.FixedLenByteArray:
			w = float64(d.TypeLength())
		default:
			var size, values int64
			for g := range len(md.RowGroups) {
				cc, err := md.RowGroup(g).ColumnChunk(c)
				if err != nil {
					continue
				}
				size += cc.TotalUncompressedSize()
				values += cc.NumValues()
			}
			w = 4 + 8 // an offset, and at least a short value
			if values > 0 {
				w = max(w, 4+float64(size)/float64(values))
			}
		}
		if rows > 0 && d.MaxRepetitionLevel() > 0 {
			// Repeated columns: values per row, and the list's offsets.
			var values int64
			for g := range len(md.RowGroups) {
				if cc, err := md.RowGroup(g).ColumnChunk(c); err == nil {
					values += cc.NumValues()
				}
			}
			w = w*max(float64(values)/float64(rows), 1) + 4
		}
		total += w + 1
	}
	return max(int64(total), 1)
}

// batchRows is the rows of a file's records: at most maxRows and the file's rows, and about
// budget bytes decoded (never fewer than minBatchRows).
func batchRows(md *metadata.FileMetaData, maxRows, budget int64) int64 {
	n := maxRows
	if budget > 0 {
		n = min(n, max(budget/rowBytes(md), minBatchRows))
	}
	return max(min(n, md.NumRows), 1)
}

// DefaultInFlightBytes is the memory budget of the files in flight (ReadOptions.InFlightBytes).
// A file takes its download's share when it is dispatched (files up to MaxInMemoryFile are
// held in memory), and its decoding's share once its footer is read (decodeWeight); it gives
// both back when its last record has been handed out. The file the consumer waits for always
// goes ahead, so one file larger than the budget is read alone, never stuck; at most
// 2 × Parallel files are in flight whatever their sizes (see Reader.start). At 64 MiB, --parallel 8 on files of 38 MB was 1.6x
// slower than --parallel 1 (three files decoding at once); at 32 MiB it is within 6%.
const DefaultInFlightBytes = 32 << 20

// downloadWeight is what a file's download holds in memory.
func downloadWeight(size, memMax int64) int64 {
	if size <= memMax {
		return max(size, 0) + 64<<10
	}
	return 64 << 10 // spilled to a temporary file, or read by range
}

// decodeWeight estimates what decoding a file holds: for the row group with the most data,
// each column's stream buffer and decompressed page (both bounded by the chunk's size, pages
// by maxStreamBuffer, buffers by streamBuf, the file's stream buffer size), and three records
// of batch rows (queued, being built, being consumed).
func decodeWeight(md *metadata.FileMetaData, batch, streamBuf int64) int64 {
	worst := largestGroup(md, func(cc *metadata.ColumnChunkMetaData) int64 {
		return min(cc.TotalCompressedSize(), streamBuf) + min(cc.TotalUncompressedSize(), maxStreamBuffer)
	})
	return worst + 3*batch*rowBytes(md)
}

// largestGroup is the largest, over a file's row groups, of the sum of weight over the
// group's column chunks (chunks whose metadata cannot be read count nothing).
func largestGroup(md *metadata.FileMetaData, weight func(*metadata.ColumnChunkMetaData) int64) int64 {
	var worst int64
	for g := range len(md.RowGroups) {
		rg := md.RowGroup(g)
		var sum int64
		for c := range rg.NumColumns() {
			cc, err := rg.ColumnChunk(c)
			if err != nil {
				continue
			}
			sum += weight(cc)
		}
		worst = max(worst, sum)
	}
	return worst
}

// byteBudget is a counting semaphore over bytes, for the files of a read in file order:
// acquire waits until the weight fits, unless nothing is held or the file is the one the
// consumer is at (head), which always goes ahead.
type byteBudget struct {
	limit   int64
	mu      sync.Mutex
	used    int64
	head    int           // index of the first file not yet consumed
	changed chan struct{} // closed and replaced on every release
}

func newByteBudget(limit int64) *byteBudget {
	return &byteBudget{limit: limit, changed: make(chan struct{})}
}

func (b *byteBudget) acquire(ctx context.Context, index int, n int64) error {
	for {
		b.mu.Lock()
		if b.used == 0 || b.used+n <= b.limit || index <= b.head {
			b.used += n
			b.mu.Unlock()
			return nil
		}
		ch := b.changed
		b.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// finish gives back the weight of file index, all consumed: the next file becomes the head.
func (b *byteBudget) finish(index int, n int64) {
	b.mu.Lock()
	b.used -= n
	b.head = max(b.head, index+1)
	close(b.changed)
	b.changed = make(chan struct{})
	b.mu.Unlock()
}

// release gives back n before the file is consumed.
func (b *byteBudget) release(n int64) {
	b.mu.Lock()
	b.used -= n
	close(b.changed)
	b.changed = make(chan struct{})
	b.mu.Unlock()
}

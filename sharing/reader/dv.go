package reader

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net/url"
	"sync"

	"github.com/deltashare/deltashare/internal/redact"
	"github.com/deltashare/deltashare/sharing/protocol"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/deltashare/deltashare/sharing/delta"
)

// Deletion vectors: the Z85 text of inline vectors, the deletion vector file format and the
// RoaringBitmapArray serialization (see the Delta protocol, "Deletion Vector Format").

const z85Chars = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#"

var z85Values = func() (t [256]int16) {
	for i := range t {
		t[i] = -1
	}
	for i := range len(z85Chars) {
		t[z85Chars[i]] = int16(i)
	}
	return t
}()

// z85Decode decodes Z85 (ZeroMQ Base85) text: every 5 characters become 4 bytes. Like Delta's
// own decoder (32-bit integer arithmetic) a block's value wraps modulo 2^32: Delta writes the
// padding of a payload whose length is not a multiple of 4 as characters that overflow.
func z85Decode(s string) ([]byte, error) {
	if len(s)%5 != 0 {
		return nil, fmt.Errorf("Z85 text of length %d is not a multiple of 5", len(s))
	}
	out := make([]byte, 0, len(s)/5*4)
	for i := 0; i < len(s); i += 5 {
		var v uint32
		for j := range 5 {
			d := z85Values[s[i+j]]
			if d < 0 {
				return nil, fmt.Errorf("invalid Z85 character %q at offset %d", s[i+j], i+j)
			}
			v = v*85 + uint32(d)
		}
		out = binary.BigEndian.AppendUint32(out, v)
	}
	return out, nil
}

// Magic numbers of the two RoaringBitmapArray serializations.
const (
	dvMagicNative   = 1681511376 // count (int32), then per bitmap its size (int32) and the bitmap; little or big endian
	dvMagicPortable = 1681511377 // little endian: count (uint64), then per bucket its key (uint32) and the bitmap
)

// deletedRows is a parsed deletion vector: 32-bit roaring bitmaps keyed by the high 32 bits
// of the row index, in ascending key order.
type deletedRows struct {
	buckets []dvBucket
	card    uint64
}

type dvBucket struct {
	key uint32
	bm  *roaring.Bitmap
}

// parseRoaringBitmapArray reads a serialized RoaringBitmapArray, magic number included, in
// either the portable (the protocol's) or the older native layout.
func parseRoaringBitmapArray(b []byte) (*deletedRows, error) {
	if len(b) < 4 {
		return nil, fmt.Errorf("deletion vector of %d bytes is too short", len(b))
	}
	magic := binary.LittleEndian.Uint32(b)
	// The native layout also exists with its header integers big endian (the protocol's own
	// inline example); the bitmaps themselves are always in the standard little-endian form.
	var order binary.ByteOrder = binary.LittleEndian
	if magic != dvMagicPortable && magic != dvMagicNative && binary.BigEndian.Uint32(b) == dvMagicNative {
		magic, order = dvMagicNative, binary.BigEndian
	}
	r := bytes.NewReader(b[4:])
	out := &deletedRows{}
	switch magic {
	case dvMagicPortable:
		var n uint64
		if err := binary.Read(r, binary.LittleEndian, &n); err != nil {
			return nil, fmt.Errorf("deletion vector: reading the bucket count: %w", err)
		}
		if n > uint64(len(b)) {
			return nil, fmt.Errorf("deletion vector claims %d buckets in %d bytes", n, len(b))
		}
		for i := range n {
			var key uint32
			if err := binary.Read(r, binary.LittleEndian, &key); err != nil {
				return nil, fmt.Errorf("deletion vector: reading the key of bucket %d: %w", i, err)
			}
			if key&0x80000000 != 0 {
				return nil, fmt.Errorf("deletion vector bucket key %d has its top bit set", key)
			}
			if len(out.buckets) > 0 && key <= out.buckets[len(out.buckets)-1].key {
				return nil, fmt.Errorf("deletion vector bucket keys are not ascending")
			}
			bm := roaring.New()
			if _, err := bm.ReadFrom(r); err != nil {
				return nil, fmt.Errorf("deletion vector: reading bucket %d: %w", i, err)
			}
			if err := bm.Validate(); err != nil {
				return nil, fmt.Errorf("deletion vector: bucket %d is corrupt: %w", i, err)
			}
			out.add(key, bm)
		}
	case dvMagicNative:
		var n int32
		if err := binary.Read(r, order, &n); err != nil {
			return nil, fmt.Errorf("deletion vector: reading the bitmap count: %w", err)
		}
		if n < 0 || int64(n) > int64(len(b)) {
			return nil, fmt.Errorf("deletion vector claims %d bitmaps in %d bytes", n, len(b))
		}
		for i := range n {
			var size int32
			if err := binary.Read(r, order, &size); err != nil {
				return nil, fmt.Errorf("deletion vector: reading the size of bitmap %d: %w", i, err)
			}
			if size < 0 || int64(size) > int64(r.Len()) {
				return nil, fmt.Errorf("deletion vector bitmap %d claims %d bytes, %d are left", i, size, r.Len())
			}
			chunk := make([]byte, size)
			_, _ = io.ReadFull(r, chunk)
			bm := roaring.New()
			if _, err := bm.ReadFrom(bytes.NewReader(chunk)); err != nil {
				return nil, fmt.Errorf("deletion vector: reading bitmap %d: %w", i, err)
			}
			if err := bm.Validate(); err != nil {
				return nil, fmt.Errorf("deletion vector: bitmap %d is corrupt: %w", i, err)
			}
			out.add(uint32(i), bm)
		}
	default:
		return nil, fmt.Errorf("deletion vector has magic number %d, not a RoaringBitmapArray (%d or %d)", magic, dvMagicPortable, dvMagicNative)
	}
	return out, nil
}

func (d *deletedRows) add(key uint32, bm *roaring.Bitmap) {
	if bm.IsEmpty() {
		return
	}
	d.buckets = append(d.buckets, dvBucket{key: key, bm: bm})
	d.card += bm.GetCardinality()
}

// Cardinality returns the number of deleted rows.
func (d *deletedRows) Cardinality() uint64 { return d.card }

// Contains reports whether row index i is deleted.
func (d *deletedRows) Contains(i uint64) bool {
	hi, lo := uint32(i>>32), uint32(i)
	for _, b := range d.buckets {
		if b.key == hi {
			return b.bm.Contains(lo)
		}
		if b.key > hi {
			return false
		}
	}
	return false
}

// keepMask returns, for the rows off..off+n-1 of the file, whether each is kept (not deleted),
// and how many are kept.
func (d *deletedRows) keepMask(off, n int64) ([]bool, int64) {
	keep := make([]bool, n)
	for i := range keep {
		keep[i] = true
	}
	kept := n
	if d == nil || n == 0 {
		return keep, kept
	}
	start, end := uint64(off), uint64(off+n) // end exclusive
	for _, b := range d.buckets {
		base := uint64(b.key) << 32
		if base+(1<<32) <= start || base >= end {
			continue
		}
		it := b.bm.Iterator()
		if start > base {
			it.AdvanceIfNeeded(uint32(start - base))
		}
		for it.HasNext() {
			v := base + uint64(it.Next())
			if v >= end {
				break
			}
			if v >= start && keep[v-start] {
				keep[v-start] = false
				kept--
			}
		}
	}
	return keep, kept
}

// dvPayload returns the RoaringBitmapArray bytes of one vector stored in a deletion vector
// file: at offset, a big-endian size, the data, and a big-endian CRC-32 of the data. b holds
// the file from byte base on.
func dvPayload(b []byte, base int64, dv *delta.DeletionVector) ([]byte, error) {
	off := int64(0)
	if dv.Offset != nil {
		off = int64(*dv.Offset)
	}
	off -= base
	size := int64(dv.SizeInBytes)
	if off < 0 || size < 0 || off+4+size+4 > int64(len(b)) {
		return nil, fmt.Errorf("deletion vector at offset %d (%d bytes) lies outside its file of %d bytes", off+base, size, int64(len(b))+base)
	}
	if got := int64(binary.BigEndian.Uint32(b[off:])); got != size {
		return nil, fmt.Errorf("deletion vector at offset %d has %d bytes in its file, the descriptor says %d", off+base, got, size)
	}
	data := b[off+4 : off+4+size]
	if want, got := binary.BigEndian.Uint32(b[off+4+size:]), crc32.ChecksumIEEE(data); want != got {
		return nil, fmt.Errorf("deletion vector at offset %d fails its CRC-32 check (file corrupt or truncated)", off+base)
	}
	return data, nil
}

// inlineDVPayload decodes the Z85 text of an inline vector, cut to SizeInBytes.
func inlineDVPayload(dv *delta.DeletionVector) ([]byte, error) {
	b, err := z85Decode(dv.PathOrInlineDV)
	if err != nil {
		return nil, fmt.Errorf("inline deletion vector: %w", err)
	}
	if dv.SizeInBytes < 0 || int(dv.SizeInBytes) > len(b) {
		return nil, fmt.Errorf("inline deletion vector declares %d bytes but holds %d", dv.SizeInBytes, len(b))
	}
	return b[:dv.SizeInBytes], nil
}

// dvCacheLimit bounds the deletion vector file bytes kept in memory by one reader; larger
// files, and files arriving once the cache is full, are read by byte range instead.
const (
	dvCacheLimit   = 256 << 20
	dvWholeFileMax = 32 << 20
)

// dvLoader reads deletion vectors, caching the deletion vector files it fetched (several data
// files can share one, at different offsets).
type dvLoader struct {
	fetch *fetcher

	mu    sync.Mutex
	files map[string]*dvFile
	bytes int64
}

type dvFile struct {
	done chan struct{}
	data []byte // nil: not cached (too big), read by range
	err  error
}

func newDVLoader(f *fetcher) *dvLoader { return &dvLoader{fetch: f, files: map[string]*dvFile{}} }

// load returns the deleted rows of file f (nil when it has no deletion vector).
func (l *dvLoader) load(ctx context.Context, key string, f *protocol.File) (*deletedRows, error) {
	dv := f.DeletionVector
	if dv == nil || dv.Cardinality == 0 {
		return nil, nil
	}
	var payload []byte
	var err error
	switch dv.StorageType {
	case "i":
		payload, err = inlineDVPayload(dv)
	case "p":
		payload, err = l.fromFile(ctx, key, f)
	case "u":
		return nil, fmt.Errorf("deletion vector of storage type u (a path relative to the table) cannot be read over Delta Sharing; the server must send it as a URL (storage type p)")
	default:
		return nil, fmt.Errorf("unknown deletion vector storage type %q (want i or p)", dv.StorageType)
	}
	if err != nil {
		return nil, err
	}
	rows, err := parseRoaringBitmapArray(payload)
	if err != nil {
		return nil, err
	}
	if int64(rows.Cardinality()) != dv.Cardinality {
		return nil, fmt.Errorf("deletion vector holds %d rows, its descriptor says %d", rows.Cardinality(), dv.Cardinality)
	}
	return rows, nil
}

// dvFileKey identifies a deletion vector file across URL refreshes.
func dvFileKey(f *protocol.File) string {
	if f.DeletionVectorFileID != "" {
		return "id:" + f.DeletionVectorFileID
	}
	u, err := url.Parse(f.DeletionVector.PathOrInlineDV)
	if err != nil {
		return "url:" + redact.URL(f.DeletionVector.PathOrInlineDV)
	}
	return "url:" + u.Scheme + "://" + u.Host + u.Path
}

func (l *dvLoader) fromFile(ctx context.Context, key string, f *protocol.File) ([]byte, error) {
	dv := f.DeletionVector
	fk := dvFileKey(f)
	l.mu.Lock()
	e, ok := l.files[fk]
	if !ok {
		e = &dvFile{done: make(chan struct{})}
		l.files[fk] = e
		l.mu.Unlock()
		e.data, e.err = l.fetchWhole(ctx, key)
		if e.err == nil && e.data != nil {
			l.mu.Lock()
			if l.bytes+int64(len(e.data)) > dvCacheLimit {
				e.data = nil
			} else {
				l.bytes += int64(len(e.data))
			}
			l.mu.Unlock()
		}
		if e.err != nil {
			// Do not cache failures: a later file may succeed after a URL refresh.
			l.mu.Lock()
			delete(l.files, fk)
			l.mu.Unlock()
		}
		close(e.done)
	} else {
		l.mu.Unlock()
		select {
		case <-e.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if e.err != nil {
		return nil, e.err
	}
	if e.data != nil {
		return dvPayload(e.data, 0, dv)
	}
	// Too big to keep: read this vector's bytes only.
	off := int64(0)
	if dv.Offset != nil {
		off = int64(*dv.Offset)
	}
	length := 4 + int64(dv.SizeInBytes) + 4
	var buf []byte
	err := l.fetch.load(ctx, key, resDV, off, length, func(body io.Reader, size int64) error {
		b, err := readExactly(body, length)
		buf = b
		return err
	})
	if err != nil {
		return nil, err
	}
	return dvPayload(buf, off, dv)
}

var errDVTooBig = errors.New("deletion vector file too big to cache")

// fetchWhole fetches a whole deletion vector file, or returns nil data when it is bigger than
// dvWholeFileMax.
func (l *dvLoader) fetchWhole(ctx context.Context, key string) ([]byte, error) {
	var data []byte
	err := l.fetch.load(ctx, key, resDV, 0, -1, func(body io.Reader, size int64) error {
		if size > dvWholeFileMax {
			return errDVTooBig
		}
		b, err := readAllLimited(body, size, dvWholeFileMax)
		data = b
		return err
	})
	if errors.Is(err, errDVTooBig) {
		return nil, nil
	}
	return data, err
}

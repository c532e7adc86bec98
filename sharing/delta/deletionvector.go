package delta

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"slices"

	"github.com/RoaringBitmap/roaring/v2"
)

const z85Alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#"

var z85Index = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for i := 0; i < len(z85Alphabet); i++ {
		t[z85Alphabet[i]] = int8(i)
	}
	return t
}()

// Z85Decode decodes a Z85 (ZeroMQ Base85) string, the encoding Delta uses for deletion vector
// UUIDs and inline deletion vectors. The length must be a multiple of 5; every 5 characters
// become 4 bytes. A block's value is kept modulo 2^32, as Delta's own decoder does.
func Z85Decode(s string) ([]byte, error) {
	if len(s)%5 != 0 {
		return nil, fmt.Errorf("delta: Z85 string of length %d is not a multiple of 5", len(s))
	}
	out := make([]byte, 0, len(s)/5*4)
	for i := 0; i < len(s); i += 5 {
		var v uint32 // wraps modulo 2^32 like Delta's decoder (padding blocks may overflow)
		for j := 0; j < 5; j++ {
			d := z85Index[s[i+j]]
			if d < 0 {
				return nil, fmt.Errorf("delta: invalid Z85 character %q at offset %d", s[i+j], i+j)
			}
			v = v*85 + uint32(d)
		}
		out = append(out, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	}
	return out, nil
}

// Z85Encode is the inverse of Z85Decode (used by tests); len(b) must be a multiple of 4.
func Z85Encode(b []byte) string {
	out := make([]byte, 0, len(b)/4*5)
	for i := 0; i+4 <= len(b); i += 4 {
		v := uint32(b[i])<<24 | uint32(b[i+1])<<16 | uint32(b[i+2])<<8 | uint32(b[i+3])
		var blk [5]byte
		for j := 4; j >= 0; j-- {
			blk[j] = z85Alphabet[v%85]
			v /= 85
		}
		out = append(out, blk[:]...)
	}
	return string(out)
}

// DeletionVectorPath returns where a deletion vector is stored. For storage type "u" it is the
// path relative to the table root, "<random prefix>/deletion_vector_<uuid>.bin" (no prefix
// directory when the prefix is empty); for "p" it is the absolute path or URI as recorded; an
// inline ("i") vector has no path and yields an error.
func DeletionVectorPath(dv *DeletionVector) (string, error) {
	if dv == nil {
		return "", fmt.Errorf("delta: no deletion vector")
	}
	switch dv.StorageType {
	case "u":
		s := dv.PathOrInlineDV
		if len(s) < 20 {
			return "", fmt.Errorf("delta: deletion vector id %q is shorter than the 20-character Z85 UUID", s)
		}
		prefix, enc := s[:len(s)-20], s[len(s)-20:]
		raw, err := Z85Decode(enc)
		if err != nil {
			return "", fmt.Errorf("delta: deletion vector id %q: %w", s, err)
		}
		name := fmt.Sprintf("deletion_vector_%x-%x-%x-%x-%x.bin", raw[0:4], raw[4:6], raw[6:8], raw[8:10], raw[10:16])
		if prefix == "" {
			return name, nil
		}
		return prefix + "/" + name, nil
	case "p":
		if dv.PathOrInlineDV == "" {
			return "", fmt.Errorf("delta: deletion vector of storage type p has an empty path")
		}
		return dv.PathOrInlineDV, nil
	case "i":
		return "", fmt.Errorf("delta: deletion vector is stored inline and has no file; decode it with InlineDeletionVector")
	default:
		return "", fmt.Errorf("delta: unknown deletion vector storage type %q (want u, p or i)", dv.StorageType)
	}
}

// InlineDeletionVector returns the serialized bytes (a RoaringBitmapArray with its magic number)
// of an inline ("i") deletion vector: the Z85-decoded payload cut to SizeInBytes.
func InlineDeletionVector(dv *DeletionVector) ([]byte, error) {
	if dv == nil || dv.StorageType != "i" {
		return nil, fmt.Errorf("delta: not an inline deletion vector")
	}
	s := dv.PathOrInlineDV
	if pad := len(s) % 5; pad != 0 {
		return nil, fmt.Errorf("delta: inline deletion vector has length %d, not a multiple of 5", len(s))
	}
	b, err := Z85Decode(s)
	if err != nil {
		return nil, err
	}
	if dv.SizeInBytes < 0 || int(dv.SizeInBytes) > len(b) {
		return nil, fmt.Errorf("delta: inline deletion vector declares %d bytes but holds %d", dv.SizeInBytes, len(b))
	}
	return b[:dv.SizeInBytes], nil
}

// Magic numbers of the two RoaringBitmapArray serializations.
const (
	dvMagicNative   = 1681511376 // count (int32), then per bitmap its size (int32) and the bitmap; little or big endian
	dvMagicPortable = 1681511377 // little endian: count (uint64), then per bucket its key (uint32) and the bitmap
)

// DeletedRows is a parsed deletion vector: 32-bit roaring bitmaps keyed by the high 32 bits
// of the row index, in ascending key order.
type DeletedRows struct {
	buckets []dvBucket
	card    uint64
}

type dvBucket struct {
	key uint32
	bm  *roaring.Bitmap
}

// ParseRoaringBitmapArray reads a serialized RoaringBitmapArray, magic number included, in
// either the portable (the protocol's) or the older native layout.
func ParseRoaringBitmapArray(b []byte) (*DeletedRows, error) {
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
	out := &DeletedRows{}
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

func (d *DeletedRows) add(key uint32, bm *roaring.Bitmap) {
	if bm.IsEmpty() {
		return
	}
	d.buckets = append(d.buckets, dvBucket{key: key, bm: bm})
	d.card += bm.GetCardinality()
}

// Cardinality returns the number of deleted rows.
func (d *DeletedRows) Cardinality() uint64 { return d.card }

// Contains reports whether row index i is deleted.
func (d *DeletedRows) Contains(i uint64) bool {
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

// KeepMask returns, for the rows off..off+n-1 of the file, whether each is kept (not deleted),
// and how many are kept.
func (d *DeletedRows) KeepMask(off, n int64) ([]bool, int64) {
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

// DeletionVectorData returns the RoaringBitmapArray bytes of one vector stored in a deletion vector
// file: at offset, a big-endian size, the data, and a big-endian CRC-32 of the data. b holds
// the file from byte base on.
func DeletionVectorData(b []byte, base int64, dv *DeletionVector) ([]byte, error) {
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

// PortableRoaringBitmapArray serializes deleted row indexes in the portable RoaringBitmapArray
// layout (magic number included), the form ParseRoaringBitmapArray reads.
func PortableRoaringBitmapArray(rows ...uint64) []byte {
	byKey := map[uint32]*roaring.Bitmap{}
	var keys []uint32
	for _, r := range rows {
		k := uint32(r >> 32)
		if byKey[k] == nil {
			byKey[k] = roaring.New()
			keys = append(keys, k)
		}
		byKey[k].Add(uint32(r))
	}
	slices.Sort(keys)
	var b bytes.Buffer
	_ = binary.Write(&b, binary.LittleEndian, uint32(dvMagicPortable))
	_ = binary.Write(&b, binary.LittleEndian, uint64(len(keys)))
	for _, k := range keys {
		_ = binary.Write(&b, binary.LittleEndian, k)
		_, _ = byKey[k].WriteTo(&b) // writing to a bytes.Buffer does not fail
	}
	return b.Bytes()
}

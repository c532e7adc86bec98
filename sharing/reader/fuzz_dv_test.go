package reader

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/deltashare/deltashare/sharing/delta"
	"github.com/deltashare/deltashare/sharing/server/deltalog"
)

// Fuzz targets of the deletion vector decoders: Z85 text, descriptors and the serialized
// RoaringBitmapArray (untrusted: they come from the server's responses and files).

func FuzzZ85Decode(f *testing.F) {
	for _, s := range []string{"", "HelloWorld", "0000000000", "%nSc0", "#####", "abcd", "\x00\x00\x00\x00\x00", "wi5b=000010000siXQKl0rr91000f55c8Xg0@@D72lkbi5=-{L"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := z85Decode(s)
		want, werr := deltalog.Z85Decode(s)
		if (err == nil) != (werr == nil) {
			t.Fatalf("the client and server Z85 decoders disagree on %q: %v / %v", s, err, werr)
		}
		if err == nil && !bytes.Equal(got, want) {
			t.Fatalf("the client and server Z85 decoders disagree on %q: %x / %x", s, got, want)
		}
		if err == nil && len(got) != len(s)/5*4 {
			t.Fatalf("%d bytes from %d characters", len(got), len(s))
		}
	})
}

// portableDV serializes bitmaps (by key) in the portable RoaringBitmapArray layout.
func portableDV(t testing.TB, rows ...uint64) []byte {
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
	var b bytes.Buffer
	_ = binary.Write(&b, binary.LittleEndian, uint32(dvMagicPortable))
	_ = binary.Write(&b, binary.LittleEndian, uint64(len(keys)))
	for _, k := range keys {
		_ = binary.Write(&b, binary.LittleEndian, k)
		if _, err := byKey[k].WriteTo(&b); err != nil {
			t.Fatal(err)
		}
	}
	return b.Bytes()
}

func FuzzParseRoaringBitmapArray(f *testing.F) {
	f.Add(portableDV(f))
	f.Add(portableDV(f, 0, 3, 5, 1<<33+7))
	f.Add(portableDV(f, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 100000))
	f.Add([]byte{0xd0, 0x3a, 0x3a, 0x64, 1, 0, 0, 0})
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := parseRoaringBitmapArray(b)
		if err != nil {
			return
		}
		// A parsed vector answers consistently.
		keep, kept := d.keepMask(0, 64)
		n := int64(0)
		for i, k := range keep {
			if k == d.Contains(uint64(i)) {
				t.Fatalf("row %d: keep %v and contains %v", i, k, d.Contains(uint64(i)))
			}
			if k {
				n++
			}
		}
		if n != kept {
			t.Fatalf("kept %d, mask keeps %d", kept, n)
		}
		if uint64(64-kept) > d.Cardinality() {
			t.Fatalf("%d rows deleted of the first 64, cardinality %d", 64-kept, d.Cardinality())
		}
	})
}

func FuzzDeletionVectorDescriptor(f *testing.F) {
	payload := portableDV(f, 1, 5, 9)
	file := binary.BigEndian.AppendUint32([]byte{1}, uint32(len(payload)))
	file = append(file, payload...)
	file = binary.BigEndian.AppendUint32(file, crc32.ChecksumIEEE(payload))
	f.Add(file, int32(1), int32(len(payload)), "wi5b=000010000siXQKl0", int32(12))
	f.Add(file, int32(-5), int32(1<<30), "", int32(-1))
	f.Fuzz(func(t *testing.T, b []byte, offset, size int32, inline string, inlineSize int32) {
		off := offset
		dv := &delta.DeletionVector{StorageType: "p", Offset: &off, SizeInBytes: size}
		if data, err := dvPayload(b, 0, dv); err == nil {
			if len(data) != int(size) {
				t.Fatalf("payload of %d bytes, descriptor says %d", len(data), size)
			}
			_, _ = parseRoaringBitmapArray(data)
		}
		idv := &delta.DeletionVector{StorageType: "i", PathOrInlineDV: inline, SizeInBytes: inlineSize}
		if data, err := inlineDVPayload(idv); err == nil {
			if len(data) != int(inlineSize) {
				t.Fatalf("inline payload of %d bytes, descriptor says %d", len(data), inlineSize)
			}
			_, _ = parseRoaringBitmapArray(data)
		}
		_, _ = dvFileKeyOf(dv)
	})
}

// dvFileKeyOf exercises the descriptor's path decoding (UUID paths) without a panic.
func dvFileKeyOf(dv *delta.DeletionVector) (string, error) {
	return deltalog.DeletionVectorPath(dv)
}

package reader

import (
	"encoding/binary"
	"hash/crc32"
	"testing"

	"github.com/deltashare/deltashare/sharing/delta"
)

// Fuzz targets of the deletion vector decoders: Z85 text, descriptors and the serialized
// RoaringBitmapArray (untrusted: they come from the server's responses and files).

func FuzzDeletionVectorDescriptor(f *testing.F) {
	payload := delta.PortableRoaringBitmapArray(1, 5, 9)
	file := binary.BigEndian.AppendUint32([]byte{1}, uint32(len(payload)))
	file = append(file, payload...)
	file = binary.BigEndian.AppendUint32(file, crc32.ChecksumIEEE(payload))
	f.Add(file, int32(1), int32(len(payload)), "wi5b=000010000siXQKl0", int32(12))
	f.Add(file, int32(-5), int32(1<<30), "", int32(-1))
	f.Fuzz(func(t *testing.T, b []byte, offset, size int32, inline string, inlineSize int32) {
		off := offset
		dv := &delta.DeletionVector{StorageType: "p", Offset: &off, SizeInBytes: size}
		if data, err := delta.DeletionVectorData(b, 0, dv); err == nil {
			if len(data) != int(size) {
				t.Fatalf("payload of %d bytes, descriptor says %d", len(data), size)
			}
			_, _ = delta.ParseRoaringBitmapArray(data)
		}
		idv := &delta.DeletionVector{StorageType: "i", PathOrInlineDV: inline, SizeInBytes: inlineSize}
		if data, err := delta.InlineDeletionVector(idv); err == nil {
			if len(data) != int(inlineSize) {
				t.Fatalf("inline payload of %d bytes, descriptor says %d", len(data), inlineSize)
			}
			_, _ = delta.ParseRoaringBitmapArray(data)
		}
		_, _ = dvFileKeyOf(dv)
	})
}

// dvFileKeyOf exercises the descriptor's path decoding (UUID paths) without a panic.
func dvFileKeyOf(dv *delta.DeletionVector) (string, error) {
	return delta.DeletionVectorPath(dv)
}

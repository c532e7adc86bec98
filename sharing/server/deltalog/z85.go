package deltalog

import (
	"fmt"

	"github.com/deltashare/deltashare/sharing/delta"
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
		return nil, fmt.Errorf("deltalog: Z85 string of length %d is not a multiple of 5", len(s))
	}
	out := make([]byte, 0, len(s)/5*4)
	for i := 0; i < len(s); i += 5 {
		var v uint32 // wraps modulo 2^32 like Delta's decoder (padding blocks may overflow)
		for j := 0; j < 5; j++ {
			d := z85Index[s[i+j]]
			if d < 0 {
				return nil, fmt.Errorf("deltalog: invalid Z85 character %q at offset %d", s[i+j], i+j)
			}
			v = v*85 + uint32(d)
		}
		out = append(out, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	}
	return out, nil
}

// z85Encode is the inverse of Z85Decode (used by tests); len(b) must be a multiple of 4.
func z85Encode(b []byte) string {
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
func DeletionVectorPath(dv *delta.DeletionVector) (string, error) {
	if dv == nil {
		return "", fmt.Errorf("deltalog: no deletion vector")
	}
	switch dv.StorageType {
	case "u":
		s := dv.PathOrInlineDV
		if len(s) < 20 {
			return "", fmt.Errorf("deltalog: deletion vector id %q is shorter than the 20-character Z85 UUID", s)
		}
		prefix, enc := s[:len(s)-20], s[len(s)-20:]
		raw, err := Z85Decode(enc)
		if err != nil {
			return "", fmt.Errorf("deltalog: deletion vector id %q: %w", s, err)
		}
		name := fmt.Sprintf("deletion_vector_%x-%x-%x-%x-%x.bin", raw[0:4], raw[4:6], raw[6:8], raw[8:10], raw[10:16])
		if prefix == "" {
			return name, nil
		}
		return prefix + "/" + name, nil
	case "p":
		if dv.PathOrInlineDV == "" {
			return "", fmt.Errorf("deltalog: deletion vector of storage type p has an empty path")
		}
		return dv.PathOrInlineDV, nil
	case "i":
		return "", fmt.Errorf("deltalog: deletion vector is stored inline and has no file; decode it with InlineDeletionVector")
	default:
		return "", fmt.Errorf("deltalog: unknown deletion vector storage type %q (want u, p or i)", dv.StorageType)
	}
}

// InlineDeletionVector returns the serialized bytes (a RoaringBitmapArray with its magic number)
// of an inline ("i") deletion vector: the Z85-decoded payload cut to SizeInBytes.
func InlineDeletionVector(dv *delta.DeletionVector) ([]byte, error) {
	if dv == nil || dv.StorageType != "i" {
		return nil, fmt.Errorf("deltalog: not an inline deletion vector")
	}
	s := dv.PathOrInlineDV
	if pad := len(s) % 5; pad != 0 {
		return nil, fmt.Errorf("deltalog: inline deletion vector has length %d, not a multiple of 5", len(s))
	}
	b, err := Z85Decode(s)
	if err != nil {
		return nil, err
	}
	if dv.SizeInBytes < 0 || int(dv.SizeInBytes) > len(b) {
		return nil, fmt.Errorf("deltalog: inline deletion vector declares %d bytes but holds %d", dv.SizeInBytes, len(b))
	}
	return b[:dv.SizeInBytes], nil
}

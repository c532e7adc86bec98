package delta

import (
	"bytes"
	"strings"
	"testing"
)

func FuzzZ85Decode(f *testing.F) {
	for _, s := range []string{"", "HelloWorld", "0000000000", "%nSc0", "#####", "abcd", "\x00\x00\x00\x00\x00", "wi5b=000010000siXQKl0rr91000f55c8Xg0@@D72lkbi5=-{L"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := Z85Decode(s)
		if err != nil {
			if len(s)%5 == 0 && strings.Trim(s, z85Alphabet) == "" {
				t.Fatalf("valid Z85 text %q refused: %v", s, err)
			}
			return
		}
		if len(got) != len(s)/5*4 {
			t.Fatalf("%d bytes from %d characters", len(got), len(s))
		}
		// The bytes survive a round trip (the text may not: padding blocks wrap modulo 2^32).
		again, err := Z85Decode(Z85Encode(got))
		if err != nil || !bytes.Equal(again, got) {
			t.Fatalf("round trip of %x: %x, %v", got, again, err)
		}
	})
}

func FuzzParseRoaringBitmapArray(f *testing.F) {
	f.Add(PortableRoaringBitmapArray())
	f.Add(PortableRoaringBitmapArray(0, 3, 5, 1<<33+7))
	f.Add(PortableRoaringBitmapArray(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 100000))
	f.Add([]byte{0xd0, 0x3a, 0x3a, 0x64, 1, 0, 0, 0})
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := ParseRoaringBitmapArray(b)
		if err != nil {
			return
		}
		// A parsed vector answers consistently.
		keep, kept := d.KeepMask(0, 64)
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

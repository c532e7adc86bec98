package delta

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestDeletionVectorStringHidesSignature(t *testing.T) {
	off := int32(1)
	dv := &DeletionVector{StorageType: "p", PathOrInlineDV: "https://h/x.bin?sig=secret-signature", Offset: &off, SizeInBytes: 38, Cardinality: 3}
	for _, s := range []string{dv.String(), fmt.Sprint(dv), fmt.Sprintf("%v %+v %#v", *dv, dv, dv)} {
		assert.NotContains(t, s, "secret-signature")
		assert.Contains(t, s, "https://h/x.bin")
	}
	inline := DeletionVector{StorageType: "i", PathOrInlineDV: "wi5b=000010000siXQKl0rr91000f55c8Xg0@@D72lkbi5=-{L", SizeInBytes: 40, Cardinality: 6}
	assert.Contains(t, inline.String(), "wi5b=")
}

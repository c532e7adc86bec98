package delta

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestLiveRows(t *testing.T) {
	dv := &DeletionVector{StorageType: "i", Cardinality: 3}
	for _, tc := range []struct {
		stats string
		dv    *DeletionVector
		n     int64
		ok    bool
	}{
		{`{"numRecords":10}`, nil, 10, true},
		{`{"numRecords":10,"minValues":{}}`, dv, 7, true},
		{`{"numRecords":0}`, nil, 0, true},
		{`{"minValues":{}}`, dv, 0, false},
		{``, nil, 0, false},
		{`not json`, nil, 0, false},
		{`{"numRecords":"x"}`, nil, 0, false},
	} {
		n, ok := LiveRows(tc.stats, tc.dv)
		assert.Equal(t, tc.ok, ok, tc.stats)
		assert.Equal(t, tc.n, n, tc.stats)
	}
	n, ok := NumRecords(`{"numRecords":10}`)
	assert.True(t, ok)
	assert.Equal(t, int64(10), n)
}

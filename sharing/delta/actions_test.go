package delta

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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

// The action types encode what the Delta protocol requires of a writer and decode what any
// writer writes: a round trip through JSON keeps the action.
func TestActionsEncodeAsTheProtocolRequires(t *testing.T) {
	ts, size := int64(5), int64(10)
	for _, c := range []struct {
		name string
		a    Action
		want string
	}{
		{"protocol: minWriterVersion is required", Action{Protocol: &Protocol{MinReaderVersion: 1}},
			`{"protocol":{"minReaderVersion":1,"minWriterVersion":0}}`},
		{"format without options", Action{MetaData: &Metadata{ID: "i", Format: Format{Provider: "parquet"},
			SchemaString: "{}", PartitionColumns: []string{}, Configuration: map[string]string{}}},
			`{"metaData":{"id":"i","format":{"provider":"parquet"},"schemaString":"{}","partitionColumns":[],"configuration":{}}}`},
		{"format options are written when set, even empty", Action{MetaData: &Metadata{ID: "i", Format: Format{Provider: "parquet", Options: map[string]string{}},
			SchemaString: "{}", PartitionColumns: []string{}, Configuration: map[string]string{}}},
			`{"metaData":{"id":"i","format":{"provider":"parquet","options":{}},"schemaString":"{}","partitionColumns":[],"configuration":{}}}`},
		{"add: an empty partition value is null", Action{Add: &Add{Path: "a", PartitionValues: PartitionValues{"p": "", "q": "x"}, Size: 1}},
			`{"add":{"path":"a","partitionValues":{"p":null,"q":"x"},"size":1,"modificationTime":0,"dataChange":false}}`},
		{"add: partition values are required", Action{Add: &Add{Path: "a"}},
			`{"add":{"path":"a","partitionValues":{},"size":0,"modificationTime":0,"dataChange":false}}`},
		{"remove with extended file metadata", Action{Remove: &Remove{Path: "a", DeletionTimestamp: &ts, DataChange: true,
			ExtendedFileMetadata: true, PartitionValues: PartitionValues{}, Size: &size}},
			`{"remove":{"path":"a","deletionTimestamp":5,"dataChange":true,"extendedFileMetadata":true,"partitionValues":{},"size":10}}`},
		{"remove without", Action{Remove: &Remove{Path: "a", DataChange: true}},
			`{"remove":{"path":"a","dataChange":true}}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			b, err := json.Marshal(c.a)
			require.NoError(t, err)
			assert.JSONEq(t, c.want, string(b))
			back, err := ParseAction(b)
			require.NoError(t, err)
			again, err := json.Marshal(back)
			require.NoError(t, err)
			assert.JSONEq(t, c.want, string(again), "decoding and encoding again gives the same action")
		})
	}
}

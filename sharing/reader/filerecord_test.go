package reader

import (
	"reflect"
	"testing"

	"github.com/deltashare/deltashare/sharing/delta"
	"github.com/deltashare/deltashare/sharing/protocol"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fillAll sets every field of the struct v points to a non-zero value (seed varies them), so
// that a field of protocol.File the record format forgets fails the round trip.
func fillAll(t *testing.T, v reflect.Value, seed int) {
	t.Helper()
	for i := range v.NumField() {
		f := v.Field(i)
		name := v.Type().Field(i).Name
		switch f.Kind() {
		case reflect.String:
			f.SetString(name + "-ü\x00\n\"" + string(rune('a'+seed)))
		case reflect.Int64, reflect.Int32:
			f.SetInt(int64(-1000*seed - i - 1))
		case reflect.Bool:
			f.SetBool(true)
		case reflect.Map:
			f.Set(reflect.ValueOf(map[string]string{name: "v", "": "", "k=" + name: "a\"b"}))
		case reflect.Pointer:
			p := reflect.New(f.Type().Elem())
			if p.Elem().Kind() == reflect.Struct {
				fillAll(t, p.Elem(), seed+1)
			} else {
				p.Elem().SetInt(int64(1<<40 + seed*7 + i))
			}
			f.Set(p)
		default:
			t.Fatalf("field %s of kind %s: teach fillAll (and the file record format) about it", name, f.Kind())
		}
	}
}

// Every field of a protocol.File comes back from its record as it went in; nil and empty maps
// stay apart; absent optional fields stay absent.
func TestFileRecordRoundTrip(t *testing.T) {
	var full protocol.File
	fillAll(t, reflect.ValueOf(&full).Elem(), 0)
	require.NotNil(t, full.DeletionVector)
	require.NotNil(t, full.DeletionVector.Offset)

	zero := int64(0)
	cases := map[string]protocol.File{
		"every field set": full,
		"zero file":       {},
		"empty maps":      {Kind: protocol.FileAdd, ID: "a", PartitionValues: map[string]string{}, Tags: map[string]string{}},
		"zero pointers":   {Version: &zero, Timestamp: &zero, DeletionVector: &delta.DeletionVector{StorageType: "i"}},
		"negative sizes":  {Size: -1, ModificationTime: -5},
	}
	for name, f := range cases {
		t.Run(name, func(t *testing.T) {
			b, err := appendFileRecord([]byte("prefix"), f)
			require.NoError(t, err)
			got, err := readFileRecord(b[len("prefix"):])
			require.NoError(t, err)
			assert.Equal(t, f, got)
		})
	}
}

// A damaged record (cut short, or with bytes after its end) is an error, never a panic or a
// wrong file.
func TestFileRecordDamaged(t *testing.T) {
	var full protocol.File
	fillAll(t, reflect.ValueOf(&full).Elem(), 3)
	b, err := appendFileRecord(nil, full)
	require.NoError(t, err)
	for n := range len(b) {
		_, err := readFileRecord(b[:n])
		require.ErrorIs(t, err, errBadRecord, "cut to %d of %d bytes", n, len(b))
	}
	_, err = readFileRecord(append(b, 0))
	require.ErrorIs(t, err, errBadRecord)
}

package reader

import (
	"bytes"
	"context"
	"encoding/binary"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deltashare/deltashare/internal/sharedtest"
	"github.com/deltashare/deltashare/internal/sharingtest"
	"github.com/deltashare/deltashare/sharing/delta"
)

func TestZ85Decode(t *testing.T) {
	// The ZeroMQ Z85 specification's example.
	b, err := z85Decode("HelloWorld")
	require.NoError(t, err)
	assert.Equal(t, []byte{0x86, 0x4F, 0xD2, 0x6F, 0xB5, 0x59, 0xF7, 0x5B}, b)
	for _, bad := range []string{"Hell", "Hell~", "Hell\"o"} {
		_, err := z85Decode(bad)
		assert.Error(t, err, bad)
	}
}

func TestInlineDeletionVectorWithPadding(t *testing.T) {
	// Written by Delta (kernel-cdf/cdf-table-with-dv): 34 bytes, the padding block overflows
	// 32 bits as Delta's encoder writes it.
	dv := &delta.DeletionVector{StorageType: "i", PathOrInlineDV: "^Bg9^0rr910000000000iXQKl0rr91000005c8Xg##093", SizeInBytes: 34, Cardinality: 1}
	b, err := inlineDVPayload(dv)
	require.NoError(t, err)
	d, err := parseRoaringBitmapArray(b)
	require.NoError(t, err)
	assert.Equal(t, uint64(1), d.Cardinality())
}

func rows(t *testing.T, d *deletedRows, n int64) []uint64 {
	t.Helper()
	var out []uint64
	for i := range n {
		if d.Contains(uint64(i)) {
			out = append(out, uint64(i))
		}
	}
	return out
}

func TestDeletionVectorProtocolExample(t *testing.T) {
	// The inline example of the Delta protocol ("Deletion Vectors", JSON Example 3).
	dv := &delta.DeletionVector{StorageType: "i", PathOrInlineDV: "wi5b=000010000siXQKl0rr91000f55c8Xg0@@D72lkbi5=-{L", SizeInBytes: 40, Cardinality: 6}
	b, err := inlineDVPayload(dv)
	require.NoError(t, err)
	assert.Equal(t, uint32(dvMagicNative), binary.BigEndian.Uint32(b), "the protocol's example uses the older native layout, big endian")
	d, err := parseRoaringBitmapArray(b)
	require.NoError(t, err)
	assert.Equal(t, []uint64{3, 4, 7, 11, 18, 29}, rows(t, d, 100))
	assert.Equal(t, uint64(6), d.Cardinality())
}

func serializeBitmap(t *testing.T, vals ...uint32) []byte {
	t.Helper()
	bm := roaring.BitmapOf(vals...)
	var buf bytes.Buffer
	_, err := bm.WriteTo(&buf)
	require.NoError(t, err)
	return buf.Bytes()
}

func TestRoaringBitmapArrayLayouts(t *testing.T) {
	// Portable: rows 1 and 5 in bucket 0, row 2^33+7 in bucket 2.
	var p []byte
	p = binary.LittleEndian.AppendUint32(p, dvMagicPortable)
	p = binary.LittleEndian.AppendUint64(p, 2)
	p = binary.LittleEndian.AppendUint32(p, 0)
	p = append(p, serializeBitmap(t, 1, 5)...)
	p = binary.LittleEndian.AppendUint32(p, 2)
	p = append(p, serializeBitmap(t, 7)...)
	d, err := parseRoaringBitmapArray(p)
	require.NoError(t, err)
	assert.Equal(t, uint64(3), d.Cardinality())
	assert.True(t, d.Contains(2<<32|7))
	assert.False(t, d.Contains(1<<32|7))
	assert.Equal(t, []uint64{1, 5}, rows(t, d, 10))

	keep, kept := d.keepMask(4, 3)
	assert.Equal(t, []bool{true, false, true}, keep)
	assert.Equal(t, int64(2), kept)
	keep, kept = d.keepMask(2<<32+6, 3)
	assert.Equal(t, []bool{true, false, true}, keep)
	assert.Equal(t, int64(2), kept)

	// Native: bitmap i holds the rows of high key i, sizes before each.
	var n []byte
	n = binary.LittleEndian.AppendUint32(n, dvMagicNative)
	n = binary.LittleEndian.AppendUint32(n, 2)
	for _, bm := range [][]byte{serializeBitmap(t, 0, 9), serializeBitmap(t, 3)} {
		n = binary.LittleEndian.AppendUint32(n, uint32(len(bm)))
		n = append(n, bm...)
	}
	d, err = parseRoaringBitmapArray(n)
	require.NoError(t, err)
	assert.Equal(t, []uint64{0, 9}, rows(t, d, 20))
	assert.True(t, d.Contains(1<<32|3))

	// The same, header integers big endian.
	var nb []byte
	nb = binary.BigEndian.AppendUint32(nb, dvMagicNative)
	nb = binary.BigEndian.AppendUint32(nb, 1)
	bm := serializeBitmap(t, 2, 4)
	nb = binary.BigEndian.AppendUint32(nb, uint32(len(bm)))
	nb = append(nb, bm...)
	d, err = parseRoaringBitmapArray(nb)
	require.NoError(t, err)
	assert.Equal(t, []uint64{2, 4}, rows(t, d, 20))

	for name, bad := range map[string][]byte{
		"short":         {1, 2},
		"magic":         binary.LittleEndian.AppendUint32(nil, 42),
		"truncated":     p[:len(p)-3],
		"huge count":    binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint32(nil, dvMagicPortable), 1<<40),
		"native sizes":  append(binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(nil, dvMagicNative), 1), 0xff, 0xff, 0, 0),
		"keys unsorted": append(append(binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint32(nil, dvMagicPortable), 2), 3), serializeBitmap(t, 1)...), append(binary.LittleEndian.AppendUint32(nil, 1), serializeBitmap(t, 1)...)...),
	} {
		_, err := parseRoaringBitmapArray(bad)
		assert.Error(t, err, name)
	}
}

func TestDeletionVectorFile(t *testing.T) {
	dir := sharedtest.Path(t, "delta", "delta-rs", "table-with-dv-small")
	b, err := os.ReadFile(filepath.Join(dir, "deletion_vector_61d16c75-6994-46b7-a15b-8b538852e50e.bin"))
	require.NoError(t, err)
	off := int32(1)
	dv := &delta.DeletionVector{StorageType: "p", Offset: &off, SizeInBytes: 36, Cardinality: 2}
	payload, err := dvPayload(b, 0, dv)
	require.NoError(t, err)
	d, err := parseRoaringBitmapArray(payload)
	require.NoError(t, err)
	assert.Equal(t, []uint64{0, 9}, rows(t, d, 10))

	// The same bytes read by range (the file from byte 1 on).
	payload2, err := dvPayload(b[1:], 1, dv)
	require.NoError(t, err)
	assert.Equal(t, payload, payload2)

	bad := bytes.Clone(b)
	bad[20] ^= 0xff
	_, err = dvPayload(bad, 0, dv)
	assert.ErrorContains(t, err, "CRC-32")
	wrong := *dv
	wrong.SizeInBytes = 30
	_, err = dvPayload(b, 0, &wrong)
	assert.ErrorContains(t, err, "descriptor says 30")
	far := int32(40)
	wrong = *dv
	wrong.Offset = &far
	_, err = dvPayload(b, 0, &wrong)
	assert.ErrorContains(t, err, "outside its file")
	assert.Equal(t, crc32.ChecksumIEEE(payload), binary.BigEndian.Uint32(b[1+4+36:]))
}

func TestDeletionVectorFilesFetchedOnce(t *testing.T) {
	tables := sharedTables(t)
	env := startServer(t, sharingtest.Options{Tables: tables})
	c := client(t, env)
	for _, table := range []string{"delta-rs-table_with_deletion_logs", "delta-rs-table-with-dv-small", "kernel-cdf-cdf-table-with-dv"} {
		before := env.FileGets()
		rows, r := openRead(t, c, table, ReadOptions{Parallel: 4})
		want, ok := statsCount(t, tables[table])
		require.True(t, ok)
		assert.Equal(t, want, int64(len(rows)), table)
		dvFiles := 0
		for k, n := range env.FileGets() {
			if n -= before[k]; n > 0 && strings.Contains(k, "deletion_vector_") {
				dvFiles++
				assert.Equal(t, 1, n, "%s fetched once", k)
			}
		}
		if table != "kernel-cdf-cdf-table-with-dv" { // its latest vector is inline
			assert.Positive(t, dvFiles, table)
		}
		_ = r
	}
	_ = context.Background
}

package protocol

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deltashare/deltashare/internal/sharedtest"
	"github.com/deltashare/deltashare/sharing/delta"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func i64(v int64) *int64 { return &v }

// decodeAll decodes every item of an NDJSON body.
func decodeAll(t testing.TB, data []byte) []Item {
	t.Helper()
	dec := NewDecoder(bytes.NewReader(data))
	var out []Item
	for {
		it, err := dec.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		require.NoError(t, err)
		out = append(out, it)
	}
}

func readFixture(t testing.TB, elem ...string) []byte {
	t.Helper()
	p := sharedtest.Path(t, append([]string{"protocol"}, elem...)...)
	data, err := os.ReadFile(p)
	require.NoError(t, err)
	return data
}

func TestDecodeFixtures(t *testing.T) {
	t.Run("table-metadata-parquet", func(t *testing.T) {
		items := decodeAll(t, readFixture(t, "ndjson", "table-metadata-parquet.ndjson"))
		require.Len(t, items, 2)
		assert.Equal(t, FormatParquet, items[0].Format)
		require.NotNil(t, items[0].Protocol)
		assert.Equal(t, 1, items[0].Protocol.Protocol.MinReaderVersion)
		m := items[1].Metadata
		require.NotNil(t, m)
		assert.Equal(t, "table-id", m.Metadata.ID)
		assert.Equal(t, "orders", m.Metadata.Name)
		assert.Equal(t, "parquet", m.Metadata.Format.Provider)
		assert.True(t, m.Metadata.ChangeDataFeedEnabled())
		s, err := m.Metadata.Schema()
		require.NoError(t, err)
		assert.Equal(t, []string{"id"}, s.FieldNames())
		assert.Equal(t, 2, items[1].Line)
	})
	t.Run("table-metadata-delta", func(t *testing.T) {
		items := decodeAll(t, readFixture(t, "ndjson", "table-metadata-delta.ndjson"))
		require.Len(t, items, 2)
		assert.Equal(t, FormatDelta, items[0].Format)
		p := items[0].Protocol.Protocol
		assert.Equal(t, 3, p.MinReaderVersion)
		assert.Equal(t, 7, p.MinWriterVersion)
		assert.True(t, p.HasReaderFeature("deletionVectors"))
		assert.True(t, p.HasReaderFeature("columnMapping"))
		m := items[1].Metadata
		assert.Equal(t, FormatDelta, items[1].Format)
		assert.Equal(t, i64(42), m.Version)
		assert.Equal(t, i64(2048), m.Size)
		assert.Equal(t, i64(3), m.NumFiles)
		assert.Equal(t, i64(1700000000000), m.Metadata.CreatedTime)
		tm := NewTableMetadata(-1, FormatDelta, items[0].Protocol, m)
		assert.Equal(t, int64(42), tm.Version)
	})
	t.Run("table-metadata minimal", func(t *testing.T) {
		items := decodeAll(t, readFixture(t, "ndjson", "table-metadata.ndjson"))
		require.Len(t, items, 2)
		assert.Equal(t, "table-id", items[1].Metadata.Metadata.ID)
		assert.Equal(t, "", items[1].Metadata.Metadata.SchemaString)
		assert.Equal(t, []string{}, items[1].Metadata.Metadata.PartitionColumns)
	})
	t.Run("table-metadata-private", func(t *testing.T) {
		items := decodeAll(t, readFixture(t, "ndjson", "table-metadata-private.ndjson"))
		m := items[1].Metadata
		assert.Equal(t, "Orders/Private", m.Metadata.Name)
		assert.Equal(t, []string{"url", "dir"}, m.AccessModes)
		assert.Contains(t, m.Location, "storage-secret-must-not-leak", "the location is kept for directory access")
		tm := NewTableMetadata(7, FormatParquet, items[0].Protocol, m)
		for _, s := range []string{m.String(), tm.String(), items[1].String()} {
			assert.NotContains(t, s, "must-not-leak")
			assert.Contains(t, s, "s3://private-bucket/orders")
		}
	})
	t.Run("snapshot-delta", func(t *testing.T) {
		items := decodeAll(t, readFixture(t, "ndjson", "snapshot-delta.ndjson"))
		require.Len(t, items, 4)
		m := items[1].Metadata
		assert.Equal(t, "snapshot-table", m.Metadata.ID)
		assert.Equal(t, []string{"region"}, m.Metadata.PartitionColumns)
		assert.Equal(t, "s3://private-root/table?credential=storage-location-secret", m.Location)
		rm := items[2].File
		require.NotNil(t, rm)
		assert.Equal(t, FileRemove, rm.Kind)
		assert.Equal(t, "removed-z", rm.ID)
		assert.Equal(t, int64(128), rm.Size)
		assert.Equal(t, i64(41), rm.Version)
		assert.Equal(t, i64(1700000000000), rm.DeletionTimestamp)
		assert.True(t, rm.ExtendedFileMetadata)
		assert.Equal(t, map[string]string{"region": "emea"}, rm.PartitionValues)
		assert.Equal(t, "delete", rm.ChangeType())
		add := items[3].File
		assert.Equal(t, FileAdd, add.Kind)
		assert.Equal(t, "active-a", add.ID)
		assert.Equal(t, "dv-active-a", add.DeletionVectorFileID)
		assert.Equal(t, "https://objects.example.test/current.parquet?sig=add-url-secret", add.URL)
		assert.Equal(t, int64(2048), add.Size)
		assert.Equal(t, int64(1700000000000), add.ModificationTime)
		assert.True(t, add.DataChange)
		assert.Equal(t, i64(1700003600000), add.ExpirationTimestamp)
		assert.Equal(t, "2023-11-14T23:13:20Z", add.Expiration().Format("2006-01-02T15:04:05Z07:00"))
		require.NotNil(t, add.DeletionVector)
		assert.Equal(t, "p", add.DeletionVector.StorageType)
		assert.Equal(t, int32(38), add.DeletionVector.SizeInBytes)
		assert.Equal(t, int64(3), add.DeletionVector.Cardinality)
		require.NotNil(t, add.DeletionVector.Offset)
		assert.Equal(t, int32(1), *add.DeletionVector.Offset)
		assert.Contains(t, add.Stats, `"numRecords":10`)
		for _, it := range items {
			s := it.String()
			for _, secret := range []string{"add-url-secret", "dv-url-secret", "remove-url-secret", "storage-location-secret", "aux-location-secret"} {
				assert.NotContains(t, s, secret)
			}
		}
	})
	t.Run("snapshot-page-1 bare end stream", func(t *testing.T) {
		items := decodeAll(t, readFixture(t, "ndjson", "snapshot-page-1.ndjson"))
		require.Len(t, items, 4)
		f := items[2].File
		assert.Equal(t, "file-a", f.ID)
		assert.Equal(t, int64(50), f.Size)
		assert.Equal(t, `{"numRecords":1}`, f.Stats)
		es := items[3].EndStream
		require.NotNil(t, es)
		assert.Equal(t, ResponseFormat(""), items[3].Format)
		assert.Equal(t, "refresh-token-private-secret", es.RefreshToken)
		assert.Equal(t, "next-page-token-private-secret", es.NextPageToken)
		assert.Equal(t, i64(4102444800000), es.MinURLExpirationTimestamp)
		assert.NotContains(t, es.String(), "secret")
		assert.NotContains(t, items[2].String(), "secret")
	})
	t.Run("snapshot-page-2", func(t *testing.T) {
		items := decodeAll(t, readFixture(t, "ndjson", "snapshot-page-2.ndjson"))
		require.Len(t, items, 4)
		assert.Equal(t, "file-b", items[2].File.ID)
		es := items[3].EndStream
		assert.Equal(t, "", es.NextPageToken)
		assert.Equal(t, i64(4102444700000), es.MinURLExpirationTimestamp)
	})
	t.Run("snapshot-parquet-kernel-proof", func(t *testing.T) {
		items := decodeAll(t, readFixture(t, "ndjson", "snapshot-parquet-kernel-proof.ndjson"))
		require.Len(t, items, 3)
		m := items[1].Metadata
		assert.Equal(t, i64(42), m.Version)
		assert.Equal(t, i64(1939), m.Size)
		assert.Equal(t, i64(1), m.NumFiles)
		f := items[2].File
		assert.Equal(t, FormatParquet, items[2].Format)
		assert.Equal(t, FileAdd, f.Kind)
		assert.Equal(t, "parquet-file-a", f.ID)
		assert.Equal(t, map[string]string{"region": "apac"}, f.PartitionValues)
		assert.Equal(t, i64(42), f.Version)
		assert.Equal(t, i64(1700000000000), f.Timestamp)
		assert.Equal(t, i64(4102444800000), f.ExpirationTimestamp)
		assert.NotContains(t, f.String(), "proof=redacted")
	})
	t.Run("cdf pages", func(t *testing.T) {
		items := decodeAll(t, readFixture(t, "ndjson", "cdf-page-1.ndjson"))
		require.Len(t, items, 4)
		assert.Equal(t, i64(1), items[0].Protocol.Version)
		assert.Equal(t, []string{"changeDataFeed"}, items[0].Protocol.Protocol.WriterFeatures)
		assert.Equal(t, FileRemove, items[2].File.Kind)
		assert.Equal(t, int64(500), items[2].File.Size)
		assert.Equal(t, "cdf-page-two", items[3].EndStream.NextPageToken)
		items = decodeAll(t, readFixture(t, "ndjson", "cdf-page-2.ndjson"))
		f := items[2].File
		assert.Equal(t, FileCDF, f.Kind)
		assert.Equal(t, "changed-two", f.ID)
		assert.Equal(t, int64(786), f.Size)
		assert.Equal(t, i64(2), f.Version)
		assert.Equal(t, "", f.ChangeType())
		assert.Equal(t, EndStream{}, *items[3].EndStream)
	})
}

// TestFixturesRoundTrip: every fixture line decodes, encodes in its own format and decodes to
// the same item.
func TestFixturesRoundTrip(t *testing.T) {
	dir := sharedtest.Path(t, "protocol", "ndjson")
	files, err := filepath.Glob(filepath.Join(dir, "*.ndjson"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			require.NoError(t, err)
			for _, it := range decodeAll(t, data) {
				assertRoundTrip(t, it)
			}
		})
	}
}

func assertRoundTrip(t testing.TB, it Item) {
	t.Helper()
	encode := func(it Item) []byte {
		var line []byte
		var err error
		if it.Format == FormatDelta {
			line, err = EncodeDeltaLine(it)
		} else {
			line, err = EncodeParquetLine(it, false)
		}
		require.NoError(t, err)
		require.True(t, bytes.HasSuffix(line, []byte("\n")))
		return line
	}
	line := encode(it)
	again, err := DecodeLine(line)
	require.NoError(t, err, "re-decoding %s", line)
	it.Line = 0
	if it.Format == "" || it.EndStream != nil {
		again.Format = it.Format
	}
	// Normalization of empty collections on encode.
	assert.Equal(t, encode(it), encode(again), "encode(decode(encode(x))) differs")
	assert.Equal(t, it.Format, again.Format)
}

func TestDecodeLineKinds(t *testing.T) {
	tests := []struct {
		name  string
		line  string
		check func(t *testing.T, it Item)
	}{
		{"blank", "   ", func(t *testing.T, it Item) { assert.True(t, it.IsZero()) }},
		{"unknown kind ignored", `{"queryStatus":{"queryId":"q"}}`, func(t *testing.T, it Item) { assert.True(t, it.IsZero()) }},
		{"empty object ignored", `{}`, func(t *testing.T, it Item) { assert.True(t, it.IsZero()) }},
		{"wrapped end stream", `{"endStreamAction":{"refreshToken":"r","errorMessage":"boom","httpStatusErrorCode":403}}`, func(t *testing.T, it Item) {
			require.NotNil(t, it.EndStream)
			assert.Equal(t, "r", it.EndStream.RefreshToken)
			err := it.EndStream.Err()
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrForbidden)
			assert.Contains(t, err.Error(), "boom")
		}},
		{"bare error end stream", `{"errorMessage":"late failure"}`, func(t *testing.T, it Item) {
			require.NotNil(t, it.EndStream)
			assert.Equal(t, "late failure", it.EndStream.ErrorMessage)
		}},
		{"parquet add", `{"add":{"url":"https://x/a?s=1","id":"a","partitionValues":{"d":"2021-04-28"},"size":573,"timestamp":1652140000000,"version":0}}`, func(t *testing.T, it Item) {
			assert.Equal(t, FileAdd, it.File.Kind)
			assert.Equal(t, i64(0), it.File.Version)
			assert.Equal(t, "insert", it.File.ChangeType())
		}},
		{"parquet cdf", `{"cdf":{"url":"https://x/c","id":"c","partitionValues":{},"size":689,"timestamp":1652141000000,"version":1}}`, func(t *testing.T, it Item) {
			assert.Equal(t, FileCDF, it.File.Kind)
		}},
		{"parquet remove", `{"remove":{"url":"https://x/r","id":"r","partitionValues":{},"size":1,"timestamp":1,"version":2}}`, func(t *testing.T, it Item) {
			assert.Equal(t, FileRemove, it.File.Kind)
		}},
		{"delta cdc", `{"file":{"id":"c","deltaSingleAction":{"cdc":{"path":"https://x/c","partitionValues":{},"size":3,"dataChange":false}}}}`, func(t *testing.T, it Item) {
			assert.Equal(t, FileCDF, it.File.Kind)
			assert.Equal(t, FormatDelta, it.Format)
		}},
		{"CRLF tolerated", "{\"protocol\":{\"minReaderVersion\":1}}\r", func(t *testing.T, it Item) {
			assert.Equal(t, 1, it.Protocol.Protocol.MinReaderVersion)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			it, err := DecodeLine([]byte(tc.line))
			require.NoError(t, err)
			tc.check(t, it)
			if !it.IsZero() {
				assertRoundTrip(t, it)
			}
		})
	}
}

func TestDecodeMalformedLines(t *testing.T) {
	tests := []struct {
		name, body string
		line       int
	}{
		{"broken json", "{\"protocol\":{\"minReaderVersion\":1}}\n{\"file\":{\"url\":\"https://x/y?sig=must-not-leak\",\n", 2},
		{"not an object", "{\"protocol\":{\"minReaderVersion\":1}}\n\n[1,2]\n", 3},
		{"two actions", `{"protocol":{"minReaderVersion":1},"metaData":{"id":"x"}}`, 1},
		{"wrong type", `{"file":{"url":"https://x/y?sig=must-not-leak","id":"a","size":"big"}}`, 1},
		{"file without url", `{"file":{"id":"a","size":1}}`, 1},
		{"delta file without action", `{"file":{"id":"a","deltaSingleAction":{}}}`, 1},
		{"action not an object", `{"metaData":"must-not-leak"}`, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dec := NewDecoder(strings.NewReader(tc.body))
			var err error
			for err == nil {
				_, err = dec.Next()
			}
			var le *LineError
			require.ErrorAs(t, err, &le)
			assert.Equal(t, tc.line, le.Line)
			assert.ErrorIs(t, err, ErrProtocol)
			assert.Contains(t, err.Error(), "line")
			assert.NotContains(t, err.Error(), "must-not-leak")
			// The error sticks.
			_, err2 := dec.Next()
			assert.Equal(t, err, err2)
		})
	}
}

func TestDecoderHugeLine(t *testing.T) {
	stats := `{"numRecords":1,"pad":"` + strings.Repeat("x", 8<<20) + `"}`
	f := File{Kind: FileAdd, ID: "big", URL: "https://x/big.parquet", Size: 1, Stats: stats}
	var buf bytes.Buffer
	enc := NewEncoder(&buf, FormatParquet)
	require.NoError(t, enc.Protocol(ProtocolAction{}))
	require.NoError(t, enc.File(f))
	require.NoError(t, enc.File(File{Kind: FileAdd, ID: "small", URL: "https://x/s"}))
	items := decodeAll(t, buf.Bytes())
	require.Len(t, items, 3)
	assert.Equal(t, stats, items[1].File.Stats)
	assert.Equal(t, "small", items[2].File.ID)
	assert.Equal(t, 3, items[2].Line)
}

func TestDecoderLastLineWithoutNewline(t *testing.T) {
	items := decodeAll(t, []byte("{\"protocol\":{\"minReaderVersion\":1}}\n{\"endStreamAction\":{}}"))
	require.Len(t, items, 2)
	assert.NotNil(t, items[1].EndStream)
}

func TestDecoderReadErrorIsNotEOF(t *testing.T) {
	r := io.MultiReader(strings.NewReader("{\"protocol\":{\"minReaderVersion\":1}}\n{\"file\""), iotestErrReader{})
	dec := NewDecoder(r)
	_, err := dec.Next()
	require.NoError(t, err)
	_, err = dec.Next()
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
}

type iotestErrReader struct{}

func (iotestErrReader) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }

func TestEncoderShapes(t *testing.T) {
	f := File{Kind: FileAdd, ID: "a", URL: "https://x/a?x=1&y=2", Size: 5, Version: i64(3), Timestamp: i64(4)}
	tests := []struct {
		name       string
		format     ResponseFormat
		dataChange bool
		item       Item
		want       string
	}{
		{"parquet protocol", FormatParquet, false, Item{Protocol: &ProtocolAction{}}, `{"protocol":{"minReaderVersion":0}}`},
		{"parquet snapshot file", FormatParquet, false, Item{File: &f}, `{"file":{"url":"https://x/a?x=1&y=2","id":"a","partitionValues":{},"size":5,"version":3,"timestamp":4}}`},
		{"parquet change add", FormatParquet, true, Item{File: &f}, `{"add":{"url":"https://x/a?x=1&y=2","id":"a","partitionValues":{},"size":5,"version":3,"timestamp":4}}`},
		{"parquet metadata", FormatParquet, false, Item{Metadata: &MetadataAction{Metadata: metaFor("t1")}}, `{"metaData":{"id":"t1","format":{"provider":"parquet"},"schemaString":"{}","partitionColumns":[]}}`},
		{"parquet metadata of a log with empty format options", FormatParquet, false, Item{Metadata: &MetadataAction{Metadata: withOptions(metaFor("t1"))}}, `{"metaData":{"id":"t1","format":{"provider":"parquet"},"schemaString":"{}","partitionColumns":[]}}`},
		{"delta file", FormatDelta, false, Item{File: &f}, `{"file":{"id":"a","version":3,"timestamp":4,"deltaSingleAction":{"add":{"path":"https://x/a?x=1&y=2","partitionValues":{},"size":5,"modificationTime":0,"dataChange":false}}}}`},
		{"delta metadata", FormatDelta, false, Item{Metadata: &MetadataAction{Metadata: metaFor("t1"), Version: i64(2)}}, `{"metaData":{"deltaMetadata":{"id":"t1","format":{"provider":"parquet"},"schemaString":"{}","partitionColumns":[],"configuration":{}},"version":2}}`},
		{"delta metadata of a log with empty format options", FormatDelta, false, Item{Metadata: &MetadataAction{Metadata: withOptions(metaFor("t1")), Version: i64(2)}}, `{"metaData":{"deltaMetadata":{"id":"t1","format":{"provider":"parquet","options":{}},"schemaString":"{}","partitionColumns":[],"configuration":{}},"version":2}}`},
		{"end stream", FormatDelta, false, Item{EndStream: &EndStream{NextPageToken: "n"}}, `{"endStreamAction":{"nextPageToken":"n"}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			enc := NewEncoder(&buf, tc.format)
			enc.DataChangeFiles = tc.dataChange
			require.NoError(t, enc.Encode(tc.item))
			assert.Equal(t, tc.want+"\n", buf.String())
		})
	}
	_, err := EncodeParquetLine(Item{}, false)
	assert.Error(t, err)
}

func metaFor(id string) delta.Metadata {
	return delta.Metadata{ID: id, Format: delta.Format{Provider: "parquet"}, SchemaString: "{}"}
}

// withOptions is m with the empty format options Delta writers write.
func withOptions(m delta.Metadata) delta.Metadata {
	m.Format.Options = map[string]string{}
	return m
}

// TestDecoderMaxLine: a line longer than the decoder's limit ends the decoding with
// ErrLineTooLong (an ErrProtocol), naming the line; lines up to the limit decode.
func TestDecoderMaxLine(t *testing.T) {
	ok := `{"endStreamAction":{"refreshToken":"` + strings.Repeat("r", 100) + `"}}`
	body := ok + "\n" + `{"endStreamAction":{"refreshToken":"` + strings.Repeat("r", 5000) + `"}}` + "\n"
	d := NewDecoder(strings.NewReader(body))
	d.SetMaxLineBytes(len(ok))
	it, err := d.Next()
	require.NoError(t, err)
	require.NotNil(t, it.EndStream)
	_, err = d.Next()
	require.ErrorIs(t, err, ErrLineTooLong)
	require.ErrorIs(t, err, ErrProtocol)
	assert.Contains(t, err.Error(), "response line 2 is longer than")
	_, again := d.Next()
	assert.Equal(t, err, again, "the error sticks")

	d = NewDecoder(strings.NewReader(body))
	d.SetMaxLineBytes(0) // the default
	n := 0
	for {
		if _, err := d.Next(); err != nil {
			require.ErrorIs(t, err, io.EOF)
			break
		}
		n++
	}
	assert.Equal(t, 2, n)
}

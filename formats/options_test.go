package formats

import (
	"io"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// assertParses checks that parse accepts each key of want and gives its value.
func assertParses[T any](t *testing.T, parse func(string) (T, error), want map[string]T) {
	t.Helper()
	for in, w := range want {
		got, err := parse(in)
		require.NoError(t, err, in)
		assert.Equal(t, w, got, in)
	}
}

func TestParseFormat(t *testing.T) {
	assertParses(t, ParseFormat, map[string]Format{"csv": CSV, "CSV": CSV, " ndjson ": NDJSON, "jsonl": NDJSON, "json": JSON, "Parquet": Parquet})
	_, err := ParseFormat("xls")
	assert.EqualError(t, err, `unknown format "xls": use csv, ndjson, json or parquet`)
	_, err = ParseFormat("")
	assert.EqualError(t, err, "no output format given: use csv, ndjson, json or parquet")
}

func TestParseCompressionAndNaN(t *testing.T) {
	assertParses(t, ParseCompression, map[string]Compression{"": CompressionDefault, "none": None, "GZIP": Gzip, "gz": Gzip, "zst": Zstd, "snappy": Snappy})
	_, err := ParseCompression("lz4")
	assert.ErrorContains(t, err, `unknown compression "lz4"`)
	assertParses(t, ParseNaNMode, map[string]NaNMode{"string": NaNString})
	_, err = ParseNaNMode("zero")
	assert.ErrorContains(t, err, "use null or string")
}

func TestValidate(t *testing.T) {
	cases := []struct {
		opts Options
		err  string // empty: valid
	}{
		{Options{Format: CSV}, ""},
		{Options{Format: CSV, Compression: Zstd, Delimiter: '\t', NoHeader: true, CRLF: true, Null: `\N`, NaN: NaNString}, ""},
		{Options{Format: NDJSON, Compression: Gzip, NaN: NaNString}, ""},
		{Options{Format: JSON, Delimiter: ','}, ""},
		{Options{Format: Parquet, Compression: Zstd, RowGroupRows: 10, RowGroupBytes: 1 << 20}, ""},
		{Options{}, "no output format given"},
		{Options{Format: "xls"}, `unknown format "xls"`},
		{Options{Format: CSV, Compression: Snappy}, `compression "snappy" does not apply to csv: use none, gzip or zstd`},
		{Options{Format: Parquet, Null: "NULL"}, "a null text applies only to csv: parquet writes nulls natively"},
		{Options{Format: JSON, Null: "NULL"}, "a null text applies only to csv"},
		{Options{Format: Parquet, Delimiter: ';'}, "a delimiter applies only to csv, not to parquet"},
		{Options{Format: NDJSON, NoHeader: true}, "header applies only to csv"},
		{Options{Format: JSON, CRLF: true}, "CRLF line endings apply only to csv"},
		{Options{Format: Parquet, NaN: NaNString}, "parquet stores NaN"},
		{Options{Format: CSV, RowGroupRows: 5}, "row group sizes apply only to parquet"},
		{Options{Format: Parquet, RowGroupBytes: -1}, "must be positive"},
		{Options{Format: CSV, Delimiter: '"'}, "cannot be used"},
		{Options{Format: CSV, Delimiter: '\n'}, "cannot be used"},
		{Options{Format: CSV, Delimiter: -1}, "not a valid character"},
		{Options{Format: CSV, Null: "a,b"}, "cannot contain the delimiter"},
		{Options{Format: CSV, Null: " x"}, "white space"},
		{Options{Format: CSV, NaN: "zero"}, "unknown NaN mode"},
	}
	for _, c := range cases {
		err := c.opts.Validate()
		if c.err == "" {
			assert.NoError(t, err, "%+v", c.opts)
			continue
		}
		assert.ErrorContains(t, err, c.err, "%+v", c.opts)
		// New refuses the same options.
		_, nerr := New(io.Discard, arrow.NewSchema(nil, nil), c.opts)
		assert.Error(t, nerr)
	}
}

func TestExtension(t *testing.T) {
	cases := map[string]Options{
		".csv":        {Format: CSV},
		".csv.gz":     {Format: CSV, Compression: Gzip},
		".csv.zst":    {Format: CSV, Compression: Zstd},
		".ndjson":     {Format: NDJSON, Compression: None},
		".ndjson.zst": {Format: NDJSON, Compression: Zstd},
		".json.gz":    {Format: JSON, Compression: Gzip},
		".parquet":    {Format: Parquet, Compression: Zstd},
		"":            {Format: "xls"},
	}
	for want, o := range cases {
		assert.Equal(t, want, Extension(o), "%+v", o)
	}
	assert.Equal(t, ".json", Extension(Options{Format: "JSON"}))
}

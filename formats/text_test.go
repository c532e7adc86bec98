package formats

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// encodeAll writes the records with a new encoder and returns the output.
func encodeAll(t testing.TB, schema *arrow.Schema, opts Options, recs ...arrow.Record) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc, err := New(&buf, schema, opts)
	require.NoError(t, err)
	for _, r := range recs {
		require.NoError(t, enc.Write(r))
	}
	require.NoError(t, enc.Close())
	return buf.Bytes()
}

// slices cuts rec into the given row counts (the caller releases them).
func slices(rec arrow.Record, sizes ...int64) []arrow.Record {
	var out []arrow.Record
	off := int64(0)
	for _, n := range sizes {
		out = append(out, rec.NewSlice(off, off+n))
		off += n
	}
	return out
}

var goldenCases = []struct {
	file string
	opts Options
}{
	{"alltypes.csv", Options{Format: CSV}},
	{"alltypes_tab_crlf_null.csv", Options{Format: CSV, Delimiter: '\t', CRLF: true, Null: "NULL"}},
	{"alltypes_colon_noheader.csv", Options{Format: CSV, Delimiter: ':', NoHeader: true, Null: "NaN"}},
	{"alltypes.ndjson", Options{Format: NDJSON}},
	{"alltypes_nanstring.ndjson", Options{Format: NDJSON, NaN: NaNString}},
	{"alltypes.json", Options{Format: JSON}},
}

func TestGolden(t *testing.T) {
	t.Parallel()
	mem := checkedMem(t)
	rec := allTypesRecord(t, mem)
	defer rec.Release()
	for _, tc := range goldenCases {
		t.Run(tc.file, func(t *testing.T) {
			got := encodeAll(t, rec.Schema(), tc.opts, rec)
			path := filepath.Join("testdata", tc.file)
			if *update {
				require.NoError(t, os.WriteFile(path, got, 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "run go test -run TestGolden -update to create the golden files")
			assert.Equal(t, string(want), string(got))

			// Sliced records (non-zero offsets everywhere, nested included) and several
			// Write calls give the same bytes.
			parts := slices(rec, 1, 2, 0, 2)
			defer func() {
				for _, p := range parts {
					p.Release()
				}
			}()
			assert.Equal(t, string(want), string(encodeAll(t, rec.Schema(), tc.opts, parts...)))
		})
	}
}

func TestZeroRecords(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "name", Type: arrow.BinaryTypes.String},
	}, nil)
	mem := checkedMem(t)
	empty := array.NewRecordBuilder(mem, schema)
	defer empty.Release()
	rec := empty.NewRecord()
	defer rec.Release()
	for _, tc := range []struct {
		opts Options
		want string
	}{
		{Options{Format: CSV}, "id,name\n"},
		{Options{Format: CSV, NoHeader: true}, ""},
		{Options{Format: NDJSON}, ""},
		{Options{Format: JSON}, "[]\n"},
	} {
		assert.Equal(t, tc.want, string(encodeAll(t, schema, tc.opts)), "%+v no record", tc.opts)
		assert.Equal(t, tc.want, string(encodeAll(t, schema, tc.opts, rec, rec)), "%+v empty records", tc.opts)
	}
	var v []any
	require.NoError(t, json.Unmarshal(encodeAll(t, schema, Options{Format: JSON}), &v))
	assert.Empty(t, v)
}

// jsonObjects decodes NDJSON or a JSON array into objects, keeping key order and numbers as
// text.
func jsonObjects(t *testing.T, data []byte, array bool) []orderedObject {
	t.Helper()
	if array {
		var raw []json.RawMessage
		require.NoError(t, json.Unmarshal(data, &raw), "output is valid JSON")
		var out []orderedObject
		for _, r := range raw {
			out = append(out, decodeOrdered(t, r))
		}
		return out
	}
	var out []orderedObject
	for _, line := range strings.SplitAfter(string(data), "\n") {
		if line == "" {
			continue
		}
		require.True(t, strings.HasSuffix(line, "\n"))
		require.True(t, json.Valid([]byte(line)), "line is valid JSON: %s", line)
		out = append(out, decodeOrdered(t, []byte(line)))
	}
	return out
}

type orderedObject struct {
	keys   []string
	values map[string]any
}

func decodeOrdered(t *testing.T, data []byte) orderedObject {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tok, err := dec.Token()
	require.NoError(t, err)
	require.Equal(t, json.Delim('{'), tok)
	o := orderedObject{values: map[string]any{}}
	for dec.More() {
		k, err := dec.Token()
		require.NoError(t, err)
		var v any
		require.NoError(t, dec.Decode(&v))
		o.keys = append(o.keys, k.(string))
		o.values[k.(string)] = v
	}
	return o
}

func TestJSONValues(t *testing.T) {
	t.Parallel()
	mem := checkedMem(t)
	rec := allTypesRecord(t, mem)
	defer rec.Release()
	var names []string
	for _, f := range rec.Schema().Fields() {
		names = append(names, f.Name)
	}
	for _, tc := range []struct {
		opts  Options
		array bool
	}{{Options{Format: NDJSON}, false}, {Options{Format: JSON}, true}} {
		objs := jsonObjects(t, encodeAll(t, rec.Schema(), tc.opts, rec), tc.array)
		require.Len(t, objs, 5)
		for _, o := range objs {
			assert.Equal(t, names, o.keys, "keys in schema order")
		}
		r0, r1, r2, r3, r4 := objs[0].values, objs[1].values, objs[2].values, objs[3].values, objs[4].values
		assert.Equal(t, json.Number("9007199254740993"), r3["i64"], "int64 beyond 2^53 stays exact")
		assert.Equal(t, json.Number("-9223372036854775808"), r1["i64"])
		assert.Equal(t, json.Number("18446744073709551615"), r2["u64"])
		assert.Equal(t, json.Number("0.1"), r0["f32"], "float32 at its own precision")
		assert.Equal(t, json.Number("-0"), r1["f64"])
		assert.Equal(t, json.Number("1e+21"), r2["f64"])
		assert.Equal(t, json.Number("1e-7"), r1["f64b"])
		assert.Nil(t, r3["f64"], "NaN is null by default")
		assert.Equal(t, json.Number("123.45"), r0["dec_10_2"])
		assert.Equal(t, json.Number("-0.05"), r1["dec_10_2"])
		assert.Equal(t, json.Number("0.00"), r3["dec_10_2"])
		assert.Equal(t, json.Number("-"+max38), r1["dec_38_0"])
		assert.Equal(t, json.Number("0."+max38), r2["dec_38_38"])
		assert.Equal(t, json.Number("-0."+max38), r1["dec_38_38"])
		assert.Equal(t, json.Number("0.00000000000000000000000000000000000001"), r0["dec_38_38"])
		assert.Equal(t, json.Number("1200"), r0["dec_5_m2"])
		assert.Equal(t, "line\nbreak\r\nand tab\t ünïcödé 日本 😀", r3["text"])
		assert.Equal(t, "ctl\x01\x1f\\back\u2028", r3["text, \"2\""])
		assert.Equal(t, "", r0["text, \"2\""])
		assert.Equal(t, "AAEC/w==", r0["bin"])
		assert.Equal(t, "2021-01-01", r0["d32"])
		assert.Equal(t, "0001-01-01", r1["d32"])
		assert.Equal(t, "9999-12-31", r2["d64"])
		assert.Equal(t, "2021-01-01T00:00:00Z", r0["ts_s"])
		assert.Equal(t, "2021-01-01T00:00:00.123000Z", r0["ts_ms"])
		assert.Equal(t, "2021-01-01T00:00:00.123456Z", r0["ts_us"])
		assert.Equal(t, "2021-01-01T00:00:00.123456789Z", r0["ts_ns"])
		assert.Equal(t, "1969-12-31T23:59:59.999999Z", r3["ts_us"])
		assert.Equal(t, "2021-01-01T05:00:00.000001Z", r1["ts_ny"], "zoned timestamps are written in UTC")
		assert.Equal(t, "2021-01-01T00:00:00.123456", r0["ts_ntz"], "timestamp_ntz has no zone")
		assert.Equal(t, "12:34:56.789012", r0["t64"])
		assert.Equal(t, map[string]any{"a": json.Number("1"), "b": "x", "when": "2021-01-01T00:00:00Z"}, r0["st"])
		assert.Equal(t, map[string]any{"a": nil, "b": nil, "when": nil}, r1["st"])
		assert.Equal(t, []any{json.Number("1"), json.Number("2"), json.Number("3")}, r0["lst"])
		assert.Equal(t, []any{}, r1["lst"])
		assert.Equal(t, []any{nil, json.Number("9223372036854775807")}, r2["lst"])
		assert.Equal(t, []any{map[string]any{"x": json.Number("1.5"), "label": "a"}, map[string]any{"x": nil, "label": nil}}, r0["points"])
		assert.Equal(t, []any{nil}, r1["points"])
		assert.Equal(t, map[string]any{"a": json.Number("1"), "b": nil}, r0["tags"])
		assert.Equal(t, map[string]any{}, r1["tags"])
		assert.Equal(t, []any{
			map[string]any{"key": json.Number("1"), "value": "one"},
			map[string]any{"key": json.Number("2"), "value": nil},
		}, r0["codes"])
		assert.Equal(t, "y", r1["dict"])
		for _, k := range names {
			assert.Nil(t, r4[k], "row of nulls: %s", k)
		}
	}

	objs := jsonObjects(t, encodeAll(t, rec.Schema(), Options{Format: NDJSON, NaN: NaNString}, rec), false)
	assert.Equal(t, "NaN", objs[3].values["f64"])
	assert.Equal(t, "Infinity", objs[2].values["f64b"])
	assert.Equal(t, "-Infinity", objs[3].values["f64b"])
	assert.Equal(t, "NaN", objs[0].values["points"].([]any)[1].(map[string]any)["x"])
}

func TestJSONInvalidUTF8(t *testing.T) {
	for _, in := range []string{"a\xffb\xe6\x97c", "\xff", "ok\xc3", "\xed\xa0\x80 surrogate", "日本\x80"} {
		got := appendJSONString(nil, []byte(in))
		var s string
		require.NoError(t, json.Unmarshal(got, &s))
		want, err := json.Marshal(in) // encoding/json replaces invalid bytes the same way
		require.NoError(t, err)
		var ws string
		require.NoError(t, json.Unmarshal(want, &ws))
		assert.Equal(t, ws, s, "%q", in)
	}
}

func TestCSVRoundTrip(t *testing.T) {
	t.Parallel()
	values := []string{
		"", " ", "plain", "a,b", `say "hi"`, "\"", "\"\"", "line\nbreak", "cr\rlf\r\n", " lead", "trail ",
		"\ttab", "ünïcödé 日本 😀", "semi;colon", "pipe|x", "a§b", "NULL", "\\N", ",", "\n",
	}
	mem := checkedMem(t)
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "n", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	for i, v := range values {
		b.Field(0).(*array.StringBuilder).Append(v)
		b.Field(1).(*array.Int32Builder).Append(int32(i))
	}
	b.Field(0).(*array.StringBuilder).AppendNull()
	b.Field(1).(*array.Int32Builder).AppendNull()
	rec := b.NewRecord()
	defer rec.Release()

	for _, tc := range []struct {
		delim rune
		crlf  bool
		null  string
	}{{',', false, ""}, {';', true, ""}, {'\t', false, "NULL"}, {'|', false, `\N`}, {'§', true, ""}} {
		out := encodeAll(t, schema, Options{Format: CSV, Delimiter: tc.delim, CRLF: tc.crlf, Null: tc.null}, rec)
		r := csv.NewReader(bytes.NewReader(out))
		r.Comma = tc.delim
		rows, err := r.ReadAll()
		require.NoError(t, err, "delimiter %q", tc.delim)
		require.Len(t, rows, len(values)+2)
		assert.Equal(t, []string{"s", "n"}, rows[0])
		nullIdx := -1
		for i, v := range values {
			// encoding/csv turns CR LF inside quotes into LF; the raw bytes are checked below.
			assert.Equal(t, strings.ReplaceAll(v, "\r\n", "\n"), rows[i+1][0], "delimiter %q value %q", tc.delim, v)
			if v == tc.null {
				nullIdx = i
			}
		}
		assert.Contains(t, string(out), `"cr`+"\r"+`lf`+"\r\n"+`"`)
		assert.Equal(t, []string{tc.null, tc.null}, rows[len(rows)-1])

		// Null and a string equal to the null text differ in the raw text.
		eol := "\n"
		if tc.crlf {
			eol = "\r\n"
		}
		d := string(tc.delim)
		assert.True(t, strings.HasSuffix(string(out), eol+tc.null+d+tc.null+eol), "null row is unquoted")
		require.GreaterOrEqual(t, nullIdx, 0)
		assert.Contains(t, string(out), eol+`"`+tc.null+`"`+d+strconv.Itoa(nullIdx)+eol, "a value equal to the null text is quoted")
	}
}

func TestCSVNullTextAgainstPlainValues(t *testing.T) {
	mem := checkedMem(t)
	schema := arrow.NewSchema([]arrow.Field{{Name: "f", Type: arrow.PrimitiveTypes.Float64, Nullable: true}}, nil)
	b := array.NewFloat64Builder(mem)
	defer b.Release()
	b.AppendValues([]float64{1, 0}, []bool{true, false})
	b.Append(nan())
	arr := b.NewArray()
	defer arr.Release()
	rec := array.NewRecord(schema, []arrow.Array{arr}, 3)
	defer rec.Release()
	out := encodeAll(t, schema, Options{Format: CSV, Null: "NaN"}, rec)
	assert.Equal(t, "f\n1\nNaN\n\"NaN\"\n", string(out))
}

func TestCompressedText(t *testing.T) {
	t.Parallel()
	mem := checkedMem(t)
	rec := allTypesRecord(t, mem)
	defer rec.Release()
	for _, f := range []Format{CSV, NDJSON, JSON} {
		plain := encodeAll(t, rec.Schema(), Options{Format: f}, rec, rec)
		for _, c := range []Compression{Gzip, Zstd} {
			var buf bytes.Buffer
			w := &closeRecorder{Writer: &buf}
			enc, err := New(w, rec.Schema(), Options{Format: f, Compression: c})
			require.NoError(t, err)
			require.NoError(t, enc.Write(rec))
			require.NoError(t, enc.Write(rec))
			require.NoError(t, enc.Close())
			assert.False(t, w.closed, "the caller's writer stays open")
			assert.NotEqual(t, plain, buf.Bytes())
			assert.Equal(t, string(plain), string(decompress(t, c, buf.Bytes())), "%s %s", f, c)
		}
	}
}

type closeRecorder struct {
	io.Writer
	closed bool
}

func (c *closeRecorder) Close() error { c.closed = true; return nil }

func TestEncoderLifecycle(t *testing.T) {
	t.Parallel()
	mem := checkedMem(t)
	rec := allTypesRecord(t, mem)
	defer rec.Release()
	for _, f := range []Format{CSV, NDJSON, JSON, Parquet} {
		t.Run(string(f), func(t *testing.T) {
			var buf bytes.Buffer
			enc, err := New(&buf, rec.Schema(), Options{Format: f, Compression: Gzip, Allocator: mem})
			if f == Parquet {
				// Parquet cannot store uint64 beyond int64, the null type in a file
				// readers accept, ... use the Delta-like record instead.
				prec := deltaRecord(t, mem, 10)
				defer prec.Release()
				enc, err = New(&buf, prec.Schema(), Options{Format: f, Allocator: mem})
				require.NoError(t, err)
				require.NoError(t, enc.Write(prec))
				require.NoError(t, enc.Write(prec))
			} else {
				require.NoError(t, err)
				require.NoError(t, enc.Write(rec))
				require.NoError(t, enc.Write(rec))
			}
			require.NoError(t, enc.Close())
			n := buf.Len()
			require.NoError(t, enc.Close(), "Close twice")
			assert.Equal(t, n, buf.Len(), "second Close writes nothing")
			assert.ErrorIs(t, enc.Write(rec), ErrClosed)
		})
	}
}

func TestSchemaMismatch(t *testing.T) {
	mem := checkedMem(t)
	rec := allTypesRecord(t, mem)
	defer rec.Release()
	other := arrow.NewSchema([]arrow.Field{{Name: "i8", Type: arrow.PrimitiveTypes.Int16}}, nil)
	enc, err := New(io.Discard, other, Options{Format: CSV})
	require.NoError(t, err)
	err = enc.Write(rec)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "start a new file")
	require.NoError(t, enc.Close())

	// Same types, other names: accepted, the encoder's names win.
	renamed := arrow.NewSchema([]arrow.Field{{Name: "renamed", Type: arrow.PrimitiveTypes.Int8, Nullable: true}}, nil)
	one := array.NewRecord(renamed, []arrow.Array{rec.Column(0)}, rec.NumRows())
	defer one.Release()
	first := arrow.NewSchema([]arrow.Field{{Name: "first", Type: arrow.PrimitiveTypes.Int8, Nullable: true}}, nil)
	assert.Equal(t, "first\n1\n-128\n127\n0\n\n", string(encodeAll(t, first, Options{Format: CSV}, one)))
}

type failWriter struct{ n int }

func (f *failWriter) Write(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errors.New("disk full")
	}
	f.n--
	return len(p), nil
}

func TestWriteErrorIsSticky(t *testing.T) {
	t.Parallel()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rec := deltaRecord(t, mem, 20000)
	defer rec.Release()
	enc, err := New(&failWriter{}, rec.Schema(), Options{Format: NDJSON})
	require.NoError(t, err)
	for i := 0; i < 100 && err == nil; i++ {
		err = enc.Write(rec)
	}
	require.ErrorContains(t, err, "disk full")
	assert.ErrorContains(t, enc.Write(rec), "disk full", "later writes fail too")
	assert.ErrorContains(t, enc.Close(), "disk full")
}

func TestUnsupportedType(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{{Name: "iv", Type: arrow.FixedWidthTypes.MonthInterval}}, nil)
	_, err := New(io.Discard, schema, Options{Format: CSV})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `column "iv"`)
	assert.Contains(t, err.Error(), "use parquet or cast")
}

package delta

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deltashare/deltashare/internal/sharedtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseSchemaKinds(t *testing.T) {
	s := `{"type":"struct","fields":[
	 {"name":"a","type":"long","nullable":false,"metadata":{}},
	 {"name":"d","type":"decimal(38, 18)","nullable":true,"metadata":{"delta.columnMapping.id":3,"delta.columnMapping.physicalName":"col-x"}},
	 {"name":"arr","type":{"type":"array","elementType":"string","containsNull":false},"nullable":true,"metadata":{}},
	 {"name":"m","type":{"type":"map","keyType":"string","valueType":{"type":"struct","fields":[{"name":"x","type":"timestamp_ntz","nullable":true,"metadata":{}}]},"valueContainsNull":true},"nullable":true,"metadata":{}}
	]}`
	st, err := ParseSchema(s)
	require.NoError(t, err)
	require.Len(t, st.Fields, 4)
	assert.Equal(t, "long", st.Fields[0].Type.String())
	assert.False(t, st.Fields[0].Nullable)
	assert.Equal(t, &DecimalType{38, 18}, st.Fields[1].Type)
	assert.Equal(t, "col-x", st.Fields[1].PhysicalName("name"))
	assert.Equal(t, "d", st.Fields[1].PhysicalName("none"))
	id, ok := st.Fields[1].FieldID()
	assert.True(t, ok)
	assert.Equal(t, int64(3), id)
	assert.Equal(t, "array<string>", st.Fields[2].Type.String())
	assert.False(t, st.Fields[2].Type.(*ArrayType).ContainsNull)
	assert.Equal(t, "map<string,struct<x:timestamp_ntz>>", st.Fields[3].Type.String())
	assert.Same(t, st.Fields[1], st.Field("D"))

	out, err := MarshalSchema(st)
	require.NoError(t, err)
	again, err := ParseSchema(out)
	require.NoError(t, err)
	assert.Equal(t, st.String(), again.String())
}

func TestParseSchemaErrors(t *testing.T) {
	for _, s := range []string{
		``, `[]`, `"long"`, `{"type":"struct","fields":[{"type":"long"}]}`,
		`{"type":"struct","fields":[{"name":"a","type":"int128"}]}`,
		`{"type":"struct","fields":[{"name":"a","type":"decimal(40,2)"}]}`,
		`{"type":"struct","fields":[{"name":"a","type":{"type":"array"}}]}`,
		`{"type":"struct","fields":[{"name":"a","type":{"type":"tuple"}}]}`,
		strings.Repeat(`{"type":"array","elementType":`, 100) + `"long"` + strings.Repeat("}", 100),
	} {
		_, err := ParseSchema(s)
		assert.Error(t, err, s)
	}
}

// Every schema string in the shared Delta tables parses and round-trips.
func TestParseSchemaSharedTables(t *testing.T) {
	root := sharedtest.Path(t, "delta")
	n := 0
	err := filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() || !strings.HasSuffix(p, ".json") || filepath.Base(filepath.Dir(p)) != "_delta_log" {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<26)
		for sc.Scan() {
			a, err := ParseAction(sc.Bytes())
			require.NoError(t, err, p)
			if a.MetaData == nil {
				continue
			}
			st, err := a.MetaData.Schema()
			require.NoError(t, err, p)
			out, err := MarshalSchema(st)
			require.NoError(t, err)
			again, err := ParseSchema(out)
			require.NoError(t, err)
			assert.Equal(t, st.String(), again.String(), p)
			n++
		}
		return sc.Err()
	})
	require.NoError(t, err)
	assert.Greater(t, n, 50, "expected many metaData actions in the shared tables")
	t.Logf("parsed %d schemas", n)
}

func FuzzParseSchema(f *testing.F) {
	f.Add(`{"type":"struct","fields":[{"name":"a","type":"long","nullable":true,"metadata":{}}]}`)
	f.Add(`{"type":"struct","fields":[{"name":"m","type":{"type":"map","keyType":"string","valueType":"decimal(5,2)","valueContainsNull":true},"nullable":true,"metadata":{}}]}`)
	f.Fuzz(func(t *testing.T, s string) {
		st, err := ParseSchema(s)
		if err != nil {
			return
		}
		out, err := MarshalSchema(st)
		if err != nil {
			t.Fatal(err)
		}
		again, err := ParseSchema(out)
		if err != nil {
			t.Fatalf("round trip of %q failed: %v", out, err)
		}
		if again.String() != st.String() {
			t.Fatalf("round trip changed %s to %s", st, again)
		}
	})
}

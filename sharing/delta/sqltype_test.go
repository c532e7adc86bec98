package delta

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSQLType(t *testing.T) {
	st, err := ParseSchema(`{"type":"struct","fields":[
		{"name":"id","type":"long","nullable":false,"metadata":{}},
		{"name":"amount","type":"decimal(12,2)","nullable":true,"metadata":{"comment":"in EUR, it's net"}},
		{"name":"at","type":"timestamp_ntz","nullable":true,"metadata":{}},
		{"name":"tags","type":{"type":"array","elementType":"string","containsNull":true},"nullable":true,"metadata":{}},
		{"name":"attrs","type":{"type":"map","keyType":"string","valueType":"integer","valueContainsNull":true},"nullable":true,"metadata":{}},
		{"name":"po\u0060s","type":{"type":"struct","fields":[
			{"name":"x","type":"double","nullable":false,"metadata":{}},
			{"name":"b","type":"byte","nullable":true,"metadata":{}}]},"nullable":true,"metadata":{}}
	]}`)
	require.NoError(t, err)
	var got []string
	for _, f := range st.Fields {
		got = append(got, QuoteIdent(f.Name)+" "+SQLType(f.Type)+SQLFieldSuffix(f))
	}
	assert.Equal(t, []string{
		"`id` BIGINT NOT NULL",
		"`amount` DECIMAL(12,2) COMMENT 'in EUR, it\\'s net'",
		"`at` TIMESTAMP_NTZ",
		"`tags` ARRAY<STRING>",
		"`attrs` MAP<STRING, INT>",
		"`po``s` STRUCT<`x`: DOUBLE NOT NULL, `b`: TINYINT>",
	}, got)
	for name, want := range map[string]string{"short": "SMALLINT", "float": "FLOAT", "boolean": "BOOLEAN", "binary": "BINARY",
		"date": "DATE", "timestamp": "TIMESTAMP", "string": "STRING", "void": "VOID", "variant": "VARIANT"} {
		dt, err := ParsePrimitive(name)
		require.NoError(t, err)
		assert.Equal(t, want, SQLType(dt), name)
	}
	assert.Equal(t, `'a\\b\nc'`, QuoteString("a\\b\nc"))
}

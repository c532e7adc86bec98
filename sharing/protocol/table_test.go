package protocol

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseTable(t *testing.T) {
	tests := []struct {
		in      string
		want    Table
		wantErr string
	}{
		{in: "sales.default.orders", want: Table{"sales", "default", "orders"}},
		{in: "Sales.Default.Orders", want: Table{"Sales", "Default", "Orders"}},
		{in: "a b.c.d", want: Table{"a b", "c", "d"}},
		{in: "sales.orders", wantErr: "too few parts (2)"},
		{in: "orders", wantErr: "too few parts (1)"},
		{in: "a.b.c.d", wantErr: "too many parts (4)"},
		{in: "a..c", wantErr: "empty schema"},
		{in: ".b.c", wantErr: "empty share"},
		{in: "a.b.", wantErr: "empty table"},
		{in: "p.json#a.b.c", wantErr: "PROFILE#share.schema.table"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseTable(tc.in)
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.in, got.String())
		})
	}
	_, err := ParseTable("a.b")
	assert.Contains(t, err.Error(), "e.g. sales.default.orders")
}

func TestParseTableURL(t *testing.T) {
	tests := []struct {
		in, profile string
		want        Table
		wantErr     string
	}{
		{in: "/tmp/config.share#sales.default.orders", profile: "/tmp/config.share", want: Table{"sales", "default", "orders"}},
		{in: "s3://b/p#x.share#a.b.c", profile: "s3://b/p#x.share", want: Table{"a", "b", "c"}},
		{in: "a.b.c", want: Table{"a", "b", "c"}},
		{in: "#a.b.c", wantErr: "empty profile path"},
		{in: "p#a.b", wantErr: "too few parts"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			p, got, err := ParseTableURL(tc.in)
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.profile, p)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestTableEqualAndPath(t *testing.T) {
	a := Table{"Sales", "Default", "Orders"}
	assert.True(t, a.Equal(Table{"sales", "DEFAULT", "orders"}))
	assert.False(t, a.Equal(Table{"sales", "default", "orders2"}))
	assert.Equal(t, "/shares/my%20share/schemas/s%2Fx/tables/t%3Fq", Table{"my share", "s/x", "t?q"}.Path())
	assert.Error(t, Table{Share: "a"}.Validate())
}

package delta

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestEscapePartition(t *testing.T) {
	tests := []struct{ in, want string }{
		{"EMEA", "EMEA"},
		{"a/b", "a%2Fb"},
		{"k=v", "k%3Dv"},
		{"100%", "100%25"},
		{"2024-01-31 12:00:00", "2024-01-31 12%3A00%3A00"},
		{"tab\tnl\n", "tab%09nl%0A"},
		{"nul\x00del\x7f", "nul%00del%7F"},
		{`"#'*?\{[]^`, "%22%23%27%2A%3F%5C%7B%5B%5D%5E"},
		{"space and-dash_under.dot~}|<>", "space and-dash_under.dot~}|<>"},
		{"zürich 東京", "zürich 東京"},
		{"..", ".."},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, EscapePartition(tc.in), tc.in)
	}
}

func TestPartitionDir(t *testing.T) {
	v := "a/b"
	empty := ""
	assert.Equal(t, "c%3Dd=a%2Fb", PartitionDir("c=d", &v))
	assert.Equal(t, "c="+HiveDefaultPartition, PartitionDir("c", nil))
	assert.Equal(t, "c="+HiveDefaultPartition, PartitionDir("c", &empty))
}

package sharing

import (
	"bytes"
	"errors"
	"io"
	"os"
	"testing"

	"github.com/deltashare/deltashare/internal/sharedtest"
	"github.com/deltashare/deltashare/sharing/delta"
	"github.com/deltashare/deltashare/sharing/protocol"
	"github.com/stretchr/testify/require"
)

func i64(v int64) *int64 { return &v }

// readFixture reads a protocol fixture of ../shared/testdata/protocol.
func readFixture(t testing.TB, elem ...string) []byte {
	t.Helper()
	data, err := os.ReadFile(sharedtest.Path(t, append([]string{"protocol"}, elem...)...))
	require.NoError(t, err)
	return data
}

// decodeItems decodes every item of an NDJSON body.
func decodeItems(t testing.TB, data []byte) []protocol.Item {
	t.Helper()
	var out []protocol.Item
	for dec := protocol.NewDecoder(bytes.NewReader(data)); ; {
		it, err := dec.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		require.NoError(t, err)
		out = append(out, it)
	}
}

func metaFor(id string) delta.Metadata {
	return delta.Metadata{ID: id, Format: delta.Format{Provider: "parquet"}, SchemaString: "{}"}
}

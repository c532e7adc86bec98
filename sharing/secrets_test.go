package sharing

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/deltashare/deltashare/sharing/protocol"

	"github.com/deltashare/deltashare/internal/sharedtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// secretRE matches the fixtures' secret markers ("...-secret", "must-not-leak") and the
// secrets of this package's tests.
var secretRE = regexp.MustCompile(`(?i)must-not-leak|[a-z]-secret|secret-|` + regexp.QuoteMeta(testToken))

func assertNoSecretText(t *testing.T, what, s string) {
	t.Helper()
	if m := secretRE.FindString(s); m != "" {
		t.Errorf("%s shows a secret (%q): %s", what, m, s)
	}
}

// TestFixtureSecretsNeverPrinted formats every decoded fixture item, and the results of
// querying them, with every verb, and checks no secret shows.
func TestFixtureSecretsNeverPrinted(t *testing.T) {
	dir := sharedtest.Path(t, "protocol", "ndjson")
	files, err := filepath.Glob(filepath.Join(dir, "*.ndjson"))
	require.NoError(t, err)
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		name := filepath.Base(f)
		for _, it := range decodeItems(t, data) {
			outs := []string{it.String(), fmt.Sprintf("%v|%+v|%#v|%s", it, it, it, it)}
			if it.File != nil {
				outs = append(outs, fmt.Sprintf("%v|%+v|%#v", *it.File, *it.File, *it.File))
			}
			if it.Metadata != nil {
				outs = append(outs, fmt.Sprintf("%v|%+v|%#v", *it.Metadata, *it.Metadata, *it.Metadata))
			}
			if it.EndStream != nil {
				outs = append(outs, fmt.Sprintf("%v|%+v|%#v", *it.EndStream, *it.EndStream, *it.EndStream))
			}
			for _, o := range outs {
				assertNoSecretText(t, name, o)
			}
		}

		ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
			writeNDJSON(w, "42", "", data)
		})
		c, _ := newTestClient(t, ts)
		tbl := testTable
		if res, err := c.Query(context.Background(), tbl, protocol.QueryRequest{RefreshToken: "refresh-secret-x", PageToken: "page-secret-y"}); err == nil {
			assertNoSecretText(t, name, fmt.Sprintf("%v|%+v|%#v|%v|%v", *res, *res, *res, res.Files, res.TableMetadata()))
		} else {
			assertNoSecretText(t, name, err.Error())
		}
		if tm, err := c.Metadata(context.Background(), tbl, protocol.MetadataOptions{}); err == nil {
			assertNoSecretText(t, name, fmt.Sprintf("%v|%+v|%#v", *tm, *tm, *tm))
		} else {
			assertNoSecretText(t, name, err.Error())
		}
	}
	req := protocol.QueryRequest{RefreshToken: "refresh-secret-x", PageToken: "page-secret-y"}
	assertNoSecretText(t, "QueryRequest", fmt.Sprintf("%v|%+v|%#v", req, req, req))
	creq := protocol.ChangesRequest{StartingVersion: i64(1), PageToken: "page-secret-y"}
	assertNoSecretText(t, "ChangesRequest", fmt.Sprintf("%v|%+v|%#v", creq, creq, creq))
}

// TestDiscoverySecretsNeverPrinted lists the discovery fixtures (which carry secrets in fields
// the protocol does not define) and formats the results.
func TestDiscoverySecretsNeverPrinted(t *testing.T) {
	ts := discoveryServer(t, func(string) protocol.ErrorBody {
		return protocol.ErrorBody{ErrorCode: "NOT_FOUND", Message: "see https://x/y?token=must-not-leak"}
	})
	c, _ := newTestClient(t, ts)
	ctx := context.Background()
	for _, share := range []string{"sales", "operations"} {
		schemas, err := c.ListSchemas(ctx, share)
		require.NoError(t, err)
		assertNoSecretText(t, "schemas", fmt.Sprintf("%v|%+v|%#v", schemas, schemas, schemas))
	}
	tables, err := c.ListAllTables(ctx, "sales")
	require.NoError(t, err)
	assertNoSecretText(t, "tables", fmt.Sprintf("%v|%+v|%#v", tables, tables, tables))
	_, err = c.ListTables(ctx, "x", "y")
	require.Error(t, err)
	assertNoSecretText(t, "error", err.Error())
	assert.Contains(t, err.Error(), "https://x/y?REDACTED")
}

package sharingtest_test

import (
	"context"
	"encoding/json"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deltashare/deltashare/internal/faultproxy"
	"github.com/deltashare/deltashare/internal/sharingtest"
	"github.com/deltashare/deltashare/sharing/protocol"
	"github.com/deltashare/deltashare/sharing/server/demo"
)

func get(t *testing.T, u string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(u)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, b
}

// TestStart: the demo tables by full name and a table by bare name are shared, a client and a
// profile file reach them, and the recorder sees the query and the file download.
func TestStart(t *testing.T) {
	tables := sharingtest.Demo(t)
	tables["orders_again"] = tables["demo.sales.orders"]
	env := sharingtest.Start(t, sharingtest.Options{Tables: tables})
	assert.Nil(t, env.Proxy)
	assert.Equal(t, env.Direct, env.URL)
	assert.Equal(t, sharingtest.Token, env.Token)
	assert.Equal(t, protocol.Table{Share: "demo", Schema: "sales", Name: "orders"}, env.Table("demo.sales.orders"))
	assert.Equal(t, protocol.Table{Share: sharingtest.DefaultShare, Schema: sharingtest.DefaultSchema, Name: "orders_again"}, env.Table("orders_again"))

	c := env.Client(t, sharingtest.NoRetryWait())
	ctx := context.Background()
	all, err := c.ListAllTables(ctx, "demo")
	require.NoError(t, err)
	var names []string
	for _, ti := range all {
		names = append(names, ti.Name)
	}
	assert.ElementsMatch(t, []string{"orders", "customers"}, names)

	limit := int64(1)
	res, err := c.Query(ctx, env.Table("orders_again"), protocol.QueryRequest{LimitHint: &limit})
	require.NoError(t, err)
	require.NotEmpty(t, res.Files)
	assert.True(t, strings.HasPrefix(res.Files[0].URL, env.URL+"/files/"), res.Files[0].URL)
	status, body := get(t, res.Files[0].URL)
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, "PAR1", string(body[:4]))

	qs := env.Queries()
	require.Len(t, qs, 1)
	require.NotNil(t, qs[0].LimitHint)
	assert.Equal(t, int64(1), *qs[0].LimitHint)
	gets := env.FileGets()
	assert.Len(t, gets, 1)
	for p, n := range gets {
		assert.True(t, strings.HasPrefix(res.Files[0].URL, env.URL+p+"?"), p)
		assert.Equal(t, 1, n)
	}
	reqs := env.Requests()
	assert.Equal(t, "Bearer "+sharingtest.Token, reqs[0].Header.Get("Authorization"))

	data, err := os.ReadFile(env.ProfileFile(t))
	require.NoError(t, err)
	var prof struct {
		Endpoint    string `json:"endpoint"`
		BearerToken string `json:"bearerToken"`
	}
	require.NoError(t, json.Unmarshal(data, &prof))
	assert.Equal(t, env.Endpoint, prof.Endpoint)
	assert.Equal(t, sharingtest.Token, prof.BearerToken)

	env.Close()
	env.Close() // idempotent; the cleanup calls it again
	_, err = c.ListShares(ctx)
	assert.Error(t, err, "stopped")
}

// TestFaultsClockAndHistory: with Faults the profile and the file URLs point at the proxy,
// whose rules apply; the shared clock expires URLs; NoHistory refuses time travel.
func TestFaultsClockAndHistory(t *testing.T) {
	tables := sharingtest.Demo(t)
	clock := sharingtest.NewClock(time.Time{})
	env := sharingtest.Start(t, sharingtest.Options{Tables: tables, Faults: true, Clock: clock, URLTTL: time.Minute,
		NoHistory: true, Token: "another-token-0123456789abcdef"})
	require.NotNil(t, env.Proxy)
	assert.NotEqual(t, env.Direct, env.URL)
	assert.True(t, strings.HasPrefix(env.Endpoint, env.Proxy.URL), env.Endpoint)

	c := env.Client(t, sharingtest.NoRetryWait(), sharingtest.Formats(protocol.FormatParquet))
	ctx := context.Background()
	res, err := c.Query(ctx, env.Table("demo.sales.orders"), protocol.QueryRequest{})
	require.NoError(t, err)
	assert.Equal(t, protocol.FormatParquet, res.Format)
	u := res.Files[0].URL
	assert.True(t, strings.HasPrefix(u, env.Proxy.URL+"/files/"), u)
	require.NotNil(t, res.Files[0].ExpirationTimestamp)
	assert.Equal(t, clock.Now().Add(time.Minute).UnixMilli(), *res.Files[0].ExpirationTimestamp)

	rule := env.Proxy.Add(faultproxy.NewRule("503", "GET", "^/files/"))
	rule.Status, rule.Times = 503, 1
	status, _ := get(t, u)
	assert.Equal(t, http.StatusServiceUnavailable, status)
	assert.Empty(t, env.FileGets(), "answered by the proxy")
	status, _ = get(t, u)
	assert.Equal(t, http.StatusOK, status)
	assert.Len(t, env.FileGets(), 1)

	clock.Add(2 * time.Minute)
	status, body := get(t, u)
	assert.Equal(t, http.StatusForbidden, status)
	assert.Contains(t, string(body), "expired")

	_, err = c.Query(ctx, env.Table("demo.sales.orders"), protocol.QueryRequest{Version: new(int64)})
	assert.Error(t, err, "history is not shared")

	sv := int64(0)
	_, err = c.Changes(ctx, env.Table("demo.sales.customers"), protocol.ChangesRequest{StartingVersion: &sv})
	assert.Error(t, err, "history is not shared")
}

// TestDemo: the committed and the generated demo tables are the ones demo.Tables describes.
func TestDemo(t *testing.T) {
	committed, generated := sharingtest.Demo(t), sharingtest.GenerateDemo(t)
	require.Len(t, committed, len(demo.Tables))
	require.Len(t, generated, len(demo.Tables))
	for _, tables := range []map[string]string{committed, generated} {
		env := sharingtest.Start(t, sharingtest.Options{Tables: tables})
		c := env.Client(t)
		for _, s := range demo.Tables {
			v, err := c.TableVersion(context.Background(), env.Table(s.Share+"."+s.Schema+"."+s.Name), "")
			require.NoError(t, err)
			assert.Equal(t, s.LatestVersion, v, s.Name)
		}
	}
}

func TestTableName(t *testing.T) {
	assert.Equal(t, "delta-0_8_0-null_partition_x", sharingtest.TableName("delta-0.8.0-null partition/x"))
}

// TestOnlyTestsImportThis: no non-test file of the module imports this package (it imports
// the server and the client: a non-test import could make a cycle, and would ship test code).
func TestOnlyTestsImportThis(t *testing.T) {
	_, file, _, ok := runtime.Caller(0)
	require.True(t, ok)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			if strings.HasSuffix(imp.Path.Value, `/internal/sharingtest"`) && filepath.Dir(p) != filepath.Dir(file) {
				t.Errorf("%s imports internal/sharingtest: only tests may", p)
			}
		}
		return nil
	})
	require.NoError(t, err)
}

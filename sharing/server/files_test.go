package server

import (
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func tableOf(t *testing.T, f *fixture, share, schema, name string) *Table {
	tab, ok := f.srv.LookupTable(share, schema, name)
	require.True(t, ok)
	return tab
}

func TestSignedURLServesFile(t *testing.T) {
	f := startFixture(t, nil)
	tab := tableOf(t, f, "s1", "a", "t1")
	want := f.data[tab.Location]
	u, exp := f.srv.SignURL(tab.ID, "part-00000.parquet", f.clock.Now())
	assert.Equal(t, f.clock.Now().Add(time.Hour), exp)
	assert.True(t, strings.HasPrefix(u, f.base+"/files/"+tab.ID+"/part-00000.parquet?"), u)

	r := do(t, "GET", u, "", nil)
	require.Equal(t, 200, r.status, "%s", r.body)
	assert.Equal(t, want, r.body)
	assert.Equal(t, "application/octet-stream", r.header.Get("Content-Type"))
	assert.Equal(t, "bytes", r.header.Get("Accept-Ranges"))
	assert.NotEmpty(t, r.header.Get("ETag"))

	r = do(t, "GET", u, "", nil, "Range", "bytes=5-14")
	require.Equal(t, 206, r.status)
	assert.Equal(t, want[5:15], r.body)
	assert.Equal(t, "bytes 5-14/64", r.header.Get("Content-Range"))

	r = do(t, "GET", u, "", nil, "Range", "bytes=-4")
	require.Equal(t, 206, r.status)
	assert.Equal(t, want[60:], r.body)

	r = do(t, "HEAD", u, "", nil)
	assert.Equal(t, 200, r.status)
	assert.Equal(t, "64", r.header.Get("Content-Length"))

	assert.Equal(t, 405, do(t, "POST", u, "", nil).status)

	// The request log has the path, never the signature or the expiry.
	logs := f.logs.String()
	assert.Contains(t, logs, "/files/"+tab.ID+"/part-00000.parquet")
	assert.NotContains(t, logs, "sig=")
	assert.NotContains(t, logs, mustQuery(t, u).Get("sig"))
}

func mustQuery(t *testing.T, u string) url.Values {
	p, err := url.Parse(u)
	require.NoError(t, err)
	return p.Query()
}

func TestSignedURLNestedAndEscapedPaths(t *testing.T) {
	f := startFixture(t, nil)
	tab := tableOf(t, f, "s1", "a", "t1")
	dir := filepath.Join(tab.Location, "date=2024-01-01", "sp ace%")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "f ü.parquet"), []byte("nested"), 0o644))
	u, _ := f.srv.SignURL(tab.ID, "date=2024-01-01/sp ace%/f ü.parquet", f.clock.Now())
	r := do(t, "GET", u, "", nil)
	require.Equal(t, 200, r.status, "%s (%s)", r.body, u)
	assert.Equal(t, "nested", string(r.body))

	// A symlink staying inside the root is fine.
	require.NoError(t, os.Symlink("part-00000.parquet", filepath.Join(tab.Location, "alias.parquet")))
	u, _ = f.srv.SignURL(tab.ID, "alias.parquet", f.clock.Now())
	r = do(t, "GET", u, "", nil)
	require.Equal(t, 200, r.status)
	assert.Equal(t, f.data[tab.Location], r.body)

	// A missing file is 404, a directory too.
	for _, rel := range []string{"gone.parquet", "_delta_log"} {
		u, _ = f.srv.SignURL(tab.ID, rel, f.clock.Now())
		assert.Equal(t, 404, do(t, "GET", u, "", nil).status, rel)
	}
}

func TestSignedURLRejected(t *testing.T) {
	f := startFixture(t, nil)
	t1 := tableOf(t, f, "s1", "a", "t1")
	t2 := tableOf(t, f, "s1", "a", "t2")
	u, exp := f.srv.SignURL(t1.ID, "part-00000.parquet", f.clock.Now())
	q := mustQuery(t, u)
	sig := q.Get("sig")
	flip := func(s string) string {
		b := []byte(s)
		if b[0] == '0' {
			b[0] = '1'
		} else {
			b[0] = '0'
		}
		return string(b)
	}
	expStr := strconv.FormatInt(exp.Unix(), 10)
	later := strconv.FormatInt(exp.Unix()+3600, 10)
	cases := map[string]string{
		"tampered sig":      f.base + "/files/" + t1.ID + "/part-00000.parquet?expires=" + expStr + "&sig=" + flip(sig),
		"short sig":         f.base + "/files/" + t1.ID + "/part-00000.parquet?expires=" + expStr + "&sig=" + sig[:10],
		"no sig":            f.base + "/files/" + t1.ID + "/part-00000.parquet?expires=" + expStr,
		"tampered expiry":   f.base + "/files/" + t1.ID + "/part-00000.parquet?expires=" + later + "&sig=" + sig,
		"no expiry":         f.base + "/files/" + t1.ID + "/part-00000.parquet?sig=" + sig,
		"tampered path":     f.base + "/files/" + t1.ID + "/part-00001.parquet?expires=" + expStr + "&sig=" + sig,
		"other table":       f.base + "/files/" + t2.ID + "/part-00000.parquet?expires=" + expStr + "&sig=" + sig,
		"no path":           f.base + "/files/" + t1.ID + "?expires=" + expStr + "&sig=" + sig,
		"trailing slash":    f.base + "/files/" + t1.ID + "/part-00000.parquet/?expires=" + expStr + "&sig=" + sig,
		"double slash":      f.base + "/files/" + t1.ID + "//part-00000.parquet?expires=" + expStr + "&sig=" + sig,
		"encoded separator": f.base + "/files/" + t1.ID + "%2Fpart-00000.parquet?expires=" + expStr + "&sig=" + sig,
	}
	for name, u := range cases {
		r := do(t, "GET", u, "", nil)
		assert.Equal(t, 403, r.status, name)
		assert.Equal(t, CodePermissionDenied, r.json(t)["errorCode"], name)
		assert.NotContains(t, string(r.body), sig, name)
	}

	// Expired: 403 saying so.
	f.clock.Add(time.Hour)
	r := do(t, "GET", u, "", nil)
	assert.Equal(t, 403, r.status)
	assert.Contains(t, r.json(t)["message"], "expired")

	// A URL signed by another server (another key) is refused.
	g := startFixture(t, nil)
	gu, _ := g.srv.SignURL(t1.ID, "part-00000.parquet", f.clock.Now())
	r = do(t, "GET", f.base+strings.TrimPrefix(gu, g.base), "", nil)
	assert.Equal(t, 403, r.status)
}

// TestSignedURLNeverLeavesRoot signs (so the signature is valid) and requests paths that try
// to reach a secret file next to the table root: none may serve it.
func TestSignedURLNeverLeavesRoot(t *testing.T) {
	f := startFixture(t, nil)
	tab := tableOf(t, f, "s1", "a", "t1")
	secret := []byte("TOP-SECRET-CONTENT")
	secretPath := filepath.Join(f.root, "secret.txt")
	require.NoError(t, os.WriteFile(secretPath, secret, 0o644))
	require.NoError(t, os.Symlink(secretPath, filepath.Join(tab.Location, "link-abs.parquet")))
	require.NoError(t, os.Symlink("../secret.txt", filepath.Join(tab.Location, "link-rel.parquet")))
	require.NoError(t, os.Symlink(f.root, filepath.Join(tab.Location, "linkdir")))

	exp := f.clock.Now().Add(time.Hour)
	expStr := strconv.FormatInt(exp.Unix(), 10)
	signed := func(rel, rawPath string) string {
		return f.base + "/files/" + tab.ID + "/" + rawPath + "?expires=" + expStr + "&sig=" + f.srv.signer.Sign(tab.ID, rel, exp)
	}
	urls := []string{
		signed("../secret.txt", "../secret.txt"),
		signed("../secret.txt", "%2e%2e/secret.txt"),
		signed("../secret.txt", "%2E%2E%2Fsecret.txt"),
		signed("../secret.txt", "..%2Fsecret.txt"),
		signed("x/../../secret.txt", "x/../../secret.txt"),
		signed(secretPath, strings.TrimPrefix(secretPath, "/")),
		signed(secretPath, "%2F"+url.PathEscape(strings.TrimPrefix(secretPath, "/"))),
		signed("/"+strings.TrimPrefix(secretPath, "/"), "/"+strings.TrimPrefix(secretPath, "/")),
		signed("link-abs.parquet", "link-abs.parquet"),
		signed("link-rel.parquet", "link-rel.parquet"),
		signed("linkdir/secret.txt", "linkdir/secret.txt"),
		signed("..\\secret.txt", "..%5Csecret.txt"),
		signed("part-00000.parquet\x00../../secret.txt", "part-00000.parquet%00..%2F..%2Fsecret.txt"),
		f.base + "/files/" + tab.ID + "/../../secret.txt?expires=" + expStr + "&sig=" + f.srv.signer.Sign(tab.ID, "../../secret.txt", exp),
		// The table id segment itself.
		f.base + "/files/..%2F" + tab.ID + "/secret.txt?expires=" + expStr + "&sig=" + f.srv.signer.Sign("../"+tab.ID, "secret.txt", exp),
	}
	for _, u := range urls {
		r := do(t, "GET", u, "", nil)
		assert.NotEqual(t, 200, r.status, u)
		assert.NotContains(t, string(r.body), string(secret), u)
	}
	// SignURL on a traversal path gives a URL that is refused too.
	u, _ := f.srv.SignURL(tab.ID, "../secret.txt", f.clock.Now())
	r := do(t, "GET", u, "", nil)
	assert.Equal(t, 403, r.status)
	assert.NotContains(t, string(r.body), string(secret))
}

func TestSignerVerify(t *testing.T) {
	_, err := NewSigner(make([]byte, 31))
	require.Error(t, err)
	s, err := NewSigner([]byte(strings.Repeat("k", 32)))
	require.NoError(t, err)
	exp := time.Unix(1700000000, 0)
	sig := s.Sign("t", "a/b", exp)
	assert.True(t, s.Verify("t", "a/b", exp, sig))
	assert.False(t, s.Verify("t", "a/b", exp.Add(time.Second), sig))
	assert.False(t, s.Verify("ta", "/b", exp, sig), "fields are length-prefixed")
	assert.False(t, s.Verify("t", "a/b", exp, "zz"))
	assert.NotContains(t, s.String(), "kkkk")
}

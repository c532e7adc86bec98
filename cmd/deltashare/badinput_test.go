package main

// Bad input everywhere: profiles, table references, flags and activation links that are wrong
// in every way end with exit 2 (usage; 4 for an expired credential) and a message that says
// what is wrong, before any request is sent. See docs/reliability.md.

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deltashare/deltashare/internal/exporttest"
	"github.com/deltashare/deltashare/tokenmgr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBadProfiles(t *testing.T) {
	d := testDeps(t, storeDir(t))
	shares := func(ref string) result { return call(t, d, "", runShares, sharesOptions{Profile: ref, Output: "text"}) }
	dir := t.TempDir()
	huge := `{"shareCredentialsVersion":1,"endpoint":"http://127.0.0.1:9/","bearerToken":"t","pad":"` + strings.Repeat("x", 11<<20) + `"}`
	for _, tc := range []struct {
		name    string
		content string
		code    int
		msg     string
	}{
		{"not JSON", "hello world", exitUsage, "json"},
		{"empty", "", exitUsage, "empty"},
		{"JSON array", "[1,2]", exitUsage, "profile"},
		{"cut JSON", `{"shareCredentialsVersion":1,"endpoint":"http://127.0.0.1:9/"`, exitUsage, "json"},
		{"missing endpoint", `{"shareCredentialsVersion":1,"bearerToken":"t"}`, exitUsage, "endpoint"},
		{"missing token", `{"shareCredentialsVersion":1,"endpoint":"http://127.0.0.1:9/"}`, exitUsage, "bearertoken"},
		{"version as a boolean", `{"shareCredentialsVersion":true,"endpoint":"http://127.0.0.1:9/","bearerToken":"t"}`, exitUsage, "shareCredentialsVersion"},
		{"endpoint as a number", `{"shareCredentialsVersion":1,"endpoint":5,"bearerToken":"t"}`, exitUsage, "endpoint"},
		{"unknown version", `{"shareCredentialsVersion":99,"endpoint":"http://127.0.0.1:9/","bearerToken":"t"}`, exitUsage, "99"},
		{"unsupported type", `{"shareCredentialsVersion":2,"type":"oauth_device_code","endpoint":"http://127.0.0.1:9/","bearerToken":"t"}`, exitUsage, "oauth_device_code"},
		{"endpoint not http", `{"shareCredentialsVersion":1,"endpoint":"ftp://h/","bearerToken":"t"}`, exitUsage, "endpoint"},
		{"bad expirationTime", `{"shareCredentialsVersion":1,"endpoint":"http://127.0.0.1:9/","bearerToken":"t","expirationTime":"soon"}`, exitUsage, "expirationTime"},
		{"expired", `{"shareCredentialsVersion":1,"endpoint":"http://127.0.0.1:9/","bearerToken":"t","expirationTime":"2001-01-01T00:00:00Z"}`, exitAuth, "expired"},
		{"huge", huge, exitUsage, "large"},
		{"binary", "\x00\x01\xff\xfe", exitUsage, "json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".share")
			require.NoError(t, os.WriteFile(p, []byte(tc.content), 0o600))
			r := shares(p)
			assert.Equal(t, tc.code, r.Code, r.Err)
			assert.Contains(t, strings.ToLower(r.Err), strings.ToLower(tc.msg))
			assert.Less(t, len(r.Err), 2000, "the message is short: %s", r.Err[:min(len(r.Err), 300)])
			assert.NotContains(t, r.Err, `"t"`)
		})
	}
	r := shares(filepath.Join(dir, "nope.share"))
	assert.Equal(t, exitUsage, r.Code, r.Err)
	assert.Contains(t, r.Err, "does not exist")
	assert.Contains(t, r.Err, "deltashare creds list", "says what to do next")
}

func TestBadTableReferences(t *testing.T) {
	profile := demoCommandLine(t)
	for _, ref := range []string{"", "a", "a.b", "a.b.c.d", "a..c", ".b.c", "a.b.", "a.b.c\x00", "a\nb.c.d", "a.b.\xff", "../../etc.passwd.x/y"} {
		t.Run(ref, func(t *testing.T) {
			for _, cmd := range []string{"version", "metadata", "files", "export"} {
				args := []string{cmd, "-p", profile, ref}
				if cmd == "export" {
					args = append(args, "-o", filepath.Join(t.TempDir(), "x.csv"))
				}
				r := run(t, "", args...)
				assert.Equal(t, exitUsage, r.Code, "%s %q: %s", cmd, ref, r.Err)
				assert.Contains(t, r.Err, "share.schema.table", "%s %q", cmd, ref)
			}
		})
	}
	// Odd but valid characters reach the server and get a clean 404 (exit 1), never a crash.
	for _, ref := range []string{"a b.c.d", "démo.sales.orders", "demo.sales.orders%2f..", "demo.sales.<script>", "demo.sales." + strings.Repeat("x", 2000)} {
		r := run(t, "", "version", "-p", profile, ref)
		assert.Contains(t, []int{exitError, exitUsage}, r.Code, "%q: %s", ref, r.Err)
		assert.NotContains(t, r.Err, "panic")
	}
}

func TestFlagsOutOfRange(t *testing.T) {
	profile := demoCommandLine(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "x.csv")
	base := []string{"export", "-p", profile, "demo.sales.orders", "-o", out}
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"--parallel", "-1"}, "--parallel"},
		{[]string{"--parallel", "100000"}, "--parallel"},
		{[]string{"--parallel", "many"}, "parallel"},
		{[]string{"--limit", "-2"}, "--limit"},
		{[]string{"--limit", "1e99"}, "limit"},
		{[]string{"--max-rows-per-file", "-1"}, "--max-rows-per-file"},
		{[]string{"--delimiter", "ab"}, "--delimiter"},
		{[]string{"--format", "xls"}, "xls"},
		{[]string{"--compression", "lz4"}, "lz4"},
		{[]string{"--nan", "maybe"}, "maybe"},
		{[]string{"--output", "xml"}, "xml"},
		{[]string{"--version", "3", "--timestamp", "2024-01-01T00:00:00Z"}, "not both"},
		{[]string{"--where", "amount >"}, "--where"},
		{[]string{"--where", strings.Repeat("(", 100000)}, "--where"},
		{[]string{"--columns", "nope"}, "nope"},
		{[]string{"--bogus-flag"}, "bogus"},
	} {
		r := run(t, "", append(append([]string{}, base...), tc.args...)...)
		assert.Equal(t, exitUsage, r.Code, "%v: %s", tc.args, r.Err)
		assert.Contains(t, r.Err, tc.msg, "%v", tc.args)
		assert.Empty(t, exporttest.DirEntries(t, dir), "%v wrote something", tc.args)
	}
	r := run(t, "", "changes", "-p", profile, "demo.sales.customers", "--starting-version", "-7", "-o", out)
	assert.Equal(t, exitUsage, r.Code, r.Err)
	r = run(t, "", "check", "-p", profile, "--warn-expiry", "forever")
	assert.Equal(t, exitUsage, r.Code, r.Err)
	assert.Contains(t, r.Err, "forever")
}

// TestFlagsOutOfRangeNegativeVersions: a negative table version (or row count hint) given on
// the command line exits 2 with a message naming the flag; it used to be read as "latest" (or
// "none"), since -1 is the flags' unset default. Nothing is asked of the server.
func TestFlagsOutOfRangeNegativeVersions(t *testing.T) {
	t.Setenv("DELTASHARE_CONFIG_DIR", t.TempDir())
	env := demoEnv(t)
	profile := env.ProfileFile(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "x.csv")
	for _, tc := range []struct {
		args []string
		flag string
	}{
		{[]string{"export", "demo.sales.orders", "-o", out, "--version", "-1"}, "--version -1"},
		{[]string{"export", "demo.sales.orders", "-o", out, "--version", "-5"}, "--version -5"},
		{[]string{"changes", "demo.sales.customers", "-o", out, "--starting-version", "0", "--ending-version", "-1"}, "--ending-version -1"},
		{[]string{"changes", "demo.sales.customers", "-o", out, "--starting-version", "-1"}, "--starting-version -1"},
		{[]string{"changes", "demo.sales.customers", "-o", out, "--starting-timestamp", "2025-01-06T09:00:00Z", "--ending-version", "-3"}, "--ending-version -3"},
		{[]string{"head", "demo.sales.orders", "--version", "-1"}, "--version -1"},
		{[]string{"count", "demo.sales.orders", "--version", "-1"}, "--version -1"},
		{[]string{"files", "demo.sales.orders", "--version", "-1"}, "--version -1"},
		{[]string{"files", "demo.sales.orders", "--limit-hint", "-1"}, "--limit-hint -1"},
		{[]string{"metadata", "demo.sales.orders", "--version", "-1"}, "--version -1"},
		{[]string{"schema", "demo.sales.orders", "--version", "-1"}, "--version -1"},
	} {
		before := len(env.Requests())
		args := append([]string{tc.args[0], "-p", profile}, tc.args[1:]...)
		r := run(t, "", args...)
		assert.Equal(t, exitUsage, r.Code, "%v: %s", tc.args, r.Err)
		assert.Contains(t, r.Err, tc.flag, "%v", tc.args)
		assert.Empty(t, r.Out, "%v", tc.args)
		assert.Len(t, env.Requests(), before, "%v: nothing asked of the server", tc.args)
		assert.Empty(t, exporttest.DirEntries(t, dir), "%v wrote something", tc.args)
	}
	// Version 0 is a version, not "unset".
	r := run(t, "", "count", "-p", profile, "demo.sales.orders", "--version", "0")
	assert.Equal(t, exitOK, r.Code, r.Err)
}

func TestMalformedActivationLinks(t *testing.T) {
	d := testDeps(t, storeDir(t))
	activate := func(name, link string) result {
		return call(t, d, "", runActivate, activateOptions{Name: name, Link: tokenmgr.Sensitive(link), Check: defaultCheck()})
	}
	for _, link := range []string{
		"not a link",
		"https://",
		"https://host/delta_sharing/retrieve_config.html?",
		"https://host/delta_sharing/retrieve_config.html",
		"ftp://host/delta_sharing/retrieve_config.html?abc",
		"https://host/other/page?abc",
		"https://host/delta_sharing/retrieve_config.html?a b c",
		"https://host/delta_sharing/retrieve_config.html?" + strings.Repeat("A", 100000),
		"https://host/delta_sharing/retrieve_config.html?%zz",
		"\x00\x01",
	} {
		r := activate("x", link)
		assert.Equal(t, exitUsage, r.Code, "%.60q: %s", link, r.Err)
		assert.Contains(t, strings.ToLower(r.Err), "link", "%.60q", link)
		assert.Less(t, len(r.Err), 1000, "%.60q: the message does not echo the input", link)
	}
	r := activate("bad/name", "https://host/delta_sharing/retrieve_config.html?abc")
	assert.Equal(t, exitUsage, r.Code, r.Err)
}

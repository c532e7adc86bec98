package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deltashare/deltashare/internal/hint"
)

// TestErrorJSON: with --output json, a failing command prints its error on stderr as one JSON
// object (error, code, exitCode, hint) and nothing else; without it, the usual line.
func TestErrorJSON(t *testing.T) {
	profile := demoCommandLine(t)
	for _, tc := range []struct {
		name     string
		args     []string
		code     string
		exitCode int
		hint     bool
	}{
		{"usage: bad --output", []string{"shares", "-p", profile, "--output", "json", "--nosuch"}, "USAGE", exitUsage, false},
		{"server: no such table", []string{"metadata", "-p", profile, "demo.sales.nosuch", "--output", "json"}, "", exitError, false},
		{"existing output without --overwrite", []string{"export", "-p", profile, "demo.sales.orders", "-o", "EXISTING", "--output=json"}, "USAGE", exitUsage, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := tc.args
			for i, a := range args {
				if a == "EXISTING" {
					f := filepath.Join(t.TempDir(), "x.csv")
					require.NoError(t, os.WriteFile(f, []byte("x"), 0o600))
					args = append(append([]string{}, args[:i]...), append([]string{f}, args[i+1:]...)...)
				}
			}
			r := run(t, "", args...)
			require.Equal(t, tc.exitCode, r.Code, r.Err)
			var e map[string]any
			require.NoError(t, json.Unmarshal([]byte(r.Err), &e), "stderr is one JSON object: %s", r.Err)
			assert.ElementsMatch(t, []string{"error", "code", "exitCode", "hint"}, slices.Sorted(maps.Keys(e)))
			assert.EqualValues(t, tc.exitCode, e["exitCode"])
			assert.NotEmpty(t, e["error"])
			if tc.code != "" {
				assert.Equal(t, tc.code, e["code"])
			} else {
				assert.NotEmpty(t, e["code"])
			}
			if tc.hint {
				assert.Contains(t, e["hint"], "--overwrite", "the advice in flag names")
			}
		})
	}
	r := run(t, "", "metadata", "-p", profile, "demo.sales.nosuch")
	assert.Regexp(t, `^deltashare: .+\n$`, r.Err, "text mode: one line")
}

func TestReportError(t *testing.T) {
	var b jsonBuffer
	reportError(&b, withCode(exitInterrupted, fmt.Errorf("export cancelled, no files written: %w", context.Canceled)), exitInterrupted, false)
	assert.Equal(t, "deltashare: interrupted: export cancelled, no files written\n", b.String())
	b.Reset()
	reportError(&b, context.Canceled, exitInterrupted, true)
	assert.JSONEq(t, `{"error":"interrupted","code":"INTERRUPTED","exitCode":130,"hint":""}`, b.String())
	b.Reset()
	reportError(&b, fmt.Errorf("wrapped: %w", hint.New(errors.New("out.csv exists"), "use {Overwrite} to replace it")), exitUsage, true)
	assert.JSONEq(t, `{"error":"wrapped: out.csv exists: use --overwrite to replace it","code":"USAGE","exitCode":2,"hint":"use --overwrite to replace it"}`, b.String())

	for args, want := range map[string]bool{
		"x --output json": true, "x -O json": true, "x --output=JSON": true, "x -O=json": true,
		"x --output text": false, "x": false, "x -- --output json": false,
	} {
		assert.Equal(t, want, jsonRequested(splitArgs(args)), args)
	}
}

type jsonBuffer struct{ b []byte }

func (j *jsonBuffer) Write(p []byte) (int, error) { j.b = append(j.b, p...); return len(p), nil }
func (j *jsonBuffer) String() string              { return string(j.b) }
func (j *jsonBuffer) Reset()                      { j.b = nil }

func splitArgs(s string) []string { return strings.Fields(s) }

// TestExportSummaryJSON: the summary of export --output json names the table as the protocol
// does and gives the run's duration in whole seconds.
func TestExportSummaryJSON(t *testing.T) {
	profile := demoCommandLine(t)
	out := filepath.Join(t.TempDir(), "orders.csv")
	r := run(t, "", "export", "-p", profile, "demo.sales.orders", "-o", out, "--output", "json")
	require.Equal(t, 0, r.Code, r.Err)
	var sum map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.Out), &sum))
	assert.Equal(t, map[string]any{"share": "demo", "schema": "sales", "name": "orders", "fullName": "demo.sales.orders"}, sum["table"])
	assert.EqualValues(t, 2900, sum["rows"])
	assert.EqualValues(t, 1, sum["files"])
	assert.EqualValues(t, 2, sum["tableVersion"])
	assert.Equal(t, []any{out}, sum["outputs"])
	secs, ok := sum["elapsedSeconds"].(float64)
	require.True(t, ok, "elapsedSeconds: %v", sum)
	assert.Equal(t, secs, float64(int64(secs)), "whole seconds")
	assert.NotContains(t, sum, "seconds")
}

// TestServeJSON: serve --output json prints one object (endpoint, profile file, activation
// links) once it listens.
func TestServeJSON(t *testing.T) {
	profile, stop := serveDemo(t, serveOptions{LogLevel: "error", LogFormat: "text", Output: "json",
		Tables:    []string{"demo.sales.orders=" + filepath.Join(repoRoot(t), "testdata/demo/sales/orders")},
		NoHistory: true, Activations: 1})
	res := stop()
	require.Equal(t, 0, res.Code, res.Err)
	var got serveJSON
	require.NoError(t, json.Unmarshal([]byte(res.Out), &got), res.Out)
	assert.Regexp(t, `^http://127\.0\.0\.1:\d+/`, got.Endpoint)
	assert.Equal(t, profile, got.ProfileFile)
	assert.Equal(t, []string{}, got.ActivationLinks)
}

// TestSelfCommand: the demo's hints name a command that works: "deltashare" only when that name
// on PATH is this program, else the executable's path (relative to the working directory when
// under it).
func TestSelfCommand(t *testing.T) {
	exe, err := os.Executable()
	require.NoError(t, err)
	t.Setenv("PATH", t.TempDir())
	t.Chdir(t.TempDir())
	assert.Equal(t, exe, selfCommand(), "not on PATH: the full path")

	bin := t.TempDir()
	require.NoError(t, os.Symlink(exe, filepath.Join(bin, "deltashare")))
	t.Setenv("PATH", bin)
	assert.Equal(t, "deltashare", selfCommand())

	t.Setenv("PATH", t.TempDir())
	t.Chdir(filepath.Dir(exe))
	assert.Equal(t, "./"+filepath.Base(exe), selfCommand(), "under the working directory: relative")

	assert.Equal(t, "bin/deltashare", shellQuote("bin/deltashare"))
	assert.Equal(t, `'/tmp/my dir/x'`, shellQuote("/tmp/my dir/x"))
	assert.Equal(t, `'it'\''s'`, shellQuote("it's"))
}

// TestJSONStyle: the --output json of the discovery and data commands follows one style (see
// docs/json.md): camelCase field names, a table always an object with share, schema, name and
// fullName, durations only as whole ...Seconds, whole numbers as integers.
func TestJSONStyle(t *testing.T) {
	profile := demoCommandLine(t)
	out := filepath.Join(t.TempDir(), "orders.parquet")
	camel := regexp.MustCompile(`^[a-z][a-zA-Z0-9]*$`)
	data := map[string]bool{"partitionValues": true, "configuration": true} // keys are the table's
	for _, args := range [][]string{
		{"shares"}, {"schemas", "demo"}, {"tables"}, {"tables", "demo.sales"},
		{"files", "demo.sales.orders"}, {"metadata", "demo.sales.orders"}, {"version"}, {"version", "demo.sales.orders"},
		{"schema", "demo.sales.orders"}, {"count", "demo.sales.orders"}, {"count", "demo.sales.orders", "--where", "region = 'Europe'"},
		{"export", "demo.sales.orders", "-o", out}, {"changes", "demo.sales.customers", "--starting-version", "0", "-o", "-"},
		{"check", "--warn-expiry", "0"}, {"check", "demo.sales.orders", "--warn-expiry", "0"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			r := run(t, "", append(append(args, "-p", profile), "--output", "json")...)
			require.Equal(t, 0, r.Code, r.Err)
			doc := r.Out
			if slices.Contains(args, "-") {
				doc = r.Err // the data went to stdout, the summary to stderr
			}
			var v any
			require.NoError(t, json.Unmarshal([]byte(doc), &v), doc)
			var walk func(path string, v any)
			walk = func(path string, v any) {
				switch x := v.(type) {
				case map[string]any:
					for k, c := range x {
						assert.Regexp(t, camel, k, "%s.%s", path, k)
						assert.NotEqual(t, "seconds", k, "%s: durations are whole ...Seconds", path)
						if strings.HasSuffix(k, "Seconds") || k == "rows" || k == "files" || k == "bytes" || k == "version" || k == "size" {
							if f, ok := c.(float64); ok {
								assert.Equal(t, math.Trunc(f), f, "%s.%s is whole", path, k)
							}
						}
						if k == "table" {
							tbl, ok := c.(map[string]any)
							if assert.True(t, ok, "%s.table is an object: %v", path, c) {
								assert.ElementsMatch(t, []string{"share", "schema", "name", "fullName"}, keysOf(tbl))
							}
							continue
						}
						if !data[k] {
							walk(path+"."+k, c)
						}
					}
				case []any:
					for i, c := range x {
						walk(fmt.Sprintf("%s[%d]", path, i), c)
					}
				}
			}
			walk("", v)
		})
	}
}

func keysOf(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

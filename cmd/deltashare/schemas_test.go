package main

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deltashare/deltashare/sharing/protocol"
)

func TestParseSchemasOptions(t *testing.T) {
	testParse(t, parseSchemasOptions, []parseCase[schemasOptions]{
		{name: "share", args: []string{"schemas", "-p", "me.share", "demo"}, want: schemasOptions{Profile: "me.share", Output: "text", Share: "demo"}},
		{name: "flags after the share", args: []string{"schemas", "demo", "--output", "json", "-p", "x"}, want: schemasOptions{Profile: "x", Output: "json", Share: "demo"}},
		{name: "no share", args: []string{"schemas", "-p", "x"}, code: exitUsage, msg: "SHARE"},
		{name: "two shares", args: []string{"schemas", "-p", "x", "a", "b"}, code: exitUsage, msg: "one argument"},
		{name: "no credential: the default one", args: []string{"schemas", "demo"}, want: schemasOptions{Output: "text", Share: "demo"}},
		{name: "bad output", args: []string{"schemas", "-p", "x", "-O", "yaml", "demo"}, code: exitUsage, msg: "yaml"},
	})
}

func TestRunSchemas(t *testing.T) {
	profile, d := demoDeps(t)

	r := call(t, d, "", runSchemas, schemasOptions{Profile: profile, Output: "text", Share: "demo"})
	require.Equal(t, 0, r.Code, r.Err)
	assert.Regexp(t, `^SHARE\s+SCHEMA\ndemo\s+sales\n$`, r.Out)

	r = call(t, d, "", runSchemas, schemasOptions{Profile: profile, Output: "json", Share: "demo"})
	require.Equal(t, 0, r.Code, r.Err)
	var schemas []protocol.Schema
	require.NoError(t, json.Unmarshal([]byte(r.Out), &schemas))
	assert.Equal(t, []protocol.Schema{{Name: "sales", Share: "demo"}}, schemas)
}

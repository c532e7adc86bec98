package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestFieldLines: the values of a record start at one column; empty optional values are left out.
func TestFieldLines(t *testing.T) {
	var b strings.Builder
	f := fieldLines{w: &b, width: 10}
	f.linef("name", "%s", "acme")
	f.optional("comment", "")
	f.optional("owner", "bob")
	f.linef("tokens", "%d (%s)", 2, "live")
	assert.Equal(t, "name:     acme\nowner:    bob\ntokens:   2 (live)\n", b.String())
}

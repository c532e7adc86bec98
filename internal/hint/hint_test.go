package hint

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func flags(name string) (string, bool) {
	switch name {
	case "Overwrite":
		return "--overwrite", true
	case "Store.Remove":
		return "deltashare creds remove", true
	}
	return "", false
}

func TestRender(t *testing.T) {
	assert.Equal(t, "use the Overwrite option to replace it", Render("use {Overwrite} to replace it", nil))
	assert.Equal(t, "use --overwrite to replace it", Render("use {Overwrite} to replace it", flags))
	assert.Equal(t, "set the Other option; run deltashare creds remove x", Render("set {Other}; run {Store.Remove} x", flags))
	assert.Equal(t, "no braces", Render("no braces", flags))
	assert.Equal(t, "open { only", Render("open { only", flags))
	assert.Equal(t, "} then {", Render("} then {", flags))
	// A qualified Go name is written as it is for a library user.
	assert.Equal(t, "run Store.Remove or set the Other option", Render("run {Store.Remove} or set {Other}", nil))
	assert.Equal(t, "see tokenmgr.Activate", Render("see {tokenmgr.Activate}", nil))
}

func TestError(t *testing.T) {
	err := New(fs.ErrExist, "use {Overwrite} to replace it")
	assert.Equal(t, "file already exists: use the Overwrite option to replace it", err.Error())
	assert.ErrorIs(t, err, fs.ErrExist)
	var h interface{ Hint() string }
	assert.True(t, errors.As(fmt.Errorf("exporting: %w", err), &h))
	assert.Equal(t, "use {Overwrite} to replace it", h.Hint())
	assert.Nil(t, New(nil, "x"))

	wrapped := fmt.Errorf("exporting t: %w", New(errors.New("a.csv exists"), "use {Overwrite} to replace it"))
	assert.Equal(t, "exporting t: a.csv exists: use --overwrite to replace it", RenderError(wrapped, flags))
	nested := New(fmt.Errorf("outer: %w", New(errors.New("inner"), "try {Overwrite}")), "or {Store.Remove}")
	assert.Equal(t, "outer: inner: try --overwrite: or deltashare creds remove", RenderError(nested, flags))
	assert.Equal(t, "plain", RenderError(errors.New("plain"), flags))
	assert.Equal(t, "", RenderError(nil, flags))

	// Advice anywhere in a tree: both branches of a join, and types with their own Hint or Hints.
	joined := errors.Join(New(errors.New("a"), "try {Overwrite}"), fmt.Errorf("b: %w", New(errors.New("c"), "or {Store.Remove}")))
	assert.Equal(t, "a: try --overwrite\nb: c: or deltashare creds remove", RenderError(joined, flags))
	assert.Equal(t, "x failed; use --overwrite", RenderError(fmt.Errorf("wrapped: %w", ownHint{}), flags)[len("wrapped: "):])
	assert.Equal(t, "1: use --overwrite\n2: use --overwrite\n3: run deltashare creds remove", RenderError(listHints{}, flags))
	assert.Equal(t, "1: use the Overwrite option\n2: use the Overwrite option\n3: run Store.Remove", listHints{}.Error())
}

// ownHint is an error type that words its advice itself.
type ownHint struct{}

func (ownHint) Error() string { return "x failed; " + Render(ownHint{}.Hint(), nil) }
func (ownHint) Hint() string  { return "use {Overwrite}" }

// listHints lists several problems, each with advice (one repeated).
type listHints struct{}

func (listHints) advice() []string {
	return []string{"use {Overwrite}", "use {Overwrite}", "run {Store.Remove}"}
}
func (l listHints) Hints() []string { return l.advice() }
func (l listHints) Error() string {
	var lines []string
	for i, a := range l.advice() {
		lines = append(lines, fmt.Sprintf("%d: %s", i+1, Render(a, nil)))
	}
	return strings.Join(lines, "\n")
}

package hint

import (
	"errors"
	"fmt"
	"io/fs"
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
}

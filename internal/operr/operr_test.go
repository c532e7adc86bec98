package operr

import (
	"errors"
	"io/fs"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var errKind = errors.New("the kind")

// pkgError is a package's error type built on Base.
type pkgError struct {
	Base
	Status int
}

func TestNew(t *testing.T) {
	var err error = &pkgError{Base: New("read the file", errKind, "read the file: no such file", fs.ErrNotExist), Status: 404}
	assert.Equal(t, "read the file: no such file", err.Error())
	assert.ErrorIs(t, err, errKind)
	assert.ErrorIs(t, err, fs.ErrNotExist)
	var pe *pkgError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "read the file", pe.Op)
	assert.Equal(t, errKind, pe.Kind)
	assert.Equal(t, 404, pe.Status)
}

func TestUnwrapLeavesOutNil(t *testing.T) {
	e := &pkgError{Base: New("op", nil, "op: failed", nil)}
	assert.Empty(t, e.Unwrap())
	e = &pkgError{Base: New("op", errKind, "op: failed", nil)}
	assert.Equal(t, []error{errKind}, e.Unwrap())
	e = &pkgError{Base: New("op", nil, "op: failed", fs.ErrPermission)}
	assert.Equal(t, []error{fs.ErrPermission}, e.Unwrap())
}

func TestWithAdvice(t *testing.T) {
	for _, cause := range []error{nil, fs.ErrPermission} {
		err := &pkgError{Base: WithAdvice("write", errKind, "write: cannot write out.csv; ", "pass {Overwrite} to replace it", cause)}
		assert.Equal(t, "write: cannot write out.csv; pass the Overwrite option to replace it", err.Error())
		assert.ErrorIs(t, err, errKind)
		if cause != nil {
			assert.ErrorIs(t, err, cause)
		}
		var h interface{ Hint() string }
		require.ErrorAs(t, err, &h, "the advice is in the chain for the command line")
		assert.Equal(t, "pass {Overwrite} to replace it", h.Hint())
	}
}

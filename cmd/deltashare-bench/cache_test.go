package main

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCachedTable: a table is generated once per key (the marker written last) and replaced when
// the key changes; a failed generation leaves neither the table nor its temporary directory.
func TestCachedTable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tables", "t")
	gens := 0
	gen := func(tmp string) error {
		gens++
		require.NoError(t, os.MkdirAll(tmp, 0o755))
		return os.WriteFile(filepath.Join(tmp, "data"), []byte{byte(gens)}, 0o644)
	}
	took, err := cachedTable(t.Context(), path, "k1\n", "test table", "t", gen)
	require.NoError(t, err)
	assert.Positive(t, took)
	assert.FileExists(t, filepath.Join(path, "data"))
	assert.NoDirExists(t, path+".tmp")

	took, err = cachedTable(t.Context(), path, "k1\n", "test table", "t", gen)
	require.NoError(t, err)
	assert.Zero(t, took, "cached")
	assert.Equal(t, 1, gens)

	_, err = cachedTable(t.Context(), path, "k2\n", "test table", "t", gen)
	require.NoError(t, err)
	assert.Equal(t, 2, gens, "a new key generates again")
	b, err := os.ReadFile(filepath.Join(path, "BENCH_COMPLETE"))
	require.NoError(t, err)
	assert.Equal(t, "k2\n", string(b))

	boom := errors.New("boom")
	_, err = cachedTable(t.Context(), path, "k3\n", "test table", "t", func(tmp string) error {
		require.NoError(t, gen(tmp))
		return boom
	})
	require.ErrorIs(t, err, boom)
	assert.NoDirExists(t, path)
	assert.NoDirExists(t, path+".tmp")
}

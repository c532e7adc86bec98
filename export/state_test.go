package export

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDiffSchemas(t *testing.T) {
	old := []Column{{"id", "long", false}, {"name", "string", true}, {"age", "integer", true}, {"gone", "date", true}}
	cur := []Column{{"ID", "long", false}, {"name", "string", false}, {"age", "long", true}, {"note", "string", true}}
	d := DiffSchemas(old, cur)
	assert.Equal(t, []Column{{"note", "string", true}}, d.Added)
	assert.Equal(t, []Column{{"gone", "date", true}}, d.Removed)
	require.Len(t, d.Changed, 2)
	assert.Equal(t, "added column note (string); removed column gone (date); changed column name: nullable -> not null; changed column age: integer -> long", d.String())
	assert.True(t, DiffSchemas(old, old).Empty())
	assert.Equal(t, SchemaFingerprint(old), SchemaFingerprint(append([]Column{}, old...)))
	assert.NotEqual(t, SchemaFingerprint(old), SchemaFingerprint(cur))
}

func TestStateRoundTrip(t *testing.T) {
	ctx := context.Background()
	sink := NewLocalSink(t.TempDir())
	st, err := ReadState(ctx, sink, "_deltashare_state.json")
	require.NoError(t, err)
	assert.Nil(t, st, "no state yet")
	want := &State{FormatVersion: StateFormatVersion, Table: "s.d.t", Endpoint: "https://x", Format: "parquet", LastVersion: 7,
		Schema: []Column{{"id", "long", false}}, Generation: 2, UpdatedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Runs: []RunInfo{{Kind: RunSnapshot, FromVersion: 7, ToVersion: 7, Dir: "snapshot/v=00000007/", Files: []string{"snapshot/v=00000007/part-00000.parquet"}}}}
	require.NoError(t, WriteState(ctx, sink, "_deltashare_state.json", want))
	got, err := ReadState(ctx, sink, "_deltashare_state.json")
	require.NoError(t, err)
	assert.Equal(t, want, got)
	names, err := sink.List(ctx, "")
	require.NoError(t, err)
	assert.Equal(t, []string{"_deltashare_state.json"}, names, "no temporary file left")

	require.NoError(t, os.WriteFile(filepath.Join(sink.Dir, "_deltashare_state.json"), []byte("{"), 0o644))
	_, err = ReadState(ctx, sink, "_deltashare_state.json")
	assert.ErrorContains(t, err, "damaged")
}

func TestSyncLock(t *testing.T) {
	ctx := context.Background()
	sink := NewLocalSink(t.TempDir())
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	a, err := acquireLock(ctx, sink, "x.lock", "t", time.Hour, clock)
	require.NoError(t, err)
	_, err = acquireLock(ctx, sink, "x.lock", "t", time.Hour, clock)
	require.ErrorIs(t, err, ErrLocked)
	assert.ErrorContains(t, err, "another sync run")
	require.NoError(t, a.check(ctx))

	// After expiry another run takes it over; the first one notices and lets it be.
	now = now.Add(2 * time.Hour)
	b, err := acquireLock(ctx, sink, "x.lock", "t", time.Hour, clock)
	require.NoError(t, err)
	assert.True(t, errors.Is(a.check(ctx), ErrLocked))
	require.NoError(t, a.release(ctx))
	require.NoError(t, b.check(ctx), "the first run's release leaves the second run's lock")
	require.NoError(t, b.release(ctx))
	ok, err := sink.Exists(ctx, "x.lock")
	require.NoError(t, err)
	assert.False(t, ok)

	// A lock left half-written by a killed run is taken over.
	require.NoError(t, os.WriteFile(filepath.Join(sink.Dir, "x.lock"), nil, 0o644))
	c, err := acquireLock(ctx, sink, "x.lock", "t", time.Hour, clock)
	require.NoError(t, err)
	require.NoError(t, c.release(ctx))
}

package reader

import (
	"context"
	"testing"
	"time"

	"github.com/deltashare/deltashare/sharing/protocol"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// countingSource counts the lookups of a fileMap.
type countingSource struct {
	fileMap
	lookups int
}

func (c *countingSource) lookup(key string) (protocol.File, bool, error) {
	c.lookups++
	return c.fileMap.lookup(key)
}

// A file held as dispatched is handed out without a lookup (a fileList decodes it from disk)
// until a refresh: then the refreshed URL is looked up, never the held one.
func TestURLSetHeldFiles(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	exp := now.Add(time.Hour).UnixMilli()
	src := &countingSource{fileMap: fileMap{files: map[string]protocol.File{
		"a": {ID: "a", URL: "http://h/a?v=1", ExpirationTimestamp: &exp},
		"b": {ID: "b", URL: "http://h/b?v=1", ExpirationTimestamp: &exp},
	}}}
	refreshes := 0
	u := newURLSet(src, func() time.Time { return now }, func(ctx context.Context, fn func(string, protocol.File) error) error {
		refreshes++
		for _, id := range []string{"a", "b"} {
			if err := fn(id, protocol.File{ID: id, URL: "http://h/" + id + "?v=2", ExpirationTimestamp: &exp}); err != nil {
				return err
			}
		}
		return nil
	}, nil)
	ctx := context.Background()

	gen := u.generation()
	held, _, _ := src.lookup("a")
	u.hold("a", held, gen)
	src.lookups = 0
	for range 3 {
		f, g, err := u.get(ctx, "a")
		require.NoError(t, err)
		assert.Equal(t, "http://h/a?v=1", f.URL)
		assert.Equal(t, gen, g)
	}
	assert.Zero(t, src.lookups, "a held file is not looked up")
	f, _, err := u.get(ctx, "b")
	require.NoError(t, err)
	assert.Equal(t, "http://h/b?v=1", f.URL)
	assert.Equal(t, 1, src.lookups, "a file not held is looked up")

	require.NoError(t, u.refresh(ctx, gen))
	require.Equal(t, 1, refreshes)
	f, g, err := u.get(ctx, "a")
	require.NoError(t, err)
	assert.Equal(t, "http://h/a?v=2", f.URL, "after a refresh the held URL is stale")
	assert.Equal(t, gen+1, g)

	u.release("a")
	assert.Empty(t, u.held)
}

// Download turns go in file order, at most n at once, whatever order the workers ask in.
func TestOrderedTurns(t *testing.T) {
	turns := newOrderedTurns(2)
	ctx := context.Background()
	granted := make(chan int, 6)
	for i := 5; i >= 0; i-- {
		go func() {
			if turns.acquire(ctx, i) == nil {
				granted <- i
			}
		}()
	}
	var order []int
	for range 6 {
		i := <-granted
		order = append(order, i)
		turns.mu.Lock()
		held := turns.held
		turns.mu.Unlock()
		assert.LessOrEqual(t, held, 2, "turns held at once")
		if len(order) >= 2 {
			turns.release() // the earliest holder is done
		}
	}
	assert.Equal(t, []int{0, 1, 2, 3, 4, 5}, order)

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	assert.ErrorIs(t, newOrderedTurns(1).acquire(cancelled, 1), context.Canceled, "file 1 waits for file 0: cancelling ends the wait")
}

package sharing

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deltashare/deltashare/internal/heaptest"
	"github.com/deltashare/deltashare/sharing/delta"
	"github.com/deltashare/deltashare/sharing/protocol"
)

// The client against a misbehaving server (an httptest server answering what no real server
// would): an endless query response, a line that never ends, page tokens that never end. Each
// ends with an error wrapping ErrResponseLimit (or protocol.ErrLineTooLong) after bounded memory,
// where the client used to read on until it ran out of memory or time. See docs/reliability.md.

var boundsTable = testTable

// writeHead writes the protocol and metaData lines of a parquet-format query response.
func writeHead(w http.ResponseWriter) *protocol.Encoder {
	w.Header().Set("Content-Type", "application/x-ndjson; charset=utf-8")
	w.Header().Set(protocol.HeaderTableVersion, "3")
	enc := protocol.NewEncoder(w, protocol.FormatParquet)
	_ = enc.Protocol(protocol.ProtocolAction{Protocol: delta.Protocol{MinReaderVersion: 1}})
	_ = enc.Metadata(protocol.MetadataAction{Metadata: metaFor("m")})
	return enc
}

func fileLine(i int) protocol.File {
	return protocol.File{Kind: protocol.FileAdd, ID: fmt.Sprintf("file-%012d", i), URL: fmt.Sprintf("https://storage.example/t/part-%012d.parquet?sig=abc", i),
		Size: 4096, Stats: `{"numRecords":100,"minValues":{"id":1},"maxValues":{"id":100},"nullCount":{"id":0}}`, PartitionValues: map[string]string{}}
}

// TestResponseBoundsEndlessQuery: a query response whose file lines go on far past the
// client's MaxResponseBytes ends with ErrResponseLimit once the bound is read, holding a heap
// of the order of the bound. (Without the bound the client read all the server sent.)
func TestResponseBoundsEndlessQuery(t *testing.T) {
	const bound = 32 << 20
	var sent atomic.Int64
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		writeHead(w)
		enc := protocol.NewEncoder(&countWriter{w: w, n: &sent}, protocol.FormatParquet)
		for i := 0; sent.Load() < 8*bound && r.Context().Err() == nil; i++ {
			if enc.File(fileLine(i)) != nil {
				return
			}
		}
		_ = enc.EndStream(protocol.EndStream{})
	})
	c, _ := newTestClient(t, ts, WithLimits(Limits{MaxResponseBytes: bound}))
	h, err := heaptest.Measure(func() error {
		_, err := c.Query(context.Background(), boundsTable, protocol.QueryRequest{})
		return err
	})
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrResponseLimit)
	assert.ErrorIs(t, err, protocol.ErrProtocol)
	assert.Contains(t, err.Error(), "larger than 33554432 bytes")
	assert.Contains(t, err.Error(), "POST /shares/s/schemas/d/tables/t/query")
	assert.Equal(t, 1, ts.count(), "not retried")
	assert.Less(t, sent.Load(), int64(8*bound), "the client stopped reading before the server stopped writing")
	t.Logf("endless query response, bound %d MiB: error after the bound, peak heap %d MiB", bound>>20, h.Growth()>>20)
	assert.Less(t, h.Growth(), uint64(8*bound), "heap of the order of the bound")
}

type countWriter struct {
	w http.ResponseWriter
	n *atomic.Int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n.Add(int64(n))
	return n, err
}

// TestResponseBoundsHugeLine: a single line of 200 MiB (valid JSON: a file with 200 MiB of
// statistics) ends with protocol.ErrLineTooLong after the default limit of a line was read;
// a smaller limit set with WithLimits applies. (Without the limit the client held the whole
// line, several times over.)
func TestResponseBoundsHugeLine(t *testing.T) {
	const huge = 200 << 20
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		writeHead(w)
		_, _ = w.Write([]byte(`{"file":{"id":"big","url":"https://storage.example/big","size":1,"partitionValues":{},"stats":"`))
		chunk := []byte(strings.Repeat("x", 1<<20))
		for range huge >> 20 {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
		_, _ = w.Write([]byte("\"}}\n"))
	})
	for _, tc := range []struct {
		limit, want int
	}{{0, protocol.DefaultMaxLineBytes}, {1 << 20, 1 << 20}} {
		c, _ := newTestClient(t, ts, WithLimits(Limits{MaxLineBytes: tc.limit}))
		h, err := heaptest.Measure(func() error {
			_, err := c.Query(context.Background(), boundsTable, protocol.QueryRequest{})
			return err
		})
		require.Error(t, err)
		assert.ErrorIs(t, err, protocol.ErrLineTooLong)
		assert.Contains(t, err.Error(), fmt.Sprintf("response line 3 is longer than %d bytes", tc.want))
		assert.Contains(t, err.Error(), "MaxLineBytes")
		t.Logf("line of %d MiB, limit %d MiB: peak heap %d MiB", huge>>20, tc.want>>20, h.Growth()>>20)
		assert.Less(t, h.Growth(), uint64(5*tc.want+(16<<20)), "heap of the order of the limit, not of the line")
	}
}

// TestResponseBoundsEndlessPages: a server answering every page with a new page token ends the
// read after MaxPages pages, or once MaxListingTime has passed on the client's clock, with
// ErrResponseLimit: query, change data and listings alike.
func TestResponseBoundsEndlessPages(t *testing.T) {
	var n atomic.Int64
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		i := n.Add(1)
		token := fmt.Sprintf("token-%d-%s", i, strings.Repeat("t", 1000))
		if strings.Contains(r.URL.Path, "/tables/") {
			enc := writeHead(w)
			_ = enc.File(fileLine(int(i)))
			_ = enc.EndStream(protocol.EndStream{NextPageToken: token})
			return
		}
		writeJSON(w, 200, map[string]any{"items": []any{map[string]string{"name": fmt.Sprint("share-", i)}}, "nextPageToken": token})
	})
	reads := map[string]func(c *Client) error{
		"query": func(c *Client) error {
			_, err := c.Query(context.Background(), boundsTable, protocol.QueryRequest{})
			return err
		},
		"changes": func(c *Client) error {
			_, err := c.Changes(context.Background(), boundsTable, protocol.ChangesRequest{StartingVersion: i64(0)})
			return err
		},
		"shares": func(c *Client) error {
			_, err := c.ListShares(context.Background())
			return err
		},
	}
	for name, read := range reads {
		t.Run(name+" pages", func(t *testing.T) {
			before := ts.count()
			c, _ := newTestClient(t, ts, WithLimits(Limits{MaxPages: 25}))
			err := read(c)
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrResponseLimit)
			assert.Contains(t, err.Error(), "after 25")
			assert.Equal(t, 25, ts.count()-before)
		})
		t.Run(name+" time", func(t *testing.T) {
			before := ts.count()
			var calls atomic.Int64
			start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			clock := func() time.Time { return start.Add(time.Duration(calls.Add(1)) * time.Minute) }
			c, _ := newTestClient(t, ts, WithClock(clock), WithLimits(Limits{MaxListingTime: 30 * time.Minute}))
			err := read(c)
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrResponseLimit)
			assert.Contains(t, err.Error(), "longer than the 30m0s a listing may take")
			assert.LessOrEqual(t, ts.count()-before, 31)
		})
	}
}

// TestResponseBoundsDefaults: the defaults of Limits, and that a limit given replaces only its
// own default.
func TestResponseBoundsDefaults(t *testing.T) {
	c, err := NewClient(bearerProfile("https://example.com/api"), WithLimits(Limits{MaxPages: 7}))
	require.NoError(t, err)
	assert.Equal(t, Limits{MaxLineBytes: protocol.DefaultMaxLineBytes, MaxPages: 7, MaxResponseBytes: DefaultMaxResponseBytes, MaxListingTime: DefaultMaxListingTime}, c.Limits())
}

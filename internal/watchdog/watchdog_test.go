package watchdog

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var errCut = errors.New("cut")

// get requests srv's URL under a watchdog of idle, the way the client and the reader do.
func get(t *testing.T, url string, idle time.Duration) (*Body, error) {
	t.Helper()
	ctx, cancel := context.WithCancelCause(context.Background())
	wd := New(idle, idle, func() { cancel(ErrIdle) })
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		wd.Stop()
		cancel(nil)
		return nil, err
	}
	wd.BodyStarted()
	return &Body{RC: resp.Body, WD: wd, Ctx: ctx, Parent: context.Background(), Cancel: cancel, What: "GET x", Truncated: errCut}, nil
}

func TestNoHeadersWithinTheTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	defer srv.Close()
	defer close(release)
	_, err := get(t, srv.URL, 50*time.Millisecond)
	require.Error(t, err)
}

func TestStalledBody(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("first"))
		w.(http.Flusher).Flush()
		<-release
	}))
	defer srv.Close()
	defer close(release)
	b, err := get(t, srv.URL, 100*time.Millisecond)
	require.NoError(t, err)
	defer b.Close()
	_, err = io.ReadAll(b)
	assert.ErrorIs(t, err, ErrIdle)
	assert.Contains(t, err.Error(), "GET x: the response stalled")
}

func TestCutBody(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100")
		_, _ = w.Write([]byte("only some"))
	}))
	defer srv.Close()
	b, err := get(t, srv.URL, time.Second)
	require.NoError(t, err)
	defer b.Close()
	_, err = io.ReadAll(b)
	assert.ErrorIs(t, err, errCut)
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
}

func TestSlowButSteadyBodyIsNotCut(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for range 6 {
			_, _ = w.Write([]byte("x"))
			w.(http.Flusher).Flush()
			time.Sleep(60 * time.Millisecond)
		}
	}))
	defer srv.Close()
	b, err := get(t, srv.URL, 300*time.Millisecond) // the whole body takes longer than the timeout
	require.NoError(t, err)
	data, err := io.ReadAll(b)
	require.NoError(t, err)
	assert.Equal(t, "xxxxxx", string(data))
	require.NoError(t, b.Close())
	b.WD.Reset() // after Stop, Reset does not rearm the timer
}

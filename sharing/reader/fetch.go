package reader

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/deltashare/deltashare/internal/redact"
	"github.com/deltashare/deltashare/internal/watchdog"
	"github.com/deltashare/deltashare/sharing"
	"github.com/deltashare/deltashare/sharing/protocol"
)

// Downloads of data files and deletion vector files from their pre-signed URLs.
//
// Every download goes through fetcher.load, which runs a callback on the response body and runs
// it again (restic Backend.Load style) when the attempt fails in a way the retry policy
// retries: HTTP 429 and 5xx, broken connections, bodies shorter than announced. A URL about to
// expire is refreshed before use, and a 403 answer refreshes the URLs once and tries again.

// DefaultURLRefreshMargin is how long before a pre-signed URL expires the reader asks the
// server for new URLs before using it (at most half the URLs' lifetime).
const DefaultURLRefreshMargin = 60 * time.Second

// resource says which URL of a file a download reads.
type resource int

const (
	resData resource = iota // the data file
	resDV                   // its deletion vector file
)

func (r resource) what(id string) string {
	if r == resDV {
		return "the deletion vector of data file " + id
	}
	return "data file " + id
}

// statusError is a download answered with a status other than 200/206. It unwraps to the
// sentinel of the status (ErrForbidden, ErrNotFound, ErrServer, ...).
type statusError struct {
	status     int
	retryAfter time.Duration // the answer's Retry-After (0 when absent)
}

// RetryAfterDelay is the wait the server asked for (see sharing.RetryPolicy.DoWith).
func (e *statusError) RetryAfterDelay() time.Duration { return e.retryAfter }

func (e *statusError) Error() string {
	s := fmt.Sprintf("GET: %d %s", e.status, http.StatusText(e.status))
	switch {
	case e.status == http.StatusForbidden:
		s += "; the pre-signed URL was refused (expired or revoked) even after new URLs were requested; read the table again"
	case e.status == http.StatusNotFound:
		s += "; the file no longer exists at its URL (removed by VACUUM, or the table changed); read the table again"
	case e.status >= 500:
		s += "; the storage service failed: try again later"
	}
	return s
}

func (e *statusError) Unwrap() error { return protocol.StatusSentinel(e.status) }

// downloadRetryable decides retries of downloads: the client's rules, with statusError
// standing in for APIError.
func downloadRetryable(err error) bool {
	var se *statusError
	if errors.As(err, &se) {
		return sharing.RetryableStatus(se.status)
	}
	if errors.Is(err, errNotRetryable) {
		return false
	}
	return sharing.IsRetryable(err)
}

var errNotRetryable = errors.New("not retryable")

// urlSet holds the current pre-signed URLs of a read's files, by file key, and refreshes them.
type urlSet struct {
	now       func() time.Time
	margin    time.Duration
	refresher refresher // nil: URLs cannot be refreshed
	src       fileSource
	pending   func() int // the first file not yet read: a refresh keeps the URLs from it on

	mu          sync.Mutex
	gen         int
	issued      time.Time
	inflight    chan struct{}
	inflightErr error
	refreshes   atomic.Int64
	held        map[string]heldFile // files being read, as dispatched
}

// heldFile is a file as read from the source while the URLs were of generation gen.
type heldFile struct {
	f   protocol.File
	gen int
}

// refresher asks the server for the read's files again and hands each, with its key, to fn.
type refresher func(ctx context.Context, fn func(key string, f protocol.File) error) error

// fileSource holds the files of a read by key: in memory (fileMap) or on disk (fileList).
type fileSource interface {
	lookup(key string) (protocol.File, bool, error)
	// replace stores the files a refresh hands out, for the files from index from on.
	replace(from int, each func(fn func(key string, f protocol.File) error) error) error
}

// fileMap is a fileSource in memory.
type fileMap struct {
	mu    sync.Mutex
	files map[string]protocol.File
}

func (m *fileMap) lookup(key string) (protocol.File, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f, ok := m.files[key]
	return f, ok, nil
}

func (m *fileMap) replace(_ int, each func(fn func(key string, f protocol.File) error) error) error {
	fresh := map[string]protocol.File{}
	if err := each(func(k string, f protocol.File) error {
		m.mu.Lock()
		_, ok := m.files[k]
		m.mu.Unlock()
		if ok {
			fresh[k] = f
		}
		return nil
	}); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, f := range fresh {
		m.files[k] = f
	}
	return nil
}

func newURLSet(src fileSource, now func() time.Time, refresh refresher, pending func() int) *urlSet {
	if pending == nil {
		pending = func() int { return 0 }
	}
	return &urlSet{now: now, margin: DefaultURLRefreshMargin, refresher: refresh, src: src, pending: pending, issued: now()}
}

// needsRefresh reports whether f's URL expires within the margin: DefaultURLRefreshMargin, or
// half the URLs' lifetime when that is shorter (so short-lived URLs do not cause a refresh per
// file).
func (u *urlSet) needsRefresh(f protocol.File) bool {
	exp := f.Expiration()
	if exp.IsZero() {
		return false
	}
	u.mu.Lock()
	issued := u.issued
	u.mu.Unlock()
	m := u.margin
	if life := exp.Sub(issued); life/2 < m {
		m = life / 2
	}
	return !u.now().Add(m).Before(exp)
}

// generation is the generation of the current URLs.
func (u *urlSet) generation() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.gen
}

// hold keeps f, read from the source while the URLs were of generation gen, for get: a file
// being read is then not looked up again (the source decodes it from disk) until its URLs
// are refreshed. release drops it.
func (u *urlSet) hold(key string, f protocol.File, gen int) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.held == nil {
		u.held = map[string]heldFile{}
	}
	u.held[key] = heldFile{f: f, gen: gen}
}

func (u *urlSet) release(key string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	delete(u.held, key)
}

// get returns the file with the current URLs and their generation, refreshing them first when
// they are about to expire.
func (u *urlSet) get(ctx context.Context, key string) (protocol.File, int, error) {
	u.mu.Lock()
	gen := u.gen
	h, held := u.held[key]
	u.mu.Unlock()
	var f protocol.File
	if held && h.gen == gen {
		f = h.f
	} else {
		var ok bool
		var err error
		f, ok, err = u.src.lookup(key)
		if err != nil {
			return protocol.File{}, 0, err
		}
		if !ok {
			return protocol.File{}, 0, fmt.Errorf("file %s is not part of this read", key)
		}
	}
	if u.refresher == nil || !u.needsRefresh(f) {
		return f, gen, nil
	}
	if err := u.refresh(ctx, gen); err != nil {
		return protocol.File{}, 0, fmt.Errorf("the file URLs expire at %s and requesting new ones failed: %w", f.Expiration().Format(time.RFC3339), err)
	}
	u.mu.Lock()
	gen = u.gen
	u.mu.Unlock()
	f, _, err := u.src.lookup(key)
	return f, gen, err
}

// refresh asks the server for new URLs unless a refresh after generation gen already
// happened; concurrent callers share one request.
func (u *urlSet) refresh(ctx context.Context, gen int) error {
	if u.refresher == nil {
		return errors.New("the server's URLs cannot be refreshed")
	}
	u.mu.Lock()
	if u.gen != gen {
		u.mu.Unlock()
		return nil
	}
	if ch := u.inflight; ch != nil {
		u.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
		u.mu.Lock()
		defer u.mu.Unlock()
		return u.inflightErr
	}
	ch := make(chan struct{})
	u.inflight = ch
	u.mu.Unlock()

	err := u.src.replace(u.pending(), func(fn func(string, protocol.File) error) error { return u.refresher(ctx, fn) })

	u.mu.Lock()
	defer u.mu.Unlock()
	if err == nil {
		u.gen++
		u.issued = u.now()
		u.refreshes.Add(1)
	}
	u.inflightErr = err
	u.inflight = nil
	close(ch)
	return err
}

// fetcher downloads files of one read.
type fetcher struct {
	hc      *http.Client
	retry   sharing.RetryPolicy
	timeout time.Duration
	log     *slog.Logger
	urls    *urlSet
	bytes   atomic.Int64 // body bytes received, all attempts
	gets    atomic.Int64 // GET requests sent
}

// load GETs a file of key (the byte range off..off+length-1, or all of it when length < 0)
// and passes the body and its size to fn, again on retryable failures. A body shorter than
// its announced size fails with ErrTruncated (retried).
func (f *fetcher) load(ctx context.Context, key string, res resource, off, length int64, fn func(body io.Reader, size int64) error) error {
	refreshed := false
	var id string
	for {
		var gen int
		err := f.retry.DoWith(ctx, func(attempt int) error {
			file, g, err := f.urls.get(ctx, key)
			if err != nil {
				return fmt.Errorf("%w: %w", errNotRetryable, err)
			}
			id, gen = file.ID, g
			u := file.URL
			expect := int64(-1)
			if res == resDV {
				if file.DeletionVector == nil {
					return fmt.Errorf("%w: the refreshed file has no deletion vector", errNotRetryable)
				}
				u = file.DeletionVector.PathOrInlineDV
			} else if length < 0 && file.Size > 0 {
				expect = file.Size
			}
			return f.attempt(ctx, u, res.what(file.ID), off, length, expect, fn)
		}, downloadRetryable, func(attempt int, wait time.Duration, err error) {
			f.log.Warn("retrying download", "file", id, "attempt", attempt, "wait", wait, "error", err.Error())
		})
		var se *statusError
		if errors.As(err, &se) && se.status == http.StatusForbidden && !refreshed && f.urls.refresher != nil && ctx.Err() == nil {
			refreshed = true
			f.log.Info("download refused (403), requesting new URLs", "file", id)
			if rerr := f.urls.refresh(ctx, gen); rerr != nil {
				return fmt.Errorf("the URL was refused (403) and requesting new URLs failed: %w", rerr)
			}
			continue
		}
		if err != nil {
			if errors.Is(err, context.Canceled) && ctx.Err() != nil {
				return ctx.Err()
			}
			if res == resDV {
				return fmt.Errorf("the deletion vector file: %w", err)
			}
			return err
		}
		return nil
	}
}

// attempt is one GET.
func (f *fetcher) attempt(ctx context.Context, rawURL, what string, off, length, expect int64, fn func(io.Reader, int64) error) error {
	actx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	wd := watchdog.New(f.timeout, f.timeout, func() { cancel(watchdog.ErrIdle) })
	defer wd.Stop()
	req, err := http.NewRequestWithContext(actx, http.MethodGet, rawURL, nil)
	if err != nil {
		return fmt.Errorf("%w: the URL is not valid: %w", errNotRetryable, redact.Err(err))
	}
	ranged := off > 0 || length >= 0
	if ranged {
		if length == 0 {
			return fn(eofReader{}, 0)
		}
		end := ""
		if length > 0 {
			end = strconv.FormatInt(off+length-1, 10)
		}
		req.Header.Set("Range", "bytes="+strconv.FormatInt(off, 10)+"-"+end)
	}
	f.gets.Add(1)
	resp, err := f.hc.Do(req)
	if err != nil {
		if ctx.Err() == nil && errors.Is(context.Cause(actx), watchdog.ErrIdle) {
			return fmt.Errorf("GET: no response within %s: %w", f.timeout, watchdog.ErrIdle)
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("GET: %w", redact.Err(err))
	}
	wd.BodyStarted()
	body := &watchdog.Body{RC: resp.Body, WD: wd, Ctx: actx, Parent: ctx, Cancel: cancel, What: "GET " + what, Truncated: protocol.ErrTruncated}
	defer body.Close()
	var r io.Reader = body
	size := resp.ContentLength
	switch {
	case resp.StatusCode == http.StatusPartialContent && ranged:
	case resp.StatusCode == http.StatusOK && ranged:
		// The server ignored the Range header: skip to the range.
		if _, err := io.CopyN(io.Discard, body, off); err != nil {
			return fmt.Errorf("GET: skipping to byte %d: %w", off, truncated(err))
		}
		if size >= 0 {
			size -= off
		}
		if length >= 0 {
			r = io.LimitReader(body, length)
			if size < 0 || size > length {
				size = length
			}
		}
	case resp.StatusCode == http.StatusOK:
	default:
		_, _ = io.Copy(io.Discard, io.LimitReader(body, 64<<10))
		se := &statusError{status: resp.StatusCode}
		now := time.Now
		if f.retry.Now != nil {
			now = f.retry.Now
		}
		if d, ok := protocol.ParseRetryAfter(resp.Header.Get("Retry-After"), now()); ok {
			se.retryAfter = d
		}
		return se
	}
	if length >= 0 && size >= 0 && size != length {
		return fmt.Errorf("GET: asked for %d bytes at offset %d and the server announced %d: %w", length, off, size, protocol.ErrTruncated)
	}
	if size < 0 && length >= 0 {
		size = length
	}
	if expect >= 0 {
		if size >= 0 && size < expect {
			// A short body is a truncated download (a broken proxy or cache): retried.
			return fmt.Errorf("GET: the server sends %d bytes, the table says the file has %d: %w", size, expect, protocol.ErrTruncated)
		}
		if size > expect {
			return fmt.Errorf("%w: the server sends %d bytes, the table says the file has %d", errNotRetryable, size, expect)
		}
		size = expect
	}
	cr := &countingReader{r: r}
	if err := fn(cr, size); err != nil {
		return truncated(err)
	}
	f.bytes.Add(cr.n)
	if size >= 0 && cr.n < size {
		// fn stopped early; make sure the rest is there (a short body is a broken download).
		n, err := io.Copy(io.Discard, cr)
		if err != nil {
			return truncated(err)
		}
		if cr.n < size {
			return fmt.Errorf("GET: the body ended after %d of %d bytes: %w", cr.n, size, protocol.ErrTruncated)
		}
		_ = n
	}
	return nil
}

// truncated marks an unexpected end of a body as ErrTruncated.
func truncated(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, protocol.ErrTruncated) {
		return fmt.Errorf("%w: %w", protocol.ErrTruncated, err)
	}
	return err
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

// readExactly reads n bytes; fewer is ErrTruncated.
func readExactly(r io.Reader, n int64) ([]byte, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("the body ended before %d bytes: %w", n, protocol.ErrTruncated)
		}
		return nil, err
	}
	return b, nil
}

// readAllLimited reads a body of announced size (or unknown, -1), refusing more than max.
func readAllLimited(r io.Reader, size, max int64) ([]byte, error) {
	if size >= 0 {
		b, err := readExactly(r, size)
		if err != nil {
			return nil, err
		}
		var one [1]byte
		if n, _ := r.Read(one[:]); n > 0 {
			return nil, fmt.Errorf("%w: the body is longer than the %d bytes announced", errNotRetryable, size)
		}
		return b, nil
	}
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%w: the file is larger than %d bytes", errNotRetryable, max)
	}
	return b, nil
}

// localFile is a downloaded data file, in memory or spilled to a temporary file.
type localFile struct {
	r       readerAtSeeker
	size    int64
	cleanup func()
}

type readerAtSeeker interface {
	io.ReaderAt
	io.Seeker
}

// download fetches a whole data file: into memory when it is at most memMax bytes, else into
// a temporary file in tmpDir (removed by cleanup).
func (f *fetcher) download(ctx context.Context, key string, memMax int64, tmpDir string) (*localFile, error) {
	var out *localFile
	var tmp *os.File
	cleanupTmp := func() {
		if tmp != nil {
			name := tmp.Name()
			_ = tmp.Close()
			_ = os.Remove(name)
			tmp = nil
		}
	}
	err := f.load(ctx, key, resData, 0, -1, func(body io.Reader, size int64) error {
		if size >= 0 && size <= memMax {
			b, err := readAllLimited(body, size, memMax)
			if err != nil {
				return err
			}
			out = &localFile{r: newBytesReaderAt(b), size: int64(len(b)), cleanup: func() {}}
			return nil
		}
		if tmp == nil {
			t, err := os.CreateTemp(tmpDir, "deltashare-*.parquet")
			if err != nil {
				return fmt.Errorf("%w: spilling a large file to disk: %w", errNotRetryable, err)
			}
			tmp = t
		} else {
			if _, err := tmp.Seek(0, io.SeekStart); err != nil {
				return fmt.Errorf("%w: %w", errNotRetryable, err)
			}
			if err := tmp.Truncate(0); err != nil {
				return fmt.Errorf("%w: %w", errNotRetryable, err)
			}
		}
		n, err := io.Copy(tmp, body)
		if err != nil {
			var pe *os.PathError
			if errors.As(err, &pe) || errors.Is(err, syscall.ENOSPC) {
				return fmt.Errorf("%w: writing the temporary file: %w (set a temporary directory with more space)", errNotRetryable, err)
			}
			return err
		}
		if size >= 0 && n != size {
			return fmt.Errorf("the body ended after %d of %d bytes: %w", n, size, protocol.ErrTruncated)
		}
		t := tmp
		out = &localFile{r: t, size: n, cleanup: func() { name := t.Name(); _ = t.Close(); _ = os.Remove(name) }}
		return nil
	})
	if err != nil {
		cleanupTmp()
		return nil, err
	}
	return out, nil
}

// bytesReaderAt is a bytes.Reader-like ReaderAt and Seeker.
type bytesReaderAt struct {
	b   []byte
	pos int64
}

func newBytesReaderAt(b []byte) *bytesReaderAt { return &bytesReaderAt{b: b} }

func (r *bytesReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("negative offset")
	}
	if off >= int64(len(r.b)) {
		return 0, io.EOF
	}
	n := copy(p, r.b[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (r *bytesReaderAt) Seek(offset int64, whence int) (int64, error) {
	return seekPos(&r.pos, int64(len(r.b)), offset, whence)
}

func seekPos(pos *int64, size, offset int64, whence int) (int64, error) {
	var p int64
	switch whence {
	case io.SeekStart:
		p = offset
	case io.SeekCurrent:
		p = *pos + offset
	case io.SeekEnd:
		p = size + offset
	default:
		return 0, errors.New("invalid whence")
	}
	if p < 0 {
		return 0, errors.New("negative position")
	}
	*pos = p
	return p, nil
}

// httpReaderAt reads a remote data file by byte ranges: each ReadAt is one ranged GET (with
// the retries and URL refreshes of load). Parquet reads the footer, then whole column chunks.
type httpReaderAt struct {
	ctx  context.Context
	f    *fetcher
	key  string
	size int64
	pos  int64
}

func (h *httpReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("negative offset")
	}
	if off >= h.size {
		return 0, io.EOF
	}
	n := int64(len(p))
	if off+n > h.size {
		n = h.size - off
	}
	err := h.f.load(h.ctx, h.key, resData, off, n, func(body io.Reader, _ int64) error {
		_, err := io.ReadFull(body, p[:n])
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("the body ended early: %w", protocol.ErrTruncated)
		}
		return err
	})
	if err != nil {
		return 0, err
	}
	if n < int64(len(p)) {
		return int(n), io.EOF
	}
	return int(n), nil
}

func (h *httpReaderAt) Seek(offset int64, whence int) (int64, error) {
	return seekPos(&h.pos, h.size, offset, whence)
}

package reader

import (
	"bytes"
	"context"
	"encoding/binary"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deltashare/deltashare/internal/arrowtest"
	"github.com/deltashare/deltashare/sharing"
	"github.com/deltashare/deltashare/sharing/protocol"
)

// ReadFooter is tested against a plain file server standing in for object storage: the
// Delta Sharing server plays no part in a footer read, which only GETs a pre-signed URL.

const footerSig = "X-Amz-Signature=footer-secret-0123"

// footerStore serves one object at /f?<signature>; handle, when set, answers instead (return
// false to fall through to the file).
type footerStore struct {
	*httptest.Server
	data    []byte
	noRange bool // answer every GET with 200 and the whole body
	handle  func(w http.ResponseWriter, r *http.Request, n int) bool

	mu     sync.Mutex
	ranges []string // the Range header of each request
}

func newFooterStore(t *testing.T, data []byte) *footerStore {
	t.Helper()
	s := &footerStore{data: data}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.ranges = append(s.ranges, r.Header.Get("Range"))
		n := len(s.ranges)
		s.mu.Unlock()
		if r.Header.Get("Authorization") != "" {
			http.Error(w, "pre-signed URLs take no Authorization header", http.StatusBadRequest)
			return
		}
		if r.URL.RawQuery != footerSig {
			http.Error(w, "SignatureDoesNotMatch", http.StatusForbidden)
			return
		}
		if s.handle != nil && s.handle(w, r, n) {
			return
		}
		if s.noRange {
			w.Header().Set("Content-Length", strconv.Itoa(len(s.data)))
			_, _ = w.Write(s.data)
			return
		}
		http.ServeContent(w, r, "f.parquet", time.Time{}, bytes.NewReader(s.data))
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *footerStore) file() protocol.File {
	return protocol.File{Kind: protocol.FileAdd, ID: "f1", URL: s.URL + "/f?" + footerSig, Size: int64(len(s.data))}
}

func (s *footerStore) requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.ranges...)
}

// footerClient is a client whose retries record their waits instead of sleeping.
func footerClient(t *testing.T, endpoint string, tries int, waits *[]time.Duration) *sharing.Client {
	t.Helper()
	p := &sharing.Profile{ShareCredentialsVersion: 1, Type: sharing.ProfileTypeBearerToken,
		Endpoint: endpoint + "/api", BearerToken: "footer-bearer-token-abcdef"}
	var mu sync.Mutex
	c, err := sharing.NewClient(p, sharing.WithTimeout(10*time.Second), sharing.WithRetryPolicy(sharing.RetryPolicy{
		MaxTries: tries,
		Sleep: func(ctx context.Context, d time.Duration) error {
			mu.Lock()
			defer mu.Unlock()
			if waits != nil {
				*waits = append(*waits, d)
			}
			return ctx.Err()
		},
		Jitter: func(d time.Duration) time.Duration { return d },
	}))
	require.NoError(t, err)
	return c
}

// withTail returns data whose last 8 bytes are replaced by a footer length and a magic.
func withTail(data []byte, footerLen uint32, magic string) []byte {
	out := append([]byte(nil), data...)
	binary.LittleEndian.PutUint32(out[len(out)-8:], footerLen)
	copy(out[len(out)-4:], magic)
	return out
}

func TestReadFooter(t *testing.T) {
	small := arrowtest.SmallParquet(t, 5, 0)
	big := arrowtest.SmallParquet(t, 7, 80<<10) // the footer alone is larger than the first 64 KiB read
	require.Greater(t, int(binary.LittleEndian.Uint32(big[len(big)-8:])), footerTail)

	tests := []struct {
		name     string
		data     []byte
		noRange  bool
		rows     int64
		requests int
	}{
		{name: "ranged reads", data: small, rows: 5, requests: 1},
		{name: "server ignores Range", data: small, noRange: true, rows: 5, requests: 1},
		{name: "footer beyond the first read", data: big, rows: 7, requests: 2},
		{name: "footer beyond the first read, Range ignored", data: big, noRange: true, rows: 7, requests: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newFooterStore(t, tc.data)
			s.noRange = tc.noRange
			fm, err := ReadFooter(context.Background(), footerClient(t, s.URL, 1, nil), s.file())
			require.NoError(t, err)
			assert.Equal(t, tc.rows, fm.NumRows)
			require.NotNil(t, fm.Schema)
			assert.Equal(t, 2, fm.Schema.NumColumns())
			assert.Equal(t, "id", fm.Schema.Column(0).Name())

			reqs := s.requests()
			require.Len(t, reqs, tc.requests)
			size := len(tc.data)
			first := max(0, size-footerTail)
			assert.Equal(t, "bytes="+strconv.Itoa(first)+"-"+strconv.Itoa(size-1), reqs[0], "the first read is the file's last 64 KiB")
			if tc.requests == 2 {
				flen := int(binary.LittleEndian.Uint32(tc.data[size-8:]))
				assert.Equal(t, "bytes="+strconv.Itoa(size-flen-8)+"-"+strconv.Itoa(size-1), reqs[1], "the second read is the whole footer")
			}
		})
	}
}

func TestReadFooterRefusesWhatIsNotAPlainParquetFile(t *testing.T) {
	small := arrowtest.SmallParquet(t, 3, 0)
	text := []byte(strings.Repeat("this is not a parquet file, just some text\n", 3))
	tests := []struct {
		name string
		data []byte
		size int64 // the size the table gives (0: the data's)
		want []string
	}{
		{name: "not Parquet", data: text, want: []string{"not a Parquet file", "PAR1"}},
		{name: "encrypted footer", data: withTail(small, 200, "PARE"), want: []string{"encrypted footer"}},
		{name: "footer longer than the file", data: withTail(small, uint32(len(small)), "PAR1"), want: []string{"footer length", "does not fit"}},
		{name: "footer length zero", data: withTail(small, 0, "PAR1"), want: []string{"footer length 0 does not fit"}},
		{name: "footer length beyond the limit", data: withTail(bytes.Repeat([]byte{0}, 100), 1<<31, "PAR1"), want: []string{"does not fit"}},
		{name: "too short", data: []byte("PAR1PAR1"), want: []string{"only 8 bytes long"}},
		{name: "empty", data: []byte{}, want: []string{"only 0 bytes long"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newFooterStore(t, tc.data)
			_, err := ReadFooter(context.Background(), footerClient(t, s.URL, 1, nil), s.file())
			require.Error(t, err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.NotContains(t, err.Error(), "footer-secret")
			assert.LessOrEqual(t, len(s.requests()), 1, "refused after the first read")
		})
	}
}

func TestReadFooterCorruptFooterIsAnError(t *testing.T) {
	good := arrowtest.SmallParquet(t, 4, 0)
	flen := int(binary.LittleEndian.Uint32(good[len(good)-8:]))
	start := len(good) - 8 - flen
	rng := rand.New(rand.NewPCG(1, 2))
	variants := map[string][]byte{}
	garbage := append([]byte(nil), good...)
	for i := start; i < len(good)-8; i++ {
		garbage[i] = byte(rng.IntN(256))
	}
	variants["random bytes"] = garbage
	ones := append([]byte(nil), good...)
	for i := start; i < len(good)-8; i++ {
		ones[i] = 0xff
	}
	variants["all 0xff"] = ones
	truncated := append([]byte(nil), good...)
	copy(truncated[start:], good[start+flen/2:len(good)-8]) // the footer's second half, then junk
	variants["shifted"] = truncated
	for seed := uint64(0); seed < 20; seed++ {
		flipped := append([]byte(nil), good...)
		r := rand.New(rand.NewPCG(seed, 7))
		for k := 0; k < 8; k++ {
			flipped[start+r.IntN(flen)] ^= byte(1 + r.IntN(255))
		}
		variants["flipped "+strconv.FormatUint(seed, 10)] = flipped
	}
	for name, data := range variants {
		t.Run(name, func(t *testing.T) {
			s := newFooterStore(t, data)
			fm, err := ReadFooter(context.Background(), footerClient(t, s.URL, 1, nil), s.file())
			if err == nil {
				// A flipped byte may land in a value (a statistic, a name) and still decode.
				require.NotNil(t, fm)
				return
			}
			assert.Contains(t, err.Error(), "the Parquet footer is corrupt")
		})
	}
	for _, name := range []string{"random bytes", "all 0xff"} {
		s := newFooterStore(t, variants[name])
		_, err := ReadFooter(context.Background(), footerClient(t, s.URL, 1, nil), s.file())
		assert.ErrorContains(t, err, "the Parquet footer is corrupt", name)
	}
}

func TestReadFooterRetriesAServerError(t *testing.T) {
	s := newFooterStore(t, arrowtest.SmallParquet(t, 5, 0))
	s.handle = func(w http.ResponseWriter, _ *http.Request, n int) bool {
		if n == 1 {
			w.Header().Set("Retry-After", "3")
			http.Error(w, "SlowDown", http.StatusServiceUnavailable)
			return true
		}
		return false
	}
	var waits []time.Duration
	fm, err := ReadFooter(context.Background(), footerClient(t, s.URL, 3, &waits), s.file())
	require.NoError(t, err)
	assert.Equal(t, int64(5), fm.NumRows)
	assert.Len(t, s.requests(), 2, "one retry")
	assert.Equal(t, []time.Duration{3 * time.Second}, waits, "the wait the server asked for")

	// Failing every time: the last answer, after the policy's tries.
	s.handle = func(w http.ResponseWriter, _ *http.Request, _ int) bool {
		http.Error(w, "InternalError", http.StatusInternalServerError)
		return true
	}
	before := len(s.requests())
	_, err = ReadFooter(context.Background(), footerClient(t, s.URL, 3, nil), s.file())
	require.ErrorIs(t, err, protocol.ErrServer)
	assert.Contains(t, err.Error(), "500 Internal Server Error")
	assert.Equal(t, 3, len(s.requests())-before)
}

func TestReadFooterRefusedAndMissingFiles(t *testing.T) {
	s := newFooterStore(t, arrowtest.SmallParquet(t, 5, 0))
	s.handle = func(w http.ResponseWriter, _ *http.Request, _ int) bool {
		http.Error(w, "NoSuchKey", http.StatusNotFound)
		return true
	}
	_, err := ReadFooter(context.Background(), footerClient(t, s.URL, 5, nil), s.file())
	require.ErrorIs(t, err, protocol.ErrNotFound)
	assert.Contains(t, err.Error(), "404 Not Found")
	assert.Contains(t, err.Error(), "the file no longer exists")
	assert.Len(t, s.requests(), 1, "a 404 is not retried")

	// A refused signature (403): not retried, and no claim that new URLs were asked for.
	s2 := newFooterStore(t, arrowtest.SmallParquet(t, 5, 0))
	f := s2.file()
	f.URL = s2.URL + "/f?X-Amz-Signature=expired-signature-99"
	_, err = ReadFooter(context.Background(), footerClient(t, s2.URL, 5, nil), f)
	require.ErrorIs(t, err, protocol.ErrForbidden)
	assert.Contains(t, err.Error(), "403 Forbidden")
	assert.Contains(t, err.Error(), "URL was refused")
	assert.NotContains(t, err.Error(), "after new URLs were requested")
	assert.NotContains(t, err.Error(), "expired-signature-99")
	assert.Len(t, s2.requests(), 1, "a 403 is not retried")
}

func TestReadFooterTransportErrorHidesTheSignedURL(t *testing.T) {
	s := newFooterStore(t, arrowtest.SmallParquet(t, 5, 0))
	c := footerClient(t, s.URL, 2, nil)
	f := s.file()
	s.Close()
	_, err := ReadFooter(context.Background(), c, f)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "footer-secret")
	assert.NotContains(t, err.Error(), "Signature")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = ReadFooter(ctx, c, f)
	assert.ErrorIs(t, err, context.Canceled)
}

package reader

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"sync"

	"github.com/deltashare/deltashare/internal/redact"
	"github.com/deltashare/deltashare/sharing/protocol"

	"github.com/deltashare/deltashare/sharing/delta"
)

// Deletion vectors: the Z85 text of inline vectors, the deletion vector file format and the
// RoaringBitmapArray serialization (see the Delta protocol, "Deletion Vector Format").

// dvCacheLimit bounds the deletion vector file bytes kept in memory by one reader; larger
// files, and files arriving once the cache is full, are read by byte range instead.
const (
	dvCacheLimit   = 256 << 20
	dvWholeFileMax = 32 << 20
)

// dvLoader reads deletion vectors, caching the deletion vector files it fetched (several data
// files can share one, at different offsets).
type dvLoader struct {
	fetch *fetcher

	mu    sync.Mutex
	files map[string]*dvFile
	bytes int64
}

type dvFile struct {
	done chan struct{}
	data []byte // nil: not cached (too big), read by range
	err  error
}

func newDVLoader(f *fetcher) *dvLoader { return &dvLoader{fetch: f, files: map[string]*dvFile{}} }

// load returns the deleted rows of file f (nil when it has no deletion vector).
func (l *dvLoader) load(ctx context.Context, key string, f *protocol.File) (*delta.DeletedRows, error) {
	dv := f.DeletionVector
	if dv == nil || dv.Cardinality == 0 {
		return nil, nil
	}
	var payload []byte
	var err error
	switch dv.StorageType {
	case "i":
		payload, err = delta.InlineDeletionVector(dv)
	case "p":
		payload, err = l.fromFile(ctx, key, f)
	case "u":
		return nil, fmt.Errorf("deletion vector of storage type u (a path relative to the table) cannot be read over Delta Sharing; the server must send it as a URL (storage type p)")
	default:
		return nil, fmt.Errorf("unknown deletion vector storage type %q (want i or p)", dv.StorageType)
	}
	if err != nil {
		return nil, err
	}
	rows, err := delta.ParseRoaringBitmapArray(payload)
	if err != nil {
		return nil, err
	}
	if int64(rows.Cardinality()) != dv.Cardinality {
		return nil, fmt.Errorf("deletion vector holds %d rows, its descriptor says %d", rows.Cardinality(), dv.Cardinality)
	}
	return rows, nil
}

// dvFileKey identifies a deletion vector file across URL refreshes.
func dvFileKey(f *protocol.File) string {
	if f.DeletionVectorFileID != "" {
		return "id:" + f.DeletionVectorFileID
	}
	u, err := url.Parse(f.DeletionVector.PathOrInlineDV)
	if err != nil {
		return "url:" + redact.URL(f.DeletionVector.PathOrInlineDV)
	}
	return "url:" + u.Scheme + "://" + u.Host + u.Path
}

func (l *dvLoader) fromFile(ctx context.Context, key string, f *protocol.File) ([]byte, error) {
	dv := f.DeletionVector
	fk := dvFileKey(f)
	l.mu.Lock()
	e, ok := l.files[fk]
	if !ok {
		e = &dvFile{done: make(chan struct{})}
		l.files[fk] = e
		l.mu.Unlock()
		e.data, e.err = l.fetchWhole(ctx, key)
		if e.err == nil && e.data != nil {
			l.mu.Lock()
			if l.bytes+int64(len(e.data)) > dvCacheLimit {
				e.data = nil
			} else {
				l.bytes += int64(len(e.data))
			}
			l.mu.Unlock()
		}
		if e.err != nil {
			// Do not cache failures: a later file may succeed after a URL refresh.
			l.mu.Lock()
			delete(l.files, fk)
			l.mu.Unlock()
		}
		close(e.done)
	} else {
		l.mu.Unlock()
		select {
		case <-e.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if e.err != nil {
		return nil, e.err
	}
	if e.data != nil {
		return delta.DeletionVectorData(e.data, 0, dv)
	}
	// Too big to keep: read this vector's bytes only.
	off := int64(0)
	if dv.Offset != nil {
		off = int64(*dv.Offset)
	}
	length := 4 + int64(dv.SizeInBytes) + 4
	var buf []byte
	err := l.fetch.load(ctx, key, resDV, off, length, func(body io.Reader, size int64) error {
		b, err := readExactly(body, length)
		buf = b
		return err
	})
	if err != nil {
		return nil, err
	}
	return delta.DeletionVectorData(buf, off, dv)
}

var errDVTooBig = errors.New("deletion vector file too big to cache")

// fetchWhole fetches a whole deletion vector file, or returns nil data when it is bigger than
// dvWholeFileMax.
func (l *dvLoader) fetchWhole(ctx context.Context, key string) ([]byte, error) {
	var data []byte
	err := l.fetch.load(ctx, key, resDV, 0, -1, func(body io.Reader, size int64) error {
		if size > dvWholeFileMax {
			return errDVTooBig
		}
		b, err := readAllLimited(body, size, dvWholeFileMax)
		data = b
		return err
	})
	if errors.Is(err, errDVTooBig) {
		return nil, nil
	}
	return data, err
}

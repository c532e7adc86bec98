package reader

import (
	"bufio"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"os"
	"slices"
	"sync"

	"github.com/deltashare/deltashare/sharing/delta"
	"github.com/deltashare/deltashare/sharing/protocol"
)

// fileList holds the file actions of a read on disk: a temporary file of their records (see
// filerecord.go), with only the records' offsets and the hashes of the files' keys in memory
// (about 24 bytes a file), so that a table of millions of files costs tens of megabytes, not
// gigabytes. Files are read back by index (in read order) or by key (for URL refreshes); a
// URL refresh appends the files' new records and moves their offsets.
type fileList struct {
	changes bool
	shard   func(fileID string) bool

	f    backing
	name string        // of the temporary file; "" when unlinked or in memory
	w    *bufio.Writer // while adding
	rec  []byte        // add's record buffer
	end  int64         // size of f

	mu     sync.Mutex // offs and lens after seal (a refresh moves them)
	offs   []int64
	lens   []uint32
	hashes []uint64 // by index: hash of the file's key
	byHash []int32  // indexes sorted by hash (after seal)

	bytes        int64  // sum of the sizes
	rows         int64  // live rows the statistics announce; -1: a file has none
	firstVersion *int64 // the version of the response's first file, when it has one
	received     int    // files added, the shard's included
}

// backing holds a fileList's records: a temporary file, or memory when none can be created.
type backing interface {
	io.ReaderAt
	io.WriterAt
	Truncate(size int64) error
	Close() error
}

// newFileList makes an empty list in a temporary file of dir (os.TempDir() when ""); when
// none can be created (a read-only file system) it keeps the records in memory and logs why.
func newFileList(dir string, changes bool, shard func(string) bool, log *slog.Logger) (*fileList, error) {
	l := &fileList{changes: changes, shard: shard}
	f, err := os.CreateTemp(dir, ".deltashare-files-*")
	if err != nil {
		if log != nil {
			log.Warn("no temporary file for the query's file list: keeping it in memory", "error", err.Error())
		}
		l.f = &memBacking{}
	} else {
		l.f = f
		// Where the system allows it (not on Windows) the file is unlinked at once: it stays
		// readable through f and is gone when f is closed, even after a crash.
		if os.Remove(f.Name()) != nil {
			l.name = f.Name()
		}
	}
	if err := l.reset(); err != nil {
		l.close()
		return nil, err
	}
	return l, nil
}

// memBacking is a backing in memory.
type memBacking struct {
	mu  sync.RWMutex
	buf []byte
}

func (m *memBacking) ReadAt(p []byte, off int64) (int, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if off >= int64(len(m.buf)) {
		return 0, io.EOF
	}
	n := copy(p, m.buf[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (m *memBacking) WriteAt(p []byte, off int64) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if end := off + int64(len(p)); end > int64(len(m.buf)) {
		m.buf = append(m.buf, make([]byte, end-int64(len(m.buf)))...)
	}
	return copy(m.buf[off:], p), nil
}

func (m *memBacking) Truncate(size int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.buf = m.buf[:min(size, int64(len(m.buf)))]
	return nil
}

func (m *memBacking) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.buf = nil
	return nil
}

// reset drops what was added (a query started over).
func (l *fileList) reset() error {
	l.offs, l.lens, l.hashes, l.byHash = l.offs[:0], l.lens[:0], l.hashes[:0], nil
	l.bytes, l.rows, l.firstVersion, l.end, l.received = 0, 0, nil, 0, 0
	if err := l.f.Truncate(0); err != nil {
		return fmt.Errorf("sharing: the temporary file of the file list: %w", err)
	}
	l.w = bufio.NewWriterSize(io.NewOffsetWriter(l.f, 0), 64<<10)
	return nil
}

// close removes the temporary file.
func (l *fileList) close() {
	if l == nil || l.f == nil {
		return
	}
	l.f.Close()
	if l.name != "" {
		os.Remove(l.name)
	}
	l.mu.Lock()
	l.f = nil
	l.mu.Unlock()
}

func keyHash(key string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(key))
	return h.Sum64()
}

// add appends a file of the response (files the shard leaves out are skipped).
func (l *fileList) add(f protocol.File) error {
	if l.received == 0 && f.Version != nil {
		v := *f.Version
		l.firstVersion = &v
	}
	l.received++
	if l.shard != nil && !l.shard(f.ID) {
		return nil
	}
	b, err := appendFileRecord(l.rec[:0], f)
	if err != nil {
		return err
	}
	l.rec = b
	if _, err := l.w.Write(b); err != nil {
		return fmt.Errorf("sharing: writing the file list to a temporary file: %w", err)
	}
	l.offs = append(l.offs, l.end)
	l.lens = append(l.lens, uint32(len(b)))
	l.hashes = append(l.hashes, keyHash(fileKey(f, l.changes)))
	l.end += int64(len(b))
	l.bytes += f.Size
	if l.rows >= 0 {
		if n, ok := delta.LiveRows(f.Stats, f.DeletionVector); ok {
			l.rows += n
		} else {
			l.rows = -1
		}
	}
	return nil
}

// seal ends the adding: it flushes the records and checks that no file is listed twice.
func (l *fileList) seal() error {
	if err := l.w.Flush(); err != nil {
		return fmt.Errorf("sharing: writing the file list to a temporary file: %w", err)
	}
	l.w = nil
	l.byHash = make([]int32, len(l.hashes))
	for i := range l.byHash {
		l.byHash[i] = int32(i)
	}
	slices.SortFunc(l.byHash, func(a, b int32) int {
		if c := cmpU64(l.hashes[a], l.hashes[b]); c != 0 {
			return c
		}
		return int(a - b)
	})
	for j := 1; j < len(l.byHash); j++ {
		a, b := l.byHash[j-1], l.byHash[j]
		if l.hashes[a] != l.hashes[b] {
			continue
		}
		// Equal hashes: the same key, or (rarely) a collision.
		for k := j - 1; k >= 0 && l.hashes[l.byHash[k]] == l.hashes[b]; k-- {
			fa, err := l.get(int(l.byHash[k]))
			if err != nil {
				return err
			}
			fb, err := l.get(int(b))
			if err != nil {
				return err
			}
			if ka := fileKey(fa, l.changes); ka == fileKey(fb, l.changes) {
				return fmt.Errorf("sharing: %w: the response lists file %s twice", protocol.ErrProtocol, ka)
			}
		}
	}
	return nil
}

func cmpU64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (l *fileList) len() int { return len(l.offs) }

// get reads file i back.
func (l *fileList) get(i int) (protocol.File, error) {
	l.mu.Lock()
	off, n, f := l.offs[i], l.lens[i], l.f
	l.mu.Unlock()
	if f == nil {
		return protocol.File{}, errors.New("sharing: the read was released: its file list is gone")
	}
	buf := make([]byte, n)
	if _, err := f.ReadAt(buf, off); err != nil {
		return protocol.File{}, fmt.Errorf("sharing: reading the file list back from its temporary file: %w", err)
	}
	file, err := readFileRecord(buf)
	if err != nil {
		return protocol.File{}, fmt.Errorf("sharing: reading the file list back from its temporary file: %w", err)
	}
	return file, nil
}

// index returns the index of the file of key (-1: not part of the read).
func (l *fileList) index(key string) (int, protocol.File, error) {
	h := keyHash(key)
	j, _ := slices.BinarySearchFunc(l.byHash, h, func(i int32, h uint64) int { return cmpU64(l.hashes[i], h) })
	for ; j < len(l.byHash) && l.hashes[l.byHash[j]] == h; j++ {
		f, err := l.get(int(l.byHash[j]))
		if err != nil {
			return -1, protocol.File{}, err
		}
		if fileKey(f, l.changes) == key {
			return int(l.byHash[j]), f, nil
		}
	}
	return -1, protocol.File{}, nil
}

// lookup is the fileSource of a urlSet.
func (l *fileList) lookup(key string) (protocol.File, bool, error) {
	i, f, err := l.index(key)
	return f, i >= 0, err
}

// replace stores the new URLs of a refresh for the files from index from on (those before it
// are read already): their records are appended and their offsets moved.
func (l *fileList) replace(from int, each func(fn func(key string, f protocol.File) error) error) error {
	type moved struct {
		i   int
		off int64
		n   uint32
	}
	var ms []moved
	end := l.end
	w := bufio.NewWriterSize(io.NewOffsetWriter(l.f, end), 64<<10)
	err := each(func(key string, f protocol.File) error {
		i, _, err := l.index(key)
		if err != nil || i < from {
			return err
		}
		b, err := appendFileRecord(nil, f)
		if err != nil {
			return err
		}
		if _, err := w.Write(b); err != nil {
			return fmt.Errorf("sharing: writing refreshed URLs to the file list's temporary file: %w", err)
		}
		ms = append(ms, moved{i, end, uint32(len(b))})
		end += int64(len(b))
		return nil
	})
	if err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("sharing: writing refreshed URLs to the file list's temporary file: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, m := range ms {
		l.offs[m.i], l.lens[m.i] = m.off, m.n
	}
	l.end = end
	return nil
}

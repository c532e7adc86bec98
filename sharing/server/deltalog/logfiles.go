package deltalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

const logDir = "_delta_log"

// checkpoint is one complete checkpoint of a version: a single file, all parts of a multi-part
// checkpoint, or a V2 checkpoint's top-level file.
type checkpoint struct {
	version int64
	kind    string     // "single", "multi", "v2"
	files   []FileInfo // parts in order (one file unless multi)
}

// logListing is what a listing of _delta_log tells about a table.
type logListing struct {
	commits     map[int64]FileInfo
	checkpoints map[int64][]checkpoint // complete checkpoints per version
	minCommit   int64                  // -1 when there is no commit
	maxCommit   int64
	// contigFrom: every commit from contigFrom to maxCommit exists (set by list; a listing
	// built otherwise has contigOK false and checks commit by commit).
	contigFrom int64
	contigOK   bool

	dirMod   time.Time // modification time of _delta_log seen just before listing (zero: unknown)
	listedAt time.Time // when the listing began
	vers     versionsOnce

	tlMu   sync.Mutex
	tl     *timelineData // computed on first use
	prevTL *timelineData // the previous listing's, to continue from
}

// latest returns the newest version the log can give: the newest commit or checkpoint.
func (l *logListing) latest() int64 {
	v := l.maxCommit
	for cv := range l.checkpoints {
		if cv > v {
			v = cv
		}
	}
	return v
}

// parseLogName classifies a file name in _delta_log.
// kind: "commit", "checkpoint" (single), "part" (multi: part, parts), "v2"; ok false otherwise.
func parseLogName(name string) (version int64, kind string, part, parts int, ok bool) {
	if len(name) < 21 || name[20] != '.' {
		return 0, "", 0, 0, false
	}
	v, err := strconv.ParseInt(name[:20], 10, 64)
	if err != nil || v < 0 {
		return 0, "", 0, 0, false
	}
	rest := name[21:]
	switch {
	case rest == "json":
		return v, "commit", 0, 0, true
	case rest == "checkpoint.parquet":
		return v, "checkpoint", 0, 0, true
	case strings.HasPrefix(rest, "checkpoint."):
		mid := strings.TrimPrefix(rest, "checkpoint.")
		fields := strings.Split(mid, ".")
		// multi-part: <k>.<m>.parquet with 10-digit numbers
		if len(fields) == 3 && fields[2] == "parquet" && len(fields[0]) == 10 && len(fields[1]) == 10 {
			k, err1 := strconv.Atoi(fields[0])
			m, err2 := strconv.Atoi(fields[1])
			if err1 == nil && err2 == nil && k >= 1 && m >= 1 && k <= m {
				return v, "part", k, m, true
			}
			return 0, "", 0, 0, false
		}
		// V2: <uuid>.json or <uuid>.parquet
		if len(fields) == 2 && (fields[1] == "json" || fields[1] == "parquet") && len(fields[0]) == 36 {
			return v, "v2", 0, 0, true
		}
	}
	return 0, "", 0, 0, false
}

// list reads the _delta_log directory.
func list(ctx context.Context, s Storage) (*logListing, error) {
	entries, err := s.List(ctx, logDir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w: no _delta_log directory (is this the root of a Delta table?)", ErrNotDeltaTable)
		}
		return nil, fmt.Errorf("deltalog: listing _delta_log: %w", err)
	}
	l := &logListing{commits: map[int64]FileInfo{}, checkpoints: map[int64][]checkpoint{}, minCommit: -1, maxCommit: -1}
	type multiKey struct {
		v int64
		m int
	}
	multi := map[multiKey][]FileInfo{}
	for _, e := range entries {
		if e.IsDir {
			continue
		}
		v, kind, k, m, ok := parseLogName(e.Name)
		if !ok {
			continue
		}
		switch kind {
		case "commit":
			l.commits[v] = e
			if l.minCommit < 0 || v < l.minCommit {
				l.minCommit = v
			}
			if v > l.maxCommit {
				l.maxCommit = v
			}
		case "checkpoint":
			l.checkpoints[v] = append(l.checkpoints[v], checkpoint{version: v, kind: "single", files: []FileInfo{e}})
		case "v2":
			l.checkpoints[v] = append(l.checkpoints[v], checkpoint{version: v, kind: "v2", files: []FileInfo{e}})
		case "part":
			key := multiKey{v, m}
			if multi[key] == nil {
				multi[key] = make([]FileInfo, m)
			}
			multi[key][k-1] = e
		}
	}
	for key, parts := range multi {
		complete := true
		for _, p := range parts {
			if p.Name == "" {
				complete = false
				break
			}
		}
		if complete {
			l.checkpoints[key.v] = append(l.checkpoints[key.v], checkpoint{version: key.v, kind: "multi", files: parts})
		}
	}
	if l.maxCommit >= 0 {
		l.contigFrom = l.maxCommit
		for l.contigFrom > 0 {
			if _, ok := l.commits[l.contigFrom-1]; !ok {
				break
			}
			l.contigFrom--
		}
		l.contigOK = true
	}
	// Deterministic preference: V2, then single, then multi-part; ties by name.
	rank := map[string]int{"v2": 0, "single": 1, "multi": 2}
	for _, cps := range l.checkpoints {
		sort.Slice(cps, func(i, j int) bool {
			if rank[cps[i].kind] != rank[cps[j].kind] {
				return rank[cps[i].kind] < rank[cps[j].kind]
			}
			return cps[i].files[0].Name < cps[j].files[0].Name
		})
	}
	return l, nil
}

// lastCheckpoint is the `_last_checkpoint` file (only the fields this package uses).
type lastCheckpoint struct {
	Version      int64 `json:"version"`
	Parts        *int  `json:"parts,omitempty"`
	V2Checkpoint *struct {
		Path string `json:"path"`
	} `json:"v2Checkpoint,omitempty"`
}

// readLastCheckpoint reads _delta_log/_last_checkpoint; a missing or unreadable file gives nil
// (the hint is optional and the listing is authoritative).
func readLastCheckpoint(ctx context.Context, s Storage) *lastCheckpoint {
	b, err := readAll(ctx, s, logDir+"/_last_checkpoint")
	if err != nil {
		return nil
	}
	var lc lastCheckpoint
	if err := json.Unmarshal(b, &lc); err != nil || lc.Version < 0 {
		return nil
	}
	return &lc
}

// matches reports whether the checkpoint is the one _last_checkpoint describes.
func (lc *lastCheckpoint) matches(cp checkpoint) bool {
	if lc == nil || lc.Version != cp.version {
		return false
	}
	switch {
	case lc.V2Checkpoint != nil:
		return cp.kind == "v2" && cp.files[0].Name == lc.V2Checkpoint.Path
	case lc.Parts != nil && *lc.Parts > 1:
		return cp.kind == "multi" && len(cp.files) == *lc.Parts
	default:
		return cp.kind == "single" || cp.kind == "v2"
	}
}

func readAll(ctx context.Context, s Storage, name string) ([]byte, error) {
	f, err := s.Open(ctx, name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.NewSectionReader(f, 0, f.Size()))
}

func commitName(v int64) string { return fmt.Sprintf("%s/%020d.json", logDir, v) }

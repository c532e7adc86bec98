package lake

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"

	"github.com/deltashare/deltashare/sharing/delta"
)

// LogDir is the folder of the log, below the table root.
const LogDir = "_delta_log/"

// Store is where a table lives: names are slash-separated and relative to the table root.
type Store interface {
	// ReadObject returns the content of name; a missing object gives an error wrapping
	// fs.ErrNotExist.
	ReadObject(ctx context.Context, name string) ([]byte, error)
	// List returns the names of the objects whose names start with prefix, sorted.
	List(ctx context.Context, prefix string) ([]string, error)
	// CreateExclusive writes data under name unless an object is already there, atomically,
	// and reports whether it wrote.
	CreateExclusive(ctx context.Context, name string, data []byte) (bool, error)
	// Put writes data under name, replacing what is there, atomically.
	Put(ctx context.Context, name string, data []byte) error
	// Remove deletes name; a missing object is not an error.
	Remove(ctx context.Context, name string) error
}

// CommitName is the name of the JSON commit of version v.
func CommitName(v int64) string { return fmt.Sprintf("%s%020d.json", LogDir, v) }

// CheckpointName is the name of the single-file checkpoint of version v.
func CheckpointName(v int64) string { return fmt.Sprintf("%s%020d.checkpoint.parquet", LogDir, v) }

// LastCheckpointName is the name of the file that points readers at the latest checkpoint.
const LastCheckpointName = LogDir + "_last_checkpoint"

// Encode returns the commit file of actions: one JSON object a line.
func Encode(actions []delta.Action) ([]byte, error) {
	var b bytes.Buffer
	for _, a := range actions {
		line, err := json.Marshal(a)
		if err != nil {
			return nil, fmt.Errorf("lake: encode action: %w", err)
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	return b.Bytes(), nil
}

// ErrConflict is returned by Commit when another writer created the version first.
var ErrConflict = errors.New("lake: another writer committed this version first")

// Commit creates the commit of version v put-if-absent. When the version exists already, it
// returns ErrConflict and writes nothing.
func Commit(ctx context.Context, s Store, v int64, actions []delta.Action) error {
	data, err := Encode(actions)
	if err != nil {
		return err
	}
	ok, err := s.CreateExclusive(ctx, CommitName(v), data)
	if err != nil {
		return fmt.Errorf("lake: write commit %d: %w", v, err)
	}
	if !ok {
		return fmt.Errorf("%w (version %d)", ErrConflict, v)
	}
	return nil
}

// Snapshot is a table replayed from its log.
type Snapshot struct {
	Version    int64 // latest version; -1 when the table has no commit
	Protocol   *delta.Protocol
	Metadata   *delta.Metadata
	Files      map[string]*delta.Add    // live files by path
	Tombstones map[string]*delta.Remove // removed files by path (until vacuumed)
	Txns       map[string]delta.Txn     // by appId
	// Checkpoint is the version of the checkpoint the replay started from (-1: none).
	Checkpoint int64
}

// newSnapshot is an empty snapshot of version v replayed from the checkpoint of version
// checkpoint (-1: none).
func newSnapshot(v, checkpoint int64) *Snapshot {
	return &Snapshot{Version: v, Files: map[string]*delta.Add{}, Tombstones: map[string]*delta.Remove{}, Txns: map[string]delta.Txn{}, Checkpoint: checkpoint}
}

// SortedFiles returns the live files sorted by path.
func (s *Snapshot) SortedFiles() []*delta.Add {
	out := make([]*delta.Add, 0, len(s.Files))
	for _, f := range s.Files {
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// Referenced reports whether the log (live files or tombstones) names the data file path.
func (s *Snapshot) Referenced(path string) bool {
	if s == nil {
		return false
	}
	_, live := s.Files[path]
	_, gone := s.Tombstones[path]
	return live || gone
}

// Apply applies one action to the snapshot (actions it does not track are ignored).
func (s *Snapshot) Apply(a *delta.Action) {
	switch {
	case a.Protocol != nil:
		s.Protocol = a.Protocol
	case a.MetaData != nil:
		s.Metadata = a.MetaData
	case a.Txn != nil:
		s.Txns[a.Txn.AppID] = *a.Txn
	case a.Add != nil:
		p := decodePath(a.Add.Path)
		s.Files[p] = a.Add
		delete(s.Tombstones, p)
	case a.Remove != nil:
		p := decodePath(a.Remove.Path)
		delete(s.Files, p)
		s.Tombstones[p] = a.Remove
	}
}

// decodePath is the path as a name in the store (log paths are URI-encoded; ours need none,
// but a path written by another writer may be).
func decodePath(p string) string {
	if !strings.Contains(p, "%") {
		return p
	}
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		if p[i] == '%' && i+2 < len(p) {
			if n, err := strconv.ParseUint(p[i+1:i+3], 16, 8); err == nil {
				b.WriteByte(byte(n))
				i += 2
				continue
			}
		}
		b.WriteByte(p[i])
	}
	return b.String()
}

// Read replays the table's log: the newest checkpoint (found through _last_checkpoint or the
// listing) and the commits after it. A table without any commit gives a Snapshot at version -1
// and no error.
func Read(ctx context.Context, s Store) (*Snapshot, error) {
	names, err := s.List(ctx, LogDir)
	if err != nil {
		return nil, err
	}
	commits := map[int64]bool{}
	var checkpoints []int64
	for _, n := range names {
		base := strings.TrimPrefix(n, LogDir)
		if strings.Contains(base, "/") {
			continue
		}
		if v, ok := strings.CutSuffix(base, ".json"); ok && len(v) == 20 {
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				commits[n] = true
			}
		}
		if v, ok := strings.CutSuffix(base, ".checkpoint.parquet"); ok && len(v) == 20 {
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				checkpoints = append(checkpoints, n)
			}
		}
	}
	snap := newSnapshot(-1, -1)
	latest := int64(-1)
	for v := range commits {
		latest = max(latest, v)
	}
	for _, c := range checkpoints {
		latest = max(latest, c)
	}
	if latest < 0 {
		return snap, nil
	}
	sort.Slice(checkpoints, func(i, j int) bool { return checkpoints[i] > checkpoints[j] })
	from := int64(0)
	for _, c := range checkpoints {
		cs, err := readCheckpoint(ctx, s, c)
		if err != nil {
			continue // a damaged checkpoint: an older one or the commits will do
		}
		snap, from = cs, c+1
		break
	}
	for v := from; v <= latest; v++ {
		if !commits[v] {
			return nil, fmt.Errorf("lake: the log of the table misses the commit of version %d (versions %d to %d are needed)", v, from, latest)
		}
		acts, err := ReadCommit(ctx, s, v)
		if err != nil {
			return nil, err
		}
		for i := range acts {
			snap.Apply(&acts[i])
		}
		snap.Version = v
	}
	snap.Version = latest
	if snap.Protocol == nil || snap.Metadata == nil {
		return nil, fmt.Errorf("lake: the log of the table has no protocol or metaData action: it is not a complete Delta table")
	}
	return snap, nil
}

// ReadCommit reads the actions of the commit of version v. Actions this package does not
// know are skipped.
func ReadCommit(ctx context.Context, s Store, v int64) ([]delta.Action, error) {
	data, err := s.ReadObject(ctx, CommitName(v))
	if err != nil {
		return nil, err
	}
	var out []delta.Action
	for _, line := range bytes.Split(data, []byte{'\n'}) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		a, err := delta.ParseAction(line)
		if err != nil {
			return nil, fmt.Errorf("lake: commit %d: %w", v, err)
		}
		out = append(out, *a)
	}
	return out, nil
}

// Exists reports whether the store holds a Delta log.
func Exists(ctx context.Context, s Store) (bool, error) {
	names, err := s.List(ctx, LogDir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	return len(names) > 0, nil
}

package export

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
)

// Shard selects a deterministic, disjoint share of a table's data files, so that N workers can
// split one table: worker I of N reads the files whose id hashes to I (FNV-1a, 64 bits, of the
// file id, modulo N). The N shares are disjoint and together cover every file.
//
// This is deterministic only as long as the server gives a file the same id in every response
// and to every worker. Delta Sharing servers do in practice (ours derives the id from the table
// id and the file's path); a server that made up new ids per query would make shards overlap or
// miss files.
//
// The zero Shard (Count 0) is "no sharding": Contains is always true and the names carry no
// shard tag.
type Shard struct {
	Index int // 0 <= Index < Count
	Count int // number of shards; 0 means no sharding
}

// ParseShard parses "I/N" (0 <= I < N). An empty string is the zero Shard.
func ParseShard(s string) (Shard, error) {
	if s == "" {
		return Shard{}, nil
	}
	i, n, ok := strings.Cut(s, "/")
	idx, err1 := strconv.Atoi(strings.TrimSpace(i))
	cnt, err2 := strconv.Atoi(strings.TrimSpace(n))
	if !ok || err1 != nil || err2 != nil {
		return Shard{}, fmt.Errorf("shard %q: write it as I/N, for example 0/4 for the first of four workers", s)
	}
	if cnt < 1 || cnt > 1<<20 || idx < 0 || idx >= cnt {
		return Shard{}, fmt.Errorf("shard %q: give 0 <= I < N (I counts from 0, as JOB_COMPLETION_INDEX does)", s)
	}
	return Shard{Index: idx, Count: cnt}, nil
}

// IsZero reports whether s is "no sharding".
func (s Shard) IsZero() bool { return s.Count == 0 }

// String returns "I/N", or "" for no sharding.
func (s Shard) String() string {
	if s.IsZero() {
		return ""
	}
	return fmt.Sprintf("%d/%d", s.Index, s.Count)
}

// Contains reports whether the file with this id belongs to the shard.
func (s Shard) Contains(fileID string) bool {
	if s.Count <= 1 {
		return true
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte(fileID))
	return h.Sum64()%uint64(s.Count) == uint64(s.Index)
}

// Filter returns Contains as a function (for sharing.ReadOptions.Shard), or nil for no sharding.
func (s Shard) Filter() func(fileID string) bool {
	if s.IsZero() {
		return nil
	}
	return s.Contains
}

// Tag returns "shard-I-of-N", or "" for no sharding.
func (s Shard) Tag() string {
	if s.IsZero() {
		return ""
	}
	return fmt.Sprintf("shard-%d-of-%d", s.Index, s.Count)
}

// PartPrefix is the part file prefix of the shard: DefaultPartPrefix, or "part-shard-I-of-N"
// so that the workers of one table can write to the same directory without colliding.
func (s Shard) PartPrefix() string {
	if s.IsZero() {
		return DefaultPartPrefix
	}
	return DefaultPartPrefix + "-" + s.Tag()
}

// StateName is the name of the sync state object of the shard at the destination root:
// "_deltashare_state.json", or "_deltashare_state.shard-I-of-N.json".
func (s Shard) StateName() string { return s.stateBase() + ".json" }

// LockName is the name of the lock object that guards the shard's state.
func (s Shard) LockName() string { return s.stateBase() + ".lock" }

func (s Shard) stateBase() string {
	if s.IsZero() {
		return "_deltashare_state"
	}
	return "_deltashare_state." + s.Tag()
}

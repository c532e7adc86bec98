package deltalog

import (
	"context"
	"errors"
	"io/fs"
	"maps"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/deltashare/deltashare/sharing/delta"
)

// StatStorage is a Storage that can describe one entry without listing its directory. With it a
// Table keeps its listing of `_delta_log` between calls and re-lists only when the directory
// changed (see Table.list); without it every call lists.
type StatStorage interface {
	Storage
	// Stat describes the file or directory name; a missing one gives an error wrapping
	// fs.ErrNotExist.
	Stat(ctx context.Context, name string) (FileInfo, error)
}

// Cache bounds. A Table keeps at most maxCachedStates replayed states, together holding at most
// maxCachedFiles live-file entries (the newest state built is kept even when it alone is larger).
// A replay that passes a version that is a multiple of replayStride keeps the state there too,
// so a later request for an older version replays at most replayStride-1 commits from one.
const (
	maxCachedStates = 256
	maxCachedFiles  = 1 << 19
	replayStride    = 16
	// A replay keeps a state at a stride version only when it is small enough for
	// strideStatesMin of them to fit in maxCachedFiles (copying a large state every few commits
	// would cost more than the commits; large tables have checkpoints).
	strideStatesMin = 64
	// Parsed commits are kept up to this many bytes of commit files (and maxCachedCommits).
	maxCachedCommitBytes = 4 << 20
	maxCachedCommits     = 4096
	// listingSettle: a cached listing is reused only when `_delta_log` had not changed for this
	// long before it was taken. File systems stamp directories with a coarse clock, so two
	// changes a few milliseconds apart can leave the same modification time; a directory quiet
	// for a second before the listing cannot have changed since without a new time.
	listingSettle = time.Second
)

// list returns the listing of `_delta_log`: the cached one when the storage can show that the
// directory has not changed since (same modification time, quiet for listingSettle before the
// listing, no commit after the newest one listed and that one unchanged), else a fresh one.
func (t *Table) list(ctx context.Context) (*logListing, error) {
	ss, canStat := t.s.(StatStorage)
	var dirMod time.Time
	if canStat {
		if fi, err := ss.Stat(ctx, logDir); err == nil {
			dirMod = fi.ModTime
			t.mu.Lock()
			cur := t.listing
			t.mu.Unlock()
			if cur != nil && !dirMod.IsZero() && cur.dirMod.Equal(dirMod) && cur.listedAt.Sub(dirMod) > listingSettle &&
				cur.unchanged(ctx, ss) {
				return cur, nil
			}
		}
	}
	listedAt := time.Now()
	l, err := list(ctx, t.s)
	if err != nil {
		return nil, err
	}
	t.listings.Add(1)
	l.dirMod, l.listedAt = dirMod, listedAt
	// The previous listing's timeline is read without t.mu (timelineOf takes t.mu under the
	// listing's lock).
	t.mu.Lock()
	prev := t.listing
	t.mu.Unlock()
	var prevTL *timelineData
	if prev != nil {
		prevTL = prev.computedTimeline()
	}
	t.mu.Lock()
	if t.listing != prev {
		prevTL = nil
	}
	t.adopt(l, prevTL)
	t.mu.Unlock()
	return l, nil
}

// unchanged checks what the directory's time cannot show: no commit after the newest one
// listed, and the newest commit listed still the same file (not a table replaced by another
// with the same directory time).
func (l *logListing) unchanged(ctx context.Context, ss StatStorage) bool {
	if _, err := ss.Stat(ctx, commitName(l.latest()+1)); !errors.Is(err, fs.ErrNotExist) {
		return false
	}
	if l.maxCommit < 0 {
		return true
	}
	was := l.commits[l.maxCommit]
	fi, err := ss.Stat(ctx, commitName(l.maxCommit))
	return err == nil && fi.Size == was.Size && fi.ModTime.Equal(was.ModTime)
}

// adopt makes l the current listing (t.mu held). When the log went backwards (the newest
// version is older than before, or the newest commit seen before was rewritten) the table was
// replaced: every cached state and timestamp is dropped. Otherwise the new listing continues
// the timeline computed on the previous one.
func (t *Table) adopt(l *logListing, prevTL *timelineData) {
	prev := t.listing
	if prev != nil {
		replaced := l.latest() < prev.latest()
		if old, ok := prev.commits[prev.maxCommit]; ok && !replaced {
			if now, ok := l.commits[prev.maxCommit]; ok && (now.Size != old.Size || !now.ModTime.Equal(old.ModTime)) {
				replaced = true
			}
		}
		if replaced {
			t.states = stateCache{}
			t.rawTS = map[int64]rawTime{}
			t.commits = commitCache{}
			t.metas = stateCache{}
		} else {
			l.prevTL = prevTL
		}
	}
	t.listing = l
}

// forgetListing drops the cached listing, so the next call lists again (a file it named is gone).
func (t *Table) forgetListing() {
	t.mu.Lock()
	t.listing = nil
	t.mu.Unlock()
}

// timelineData is every readable version of a listing with its commit timestamp (ms), strictly
// increasing.
type timelineData struct {
	earliest int64
	vs, ts   []int64
}

func (l *logListing) computedTimeline() *timelineData {
	l.tlMu.Lock()
	defer l.tlMu.Unlock()
	return l.tl
}

// timelineOf returns the timeline of l, computed once per listing and continued from the
// previous listing's when both start at the same version.
func (t *Table) timelineOf(ctx context.Context, l *logListing) (*timelineData, error) {
	l.tlMu.Lock()
	defer l.tlMu.Unlock()
	if l.tl != nil {
		return l.tl, nil
	}
	earliest := l.earliest()
	if earliest < 0 {
		return nil, wrapMsg{ErrVersionNotFound, ErrVersionNotFound.Error() + ": no version of the table can be reconstructed"}
	}
	vers := l.versions()
	i := sort.Search(len(vers), func(i int) bool { return vers[i] >= earliest })
	tl := &timelineData{earliest: earliest}
	prev := int64(-1 << 62)
	if p := l.prevTL; p != nil && p.earliest == earliest && len(p.vs) > 0 {
		k := sort.Search(len(vers), func(k int) bool { return vers[k] > p.vs[len(p.vs)-1] })
		if slices.Equal(vers[i:k], p.vs) {
			tl.vs, tl.ts = slices.Clone(p.vs), slices.Clone(p.ts)
			prev = p.ts[len(p.ts)-1]
			i = k
		}
	}
	for ; i < len(vers); i++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		v := vers[i]
		ms, err := t.rawTimestamp(ctx, l, v)
		if err != nil {
			return nil, err
		}
		if ms <= prev {
			ms = prev + 1
		}
		prev = ms
		tl.vs = append(tl.vs, v)
		tl.ts = append(tl.ts, ms)
	}
	l.tl = tl
	l.prevTL = nil
	return tl, nil
}

// upTo returns the prefix of the timeline up to version v (all of it when v < 0).
func (tl *timelineData) upTo(v int64) ([]int64, []int64) {
	if v < 0 {
		return tl.vs, tl.ts
	}
	n := sort.Search(len(tl.vs), func(i int) bool { return tl.vs[i] > v })
	return tl.vs[:n], tl.ts[:n]
}

// at returns the timestamp of version v, ok false when v is not in the timeline.
func (tl *timelineData) at(v int64) (int64, bool) {
	i := sort.Search(len(tl.vs), func(i int) bool { return tl.vs[i] >= v })
	if i < len(tl.vs) && tl.vs[i] == v {
		return tl.ts[i], true
	}
	return 0, false
}

// stateCache is a table's replayed states by version, least recently used evicted first
// (states at stride versions only when no other state is left to evict).
type stateCache struct {
	byVersion map[int64]*cachedState
	clock     uint64
	files     int
}

type cachedState struct {
	st     *state
	used   uint64
	stride bool
}

// nearest returns the cached state of the newest version at or before v, or nil.
func (c *stateCache) nearest(v int64) *state {
	var best *cachedState
	for cv, e := range c.byVersion {
		if cv <= v && (best == nil || cv > best.st.version) {
			best = e
		}
	}
	if best == nil {
		return nil
	}
	c.clock++
	best.used = c.clock
	return best.st
}

// put caches st, which must not be modified afterwards, and evicts down to the bounds.
func (c *stateCache) put(st *state, stride bool) {
	if c.byVersion == nil {
		c.byVersion = map[int64]*cachedState{}
	}
	c.clock++
	if e, ok := c.byVersion[st.version]; ok {
		e.used = c.clock
		e.stride = e.stride || stride
		return
	}
	c.byVersion[st.version] = &cachedState{st: st, used: c.clock, stride: stride}
	c.files += len(st.files)
	for len(c.byVersion) > 1 && (len(c.byVersion) > maxCachedStates || c.files > maxCachedFiles) {
		var victim *cachedState
		for _, e := range c.byVersion {
			if e.st == st {
				continue
			}
			if victim == nil || (victim.stride && !e.stride) || (victim.stride == e.stride && e.used < victim.used) {
				victim = e
			}
		}
		delete(c.byVersion, victim.st.version)
		c.files -= len(victim.st.files)
	}
}

// newestCheckpoint returns the newest checkpoint version at or before v followed by all
// commits up to v, or -1.
func (l *logListing) newestCheckpoint(v int64) int64 {
	best := int64(-1)
	for cv := range l.checkpoints {
		if cv <= v && cv > best && l.hasCommits(cv+1, v) {
			best = cv
		}
	}
	return best
}

// usableBase reports whether replaying from the cached state base to version beats starting
// from the newest checkpoint: the state is at least as new as the checkpoint, or at most
// replayStride commits away.
func (l *logListing) usableBase(base *state, version int64) bool {
	if base == nil || !l.hasCommits(base.version+1, version) {
		return false
	}
	return base.version >= l.newestCheckpoint(version) || version-base.version <= replayStride
}

// stateAt returns the state of version with its live files: a cached one, else replayed from
// the nearest cached state or checkpoint and cached. The state is shared and must not be
// modified.
func (t *Table) stateAt(ctx context.Context, l *logListing, version int64) (*state, error) {
	t.mu.Lock()
	base := t.states.nearest(version)
	t.mu.Unlock()
	if base != nil && base.version == version {
		return base, nil
	}
	if !l.usableBase(base, version) {
		base = nil
	}
	st, err := t.buildState(ctx, l, version, true, base)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	t.states.put(st, version%replayStride == 0)
	t.mu.Unlock()
	return st, nil
}

// keepStride caches a copy of st, a replay passing a stride version, when it is small enough.
func (t *Table) keepStride(st *state) {
	if len(st.files) > maxCachedFiles/strideStatesMin {
		return
	}
	c := &state{version: st.version, protocol: st.protocol, metadata: st.metadata, files: maps.Clone(st.files)}
	t.mu.Lock()
	t.states.put(c, true)
	t.mu.Unlock()
}

// metaAt returns the protocol and metadata in effect at version (the state returned may have no
// files): from a cached state (full, or protocol and metadata only) and the commits after it,
// else the checkpoint's protocol and metadata and the commits after it, else (no checkpoint) a
// full replay that is cached. The result is cached as a protocol-and-metadata state.
func (t *Table) metaAt(ctx context.Context, l *logListing, version int64) (*state, error) {
	t.mu.Lock()
	base := t.states.nearest(version)
	if m := t.metas.nearest(version); m != nil && (base == nil || m.version > base.version) {
		base = m
	}
	t.mu.Unlock()
	if base != nil && base.version == version {
		return base, nil
	}
	st, err := t.replayMeta(ctx, l, base, version)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	t.metas.put(&state{version: st.version, protocol: st.protocol, metadata: st.metadata}, false)
	t.mu.Unlock()
	return st, nil
}

func (t *Table) replayMeta(ctx context.Context, l *logListing, base *state, version int64) (*state, error) {
	if l.usableBase(base, version) {
		st := &state{version: base.version, protocol: base.protocol, metadata: base.metadata}
		for v := base.version + 1; v <= version; v++ {
			acts, err := t.readCommit(ctx, l, v)
			if err != nil {
				return nil, err
			}
			for _, a := range acts {
				st.apply(a, false)
			}
		}
		st.version = version
		return st, nil
	}
	if l.newestCheckpoint(version) < 0 {
		return t.stateAt(ctx, l, version)
	}
	return t.buildState(ctx, l, version, false, nil)
}

// commitCache is a table's parsed commits by version, least recently used evicted first. An
// entry is used only while the listing shows the same file (size and modification time).
type commitCache struct {
	byVersion map[int64]*cachedCommit
	clock     uint64
	bytes     int64
}

type cachedCommit struct {
	acts []*delta.Action
	fi   FileInfo
	used uint64
}

func (c *commitCache) get(v int64, fi FileInfo) ([]*delta.Action, bool) {
	e, ok := c.byVersion[v]
	if !ok || fi.Name == "" || e.fi.Size != fi.Size || !e.fi.ModTime.Equal(fi.ModTime) {
		return nil, false
	}
	c.clock++
	e.used = c.clock
	return e.acts, true
}

// put caches the actions of commit v (read from the file fi); they must not be modified.
func (c *commitCache) put(v int64, fi FileInfo, acts []*delta.Action) {
	if fi.Size > maxCachedCommitBytes/16 {
		return
	}
	if c.byVersion == nil {
		c.byVersion = map[int64]*cachedCommit{}
	}
	c.clock++
	if old, ok := c.byVersion[v]; ok {
		c.bytes -= old.fi.Size
	}
	c.byVersion[v] = &cachedCommit{acts: acts, fi: fi, used: c.clock}
	c.bytes += fi.Size
	for len(c.byVersion) > maxCachedCommits || c.bytes > maxCachedCommitBytes {
		var victim int64 = -1
		var vu uint64
		for cv, e := range c.byVersion {
			if victim < 0 || e.used < vu {
				victim, vu = cv, e.used
			}
		}
		c.bytes -= c.byVersion[victim].fi.Size
		delete(c.byVersion, victim)
	}
}

// versionsOnce computes the ascending versions of a listing once.
type versionsOnce struct {
	once sync.Once
	vs   []int64
}

// Package deltalog reads local Delta Lake tables for our Delta Sharing server: it lists and
// parses the `_delta_log` (JSON commits, classic single- and multi-part checkpoints, V2
// checkpoints with sidecars, `_last_checkpoint`), replays it into snapshots of live files at any
// version, maps timestamps to versions, and extracts the change data of a version range.
//
// Storage is abstracted by the Storage interface so object stores can be added later;
// DirStorage serves a local directory. Parquet checkpoints are read column by column with
// parquet-go, looking columns up by name, so checkpoints written by Spark, delta-rs and
// delta-kernel (which differ in column order, optional columns such as deletionVector,
// stats versus stats_parsed, and integer widths) all read the same way.
//
// The listing of `_delta_log` is authoritative: a snapshot starts from the newest complete
// checkpoint at or before the version that is followed by all commits up to it (V2 preferred,
// then single-file, then multi-part; `_last_checkpoint`, when valid, picks among several
// checkpoints of that version), and an unreadable checkpoint falls back to an older one or to
// the JSON commits. Log compaction files are ignored.
//
// Commit timestamps are the in-commit timestamp when the commit carries one, else
// commitInfo.timestamp, else the commit file's modification time; like Delta's history
// manager, a timestamp that does not increase over the previous commit's is bumped to the
// previous one plus one millisecond, so timestamps are strictly increasing with versions.
//
// A Table is safe for concurrent use, and caches what it read so that a request costs what its
// range of versions costs, not what the table's history costs:
//
//   - the listing of `_delta_log`, re-used while the directory's modification time is unchanged
//     (and was a second old when listed), no commit after the newest listed exists and that one
//     is unchanged; otherwise (or when the storage cannot Stat, see StatStorage) every call
//     lists, so a new commit is always seen;
//   - the timeline (every version's commit timestamp), once per listing, continued from the
//     previous listing's;
//   - replayed states (live files, protocol, metadata) in an LRU bounded by count and by
//     live-file entries; a replay starts from the nearest cached state or checkpoint, and keeps
//     a state every 16 versions it passes, so an older version replays at most 15 commits;
//   - parsed commits (bounded by their file sizes), and commit timestamps.
//
// A listing that goes backwards (a table replaced under the same path) drops every cache.
package deltalog

package lake

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"

	"github.com/deltashare/deltashare/sharing/delta"
	"github.com/parquet-go/parquet-go"
)

// cpRow is a row of a checkpoint: one action a row, in the column layout of the Delta
// protocol's classic checkpoint (txn, add, remove, metaData, protocol), which the parquet tags of
// the action types give.
type cpRow struct {
	Txn      *delta.Txn      `parquet:"txn,optional"`
	Add      *cpAdd          `parquet:"add,optional"`
	Remove   *cpRemove       `parquet:"remove,optional"`
	MetaData *delta.Metadata `parquet:"metaData,optional"`
	Protocol *delta.Protocol `parquet:"protocol,optional"`
}

// cpAdd and cpRemove are file actions with their partition values as a checkpoint holds them:
// null where the action holds an empty string (the Parquet library writes no null map value
// of a Go string).
type cpAdd struct {
	delta.Add
	PartitionValues map[string]*string `parquet:"partitionValues"`
}

type cpRemove struct {
	delta.Remove
	PartitionValues map[string]*string `parquet:"partitionValues,optional"`
}

// cpReadRow is a checkpoint row as read back: the file actions without their partition values,
// which cpPartitionsRow reads (the Parquet library fills the optional fields of an embedded
// struct even when they are null, so cpAdd and cpRemove cannot be read back).
type cpReadRow struct {
	Txn      *delta.Txn      `parquet:"txn,optional"`
	Add      *delta.Add      `parquet:"add,optional"`
	Remove   *delta.Remove   `parquet:"remove,optional"`
	MetaData *delta.Metadata `parquet:"metaData,optional"`
	Protocol *delta.Protocol `parquet:"protocol,optional"`
}

type cpPartitionsRow struct {
	Add *struct {
		PartitionValues map[string]*string `parquet:"partitionValues"`
	} `parquet:"add,optional"`
	Remove *struct {
		PartitionValues map[string]*string `parquet:"partitionValues,optional"`
	} `parquet:"remove,optional"`
}

// readRows returns all rows of the Parquet file data as T.
func readRows[T any](data []byte) ([]T, error) {
	r := parquet.NewGenericReader[T](bytes.NewReader(data))
	defer r.Close()
	out := make([]T, r.NumRows())
	for n := 0; n < len(out); {
		m, err := r.Read(out[n:])
		n += m
		if err != nil && err != io.EOF {
			return nil, err
		}
		if n < len(out) && (err == io.EOF || m == 0) {
			return nil, fmt.Errorf("read %d of %d rows", n, len(out))
		}
	}
	return out, nil
}

func orEmpty(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// encodeCheckpoint returns the Parquet checkpoint of snap.
func encodeCheckpoint(snap *Snapshot) ([]byte, int64, error) {
	rows := []cpRow{{Protocol: snap.Protocol}, {MetaData: snap.Metadata}}
	for _, a := range slices.Sorted(maps.Keys(snap.Txns)) {
		t := snap.Txns[a]
		rows = append(rows, cpRow{Txn: &t})
	}
	for _, f := range snap.SortedFiles() {
		add := cpAdd{Add: *f, PartitionValues: f.PartitionValues.Nullable()}
		add.DataChange = false
		rows = append(rows, cpRow{Add: &add})
	}
	for _, p := range slices.Sorted(maps.Keys(snap.Tombstones)) {
		rm := cpRemove{Remove: *snap.Tombstones[p], PartitionValues: snap.Tombstones[p].PartitionValues.Nullable()}
		rm.DataChange = false
		rows = append(rows, cpRow{Remove: &rm})
	}
	var b bytes.Buffer
	w := parquet.NewGenericWriter[cpRow](&b, parquet.Compression(&parquet.Snappy))
	if _, err := w.Write(rows); err != nil {
		return nil, 0, fmt.Errorf("lake: encode checkpoint: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, 0, fmt.Errorf("lake: encode checkpoint: %w", err)
	}
	return b.Bytes(), int64(len(rows)), nil
}

// lastCheckpoint is the content of _last_checkpoint.
type lastCheckpoint struct {
	Version       int64 `json:"version"`
	Size          int64 `json:"size"`
	SizeInBytes   int64 `json:"sizeInBytes"`
	NumOfAddFiles int64 `json:"numOfAddFiles"`
}

// WriteCheckpoint writes the checkpoint of snap (at snap.Version) put-if-absent, then points
// _last_checkpoint at it. A checkpoint that exists already (another run wrote it) is left.
func WriteCheckpoint(ctx context.Context, s Store, snap *Snapshot) error {
	data, n, err := encodeCheckpoint(snap)
	if err != nil {
		return err
	}
	if _, err := s.CreateExclusive(ctx, CheckpointName(snap.Version), data); err != nil {
		return fmt.Errorf("lake: write checkpoint %d: %w", snap.Version, err)
	}
	lc, err := json.Marshal(lastCheckpoint{Version: snap.Version, Size: n, SizeInBytes: int64(len(data)), NumOfAddFiles: int64(len(snap.Files))})
	if err != nil {
		return err
	}
	// A _last_checkpoint pointing at an older checkpoint than one already recorded is harmless
	// (readers treat it as a hint), but keep the newest.
	if old, err := s.ReadObject(ctx, LastCheckpointName); err == nil {
		var prev lastCheckpoint
		if json.Unmarshal(old, &prev) == nil && prev.Version >= snap.Version {
			return nil
		}
	}
	if err := s.Put(ctx, LastCheckpointName, lc); err != nil {
		return fmt.Errorf("lake: write %s: %w", LastCheckpointName, err)
	}
	return nil
}

// readCheckpoint replays the checkpoint of version v.
func readCheckpoint(ctx context.Context, s Store, v int64) (*Snapshot, error) {
	data, err := s.ReadObject(ctx, CheckpointName(v))
	if err != nil {
		return nil, err
	}
	rows, err := readRows[cpReadRow](data)
	if err != nil {
		return nil, fmt.Errorf("lake: read checkpoint %d: %w", v, err)
	}
	pvs, err := readRows[cpPartitionsRow](data)
	if err != nil {
		return nil, fmt.Errorf("lake: read checkpoint %d: %w", v, err)
	}
	snap := newSnapshot(v, v)
	for i, row := range rows {
		switch {
		case row.MetaData != nil:
			md := row.MetaData
			if md.PartitionColumns == nil {
				md.PartitionColumns = []string{}
			}
			md.Configuration, md.Format.Options = orEmpty(md.Configuration), orEmpty(md.Format.Options)
			snap.Metadata = md
		case row.Add != nil && pvs[i].Add != nil:
			row.Add.PartitionValues = delta.PartitionValuesOf(pvs[i].Add.PartitionValues)
			snap.Apply(&delta.Action{Add: row.Add})
		case row.Remove != nil && pvs[i].Remove != nil:
			row.Remove.PartitionValues = delta.PartitionValuesOf(pvs[i].Remove.PartitionValues)
			snap.Apply(&delta.Action{Remove: row.Remove})
		default:
			snap.Apply(&delta.Action{Protocol: row.Protocol, Txn: row.Txn})
		}
	}
	if snap.Protocol == nil || snap.Metadata == nil {
		return nil, fmt.Errorf("lake: checkpoint %d has no protocol or metaData", v)
	}
	return snap, nil
}

package lake

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"

	"github.com/parquet-go/parquet-go"
)

// Checkpoint rows: one action a row, in the column layout of the Delta protocol's classic
// checkpoint (txn, add, remove, metaData, protocol; names as in the JSON actions). Txn and
// Remove are their own rows; the others differ from the JSON actions in optional fields.

type cpAdd struct {
	Path             string             `parquet:"path"`
	PartitionValues  map[string]*string `parquet:"partitionValues"`
	Size             int64              `parquet:"size"`
	ModificationTime int64              `parquet:"modificationTime"`
	DataChange       bool               `parquet:"dataChange"`
	Stats            *string            `parquet:"stats,optional"`
	Tags             map[string]string  `parquet:"tags,optional"`
}

type cpFormat struct {
	Provider string            `parquet:"provider"`
	Options  map[string]string `parquet:"options"`
}

type cpMeta struct {
	ID               string            `parquet:"id"`
	Name             *string           `parquet:"name,optional"`
	Description      *string           `parquet:"description,optional"`
	Format           cpFormat          `parquet:"format"`
	SchemaString     string            `parquet:"schemaString"`
	PartitionColumns []string          `parquet:"partitionColumns,list"`
	Configuration    map[string]string `parquet:"configuration"`
	CreatedTime      *int64            `parquet:"createdTime,optional"`
}

type cpProtocol struct {
	MinReaderVersion int32    `parquet:"minReaderVersion"`
	MinWriterVersion int32    `parquet:"minWriterVersion"`
	ReaderFeatures   []string `parquet:"readerFeatures,optional,list"`
	WriterFeatures   []string `parquet:"writerFeatures,optional,list"`
}

type cpRow struct {
	Txn      *Txn        `parquet:"txn,optional"`
	Add      *cpAdd      `parquet:"add,optional"`
	Remove   *Remove     `parquet:"remove,optional"`
	MetaData *cpMeta     `parquet:"metaData,optional"`
	Protocol *cpProtocol `parquet:"protocol,optional"`
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func orEmpty(m map[string]*string) map[string]*string {
	if m == nil {
		return map[string]*string{}
	}
	return m
}

// encodeCheckpoint returns the Parquet checkpoint of snap.
func encodeCheckpoint(snap *Snapshot) ([]byte, int64, error) {
	var rows []cpRow
	p := snap.Protocol
	rows = append(rows, cpRow{Protocol: &cpProtocol{MinReaderVersion: int32(p.MinReaderVersion), MinWriterVersion: int32(p.MinWriterVersion),
		ReaderFeatures: p.ReaderFeatures, WriterFeatures: p.WriterFeatures}})
	m := snap.Metadata
	rows = append(rows, cpRow{MetaData: &cpMeta{ID: m.ID, Name: optString(m.Name), Description: optString(m.Description),
		Format: cpFormat{Provider: m.Format.Provider, Options: m.Format.Options}, SchemaString: m.SchemaString,
		PartitionColumns: m.PartitionColumns, Configuration: m.Configuration, CreatedTime: m.CreatedTime}})
	for _, a := range slices.Sorted(maps.Keys(snap.Txns)) {
		t := snap.Txns[a]
		rows = append(rows, cpRow{Txn: &t})
	}
	for _, f := range snap.SortedFiles() {
		rows = append(rows, cpRow{Add: &cpAdd{Path: f.Path, PartitionValues: orEmpty(f.PartitionValues), Size: f.Size,
			ModificationTime: f.ModificationTime, DataChange: false, Stats: optString(f.Stats), Tags: f.Tags}})
	}
	for _, p := range slices.Sorted(maps.Keys(snap.Tombstones)) {
		rm := *snap.Tombstones[p]
		rm.DataChange, rm.PartitionValues = false, orEmpty(rm.PartitionValues)
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
	r := parquet.NewGenericReader[cpRow](bytes.NewReader(data))
	defer r.Close()
	snap := &Snapshot{Version: v, Files: map[string]*File{}, Tombstones: map[string]*Remove{}, Txns: map[string]Txn{}, Checkpoint: v}
	buf := make([]cpRow, 256)
	for {
		n, err := r.Read(buf)
		for _, row := range buf[:n] {
			switch {
			case row.Protocol != nil:
				p := row.Protocol
				snap.Protocol = &Protocol{MinReaderVersion: int(p.MinReaderVersion), MinWriterVersion: int(p.MinWriterVersion),
					ReaderFeatures: p.ReaderFeatures, WriterFeatures: p.WriterFeatures}
			case row.MetaData != nil:
				m := row.MetaData
				md := &Metadata{ID: m.ID, Format: Format{Provider: m.Format.Provider, Options: m.Format.Options},
					SchemaString: m.SchemaString, PartitionColumns: m.PartitionColumns, Configuration: m.Configuration, CreatedTime: m.CreatedTime}
				if m.Name != nil {
					md.Name = *m.Name
				}
				if m.Description != nil {
					md.Description = *m.Description
				}
				if md.PartitionColumns == nil {
					md.PartitionColumns = []string{}
				}
				if md.Configuration == nil {
					md.Configuration = map[string]string{}
				}
				if md.Format.Options == nil {
					md.Format.Options = map[string]string{}
				}
				snap.Metadata = md
			case row.Txn != nil:
				snap.Txns[row.Txn.AppID] = *row.Txn
			case row.Add != nil:
				a := row.Add
				f := &File{Path: a.Path, PartitionValues: orEmpty(a.PartitionValues), Size: a.Size, ModificationTime: a.ModificationTime, Tags: a.Tags}
				if a.Stats != nil {
					f.Stats = *a.Stats
				}
				snap.Files[decodePath(a.Path)] = f
			case row.Remove != nil:
				rm := *row.Remove
				rm.DataChange, rm.PartitionValues = false, orEmpty(rm.PartitionValues)
				snap.Tombstones[decodePath(rm.Path)] = &rm
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("lake: read checkpoint %d: %w", v, err)
		}
	}
	if snap.Protocol == nil || snap.Metadata == nil {
		return nil, fmt.Errorf("lake: checkpoint %d has no protocol or metaData", v)
	}
	return snap, nil
}

package delta

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Protocol is the `protocol` action: the reader and writer versions and, from reader version 3
// and writer version 7, the named table features.
type Protocol struct {
	MinReaderVersion int      `json:"minReaderVersion"`
	MinWriterVersion int      `json:"minWriterVersion,omitempty"`
	ReaderFeatures   []string `json:"readerFeatures,omitempty"`
	WriterFeatures   []string `json:"writerFeatures,omitempty"`
}

// HasReaderFeature reports whether the protocol names the reader feature f.
func (p *Protocol) HasReaderFeature(f string) bool {
	if p == nil {
		return false
	}
	for _, x := range p.ReaderFeatures {
		if x == f {
			return true
		}
	}
	return false
}

// Format is the storage format of a table's data files (always parquet for Delta).
type Format struct {
	Provider string            `json:"provider"`
	Options  map[string]string `json:"options,omitempty"`
}

// Metadata is the `metaData` action.
type Metadata struct {
	ID               string            `json:"id"`
	Name             string            `json:"name,omitempty"`
	Description      string            `json:"description,omitempty"`
	Format           Format            `json:"format"`
	SchemaString     string            `json:"schemaString"`
	PartitionColumns []string          `json:"partitionColumns"`
	CreatedTime      *int64            `json:"createdTime,omitempty"`
	Configuration    map[string]string `json:"configuration"`
}

// Schema parses the metadata's schema string.
func (m *Metadata) Schema() (*StructType, error) { return ParseSchema(m.SchemaString) }

// ColumnMappingMode returns the table's column mapping mode: "none", "name" or "id".
func (m *Metadata) ColumnMappingMode() string {
	if v := m.Configuration["delta.columnMapping.mode"]; v != "" {
		return v
	}
	return "none"
}

// ChangeDataFeedEnabled reports whether the table records change data.
func (m *Metadata) ChangeDataFeedEnabled() bool {
	v := m.Configuration["delta.enableChangeDataFeed"]
	b, _ := strconv.ParseBool(v)
	return b
}

// DeletionVector is a deletion vector descriptor. StorageType is "u" (a file beside the table
// named from a UUID encoded in PathOrInlineDV), "i" (inline, Z85-encoded in PathOrInlineDV) or "p"
// (an absolute path or, in Delta Sharing responses, a URL).
type DeletionVector struct {
	StorageType    string `json:"storageType"`
	PathOrInlineDV string `json:"pathOrInlineDv"`
	Offset         *int32 `json:"offset,omitempty"`
	SizeInBytes    int32  `json:"sizeInBytes"`
	Cardinality    int64  `json:"cardinality"`
}

// UniqueID identifies the vector: storage type, path and offset together.
func (d *DeletionVector) UniqueID() string {
	id := d.StorageType + d.PathOrInlineDV
	if d.Offset != nil {
		id += "@" + strconv.Itoa(int(*d.Offset))
	}
	return id
}

// Add is the `add` action: a data file that becomes part of the table.
type Add struct {
	Path                    string            `json:"path"`
	PartitionValues         map[string]string `json:"partitionValues"`
	Size                    int64             `json:"size"`
	ModificationTime        int64             `json:"modificationTime"`
	DataChange              bool              `json:"dataChange"`
	Stats                   string            `json:"stats,omitempty"`
	Tags                    map[string]string `json:"tags,omitempty"`
	DeletionVector          *DeletionVector   `json:"deletionVector,omitempty"`
	BaseRowID               *int64            `json:"baseRowId,omitempty"`
	DefaultRowCommitVersion *int64            `json:"defaultRowCommitVersion,omitempty"`
	ClusteringProvider      string            `json:"clusteringProvider,omitempty"`
}

// Remove is the `remove` action: a data file that leaves the table.
type Remove struct {
	Path                    string            `json:"path"`
	DeletionTimestamp       *int64            `json:"deletionTimestamp,omitempty"`
	DataChange              bool              `json:"dataChange"`
	ExtendedFileMetadata    bool              `json:"extendedFileMetadata,omitempty"`
	PartitionValues         map[string]string `json:"partitionValues,omitempty"`
	Size                    *int64            `json:"size,omitempty"`
	Stats                   string            `json:"stats,omitempty"`
	Tags                    map[string]string `json:"tags,omitempty"`
	DeletionVector          *DeletionVector   `json:"deletionVector,omitempty"`
	BaseRowID               *int64            `json:"baseRowId,omitempty"`
	DefaultRowCommitVersion *int64            `json:"defaultRowCommitVersion,omitempty"`
}

// CDC is the `cdc` action: a change data file under `_change_data`.
type CDC struct {
	Path            string            `json:"path"`
	PartitionValues map[string]string `json:"partitionValues"`
	Size            int64             `json:"size"`
	DataChange      bool              `json:"dataChange"`
	Tags            map[string]string `json:"tags,omitempty"`
}

// CommitInfo is the `commitInfo` action. Only the fields a reader needs are typed.
type CommitInfo struct {
	Timestamp           *int64         `json:"timestamp,omitempty"`
	InCommitTimestamp   *int64         `json:"inCommitTimestamp,omitempty"`
	Operation           string         `json:"operation,omitempty"`
	OperationParameters map[string]any `json:"operationParameters,omitempty"`
	Extra               map[string]any `json:"-"`
}

// Txn is the `txn` (set transaction) action.
type Txn struct {
	AppID       string `json:"appId"`
	Version     int64  `json:"version"`
	LastUpdated *int64 `json:"lastUpdated,omitempty"`
}

// DomainMetadata is the `domainMetadata` action.
type DomainMetadata struct {
	Domain        string `json:"domain"`
	Configuration string `json:"configuration"`
	Removed       bool   `json:"removed"`
}

// CheckpointMetadata is the `checkpointMetadata` action of a V2 checkpoint.
type CheckpointMetadata struct {
	Version int64             `json:"version"`
	Tags    map[string]string `json:"tags,omitempty"`
}

// Sidecar is the `sidecar` action of a V2 checkpoint: a file under `_delta_log/_sidecars`
// holding add and remove actions.
type Sidecar struct {
	Path             string            `json:"path"`
	SizeInBytes      int64             `json:"sizeInBytes"`
	ModificationTime int64             `json:"modificationTime"`
	Tags             map[string]string `json:"tags,omitempty"`
}

// Action is one line of a Delta log commit: exactly one of its fields is set.
type Action struct {
	Protocol           *Protocol           `json:"protocol,omitempty"`
	MetaData           *Metadata           `json:"metaData,omitempty"`
	Add                *Add                `json:"add,omitempty"`
	Remove             *Remove             `json:"remove,omitempty"`
	CDC                *CDC                `json:"cdc,omitempty"`
	CommitInfo         *CommitInfo         `json:"commitInfo,omitempty"`
	Txn                *Txn                `json:"txn,omitempty"`
	DomainMetadata     *DomainMetadata     `json:"domainMetadata,omitempty"`
	CheckpointMetadata *CheckpointMetadata `json:"checkpointMetadata,omitempty"`
	Sidecar            *Sidecar            `json:"sidecar,omitempty"`
}

// ParseAction decodes one log line. Lines holding only unknown actions decode to an empty Action
// (readers must ignore actions they do not know).
func ParseAction(line []byte) (*Action, error) {
	var a Action
	if err := json.Unmarshal(line, &a); err != nil {
		return nil, fmt.Errorf("delta: malformed log action: %w", err)
	}
	return &a, nil
}

// String describes the vector without the query string of a URL path (a signed URL in Delta
// Sharing responses), so printing a descriptor never shows a credential.
func (d DeletionVector) String() string {
	p := d.PathOrInlineDV
	if d.StorageType == "p" {
		if i := strings.IndexByte(p, '?'); i >= 0 {
			p = p[:i] + "?…"
		}
	}
	off := ""
	if d.Offset != nil {
		off = fmt.Sprintf(" offset=%d", *d.Offset)
	}
	return fmt.Sprintf("DeletionVector{%s %s%s size=%d cardinality=%d}", d.StorageType, p, off, d.SizeInBytes, d.Cardinality)
}

// GoString is String.
func (d DeletionVector) GoString() string { return d.String() }

package delta

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// The action types serve both who reads a Delta log and who writes one: they decode what any
// writer writes (absent optional fields are zero or nil) and encode what the Delta protocol
// requires (required fields always, optional ones only when set). Their parquet tags are the
// columns of a classic checkpoint (the JSON field names; protocol versions are 32-bit integers,
// optional fields are nullable columns), but for the partition values of add and remove: a
// checkpoint holds null where an action holds an empty string, which its writer converts.

// Protocol is the `protocol` action: the reader and writer versions and, from reader version 3
// and writer version 7, the named table features.
type Protocol struct {
	MinReaderVersion int      `json:"minReaderVersion" parquet:"minReaderVersion,int(32)"`
	MinWriterVersion int      `json:"minWriterVersion" parquet:"minWriterVersion,int(32)"`
	ReaderFeatures   []string `json:"readerFeatures,omitempty" parquet:"readerFeatures,optional,list"`
	WriterFeatures   []string `json:"writerFeatures,omitempty" parquet:"writerFeatures,optional,list"`
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

// Format is the storage format of a table's data files (always parquet for Delta). Options are
// written when set, even when empty: writers of a Delta log write `"options":{}`; nil leaves
// them out (the parquet response format of Delta Sharing has none).
type Format struct {
	Provider string            `json:"provider" parquet:"provider"`
	Options  map[string]string `json:"options,omitzero" parquet:"options"`
}

// Metadata is the `metaData` action.
type Metadata struct {
	ID               string            `json:"id" parquet:"id"`
	Name             string            `json:"name,omitempty" parquet:"name,optional"`
	Description      string            `json:"description,omitempty" parquet:"description,optional"`
	Format           Format            `json:"format" parquet:"format"`
	SchemaString     string            `json:"schemaString" parquet:"schemaString"`
	PartitionColumns []string          `json:"partitionColumns" parquet:"partitionColumns,list"`
	CreatedTime      *int64            `json:"createdTime,omitempty" parquet:"createdTime,optional"`
	Configuration    map[string]string `json:"configuration" parquet:"configuration"`
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
	StorageType    string `json:"storageType" parquet:"storageType"`
	PathOrInlineDV string `json:"pathOrInlineDv" parquet:"pathOrInlineDv"`
	Offset         *int32 `json:"offset,omitempty" parquet:"offset,optional"`
	SizeInBytes    int32  `json:"sizeInBytes" parquet:"sizeInBytes"`
	Cardinality    int64  `json:"cardinality" parquet:"cardinality"`
}

// UniqueID identifies the vector: storage type, path and offset together.
func (d *DeletionVector) UniqueID() string {
	id := d.StorageType + d.PathOrInlineDV
	if d.Offset != nil {
		id += "@" + strconv.Itoa(int(*d.Offset))
	}
	return id
}

// PartitionValues are the serialized partition values of a file by (physical) column name. An
// empty string is null, as the protocol says for every type (see [ParsePartitionValue]); it is
// written as JSON null, as writers of the protocol do.
type PartitionValues map[string]string

// Nullable returns the values with the empty (null) ones as nil; never nil.
func (pv PartitionValues) Nullable() map[string]*string {
	m := make(map[string]*string, len(pv))
	for k, v := range pv {
		if v != "" {
			m[k] = &v
		} else {
			m[k] = nil
		}
	}
	return m
}

// PartitionValuesOf is the inverse of Nullable: nil values become empty (null) ones.
func PartitionValuesOf(m map[string]*string) PartitionValues {
	pv := make(PartitionValues, len(m))
	for k, v := range m {
		if v != nil {
			pv[k] = *v
		} else {
			pv[k] = ""
		}
	}
	return pv
}

// MarshalJSON writes empty values as null and no values as an empty object.
func (pv PartitionValues) MarshalJSON() ([]byte, error) { return json.Marshal(pv.Nullable()) }

// Add is the `add` action: a data file that becomes part of the table.
type Add struct {
	Path                    string            `json:"path" parquet:"path"`
	PartitionValues         PartitionValues   `json:"partitionValues" parquet:"-"`
	Size                    int64             `json:"size" parquet:"size"`
	ModificationTime        int64             `json:"modificationTime" parquet:"modificationTime"`
	DataChange              bool              `json:"dataChange" parquet:"dataChange"`
	Stats                   string            `json:"stats,omitempty" parquet:"stats,optional"`
	Tags                    map[string]string `json:"tags,omitempty" parquet:"tags,optional"`
	DeletionVector          *DeletionVector   `json:"deletionVector,omitempty" parquet:"deletionVector,optional"`
	BaseRowID               *int64            `json:"baseRowId,omitempty" parquet:"baseRowId,optional"`
	DefaultRowCommitVersion *int64            `json:"defaultRowCommitVersion,omitempty" parquet:"defaultRowCommitVersion,optional"`
	ClusteringProvider      string            `json:"clusteringProvider,omitempty" parquet:"clusteringProvider,optional"`
}

// Remove is the `remove` action: a data file that leaves the table (a tombstone until vacuumed).
// Partition values are written when set, even when empty (extendedFileMetadata says they are
// there).
type Remove struct {
	Path                    string            `json:"path" parquet:"path"`
	DeletionTimestamp       *int64            `json:"deletionTimestamp,omitempty" parquet:"deletionTimestamp,optional"`
	DataChange              bool              `json:"dataChange" parquet:"dataChange"`
	ExtendedFileMetadata    bool              `json:"extendedFileMetadata,omitempty" parquet:"extendedFileMetadata,optional"`
	PartitionValues         PartitionValues   `json:"partitionValues,omitzero" parquet:"-"`
	Size                    *int64            `json:"size,omitempty" parquet:"size,optional"`
	Stats                   string            `json:"stats,omitempty" parquet:"stats,optional"`
	Tags                    map[string]string `json:"tags,omitempty" parquet:"tags,optional"`
	DeletionVector          *DeletionVector   `json:"deletionVector,omitempty" parquet:"deletionVector,optional"`
	BaseRowID               *int64            `json:"baseRowId,omitempty" parquet:"baseRowId,optional"`
	DefaultRowCommitVersion *int64            `json:"defaultRowCommitVersion,omitempty" parquet:"defaultRowCommitVersion,optional"`
}

// CDC is the `cdc` action: a change data file under `_change_data`.
type CDC struct {
	Path            string            `json:"path"`
	PartitionValues PartitionValues   `json:"partitionValues"`
	Size            int64             `json:"size"`
	DataChange      bool              `json:"dataChange"`
	Tags            map[string]string `json:"tags,omitempty"`
}

// CommitInfo is the `commitInfo` action (free-form: only the fields readers use and writers
// commonly write are typed).
type CommitInfo struct {
	Timestamp           *int64         `json:"timestamp,omitempty"`
	InCommitTimestamp   *int64         `json:"inCommitTimestamp,omitempty"`
	Operation           string         `json:"operation,omitempty"`
	OperationParameters map[string]any `json:"operationParameters,omitempty"`
	EngineInfo          string         `json:"engineInfo,omitempty"`
	IsBlindAppend       *bool          `json:"isBlindAppend,omitempty"`
	OperationMetrics    map[string]any `json:"operationMetrics,omitempty"`
}

// Txn is the `txn` (set transaction) action: the last version an application applied.
type Txn struct {
	AppID       string `json:"appId" parquet:"appId"`
	Version     int64  `json:"version" parquet:"version"`
	LastUpdated *int64 `json:"lastUpdated,omitempty" parquet:"lastUpdated,optional"`
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

package protocol

import (
	"fmt"
	"strings"
	"time"

	"github.com/deltashare/deltashare/internal/redact"

	"github.com/deltashare/deltashare/sharing/delta"
)

// ResponseFormat is the format of query and metadata responses: "parquet" (the original
// format) or "delta" (delta log actions wrapped with sharing fields).
type ResponseFormat string

// The two response formats.
const (
	FormatParquet ResponseFormat = "parquet"
	FormatDelta   ResponseFormat = "delta"
)

// ---------------------------------------------------------------------------------------------
// Listing responses (shared by client and server).

// Share is one item of the List Shares response (and the body of Get Share).
type Share struct {
	Name        string            `json:"name"`
	ID          string            `json:"id,omitempty"`
	DisplayName string            `json:"displayName,omitempty"`
	Comment     string            `json:"comment,omitempty"`
	Properties  map[string]string `json:"properties,omitempty"`
}

// GetShareResponse is the body of Get Share.
type GetShareResponse struct {
	Share Share `json:"share"`
}

// Schema is one item of the List Schemas response.
type Schema struct {
	Name  string `json:"name"`
	Share string `json:"share"`
}

// TableInfo is one item of the List Tables and List All Tables responses.
type TableInfo struct {
	Name               string   `json:"name"`
	Schema             string   `json:"schema"`
	Share              string   `json:"share"`
	ShareID            string   `json:"shareId,omitempty"`
	ID                 string   `json:"id,omitempty"`
	Location           string   `json:"location,omitempty"`
	AuxiliaryLocations []string `json:"auxiliaryLocations,omitempty"`
	AccessModes        []string `json:"accessModes,omitempty"`
}

// Table returns the table's reference.
func (t TableInfo) Table() Table { return Table{Share: t.Share, Schema: t.Schema, Name: t.Name} }

// String names the table and its id; locations are shown without query strings.
func (t TableInfo) String() string {
	s := t.Table().String()
	if t.ID != "" {
		s += " (id " + t.ID + ")"
	}
	if t.Location != "" {
		s += " at " + redact.URL(t.Location)
	}
	return s
}

// Page is a page of a listing response: the items and the token of the next page ("" or absent
// on the last page).
type Page[T any] struct {
	Items         []T    `json:"items"`
	NextPageToken string `json:"nextPageToken,omitempty"`
}

// ---------------------------------------------------------------------------------------------
// Request bodies and parameters.

// QueryRequest is the body of the Query Table request, plus client-side options (json:"-").
// The server decodes request bodies into it.
type QueryRequest struct {
	PredicateHints []string `json:"predicateHints,omitempty"`
	// JSONPredicateHints is the JSON predicate, itself JSON text, sent as a JSON string.
	JSONPredicateHints        string `json:"jsonPredicateHints,omitempty"`
	LimitHint                 *int64 `json:"limitHint,omitempty"`
	Version                   *int64 `json:"version,omitempty"`
	Timestamp                 string `json:"timestamp,omitempty"`
	StartingVersion           *int64 `json:"startingVersion,omitempty"`
	EndingVersion             *int64 `json:"endingVersion,omitempty"`
	IncludeHistoricalProtocol bool   `json:"includeHistoricalProtocol,omitempty"`
	IncludeRefreshToken       bool   `json:"includeRefreshToken,omitempty"`
	RefreshToken              string `json:"refreshToken,omitempty"`
	MaxFiles                  *int   `json:"maxFiles,omitempty"`
	PageToken                 string `json:"pageToken,omitempty"`

	// SinglePage stops after one page: the returned EndStream's NextPageToken (if any) is the
	// caller's to follow. Otherwise every page is followed.
	SinglePage bool `json:"-"`
}

// Validate checks combinations the protocol forbids.
func (r *QueryRequest) Validate() error {
	n := 0
	if r.Version != nil {
		n++
	}
	if r.Timestamp != "" {
		n++
	}
	if r.StartingVersion != nil {
		n++
	}
	if n > 1 {
		return fmt.Errorf("%w: a query takes at most one of version, timestamp and startingVersion", ErrBadRequest)
	}
	if r.EndingVersion != nil && r.StartingVersion == nil {
		return fmt.Errorf("%w: endingVersion needs startingVersion", ErrBadRequest)
	}
	return nil
}

// ChangesRequest holds the query parameters of the Read Change Data Feed request.
type ChangesRequest struct {
	StartingVersion           *int64
	EndingVersion             *int64
	StartingTimestamp         string
	EndingTimestamp           string
	IncludeHistoricalMetadata bool
	IncludeHistoricalProtocol bool
	MaxFiles                  *int
	PageToken                 string
	// SinglePage stops after one page (see QueryRequest.SinglePage).
	SinglePage bool
}

// Validate checks that a start is given.
func (r *ChangesRequest) Validate() error {
	if r.StartingVersion == nil && r.StartingTimestamp == "" {
		return fmt.Errorf("%w: a change data feed query needs a starting version or a starting timestamp", ErrBadRequest)
	}
	if r.StartingVersion != nil && r.StartingTimestamp != "" {
		return fmt.Errorf("%w: give a starting version or a starting timestamp, not both", ErrBadRequest)
	}
	if r.EndingVersion != nil && r.EndingTimestamp != "" {
		return fmt.Errorf("%w: give an ending version or an ending timestamp, not both", ErrBadRequest)
	}
	return nil
}

// MetadataOptions selects the table version of a Query Table Metadata request (at most one).
type MetadataOptions struct {
	Version   *int64
	Timestamp string
}

// ---------------------------------------------------------------------------------------------
// Wire shapes of NDJSON lines in the parquet response format.

// ParquetProtocol is the parquet-format `protocol` object.
type ParquetProtocol struct {
	MinReaderVersion int `json:"minReaderVersion"`
}

// ParquetMetadata is the parquet-format `metaData` object.
type ParquetMetadata struct {
	ID               string            `json:"id"`
	Name             string            `json:"name,omitempty"`
	Description      string            `json:"description,omitempty"`
	Format           delta.Format      `json:"format"`
	SchemaString     string            `json:"schemaString"`
	PartitionColumns []string          `json:"partitionColumns"`
	Configuration    map[string]string `json:"configuration,omitempty"`
	CreatedTime      *int64            `json:"createdTime,omitempty"`
	Version          *int64            `json:"version,omitempty"`
	TableDetails
}

// TableDetails are what a metaData line may say about the table beside its Delta metadata, the
// same in both response formats.
type TableDetails struct {
	Size     *int64 `json:"size,omitempty"`     // table size in bytes, when known
	NumFiles *int64 `json:"numFiles,omitempty"` // number of files, when known
	// Location, AuxiliaryLocations and AccessModes for directory-based access, when given.
	Location           string   `json:"location,omitempty"`
	AuxiliaryLocations []string `json:"auxiliaryLocations,omitempty"`
	AccessModes        []string `json:"accessModes,omitempty"`
}

// ParquetFile is the parquet-format `file`, `add`, `cdf` and `remove` object.
type ParquetFile struct {
	URL                 string            `json:"url"`
	ID                  string            `json:"id"`
	PartitionValues     map[string]string `json:"partitionValues"`
	Size                int64             `json:"size"`
	Stats               string            `json:"stats,omitempty"`
	Version             *int64            `json:"version,omitempty"`
	Timestamp           *int64            `json:"timestamp,omitempty"`
	ExpirationTimestamp *int64            `json:"expirationTimestamp,omitempty"`
}

// ParquetLine is one line of a parquet-format response; exactly one field is set.
type ParquetLine struct {
	Protocol        *ParquetProtocol `json:"protocol,omitempty"`
	MetaData        *ParquetMetadata `json:"metaData,omitempty"`
	File            *ParquetFile     `json:"file,omitempty"`
	Add             *ParquetFile     `json:"add,omitempty"`
	CDF             *ParquetFile     `json:"cdf,omitempty"`
	Remove          *ParquetFile     `json:"remove,omitempty"`
	EndStreamAction *EndStream       `json:"endStreamAction,omitempty"`
}

// ---------------------------------------------------------------------------------------------
// Wire shapes of NDJSON lines in the delta response format.

// DeltaProtocolWrapper is the delta-format `protocol` object.
type DeltaProtocolWrapper struct {
	DeltaProtocol delta.Protocol `json:"deltaProtocol"`
	Version       *int64         `json:"version,omitempty"`
}

// DeltaMetadataWrapper is the delta-format `metaData` object.
type DeltaMetadataWrapper struct {
	DeltaMetadata delta.Metadata `json:"deltaMetadata"`
	Version       *int64         `json:"version,omitempty"`
	TableDetails
}

// DeltaSingleAction is the delta action inside a delta-format file: one of add, remove, cdc,
// whose path is the pre-signed URL.
type DeltaSingleAction struct {
	Add    *delta.Add    `json:"add,omitempty"`
	Remove *delta.Remove `json:"remove,omitempty"`
	CDC    *delta.CDC    `json:"cdc,omitempty"`
}

// DeltaFile is the delta-format `file` object.
type DeltaFile struct {
	ID                   string            `json:"id"`
	DeletionVectorFileID string            `json:"deletionVectorFileId,omitempty"`
	Version              *int64            `json:"version,omitempty"`
	Timestamp            *int64            `json:"timestamp,omitempty"`
	ExpirationTimestamp  *int64            `json:"expirationTimestamp,omitempty"`
	DeltaSingleAction    DeltaSingleAction `json:"deltaSingleAction"`
}

// DeltaLine is one line of a delta-format response; exactly one field is set.
type DeltaLine struct {
	Protocol        *DeltaProtocolWrapper `json:"protocol,omitempty"`
	MetaData        *DeltaMetadataWrapper `json:"metaData,omitempty"`
	File            *DeltaFile            `json:"file,omitempty"`
	EndStreamAction *EndStream            `json:"endStreamAction,omitempty"`
}

// EndStream is the EndStreamAction closing a query response: the refresh token of a snapshot
// query, the token of the next page, the earliest URL expiry of the response, or an error that
// happened after the 200 status was sent.
type EndStream struct {
	RefreshToken              string `json:"refreshToken,omitempty"`
	NextPageToken             string `json:"nextPageToken,omitempty"`
	MinURLExpirationTimestamp *int64 `json:"minUrlExpirationTimestamp,omitempty"`
	ErrorMessage              string `json:"errorMessage,omitempty"`
	HTTPStatusErrorCode       *int   `json:"httpStatusErrorCode,omitempty"`
}

// MinURLExpiration returns MinURLExpirationTimestamp as a time (zero when absent).
func (e EndStream) MinURLExpiration() time.Time { return MsTime(e.MinURLExpirationTimestamp) }

// String shows which fields are set, not the tokens.
func (e EndStream) String() string {
	parts := []string{}
	if e.RefreshToken != "" {
		parts = append(parts, "refreshToken=<redacted>")
	}
	if e.NextPageToken != "" {
		parts = append(parts, "nextPageToken=<redacted>")
	}
	if e.MinURLExpirationTimestamp != nil {
		parts = append(parts, "minUrlExpiration="+e.MinURLExpiration().UTC().Format(time.RFC3339))
	}
	if e.ErrorMessage != "" {
		parts = append(parts, fmt.Sprintf("errorMessage=%q", redact.Text(e.ErrorMessage, 200)))
	}
	return "EndStream{" + strings.Join(parts, " ") + "}"
}

// GoString is String.
func (e EndStream) GoString() string { return e.String() }

// err returns the stream error the action carries, if any.
func (e EndStream) Err() error {
	if e.ErrorMessage == "" {
		return nil
	}
	ae := &APIError{Code: "STREAM_ERROR", Message: redact.Text(e.ErrorMessage, MaxMessage)}
	if e.HTTPStatusErrorCode != nil {
		ae.Status = *e.HTTPStatusErrorCode
	}
	return ae
}

// ---------------------------------------------------------------------------------------------
// Normalized types: both formats decode into these.

// ProtocolAction is a protocol line. Parquet-format lines fill only MinReaderVersion.
type ProtocolAction struct {
	Protocol delta.Protocol
	// Version is the table version of a historical protocol (delta format, when asked for).
	Version *int64
}

// MetadataAction is a metaData line.
type MetadataAction struct {
	Metadata           delta.Metadata
	Version            *int64 // table version of this metadata, when the server says
	Size               *int64 // table size in bytes, when known
	NumFiles           *int64 // number of files, when known
	Location           string
	AuxiliaryLocations []string
	AccessModes        []string
}

// details returns the table details of m.
func (m *MetadataAction) details() TableDetails {
	return TableDetails{Size: m.Size, NumFiles: m.NumFiles, Location: m.Location, AuxiliaryLocations: m.AuxiliaryLocations, AccessModes: m.AccessModes}
}

// withDetails returns m with the table details d.
func (m *MetadataAction) withDetails(d TableDetails) *MetadataAction {
	m.Size, m.NumFiles, m.Location, m.AuxiliaryLocations, m.AccessModes = d.Size, d.NumFiles, d.Location, d.AuxiliaryLocations, d.AccessModes
	return m
}

// String names the metadata without locations' query strings.
func (m MetadataAction) String() string {
	s := fmt.Sprintf("Metadata{id=%s name=%q partitionColumns=%v", m.Metadata.ID, m.Metadata.Name, m.Metadata.PartitionColumns)
	if m.Version != nil {
		s += fmt.Sprintf(" version=%d", *m.Version)
	}
	if m.Location != "" {
		s += " location=" + redact.URL(m.Location)
	}
	return s + "}"
}

// GoString is String.
func (m MetadataAction) GoString() string { return m.String() }

// FileKind says what a file action does.
type FileKind string

// File kinds. Parquet-format `file` (snapshot) and `add` lines, and delta-format add actions,
// are all FileAdd.
const (
	FileAdd    FileKind = "add"
	FileRemove FileKind = "remove"
	FileCDF    FileKind = "cdf"
)

// File is a data file of a query or change-data response, in either response format.
// URL is pre-signed: it is a secret until it expires, and String never shows its query.
type File struct {
	Kind                FileKind
	ID                  string
	URL                 string
	PartitionValues     map[string]string
	Size                int64
	Stats               string
	Version             *int64 // table version of the change (or of a time-travel snapshot)
	Timestamp           *int64 // commit time of Version, ms since the epoch
	ExpirationTimestamp *int64 // when URL expires, ms since the epoch

	// Delta-format fields (zero in parquet-format responses).
	DeletionVector          *delta.DeletionVector
	DeletionVectorFileID    string
	ModificationTime        int64
	DataChange              bool
	DeletionTimestamp       *int64 // remove only
	ExtendedFileMetadata    bool   // remove only
	Tags                    map[string]string
	BaseRowID               *int64
	DefaultRowCommitVersion *int64
	ClusteringProvider      string
}

// Expiration returns ExpirationTimestamp as a time (zero when absent).
func (f File) Expiration() time.Time { return MsTime(f.ExpirationTimestamp) }

// ChangeType is the _change_type of the rows of an add ("insert") or remove ("delete") in a
// change-data response; cdf files carry the column in their data, so it is "".
func (f File) ChangeType() string {
	switch f.Kind {
	case FileAdd:
		return "insert"
	case FileRemove:
		return "delete"
	}
	return ""
}

// String describes the file without the URL's query string or the deletion vector's path.
func (f File) String() string {
	s := fmt.Sprintf("File{%s id=%s url=%s size=%d", f.Kind, f.ID, redact.URL(f.URL), f.Size)
	if len(f.PartitionValues) > 0 {
		s += fmt.Sprintf(" partitionValues=%v", f.PartitionValues)
	}
	if f.Version != nil {
		s += fmt.Sprintf(" version=%d", *f.Version)
	}
	if f.DeletionVector != nil {
		s += fmt.Sprintf(" deletionVector=%s/%d rows", f.DeletionVector.StorageType, f.DeletionVector.Cardinality)
	}
	return s + "}"
}

// GoString is String.
func (f File) GoString() string { return f.String() }

// TableMetadata is a table's protocol and metadata with the version they belong to, as
// returned by the Query Table Metadata request (and at the head of query responses).
type TableMetadata struct {
	// Version is the Delta-Table-Version header, or the metadata's version; -1 when unknown.
	Version  int64
	Format   ResponseFormat
	Protocol delta.Protocol
	Metadata delta.Metadata
	TableDetails
}

// String describes the table metadata without location query strings.
func (t TableMetadata) String() string {
	s := fmt.Sprintf("TableMetadata{version=%d format=%s minReaderVersion=%d id=%s name=%q",
		t.Version, t.Format, t.Protocol.MinReaderVersion, t.Metadata.ID, t.Metadata.Name)
	if t.Location != "" {
		s += " location=" + redact.URL(t.Location)
	}
	return s + "}"
}

// GoString is String.
func (t TableMetadata) GoString() string { return t.String() }

func NewTableMetadata(version int64, format ResponseFormat, p *ProtocolAction, m *MetadataAction) TableMetadata {
	tm := TableMetadata{Version: version, Format: format}
	if p != nil {
		tm.Protocol = p.Protocol
	}
	if m != nil {
		tm.Metadata = m.Metadata
		tm.TableDetails = m.details()
		if tm.Version < 0 && m.Version != nil {
			tm.Version = *m.Version
		}
	}
	return tm
}

func MsTime(ms *int64) time.Time {
	if ms == nil {
		return time.Time{}
	}
	return time.UnixMilli(*ms).UTC()
}

// ---------------------------------------------------------------------------------------------
// Conversions between the wire shapes and the normalized types.

func fromParquetMetadata(m *ParquetMetadata) *MetadataAction {
	return (&MetadataAction{
		Metadata: delta.Metadata{
			ID: m.ID, Name: m.Name, Description: m.Description, Format: m.Format,
			SchemaString: m.SchemaString, PartitionColumns: m.PartitionColumns,
			CreatedTime: m.CreatedTime, Configuration: m.Configuration,
		},
		Version: m.Version,
	}).withDetails(m.TableDetails)
}

// ToParquet returns the parquet-format wire shape of m.
func (m MetadataAction) ToParquet() *ParquetMetadata {
	return &ParquetMetadata{
		ID: m.Metadata.ID, Name: m.Metadata.Name, Description: m.Metadata.Description,
		Format: parquetFormat(m.Metadata.Format), SchemaString: m.Metadata.SchemaString,
		PartitionColumns: nonNilSlice(m.Metadata.PartitionColumns), Configuration: m.Metadata.Configuration,
		CreatedTime: m.Metadata.CreatedTime, Version: m.Version, TableDetails: m.details(),
	}
}

// parquetFormat is the format of the parquet response format: options only when there are
// some.
func parquetFormat(f delta.Format) delta.Format {
	if len(f.Options) == 0 {
		f.Options = nil
	}
	return f
}

func fromDeltaMetadata(w *DeltaMetadataWrapper) *MetadataAction {
	return (&MetadataAction{
		Metadata: w.DeltaMetadata, Version: w.Version,
	}).withDetails(w.TableDetails)
}

// ToDelta returns the delta-format wire shape of m.
func (m MetadataAction) ToDelta() *DeltaMetadataWrapper {
	md := m.Metadata
	md.PartitionColumns = nonNilSlice(md.PartitionColumns)
	if md.Configuration == nil {
		md.Configuration = map[string]string{}
	}
	return &DeltaMetadataWrapper{
		DeltaMetadata: md, Version: m.Version, TableDetails: m.details(),
	}
}

// ToParquet returns the parquet-format wire shape of p (only minReaderVersion exists there).
func (p ProtocolAction) ToParquet() *ParquetProtocol {
	return &ParquetProtocol{MinReaderVersion: p.Protocol.MinReaderVersion}
}

// ToDelta returns the delta-format wire shape of p.
func (p ProtocolAction) ToDelta() *DeltaProtocolWrapper {
	return &DeltaProtocolWrapper{DeltaProtocol: p.Protocol, Version: p.Version}
}

func fromParquetFile(kind FileKind, w *ParquetFile) *File {
	return &File{
		Kind: kind, ID: w.ID, URL: w.URL, PartitionValues: w.PartitionValues, Size: w.Size,
		Stats: w.Stats, Version: w.Version, Timestamp: w.Timestamp, ExpirationTimestamp: w.ExpirationTimestamp,
	}
}

// ToParquet returns the parquet-format wire shape of f.
func (f File) ToParquet() *ParquetFile {
	return &ParquetFile{
		URL: f.URL, ID: f.ID, PartitionValues: nonNilMap(f.PartitionValues), Size: f.Size,
		Stats: f.Stats, Version: f.Version, Timestamp: f.Timestamp, ExpirationTimestamp: f.ExpirationTimestamp,
	}
}

func fromDeltaFile(w *DeltaFile) (*File, error) {
	f := &File{
		ID: w.ID, DeletionVectorFileID: w.DeletionVectorFileID, Version: w.Version,
		Timestamp: w.Timestamp, ExpirationTimestamp: w.ExpirationTimestamp,
	}
	a := w.DeltaSingleAction
	switch {
	case a.Add != nil:
		f.Kind = FileAdd
		f.URL, f.PartitionValues, f.Size, f.Stats = a.Add.Path, a.Add.PartitionValues, a.Add.Size, a.Add.Stats
		f.ModificationTime, f.DataChange, f.Tags = a.Add.ModificationTime, a.Add.DataChange, a.Add.Tags
		f.DeletionVector, f.BaseRowID, f.DefaultRowCommitVersion = a.Add.DeletionVector, a.Add.BaseRowID, a.Add.DefaultRowCommitVersion
		f.ClusteringProvider = a.Add.ClusteringProvider
	case a.Remove != nil:
		f.Kind = FileRemove
		f.URL, f.PartitionValues, f.Stats = a.Remove.Path, a.Remove.PartitionValues, a.Remove.Stats
		if a.Remove.Size != nil {
			f.Size = *a.Remove.Size
		}
		f.DeletionTimestamp, f.DataChange, f.ExtendedFileMetadata = a.Remove.DeletionTimestamp, a.Remove.DataChange, a.Remove.ExtendedFileMetadata
		f.Tags, f.DeletionVector = a.Remove.Tags, a.Remove.DeletionVector
		f.BaseRowID, f.DefaultRowCommitVersion = a.Remove.BaseRowID, a.Remove.DefaultRowCommitVersion
	case a.CDC != nil:
		f.Kind = FileCDF
		f.URL, f.PartitionValues, f.Size = a.CDC.Path, a.CDC.PartitionValues, a.CDC.Size
		f.DataChange, f.Tags = a.CDC.DataChange, a.CDC.Tags
	default:
		return nil, fmt.Errorf("file %q has no add, remove or cdc action", redact.Text(w.ID, 100))
	}
	return f, nil
}

// ToDelta returns the delta-format wire shape of f.
func (f File) ToDelta() (*DeltaFile, error) {
	w := &DeltaFile{
		ID: f.ID, DeletionVectorFileID: f.DeletionVectorFileID, Version: f.Version,
		Timestamp: f.Timestamp, ExpirationTimestamp: f.ExpirationTimestamp,
	}
	pv := nonNilMap(f.PartitionValues)
	switch f.Kind {
	case FileAdd:
		w.DeltaSingleAction.Add = &delta.Add{
			Path: f.URL, PartitionValues: pv, Size: f.Size, ModificationTime: f.ModificationTime,
			DataChange: f.DataChange, Stats: f.Stats, Tags: f.Tags, DeletionVector: f.DeletionVector,
			BaseRowID: f.BaseRowID, DefaultRowCommitVersion: f.DefaultRowCommitVersion,
			ClusteringProvider: f.ClusteringProvider,
		}
	case FileRemove:
		r := &delta.Remove{
			Path: f.URL, DeletionTimestamp: f.DeletionTimestamp, DataChange: f.DataChange,
			ExtendedFileMetadata: f.ExtendedFileMetadata, PartitionValues: f.PartitionValues, Stats: f.Stats,
			Tags: f.Tags, DeletionVector: f.DeletionVector, BaseRowID: f.BaseRowID,
			DefaultRowCommitVersion: f.DefaultRowCommitVersion,
		}
		if f.Size != 0 {
			size := f.Size
			r.Size = &size
		}
		w.DeltaSingleAction.Remove = r
	case FileCDF:
		w.DeltaSingleAction.CDC = &delta.CDC{Path: f.URL, PartitionValues: pv, Size: f.Size, DataChange: f.DataChange, Tags: f.Tags}
	default:
		return nil, fmt.Errorf("file kind %q is not add, remove or cdf", f.Kind)
	}
	return w, nil
}

func nonNilSlice(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// GoString is String, so %#v does not show the location's query string.
func (t TableInfo) GoString() string { return t.String() }

// String describes the request without its refresh and page tokens.
func (r QueryRequest) String() string {
	var parts []string
	if len(r.PredicateHints) > 0 {
		parts = append(parts, fmt.Sprintf("predicateHints=%q", r.PredicateHints))
	}
	if r.JSONPredicateHints != "" {
		parts = append(parts, "jsonPredicateHints="+r.JSONPredicateHints)
	}
	for _, p := range []struct {
		name string
		v    *int64
	}{{"limitHint", r.LimitHint}, {"version", r.Version}, {"startingVersion", r.StartingVersion}, {"endingVersion", r.EndingVersion}} {
		if p.v != nil {
			parts = append(parts, fmt.Sprintf("%s=%d", p.name, *p.v))
		}
	}
	if r.Timestamp != "" {
		parts = append(parts, "timestamp="+r.Timestamp)
	}
	if r.IncludeRefreshToken {
		parts = append(parts, "includeRefreshToken=true")
	}
	if r.RefreshToken != "" {
		parts = append(parts, "refreshToken=<redacted>")
	}
	if r.MaxFiles != nil {
		parts = append(parts, fmt.Sprintf("maxFiles=%d", *r.MaxFiles))
	}
	if r.PageToken != "" {
		parts = append(parts, "pageToken=<redacted>")
	}
	return "QueryRequest{" + strings.Join(parts, " ") + "}"
}

// GoString is String.
func (r QueryRequest) GoString() string { return r.String() }

// String describes the request without its page token.
func (r ChangesRequest) String() string {
	s := fmt.Sprintf("ChangesRequest{startingVersion=%s endingVersion=%s startingTimestamp=%q endingTimestamp=%q",
		ptrString(r.StartingVersion), ptrString(r.EndingVersion), r.StartingTimestamp, r.EndingTimestamp)
	if r.PageToken != "" {
		s += " pageToken=<redacted>"
	}
	return s + "}"
}

// GoString is String.
func (r ChangesRequest) GoString() string { return r.String() }

func ptrString(v *int64) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprint(*v)
}

package server

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/deltashare/deltashare/sharing/protocol"

	"github.com/deltashare/deltashare/sharing/delta"
	"github.com/deltashare/deltashare/sharing/server/deltalog"
)

// DefaultTableEndpoints returns the server's own table endpoints over local Delta tables:
// Version, Metadata, Query and Changes (QueryStatus and TemporaryCredentials stay nil, 501).
// New installs them unless WithTableEndpoints replaces them.
func (s *Server) DefaultTableEndpoints() TableEndpoints {
	return TableEndpoints{
		Version:  s.serveVersion,
		Metadata: s.serveMetadata,
		Query:    s.serveQuery,
		Changes:  s.serveChanges,
	}
}

// tableCache holds one opened deltalog.Table per configured table id. A table that fails to
// open is not cached, so a table created after the server started is found on the next request.
type tableCache struct {
	mu sync.Mutex
	m  map[string]*deltalog.Table
}

// deltaTable returns the opened Delta log of t.
func (s *Server) deltaTable(ctx context.Context, t *Table) (*deltalog.Table, error) {
	s.dtables.mu.Lock()
	dt := s.dtables.m[t.ID]
	s.dtables.mu.Unlock()
	if dt != nil {
		return dt, nil
	}
	dt, err := deltalog.Open(ctx, t.Location)
	if err != nil {
		s.log.Warn("cannot open shared table", "table", t.Share+"."+t.Schema+"."+t.Name, "err", err)
		return nil, errNotFound("table files missing: the server cannot read the Delta log of %s.%s.%s", t.Share, t.Schema, t.Name)
	}
	s.dtables.mu.Lock()
	defer s.dtables.mu.Unlock()
	if prev := s.dtables.m[t.ID]; prev != nil {
		return prev, nil
	}
	if s.dtables.m == nil {
		s.dtables.m = map[string]*deltalog.Table{}
	}
	s.dtables.m[t.ID] = dt
	return dt, nil
}

// logError maps errors of the Delta log reader to protocol errors: versions and timestamps
// out of range are the client's (400 INVALID_PARAMETER_VALUE); a damaged log is the table's
// (500 INTERNAL_ERROR saying so, the cause logged at error level); anything else is internal.
func logError(err error) error {
	var pe *Error
	switch {
	case errors.As(err, &pe):
		return err
	case errors.Is(err, deltalog.ErrLogDamaged):
		return &Error{Status: http.StatusInternalServerError, Code: CodeInternalError, cause: err,
			Message: "the table's Delta log is damaged, so the server cannot read the version asked; the cause is in the server's log (the table's owner must repair the log)"}
	case errors.Is(err, deltalog.ErrVersionNotFound),
		errors.Is(err, deltalog.ErrTimestampBeforeFirstCommit),
		errors.Is(err, deltalog.ErrTimestampAfterLatestCommit):
		return errInvalidParam("%s", strings.TrimPrefix(err.Error(), "deltalog: "))
	case errors.Is(err, context.Canceled):
		return Errorf(http.StatusServiceUnavailable, CodeInternalError, "the request was cancelled")
	}
	return err
}

// ---------------------------------------------------------------------------------------------
// Request parameters.

// parseTimestamp reads a protocol timestamp: ISO 8601, preferably in UTC
// (2022-01-01T00:00:00Z); a time without zone is taken as UTC.
func parseTimestamp(name, v string) (time.Time, error) {
	v = strings.TrimSpace(v)
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, v, time.UTC); err == nil {
			return t, nil
		}
	}
	return time.Time{}, errInvalidParam("Invalid %s: %q is not a timestamp; use ISO 8601 in UTC, such as 2022-01-01T00:00:00Z", name, cut(v, 64))
}

// versionAtTimestamp finds with find (a Delta table's VersionAt or VersionAtOrAfter) the
// version of the timestamp parameter name=v, which it returns parsed as at. A malformed
// timestamp is a protocol error; find's errors are returned as they are, for logError.
func versionAtTimestamp(ctx context.Context, name, v string, find func(context.Context, time.Time) (int64, error)) (version int64, at time.Time, err error) {
	if at, err = parseTimestamp(name, v); err != nil {
		return 0, at, err
	}
	version, err = find(ctx, at)
	return version, at, err
}

func cut(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

func fullName(t *Table) string { return t.Share + "." + t.Schema + "." + t.Name }

func errNoHistory(t *Table) *Error {
	return errInvalidParam("Reading table by version or timestamp is not supported because history sharing is not enabled on table: %s", fullName(t))
}

func errBeforeStart(t *Table) *Error {
	return errInvalidParam("You can only query table data since version %d.", t.StartVersion)
}

// ---------------------------------------------------------------------------------------------
// Response format negotiation.

// deltaOnlyFeatures lists the reader features of a table that the parquet response format
// cannot express: deletion vectors (rows to skip) and column mapping (physical column names).
// Other reader features (timestampNtz, v2Checkpoint, vacuumProtocolCheck...) do not change how
// the data files are read, so such tables are served in parquet format with minReaderVersion
// 1, as the reference server does.
func deltaOnlyFeatures(p *delta.Protocol, m *delta.Metadata) []string {
	var fs []string
	if m != nil && m.ColumnMappingMode() != "none" {
		fs = append(fs, "columnMapping")
	}
	dv := p.HasReaderFeature("deletionVectors")
	if m != nil {
		if b, err := strconv.ParseBool(m.Configuration["delta.enableDeletionVectors"]); err == nil && b {
			dv = true
		}
	}
	if dv {
		fs = append(fs, "deletionVectors")
	}
	return fs
}

// negotiation is what a table request's capabilities header decided.
type negotiation struct {
	format    protocol.ResponseFormat
	endStream bool   // the client asked for includeendstreamaction=true
	fileIDs   string // echoed fileidhash header ("" when absent)
}

// negotiatedSnapshot reads the table at version and negotiates the response format with the
// client; on failure it has answered the request and ok is false.
func (s *Server) negotiatedSnapshot(w http.ResponseWriter, r *http.Request, t *Table, dt *deltalog.Table, version int64) (snap *deltalog.Snapshot, neg negotiation, ok bool) {
	snap, err := dt.Snapshot(r.Context(), version)
	if err != nil {
		s.Error(w, r, logError(err))
		return nil, neg, false
	}
	neg, err = negotiate(r, t, snap.Protocol, snap.Metadata)
	if err != nil {
		s.Error(w, r, err)
		return nil, neg, false
	}
	return snap, neg, true
}

// negotiate picks the response format for a table with protocol p and metadata m. With one
// format asked for, that one; with both, parquet unless the table needs delta. Parquet alone
// for a table that needs delta, or delta with reader features that lack one the table needs,
// is 400 UNSUPPORTED_OPERATION.
func negotiate(r *http.Request, t *Table, p *delta.Protocol, m *delta.Metadata) (negotiation, error) {
	caps := ParseCapabilities(r.Header.Get(CapabilitiesHeader))
	n := negotiation{endStream: caps.Has(protocol.CapIncludeEndStreamAction, "true")}
	if h := r.Header.Get("fileidhash"); h != "" {
		n.fileIDs = strings.ToLower(strings.TrimSpace(h))
		if n.fileIDs != "parquet" && n.fileIDs != "delta" {
			return n, errInvalidParam("Unsupported fileidhash: %q. Supported: parquet, delta", cut(h, 32))
		}
	}
	formats := caps[protocol.CapResponseFormat]
	parquet, deltaFmt := len(formats) == 0, false
	for _, f := range formats {
		switch f {
		case "parquet":
			parquet = true
		case "delta":
			deltaFmt = true
		}
	}
	if !parquet && !deltaFmt {
		return n, errInvalidParam("responseformat %q is not supported: ask for parquet or delta", strings.Join(formats, ","))
	}
	needs := deltaOnlyFeatures(p, m)
	switch {
	case parquet && (len(needs) == 0 || !deltaFmt):
		if len(needs) > 0 {
			return n, Errorf(http.StatusBadRequest, CodeUnsupportedOperation,
				"Unsupported Delta Table Properties: table %s uses %s, which the parquet response format cannot express; ask for responseformat=delta with readerfeatures=%s",
				fullName(t), strings.Join(needs, " and "), strings.ToLower(strings.Join(needs, ",")))
		}
		n.format = protocol.FormatParquet
	default:
		n.format = protocol.FormatDelta
		var missing []string
		for _, f := range needs {
			if !caps.Has(protocol.CapReaderFeatures, f) {
				missing = append(missing, f)
			}
		}
		if len(missing) > 0 {
			return n, Errorf(http.StatusBadRequest, CodeUnsupportedOperation,
				"Unsupported Delta Table Properties: table %s uses %s, which the request's readerfeatures do not include",
				fullName(t), strings.Join(missing, " and "))
		}
	}
	return n, nil
}

// protocolAction is the protocol line of format f: the table's own protocol in delta format,
// minReaderVersion 1 in parquet format.
func protocolAction(f protocol.ResponseFormat, p *delta.Protocol) protocol.ProtocolAction {
	if f == protocol.FormatParquet || p == nil {
		return protocol.ProtocolAction{Protocol: delta.Protocol{MinReaderVersion: 1}}
	}
	return protocol.ProtocolAction{Protocol: *p}
}

func metadataAction(m *delta.Metadata, version *int64) protocol.MetadataAction {
	var md delta.Metadata
	if m != nil {
		md = *m
	}
	return protocol.MetadataAction{Metadata: md, Version: version}
}

// snapshotMetadata is the metaData line of a snapshot: with the table's size and file count.
func snapshotMetadata(snap *deltalog.Snapshot, version *int64) protocol.MetadataAction {
	ma := metadataAction(snap.Metadata, version)
	var size int64
	for _, f := range snap.Files {
		size += f.Size
	}
	n := int64(len(snap.Files))
	ma.Size, ma.NumFiles = &size, &n
	return ma
}

// ---------------------------------------------------------------------------------------------
// Streaming NDJSON responses.

// ndjson writes a metadata, query or changes response a line at a time through a buffer.
type ndjson struct {
	s   *Server
	r   *http.Request
	bw  *bufio.Writer
	enc *protocol.Encoder
	err error
}

// startNDJSON sends the headers of a 200 NDJSON response of table version and format.
// announceEnd says the response ends with an EndStreamAction (only when asked for).
func (s *Server) startNDJSON(w http.ResponseWriter, r *http.Request, version int64, neg negotiation, announceEnd bool) *ndjson {
	h := w.Header()
	h.Set("Content-Type", "application/x-ndjson; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set(protocol.HeaderTableVersion, strconv.FormatInt(version, 10))
	caps := protocol.CapResponseFormat + "=" + string(neg.format)
	if announceEnd {
		caps += ";" + protocol.CapIncludeEndStreamAction + "=true"
	}
	h.Set(CapabilitiesHeader, caps)
	if neg.fileIDs != "" {
		h.Set("fileidhash", neg.fileIDs)
	}
	w.WriteHeader(http.StatusOK)
	bw := bufio.NewWriterSize(w, 64<<10)
	return &ndjson{s: s, r: r, bw: bw, enc: protocol.NewEncoder(bw, neg.format)}
}

func (o *ndjson) item(it protocol.Item) {
	if o.err == nil {
		o.err = o.enc.Encode(it)
	}
}

// finish flushes the response. Every check that can fail runs before the 200 is sent, so only
// writing can fail here (the client went away), which is logged at debug level.
func (o *ndjson) finish() {
	if o.err == nil {
		o.err = o.bw.Flush()
	}
	if o.err != nil {
		o.s.log.Debug("writing a table response failed", "path", logPath(o.r), "err", o.err)
	}
}

// ---------------------------------------------------------------------------------------------
// Files: ids, local paths and signed URLs.

// fileID is the stable id of a file of a table: a hash of the table id and the file's
// decoded path (the same file has the same id in every response and both formats).
func fileID(tableID, kind, p string) string {
	h := sha256.New()
	h.Write([]byte("deltashare/file-id/v1\x00" + kind + "\x00" + tableID + "\x00" + p))
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// errOutsideRoot is the safe answer to a log path that leads outside the table root.
var errOutsideRoot = &Error{Status: http.StatusInternalServerError, Code: CodeInternalError,
	Message: "the table references a file outside its directory, which this server refuses to serve; see the server log"}

// signer signs the files of one response; every URL gets the same expiry.
type signer struct {
	s      *Server
	t      *Table
	dt     *deltalog.Table
	now    time.Time
	minExp *int64
}

func (s *Server) newSigner(t *Table, dt *deltalog.Table) *signer {
	return &signer{s: s, t: t, dt: dt, now: s.now()}
}

// relPath resolves a log path (add, remove, cdc or deletion vector path) to the path relative
// to the table root that signed URLs name, refusing anything outside the root.
func (sg *signer) relPath(p string) (string, error) {
	abs, err := sg.dt.AbsPath(p)
	if err != nil {
		sg.s.log.Error("refusing a file outside the table root", "table", fullName(sg.t), "path", cut(p, 300), "err", err)
		return "", errOutsideRoot
	}
	rel, err := filepath.Rel(sg.t.Location, abs)
	if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		sg.s.log.Error("refusing a file outside the table root", "table", fullName(sg.t), "path", cut(p, 300))
		return "", errOutsideRoot
	}
	return filepath.ToSlash(rel), nil
}

// sign returns the signed URL of rel and its expiry in ms, tracking the earliest expiry.
func (sg *signer) sign(rel string) (string, int64) {
	u, exp := sg.s.SignURL(sg.t.ID, rel, sg.now)
	ms := exp.UnixMilli()
	if sg.minExp == nil || ms < *sg.minExp {
		sg.minExp = &ms
	}
	return u, ms
}

// fileRef is a data change file to put in a response: exactly one of add, remove, cdc.
type fileRef struct {
	add    *delta.Add
	remove *delta.Remove
	cdc    *delta.CDC
	// version and timestamp (ms) of the change or of a time-travel snapshot, when sent.
	version, timestamp *int64
}

func (f *fileRef) path() string {
	switch {
	case f.add != nil:
		return f.add.Path
	case f.remove != nil:
		return f.remove.Path
	}
	return f.cdc.Path
}

func (f *fileRef) dv() *delta.DeletionVector {
	switch {
	case f.add != nil:
		return f.add.DeletionVector
	case f.remove != nil:
		return f.remove.DeletionVector
	}
	return nil
}

// resolved is a fileRef with its paths checked: the relative data path and, for a deletion
// vector stored in a file, the relative path of that file.
type resolved struct {
	ref   fileRef
	rel   string
	dvRel string
}

// resolve checks the paths of f (data file and deletion vector file).
func (sg *signer) resolve(f fileRef) (resolved, error) {
	rel, err := sg.relPath(f.path())
	if err != nil {
		return resolved{}, err
	}
	out := resolved{ref: f, rel: rel}
	if dv := f.dv(); dv != nil && dv.StorageType != "i" {
		p, err := delta.DeletionVectorPath(dv)
		if err != nil {
			sg.s.log.Error("unreadable deletion vector descriptor", "table", fullName(sg.t), "path", cut(f.path(), 300), "err", err)
			return resolved{}, fmt.Errorf("table %s: %w", fullName(sg.t), err)
		}
		if out.dvRel, err = sg.relPath(p); err != nil {
			return resolved{}, err
		}
	}
	return out, nil
}

// file builds the response file of r in format f: a fresh signed URL, the stable id, and in
// delta format the action itself with its deletion vector pointing at a signed URL.
func (sg *signer) file(r resolved, f protocol.ResponseFormat) protocol.File {
	url, exp := sg.sign(r.rel)
	ref := r.ref
	out := protocol.File{
		ID: fileID(sg.t.ID, "data", r.rel), URL: url,
		Version: ref.version, Timestamp: ref.timestamp, ExpirationTimestamp: &exp,
	}
	var dv *delta.DeletionVector
	if d := ref.dv(); d != nil && f == protocol.FormatDelta {
		c := *d
		if r.dvRel != "" {
			dvURL, _ := sg.sign(r.dvRel)
			c.StorageType, c.PathOrInlineDV = "p", dvURL
			out.DeletionVectorFileID = fileID(sg.t.ID, "dv", r.dvRel)
		}
		dv = &c
	}
	switch {
	case ref.add != nil:
		a := ref.add
		out.Kind, out.PartitionValues, out.Size, out.Stats = protocol.FileAdd, a.PartitionValues, a.Size, a.Stats
		if f == protocol.FormatDelta {
			out.ModificationTime, out.DataChange, out.Tags = a.ModificationTime, a.DataChange, a.Tags
			out.DeletionVector, out.BaseRowID, out.DefaultRowCommitVersion = dv, a.BaseRowID, a.DefaultRowCommitVersion
			out.ClusteringProvider = a.ClusteringProvider
		}
	case ref.remove != nil:
		rm := ref.remove
		out.Kind, out.PartitionValues = protocol.FileRemove, rm.PartitionValues
		if rm.Size != nil {
			out.Size = *rm.Size
		}
		if f == protocol.FormatDelta {
			out.Stats = rm.Stats
			out.DeletionTimestamp, out.DataChange, out.ExtendedFileMetadata = rm.DeletionTimestamp, rm.DataChange, rm.ExtendedFileMetadata
			out.Tags, out.DeletionVector = rm.Tags, dv
			out.BaseRowID, out.DefaultRowCommitVersion = rm.BaseRowID, rm.DefaultRowCommitVersion
		}
	default:
		c := ref.cdc
		out.Kind, out.PartitionValues, out.Size = protocol.FileCDF, c.PartitionValues, c.Size
		if f == protocol.FormatDelta {
			out.DataChange, out.Tags = c.DataChange, c.Tags
		}
	}
	return out
}

func ptr[T any](v T) *T { return &v }

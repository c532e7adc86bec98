package server

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/deltashare/deltashare/sharing/protocol"

	"github.com/deltashare/deltashare/sharing/delta"
	"github.com/deltashare/deltashare/sharing/predicate"
	"github.com/deltashare/deltashare/sharing/server/deltalog"
)

// refreshTokenTTL is how long a refresh token stays usable: long enough to outlive the URLs it
// refreshes by a good margin.
func (s *Server) refreshTokenTTL() time.Duration { return max(24*time.Hour, 2*s.cfg.URLTTL) }

// validateQuery checks the combinations of query parameters the protocol forbids, with the
// reference server's messages.
func validateQuery(req *protocol.QueryRequest, t *Table) error {
	n := 0
	for _, set := range []bool{req.Version != nil, req.Timestamp != "", req.StartingVersion != nil} {
		if set {
			n++
		}
	}
	switch {
	case n > 1:
		return errInvalidParam("Please only provide one of: version,timestamp,startingVersion")
	case req.Version != nil && *req.Version < 0:
		return errInvalidParam("table version cannot be negative.")
	case req.StartingVersion != nil && *req.StartingVersion < 0:
		return errInvalidParam("startingVersion cannot be negative.")
	case req.EndingVersion != nil && req.StartingVersion == nil:
		return errInvalidParam("endingVersion needs startingVersion.")
	case req.StartingVersion != nil && req.EndingVersion != nil && *req.StartingVersion > *req.EndingVersion:
		return errInvalidParam("startingVersion(%d) must be smaller than or equal to endingVersion(%d).", *req.StartingVersion, *req.EndingVersion)
	case req.MaxFiles != nil && *req.MaxFiles <= 0:
		return errInvalidParam("maxFiles must be positive.")
	case req.LimitHint != nil && *req.LimitHint < 0:
		return errInvalidParam("limitHint must not be negative.")
	case n > 0 && req.IncludeRefreshToken:
		return errInvalidParam("includeRefreshToken cannot be used when querying a specific version.")
	case req.PageToken != "" && req.IncludeRefreshToken:
		return errInvalidParam("includeRefreshToken must be used in the first page request.")
	case n > 0 && req.RefreshToken != "":
		return errInvalidParam("refreshToken cannot be used when querying a specific version.")
	case req.PageToken != "" && req.RefreshToken != "":
		return errInvalidParam("refreshToken must be used in the first page request.")
	}
	if n > 0 {
		if !t.HistoryShared {
			return errNoHistory(t)
		}
		if (req.Version != nil && *req.Version < t.StartVersion) || (req.StartingVersion != nil && *req.StartingVersion < t.StartVersion) {
			return errBeforeStart(t)
		}
	}
	return nil
}

var errBadPageToken = errInvalidParam("the page token is invalid or belongs to another query: the query parameters cannot change between pages; restart the query without pageToken")

// serveQuery answers POST .../query: a snapshot (latest, by version or by timestamp), or with
// startingVersion the data change files since that version.
func (s *Server) serveQuery(w http.ResponseWriter, r *http.Request, t *Table) {
	var req protocol.QueryRequest
	if err := DecodeJSONBody(r, &req); err != nil {
		s.Error(w, r, err)
		return
	}
	if err := validateQuery(&req, t); err != nil {
		s.Error(w, r, err)
		return
	}
	dt, err := s.deltaTable(r.Context(), t)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if req.StartingVersion != nil {
		s.queryChangesSince(w, r, t, dt, &req)
		return
	}
	s.querySnapshot(w, r, t, dt, &req)
}

// hintsKey are the parameters a refresh token binds: the hints that select files.
type hintsKey struct {
	P []string `json:"p,omitempty"`
	J string   `json:"j,omitempty"`
	L *int64   `json:"l,omitempty"`
}

// snapshotKey are the parameters a snapshot page token binds.
type snapshotKey struct {
	hintsKey
	V  *int64 `json:"v,omitempty"`
	TS string `json:"ts,omitempty"`
}

func (s *Server) querySnapshot(w http.ResponseWriter, r *http.Request, t *Table, dt *deltalog.Table, req *protocol.QueryRequest) {
	ctx := r.Context()
	hk := hintsKey{P: req.PredicateHints, J: req.JSONPredicateHints, L: req.LimitHint}
	pageHash := paramsHash(snapshotKey{hintsKey: hk, V: req.Version, TS: req.Timestamp})
	version := int64(-1)
	travel := req.Version != nil || req.Timestamp != ""
	offset := 0
	switch {
	case req.PageToken != "":
		tok, ok := s.ttok.decode(req.PageToken, tokQueryPage, t.ID)
		if !ok || tok.Params != pageHash {
			s.Error(w, r, errBadPageToken)
			return
		}
		version, offset = tok.Version, tok.Offset
	case req.Version != nil:
		version = *req.Version
	case req.Timestamp != "":
		var err error
		if version, _, err = versionAtTimestamp(ctx, "timestamp", req.Timestamp, dt.VersionAt); err != nil {
			s.Error(w, r, logError(err))
			return
		}
		if version < t.StartVersion {
			s.Error(w, r, errBeforeStart(t))
			return
		}
	case req.RefreshToken != "":
		tok, ok := s.ttok.decode(req.RefreshToken, tokRefresh, t.ID)
		switch {
		case !ok:
			s.Error(w, r, errInvalidParam("the refresh token is invalid or belongs to another table; restart the query"))
			return
		case tok.Params != paramsHash(hk):
			s.Error(w, r, errInvalidParam("the refresh token was issued for other predicate or limit hints; send the same hints, or restart the query"))
			return
		case s.now().Unix() >= tok.Expires:
			s.Error(w, r, errInvalidParam("The refresh token has expired. Please restart the query."))
			return
		}
		version = tok.Version
	}
	snap, neg, ok := s.negotiatedSnapshot(w, r, t, dt, version)
	if !ok {
		return
	}
	sel := s.selectFiles(r, t, snap, req)
	if offset > len(sel) {
		s.Error(w, r, errBadPageToken)
		return
	}
	end := len(sel)
	next := ""
	if req.MaxFiles != nil && offset+*req.MaxFiles < end {
		end = offset + *req.MaxFiles
		next = s.ttok.encode(tableToken{Kind: tokQueryPage, Table: t.ID, Version: snap.Version, Params: pageHash, Offset: end})
	}
	var fileVersion, fileTS *int64
	if travel {
		fileVersion, fileTS = ptr(snap.Version), ptr(snap.Timestamp.UnixMilli())
	}
	sg := s.newSigner(t, dt)
	page := make([]resolved, 0, end-offset)
	for _, i := range sel[offset:end] {
		rf, err := sg.resolve(fileRef{add: snap.Files[i], version: fileVersion, timestamp: fileTS})
		if err != nil {
			s.Error(w, r, err)
			return
		}
		page = append(page, rf)
	}

	out := s.startNDJSON(w, r, snap.Version, neg, neg.endStream)
	p := protocolAction(neg.format, snap.Protocol)
	out.item(protocol.Item{Protocol: &p})
	md := snapshotMetadata(snap, fileVersion)
	out.item(protocol.Item{Metadata: &md})
	for _, rf := range page {
		f := sg.file(rf, neg.format)
		out.item(protocol.Item{File: &f})
	}
	if req.IncludeRefreshToken || req.MaxFiles != nil || neg.endStream {
		es := protocol.EndStream{NextPageToken: next, MinURLExpirationTimestamp: sg.minExp}
		if req.IncludeRefreshToken {
			es.RefreshToken = s.ttok.encode(tableToken{Kind: tokRefresh, Table: t.ID, Version: snap.Version,
				Params: paramsHash(hk), Expires: s.now().Add(s.refreshTokenTTL()).Unix()})
		}
		out.item(protocol.Item{EndStream: &es})
	}
	out.finish()
}

// selectFiles returns the indexes of the snapshot's files to return: those that might match
// the jsonPredicateHints, then, without any predicate hints, the shortest prefix whose live row
// counts (numRecords minus deleted rows) reach limitHint. Hints only ever skip files that cannot
// hold wanted rows: a hint that does not parse is ignored, and a file without row counts turns
// the limit off.
func (s *Server) selectFiles(r *http.Request, t *Table, snap *deltalog.Snapshot, req *protocol.QueryRequest) []int {
	e := s.hintExpr(t, req.JSONPredicateHints, snap.Metadata, snap.Schema)
	limit := int64(-1)
	if req.LimitHint != nil && len(req.PredicateHints) == 0 && req.JSONPredicateHints == "" {
		limit = *req.LimitHint
	}
	sel := make([]int, 0, len(snap.Files))
	var rows int64
	for i, f := range snap.Files {
		if limit >= 0 && rows >= limit {
			break
		}
		var st *predicate.Stats
		if e != nil || limit >= 0 {
			st, _ = predicate.ParseStats(f.Stats) // unparseable stats: nil, nothing skipped
		}
		if e != nil && !predicate.MightMatch(e, f.PartitionValues, st) {
			continue
		}
		sel = append(sel, i)
		if limit >= 0 {
			n, ok := delta.LiveRows(f.Stats, f.DeletionVector)
			if !ok {
				limit = -1
				continue
			}
			rows += n
		}
	}
	return sel
}

// hintExpr parses jsonPredicateHints for file skipping, in physical column names under column
// mapping. Hints are optional: a hint that cannot be used is logged at debug level and ignored
// (every file is returned), as the protocol asks.
func (s *Server) hintExpr(t *Table, js string, m *delta.Metadata, schema *delta.StructType) *predicate.Expr {
	if strings.TrimSpace(js) == "" {
		return nil
	}
	e, err := predicate.ParseJSON([]byte(js))
	if err != nil {
		s.log.Debug("ignoring jsonPredicateHints", "table", fullName(t), "err", err)
		return nil
	}
	if mode := m.ColumnMappingMode(); mode != "none" && schema != nil {
		e = predicate.RenameColumns(e, func(name string) (string, bool) { return physicalName(schema, mode, name) })
	}
	return e
}

// physicalName maps a logical (possibly dotted, nested) column name to its physical name.
func physicalName(st *delta.StructType, mode, name string) (string, bool) {
	if f := st.Field(name); f != nil {
		return f.PhysicalName(mode), true
	}
	for i := 0; i < len(name); i++ {
		if name[i] != '.' {
			continue
		}
		f := st.Field(name[:i])
		if f == nil {
			continue
		}
		sub, ok := f.Type.(*delta.StructType)
		if !ok {
			continue
		}
		if rest, ok := physicalName(sub, mode, name[i+1:]); ok {
			return f.PhysicalName(mode) + "." + rest, true
		}
	}
	return "", false
}

// ---------------------------------------------------------------------------------------------
// startingVersion queries and change data feed: lines after the head.

// lineItem is one line after the head of a startingVersion query or a change data feed
// response: a historical metaData or protocol, or a file.
type lineItem struct {
	version  int64
	metadata *delta.Metadata
	protocol *delta.Protocol
	file     *fileRef
}

// pageRange returns the items of a page starting at offset with at most maxFiles files (all
// when maxFiles is nil), and the offset of the next page (-1 when this is the last page).
// Non-file lines that follow the last file of a page stay on that page.
func pageRange(items []lineItem, offset int, maxFiles *int) (end, next int) {
	if maxFiles == nil {
		return len(items), -1
	}
	files := 0
	for i := offset; i < len(items); i++ {
		if items[i].file == nil {
			continue
		}
		if files == *maxFiles {
			return i, i
		}
		files++
	}
	return len(items), -1
}

// commitActions reads the JSON commit of version v from the table's _delta_log.
func commitActions(t *Table, v int64) ([]*delta.Action, error) {
	name := filepath.Join(t.Location, "_delta_log", fmt.Sprintf("%020d.json", v))
	f, err := os.Open(name)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, errInvalidParam("the commit of version %d is no longer in the table's log (removed by log cleanup); start from a later version", v)
		}
		return nil, err
	}
	defer f.Close()
	var out []*delta.Action
	br := bufio.NewReaderSize(f, 64<<10)
	for {
		line, err := br.ReadBytes('\n')
		if len(strings.TrimSpace(string(line))) > 0 {
			a, perr := delta.ParseAction(line)
			if perr != nil {
				return nil, fmt.Errorf("%s: %w", name, perr)
			}
			out = append(out, a)
		}
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// commitTimes caches commit timestamps (ms) for one request.
type commitTimes struct {
	dt *deltalog.Table
	m  map[int64]int64
}

func (c *commitTimes) at(ctx context.Context, v int64) (*int64, error) {
	if ms, ok := c.m[v]; ok {
		return ptr(ms), nil
	}
	ts, err := c.dt.CommitTimestamp(ctx, v)
	if err != nil {
		return nil, logError(err)
	}
	if c.m == nil {
		c.m = map[int64]int64{}
	}
	c.m[v] = ts.UnixMilli()
	return ptr(ts.UnixMilli()), nil
}

// sinceKey are the parameters a startingVersion page token binds.
type sinceKey struct {
	S  int64  `json:"s"`
	E  *int64 `json:"e,omitempty"`
	HP bool   `json:"hp,omitempty"`
}

// queryChangesSince answers a query with startingVersion: for each version from it to
// endingVersion (or the latest), its add and remove actions with dataChange, with their
// version and commit timestamp, and the metaData (and, asked for in delta format, protocol)
// actions of later versions.
func (s *Server) queryChangesSince(w http.ResponseWriter, r *http.Request, t *Table, dt *deltalog.Table, req *protocol.QueryRequest) {
	ctx := r.Context()
	start := *req.StartingVersion
	hash := paramsHash(sinceKey{S: start, E: req.EndingVersion, HP: req.IncludeHistoricalProtocol})
	var end int64
	offset := 0
	if req.PageToken != "" {
		tok, ok := s.ttok.decode(req.PageToken, tokQueryPage, t.ID)
		if !ok || tok.Params != hash || tok.Version < start {
			s.Error(w, r, errBadPageToken)
			return
		}
		end, offset = tok.Version, tok.Offset
	} else {
		latest, err := dt.LatestVersion(ctx)
		if err != nil {
			s.Error(w, r, logError(err))
			return
		}
		if start > latest {
			s.Error(w, r, errInvalidParam("Provided Start version(%d) for reading change data is invalid. Start version cannot be greater than the latest version of the table(%d).", start, latest))
			return
		}
		end = latest
		if req.EndingVersion != nil {
			if *req.EndingVersion > latest {
				s.Error(w, r, errInvalidParam("Provided end version(%d) is invalid. End version cannot be greater than the latest version of the table(%d).", *req.EndingVersion, latest))
				return
			}
			end = *req.EndingVersion
		}
	}
	_, headProto, headMeta, err := dt.Head(ctx, start)
	if err != nil {
		s.Error(w, r, logError(err))
		return
	}
	neg, err := negotiate(r, t, headProto, headMeta)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	histProto := req.IncludeHistoricalProtocol && neg.format == protocol.FormatDelta
	times := &commitTimes{dt: dt}
	var items []lineItem
	for v := start; v <= end; v++ {
		acts, err := commitActions(t, v)
		if err != nil {
			s.Error(w, r, err)
			return
		}
		var ts *int64
		for _, a := range acts {
			switch {
			case a.MetaData != nil && v > start:
				items = append(items, lineItem{version: v, metadata: a.MetaData})
			case a.Protocol != nil && v > start && histProto:
				items = append(items, lineItem{version: v, protocol: a.Protocol})
			case a.Add != nil && a.Add.DataChange, a.Remove != nil && a.Remove.DataChange:
				if ts == nil {
					if ts, err = times.at(ctx, v); err != nil {
						s.Error(w, r, err)
						return
					}
				}
				items = append(items, lineItem{version: v, file: &fileRef{add: a.Add, remove: a.Remove, version: ptr(v), timestamp: ts}})
			}
		}
	}
	var headProtoVersion *int64
	if histProto {
		headProtoVersion = ptr(start)
	}
	s.writeChangeLines(w, r, t, dt, neg, start, end, headProto, headProtoVersion,
		metadataAction(headMeta, ptr(start)), items, offset, req.MaxFiles, tokQueryPage, tableToken{Params: hash})
}

// writeChangeLines writes one page of a startingVersion query or change data feed response:
// the head, the page's items from offset, and the EndStreamAction (with the next page's token)
// when the client asked for one or pages.
func (s *Server) writeChangeLines(w http.ResponseWriter, r *http.Request, t *Table, dt *deltalog.Table, neg negotiation,
	headerVersion, end int64, proto *delta.Protocol, protoVersion *int64, md protocol.MetadataAction,
	items []lineItem, offset int, maxFiles *int, kind string, tok tableToken) {
	if offset > len(items) {
		s.Error(w, r, errBadPageToken)
		return
	}
	last, next := pageRange(items, offset, maxFiles)
	sg := s.newSigner(t, dt)
	page := make([]resolved, last-offset)
	for i := offset; i < last; i++ {
		if f := items[i].file; f != nil {
			rf, err := sg.resolve(*f)
			if err != nil {
				s.Error(w, r, err)
				return
			}
			page[i-offset] = rf
		}
	}
	endStream := maxFiles != nil || neg.endStream
	out := s.startNDJSON(w, r, headerVersion, neg, neg.endStream)
	out.enc.DataChangeFiles = true // parquet format: `add` lines, not snapshot `file` lines
	p := protocolAction(neg.format, proto)
	p.Version = protoVersion
	out.item(protocol.Item{Protocol: &p})
	out.item(protocol.Item{Metadata: &md})
	for i := offset; i < last; i++ {
		it := items[i]
		switch {
		case it.metadata != nil:
			m := metadataAction(it.metadata, ptr(it.version))
			out.item(protocol.Item{Metadata: &m})
		case it.protocol != nil:
			hp := protocolAction(neg.format, it.protocol)
			hp.Version = ptr(it.version)
			out.item(protocol.Item{Protocol: &hp})
		default:
			f := sg.file(page[i-offset], neg.format)
			out.item(protocol.Item{File: &f})
		}
	}
	if endStream {
		es := protocol.EndStream{MinURLExpirationTimestamp: sg.minExp}
		if next >= 0 {
			tok.Kind, tok.Table, tok.Version, tok.Offset = kind, t.ID, end, next
			es.NextPageToken = s.ttok.encode(tok)
		}
		out.item(protocol.Item{EndStream: &es})
	}
	out.finish()
}

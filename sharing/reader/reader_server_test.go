package reader

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/deltashare/deltashare/sharing"
	"github.com/deltashare/deltashare/sharing/protocol"

	"github.com/stretchr/testify/require"

	"github.com/deltashare/deltashare/sharing/delta"
	"github.com/deltashare/deltashare/sharing/predicate"
	"github.com/deltashare/deltashare/sharing/server/deltalog"
)

// lake is a small Delta Sharing server for reader tests: it answers query, metadata and
// changes requests for real Delta tables on disk (read with deltalog) and serves their files
// under pre-signed-looking URLs that expire by a fake clock.
type lake struct {
	t      testing.TB
	srv    *httptest.Server
	tables map[string]string       // table name -> directory
	format protocol.ResponseFormat // preferred response format
	ttl    time.Duration           // URL lifetime
	clock  atomic.Int64            // fake now, ms since the epoch

	noRefreshToken bool // do not hand out refresh tokens

	mu       sync.Mutex
	opened   map[string]*deltalog.Table
	gets     map[string]int // file GETs by table/path
	queries  []protocol.QueryRequest
	changes  int
	metadata int
	// fault, when set, may answer a file request itself (returning true). n counts the GETs of
	// that file so far, this one included.
	fault func(w http.ResponseWriter, r *http.Request, file string, n int) bool
}

const lakeSecret = "signed-url-secret"

func newLake(t testing.TB, tables map[string]string) *lake {
	l := &lake{t: t, tables: tables, format: protocol.FormatDelta, ttl: time.Hour, opened: map[string]*deltalog.Table{}, gets: map[string]int{}}
	l.clock.Store(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli())
	l.srv = httptest.NewServer(http.HandlerFunc(l.serve))
	t.Cleanup(l.srv.Close)
	return l
}

func (l *lake) now() time.Time { return time.UnixMilli(l.clock.Load()).UTC() }

func (l *lake) advance(d time.Duration) { l.clock.Add(d.Milliseconds()) }

// client returns a client of the lake using its fake clock and retries without sleeping.
func (l *lake) client(t testing.TB, opts ...sharing.Option) *sharing.Client {
	all := append([]sharing.Option{
		sharing.WithClock(l.now),
		sharing.WithRetryPolicy(sharing.RetryPolicy{Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }}),
	}, opts...)
	c, err := sharing.NewClient(&sharing.Profile{ShareCredentialsVersion: 1, Type: sharing.ProfileTypeBearerToken, Endpoint: l.srv.URL + "/api", BearerToken: testToken}, all...)
	require.NoError(t, err)
	return c
}

func (l *lake) setFault(f func(w http.ResponseWriter, r *http.Request, file string, n int) bool) {
	l.mu.Lock()
	l.fault = f
	l.mu.Unlock()
}

func (l *lake) fileGets() map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]int{}
	for k, v := range l.gets {
		out[k] = v
	}
	return out
}

func (l *lake) totalGets() int {
	n := 0
	for _, v := range l.fileGets() {
		n += v
	}
	return n
}

func (l *lake) queryLog() []protocol.QueryRequest {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]protocol.QueryRequest(nil), l.queries...)
}

func (l *lake) table(name string) (*deltalog.Table, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if t, ok := l.opened[name]; ok {
		return t, nil
	}
	dir, ok := l.tables[name]
	if !ok {
		return nil, fmt.Errorf("no table %s", name)
	}
	t, err := deltalog.Open(context.Background(), dir)
	if err != nil {
		return nil, err
	}
	l.opened[name] = t
	return t, nil
}

func (l *lake) serve(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	switch {
	case strings.HasPrefix(p, "/files/"):
		l.serveFile(w, r, strings.TrimPrefix(p, "/files/"))
		return
	case strings.HasPrefix(p, "/api/shares/s/schemas/d/tables/"):
	default:
		http.NotFound(w, r)
		return
	}
	rest := strings.TrimPrefix(p, "/api/shares/s/schemas/d/tables/")
	name, op, _ := strings.Cut(rest, "/")
	tbl, err := l.table(name)
	if err != nil {
		writeJSON(w, 404, map[string]string{"errorCode": "RESOURCE_DOES_NOT_EXIST", "message": err.Error()})
		return
	}
	format := protocol.FormatParquet
	if strings.Contains(strings.ToLower(r.Header.Get(protocol.HeaderCapabilities)), "delta") && l.format == protocol.FormatDelta {
		format = protocol.FormatDelta
	}
	switch op {
	case "query":
		l.query(w, r, name, tbl, format)
	case "metadata":
		l.mu.Lock()
		l.metadata++
		l.mu.Unlock()
		v, err := l.version(r.Context(), tbl, ptrFromQuery(r, "version"), r.URL.Query().Get("timestamp"))
		if err != nil {
			writeJSON(w, 400, map[string]string{"errorCode": "INVALID_PARAMETER_VALUE", "message": err.Error()})
			return
		}
		snap, err := tbl.Snapshot(r.Context(), v)
		if err != nil {
			writeJSON(w, 400, map[string]string{"errorCode": "INVALID_PARAMETER_VALUE", "message": err.Error()})
			return
		}
		l.head(w, format, v)
		enc := protocol.NewEncoder(w, format)
		_ = enc.Protocol(protocol.ProtocolAction{Protocol: *snap.Protocol})
		_ = enc.Metadata(protocol.MetadataAction{Metadata: *snap.Metadata})
	case "changes":
		l.serveChanges(w, r, name, tbl, format)
	default:
		http.NotFound(w, r)
	}
}

func ptrFromQuery(r *http.Request, k string) *int64 {
	s := r.URL.Query().Get(k)
	if s == "" {
		return nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return nil
	}
	return &v
}

func (l *lake) version(ctx context.Context, tbl *deltalog.Table, v *int64, ts string) (int64, error) {
	switch {
	case v != nil:
		return *v, nil
	case ts != "":
		us, err := delta.ParseTimestamp(ts, false)
		if err != nil {
			return 0, err
		}
		return tbl.VersionAt(ctx, time.UnixMicro(us))
	}
	return tbl.LatestVersion(ctx)
}

func (l *lake) head(w http.ResponseWriter, format protocol.ResponseFormat, v int64) {
	w.Header().Set("Content-Type", "application/x-ndjson; charset=utf-8")
	w.Header().Set(protocol.HeaderTableVersion, strconv.FormatInt(v, 10))
	w.Header().Set(protocol.HeaderCapabilities, "responseformat="+string(format))
}

func fileID(parts ...string) string {
	h := sha1.Sum([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(h[:8])
}

// url signs a table-relative path.
func (l *lake) url(name, rel string) string {
	exp := l.now().Add(l.ttl).UnixMilli()
	u := l.srv.URL + "/files/" + name + "/" + strings.TrimLeft(rel, "/")
	return u + "?exp=" + strconv.FormatInt(exp, 10) + "&sig=" + lakeSecret
}

// file converts a log action to a response file.
func (l *lake) file(name string, kind protocol.FileKind, p string, pv map[string]string, size int64, stats string, dv *delta.DeletionVector) (protocol.File, error) {
	rel, err := url2rel(p)
	if err != nil {
		return protocol.File{}, err
	}
	exp := l.now().Add(l.ttl).UnixMilli()
	f := protocol.File{Kind: kind, URL: l.url(name, rel), PartitionValues: pv, Size: size, Stats: stats, ExpirationTimestamp: &exp, DataChange: true}
	idParts := []string{name, rel}
	if dv != nil {
		d := *dv
		idParts = append(idParts, dv.UniqueID())
		if d.StorageType == "u" {
			dp, err := delta.DeletionVectorPath(dv)
			if err != nil {
				return protocol.File{}, err
			}
			d.StorageType, d.PathOrInlineDV = "p", l.url(name, dp)
			f.DeletionVectorFileID = fileID(name, dp)
		}
		f.DeletionVector = &d
	}
	f.ID = fileID(idParts...)
	return f, nil
}

// url2rel checks that an add path is relative; it stays URL-escaped in the file's URL (the
// HTTP server decodes it).
func url2rel(p string) (string, error) {
	if strings.Contains(p, "://") || strings.HasPrefix(p, "/") {
		return "", fmt.Errorf("absolute path %s not supported by the test server", p)
	}
	return p, nil
}

func (l *lake) query(w http.ResponseWriter, r *http.Request, name string, tbl *deltalog.Table, format protocol.ResponseFormat) {
	var req protocol.QueryRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeJSON(w, 400, map[string]string{"errorCode": "MALFORMED_REQUEST", "message": err.Error()})
		return
	}
	l.mu.Lock()
	l.queries = append(l.queries, req)
	l.mu.Unlock()
	var v int64
	var err error
	if req.RefreshToken != "" {
		s, ok := strings.CutPrefix(req.RefreshToken, "rt-")
		if !ok {
			writeJSON(w, 400, map[string]string{"errorCode": "INVALID_PARAMETER_VALUE", "message": "bad refresh token"})
			return
		}
		v, err = strconv.ParseInt(s, 10, 64)
	} else {
		v, err = l.version(r.Context(), tbl, req.Version, req.Timestamp)
	}
	if err != nil {
		writeJSON(w, 400, map[string]string{"errorCode": "INVALID_PARAMETER_VALUE", "message": err.Error()})
		return
	}
	snap, err := tbl.Snapshot(r.Context(), v)
	if err != nil {
		writeJSON(w, 400, map[string]string{"errorCode": "INVALID_PARAMETER_VALUE", "message": err.Error()})
		return
	}
	var hint *predicate.Expr
	if req.JSONPredicateHints != "" {
		hint, err = predicate.ParseJSON([]byte(req.JSONPredicateHints))
		if err != nil {
			writeJSON(w, 400, map[string]string{"errorCode": "INVALID_PARAMETER_VALUE", "message": "jsonPredicateHints: " + err.Error()})
			return
		}
		mode := "none"
		if snap.Protocol.MinReaderVersion >= 2 {
			mode = snap.Metadata.ColumnMappingMode()
		}
		nm := delta.NewNameMapping(snap.Schema, mode)
		hint = predicate.RenameColumns(hint, func(n string) (string, bool) {
			p, ok := nm.ToPhysical(strings.Split(n, ".")...)
			return strings.Join(p, "."), ok
		})
	}
	l.head(w, format, v)
	enc := protocol.NewEncoder(w, format)
	_ = enc.Protocol(protocol.ProtocolAction{Protocol: *snap.Protocol})
	_ = enc.Metadata(protocol.MetadataAction{Metadata: *snap.Metadata})
	var rows int64
	for _, a := range snap.Files {
		if hint != nil {
			st, _ := predicate.ParseStats(a.Stats)
			if !predicate.MightMatch(hint, a.PartitionValues, st) {
				continue
			}
		}
		if req.LimitHint != nil && rows >= *req.LimitHint {
			break
		}
		if st, err := predicate.ParseStats(a.Stats); err == nil && st != nil && st.NumRecords != nil {
			rows += *st.NumRecords
		}
		f, err := l.file(name, protocol.FileAdd, a.Path, a.PartitionValues, a.Size, a.Stats, a.DeletionVector)
		if err != nil {
			_ = enc.EndStream(protocol.EndStream{ErrorMessage: err.Error()})
			return
		}
		if req.Version != nil || req.Timestamp != "" {
			f.Version = &v
		}
		_ = enc.File(f)
	}
	es := protocol.EndStream{}
	if req.IncludeRefreshToken && !l.noRefreshToken {
		es.RefreshToken = "rt-" + strconv.FormatInt(v, 10)
	}
	exp := l.now().Add(l.ttl).UnixMilli()
	es.MinURLExpirationTimestamp = &exp
	_ = enc.EndStream(es)
}

func (l *lake) serveChanges(w http.ResponseWriter, r *http.Request, name string, tbl *deltalog.Table, format protocol.ResponseFormat) {
	l.mu.Lock()
	l.changes++
	l.mu.Unlock()
	start := ptrFromQuery(r, "startingVersion")
	end := ptrFromQuery(r, "endingVersion")
	if start == nil {
		writeJSON(w, 400, map[string]string{"errorCode": "INVALID_PARAMETER_VALUE", "message": "startingVersion needed"})
		return
	}
	e := int64(-1)
	if end != nil {
		e = *end
	}
	chs, err := tbl.Changes(r.Context(), *start, e)
	if err != nil {
		writeJSON(w, 400, map[string]string{"errorCode": "INVALID_PARAMETER_VALUE", "message": err.Error()})
		return
	}
	latest := *start
	if len(chs) > 0 {
		latest = chs[len(chs)-1].Version
	}
	snap, err := tbl.Snapshot(r.Context(), latest)
	if err != nil {
		writeJSON(w, 400, map[string]string{"errorCode": "INVALID_PARAMETER_VALUE", "message": err.Error()})
		return
	}
	l.head(w, format, *start)
	enc := protocol.NewEncoder(w, format)
	enc.DataChangeFiles = true
	_ = enc.Protocol(protocol.ProtocolAction{Protocol: *snap.Protocol})
	_ = enc.Metadata(protocol.MetadataAction{Metadata: *snap.Metadata})
	for _, c := range chs {
		var f protocol.File
		switch c.Kind {
		case deltalog.ChangeAdd:
			f, err = l.file(name, protocol.FileAdd, c.Add.Path, c.Add.PartitionValues, c.Add.Size, c.Add.Stats, c.Add.DeletionVector)
		case deltalog.ChangeRemove:
			var size int64
			if c.Remove.Size != nil {
				size = *c.Remove.Size
			}
			f, err = l.file(name, protocol.FileRemove, c.Remove.Path, c.Remove.PartitionValues, size, c.Remove.Stats, c.Remove.DeletionVector)
		case deltalog.ChangeCDC:
			f, err = l.file(name, protocol.FileCDF, c.CDC.Path, c.CDC.PartitionValues, c.CDC.Size, "", nil)
		}
		if err != nil {
			_ = enc.EndStream(protocol.EndStream{ErrorMessage: err.Error()})
			return
		}
		v, ts := c.Version, c.Timestamp.UnixMilli()
		f.Version, f.Timestamp = &v, &ts
		_ = enc.File(f)
	}
	_ = enc.EndStream(protocol.EndStream{})
}

func (l *lake) serveFile(w http.ResponseWriter, r *http.Request, p string) {
	name, rel, ok := strings.Cut(p, "/")
	dir, known := l.tables[name]
	if !ok || !known || r.URL.Query().Get("sig") != lakeSecret {
		http.Error(w, "bad signature", http.StatusForbidden)
		return
	}
	exp, err := strconv.ParseInt(r.URL.Query().Get("exp"), 10, 64)
	if err != nil || l.now().UnixMilli() > exp {
		http.Error(w, "<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>", http.StatusForbidden)
		return
	}
	key := name + "/" + rel
	l.mu.Lock()
	l.gets[key]++
	n := l.gets[key]
	fault := l.fault
	l.mu.Unlock()
	if fault != nil && fault(w, r, key, n) {
		return
	}
	clean := path.Clean("/" + rel)
	fh, err := os.Open(filepath.Join(dir, filepath.FromSlash(clean)))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	http.ServeContent(w, r, "", st.ModTime(), fh)
}

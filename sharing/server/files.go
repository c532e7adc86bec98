package server

import (
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// filesPath is the path prefix of signed file URLs; they carry no bearer token, like cloud
// presigned URLs, so they live outside the protocol prefix.
const filesPath = "/files/"

// SignURL returns a signed URL for the file at relPath (relative to the table root, with '/'
// separators, NOT URL-escaped: unescape a Delta log add.path first) of the table with id
// tableID, valid until the returned expiry (now + URLTTL, to the second). The URL is
// {base}/files/{tableID}/{escaped relPath}?expires={unix}&sig={hex}; the file handler checks
// the signature and the expiry and serves the file with range support, never outside the
// table root.
func (s *Server) SignURL(tableID, relPath string, now time.Time) (string, time.Time) {
	expires := now.Add(s.cfg.URLTTL).Truncate(time.Second)
	segs := strings.Split(relPath, "/")
	for i, seg := range segs {
		segs[i] = url.PathEscape(seg)
	}
	q := url.Values{}
	q.Set("expires", strconv.FormatInt(expires.Unix(), 10))
	q.Set("sig", s.signer.Sign(tableID, relPath, expires))
	return s.BaseURL() + filesPath + url.PathEscape(tableID) + "/" + strings.Join(segs, "/") + "?" + q.Encode(), expires
}

// parseFilePath splits an escaped /files/{tableID}/{path} into the table id and the clean
// relative path. Every segment is unescaped on its own, so an encoded '/' cannot join segments;
// empty, "." and ".." segments, backslashes and NUL are refused.
func parseFilePath(escaped string) (tableID, rel string, ok bool) {
	rest, found := strings.CutPrefix(escaped, filesPath)
	if !found {
		return "", "", false
	}
	segs := strings.Split(rest, "/")
	if len(segs) < 2 {
		return "", "", false
	}
	for i, seg := range segs {
		u, err := url.PathUnescape(seg)
		if err != nil || u == "" || u == "." || u == ".." || strings.ContainsAny(u, "/\\\x00") {
			return "", "", false
		}
		segs[i] = u
	}
	return segs[0], strings.Join(segs[1:], "/"), true
}

// handleFile serves a signed file URL.
func (s *Server) handleFile(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		s.Error(w, r, Errorf(http.StatusMethodNotAllowed, CodeMethodNotAllowed, "signed file URLs accept GET and HEAD only"))
		return
	}
	denied := errForbidden("the signed file URL is invalid: request fresh file URLs from the table query")
	tableID, rel, ok := parseFilePath(r.URL.EscapedPath())
	if !ok {
		s.Error(w, r, denied)
		return
	}
	q := r.URL.Query()
	exp, err := strconv.ParseInt(q.Get("expires"), 10, 64)
	if err != nil || exp < 0 {
		s.Error(w, r, denied)
		return
	}
	expires := time.Unix(exp, 0)
	if !s.signer.Verify(tableID, rel, expires, q.Get("sig")) {
		s.Error(w, r, denied)
		return
	}
	if !s.now().Before(expires) {
		s.Error(w, r, errForbidden("the signed file URL expired at %s: query the table again for fresh URLs",
			expires.UTC().Format(time.RFC3339)))
		return
	}
	t := s.cat.tableID[tableID]
	if t == nil {
		s.Error(w, r, errNotFound("the table of this file URL is no longer shared"))
		return
	}
	// os.Root refuses any path, symlink included, that resolves outside the table root.
	root, err := os.OpenRoot(t.Location)
	if err != nil {
		s.Error(w, r, fmt.Errorf("open table root %s: %w", t.Location, err))
		return
	}
	defer root.Close()
	f, err := root.Open(rel)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			s.Error(w, r, errNotFound("the file no longer exists in the table: query the table again"))
		} else {
			// Escapes from the root and permission problems alike: say nothing more.
			s.log.Warn("signed file refused", "table", t.ID, "path", rel, "err", err)
			s.Error(w, r, denied)
		}
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		s.Error(w, r, fmt.Errorf("stat %s: %w", rel, err))
		return
	}
	if !fi.Mode().IsRegular() {
		s.Error(w, r, errNotFound("the file no longer exists in the table: query the table again"))
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "private, max-age="+strconv.FormatInt(int64(expires.Sub(s.now())/time.Second), 10))
	h.Set("ETag", fmt.Sprintf(`"%x-%x"`, fi.ModTime().UnixNano(), fi.Size()))
	http.ServeContent(w, r, "", fi.ModTime(), f)
}

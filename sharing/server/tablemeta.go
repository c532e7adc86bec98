package server

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/deltashare/deltashare/sharing/protocol"

	"github.com/deltashare/deltashare/sharing/server/deltalog"
)

// serveVersion answers GET .../version (and HEAD on the table): the Delta-Table-Version header
// with the latest version, or with startingTimestamp the earliest version committed at or after
// it (the first readable version when the timestamp is older than the table). The body is empty.
func (s *Server) serveVersion(w http.ResponseWriter, r *http.Request, t *Table) {
	ctx := r.Context()
	q := r.URL.Query()
	dt, err := s.deltaTable(ctx, t)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	var v int64
	if ts := q.Get("startingTimestamp"); ts != "" {
		if !t.HistoryShared {
			s.Error(w, r, errNoHistory(t))
			return
		}
		var at time.Time
		v, at, err = versionAtTimestamp(ctx, "startingTimestamp", ts, dt.VersionAtOrAfter)
		if err != nil {
			if errors.Is(err, deltalog.ErrTimestampAfterLatestCommit) {
				err = errInvalidParam("Not a valid starting timestamp: no version was committed at or after %s", at.UTC().Format("2006-01-02T15:04:05.999Z07:00"))
			}
			s.Error(w, r, logError(err))
			return
		}
		if v < t.StartVersion {
			s.Error(w, r, errInvalidParam("You can only query table data since version %d. The provided timestamp(%s) corresponds to %d.", t.StartVersion, cut(ts, 64), v))
			return
		}
	} else if v, _, _, err = dt.Head(ctx, -1); err != nil {
		// The latest version must be readable, as a query of it is: a damaged log fails here
		// as it fails there.
		s.Error(w, r, logError(err))
		return
	}
	w.Header().Set(protocol.HeaderTableVersion, strconv.FormatInt(v, 10))
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusOK)
}

// serveMetadata answers GET .../metadata[?version=N|timestamp=T]: the protocol and metaData
// lines of the table (in the negotiated format) with the Delta-Table-Version header.
func (s *Server) serveMetadata(w http.ResponseWriter, r *http.Request, t *Table) {
	ctx := r.Context()
	q := r.URL.Query()
	vs, ts := q.Get("version"), q.Get("timestamp")
	if vs != "" && ts != "" {
		s.Error(w, r, errInvalidParam("Please only provide one of: version,timestamp"))
		return
	}
	version := int64(-1)
	var travel *int64
	if vs != "" {
		v, err := strconv.ParseInt(vs, 10, 64)
		if err != nil {
			s.Error(w, r, errInvalidParam("version %q is not a number", cut(vs, 32)))
			return
		}
		if v < 0 {
			s.Error(w, r, errInvalidParam("version cannot be negative."))
			return
		}
		version = v
	}
	if (vs != "" || ts != "") && !t.HistoryShared {
		s.Error(w, r, errNoHistory(t))
		return
	}
	dt, err := s.deltaTable(ctx, t)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if ts != "" {
		if version, _, err = versionAtTimestamp(ctx, "timestamp", ts, dt.VersionAt); err != nil {
			s.Error(w, r, logError(err))
			return
		}
	}
	if version >= 0 {
		if version < t.StartVersion {
			s.Error(w, r, errBeforeStart(t))
			return
		}
		travel = &version
	}
	snap, neg, ok := s.negotiatedSnapshot(w, r, t, dt, version)
	if !ok {
		return
	}
	out := s.startNDJSON(w, r, snap.Version, neg, false)
	p := protocolAction(neg.format, snap.Protocol)
	out.item(protocol.Item{Protocol: &p})
	md := snapshotMetadata(snap, travel)
	out.item(protocol.Item{Metadata: &md})
	out.finish()
}

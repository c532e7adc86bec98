package server

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/deltashare/deltashare/sharing/server/deltalog"
)

// changesKey are the parameters a change data feed page token binds.
type changesKey struct {
	SV string `json:"sv,omitempty"`
	ST string `json:"st,omitempty"`
	EV string `json:"ev,omitempty"`
	ET string `json:"et,omitempty"`
	HM bool   `json:"hm,omitempty"`
	HP bool   `json:"hp,omitempty"`
}

func errNoChangeData(v, start, end int64) *Error {
	return errInvalidParam("Error getting change data for range [%d, %d] as change data was not recorded for version [%d]", start, end, v)
}

// serveChanges answers GET .../changes: the change data feed of a version or timestamp range,
// per version its change data files where the commit wrote any, else its added and removed
// files; maxFiles and pageToken page it.
func (s *Server) serveChanges(w http.ResponseWriter, r *http.Request, t *Table) {
	ctx := r.Context()
	q := r.URL.Query()
	key := changesKey{SV: q.Get("startingVersion"), ST: q.Get("startingTimestamp"), EV: q.Get("endingVersion"), ET: q.Get("endingTimestamp")}
	key.HM, _ = strconv.ParseBool(q.Get("includeHistoricalMetadata"))
	key.HP, _ = strconv.ParseBool(q.Get("includeHistoricalProtocol"))
	var maxFiles *int
	if mf := q.Get("maxFiles"); mf != "" {
		n, err := strconv.Atoi(mf)
		if err != nil {
			s.Error(w, r, errInvalidParam("maxFiles %q is not a number", cut(mf, 32)))
			return
		}
		if n <= 0 {
			s.Error(w, r, errInvalidParam("maxFiles must be positive."))
			return
		}
		maxFiles = &n
	}
	switch {
	case key.SV != "" && key.ST != "":
		s.Error(w, r, errInvalidParam("Multiple starting arguments provided for CDF read. Please provide one of either startingTimestamp or startingVersion."))
		return
	case key.EV != "" && key.ET != "":
		s.Error(w, r, errInvalidParam("Multiple ending arguments provided for CDF read. Please provide one of either endingTimestamp or endingVersion."))
		return
	case key.SV == "" && key.ST == "":
		s.Error(w, r, errInvalidParam("No startingVersion or startingTimestamp provided for CDF read."))
		return
	}
	if !t.HistoryShared {
		s.Error(w, r, errInvalidParam("cdf is not enabled on table %s: its history is not shared", fullName(t)))
		return
	}
	dt, err := s.deltaTable(ctx, t)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	hash := paramsHash(key)
	var start, end int64
	offset := 0
	if pt := q.Get("pageToken"); pt != "" {
		tok, ok := s.ttok.decode(pt, tokChangesPage, t.ID)
		if !ok || tok.Params != hash || tok.Start > tok.Version {
			s.Error(w, r, errBadPageToken)
			return
		}
		start, end, offset = tok.Start, tok.Version, tok.Offset
	} else if start, end, err = s.changesRange(r, t, dt, key); err != nil {
		s.Error(w, r, err)
		return
	}

	changes, err := dt.Changes(ctx, start, end)
	if err != nil {
		s.Error(w, r, logError(err))
		return
	}
	// The head: protocol and metadata at the end of the range, or at its start when the
	// historical metadata follows.
	headVersion := end
	if key.HM {
		headVersion = start
	}
	_, headProto, headMeta, err := dt.Head(ctx, headVersion)
	if err != nil {
		s.Error(w, r, logError(err))
		return
	}
	if !headMeta.ChangeDataFeedEnabled() {
		s.Error(w, r, errNoChangeData(headVersion, start, end))
		return
	}
	for _, c := range changes {
		if !c.Metadata.ChangeDataFeedEnabled() {
			s.Error(w, r, errNoChangeData(c.Version, start, end))
			return
		}
	}
	neg, err := negotiate(r, t, headProto, headMeta)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	histProto := key.HP && neg.format == "delta"

	// Historical metadata and protocol come from the commits after the start.
	hist := map[int64][]lineItem{}
	if key.HM || histProto {
		for v := start + 1; v <= end; v++ {
			acts, err := commitActions(t, v)
			if err != nil {
				s.Error(w, r, err)
				return
			}
			for _, a := range acts {
				switch {
				case a.MetaData != nil && key.HM:
					if !a.MetaData.ChangeDataFeedEnabled() {
						s.Error(w, r, errNoChangeData(v, start, end))
						return
					}
					hist[v] = append(hist[v], lineItem{version: v, metadata: a.MetaData})
				case a.Protocol != nil && histProto:
					hist[v] = append(hist[v], lineItem{version: v, protocol: a.Protocol})
				}
			}
		}
	}
	items := make([]lineItem, 0, len(changes))
	next := start + 1
	flushHist := func(upTo int64) {
		for ; next <= upTo; next++ {
			items = append(items, hist[next]...)
		}
	}
	for _, c := range changes {
		flushHist(c.Version)
		ts := ptr(c.Timestamp.UnixMilli())
		items = append(items, lineItem{version: c.Version, file: &fileRef{add: c.Add, remove: c.Remove, cdc: c.CDC, version: ptr(c.Version), timestamp: ts}})
	}
	flushHist(end)

	var headProtoVersion *int64
	if histProto {
		headProtoVersion = ptr(headVersion)
	}
	s.writeChangeLines(w, r, t, dt, neg, start, end, headProto, headProtoVersion,
		metadataAction(headMeta, ptr(headVersion)), items, offset, maxFiles, tokChangesPage, tableToken{Params: hash, Start: start})
}

// changesRange resolves the version range of a change data feed request against the latest
// version, with the reference server's messages.
func (s *Server) changesRange(r *http.Request, t *Table, dt *deltalog.Table, key changesKey) (start, end int64, err error) {
	ctx := r.Context()
	latest, err := dt.LatestVersion(ctx)
	if err != nil {
		return 0, 0, logError(err)
	}
	if key.SV != "" {
		if start, err = strconv.ParseInt(key.SV, 10, 64); err != nil || start < 0 {
			return 0, 0, errInvalidParam("startingVersion is not a valid number.")
		}
	} else {
		if start, _, err = versionAtTimestamp(ctx, "startingTimestamp", key.ST, dt.VersionAtOrAfter); err != nil {
			return 0, 0, logError(err)
		}
	}
	if start > latest {
		return 0, 0, errInvalidParam("Provided Start version(%d) for reading change data is invalid. Start version cannot be greater than the latest version of the table(%d).", start, latest)
	}
	end = latest
	switch {
	case key.EV != "":
		if end, err = strconv.ParseInt(key.EV, 10, 64); err != nil || end < 0 {
			return 0, 0, errInvalidParam("endingVersion is not a valid number.")
		}
		if end > latest {
			return 0, 0, errInvalidParam("Provided end version(%d) is invalid. End version cannot be greater than the latest version of the table(%d).", end, latest)
		}
	case key.ET != "":
		// The last version committed at or before the timestamp; a timestamp after the latest
		// commit means the latest version.
		v, _, err := versionAtTimestamp(ctx, "endingTimestamp", key.ET, dt.VersionAt)
		switch {
		case errors.Is(err, deltalog.ErrTimestampAfterLatestCommit):
			v = latest
		case err != nil:
			return 0, 0, logError(err)
		}
		end = min(v, latest)
	}
	if start > end {
		return 0, 0, errInvalidParam("CDF range from start %d to end %d was invalid. End cannot be before start.", start, end)
	}
	if start < t.StartVersion {
		return 0, 0, errInvalidParam("You can only query table changes since version %d.", t.StartVersion)
	}
	return start, end, nil
}

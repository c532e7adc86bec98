package server

import (
	"net/http"
	"strconv"

	"github.com/deltashare/deltashare/sharing/protocol"
)

// Paging limits of the listing endpoints. As the protocol says, maxResults must be
// non-negative, and 0 returns no items (with a nextPageToken when there are more).
const (
	DefaultMaxResults = 500
	MaxMaxResults     = 1000
)

// tableItem is a table in the listings, which answer with the protocol's wire types.
func tableItem(t *Table) protocol.TableInfo {
	return protocol.TableInfo{Name: t.Name, Schema: t.Schema, Share: t.Share, ShareID: t.ShareID, ID: t.ID}
}

// page reads maxResults and pageToken and returns the slice [start, end) of total items and the
// next page token ("" on the last page). listing names the listing the token is bound to.
func (s *Server) page(r *http.Request, listing string, total int) (start, end int, next string, err error) {
	q := r.URL.Query()
	max := DefaultMaxResults
	if v := q.Get("maxResults"); v != "" || q.Has("maxResults") {
		n, perr := strconv.ParseInt(v, 10, 32)
		if perr != nil || n < 0 || n > MaxMaxResults {
			return 0, 0, "", errInvalidParam("maxResults must be an integer from 0 to %d (default %d)", MaxMaxResults, DefaultMaxResults)
		}
		max = int(n)
	}
	if tok := q.Get("pageToken"); tok != "" {
		off, ok := s.pages.parse(listing, tok)
		if !ok || off > total {
			return 0, 0, "", errInvalidParam("invalid pageToken: pass the nextPageToken of the previous page of this same listing, or omit it to start over")
		}
		start = off
	}
	end = min(start+max, total)
	if end < total {
		next = s.pages.make(listing, end)
	}
	return start, end, next, nil
}

// visibleShares lists the shares the caller may see.
func (s *Server) visibleShares(r *http.Request) []*shareEntry {
	p := principalFrom(r.Context())
	var out []*shareEntry
	for _, sh := range s.cat.shares {
		if p.canSee(sh.name) {
			out = append(out, sh)
		}
	}
	return out
}

// findShare resolves the {share} path value; a share the caller may not see does not exist.
func (s *Server) findShare(r *http.Request) (*shareEntry, error) {
	name := r.PathValue("share")
	sh := s.cat.share(name)
	if sh == nil || !principalFrom(r.Context()).canSee(sh.name) {
		return nil, errNotFound("share %q does not exist or is not shared with you", cut(name, maxQuotedName))
	}
	return sh, nil
}

func (s *Server) findSchema(r *http.Request) (*shareEntry, *schemaEntry, error) {
	sh, err := s.findShare(r)
	if err != nil {
		return nil, nil, err
	}
	name := r.PathValue("schema")
	sc := sh.byName[foldName(name)]
	if sc == nil {
		return nil, nil, errNotFound("schema %q does not exist in share %q", cut(name, maxQuotedName), sh.name)
	}
	return sh, sc, nil
}

func (s *Server) findTable(r *http.Request) (*Table, error) {
	sh, sc, err := s.findSchema(r)
	if err != nil {
		return nil, err
	}
	name := r.PathValue("table")
	t := sc.byName[foldName(name)]
	if t == nil {
		return nil, errNotFound("table %q does not exist in %s.%s", cut(name, maxQuotedName), sh.name, sc.name)
	}
	cp := *t
	return &cp, nil
}

func (s *Server) handleListShares(w http.ResponseWriter, r *http.Request) {
	writePage(s, w, r, "shares", s.visibleShares(r), func(sh *shareEntry) protocol.Share { return protocol.Share{Name: sh.name, ID: sh.id} })
}

func (s *Server) handleGetShare(w http.ResponseWriter, r *http.Request) {
	sh, err := s.findShare(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, protocol.GetShareResponse{Share: protocol.Share{Name: sh.name, ID: sh.id}})
}

func (s *Server) handleListSchemas(w http.ResponseWriter, r *http.Request) {
	sh, err := s.findShare(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writePage(s, w, r, "schemas\x00"+sh.id, sh.schemas, func(sc *schemaEntry) protocol.Schema { return protocol.Schema{Name: sc.name, Share: sh.name} })
}

func (s *Server) handleListTables(w http.ResponseWriter, r *http.Request) {
	sh, sc, err := s.findSchema(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writePage(s, w, r, "tables\x00"+sh.id+"\x00"+foldName(sc.name), sc.tables, tableItem)
}

func (s *Server) handleListAllTables(w http.ResponseWriter, r *http.Request) {
	sh, err := s.findShare(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writePage(s, w, r, "all-tables\x00"+sh.id, sh.tables, tableItem)
}

// writePage answers a listing request with the page of all it asks for (see page), each
// element turned into its JSON shape by item.
func writePage[T, J any](s *Server, w http.ResponseWriter, r *http.Request, listing string, all []T, item func(T) J) {
	start, end, next, err := s.page(r, listing, len(all))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	items := make([]J, 0, end-start)
	for _, x := range all[start:end] {
		items = append(items, item(x))
	}
	writeJSON(w, http.StatusOK, protocol.Page[J]{Items: items, NextPageToken: next})
}

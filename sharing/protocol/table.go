package protocol

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Table names a shared table: share, schema and table name. Names are case-insensitive for the
// server; they are kept as given and compared with [Table.Equal].
type Table struct {
	Share  string `json:"share"`
	Schema string `json:"schema"`
	Name   string `json:"name"`
}

// String is share.schema.table.
func (t Table) String() string { return t.Share + "." + t.Schema + "." + t.Name }

// Equal compares two tables case-insensitively, as the protocol does.
func (t Table) Equal(o Table) bool {
	return strings.EqualFold(t.Share, o.Share) && strings.EqualFold(t.Schema, o.Schema) && strings.EqualFold(t.Name, o.Name)
}

// Validate checks that no part is empty.
func (t Table) Validate() error {
	if t.Share == "" || t.Schema == "" || t.Name == "" {
		return fmt.Errorf("table %q is incomplete: a table is named share.schema.table, e.g. sales.default.orders", t.String())
	}
	return nil
}

// path is the table's URL path under the endpoint, each name path-escaped.
func (t Table) Path() string {
	return "/shares/" + url.PathEscape(t.Share) + "/schemas/" + url.PathEscape(t.Schema) + "/tables/" + url.PathEscape(t.Name)
}

// ParseTable parses "share.schema.table". Exactly three non-empty dot-separated parts are
// required. A profile path in front ("profile.json#share.schema.table") is refused here: use
// [ParseTableURL].
func ParseTable(s string) (Table, error) {
	if strings.Contains(s, "#") {
		return Table{}, fmt.Errorf("table name %q contains '#': give share.schema.table, or use the PROFILE#share.schema.table form where a profile path is accepted", s)
	}
	return parseTableName(s)
}

func parseTableName(s string) (Table, error) {
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		what := "too few"
		if len(parts) > 3 {
			what = "too many"
		}
		return Table{}, fmt.Errorf("table name %q has %s parts (%d): a table is named share.schema.table, e.g. sales.default.orders", s, what, len(parts))
	}
	if strings.IndexFunc(s, unicode.IsControl) >= 0 || !utf8.ValidString(s) {
		return Table{}, fmt.Errorf("table name %q contains control characters or invalid UTF-8: a table is named share.schema.table, e.g. sales.default.orders", s)
	}
	for i, p := range parts {
		if p == "" {
			return Table{}, fmt.Errorf("table name %q has an empty %s: a table is named share.schema.table, e.g. sales.default.orders", s, [...]string{"share", "schema", "table"}[i])
		}
	}
	return Table{Share: parts[0], Schema: parts[1], Name: parts[2]}, nil
}

// ParseTableURL parses the Python connector's table URL "PROFILE_PATH#share.schema.table"
// (split at the last '#'); a bare "share.schema.table" gives an empty profile path.
func ParseTableURL(s string) (profilePath string, t Table, err error) {
	i := strings.LastIndexByte(s, '#')
	if i < 0 {
		t, err = parseTableName(s)
		return "", t, err
	}
	profilePath = s[:i]
	if profilePath == "" {
		return "", Table{}, errors.New("table URL has an empty profile path before '#': use PROFILE_PATH#share.schema.table, e.g. config.share#sales.default.orders")
	}
	t, err = parseTableName(s[i+1:])
	if err != nil {
		return "", Table{}, err
	}
	return profilePath, t, nil
}

package main

import (
	"encoding/json"
	"math"

	"github.com/deltashare/deltashare/sharing/protocol"
)

// One JSON style for every command's --output json (docs/json.md): field names in camelCase as
// in the Delta Sharing protocol; a table as an object with its share, schema and name (and the
// fullName share.schema.table); timestamps as RFC 3339 strings; durations as whole seconds in a
// field whose name ends in Seconds; whole numbers as integers; totals included.

// tableRef names a table in JSON output, as the protocol does, plus its full name.
type tableRef struct {
	Share    string `json:"share"`
	Schema   string `json:"schema"`
	Name     string `json:"name"`
	FullName string `json:"fullName"`
}

func refOf(t protocol.Table) tableRef {
	return tableRef{Share: t.Share, Schema: t.Schema, Name: t.Name, FullName: t.String()}
}

// wholeSeconds rounds a duration in seconds to whole seconds.
func wholeSeconds(s float64) int64 { return int64(math.Round(s)) }

// styled is v's JSON form (an object) in the common style: its "table" (a string) replaced by
// the table's object, its "seconds" (the run's wall-clock time, fractional) replaced by whole
// "elapsedSeconds", and extra fields added. It is for results whose types the export package
// owns (Summary, SyncResult).
func styled(v any, t *protocol.Table, extra map[string]any) (map[string]any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	m := map[string]any{}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	if t != nil {
		m["table"] = refOf(*t)
	}
	if s, ok := m["seconds"].(float64); ok {
		delete(m, "seconds")
		m["elapsedSeconds"] = wholeSeconds(s)
	}
	for k, x := range extra {
		m[k] = x
	}
	return m, nil
}

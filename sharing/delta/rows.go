package delta

import "encoding/json"

// NumRecords returns the numRecords of a file's statistics JSON (the rows stored in the file,
// deleted ones included); ok is false when the statistics are missing or do not say.
func NumRecords(stats string) (n int64, ok bool) {
	if stats == "" {
		return 0, false
	}
	var s struct {
		NumRecords *int64 `json:"numRecords"`
	}
	if json.Unmarshal([]byte(stats), &s) != nil || s.NumRecords == nil {
		return 0, false
	}
	return *s.NumRecords, true
}

// LiveRows returns the rows of a file a reader sees: numRecords from its statistics minus the
// rows its deletion vector (if any) deletes. ok is false when the statistics do not say.
func LiveRows(stats string, dv *DeletionVector) (n int64, ok bool) {
	n, ok = NumRecords(stats)
	if ok && dv != nil {
		n -= dv.Cardinality
	}
	return n, ok
}

package reader

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"

	"github.com/apache/arrow/go/v17/parquet/metadata"
	"github.com/apache/arrow/go/v17/parquet/schema"

	"github.com/deltashare/deltashare/sharing/predicate"
)

// Row-group skipping for filtered reads: a large data file of a read with a filter is opened by
// its footer (ranged GETs), the filter is judged against each row group's column statistics
// (predicate.MightMatch, the rules the server uses for the files' Delta statistics), and only
// the row groups that might hold a matching row are read, by range.

// minSkipFileSize is the smallest data file whose footer is read first to skip row groups:
// below it, one download of the whole file costs less than the extra round trip.
var minSkipFileSize int64 = 4 << 20

// matchingRowGroups returns the row groups of a file that might hold a row for which filter
// is true (all of them, in order, when nothing can be skipped). Only top-level columns of
// plain integer, floating point and string types count; other columns, column mapping by id
// and missing statistics keep every row group.
func (p *readPlan) matchingRowGroups(md *metadata.FileMetaData) []int {
	all := make([]int, len(md.RowGroups))
	for g := range all {
		all[g] = g
	}
	if p.filter == nil || p.mode == "id" {
		return all
	}
	// The filter's columns among the file's leaves, by physical name.
	sch := md.Schema
	leaf := map[string]int{}
	for _, name := range p.filter.Columns() {
		for _, c := range p.cols {
			if c.src != srcFile || !strings.EqualFold(c.name, name) {
				continue
			}
			if i := findLeaf(sch, c.field.PhysicalName(p.mode)); i >= 0 {
				leaf[name] = i
			}
		}
	}
	if len(leaf) == 0 {
		return all
	}
	var out []int
	for g := range len(md.RowGroups) {
		rg := md.RowGroup(g)
		n := rg.NumRows()
		st := &predicate.Stats{NumRecords: &n, MinValues: map[string]any{}, MaxValues: map[string]any{}, NullCount: map[string]any{}}
		for name, i := range leaf {
			cc, err := rg.ColumnChunk(i)
			if err != nil {
				continue
			}
			addChunkStats(st, name, sch.Column(i), cc)
		}
		if predicate.MightMatch(p.filter, nil, st) {
			out = append(out, g)
		}
	}
	return out
}

// findLeaf returns the leaf column of a top-level primitive field named name (exactly, then
// case-insensitively), or -1.
func findLeaf(sch *schema.Schema, name string) int {
	for _, fold := range []bool{false, true} {
		for i := range sch.NumColumns() {
			path := sch.Column(i).ColumnPath()
			if len(path) != 1 || sch.Column(i).MaxRepetitionLevel() != 0 {
				continue
			}
			if path[0] == name || fold && strings.EqualFold(path[0], name) {
				return i
			}
		}
	}
	return -1
}

// addChunkStats puts a column chunk's statistics into st in the shape of Delta statistics
// (numbers as json.Number, strings as strings), when its type has an exact reading there.
func addChunkStats(st *predicate.Stats, name string, d *schema.Column, cc *metadata.ColumnChunkMetaData) {
	set, err := cc.StatsSet()
	if err != nil || !set {
		return
	}
	stats, err := cc.Statistics()
	if err != nil || stats == nil {
		return
	}
	if stats.HasNullCount() {
		st.NullCount[name] = json.Number(strconv.FormatInt(stats.NullCount(), 10))
	}
	if !stats.HasMinMax() {
		return
	}
	lt := d.LogicalType()
	plainInt := lt == nil || lt.IsNone()
	if it, ok := lt.(*schema.IntLogicalType); ok && it.IsSigned() {
		plainInt = true
	}
	var lo, hi any
	switch s := stats.(type) {
	case *metadata.Int32Statistics:
		if !plainInt {
			return
		}
		lo, hi = json.Number(strconv.FormatInt(int64(s.Min()), 10)), json.Number(strconv.FormatInt(int64(s.Max()), 10))
	case *metadata.Int64Statistics:
		if !plainInt {
			return
		}
		lo, hi = json.Number(strconv.FormatInt(s.Min(), 10)), json.Number(strconv.FormatInt(s.Max(), 10))
	case *metadata.Float32Statistics:
		lo, hi = floatStat(float64(s.Min())), floatStat(float64(s.Max()))
	case *metadata.Float64Statistics:
		lo, hi = floatStat(s.Min()), floatStat(s.Max())
	case *metadata.ByteArrayStatistics:
		if _, ok := lt.(*schema.StringLogicalType); !ok && d.ConvertedType() != schema.ConvertedTypes.UTF8 {
			return
		}
		lo, hi = string(s.Min()), string(s.Max())
	default:
		return
	}
	if lo == nil || hi == nil {
		return
	}
	st.MinValues[name], st.MaxValues[name] = lo, hi
}

// floatStat is a floating point bound as a number, nil for NaN or infinities (no bound).
func floatStat(v float64) any {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return json.Number(strconv.FormatFloat(v, 'g', -1, 64))
}

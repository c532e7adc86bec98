package deltalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"time"

	"github.com/deltashare/deltashare/sharing/delta"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/deprecated"
	"github.com/parquet-go/parquet-go/format"
)

// readParquetActions reads the actions of a checkpoint or sidecar Parquet file and calls emit
// for each, in file order. With files false only protocol, metaData and sidecar actions are
// decoded (and only their columns read).
//
// Columns are found by name, never by position, and each optional column may be missing: the
// writers differ in column order, in which optional fields they write (deletionVector, tags,
// stats, stats_parsed, baseRowId...), and in integer widths.
func readParquetActions(ctx context.Context, s Storage, name string, files bool, emit func(*delta.Action) error) error {
	f, err := s.Open(ctx, name)
	if err != nil {
		return fmt.Errorf("deltalog: opening checkpoint %s: %w", name, err)
	}
	defer f.Close()
	pf, err := parquet.OpenFile(f, f.Size(), parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	if err != nil {
		return fmt.Errorf("deltalog: checkpoint %s is not a readable Parquet file: %w", name, err)
	}
	for _, rg := range pf.RowGroups() {
		if err := ctx.Err(); err != nil {
			return err
		}
		g := &rowGroup{root: pf.Root(), rg: rg, n: int(rg.NumRows()), cache: map[int][]parquet.Value{}}
		if err := g.decode(files, emit); err != nil {
			return fmt.Errorf("deltalog: checkpoint %s: %w", name, err)
		}
	}
	return nil
}

// rowGroup decodes one row group column by column.
type rowGroup struct {
	root  *parquet.Column
	rg    parquet.RowGroup
	n     int
	cache map[int][]parquet.Value
}

// col is a located column with the definition level at which it is defined (non-null).
type col struct {
	c   *parquet.Column
	def int
}

// find walks the path by name from the root; ok is false when a part is missing.
func (g *rowGroup) find(path ...string) (col, bool) {
	return findFrom(col{c: g.root}, path...)
}

func findFrom(start col, path ...string) (col, bool) {
	c := start
	for _, p := range path {
		next := c.c.Column(p)
		if next == nil {
			return col{}, false
		}
		d := c.def
		if !next.Required() {
			d++
		}
		c = col{c: next, def: d}
	}
	return c, true
}

// values reads all values of a leaf column in the row group.
func (g *rowGroup) values(c *parquet.Column) ([]parquet.Value, error) {
	idx := c.Index()
	if v, ok := g.cache[idx]; ok {
		return v, nil
	}
	chunks := g.rg.ColumnChunks()
	if idx < 0 || idx >= len(chunks) {
		return nil, fmt.Errorf("column %v has no chunk", c.Path())
	}
	pages := chunks[idx].Pages()
	defer pages.Close()
	out := make([]parquet.Value, 0, g.n)
	buf := make([]parquet.Value, 512)
	for {
		p, err := pages.ReadPage()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading column %v: %w", c.Path(), err)
		}
		vr := p.Values()
		for {
			n, err := vr.ReadValues(buf)
			for _, v := range buf[:n] {
				out = append(out, v.Clone())
			}
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				parquet.Release(p)
				return nil, fmt.Errorf("reading column %v: %w", c.Path(), err)
			}
		}
		parquet.Release(p)
	}
	g.cache[idx] = out
	return out, nil
}

// scalar returns one value per row for a non-repeated leaf below base, or nil when the column
// is absent or not a scalar leaf.
func (g *rowGroup) scalar(base col, path ...string) ([]parquet.Value, error) {
	c, ok := findFrom(base, path...)
	if !ok || !c.c.Leaf() || c.c.MaxRepetitionLevel() != 0 {
		return nil, nil
	}
	v, err := g.values(c.c)
	if err != nil {
		return nil, err
	}
	if len(v) != g.n {
		return nil, fmt.Errorf("column %v has %d values for %d rows", c.c.Path(), len(v), g.n)
	}
	return v, nil
}

// rows splits the values of a repeated leaf into rows (a row starts at repetition level 0).
func splitRows(vals []parquet.Value, n int) ([][]parquet.Value, error) {
	out := make([][]parquet.Value, 0, n)
	start := -1
	for i, v := range vals {
		if v.RepetitionLevel() == 0 {
			if start >= 0 {
				out = append(out, vals[start:i])
			}
			start = i
		}
	}
	if start >= 0 {
		out = append(out, vals[start:])
	}
	if len(out) != n {
		return nil, fmt.Errorf("repeated column has %d rows, want %d", len(out), n)
	}
	return out, nil
}

// repeatedRows reads the values of leaf, a repeated leaf of the map or list column c (kind
// names which), split into rows.
func (g *rowGroup) repeatedRows(leaf *parquet.Column, kind string, c *parquet.Column) ([][]parquet.Value, error) {
	vals, err := g.values(leaf)
	if err != nil {
		return nil, err
	}
	rows, err := splitRows(vals, g.n)
	if err != nil {
		return nil, fmt.Errorf("%s %v: %w", kind, c.Path(), err)
	}
	return rows, nil
}

// stringMap decodes a MAP<string,string> column below base (nil per row when absent).
func (g *rowGroup) stringMap(base col, name string) ([]map[string]string, error) {
	m, ok := findFrom(base, name)
	if !ok || m.c.Leaf() || len(m.c.Columns()) != 1 {
		return nil, nil
	}
	kv := m.c.Columns()[0]
	kvc := col{c: kv, def: m.def + 1}
	if kv.Leaf() || len(kv.Columns()) == 0 {
		return nil, nil
	}
	keyCol, valCol := kv.Column("key"), kv.Column("value")
	if keyCol == nil {
		keyCol = kv.Columns()[0]
	}
	if valCol == nil && len(kv.Columns()) > 1 {
		valCol = kv.Columns()[1]
	}
	if !keyCol.Leaf() || (valCol != nil && !valCol.Leaf()) {
		return nil, nil
	}
	krows, err := g.repeatedRows(keyCol, "map", m.c)
	if err != nil {
		return nil, err
	}
	var vrows [][]parquet.Value
	if valCol != nil {
		if vrows, err = g.repeatedRows(valCol, "map", m.c); err != nil {
			return nil, err
		}
	}
	out := make([]map[string]string, g.n)
	for r, kr := range krows {
		if len(kr) == 0 || kr[0].DefinitionLevel() < m.def {
			continue // null map
		}
		mm := make(map[string]string, len(kr))
		for i, k := range kr {
			if k.DefinitionLevel() < kvc.def || k.IsNull() {
				continue // empty map
			}
			val := ""
			if vrows != nil && i < len(vrows[r]) && !vrows[r][i].IsNull() {
				val = string(vrows[r][i].ByteArray())
			}
			mm[string(k.ByteArray())] = val
		}
		out[r] = mm
	}
	return out, nil
}

// stringList decodes a LIST<string> column below base (standard 3-level or legacy 2-level).
func (g *rowGroup) stringList(base col, name string) ([][]string, error) {
	l, ok := findFrom(base, name)
	if !ok || l.c.Leaf() || len(l.c.Columns()) != 1 {
		return nil, nil
	}
	rep := l.c.Columns()[0]
	repDef := l.def + 1
	elem := rep
	if !rep.Leaf() {
		if len(rep.Columns()) != 1 || !rep.Columns()[0].Leaf() {
			return nil, nil
		}
		elem = rep.Columns()[0]
	}
	rows, err := g.repeatedRows(elem, "list", l.c)
	if err != nil {
		return nil, err
	}
	out := make([][]string, g.n)
	for r, row := range rows {
		if len(row) == 0 || row[0].DefinitionLevel() < l.def {
			continue
		}
		list := make([]string, 0, len(row))
		for _, v := range row {
			if v.DefinitionLevel() < repDef {
				continue
			}
			if v.IsNull() {
				list = append(list, "")
				continue
			}
			list = append(list, string(v.ByteArray()))
		}
		out[r] = list
	}
	return out, nil
}

func present(vals []parquet.Value, r int) bool { return vals != nil && !vals[r].IsNull() }

func str(vals []parquet.Value, r int) string {
	if !present(vals, r) {
		return ""
	}
	return string(vals[r].ByteArray())
}

func i64(vals []parquet.Value, r int) int64 {
	if !present(vals, r) {
		return 0
	}
	switch vals[r].Kind() {
	case parquet.Int32:
		return int64(vals[r].Int32())
	case parquet.Int64:
		return vals[r].Int64()
	}
	return 0
}

func i64p(vals []parquet.Value, r int) *int64 {
	if !present(vals, r) {
		return nil
	}
	v := i64(vals, r)
	return &v
}

func boolean(vals []parquet.Value, r int) bool {
	return present(vals, r) && vals[r].Kind() == parquet.Boolean && vals[r].Boolean()
}

// decode emits the actions of every row.
func (g *rowGroup) decode(files bool, emit func(*delta.Action) error) error {
	// Each action column, with its column that is non-null in exactly the rows holding it.
	type actionCol struct {
		name, key string
		build     func(c *colReader, keys []parquet.Value) decoder
	}
	actions := []actionCol{
		{"protocol", "minReaderVersion", g.protocol},
		{"metaData", "id", g.metadata},
		{"sidecar", "path", g.sidecar},
		{"checkpointMetadata", "version", g.checkpointMetadata},
	}
	if files {
		actions = append(actions,
			actionCol{"add", "path", func(c *colReader, p []parquet.Value) decoder { return g.file("add", c, p) }},
			actionCol{"remove", "path", func(c *colReader, p []parquet.Value) decoder { return g.file("remove", c, p) }})
	}
	var decs []decoder
	for _, a := range actions {
		d, err := g.action(a.name, a.key, a.build)
		if err != nil {
			return err
		}
		if d != nil {
			decs = append(decs, d)
		}
	}
	for r := 0; r < g.n; r++ {
		for _, d := range decs {
			if a := d(r); a != nil {
				if err := emit(a); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// decoder returns the action held by row r, or nil.
type decoder func(r int) *delta.Action

// colReader reads columns below one struct column and keeps the first error, so that a decoder
// reads all its columns and checks for an error once.
type colReader struct {
	g    *rowGroup
	base col
	err  error
}

// readKept reads with read(c.base, arg) unless an earlier read of c failed, keeping the first
// error in c.
func readKept[A, T any](c *colReader, read func(base col, arg A) (T, error), arg A) T {
	if c.err != nil {
		var none T
		return none
	}
	v, err := read(c.base, arg)
	c.err = err
	return v
}

func (c *colReader) scalar(name string) []parquet.Value {
	return readKept(c, func(base col, name string) ([]parquet.Value, error) { return c.g.scalar(base, name) }, name)
}

func (c *colReader) stringList(name string) [][]string { return readKept(c, c.g.stringList, name) }

func (c *colReader) stringMap(name string) []map[string]string {
	return readKept(c, c.g.stringMap, name)
}

// action builds the decoder of the top-level action column name: nil when the row group has
// none. key is its column that is non-null in exactly the rows holding such an action. build
// reads the other columns through c and returns what makes the action of a row holding one;
// the first error of those reads fails the whole.
func (g *rowGroup) action(name, key string, build func(c *colReader, keys []parquet.Value) decoder) (decoder, error) {
	base, ok := g.find(name)
	if !ok {
		return nil, nil
	}
	keys, err := g.scalar(base, key)
	if err != nil || keys == nil {
		return nil, err
	}
	c := &colReader{g: g, base: base}
	mk := build(c, keys)
	if c.err != nil {
		return nil, c.err
	}
	return func(r int) *delta.Action {
		if !present(keys, r) {
			return nil
		}
		return mk(r)
	}, nil
}

func (g *rowGroup) protocol(c *colReader, rv []parquet.Value) decoder {
	wv := c.scalar("minWriterVersion")
	rf, wf := c.stringList("readerFeatures"), c.stringList("writerFeatures")
	return func(r int) *delta.Action {
		p := &delta.Protocol{MinReaderVersion: int(i64(rv, r)), MinWriterVersion: int(i64(wv, r))}
		if rf != nil {
			p.ReaderFeatures = rf[r]
		}
		if wf != nil {
			p.WriterFeatures = wf[r]
		}
		return &delta.Action{Protocol: p}
	}
}

func (g *rowGroup) metadata(c *colReader, id []parquet.Value) decoder {
	name, desc, schema, created := c.scalar("name"), c.scalar("description"), c.scalar("schemaString"), c.scalar("createdTime")
	var provider []parquet.Value
	var options []map[string]string
	if fmtBase, ok := findFrom(c.base, "format"); ok && c.err == nil {
		fc := &colReader{g: g, base: fmtBase}
		provider, options = fc.scalar("provider"), fc.stringMap("options")
		c.err = fc.err
	}
	partCols, conf := c.stringList("partitionColumns"), c.stringMap("configuration")
	return func(r int) *delta.Action {
		m := &delta.Metadata{
			ID:           str(id, r),
			Name:         str(name, r),
			Description:  str(desc, r),
			SchemaString: str(schema, r),
			CreatedTime:  i64p(created, r),
			Format:       delta.Format{Provider: str(provider, r)},
		}
		if m.Format.Provider == "" {
			m.Format.Provider = "parquet"
		}
		if options != nil && len(options[r]) > 0 {
			m.Format.Options = options[r]
		}
		m.PartitionColumns = []string{}
		if partCols != nil && partCols[r] != nil {
			m.PartitionColumns = partCols[r]
		}
		m.Configuration = map[string]string{}
		if conf != nil && conf[r] != nil {
			m.Configuration = conf[r]
		}
		return &delta.Action{MetaData: m}
	}
}

func (g *rowGroup) sidecar(c *colReader, p []parquet.Value) decoder {
	size, mt := c.scalar("sizeInBytes"), c.scalar("modificationTime")
	return func(r int) *delta.Action {
		return &delta.Action{Sidecar: &delta.Sidecar{Path: str(p, r), SizeInBytes: i64(size, r), ModificationTime: i64(mt, r)}}
	}
}

func (g *rowGroup) checkpointMetadata(_ *colReader, v []parquet.Value) decoder {
	return func(r int) *delta.Action {
		return &delta.Action{CheckpointMetadata: &delta.CheckpointMetadata{Version: i64(v, r)}}
	}
}

// file decodes add or remove actions.
func (g *rowGroup) file(kind string, c *colReader, p []parquet.Value) decoder {
	cols := map[string][]parquet.Value{}
	for _, n := range []string{"size", "modificationTime", "dataChange", "stats", "baseRowId",
		"defaultRowCommitVersion", "clusteringProvider", "deletionTimestamp", "extendedFileMetadata"} {
		cols[n] = c.scalar(n)
	}
	pv, tags := c.stringMap("partitionValues"), c.stringMap("tags")
	dv := c.deletionVector()
	var sp *statsParsed
	if kind == "add" {
		sp = c.statsParsed(cols["stats"])
	}
	return func(r int) *delta.Action {
		var pvr, tg map[string]string
		if pv != nil {
			pvr = pv[r]
		}
		if pvr == nil {
			pvr = map[string]string{}
		}
		if tags != nil && len(tags[r]) > 0 {
			tg = tags[r]
		}
		if kind == "remove" {
			rm := &delta.Remove{
				Path:                    str(p, r),
				DeletionTimestamp:       i64p(cols["deletionTimestamp"], r),
				DataChange:              boolean(cols["dataChange"], r),
				ExtendedFileMetadata:    boolean(cols["extendedFileMetadata"], r),
				PartitionValues:         pvr,
				Size:                    i64p(cols["size"], r),
				Stats:                   str(cols["stats"], r),
				Tags:                    tg,
				DeletionVector:          dv(r),
				BaseRowID:               i64p(cols["baseRowId"], r),
				DefaultRowCommitVersion: i64p(cols["defaultRowCommitVersion"], r),
			}
			return &delta.Action{Remove: rm}
		}
		add := &delta.Add{
			Path:                    str(p, r),
			PartitionValues:         pvr,
			Size:                    i64(cols["size"], r),
			ModificationTime:        i64(cols["modificationTime"], r),
			DataChange:              boolean(cols["dataChange"], r),
			Stats:                   str(cols["stats"], r),
			Tags:                    tg,
			DeletionVector:          dv(r),
			BaseRowID:               i64p(cols["baseRowId"], r),
			DefaultRowCommitVersion: i64p(cols["defaultRowCommitVersion"], r),
			ClusteringProvider:      str(cols["clusteringProvider"], r),
		}
		if add.Stats == "" && sp != nil {
			add.Stats = sp.json(r)
		}
		return &delta.Action{Add: add}
	}
}

// deletionVector decodes the deletionVector struct below a file action.
func (fc *colReader) deletionVector() func(int) *delta.DeletionVector {
	none := func(int) *delta.DeletionVector { return nil }
	dvb, ok := findFrom(fc.base, "deletionVector")
	if !ok || fc.err != nil {
		return none
	}
	c := &colReader{g: fc.g, base: dvb}
	st := c.scalar("storageType")
	if st == nil {
		fc.err = c.err
		return none
	}
	inline, offset, size, card := c.scalar("pathOrInlineDv"), c.scalar("offset"), c.scalar("sizeInBytes"), c.scalar("cardinality")
	fc.err = c.err
	return func(r int) *delta.DeletionVector {
		if !present(st, r) {
			return nil
		}
		dv := &delta.DeletionVector{
			StorageType:    str(st, r),
			PathOrInlineDV: str(inline, r),
			SizeInBytes:    int32(i64(size, r)),
			Cardinality:    i64(card, r),
		}
		if present(offset, r) {
			o := int32(i64(offset, r))
			dv.Offset = &o
		}
		return dv
	}
}

// statsParsed turns the struct column stats_parsed back into the JSON stats string, for
// checkpoints written with delta.checkpoint.writeStatsAsJson=false.
type statsParsed struct {
	leaves []statsLeaf
}

type statsLeaf struct {
	path []string
	c    *parquet.Column
	vals []parquet.Value
}

func (c *colReader) statsParsed(stats []parquet.Value) *statsParsed {
	return readKept(c, c.g.statsParsedDecoder, stats)
}

func (g *rowGroup) statsParsedDecoder(base col, stats []parquet.Value) (*statsParsed, error) {
	spb, ok := findFrom(base, "stats_parsed")
	if !ok || spb.c.Leaf() {
		return nil, nil
	}
	needed := false
	for r := 0; r < g.n; r++ {
		if !present(stats, r) {
			needed = true
			break
		}
	}
	if !needed {
		return nil, nil
	}
	sp := &statsParsed{}
	var walk func(c *parquet.Column, path []string) error
	walk = func(c *parquet.Column, path []string) error {
		if c.Repeated() || c.MaxRepetitionLevel() > 0 {
			return nil // stats are never collected inside lists or maps
		}
		if c.Leaf() {
			vals, err := g.values(c)
			if err != nil {
				return err
			}
			if len(vals) != g.n {
				return nil
			}
			sp.leaves = append(sp.leaves, statsLeaf{path: append([]string(nil), path...), c: c, vals: vals})
			return nil
		}
		for _, ch := range c.Columns() {
			if err := walk(ch, append(path, ch.Name())); err != nil {
				return err
			}
		}
		return nil
	}
	for _, ch := range spb.c.Columns() {
		if err := walk(ch, []string{ch.Name()}); err != nil {
			return nil, err
		}
	}
	return sp, nil
}

func (sp *statsParsed) json(r int) string {
	root := map[string]any{}
	for _, l := range sp.leaves {
		v := l.vals[r]
		if v.IsNull() {
			continue
		}
		jv, ok := leafJSON(l.c, v)
		if !ok {
			continue
		}
		m := root
		for _, p := range l.path[:len(l.path)-1] {
			next, ok := m[p].(map[string]any)
			if !ok {
				next = map[string]any{}
				m[p] = next
			}
			m = next
		}
		m[l.path[len(l.path)-1]] = jv
	}
	if len(root) == 0 {
		return ""
	}
	b, err := json.Marshal(root)
	if err != nil {
		return ""
	}
	return string(b)
}

const statsTimeLayout = "2006-01-02T15:04:05.000Z07:00"

// leafJSON converts a stats value to its JSON stats form.
func leafJSON(c *parquet.Column, v parquet.Value) (any, bool) {
	t := c.Type()
	var lt format.LogicalTypeValue
	if l := t.LogicalType(); l != nil {
		lt = l.Value
	}
	ct := t.ConvertedType()
	switch v.Kind() {
	case parquet.Boolean:
		return v.Boolean(), true
	case parquet.Int32, parquet.Int64:
		n := v.Int64()
		if v.Kind() == parquet.Int32 {
			n = int64(v.Int32())
		}
		switch x := lt.(type) {
		case *format.DateType:
			return time.Unix(n*86400, 0).UTC().Format("2006-01-02"), true
		case *format.TimestampType:
			d := time.Microsecond
			if x.Unit.Value != nil {
				d = x.Unit.Value.Duration()
			}
			return time.Unix(0, 0).Add(time.Duration(n) * d).UTC().Format(statsTimeLayout), true
		case *format.DecimalType:
			return scaled(big.NewInt(n), x.Scale), true
		}
		if ct != nil && *ct == deprecated.Date {
			return time.Unix(n*86400, 0).UTC().Format("2006-01-02"), true
		}
		return n, true
	case parquet.Int96:
		i := v.Int96()
		nanos := int64(uint64(i[1])<<32 | uint64(i[0]))
		days := int64(i[2]) - 2440588
		return time.Unix(days*86400, nanos).UTC().Format(statsTimeLayout), true
	case parquet.Float:
		f := float64(v.Float())
		return f, !math.IsNaN(f) && !math.IsInf(f, 0)
	case parquet.Double:
		f := v.Double()
		return f, !math.IsNaN(f) && !math.IsInf(f, 0)
	case parquet.ByteArray, parquet.FixedLenByteArray:
		if x, ok := lt.(*format.DecimalType); ok {
			return scaled(twosComplement(v.ByteArray()), x.Scale), true
		}
		if _, ok := lt.(*format.StringType); ok || (ct != nil && *ct == deprecated.UTF8) {
			return string(v.ByteArray()), true
		}
	}
	return nil, false
}

// twosComplement decodes a big-endian two's complement integer.
func twosComplement(b []byte) *big.Int {
	n := new(big.Int).SetBytes(b)
	if len(b) > 0 && b[0]&0x80 != 0 {
		n.Sub(n, new(big.Int).Lsh(big.NewInt(1), uint(len(b)*8)))
	}
	return n
}

// scaled renders the unscaled decimal n with the given scale as a JSON number.
func scaled(n *big.Int, scale int32) json.Number {
	if scale <= 0 {
		return json.Number(n.String())
	}
	r := new(big.Rat).SetFrac(n, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil))
	return json.Number(r.FloatString(int(scale)))
}

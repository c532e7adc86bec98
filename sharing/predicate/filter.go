package predicate

import (
	"bytes"
	"fmt"
	"math"
	"math/big"
	"strings"

	"github.com/deltashare/deltashare/sharing/delta"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/decimal128"
	"github.com/apache/arrow/go/v17/arrow/memory"
)

// Row truth values in evaluation.
const (
	vFalse uint8 = 0
	vTrue  uint8 = 1
	vNull  uint8 = 2
)

// Eval evaluates e on every row of rec with SQL semantics and reports, per row, whether e is
// true. Rows where e is false or null (unknown) are false: a comparison with a null value is
// null, NOT null is null, AND and OR follow three-valued logic. Comparisons with NaN are
// false (so NOT (x = NaN) is true).
//
// Columns are found by name case-insensitively among the record's columns; a dotted name
// reaches into struct columns. Literals are read as the column's Arrow type: integers
// (int8..int64, uint8..uint32), float32/64, decimal128 (exactly, any literal precision),
// utf8 and large_utf8, binary, bool, date32/64 and timestamps of any unit (a literal without a
// zone is UTC; a zoneless column takes it as wall-clock time). The expression need not be
// bound, but a bound one gives better errors earlier.
func Eval(e *Expr, rec arrow.Record) ([]bool, error) {
	if e == nil {
		return nil, fmt.Errorf("predicate: nothing to evaluate")
	}
	v, err := eval(e, rec, 0)
	if err != nil {
		return nil, err
	}
	out := make([]bool, len(v))
	for i, x := range v {
		out[i] = x == vTrue
	}
	return out, nil
}

// Filter returns the rows of rec for which e is true (see Eval), allocating from the default
// allocator. The caller releases the result.
func Filter(e *Expr, rec arrow.Record) (arrow.Record, error) {
	return FilterWith(memory.DefaultAllocator, e, rec)
}

// FilterWith is Filter with an allocator. When every row matches, rec itself is returned
// (retained); when the matches are one run of rows, a zero-copy slice.
func FilterWith(mem memory.Allocator, e *Expr, rec arrow.Record) (arrow.Record, error) {
	mask, err := Eval(e, rec)
	if err != nil {
		return nil, err
	}
	return KeepRows(mem, rec, mask)
}

// KeepRows returns the rows of rec whose keep entry is true, in order. When every row is kept,
// rec itself is returned (retained); when the kept rows are one run, a zero-copy slice; else
// the runs are concatenated column by column. The caller releases the result.
func KeepRows(mem memory.Allocator, rec arrow.Record, keep []bool) (arrow.Record, error) {
	type run struct{ from, to int64 }
	var runs []run
	for i := 0; i < len(keep); {
		if !keep[i] {
			i++
			continue
		}
		j := i
		for j < len(keep) && keep[j] {
			j++
		}
		runs = append(runs, run{int64(i), int64(j)})
		i = j
	}
	switch {
	case len(runs) == 0:
		return rec.NewSlice(0, 0), nil
	case len(runs) == 1:
		if runs[0].from == 0 && runs[0].to == rec.NumRows() {
			rec.Retain()
			return rec, nil
		}
		return rec.NewSlice(runs[0].from, runs[0].to), nil
	}
	var total int64
	for _, r := range runs {
		total += r.to - r.from
	}
	cols := make([]arrow.Array, rec.NumCols())
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	pieces := make([]arrow.Array, len(runs))
	for ci := range cols {
		col := rec.Column(ci)
		for ri, r := range runs {
			pieces[ri] = array.NewSlice(col, r.from, r.to)
		}
		c, err := array.Concatenate(pieces, mem)
		for _, p := range pieces {
			p.Release()
		}
		if err != nil {
			return nil, fmt.Errorf("predicate: keeping rows of column %q: %w", rec.ColumnName(ci), err)
		}
		cols[ci] = c
	}
	return array.NewRecord(rec.Schema(), cols, total), nil
}

func eval(e *Expr, rec arrow.Record, depth int) ([]uint8, error) {
	if depth > MaxDepth*4 {
		return nil, fmt.Errorf("predicate: expression nested too deeply")
	}
	n := int(rec.NumRows())
	switch e.Op {
	case OpAnd, OpOr:
		if len(e.Children) == 0 {
			return nil, fmt.Errorf("predicate: %s without operands", e.Op)
		}
		acc, err := eval(e.Children[0], rec, depth+1)
		if err != nil {
			return nil, err
		}
		for _, c := range e.Children[1:] {
			v, err := eval(c, rec, depth+1)
			if err != nil {
				return nil, err
			}
			for i := range acc {
				acc[i] = kleeneRow(acc[i], v[i], e.Op == OpAnd)
			}
		}
		return acc, nil
	case OpNot:
		if len(e.Children) != 1 {
			return nil, fmt.Errorf("predicate: not needs one operand")
		}
		v, err := eval(e.Children[0], rec, depth+1)
		if err != nil {
			return nil, err
		}
		for i, x := range v {
			if x != vNull {
				v[i] = 1 - x
			}
		}
		return v, nil
	case OpIsNull:
		if len(e.Children) != 1 || e.Children[0].Op != OpColumn {
			return nil, fmt.Errorf("predicate: isNull needs one column")
		}
		c, err := findColumn(rec, e.Children[0].Name)
		if err != nil {
			return nil, err
		}
		out := make([]uint8, n)
		for i := range out {
			if c.null(i) {
				out[i] = vTrue
			}
		}
		return out, nil
	case OpEqual, OpLessThan, OpLessThanOrEqual, OpGreaterThan, OpGreaterThanOrEqual:
		col, lit, op, ok := splitCompare(e)
		if !ok {
			return nil, fmt.Errorf("predicate: %s must compare a column with a value; comparing columns or values alone is not supported", e)
		}
		c, err := findColumn(rec, col.Name)
		if err != nil {
			return nil, err
		}
		out := make([]uint8, n)
		if err := compareColumn(c, lit.Value, op, out); err != nil {
			return nil, fmt.Errorf("predicate: %s: %w", e, err)
		}
		return out, nil
	case OpLike:
		if len(e.Children) != 2 || e.Children[0].Op != OpColumn || e.Children[1].Op != OpLiteral {
			return nil, fmt.Errorf("predicate: LIKE compares a column with a pattern")
		}
		re, err := likePattern(e.Children[1].Value)
		if err != nil {
			return nil, fmt.Errorf("predicate: %w", err)
		}
		c, err := findColumn(rec, e.Children[0].Name)
		if err != nil {
			return nil, err
		}
		var value func(i int) string
		switch a := c.arr.(type) {
		case *array.String:
			value = a.Value
		case *array.LargeString:
			value = a.Value
		case *array.StringView:
			value = a.Value
		case *array.Null:
		default:
			return nil, fmt.Errorf("predicate: %s: column %s is %s, not a string", e, c.name, c.arr.DataType())
		}
		out := make([]uint8, n)
		for i := range out {
			switch {
			case c.null(i):
				out[i] = vNull
			case re.MatchString(value(i)):
				out[i] = vTrue
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("predicate: %q is not a condition", e.Op)
}

func kleeneRow(a, b uint8, and bool) uint8 {
	if and {
		if a == vFalse || b == vFalse {
			return vFalse
		}
		if a == vNull || b == vNull {
			return vNull
		}
		return vTrue
	}
	if a == vTrue || b == vTrue {
		return vTrue
	}
	if a == vNull || b == vNull {
		return vNull
	}
	return vFalse
}

// column is a record column, with the nulls of enclosing structs folded in.
type column struct {
	arr        arrow.Array
	name       string
	parentNull []bool // nil when no enclosing struct has nulls
	allNull    bool   // a column of the null type
}

func (c *column) null(i int) bool {
	return c.allNull || c.arr.IsNull(i) || c.parentNull != nil && c.parentNull[i]
}

func findColumn(rec arrow.Record, name string) (*column, error) {
	sc := rec.Schema()
	if idx := fieldIndex(sc.Fields(), name); idx >= 0 {
		arr := rec.Column(idx)
		return &column{arr: arr, name: sc.Field(idx).Name, allNull: arr.DataType().ID() == arrow.NULL}, nil
	}
	parts := strings.Split(name, ".")
	fields := sc.Fields()
	var cur arrow.Array
	var parentNull []bool
	for i, p := range parts {
		idx := fieldIndex(fields, p)
		if idx < 0 {
			break
		}
		var arr arrow.Array
		if cur == nil {
			arr = rec.Column(idx)
		} else {
			st := cur.(*array.Struct)
			if st.NullN() > 0 {
				if parentNull == nil {
					parentNull = make([]bool, st.Len())
				}
				for r := range parentNull {
					parentNull[r] = parentNull[r] || st.IsNull(r)
				}
			}
			arr = st.Field(idx)
		}
		if i == len(parts)-1 {
			return &column{arr: arr, name: name, parentNull: parentNull, allNull: arr.DataType().ID() == arrow.NULL}, nil
		}
		stt, ok := arr.DataType().(*arrow.StructType)
		if !ok {
			break
		}
		fields = stt.Fields()
		cur = arr
	}
	names := make([]string, len(sc.Fields()))
	for i, f := range sc.Fields() {
		names[i] = f.Name
	}
	return nil, fmt.Errorf("predicate: no column %q in the data; it has: %s", name, strings.Join(names, ", "))
}

func fieldIndex(fields []arrow.Field, name string) int {
	for i, f := range fields {
		if f.Name == name {
			return i
		}
	}
	for i, f := range fields {
		if strings.EqualFold(f.Name, name) {
			return i
		}
	}
	return -1
}

func holdsRow(op Op, c int) uint8 {
	if holds(op, c) {
		return vTrue
	}
	return vFalse
}

// ordLit is an integer literal in a column's domain: exact, strictly between v and v+1,
// above every value or below every value.
type ordLit struct {
	v    int64
	mode int8 // 0 exact, 1 between v and v+1, 2 above all, -2 below all
}

func (l ordLit) cmp(x int64) int {
	switch l.mode {
	case 0:
		switch {
		case x < l.v:
			return -1
		case x > l.v:
			return 1
		}
		return 0
	case 1:
		if x <= l.v {
			return -1
		}
		return 1
	case 2:
		return -1
	}
	return 1
}

// intLiteral reads a numeric literal for a column whose values are integers at the given
// decimal scale (0 for integer columns).
func intLiteral(s string, scale int) (ordLit, error) {
	d, sc, err := delta.ParseDecimalBig(strings.TrimSpace(s))
	if err != nil {
		return ordLit{}, err
	}
	f, exact := delta.RescaleBig(d, sc, scale)
	if !f.IsInt64() {
		if f.Sign() > 0 {
			return ordLit{mode: 2}, nil
		}
		return ordLit{mode: -2}, nil
	}
	l := ordLit{v: f.Int64()}
	if !exact {
		l.mode = 1
	}
	return l, nil
}

func cmpInts[T ~int8 | ~int16 | ~int32 | ~int64 | ~uint8 | ~uint16 | ~uint32](c *column, vals []T, l ordLit, op Op, out []uint8) {
	for i, x := range vals {
		if c.null(i) {
			out[i] = vNull
			continue
		}
		out[i] = holdsRow(op, l.cmp(int64(x)))
	}
}

func cmpFloats[T float32 | float64](c *column, vals []T, l T, op Op, out []uint8) {
	nan := l != l
	for i, x := range vals {
		if c.null(i) {
			out[i] = vNull
			continue
		}
		if nan || x != x {
			out[i] = vFalse
			continue
		}
		r := 0
		if x < l {
			r = -1
		} else if x > l {
			r = 1
		}
		out[i] = holdsRow(op, r)
	}
}

func cmpEach(c *column, n int, cmp func(i int) int, op Op, out []uint8) {
	for i := 0; i < n; i++ {
		if c.null(i) {
			out[i] = vNull
			continue
		}
		out[i] = holdsRow(op, cmp(i))
	}
}

var decimal128Bound = new(big.Int).Exp(big.NewInt(10), big.NewInt(38), nil)

func compareColumn(c *column, lit string, op Op, out []uint8) error {
	n := c.arr.Len()
	switch a := c.arr.(type) {
	case *array.Null:
		for i := range out {
			out[i] = vNull
		}
		return nil
	case *array.Int8, *array.Int16, *array.Int32, *array.Int64, *array.Uint8, *array.Uint16, *array.Uint32:
		l, err := intLiteral(lit, 0)
		if err != nil {
			return fmt.Errorf("column %s is %s: literal %q is not a number", c.name, c.arr.DataType(), lit)
		}
		switch a := a.(type) {
		case *array.Int8:
			cmpInts(c, a.Int8Values(), l, op, out)
		case *array.Int16:
			cmpInts(c, a.Int16Values(), l, op, out)
		case *array.Int32:
			cmpInts(c, a.Int32Values(), l, op, out)
		case *array.Int64:
			cmpInts(c, a.Int64Values(), l, op, out)
		case *array.Uint8:
			cmpInts(c, a.Uint8Values(), l, op, out)
		case *array.Uint16:
			cmpInts(c, a.Uint16Values(), l, op, out)
		case *array.Uint32:
			cmpInts(c, a.Uint32Values(), l, op, out)
		}
		return nil
	case *array.Float32:
		v, err := parseValue(strings.TrimSpace(lit), TypeFloat)
		if err != nil {
			return fmt.Errorf("column %s is float: literal %q: %v", c.name, lit, err)
		}
		cmpFloats(c, a.Float32Values(), float32(v.f), op, out)
		return nil
	case *array.Float64:
		v, err := parseValue(strings.TrimSpace(lit), TypeDouble)
		if err != nil {
			return fmt.Errorf("column %s is double: literal %q: %v", c.name, lit, err)
		}
		cmpFloats(c, a.Float64Values(), v.f, op, out)
		return nil
	case *array.Decimal128:
		dt := a.DataType().(*arrow.Decimal128Type)
		d, sc, err := delta.ParseDecimalBig(strings.TrimSpace(lit))
		if err != nil {
			return fmt.Errorf("column %s is %s: literal %q is not a number", c.name, dt, lit)
		}
		f, exact := delta.RescaleBig(d, sc, int(dt.Scale))
		mode := 0
		switch {
		case f.Cmp(decimal128Bound) >= 0:
			mode = 2
		case new(big.Int).Neg(f).Cmp(decimal128Bound) >= 0:
			mode = -2
		case !exact:
			mode = 1
		}
		var num decimal128.Num
		if mode == 0 || mode == 1 {
			num = decimal128.FromBigInt(f)
		}
		cmpEach(c, n, func(i int) int {
			switch mode {
			case 2:
				return -1
			case -2:
				return 1
			}
			x := a.Value(i)
			if mode == 1 {
				if x.LessEqual(num) {
					return -1
				}
				return 1
			}
			return x.Cmp(num)
		}, op, out)
		return nil
	case *array.String:
		cmpEach(c, n, func(i int) int { return strings.Compare(a.Value(i), lit) }, op, out)
		return nil
	case *array.LargeString:
		cmpEach(c, n, func(i int) int { return strings.Compare(a.Value(i), lit) }, op, out)
		return nil
	case *array.Binary:
		b := []byte(lit)
		cmpEach(c, n, func(i int) int { return bytes.Compare(a.Value(i), b) }, op, out)
		return nil
	case *array.LargeBinary:
		b := []byte(lit)
		cmpEach(c, n, func(i int) int { return bytes.Compare(a.Value(i), b) }, op, out)
		return nil
	case *array.Boolean:
		v, err := parseValue(strings.TrimSpace(lit), TypeBool)
		if err != nil {
			return fmt.Errorf("column %s is boolean: literal %q is not true or false", c.name, lit)
		}
		l := ordLit{v: v.i}
		cmpEach(c, n, func(i int) int {
			var x int64
			if a.Value(i) {
				x = 1
			}
			return l.cmp(x)
		}, op, out)
		return nil
	case *array.Date32:
		d, err := delta.ParseDate(strings.TrimSpace(lit))
		if err != nil {
			return fmt.Errorf("column %s is a date: %v", c.name, err)
		}
		cmpInts(c, a.Date32Values(), ordLit{v: int64(d)}, op, out)
		return nil
	case *array.Date64:
		d, err := delta.ParseDate(strings.TrimSpace(lit))
		if err != nil {
			return fmt.Errorf("column %s is a date: %v", c.name, err)
		}
		cmpInts(c, a.Date64Values(), ordLit{v: int64(d) * 86_400_000}, op, out)
		return nil
	case *array.Timestamp:
		tt := a.DataType().(*arrow.TimestampType)
		us, err := delta.ParseTimestamp(strings.TrimSpace(lit), tt.TimeZone == "")
		if err != nil {
			return fmt.Errorf("column %s is %s: %v", c.name, tt, err)
		}
		cmpInts(c, a.TimestampValues(), timestampLiteral(us, tt.Unit), op, out)
		return nil
	}
	return fmt.Errorf("column %s has type %s, which cannot be compared with a value", c.name, c.arr.DataType())
}

// timestampLiteral converts microseconds to a column unit.
func timestampLiteral(us int64, unit arrow.TimeUnit) ordLit {
	switch unit {
	case arrow.Microsecond:
		return ordLit{v: us}
	case arrow.Nanosecond:
		if us > math.MaxInt64/1000 {
			return ordLit{mode: 2}
		}
		if us < math.MinInt64/1000 {
			return ordLit{mode: -2}
		}
		return ordLit{v: us * 1000}
	}
	div := int64(1000)
	if unit == arrow.Second {
		div = 1_000_000
	}
	q := delta.FloorDiv(us, div)
	if q*div == us {
		return ordLit{v: q}
	}
	return ordLit{v: q, mode: 1}
}

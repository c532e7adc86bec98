package predicate

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/deltashare/deltashare/sharing/delta"
)

// Bind resolves an expression against a table schema and returns a new, bound expression:
//
//   - column names are matched case-insensitively (a dotted name reaches into struct
//     columns) and rewritten in the schema's spelling;
//   - each column gets the value type of its Delta type: boolean→bool, byte/short/integer→int,
//     long→long, float→float, double→double, string→string, date→date,
//     timestamp→timestamp, and the extensions decimal(p,s)→decimal and
//     timestamp_ntz→timestamp_ntz;
//   - each literal is checked against its column's type, converted (a date column compared
//     with '2021-01-01' gives a date literal; timestamps are normalised to the protocol's
//     UTC format "2021-01-01T00:00:00Z", values without a zone being read as UTC) and given
//     the column's value type. An integer literal outside the int range compared with an
//     int column makes both sides long.
//
// Binary, struct, array and map columns may only be tested with IS NULL.
func Bind(e *Expr, st *delta.StructType) (*Expr, error) {
	if e == nil {
		return nil, fmt.Errorf("predicate: nothing to bind")
	}
	if st == nil {
		return nil, fmt.Errorf("predicate: no table schema to bind %s to", e)
	}
	return bind(e, st, 0)
}

func bind(e *Expr, st *delta.StructType, depth int) (*Expr, error) {
	if depth > MaxDepth*4 {
		return nil, fmt.Errorf("predicate: expression nested too deeply")
	}
	switch e.Op {
	case OpAnd, OpOr, OpNot:
		if len(e.Children) == 0 || e.Op == OpNot && len(e.Children) != 1 {
			return nil, fmt.Errorf("predicate: %s has %d operands", e.Op, len(e.Children))
		}
		out := &Expr{Op: e.Op, Children: make([]*Expr, len(e.Children))}
		for i, c := range e.Children {
			b, err := bind(c, st, depth+1)
			if err != nil {
				return nil, err
			}
			out.Children[i] = b
		}
		return out, nil
	case OpIsNull:
		if len(e.Children) != 1 || e.Children[0].Op != OpColumn {
			return nil, fmt.Errorf("predicate: IS NULL applies to one column")
		}
		name, f, err := resolveColumn(st, e.Children[0].Name)
		if err != nil {
			return nil, err
		}
		vt, err := columnValueType(f.Type)
		if err != nil {
			switch f.Type.(type) {
			case *delta.StructType, *delta.ArrayType, *delta.MapType:
				return nil, fmt.Errorf("predicate: column %q is a %s; IS NULL on nested columns is not supported", name, f.Type)
			}
			vt = TypeString // binary or void: only the null test matters
		}
		return IsNull(Column(name, vt)), nil
	case OpEqual, OpLessThan, OpLessThanOrEqual, OpGreaterThan, OpGreaterThanOrEqual:
		if len(e.Children) != 2 {
			return nil, fmt.Errorf("predicate: %s needs two operands", e.Op)
		}
		a, b := e.Children[0], e.Children[1]
		if a.Op == OpColumn && b.Op == OpColumn {
			return bindColumns(e.Op, a, b, st)
		}
		col, lit, op, ok := splitCompare(e)
		if !ok {
			return nil, fmt.Errorf("predicate: %s needs a column on one side, found %s", e.Op, e)
		}
		name, f, vt, err := resolveComparable(st, col.Name)
		if err != nil {
			return nil, err
		}
		l, cvt, err := bindLiteral(lit, vt)
		if err != nil {
			return nil, fmt.Errorf("predicate: column %q is %s: %w", name, f.Type, err)
		}
		c := Column(name, cvt)
		if lit == e.Children[0] { // keep the operands in their written order
			return Compare(op.flip(), l, c), nil
		}
		return Compare(op, c, l), nil
	case OpLike:
		if len(e.Children) != 2 || e.Children[0].Op != OpColumn || e.Children[1].Op != OpLiteral {
			return nil, fmt.Errorf("predicate: LIKE compares a column with a quoted pattern")
		}
		name, f, err := resolveColumn(st, e.Children[0].Name)
		if err != nil {
			return nil, err
		}
		if vt, err := columnValueType(f.Type); err != nil || vt != TypeString {
			return nil, fmt.Errorf("predicate: column %q is %s: LIKE applies to string columns", name, f.Type)
		}
		if _, err := likePattern(e.Children[1].Value); err != nil {
			return nil, fmt.Errorf("predicate: %w", err)
		}
		return Like(Column(name, TypeString), e.Children[1].Value), nil
	case OpColumn, OpLiteral:
		return nil, fmt.Errorf("predicate: %s alone is not a condition; compare it with something", e)
	}
	return nil, fmt.Errorf("predicate: unknown op %q", e.Op)
}

func bindColumns(op Op, a, b *Expr, st *delta.StructType) (*Expr, error) {
	na, fa, ta, err := resolveComparable(st, a.Name)
	if err != nil {
		return nil, err
	}
	nb, fb, tb, err := resolveComparable(st, b.Name)
	if err != nil {
		return nil, err
	}
	if ta != tb && !(isIntegral(ta) && isIntegral(tb)) {
		return nil, fmt.Errorf("predicate: cannot compare column %q (%s) with column %q (%s)", na, fa.Type, nb, fb.Type)
	}
	return Compare(op, Column(na, ta), Column(nb, tb)), nil
}

// resolveComparable is resolveColumn for a column a comparison can use, with its value type.
func resolveComparable(st *delta.StructType, name string) (string, *delta.StructField, ValueType, error) {
	name, f, err := resolveColumn(st, name)
	if err != nil {
		return "", nil, "", err
	}
	vt, err := columnValueType(f.Type)
	if err != nil {
		return "", nil, "", fmt.Errorf("predicate: column %q %v", name, err)
	}
	return name, f, vt, nil
}

// resolveColumn finds a column by name, case-insensitively, following dots into structs.
func resolveColumn(st *delta.StructType, name string) (string, *delta.StructField, error) {
	if f := st.Field(name); f != nil {
		return f.Name, f, nil
	}
	parts := strings.Split(name, ".")
	cur := st
	var names []string
	for i, p := range parts {
		f := cur.Field(p)
		if f == nil {
			break
		}
		names = append(names, f.Name)
		if i == len(parts)-1 {
			return strings.Join(names, "."), f, nil
		}
		next, ok := f.Type.(*delta.StructType)
		if !ok {
			break
		}
		cur = next
	}
	cols := st.FieldNames()
	list := strings.Join(cols, ", ")
	if len(cols) > 40 {
		list = strings.Join(cols[:40], ", ") + fmt.Sprintf(" and %d more", len(cols)-40)
	}
	return "", nil, fmt.Errorf("predicate: unknown column %q; the table has: %s", name, list)
}

// primitiveValueTypes are the value types of the primitive Delta types a filter can compare.
var primitiveValueTypes = map[string]ValueType{
	delta.TypeBoolean:      TypeBool,
	delta.TypeByte:         TypeInt,
	delta.TypeShort:        TypeInt,
	delta.TypeInteger:      TypeInt,
	delta.TypeLong:         TypeLong,
	delta.TypeFloat:        TypeFloat,
	delta.TypeDouble:       TypeDouble,
	delta.TypeString:       TypeString,
	delta.TypeDate:         TypeDate,
	delta.TypeTimestamp:    TypeTimestamp,
	delta.TypeTimestampNTZ: TypeTimestampNTZ,
}

// columnValueType maps a Delta type to the value type a comparison uses.
func columnValueType(t delta.DataType) (ValueType, error) {
	switch v := t.(type) {
	case *delta.DecimalType:
		return TypeDecimal, nil
	case *delta.PrimitiveType:
		if vt, ok := primitiveValueTypes[v.Name]; ok {
			return vt, nil
		}
	}
	return "", fmt.Errorf("has type %s, which can only be tested with IS NULL", t)
}

func isNumeric(t ValueType) bool {
	switch t {
	case TypeInt, TypeLong, TypeFloat, TypeDouble, TypeDecimal:
		return true
	}
	return false
}

// bindLiteral converts a literal for a column of value type col. It returns the literal and
// the value type the column should carry (col, or long for an int column with a wide value).
func bindLiteral(lit *Expr, col ValueType) (*Expr, ValueType, error) {
	v, lt := lit.Value, lit.ValueType
	text := lt == TypeString || lt == ""
	describe := func() string {
		if text {
			return quoteString(v)
		}
		return fmt.Sprintf("%s %s", lt, v)
	}
	switch col {
	case TypeBool:
		if lt != TypeBool && !text {
			return nil, "", fmt.Errorf("compare it with true or false, not %s", describe())
		}
		b, err := strconv.ParseBool(strings.ToLower(v))
		if err != nil || !strings.EqualFold(v, "true") && !strings.EqualFold(v, "false") {
			return nil, "", fmt.Errorf("%s is not true or false", describe())
		}
		return Literal(strconv.FormatBool(b), TypeBool), TypeBool, nil
	case TypeInt, TypeLong:
		if !isNumeric(lt) && !text {
			return nil, "", fmt.Errorf("compare it with a whole number, not %s", describe())
		}
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			if d, sc, derr := delta.ParseDecimalBig(strings.TrimSpace(v)); derr == nil {
				if _, exact := delta.RescaleBig(d, sc, 0); exact {
					return nil, "", fmt.Errorf("%s is out of the long range", describe())
				}
				return nil, "", fmt.Errorf("%s is not a whole number", describe())
			}
			return nil, "", fmt.Errorf("%s is not a whole number", describe())
		}
		t := col
		if col == TypeInt && (n < -1<<31 || n > 1<<31-1) {
			t = TypeLong
		}
		return Literal(strconv.FormatInt(n, 10), t), t, nil
	case TypeFloat, TypeDouble, TypeDecimal:
		if !isNumeric(lt) && !text {
			return nil, "", fmt.Errorf("compare it with a number, not %s", describe())
		}
		v = strings.TrimSpace(v)
		if _, err := parseValue(v, col); err != nil {
			return nil, "", fmt.Errorf("%s is not a valid %s: %v", describe(), col, err)
		}
		return Literal(v, col), col, nil
	case TypeString:
		if !text {
			return nil, "", fmt.Errorf("compare it with a quoted string such as %s, not %s", quoteString(v), describe())
		}
		return Literal(v, TypeString), TypeString, nil
	case TypeDate:
		if !text && lt != TypeDate {
			return nil, "", fmt.Errorf("compare it with a date such as '2021-01-31', not %s", describe())
		}
		d, err := delta.ParseDate(strings.TrimSpace(v))
		if err != nil {
			return nil, "", err
		}
		return Literal(delta.FormatDate(d), TypeDate), TypeDate, nil
	case TypeTimestamp, TypeTimestampNTZ:
		if !text && lt != TypeDate && lt != TypeTimestamp && lt != TypeTimestampNTZ {
			return nil, "", fmt.Errorf("compare it with a timestamp such as '2021-01-31 12:00:00', not %s", describe())
		}
		ts, err := delta.ParseTimestamp(strings.TrimSpace(v), col == TypeTimestampNTZ)
		if err != nil {
			return nil, "", err
		}
		if col == TypeTimestamp {
			return Literal(delta.FormatTimestamp(ts), col), col, nil
		}
		return Literal(delta.FormatTimestampNTZ(ts), col), col, nil
	}
	return nil, "", fmt.Errorf("cannot compare with %s", describe())
}

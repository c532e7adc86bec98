package predicate

import (
	"strings"
)

// Op is the operation of an expression node, spelled as in the protocol's JSON.
type Op string

// The protocol's ops.
const (
	OpColumn             Op = "column"
	OpLiteral            Op = "literal"
	OpIsNull             Op = "isNull"
	OpEqual              Op = "equal"
	OpLessThan           Op = "lessThan"
	OpLessThanOrEqual    Op = "lessThanOrEqual"
	OpGreaterThan        Op = "greaterThan"
	OpGreaterThanOrEqual Op = "greaterThanOrEqual"
	OpAnd                Op = "and"
	OpOr                 Op = "or"
	OpNot                Op = "not"
)

// OpLike is an extension op for the --where syntax's LIKE: its children are a string column
// and a string literal, the pattern (% any run of characters, _ one character, \ escapes the
// next one). The protocol has no such op: Hints drops it (LIKE is applied locally only), and
// MightMatch keeps every file for it.
const OpLike Op = "like"

// Like returns the LIKE test of a column against pattern.
func Like(col *Expr, pattern string) *Expr {
	return &Expr{Op: OpLike, Children: []*Expr{col, Literal(pattern, TypeString)}}
}

// IsComparison reports whether op is one of the binary comparisons.
func (op Op) IsComparison() bool {
	switch op {
	case OpEqual, OpLessThan, OpLessThanOrEqual, OpGreaterThan, OpGreaterThanOrEqual:
		return true
	}
	return false
}

// flip returns the comparison with its operands swapped (a < b  ⇔  b > a).
func (op Op) flip() Op {
	switch op {
	case OpLessThan:
		return OpGreaterThan
	case OpLessThanOrEqual:
		return OpGreaterThanOrEqual
	case OpGreaterThan:
		return OpLessThan
	case OpGreaterThanOrEqual:
		return OpLessThanOrEqual
	}
	return op
}

// ValueType is the type of a column or literal leaf.
type ValueType string

// The protocol's value types.
const (
	TypeBool      ValueType = "bool"
	TypeInt       ValueType = "int"
	TypeLong      ValueType = "long"
	TypeString    ValueType = "string"
	TypeDate      ValueType = "date"
	TypeFloat     ValueType = "float"
	TypeDouble    ValueType = "double"
	TypeTimestamp ValueType = "timestamp"
)

// Extension value types for Delta column types the protocol cannot name. Bind assigns them;
// Hints removes every leaf that uses them before an expression is sent to a server, and
// MightMatch and Filter understand them.
const (
	TypeDecimal      ValueType = "decimal"       // exact decimal, any precision and scale
	TypeTimestampNTZ ValueType = "timestamp_ntz" // wall-clock timestamp, no zone
)

// IsProtocol reports whether t is one of the eight value types of the Delta Sharing protocol.
func (t ValueType) IsProtocol() bool {
	switch t {
	case TypeBool, TypeInt, TypeLong, TypeString, TypeDate, TypeFloat, TypeDouble, TypeTimestamp:
		return true
	}
	return false
}

func (t ValueType) known() bool {
	return t.IsProtocol() || t == TypeDecimal || t == TypeTimestampNTZ
}

// Expr is one node of a predicate tree, shaped like the protocol's JSON: an op, children for
// the non-leaf ops, Name and ValueType for a column, Value and ValueType for a literal.
//
// Parse builds unbound trees: columns have no ValueType and literals carry the type of their
// spelling (string, long, double, bool, date, timestamp). Bind resolves them against a
// schema. Literal values are always text, in the protocol's format once bound.
type Expr struct {
	Op        Op
	Children  []*Expr
	Name      string    // column name (dotted for nested struct fields)
	Value     string    // literal value as text
	ValueType ValueType // column or literal type
}

// Column returns a column leaf.
func Column(name string, t ValueType) *Expr { return &Expr{Op: OpColumn, Name: name, ValueType: t} }

// Literal returns a literal leaf.
func Literal(value string, t ValueType) *Expr {
	return &Expr{Op: OpLiteral, Value: value, ValueType: t}
}

// Compare returns the comparison op of a and b.
func Compare(op Op, a, b *Expr) *Expr { return &Expr{Op: op, Children: []*Expr{a, b}} }

// And returns the conjunction of es (es itself when there is one).
func And(es ...*Expr) *Expr { return nary(OpAnd, es) }

// Or returns the disjunction of es (es itself when there is one).
func Or(es ...*Expr) *Expr { return nary(OpOr, es) }

func nary(op Op, es []*Expr) *Expr {
	if len(es) == 1 {
		return es[0]
	}
	var flat []*Expr
	for _, e := range es {
		if e.Op == op {
			flat = append(flat, e.Children...)
		} else {
			flat = append(flat, e)
		}
	}
	return &Expr{Op: op, Children: flat}
}

// Not returns the negation of e.
func Not(e *Expr) *Expr { return &Expr{Op: OpNot, Children: []*Expr{e}} }

// IsNull returns the null test of a column.
func IsNull(col *Expr) *Expr { return &Expr{Op: OpIsNull, Children: []*Expr{col}} }

// Clone returns a deep copy of e.
func (e *Expr) Clone() *Expr {
	if e == nil {
		return nil
	}
	c := *e
	if e.Children != nil {
		c.Children = make([]*Expr, len(e.Children))
		for i, ch := range e.Children {
			c.Children[i] = ch.Clone()
		}
	}
	return &c
}

// Columns returns the names of the columns e refers to, each once, in order of appearance.
func (e *Expr) Columns() []string {
	var out []string
	seen := map[string]bool{}
	var walk func(*Expr)
	walk = func(x *Expr) {
		if x == nil {
			return
		}
		if x.Op == OpColumn && !seen[x.Name] {
			seen[x.Name] = true
			out = append(out, x.Name)
		}
		for _, c := range x.Children {
			walk(c)
		}
	}
	walk(e)
	return out
}

// RenameColumns returns a copy of e with every column name passed through rename; a name
// for which rename reports false is kept. A server uses it to turn logical names into
// physical ones (the keys of partitionValues and stats under column mapping).
func RenameColumns(e *Expr, rename func(name string) (string, bool)) *Expr {
	c := e.Clone()
	var walk func(*Expr)
	walk = func(x *Expr) {
		if x == nil {
			return
		}
		if x.Op == OpColumn {
			if n, ok := rename(x.Name); ok {
				x.Name = n
			}
		}
		for _, ch := range x.Children {
			walk(ch)
		}
	}
	walk(c)
	return c
}

// String renders e in the syntax Parse reads.
func (e *Expr) String() string {
	var b strings.Builder
	e.write(&b, 0)
	return b.String()
}

func (e *Expr) write(b *strings.Builder, parentPrec int) {
	if e == nil {
		b.WriteString("<nil>")
		return
	}
	switch e.Op {
	case OpColumn:
		b.WriteString(quoteIdent(e.Name))
	case OpLiteral:
		switch e.ValueType {
		case TypeDate:
			b.WriteString("DATE " + quoteString(e.Value))
		case TypeTimestamp, TypeTimestampNTZ:
			b.WriteString("TIMESTAMP " + quoteString(e.Value))
		case TypeBool:
			if e.Value == "true" || e.Value == "false" {
				b.WriteString(e.Value)
				return
			}
			b.WriteString(quoteString(e.Value))
		case TypeInt, TypeLong, TypeFloat, TypeDouble, TypeDecimal:
			if isNumberToken(e.Value) {
				b.WriteString(e.Value)
				return
			}
			b.WriteString(quoteString(e.Value))
		default:
			b.WriteString(quoteString(e.Value))
		}
	case OpIsNull:
		writeChild(b, e, 0, 4)
		b.WriteString(" IS NULL")
	case OpEqual, OpLessThan, OpLessThanOrEqual, OpGreaterThan, OpGreaterThanOrEqual:
		writeChild(b, e, 0, 4)
		b.WriteString(" " + opSymbol[e.Op] + " ")
		writeChild(b, e, 1, 4)
	case OpLike:
		writeChild(b, e, 0, 4)
		b.WriteString(" LIKE ")
		writeChild(b, e, 1, 4)
	case OpNot:
		if len(e.Children) == 1 && e.Children[0].Op == OpLike {
			writeChild(b, e.Children[0], 0, 4)
			b.WriteString(" NOT LIKE ")
			writeChild(b, e.Children[0], 1, 4)
			return
		}
		if len(e.Children) == 1 && e.Children[0].Op == OpEqual {
			writeChild(b, e.Children[0], 0, 4)
			b.WriteString(" != ")
			writeChild(b, e.Children[0], 1, 4)
			return
		}
		if len(e.Children) == 1 && e.Children[0].Op == OpIsNull {
			writeChild(b, e.Children[0], 0, 4)
			b.WriteString(" IS NOT NULL")
			return
		}
		b.WriteString("NOT ")
		writeChild(b, e, 0, 3)
	case OpAnd, OpOr:
		prec := 2
		word := " AND "
		if e.Op == OpOr {
			prec, word = 1, " OR "
		}
		if parentPrec > prec {
			b.WriteByte('(')
		}
		for i, c := range e.Children {
			if i > 0 {
				b.WriteString(word)
			}
			c.write(b, prec+1)
		}
		if parentPrec > prec {
			b.WriteByte(')')
		}
	default:
		b.WriteString("<" + string(e.Op) + ">")
	}
}

func writeChild(b *strings.Builder, e *Expr, i, prec int) {
	if i < len(e.Children) {
		e.Children[i].write(b, prec)
	} else {
		b.WriteString("<missing>")
	}
}

var opSymbol = map[Op]string{
	OpEqual: "=", OpLessThan: "<", OpLessThanOrEqual: "<=", OpGreaterThan: ">", OpGreaterThanOrEqual: ">=",
}

func quoteString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func quoteIdent(s string) string {
	plain := s != ""
	for i, r := range s {
		if !(r == '_' || r == '.' && i > 0 || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			plain = false
			break
		}
	}
	if plain && !isKeyword(s) && !strings.HasSuffix(s, ".") && !strings.Contains(s, "..") {
		return s
	}
	return "`" + strings.ReplaceAll(s, "`", "``") + "`"
}

// splitCompare returns the column and literal operands of a comparison, with op flipped
// when the literal comes first. ok is false unless the operands are one column and one
// literal.
func splitCompare(e *Expr) (col, lit *Expr, op Op, ok bool) {
	if !e.Op.IsComparison() || len(e.Children) != 2 {
		return nil, nil, "", false
	}
	a, b := e.Children[0], e.Children[1]
	switch {
	case a.Op == OpColumn && b.Op == OpLiteral:
		return a, b, e.Op, true
	case a.Op == OpLiteral && b.Op == OpColumn:
		return b, a, e.Op.flip(), true
	}
	return nil, nil, "", false
}

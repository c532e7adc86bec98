package predicate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// MaxJSONBytes is the largest predicate JSON document ParseJSON reads.
const MaxJSONBytes = 1 << 20

// maxJSONNodes bounds the nodes of a tree read by ParseJSON.
const maxJSONNodes = 100_000

// jsonNode is the wire form of one node.
type jsonNode struct {
	Op        string          `json:"op"`
	Children  []*jsonNode     `json:"children,omitempty"`
	Name      *string         `json:"name,omitempty"`
	Value     json.RawMessage `json:"value,omitempty"`
	ValueType string          `json:"valueType,omitempty"`
}

// MarshalJSON renders e in the protocol's JSON predicate form (jsonPredicateHints). It writes
// the tree as it is: to send hints to a server, marshal Hints(bound) instead, which leaves out
// what the protocol cannot express.
func (e *Expr) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	if err := e.writeJSON(&b, 0); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func (e *Expr) writeJSON(b *bytes.Buffer, depth int) error {
	if e == nil {
		return fmt.Errorf("predicate: nil expression")
	}
	if depth > MaxDepth*4 {
		return fmt.Errorf("predicate: expression nested deeper than %d levels", MaxDepth*4)
	}
	b.WriteString(`{"op":`)
	writeJSONString(b, string(e.Op))
	switch e.Op {
	case OpColumn:
		b.WriteString(`,"name":`)
		writeJSONString(b, e.Name)
		b.WriteString(`,"valueType":`)
		writeJSONString(b, string(e.ValueType))
	case OpLiteral:
		b.WriteString(`,"value":`)
		writeJSONString(b, e.Value)
		b.WriteString(`,"valueType":`)
		writeJSONString(b, string(e.ValueType))
	default:
		b.WriteString(`,"children":[`)
		for i, c := range e.Children {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := c.writeJSON(b, depth+1); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	}
	b.WriteByte('}')
	return nil
}

func writeJSONString(b *bytes.Buffer, s string) {
	enc, _ := json.Marshal(s)
	b.Write(enc)
}

// UnmarshalJSON reads the protocol's JSON form with the checks of ParseJSON.
func (e *Expr) UnmarshalJSON(data []byte) error {
	x, err := ParseJSON(data)
	if err != nil {
		return err
	}
	*e = *x
	return nil
}

// ParseJSON reads a predicate in the protocol's JSON form (a server's jsonPredicateHints). It
// checks the shape of every op (children count, leaf operands, a column under isNull), that
// value types are known and that literal values parse as their type. Documents larger than
// MaxJSONBytes or nested deeper than MaxDepth are refused. Literal values written as JSON
// numbers or booleans are accepted and kept as text.
func ParseJSON(data []byte) (*Expr, error) {
	if len(data) > MaxJSONBytes {
		return nil, fmt.Errorf("predicate: JSON predicate is %d bytes, larger than the limit of %d", len(data), MaxJSONBytes)
	}
	if err := checkJSONDepth(data, MaxDepth*2+2); err != nil {
		return nil, err
	}
	var root jsonNode
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil {
		return nil, fmt.Errorf("predicate: JSON predicate is malformed: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("predicate: JSON predicate has data after the top-level object")
	}
	nodes := 0
	e, err := fromJSON(&root, "$", 0, &nodes)
	if err != nil {
		return nil, err
	}
	if e.Op == OpColumn || e.Op == OpLiteral {
		return nil, fmt.Errorf("predicate: the top-level op is a %s; want a condition such as equal, isNull or and", e.Op)
	}
	return e, nil
}

// checkJSONDepth refuses documents nested deeper than max before they are decoded.
func checkJSONDepth(data []byte, max int) error {
	depth := 0
	inString := false
	for i := 0; i < len(data); i++ {
		c := data[i]
		if inString {
			switch c {
			case '\\':
				i++
			case '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '{', '[':
			depth++
			if depth > max {
				return fmt.Errorf("predicate: JSON predicate nested deeper than %d levels", MaxDepth)
			}
		case '}', ']':
			depth--
		}
	}
	return nil
}

func fromJSON(n *jsonNode, path string, depth int, nodes *int) (*Expr, error) {
	if n == nil {
		return nil, fmt.Errorf("predicate: %s is null; want an op object", path)
	}
	if depth > MaxDepth {
		return nil, fmt.Errorf("predicate: %s: nested deeper than %d levels", path, MaxDepth)
	}
	*nodes++
	if *nodes > maxJSONNodes {
		return nil, fmt.Errorf("predicate: JSON predicate has more than %d ops", maxJSONNodes)
	}
	op := Op(n.Op)
	where := fmt.Sprintf("%s (op %q)", path, n.Op)
	switch op {
	case OpColumn, OpLiteral:
		if len(n.Children) > 0 {
			return nil, fmt.Errorf("predicate: %s is a leaf and must not have children", where)
		}
		vt := ValueType(n.ValueType)
		if !vt.known() {
			return nil, fmt.Errorf("predicate: %s has valueType %q; want one of bool, int, long, string, date, float, double, timestamp", where, n.ValueType)
		}
		if op == OpColumn {
			if n.Name == nil || *n.Name == "" {
				return nil, fmt.Errorf("predicate: %s has no name", where)
			}
			return Column(*n.Name, vt), nil
		}
		v, err := literalText(n.Value)
		if err != nil {
			return nil, fmt.Errorf("predicate: %s: %w", where, err)
		}
		if err := checkLiteral(v, vt); err != nil {
			return nil, fmt.Errorf("predicate: %s: %w", where, err)
		}
		return Literal(v, vt), nil
	case OpIsNull, OpNot:
		if len(n.Children) != 1 {
			return nil, fmt.Errorf("predicate: %s needs exactly one child, has %d", where, len(n.Children))
		}
	case OpEqual, OpLessThan, OpLessThanOrEqual, OpGreaterThan, OpGreaterThanOrEqual:
		if len(n.Children) != 2 {
			return nil, fmt.Errorf("predicate: %s needs exactly two children, has %d", where, len(n.Children))
		}
	case OpAnd, OpOr:
		if len(n.Children) == 0 {
			return nil, fmt.Errorf("predicate: %s needs at least one child", where)
		}
	case "":
		return nil, fmt.Errorf("predicate: %s has no op", path)
	default:
		return nil, fmt.Errorf("predicate: %s is not a known op; want one of column, literal, isNull, equal, lessThan, lessThanOrEqual, greaterThan, greaterThanOrEqual, and, or, not", where)
	}
	e := &Expr{Op: op, Children: make([]*Expr, len(n.Children))}
	for i, c := range n.Children {
		ce, err := fromJSON(c, path+".children["+strconv.Itoa(i)+"]", depth+1, nodes)
		if err != nil {
			return nil, err
		}
		leaf := ce.Op == OpColumn || ce.Op == OpLiteral
		switch {
		case op == OpIsNull && ce.Op != OpColumn:
			return nil, fmt.Errorf("predicate: %s: the child must be a column op, found %q", where, ce.Op)
		case op.IsComparison() && !leaf:
			return nil, fmt.Errorf("predicate: %s: children must be column or literal ops, found %q", where, ce.Op)
		case (op == OpAnd || op == OpOr || op == OpNot) && leaf:
			return nil, fmt.Errorf("predicate: %s: children must be predicates, found a %s op", where, ce.Op)
		}
		e.Children[i] = ce
	}
	return e, nil
}

func literalText(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", fmt.Errorf("literal has no value")
	}
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", fmt.Errorf("literal value: %w", err)
		}
		return s, nil
	case 't', 'f':
		var b bool
		if err := json.Unmarshal(raw, &b); err != nil {
			return "", fmt.Errorf("literal value: %w", err)
		}
		return strconv.FormatBool(b), nil
	case '{', '[':
		return "", fmt.Errorf("literal value must be a string, found %s", raw[:1])
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil {
		return "", fmt.Errorf("literal value: %w", err)
	}
	return n.String(), nil
}

// checkLiteral reports whether v is a valid value of type t.
func checkLiteral(v string, t ValueType) error {
	_, err := parseValue(v, t)
	if err != nil {
		return fmt.Errorf("literal %q is not a valid %s: %w", v, t, err)
	}
	return nil
}

// Hints returns the part of a (bound) expression that can be sent to a Delta Sharing server
// as jsonPredicateHints, or nil when nothing can. Hints are weaker than e or equal to it (a
// server that applies them never drops a file e could match): NOT is pushed down to the
// leaves, and comparisons using extension value types (decimal, timestamp_ntz) or a missing
// value type are dropped from ANDs, as is LIKE (OpLike, no protocol op); an OR with an
// inexpressible branch is dropped whole.
func Hints(e *Expr) *Expr {
	if e == nil {
		return nil
	}
	h, _ := hints(e, false)
	return h
}

func hints(e *Expr, neg bool) (*Expr, bool) {
	switch e.Op {
	case OpNot:
		if len(e.Children) != 1 {
			return nil, false
		}
		return hints(e.Children[0], !neg)
	case OpAnd, OpOr:
		and := (e.Op == OpAnd) != neg
		var kept []*Expr
		for _, c := range e.Children {
			h, ok := hints(c, neg)
			if !ok {
				if and {
					continue
				}
				return nil, false
			}
			kept = append(kept, h)
		}
		if len(kept) == 0 {
			return nil, false
		}
		if and {
			return And(kept...), true
		}
		return Or(kept...), true
	}
	if !protocolLeaves(e) {
		return nil, false
	}
	c := e.Clone()
	if neg {
		c = Not(c)
	}
	return c, true
}

func protocolLeaves(e *Expr) bool {
	if !(e.Op.IsComparison() || e.Op == OpIsNull) {
		return false
	}
	for _, c := range e.Children {
		if c.Op != OpColumn && c.Op != OpLiteral || !c.ValueType.IsProtocol() {
			return false
		}
		if c.Op == OpColumn && strings.TrimSpace(c.Name) == "" {
			return false
		}
	}
	return true
}

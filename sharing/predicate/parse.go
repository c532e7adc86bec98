package predicate

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/deltashare/deltashare/sharing/delta"
)

// Limits on what Parse and ParseJSON accept, so hostile input cannot exhaust memory or stack.
const (
	MaxExprBytes = 64 << 10 // longest expression text or JSON document
	MaxDepth     = 64       // deepest nesting of ops
	MaxNodes     = 10_000   // most nodes in one tree
)

// SyntaxError is a Parse error: Pos is the 1-based character column in the input.
type SyntaxError struct {
	Pos int
	Msg string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("predicate: syntax error at column %d: %s", e.Pos, e.Msg)
}

// Parse reads a filter expression in the CLI's --where syntax:
//
//	expr      := expr OR expr | expr AND expr | NOT expr | ( expr ) | predicate
//	predicate := operand cmp operand        (one operand a column, the other a literal)
//	           | column IS [NOT] NULL
//	           | column [NOT] IN ( literal, ... )
//	           | column [NOT] BETWEEN literal AND literal
//	           | column [NOT] LIKE 'pattern'
//	           | column                     (a boolean column: true when the column is true)
//	cmp       := = | == | != | <> | < | <= | > | >=
//	column    := name | `quoted name`, optionally dotted for struct fields: a.b, `a`.`b c`
//	literal   := 'text' ('' is a quote) | number | true | false
//	           | DATE 'YYYY-MM-DD' | TIMESTAMP 'YYYY-MM-DD hh:mm:ss[.ffffff][zone]'
//
// Keywords are case-insensitive. AND binds tighter than OR. != and <> become not(equal),
// IN becomes an or of equals, BETWEEN lo AND hi becomes and(greaterThanOrEqual lo,
// lessThanOrEqual hi) (bounds included), a bare column becomes equal(column, true) (so NOT col
// is true only when col is false; a null is neither). LIKE matches the whole string: % is any
// run of characters, _ one character, \ escapes the next one (\% a percent sign); it is
// case-sensitive and becomes the extension op OpLike. The result is unbound: see Bind.
func Parse(expr string) (*Expr, error) {
	if len(expr) > MaxExprBytes {
		return nil, fmt.Errorf("predicate: expression is %d bytes, longer than the limit of %d", len(expr), MaxExprBytes)
	}
	if !utf8.ValidString(expr) {
		return nil, fmt.Errorf("predicate: expression is not valid UTF-8")
	}
	p := &parser{src: expr}
	if err := p.lex(); err != nil {
		return nil, err
	}
	if p.peek().kind == tEOF {
		return nil, p.errAt(p.peek(), "expected a filter expression, found nothing")
	}
	e, err := p.parseOr(0)
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, p.errAt(t, "expected AND, OR or the end of the expression, found %s", t.describe())
	}
	return e, nil
}

type tokKind int

const (
	tEOF tokKind = iota
	tIdent
	tString
	tNumber
	tOp     // comparison operator
	tLParen // (
	tRParen // )
	tComma
	tMinus
	tKeyword
)

type token struct {
	kind   tokKind
	text   string // identifier name, string contents, number text, op, keyword (upper case)
	raw    string // as written
	pos    int    // 1-based column
	quoted bool   // identifier was backquoted (so never a keyword)
}

func (t token) describe() string {
	switch t.kind {
	case tEOF:
		return "the end of the expression"
	case tString:
		return "string " + quoteString(t.text)
	case tNumber:
		return "number " + t.raw
	case tKeyword:
		return "keyword " + t.text
	case tIdent:
		return "name " + quoteIdent(t.text)
	}
	return fmt.Sprintf("%q", t.raw)
}

var keywords = map[string]bool{
	"AND": true, "OR": true, "NOT": true, "IS": true, "NULL": true, "IN": true,
	"TRUE": true, "FALSE": true, "DATE": true, "TIMESTAMP": true, "BETWEEN": true, "LIKE": true,
}

func isKeyword(s string) bool { return keywords[strings.ToUpper(s)] }

type parser struct {
	src   string
	toks  []token
	i     int
	nodes int
}

func (p *parser) col(byteOff int) int { return utf8.RuneCountInString(p.src[:byteOff]) + 1 }

func (p *parser) errAt(t token, format string, args ...any) error {
	return &SyntaxError{Pos: t.pos, Msg: fmt.Sprintf(format, args...)}
}

func identStart(r rune) bool { return r == '_' || unicode.IsLetter(r) }
func identPart(r rune) bool  { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }

// punctuation are the tokens of one character of their own.
var punctuation = map[rune]tokKind{'(': tLParen, ')': tRParen, ',': tComma, '-': tMinus}

func (p *parser) lex() error {
	s := p.src
	i := 0
	for i < len(s) {
		r, w := utf8.DecodeRuneInString(s[i:])
		start := i
		if kind, ok := punctuation[r]; ok {
			p.toks = append(p.toks, token{kind: kind, raw: string(r), pos: p.col(start)})
			i++
			continue
		}
		switch {
		case unicode.IsSpace(r):
			i += w
			continue
		case r == '=' || r == '<' || r == '>' || r == '!':
			op := s[i : i+1]
			if i+1 < len(s) && (s[i+1] == '=' || (r == '<' && s[i+1] == '>')) {
				op = s[i : i+2]
			}
			if op == "!" {
				return &SyntaxError{Pos: p.col(start), Msg: "expected != but found a lone !; use NOT for negation"}
			}
			i += len(op)
			p.toks = append(p.toks, token{kind: tOp, text: op, raw: op, pos: p.col(start)})
		case r == '\'':
			var b strings.Builder
			i++
			closed := false
			for i < len(s) {
				if s[i] == '\'' {
					if i+1 < len(s) && s[i+1] == '\'' {
						b.WriteByte('\'')
						i += 2
						continue
					}
					i++
					closed = true
					break
				}
				b.WriteByte(s[i])
				i++
			}
			if !closed {
				return &SyntaxError{Pos: p.col(start), Msg: "string literal is not closed; end it with ' (write '' for a quote inside)"}
			}
			p.toks = append(p.toks, token{kind: tString, text: b.String(), raw: s[start:i], pos: p.col(start)})
		case r >= '0' && r <= '9' || r == '.' && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9':
			j := scanNumber(s, i)
			if j < len(s) {
				if r2, _ := utf8.DecodeRuneInString(s[j:]); identPart(r2) || r2 == '.' {
					return &SyntaxError{Pos: p.col(start), Msg: fmt.Sprintf("malformed number %q", s[start:j+1])}
				}
			}
			p.toks = append(p.toks, token{kind: tNumber, text: s[i:j], raw: s[i:j], pos: p.col(start)})
			i = j
		case identStart(r) || r == '`':
			var segs []string
			quoted := false
			for {
				seg, j, q, err := p.scanIdentSegment(i)
				if err != nil {
					return err
				}
				quoted = quoted || q
				segs = append(segs, seg)
				i = j
				if i+1 < len(s) && s[i] == '.' {
					if r2, _ := utf8.DecodeRuneInString(s[i+1:]); identStart(r2) || r2 == '`' || r2 >= '0' && r2 <= '9' {
						i++
						continue
					}
				}
				break
			}
			name := strings.Join(segs, ".")
			if !quoted && len(segs) == 1 && isKeyword(name) {
				p.toks = append(p.toks, token{kind: tKeyword, text: strings.ToUpper(name), raw: s[start:i], pos: p.col(start)})
			} else {
				p.toks = append(p.toks, token{kind: tIdent, text: name, raw: s[start:i], pos: p.col(start), quoted: quoted})
			}
		default:
			return &SyntaxError{Pos: p.col(start), Msg: fmt.Sprintf("unexpected character %q; strings go in single quotes, odd column names in backquotes", r)}
		}
	}
	p.toks = append(p.toks, token{kind: tEOF, pos: p.col(len(s))})
	return nil
}

func (p *parser) scanIdentSegment(i int) (string, int, bool, error) {
	s := p.src
	if s[i] == '`' {
		start := i
		var b strings.Builder
		i++
		for i < len(s) {
			if s[i] == '`' {
				if i+1 < len(s) && s[i+1] == '`' {
					b.WriteByte('`')
					i += 2
					continue
				}
				if b.Len() == 0 {
					return "", 0, false, &SyntaxError{Pos: p.col(start), Msg: "empty quoted name ``"}
				}
				return b.String(), i + 1, true, nil
			}
			b.WriteByte(s[i])
			i++
		}
		return "", 0, false, &SyntaxError{Pos: p.col(start), Msg: "quoted name is not closed; end it with ` (write `` for a backquote inside)"}
	}
	start := i
	for i < len(s) {
		r, w := utf8.DecodeRuneInString(s[i:])
		if !identPart(r) {
			break
		}
		i += w
	}
	return s[start:i], i, false, nil
}

func scanNumber(s string, i int) int {
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		j := i + 1
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		if j < len(s) && s[j] >= '0' && s[j] <= '9' {
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			i = j
		}
	}
	return i
}

// isNumberToken reports whether s is a number Parse reads back as one literal.
func isNumberToken(s string) bool {
	t := strings.TrimPrefix(s, "-")
	if t == "" || !(t[0] >= '0' && t[0] <= '9' || t[0] == '.') {
		return false
	}
	return scanNumber(t, 0) == len(t)
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) isKeyword(kw string) bool {
	t := p.peek()
	return t.kind == tKeyword && t.text == kw
}

func (p *parser) node(t token) error {
	p.nodes++
	if p.nodes > MaxNodes {
		return p.errAt(t, "expression has more than %d parts", MaxNodes)
	}
	return nil
}

func (p *parser) parseOr(depth int) (*Expr, error) {
	if depth > MaxDepth {
		return nil, p.errAt(p.peek(), "expression nested deeper than %d levels", MaxDepth)
	}
	return p.parseJoined(depth, "OR", p.parseAnd, Or)
}

func (p *parser) parseAnd(depth int) (*Expr, error) {
	return p.parseJoined(depth, "AND", p.parseNot, And)
}

// parseJoined parses one or more operands joined by keyword and joins them.
func (p *parser) parseJoined(depth int, keyword string, operand func(depth int) (*Expr, error), join func(...*Expr) *Expr) (*Expr, error) {
	first, err := operand(depth)
	if err != nil {
		return nil, err
	}
	es := []*Expr{first}
	for p.isKeyword(keyword) {
		p.next()
		e, err := operand(depth)
		if err != nil {
			return nil, err
		}
		es = append(es, e)
	}
	return join(es...), nil
}

func (p *parser) parseNot(depth int) (*Expr, error) {
	if depth > MaxDepth {
		return nil, p.errAt(p.peek(), "expression nested deeper than %d levels", MaxDepth)
	}
	if p.isKeyword("NOT") {
		t := p.next()
		if err := p.node(t); err != nil {
			return nil, err
		}
		e, err := p.parseNot(depth + 1)
		if err != nil {
			return nil, err
		}
		return Not(e), nil
	}
	if p.peek().kind == tLParen {
		p.next()
		e, err := p.parseOr(depth + 1)
		if err != nil {
			return nil, err
		}
		if t := p.peek(); t.kind != tRParen {
			return nil, p.errAt(t, "expected ) or a continuation with AND/OR, found %s", t.describe())
		}
		p.next()
		return e, nil
	}
	return p.parsePredicate()
}

// parseOperand reads a column or a literal.
func (p *parser) parseOperand() (*Expr, token, error) {
	t := p.peek()
	if err := p.node(t); err != nil {
		return nil, t, err
	}
	switch t.kind {
	case tIdent:
		p.next()
		return Column(t.text, ""), t, nil
	case tKeyword:
		switch t.text {
		case "NULL":
			return nil, t, p.errAt(t, "NULL cannot be compared; use IS NULL or IS NOT NULL")
		case "DATE", "TIMESTAMP":
			p.next()
			s := p.peek()
			if s.kind != tString {
				if s.kind == tOp || s.kind == tKeyword && (s.text == "IS" || s.text == "IN" || s.text == "NOT") {
					// A column called date or timestamp, as in: date = '2021-01-31'.
					return Column(t.raw, ""), t, nil
				}
				return nil, t, p.errAt(s, "expected a quoted value after %s, like %s '2021-01-31', found %s", t.text, t.text, s.describe())
			}
			p.next()
			if t.text == "DATE" {
				d, err := delta.ParseDate(s.text)
				if err != nil {
					return nil, t, p.errAt(s, "%v", err)
				}
				return Literal(delta.FormatDate(d), TypeDate), t, nil
			}
			if _, err := delta.ParseTimestamp(s.text, false); err != nil {
				return nil, t, p.errAt(s, "%v", err)
			}
			return Literal(s.text, TypeTimestamp), t, nil
		case "TRUE", "FALSE":
			p.next()
			return Literal(strings.ToLower(t.text), TypeBool), t, nil
		}
	case tString:
		p.next()
		return Literal(t.text, TypeString), t, nil
	case tNumber, tMinus:
		p.next()
		neg := ""
		num := t
		if t.kind == tMinus {
			num = p.peek()
			if num.kind != tNumber {
				return nil, t, p.errAt(num, "expected a number after -, found %s", num.describe())
			}
			p.next()
			neg = "-"
		}
		vt := TypeLong
		if strings.ContainsAny(num.text, ".eE") {
			vt = TypeDouble
		}
		return Literal(neg+num.text, vt), t, nil
	}
	return nil, t, p.errAt(t, "expected a column name or a value, found %s", t.describe())
}

var cmpOps = map[string]Op{
	"=": OpEqual, "==": OpEqual, "<": OpLessThan, "<=": OpLessThanOrEqual,
	">": OpGreaterThan, ">=": OpGreaterThanOrEqual, "!=": OpEqual, "<>": OpEqual,
}

func (p *parser) parsePredicate() (*Expr, error) {
	left, lt, err := p.parseOperand()
	if err != nil {
		return nil, err
	}
	t := p.peek()
	switch {
	case t.kind == tOp:
		p.next()
		right, rt, err := p.parseOperand()
		if err != nil {
			return nil, err
		}
		if left.Op == OpLiteral && right.Op == OpLiteral {
			return nil, p.errAt(lt, "a comparison needs a column on one side; both %s and %s are values", lt.describe(), rt.describe())
		}
		if left.Op == OpColumn && right.Op == OpColumn {
			return nil, p.errAt(rt, "comparing two columns is not supported; compare %s with a value", lt.describe())
		}
		if left.Op == OpLiteral { // keep the column first
			left, right = right, left
			op := cmpOps[t.text].flip()
			return p.cmp(op, t.text, left, right), nil
		}
		return p.cmp(cmpOps[t.text], t.text, left, right), nil
	case t.kind == tKeyword && t.text == "IS":
		p.next()
		if left.Op != OpColumn {
			return nil, p.errAt(lt, "IS NULL applies to a column, not to %s", lt.describe())
		}
		not := false
		if p.isKeyword("NOT") {
			p.next()
			not = true
		}
		if n := p.peek(); !(n.kind == tKeyword && n.text == "NULL") {
			return nil, p.errAt(n, "expected NULL after IS%s, found %s", map[bool]string{true: " NOT"}[not], n.describe())
		}
		p.next()
		e := IsNull(left)
		if not {
			e = Not(e)
		}
		return e, nil
	case t.kind == tKeyword && t.text == "NOT" && left.Op == OpColumn && p.toks[p.i+1].kind == tKeyword &&
		(p.toks[p.i+1].text == "BETWEEN" || p.toks[p.i+1].text == "LIKE"):
		p.next()
		e, err := p.parseBetweenOrLike(left)
		if err != nil {
			return nil, err
		}
		return Not(e), nil
	case t.kind == tKeyword && (t.text == "BETWEEN" || t.text == "LIKE"):
		if left.Op != OpColumn {
			return nil, p.errAt(lt, "%s applies to a column, not to %s", t.text, lt.describe())
		}
		return p.parseBetweenOrLike(left)
	case t.kind == tKeyword && (t.text == "IN" || t.text == "NOT"):
		p.next()
		not := false
		if t.text == "NOT" {
			if n := p.peek(); !(n.kind == tKeyword && n.text == "IN") {
				return nil, p.errAt(n, "expected IN, BETWEEN or LIKE after NOT, found %s", n.describe())
			}
			p.next()
			not = true
		}
		if left.Op != OpColumn {
			return nil, p.errAt(lt, "IN applies to a column, not to %s", lt.describe())
		}
		if n := p.peek(); n.kind != tLParen {
			return nil, p.errAt(n, "expected ( after IN, found %s", n.describe())
		}
		p.next()
		var alts []*Expr
		for {
			v, vt, err := p.parseOperand()
			if err != nil {
				return nil, err
			}
			if v.Op != OpLiteral {
				return nil, p.errAt(vt, "IN lists values only, found %s", vt.describe())
			}
			alts = append(alts, Compare(OpEqual, Column(left.Name, ""), v))
			n := p.next()
			if n.kind == tRParen {
				break
			}
			if n.kind != tComma {
				return nil, p.errAt(n, "expected , or ) in the IN list, found %s", n.describe())
			}
		}
		e := Or(alts...)
		if not {
			e = Not(e)
		}
		return e, nil
	}
	if left.Op == OpColumn {
		if t.kind == tEOF || t.kind == tRParen || t.kind == tKeyword && (t.text == "AND" || t.text == "OR") {
			// A bare (boolean) column: true when the column is true.
			return Compare(OpEqual, left, Literal("true", TypeBool)), nil
		}
		return nil, p.errAt(t, "expected a comparison (=, !=, <, <=, >, >=), IS [NOT] NULL, [NOT] IN, [NOT] BETWEEN or [NOT] LIKE after %s, found %s", lt.describe(), t.describe())
	}
	return nil, p.errAt(t, "expected a comparison operator after %s, found %s", lt.describe(), t.describe())
}

func (p *parser) cmp(op Op, sym string, col, lit *Expr) *Expr {
	e := Compare(op, col, lit)
	if sym == "!=" || sym == "<>" {
		return Not(e)
	}
	return e
}

// parseBetweenOrLike reads BETWEEN lo AND hi or LIKE 'pattern' after column col (the next token
// is the keyword).
func (p *parser) parseBetweenOrLike(col *Expr) (*Expr, error) {
	kw := p.next()
	if kw.text == "LIKE" {
		s := p.peek()
		if s.kind != tString {
			return nil, p.errAt(s, "expected a quoted pattern after LIKE, like LIKE 'Ohio%%', found %s", s.describe())
		}
		p.next()
		if err := p.node(s); err != nil {
			return nil, err
		}
		if _, err := likePattern(s.text); err != nil {
			return nil, p.errAt(s, "%v", err)
		}
		return Like(col, s.text), nil
	}
	lo, lt, err := p.parseOperand()
	if err != nil {
		return nil, err
	}
	if lo.Op != OpLiteral {
		return nil, p.errAt(lt, "BETWEEN takes values, found %s", lt.describe())
	}
	if a := p.peek(); !(a.kind == tKeyword && a.text == "AND") {
		return nil, p.errAt(a, "expected AND in BETWEEN low AND high, found %s", a.describe())
	}
	p.next()
	hi, ht, err := p.parseOperand()
	if err != nil {
		return nil, err
	}
	if hi.Op != OpLiteral {
		return nil, p.errAt(ht, "BETWEEN takes values, found %s", ht.describe())
	}
	return &Expr{Op: OpAnd, Children: []*Expr{
		Compare(OpGreaterThanOrEqual, col, lo),
		Compare(OpLessThanOrEqual, Column(col.Name, col.ValueType), hi),
	}}, nil
}

package expr

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/integrationd/integrationd/internal/value"
)

// maxDepth bounds the nesting of parentheses, NOTs, arrays and chained
// comparisons, so that hostile input cannot exhaust the stack in Compile,
// Eval or String.
const maxDepth = 200

type parser struct {
	src   string
	toks  []token
	i     int
	depth int
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

// prev is the token before the current one (the zero token at the start).
func (p *parser) prev() (token, bool) {
	if p.i == 0 {
		return token{}, false
	}
	return p.toks[p.i-1], true
}

func (p *parser) enter(pos int) error {
	p.depth++
	if p.depth > maxDepth {
		return p.errAt(pos, "condition nested more than %d levels deep", maxDepth)
	}
	return nil
}

func (p *parser) leave() { p.depth-- }

// parse parses the whole condition. A nil node is the empty condition.
func (p *parser) parse() (node, error) {
	if p.peek().kind == tEOF {
		return nil, nil
	}
	n, err := p.or()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, p.unexpectedAfterOperand(t)
	}
	return n, nil
}

// unexpectedAfterOperand reports a token found where an operator, AND, OR,
// ')' or the end was expected.
func (p *parser) unexpectedAfterOperand(t token) error {
	if t.kind == tRParen {
		return p.errAt(t.pos, "unexpected ')' without a matching '('")
	}
	if prev, ok := p.prev(); ok && isLiteralTok(prev.kind) && isLiteralTok(t.kind) {
		return p.errAt(t.pos, "unexpected %s after %s: quote strings that contain spaces", describe(t), describe(prev))
	}
	return p.errAt(t.pos, "unexpected %s: expected a comparison operator, AND or OR", describe(t))
}

func isLiteralTok(k tokKind) bool {
	switch k {
	case tWord, tString, tNumber, tTrue, tFalse, tNull:
		return true
	}
	return false
}

func describe(t token) string {
	if t.kind == tEOF {
		return "end of condition"
	}
	text := t.text
	if utf8.RuneCountInString(text) > 30 {
		text = string([]rune(text)[:30]) + "…"
	}
	if strings.ContainsAny(text, "'\n") {
		return strconv.Quote(text)
	}
	return "'" + text + "'"
}

func (p *parser) or() (node, error) {
	x, err := p.and()
	if err != nil || p.peek().kind != tOr {
		return x, err
	}
	xs := flatten(nil, x, tOr)
	for p.peek().kind == tOr {
		p.next()
		y, err := p.and()
		if err != nil {
			return nil, err
		}
		xs = flatten(xs, y, tOr)
	}
	return &orNode{xs: xs}, nil
}

func (p *parser) and() (node, error) {
	x, err := p.not()
	if err != nil || p.peek().kind != tAnd {
		return x, err
	}
	xs := flatten(nil, x, tAnd)
	for p.peek().kind == tAnd {
		p.next()
		y, err := p.not()
		if err != nil {
			return nil, err
		}
		xs = flatten(xs, y, tAnd)
	}
	return &andNode{xs: xs}, nil
}

// flatten appends x to xs, splicing in the operands of x when it is the
// same operator (a parenthesised AND inside an AND): AND and OR are
// associative, so (a AND b) AND c is a AND b AND c.
func flatten(xs []node, x node, op tokKind) []node {
	switch n := x.(type) {
	case *andNode:
		if op == tAnd {
			return append(xs, n.xs...)
		}
	case *orNode:
		if op == tOr {
			return append(xs, n.xs...)
		}
	}
	return append(xs, x)
}

func (p *parser) cmp() (node, error) {
	x, err := p.primary()
	if err != nil {
		return nil, err
	}
	chained := 0
	defer func() { p.depth -= chained }()
	for p.peek().kind == tCmp {
		op := p.next()
		if err := p.enter(op.pos); err != nil {
			return nil, err
		}
		chained++
		y, err := p.primary()
		if err != nil {
			return nil, err
		}
		x = &cmpNode{op: op.op, l: x, r: y}
	}
	return x, nil
}

// not parses NOT, which binds looser than a comparison as in AIP-160:
// NOT $a$ = "x" is NOT ($a$ = "x").
func (p *parser) not() (node, error) {
	if t := p.peek(); t.kind == tNot {
		p.next()
		if err := p.enter(t.pos); err != nil {
			return nil, err
		}
		defer p.leave()
		x, err := p.not()
		if err != nil {
			return nil, err
		}
		return &notNode{x: x}, nil
	}
	return p.cmp()
}

func (p *parser) primary() (node, error) {
	t := p.peek()
	switch {
	case t.kind == tLParen:
		p.next()
		if err := p.enter(t.pos); err != nil {
			return nil, err
		}
		defer p.leave()
		x, err := p.or()
		if err != nil {
			return nil, err
		}
		if err := p.closeParen(t, "')' or an operator"); err != nil {
			return nil, err
		}
		return x, nil
	case t.kind == tWord && strings.EqualFold(t.str, "exists") && p.toks[p.i+1].kind == tLParen:
		p.next()
		open := p.next()
		if err := p.enter(open.pos); err != nil {
			return nil, err
		}
		defer p.leave()
		if k := p.peek().kind; k == tLParen || k == tNot || k == tRParen || k == tEOF || k == tCmp || k == tAnd || k == tOr {
			if k == tEOF {
				return nil, p.errAt(open.pos, "unclosed '(' of exists")
			}
			return nil, p.errAt(p.peek().pos, "exists takes one variable reference or literal, found %s", describe(p.peek()))
		}
		x, err := p.operand()
		if err != nil {
			return nil, err
		}
		if err := p.closeParen(open, "')' after the operand of exists"); err != nil {
			return nil, err
		}
		return &existsNode{x: x}, nil
	}
	return p.operand()
}

func (p *parser) closeParen(open token, expected string) error {
	t := p.peek()
	switch t.kind {
	case tRParen:
		p.next()
		return nil
	case tEOF:
		return p.errAt(open.pos, "unclosed '(': missing ')'")
	}
	return p.errAt(t.pos, "unexpected %s: expected %s", describe(t), expected)
}

// operand parses a reference or a literal.
func (p *parser) operand() (node, error) {
	t := p.peek()
	switch t.kind {
	case tRef:
		p.next()
		return &refNode{ref: t.ref}, nil
	case tLBrack:
		j, err := p.array()
		if err != nil {
			return nil, err
		}
		return &litNode{v: value.FromJSON(j)}, nil
	}
	switch t.kind {
	case tString, tWord:
		p.next()
		return &litNode{v: value.Str(t.str)}, nil
	case tNumber:
		p.next()
		return &litNode{v: t.num.value()}, nil
	case tTrue, tFalse:
		p.next()
		return &litNode{v: value.Boolean(t.kind == tTrue)}, nil
	case tNull:
		p.next()
		return &litNode{}, nil
	}
	if prev, ok := p.prev(); ok {
		switch prev.kind {
		case tCmp, tAnd, tOr, tNot:
			if t.kind == tEOF || t.kind == tRParen || t.kind == tCmp || t.kind == tAnd || t.kind == tOr {
				return nil, p.errAt(prev.pos, "missing operand after %s", describe(prev))
			}
		}
	}
	if t.kind == tCmp || t.kind == tAnd || t.kind == tOr {
		return nil, p.errAt(t.pos, "missing operand before %s", describe(t))
	}
	return nil, p.errAt(t.pos, "expected a variable reference or a literal, found %s", describe(t))
}

// literalJSON is the JSON form of a literal token: strings (quoted or
// bare), numbers, booleans and null.
func literalJSON(t token) (any, bool) {
	switch t.kind {
	case tString, tWord:
		return t.str, true
	case tNumber:
		return t.num.f, true
	case tTrue:
		return true, true
	case tFalse:
		return false, true
	case tNull:
		return nil, true
	}
	return nil, false
}

// array parses an array literal into a JSON array. Elements are literals
// (arrays included); a trailing comma is allowed.
func (p *parser) array() (any, error) {
	open := p.next()
	if err := p.enter(open.pos); err != nil {
		return nil, err
	}
	defer p.leave()
	arr := []any{}
	for {
		t := p.peek()
		if t.kind == tRBrack {
			p.next()
			return arr, nil
		}
		if t.kind == tEOF {
			return nil, p.errAt(open.pos, "unclosed '[': missing ']'")
		}
		if t.kind == tLBrack {
			e, err := p.array()
			if err != nil {
				return nil, err
			}
			arr = append(arr, e)
		} else if e, ok := literalJSON(t); ok {
			p.next()
			arr = append(arr, e)
		} else if t.kind == tRef {
			return nil, p.errAt(t.pos, "array literals may contain only literals, not variable references")
		} else {
			return nil, p.errAt(t.pos, "unexpected %s in array literal", describe(t))
		}
		switch t := p.peek(); t.kind {
		case tComma:
			p.next()
		case tRBrack:
		case tEOF:
			return nil, p.errAt(open.pos, "unclosed '[': missing ']'")
		default:
			return nil, p.errAt(t.pos, "unexpected %s in array literal: expected ',' or ']'", describe(t))
		}
	}
}

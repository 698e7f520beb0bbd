package aip

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/integrationd/integrationd/internal/rpc"
)

// maxDepth bounds the nesting of parentheses and negations.
const maxDepth = 64

// Parse parses an AIP-160 filter as Google's list methods accept it, e.g.
//
//	trigger_id="api_trigger/orders" AND event_execution_state="FAILED"
//	"parameter_value" HAS "x"
//	CreateTimestamp > "2024-05-01T00:00:00Z" AND NOT (state = DRAFT OR -snapshot_number <= 3)
//
// The grammar, as in AIP-160 (note that OR binds tighter than AND):
//
//	expression  = sequence { "AND" sequence }
//	sequence    = factor { factor }              (adjacent factors: implicit AND)
//	factor      = term { "OR" term }
//	term        = [ "NOT" | "-" ] term | "(" expression ")" | restriction
//	restriction = field op value
//	op          = "=" | "!=" | "<" | "<=" | ">" | ">=" | ":" | "HAS"
//
// Keywords are upper case. A field is a bare word (letters, digits, '_',
// '.', '-' after the first character, ...) or a quoted string. A value is a
// string in double or single quotes (with backslash escapes) or a bare word
// such as ACTIVE, 42, -1.5, true or 2024-05-01T00:00:00Z. For
// compatibility with text copied from Google's documentation, a string may
// also be written \"x\". AIP-160's bare global restrictions ("foo" alone)
// and function calls are not supported.
//
// Whitespace-only text gives a nil Expr, which matches everything. Errors
// are *rpc.Error INVALID_ARGUMENT on field "filter"; the description gives
// the column and repeats the text with a caret under the problem.
func Parse(text string) (Expr, error) {
	p := &parser{src: text}
	if !utf8.ValidString(text) {
		i := 0
		for i < len(text) {
			r, n := utf8.DecodeRuneInString(text[i:])
			if r == utf8.RuneError && n == 1 {
				break
			}
			i += n
		}
		return nil, p.errorAt(i, "invalid UTF-8")
	}
	if p.peek().kind == tokEOF {
		return nil, nil
	}
	e, err := p.expression()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tokEOF {
		return nil, p.errorAt(t.pos, "unexpected %s", p.describe(t))
	}
	return e, nil
}

type tokKind int

const (
	tokEOF tokKind = iota
	tokLParen
	tokRParen
	tokWord
	tokString
	tokOp
	tokAnd
	tokOr
	tokNot
	tokMinus
)

type token struct {
	kind     tokKind
	text     string // the op, the word, or the unescaped string
	pos, end int    // byte offsets in the source
	err      string // set when the token is malformed
}

type parser struct {
	src   string
	pos   int // byte offset of the next unread character
	depth int
}

func (p *parser) skipSpace() {
	for p.pos < len(p.src) {
		r, n := utf8.DecodeRuneInString(p.src[p.pos:])
		if !unicode.IsSpace(r) {
			return
		}
		p.pos += n
	}
}

// peek returns the next token without consuming it.
func (p *parser) peek() token {
	save := p.pos
	t := p.scan()
	p.pos = save
	return t
}

// scan reads the next token in field/keyword context.
func (p *parser) scan() token {
	p.skipSpace()
	start := p.pos
	if start == len(p.src) {
		return token{kind: tokEOF, pos: start, end: start}
	}
	tok := func(k tokKind, n int) token {
		p.pos = start + n
		return token{kind: k, text: p.src[start:p.pos], pos: start, end: p.pos}
	}
	rest := p.src[start:]
	switch {
	case rest[0] == '(':
		return tok(tokLParen, 1)
	case rest[0] == ')':
		return tok(tokRParen, 1)
	case rest[0] == '-':
		return tok(tokMinus, 1)
	case strings.HasPrefix(rest, "!="), strings.HasPrefix(rest, "<="), strings.HasPrefix(rest, ">="):
		return tok(tokOp, 2)
	case rest[0] == '=', rest[0] == '<', rest[0] == '>', rest[0] == ':':
		return tok(tokOp, 1)
	case rest[0] == '!':
		t := tok(tokOp, 1)
		t.err = "unexpected '!' (use NOT, - or !=)"
		return t
	case rest[0] == '"', rest[0] == '\'', strings.HasPrefix(rest, `\"`):
		return p.scanString()
	}
	t := p.scanWord(fieldStop)
	switch t.text {
	case "AND":
		t.kind = tokAnd
	case "OR":
		t.kind = tokOr
	case "NOT":
		t.kind = tokNot
	case "HAS":
		t.kind = tokOp
	}
	return t
}

func (p *parser) scanWord(stop func(rune) bool) token {
	start := p.pos
	for p.pos < len(p.src) {
		r, n := utf8.DecodeRuneInString(p.src[p.pos:])
		if stop(r) {
			break
		}
		p.pos += n
	}
	return token{kind: tokWord, text: p.src[start:p.pos], pos: start, end: p.pos}
}

// scanString reads a string in double or single quotes, where a backslash
// takes the next character literally, or one in \" ... \" without escapes.
func (p *parser) scanString() token {
	start := p.pos
	t := token{kind: tokString, pos: start}
	if strings.HasPrefix(p.src[start:], `\"`) {
		body := p.src[start+2:]
		i := strings.Index(body, `\"`)
		if i < 0 {
			p.pos = len(p.src)
			t.end, t.err = p.pos, "unterminated string"
			return t
		}
		p.pos = start + 2 + i + 2
		t.text, t.end = body[:i], p.pos
		return t
	}
	quote := p.src[start]
	var b strings.Builder
	for i := start + 1; i < len(p.src); i++ {
		c := p.src[i]
		switch {
		case c == quote:
			p.pos = i + 1
			t.text, t.end = b.String(), p.pos
			return t
		case c == '\\' && i+1 < len(p.src):
			i++
			b.WriteByte(p.src[i])
		case c == '\\':
			// A trailing backslash: the string is unterminated.
		default:
			b.WriteByte(c)
		}
	}
	p.pos = len(p.src)
	t.end, t.err = p.pos, "unterminated string"
	return t
}

// next consumes the next token; a malformed one is an error.
func (p *parser) next() (token, error) {
	t := p.scan()
	if t.err != "" {
		return t, p.errorAt(t.pos, "%s", t.err)
	}
	return t, nil
}

func (p *parser) expression() (Expr, error) {
	e, err := p.sequence()
	if err != nil {
		return nil, err
	}
	for p.peek().kind == tokAnd {
		p.scan()
		r, err := p.sequence()
		if err != nil {
			return nil, err
		}
		e = And{e, r}
	}
	return e, nil
}

func (p *parser) sequence() (Expr, error) {
	e, err := p.factor()
	if err != nil {
		return nil, err
	}
	for {
		switch p.peek().kind {
		case tokEOF, tokRParen, tokAnd:
			return e, nil
		}
		r, err := p.factor()
		if err != nil {
			return nil, err
		}
		e = And{e, r}
	}
}

func (p *parser) factor() (Expr, error) {
	e, err := p.term()
	if err != nil {
		return nil, err
	}
	for p.peek().kind == tokOr {
		p.scan()
		r, err := p.term()
		if err != nil {
			return nil, err
		}
		e = Or{e, r}
	}
	return e, nil
}

func (p *parser) term() (Expr, error) {
	t := p.peek()
	switch t.kind {
	case tokNot, tokMinus:
		p.scan()
		if err := p.enter(t.pos); err != nil {
			return nil, err
		}
		x, err := p.term()
		p.depth--
		if err != nil {
			return nil, err
		}
		return Not{x}, nil
	case tokLParen:
		p.scan()
		if err := p.enter(t.pos); err != nil {
			return nil, err
		}
		e, err := p.expression()
		p.depth--
		if err != nil {
			return nil, err
		}
		if c := p.peek(); c.kind != tokRParen {
			return nil, p.errorAt(c.pos, "expected ')' to close the '(' at column %d, found %s", p.column(t.pos), p.describe(c))
		}
		p.scan()
		return e, nil
	}
	return p.restriction()
}

func (p *parser) enter(pos int) error {
	p.depth++
	if p.depth > maxDepth {
		return p.errorAt(pos, "nested more than %d levels deep", maxDepth)
	}
	return nil
}

func (p *parser) restriction() (Expr, error) {
	f, err := p.next()
	if err != nil {
		return nil, err
	}
	switch {
	case f.kind == tokString && f.text == "":
		return nil, p.errorAt(f.pos, "empty field name")
	case f.kind != tokWord && f.kind != tokString:
		return nil, p.errorAt(f.pos, "expected a field name, found %s", p.describe(f))
	}
	op, err := p.next()
	if err != nil {
		return nil, err
	}
	if op.kind != tokOp {
		return nil, p.errorAt(op.pos, "expected an operator (=, !=, <, <=, >, >=, : or HAS) after %s, found %s", p.describe(f), p.describe(op))
	}
	p.skipSpace()
	var v token
	if r := p.src[p.pos:]; strings.HasPrefix(r, `"`) || strings.HasPrefix(r, `'`) || strings.HasPrefix(r, `\"`) {
		v = p.scanString()
		if v.err != "" {
			return nil, p.errorAt(v.pos, "%s", v.err)
		}
	} else {
		v = p.scanWord(valueStop)
		if v.text == "" || isKeyword(v.text) {
			if v.text == "" {
				v = p.peek()
			}
			return nil, p.errorAt(v.pos, "expected a value after %s, found %s", p.describe(op), p.describe(v))
		}
	}
	return Compare{Field: f.text, Op: op.text, Value: v.text, Quoted: v.kind == tokString}, nil
}

// describe names a token in an error message.
func (p *parser) describe(t token) string {
	if t.kind == tokEOF {
		return "end of filter"
	}
	return "'" + p.src[t.pos:t.end] + "'"
}

// column returns the 1-based column, in characters, of byte offset pos.
func (p *parser) column(pos int) int {
	return utf8.RuneCountInString(p.src[:pos]) + 1
}

// errorAt returns the INVALID_ARGUMENT error for a problem at byte offset
// pos: "MESSAGE at column N", the filter text and a caret under column N.
func (p *parser) errorAt(pos int, format string, args ...any) *rpc.Error {
	col := p.column(pos)
	echo := strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return ' '
		}
		return r
	}, p.src)
	msg := fmt.Sprintf(format, args...)
	return rpc.InvalidArgument("filter", "%s at column %d\n%s\n%s^", msg, col, echo, strings.Repeat(" ", col-1))
}

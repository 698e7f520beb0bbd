package expr

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/integrationd/integrationd/internal/value"
)

type tokKind uint8

const (
	tEOF tokKind = iota
	tLParen
	tRParen
	tLBrack
	tRBrack
	tComma
	tCmp // a comparison operator, in op
	tAnd
	tOr
	tNot
	tRef    // $name$, in ref
	tString // a quoted string, decoded in str
	tWord   // an unquoted word, in str
	tNumber // in num (Int or Double)
	tTrue
	tFalse
	tNull
)

// cmpOp is a comparison operator.
type cmpOp uint8

const (
	opEq cmpOp = iota
	opNe
	opLt
	opLe
	opGt
	opGe
	opHas
)

var opText = [...]string{opEq: "=", opNe: "!=", opLt: "<", opLe: "<=", opGt: ">", opGe: ">=", opHas: ":"}

func (o cmpOp) String() string { return opText[o] }

type token struct {
	kind tokKind
	pos  int    // byte offset of the first byte
	text string // the source text of the token
	op   cmpOp
	str  string     // tString, tWord: the text; tNumber: the digits
	num  number     // tNumber
	ref  *value.Ref // tRef
}

// isSpace reports the runes skipped between tokens: every Unicode space
// (U+00A0 NO-BREAK SPACE included), plus the zero-width space and the byte
// order mark that copy and paste leaves behind.
func isSpace(r rune) bool {
	return unicode.IsSpace(r) || r == '\u200B' || r == '\uFEFF'
}

// isWordRune reports the runes of an unquoted word (and of a number).
func isWordRune(r rune) bool {
	switch r {
	case '_', '-', '.', '/', '@':
		return true
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)
}

// lex splits p.src into tokens, ending with tEOF.
func (p *parser) lex() error {
	src := p.src
	if !utf8.ValidString(src) {
		for i := 0; i < len(src); {
			r, n := utf8.DecodeRuneInString(src[i:])
			if r == utf8.RuneError && n == 1 {
				return p.errAt(i, "invalid UTF-8 byte 0x%02X", src[i])
			}
			i += n
		}
	}
	i, lastEnd := 0, 0
	for {
		for i < len(src) {
			r, n := utf8.DecodeRuneInString(src[i:])
			if !isSpace(r) {
				break
			}
			i += n
		}
		if i >= len(src) {
			// End-of-input errors point just after the last token, not
			// at the end of trailing blank lines.
			p.toks = append(p.toks, token{kind: tEOF, pos: lastEnd})
			return nil
		}
		t, err := p.lexToken(i)
		if err != nil {
			return err
		}
		p.toks = append(p.toks, t)
		i += len(t.text)
		lastEnd = i
	}
}

func (p *parser) lexToken(i int) (token, error) {
	src := p.src
	next := byte(0)
	if i+1 < len(src) {
		next = src[i+1]
	}
	tok := func(k tokKind, n int) (token, error) { return token{kind: k, pos: i, text: src[i : i+n]}, nil }
	cmp := func(op cmpOp, n int) (token, error) {
		return token{kind: tCmp, pos: i, text: src[i : i+n], op: op}, nil
	}
	switch c := src[i]; c {
	case '(':
		return tok(tLParen, 1)
	case ')':
		return tok(tRParen, 1)
	case '[':
		return tok(tLBrack, 1)
	case ']':
		return tok(tRBrack, 1)
	case ',':
		return tok(tComma, 1)
	case '=':
		if next == '=' {
			return cmp(opEq, 2)
		}
		return cmp(opEq, 1)
	case '!':
		if next == '=' {
			return cmp(opNe, 2)
		}
		return tok(tNot, 1)
	case '<':
		if next == '=' {
			return cmp(opLe, 2)
		}
		return cmp(opLt, 1)
	case '>':
		if next == '=' {
			return cmp(opGe, 2)
		}
		return cmp(opGt, 1)
	case ':':
		return cmp(opHas, 1)
	case '&':
		if next == '&' {
			return tok(tAnd, 2)
		}
		return token{}, p.errAt(i, "unexpected '&': write AND or &&")
	case '|':
		if next == '|' {
			return tok(tOr, 2)
		}
		return token{}, p.errAt(i, "unexpected '|': write OR or ||")
	case '"', '\'':
		return p.lexString(i)
	case '$':
		return p.lexRef(i)
	}
	r, _ := utf8.DecodeRuneInString(src[i:])
	if !isWordRune(r) {
		return token{}, p.errAt(i, "unexpected character %q (quote string literals that contain it)", r)
	}
	j := i
	for j < len(src) {
		r, n := utf8.DecodeRuneInString(src[j:])
		if !isWordRune(r) {
			break
		}
		j += n
	}
	return p.lexWord(i, src[i:j])
}

// lexWord classifies an unquoted word: a keyword, a number or a bare
// string.
func (p *parser) lexWord(pos int, w string) (token, error) {
	t := token{pos: pos, text: w, str: w}
	switch {
	case strings.EqualFold(w, "AND"):
		t.kind = tAnd
	case strings.EqualFold(w, "OR"):
		t.kind = tOr
	case strings.EqualFold(w, "NOT"):
		t.kind = tNot
	case strings.EqualFold(w, "true"):
		t.kind = tTrue
	case strings.EqualFold(w, "false"):
		t.kind = tFalse
	case strings.EqualFold(w, "null"):
		t.kind = tNull
	case isNumberLiteral(w):
		t.kind = tNumber
		if !strings.Contains(w, ".") {
			if n, err := strconv.ParseInt(w, 10, 64); err == nil {
				t.num = number{i: n, f: float64(n), isInt: true}
				return t, nil
			}
		}
		f, err := strconv.ParseFloat(w, 64)
		if err != nil {
			return token{}, p.errAt(pos, "number %s out of range", describe(token{text: w}))
		}
		t.num = number{f: f}
	default:
		t.kind = tWord
	}
	return t, nil
}

// isNumberLiteral reports whether w is -?digits(.digits)?.
func isNumberLiteral(w string) bool {
	i := 0
	if i < len(w) && w[i] == '-' {
		i++
	}
	d := i
	for i < len(w) && w[i] >= '0' && w[i] <= '9' {
		i++
	}
	if i == d {
		return false
	}
	if i < len(w) && w[i] == '.' {
		i++
		d = i
		for i < len(w) && w[i] >= '0' && w[i] <= '9' {
			i++
		}
		if i == d {
			return false
		}
	}
	return i == len(w)
}

// lexString reads a single- or double-quoted string with backslash
// escapes: \n \r \t \b \f \uXXXX (with surrogate pairs), and a backslash
// before any other character stands for that character.
func (p *parser) lexString(start int) (token, error) {
	src := p.src
	quote := src[start]
	i := start + 1
	for i < len(src) && src[i] != quote && src[i] != '\\' {
		i++
	}
	if i < len(src) && src[i] == quote { // no escapes
		return token{kind: tString, pos: start, text: src[start : i+1], str: src[start+1 : i]}, nil
	}
	var b strings.Builder
	b.WriteString(src[start+1 : i])
	for i < len(src) {
		c := src[i]
		if c == quote {
			return token{kind: tString, pos: start, text: src[start : i+1], str: b.String()}, nil
		}
		if c != '\\' {
			b.WriteByte(c)
			i++
			continue
		}
		i++
		if i >= len(src) {
			break
		}
		switch e := src[i]; e {
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'u':
			r, ok := hex4(src, i+1)
			if !ok {
				return token{}, p.errAt(i-1, `invalid \u escape: want four hex digits`)
			}
			i += 4
			if utf16.IsSurrogate(r) {
				r2, ok := rune(0), false
				if i+2 < len(src) && src[i+1] == '\\' && src[i+2] == 'u' {
					r2, ok = hex4(src, i+3)
				}
				if d := utf16.DecodeRune(r, r2); ok && d != utf8.RuneError {
					r = d
					i += 6
				} else {
					r = utf8.RuneError
				}
			}
			b.WriteRune(r)
		default:
			_, n := utf8.DecodeRuneInString(src[i:])
			b.WriteString(src[i : i+n])
			i += n - 1
		}
		i++
	}
	return token{}, p.errAt(start, "unterminated string: missing the closing %s", quoteName(quote))
}

func hex4(s string, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	var r rune
	for _, c := range []byte(s[i : i+4]) {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// lexRef reads a variable reference from '$' to the closing '$' and parses
// it with value.ParseRef. A backtick name may contain anything but a
// backtick; elsewhere spaces, control characters, quotes and backticks end
// the reference in error.
func (p *parser) lexRef(start int) (token, error) {
	src := p.src
	i := start + 1
	if i < len(src) && src[i] == '`' {
		open := i
		for i++; i < len(src) && src[i] != '`'; i++ {
			if src[i] == '\n' {
				break
			}
			if src[i] < 0x20 || src[i] == 0x7f {
				return token{}, p.errAt(i, "control character in variable name")
			}
		}
		if i >= len(src) || src[i] != '`' {
			return token{}, p.errAt(open, "unclosed backtick in variable reference")
		}
		i++
	}
	for i < len(src) && src[i] != '$' {
		r, n := utf8.DecodeRuneInString(src[i:])
		if isSpace(r) || unicode.IsControl(r) || r == '"' || r == '\'' || r == '`' {
			break
		}
		i += n
	}
	if i >= len(src) || src[i] != '$' {
		if i == start+1 {
			return token{}, p.errAt(start, "expected a variable name after '$'")
		}
		return token{}, p.errAt(start, "unclosed variable reference: missing closing '$'")
	}
	text := src[start : i+1]
	ref, err := value.ParseRef(text)
	if err != nil {
		return token{}, p.errAt(start, "invalid variable reference: %v", err)
	}
	return token{kind: tRef, pos: start, text: text, ref: &ref}, nil
}

func quoteName(q byte) string {
	if q == '\'' {
		return "single quote"
	}
	return "double quote"
}

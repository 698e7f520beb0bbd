package expr

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Error is a syntax error in a condition. Pos is the byte offset in the
// condition text where the problem is (the opening '(' of an unclosed
// parenthesis, the opening quote of an unterminated string, the '$' of an
// unclosed reference, the operator missing its operand...).
type Error struct {
	Pos int
	Msg string
	src string // the condition text, for Error's excerpt
}

// Excerpt width, in runes, around the error position.
const (
	excerptBefore = 60
	excerptAfter  = 60
)

// Error prints "line:column: message", then the source line and a caret
// under the position. Columns count runes from 1. Long lines are cut
// around the position, with "…" where text was left out.
func (e *Error) Error() string {
	if e.src == "" {
		return fmt.Sprintf("offset %d: %s", e.Pos, e.Msg)
	}
	pos := min(max(e.Pos, 0), len(e.src))
	start := strings.LastIndexByte(e.src[:pos], '\n') + 1
	end := strings.IndexByte(e.src[pos:], '\n')
	if end < 0 {
		end = len(e.src)
	} else {
		end += pos
	}
	lineNo := strings.Count(e.src[:start], "\n") + 1
	before := []rune(strings.ToValidUTF8(e.src[start:pos], "\uFFFD"))
	after := []rune(strings.TrimRight(strings.ToValidUTF8(e.src[pos:end], "\uFFFD"), "\r"))
	col := utf8.RuneCountInString(e.src[start:pos]) + 1

	var b strings.Builder
	fmt.Fprintf(&b, "%d:%d: %s\n | ", lineNo, col, e.Msg)
	var caret strings.Builder
	if len(before) > excerptBefore {
		before = append([]rune("…"), before[len(before)-excerptBefore:]...)
	}
	if len(after) > excerptAfter {
		after = append(after[:excerptAfter:excerptAfter], '…')
	}
	for _, r := range before {
		b.WriteRune(r)
		if r == '\t' {
			caret.WriteByte('\t')
		} else {
			caret.WriteByte(' ')
		}
	}
	b.WriteString(string(after))
	b.WriteString("\n | ")
	b.WriteString(caret.String())
	b.WriteByte('^')
	return b.String()
}

func (p *parser) errAt(pos int, format string, args ...any) *Error {
	return &Error{Pos: pos, Msg: fmt.Sprintf(format, args...), src: p.src}
}

package aip

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Expr is a parsed filter: a Compare, And, Or or Not. A nil Expr matches
// everything. Every node prints, with String, as filter text that Parse
// reads back to an equal tree.
type Expr interface{ isExpr() }

// Comparison operators of Compare.Op.
const (
	OpEQ  = "="
	OpNE  = "!="
	OpLT  = "<"
	OpLE  = "<="
	OpGT  = ">"
	OpGE  = ">="
	OpHas = ":"   // AIP-160's has operator
	OpHAS = "HAS" // the keyword form Google's executions.list documents
)

// Compare is a restriction "Field Op Value". Field is the name as written,
// without quotes (Parse does not normalise its case: "trigger_id",
// "triggerId" and "CreateTimestamp" are all kept as given). Value is the
// unquoted, unescaped value; Quoted reports whether it was a string literal
// rather than a bare word, number or boolean.
type Compare struct {
	Field, Op, Value string
	Quoted           bool
}

// And is true when both L and R are. Adjacent terms without an operator
// ("a=1 b=2") also parse as And.
type And struct{ L, R Expr }

// Or is true when L or R is.
type Or struct{ L, R Expr }

// Not negates X. Both "NOT x" and "-x" parse as Not.
type Not struct{ X Expr }

// Every node prints as filter text.
var _ = []fmt.Stringer{Compare{}, And{}, Or{}, Not{}}

func (Compare) isExpr() {}
func (And) isExpr()     {}
func (Or) isExpr()      {}
func (Not) isExpr()     {}

// String prints c as filter text, quoting the field and value where needed.
func (c Compare) String() string {
	var b strings.Builder
	if isBareField(c.Field) {
		b.WriteString(c.Field)
	} else {
		writeQuoted(&b, c.Field)
	}
	if c.Op == OpHas {
		b.WriteString(c.Op)
	} else {
		b.WriteString(" " + c.Op + " ")
	}
	if !c.Quoted && isBareValue(c.Value) {
		b.WriteString(c.Value)
	} else {
		writeQuoted(&b, c.Value)
	}
	return b.String()
}

// String prints a as "(L AND R)".
func (a And) String() string { return "(" + str(a.L) + " AND " + str(a.R) + ")" }

// String prints o as "(L OR R)".
func (o Or) String() string { return "(" + str(o.L) + " OR " + str(o.R) + ")" }

// String prints n as "NOT X".
func (n Not) String() string { return "NOT " + str(n.X) }

func str(e Expr) string {
	if s, ok := e.(interface{ String() string }); ok {
		return s.String()
	}
	return "<nil>"
}

func writeQuoted(b *strings.Builder, s string) {
	b.WriteByte('"')
	for _, r := range s {
		if r == '"' || r == '\\' {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
}

// isBareField reports whether s reads back, unquoted, as a field name.
func isBareField(s string) bool {
	return isBareWord(s) && s[0] != '-' && !strings.ContainsFunc(s, fieldStop)
}

// isBareValue reports whether s reads back, unquoted, as a value.
func isBareValue(s string) bool {
	return isBareWord(s) && !strings.ContainsFunc(s, valueStop)
}

func isBareWord(s string) bool {
	return s != "" && !isKeyword(s) && !strings.HasPrefix(s, `\"`) && utf8.ValidString(s)
}

func isKeyword(s string) bool {
	switch s {
	case "AND", "OR", "NOT", "HAS":
		return true
	}
	return false
}

// fieldStop reports the runes that end a bare field name; valueStop those
// that end a bare value, which may contain ':' (so that timestamps need no
// quotes) and start with '-'.
func fieldStop(r rune) bool { return r == ':' || valueStop(r) }

func valueStop(r rune) bool {
	switch r {
	case '(', ')', '"', '\'', '=', '<', '>', '!':
		return true
	}
	return unicode.IsSpace(r)
}

// Conjuncts returns the comparisons of e when e is a conjunction of
// comparisons only (Compare, or And of such), in source order, and ok =
// true: enough to translate simple filters to a SQL WHERE clause. A nil e
// gives (nil, true). Any Or or Not gives ok = false.
func Conjuncts(e Expr) (cs []Compare, ok bool) {
	switch e := e.(type) {
	case nil:
		return nil, true
	case Compare:
		return []Compare{e}, true
	case And:
		l, ok := Conjuncts(e.L)
		if !ok {
			return nil, false
		}
		r, ok := Conjuncts(e.R)
		if !ok {
			return nil, false
		}
		return append(l, r...), true
	}
	return nil, false
}

// Fields returns the distinct field names e compares, in order of first
// appearance, so that a caller can check them against the fields it
// supports once, before evaluating.
func Fields(e Expr) []string {
	var out []string
	seen := map[string]bool{}
	var walk func(Expr)
	walk = func(e Expr) {
		switch e := e.(type) {
		case Compare:
			if !seen[e.Field] {
				seen[e.Field] = true
				out = append(out, e.Field)
			}
		case And:
			walk(e.L)
			walk(e.R)
		case Or:
			walk(e.L)
			walk(e.R)
		case Not:
			walk(e.X)
		}
	}
	walk(e)
	return out
}

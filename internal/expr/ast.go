package expr

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/integrationd/integrationd/internal/value"
)

// node is one node of a compiled condition. Nodes are immutable after
// Compile, so a tree can be evaluated by many goroutines at once.
type node interface {
	// eval computes the node's value; comparisons and boolean operators
	// return Bool values.
	eval(g value.Getter) (value.Value, error)
	// test is truth(eval(g)), computed without building a Value where the
	// node is boolean (comparisons, AND, OR, NOT, exists).
	test(g value.Getter) (bool, error)
	// prec is the binding strength, for printing parentheses.
	prec() int
	// write appends the canonical text of the node.
	write(b *strings.Builder)
}

// Binding strengths, weakest first.
const (
	precOr = iota + 1
	precAnd
	precNot
	precCmp
	precPrimary
)

// writeOperand writes x, in parentheses when it binds more weakly than min.
func writeOperand(b *strings.Builder, x node, min int) {
	if x.prec() < min {
		b.WriteByte('(')
		x.write(b)
		b.WriteByte(')')
		return
	}
	x.write(b)
}

// boolValue is the Value of a boolean node.
func boolValue(ok bool, err error) (value.Value, error) {
	if err != nil {
		return value.Value{}, err
	}
	return value.Boolean(ok), nil
}

func nodeText(n node) string {
	var b strings.Builder
	n.write(&b)
	return b.String()
}

// refNode is a variable reference; an undeclared variable or a missing
// path is null.
type refNode struct{ ref *value.Ref }

func (n *refNode) eval(g value.Getter) (value.Value, error) {
	v, _ := n.ref.Resolve(g)
	return v, nil
}
func (n *refNode) test(g value.Getter) (bool, error) {
	v, _ := n.ref.Resolve(g)
	return truth(v), nil
}
func (n *refNode) prec() int                { return precPrimary }
func (n *refNode) write(b *strings.Builder) { b.WriteString(n.ref.String()) }

// litNode is a literal: a string (quoted or bare), an int or double, a
// boolean, null (the zero Value) or a JSON array.
type litNode struct{ v value.Value }

func (n *litNode) eval(value.Getter) (value.Value, error) { return n.v, nil }
func (n *litNode) test(value.Getter) (bool, error)        { return truth(n.v), nil }
func (n *litNode) prec() int                              { return precPrimary }
func (n *litNode) write(b *strings.Builder) {
	switch n.v.Kind() {
	case value.String:
		writeQuoted(b, n.v.Str())
	case value.Int:
		b.WriteString(strconv.FormatInt(n.v.Int(), 10))
	case value.Double:
		writeDouble(b, n.v.Double())
	case value.Bool:
		b.WriteString(strconv.FormatBool(n.v.Bool()))
	case value.JSON:
		writeJSON(b, n.v.JSON())
	default:
		b.WriteString("null")
	}
}

// writeQuoted writes s double-quoted, escaping quotes, backslashes and
// control characters; everything else is written as is.
func writeQuoted(b *strings.Builder, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if r < 0x20 || r == 0x7f {
				fmt.Fprintf(b, `\u%04x`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
}

// writeDouble writes f with a decimal point and no exponent, so that it
// reads back as the same double.
func writeDouble(b *strings.Builder, f float64) {
	s := strconv.FormatFloat(f, 'f', -1, 64)
	b.WriteString(s)
	if !strings.Contains(s, ".") {
		b.WriteString(".0")
	}
}

// writeJSON writes an array literal's JSON value.
func writeJSON(b *strings.Builder, j any) {
	switch x := j.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case string:
		writeQuoted(b, x)
	case float64:
		if x == 0 {
			x = 0 // -0 reads back as the int 0
		}
		b.WriteString(strconv.FormatFloat(x, 'f', -1, 64))
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			writeJSON(b, e)
		}
		b.WriteByte(']')
	default: // not produced by the parser
		b.WriteString(value.EncodeJSON(x))
	}
}

// existsNode is exists(x): x is neither null nor the empty string.
type existsNode struct{ x node }

func (n *existsNode) eval(g value.Getter) (value.Value, error) { return boolValue(n.test(g)) }
func (n *existsNode) test(g value.Getter) (bool, error) {
	v, err := n.x.eval(g)
	if err != nil {
		return false, err
	}
	return exists(v), nil
}
func (n *existsNode) prec() int { return precPrimary }
func (n *existsNode) write(b *strings.Builder) {
	b.WriteString("exists(")
	n.x.write(b)
	b.WriteByte(')')
}

// notNode is NOT x.
type notNode struct{ x node }

func (n *notNode) eval(g value.Getter) (value.Value, error) { return boolValue(n.test(g)) }
func (n *notNode) test(g value.Getter) (bool, error) {
	ok, err := n.x.test(g)
	if err != nil {
		return false, err
	}
	return !ok, nil
}
func (n *notNode) prec() int { return precNot }
func (n *notNode) write(b *strings.Builder) {
	b.WriteString("NOT ")
	writeOperand(b, n.x, precNot)
}

// andNode is x1 AND x2 AND ... It is false as soon as one operand is
// false, even if another failed with an error; otherwise the first error
// wins.
type andNode struct{ xs []node }

func (n *andNode) eval(g value.Getter) (value.Value, error) { return boolValue(n.test(g)) }
func (n *andNode) test(g value.Getter) (bool, error) {
	var first error
	for _, x := range n.xs {
		ok, err := x.test(g)
		if err != nil {
			if first == nil {
				first = err
			}
			continue
		}
		if !ok {
			return false, nil
		}
	}
	if first != nil {
		return false, first
	}
	return true, nil
}
func (n *andNode) prec() int { return precAnd }
func (n *andNode) write(b *strings.Builder) {
	for i, x := range n.xs {
		if i > 0 {
			b.WriteString(" AND ")
		}
		writeOperand(b, x, precAnd+1)
	}
}

// orNode is x1 OR x2 OR ... It is true as soon as one operand is true,
// even if another failed with an error; otherwise the first error wins.
type orNode struct{ xs []node }

func (n *orNode) eval(g value.Getter) (value.Value, error) { return boolValue(n.test(g)) }
func (n *orNode) test(g value.Getter) (bool, error) {
	var first error
	for _, x := range n.xs {
		ok, err := x.test(g)
		if err != nil {
			if first == nil {
				first = err
			}
			continue
		}
		if ok {
			return true, nil
		}
	}
	if first != nil {
		return false, first
	}
	return false, nil
}
func (n *orNode) prec() int { return precOr }
func (n *orNode) write(b *strings.Builder) {
	for i, x := range n.xs {
		if i > 0 {
			b.WriteString(" OR ")
		}
		writeOperand(b, x, precOr+1)
	}
}

// cmpNode is l op r.
type cmpNode struct {
	op   cmpOp
	l, r node
}

func (n *cmpNode) eval(g value.Getter) (value.Value, error) { return boolValue(n.test(g)) }
func (n *cmpNode) test(g value.Getter) (bool, error) {
	l, err := n.l.eval(g)
	if err != nil {
		return false, err
	}
	r, err := n.r.eval(g)
	if err != nil {
		return false, err
	}
	var ok bool
	switch n.op {
	case opEq:
		ok = equal(l, r)
	case opNe:
		ok = !equal(l, r)
	case opHas:
		ok, err = contains(l, r)
	default:
		ok, err = order(n.op, l, r)
	}
	if err != nil {
		return false, fmt.Errorf("%s: %w", nodeText(n), err)
	}
	return ok, nil
}
func (n *cmpNode) prec() int { return precCmp }
func (n *cmpNode) write(b *strings.Builder) {
	writeOperand(b, n.l, precCmp)
	b.WriteByte(' ')
	b.WriteString(n.op.String())
	b.WriteByte(' ')
	writeOperand(b, n.r, precCmp+1)
}

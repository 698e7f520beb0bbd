package expr

import (
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/integrationd/integrationd/internal/value"
)

// Program is a compiled condition. It is immutable: Eval, String and Refs
// are safe for concurrent use by any number of goroutines. A nil *Program
// is the empty condition, which is always true.
type Program struct {
	root node // nil: the empty condition
	text string
	refs []value.Ref
}

// Compile parses a condition. All the work happens here: Eval only walks
// the prepared tree. Empty or whitespace-only text compiles to a program
// that is always true. A syntax error is returned as an *Error.
func Compile(text string) (*Program, error) {
	p := &parser{src: text}
	if err := p.lex(); err != nil {
		return nil, err
	}
	root, err := p.parse()
	if err != nil {
		return nil, err
	}
	prog := &Program{root: root}
	if root != nil {
		var b strings.Builder
		root.write(&b)
		prog.text = b.String()
		prog.refs = collectRefs(nil, map[string]bool{}, root)
	}
	return prog, nil
}

// collectRefs appends the references of n not yet in seen (keyed by
// their canonical text).
func collectRefs(refs []value.Ref, seen map[string]bool, n node) []value.Ref {
	switch n := n.(type) {
	case *refNode:
		if k := n.ref.String(); !seen[k] {
			seen[k] = true
			refs = append(refs, *n.ref)
		}
	case *existsNode:
		refs = collectRefs(refs, seen, n.x)
	case *notNode:
		refs = collectRefs(refs, seen, n.x)
	case *cmpNode:
		refs = collectRefs(collectRefs(refs, seen, n.l), seen, n.r)
	case *andNode:
		for _, x := range n.xs {
			refs = collectRefs(refs, seen, x)
		}
	case *orNode:
		for _, x := range n.xs {
			refs = collectRefs(refs, seen, x)
		}
	}
	return refs
}

// Eval evaluates the condition against g (nil g: no variables). The result
// is true when the condition's value is boolean true or the string "true".
// An error (comparing types that cannot be compared, see docs/conditions.md)
// comes with false; callers treat it as a failed condition. Eval never
// panics: a panic inside is returned as an error.
func (p *Program) Eval(g value.Getter) (ok bool, err error) {
	if p == nil || p.root == nil {
		return true, nil
	}
	if g == nil {
		g = value.MapGetter(nil)
	}
	defer func() {
		if r := recover(); r != nil {
			ok, err = false, fmt.Errorf("internal error evaluating condition %q: %v\n%s", p.text, r, debug.Stack())
		}
	}()
	return p.root.test(g)
}

// String returns the canonical text of the condition: keywords in upper
// case (AND, OR, NOT) and functions and constants in lower case (exists,
// true, false, null); = for ==; strings double-quoted, bare words
// included; one space around binary operators; parentheses only where
// needed. Compile(p.String()) gives an equivalent program with the same
// String. The empty condition prints as "".
func (p *Program) String() string {
	if p == nil {
		return ""
	}
	return p.text
}

// Refs lists the variables the condition references, once each, in order
// of first appearance. The caller must not modify the returned Refs.
func (p *Program) Refs() []value.Ref {
	if p == nil || len(p.refs) == 0 {
		return nil
	}
	return append([]value.Ref(nil), p.refs...)
}

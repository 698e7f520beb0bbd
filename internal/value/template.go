package value

import "strings"

// Template is a string with $name$ / $name.path$ / $`name`$ references,
// compiled once and rendered many times.
type Template struct {
	text  string
	parts []part
}

type part struct {
	lit string
	ref *Ref
	raw string // the reference as written, kept when it cannot be resolved
}

// CompileTemplate splits text into literals and references. Text between
// dollars that is not a valid reference stays literal, so prices such as
// "$5 and $10" are safe.
func CompileTemplate(text string) *Template {
	t := &Template{text: text}
	i, litStart := 0, 0
	for i < len(text) {
		if text[i] != '$' {
			i++
			continue
		}
		end := refEnd(text, i)
		if end < 0 {
			i++
			continue
		}
		r, err := ParseRef(text[i : end+1])
		if err != nil {
			i++
			continue
		}
		if litStart < i {
			t.parts = append(t.parts, part{lit: text[litStart:i]})
		}
		t.parts = append(t.parts, part{ref: &r, raw: text[i : end+1]})
		i = end + 1
		litStart = i
	}
	if litStart < len(text) {
		t.parts = append(t.parts, part{lit: text[litStart:]})
	}
	return t
}

// refEnd returns the index of the $ closing a reference that starts at
// text[start] == '$', or -1.
func refEnd(text string, start int) int {
	i := start + 1
	if i >= len(text) {
		return -1
	}
	if text[i] == '`' {
		close := strings.IndexByte(text[i+1:], '`')
		if close < 0 {
			return -1
		}
		i += close + 2
	} else {
		n := i
		for i < len(text) && isNameByte(text[i]) {
			i++
		}
		if i == n {
			return -1
		}
	}
	for i < len(text) {
		c := text[i]
		if c == '$' {
			return i
		}
		if c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '"' || c == '\'' || c == '{' || c == '}' || c == ',' || c == '`' {
			return -1
		}
		i++
	}
	return -1
}

func isNameByte(c byte) bool {
	return c == '_' || c == '-' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80
}

// Text is the source text.
func (t *Template) Text() string { return t.text }

// Refs lists the references of the template.
func (t *Template) Refs() []Ref {
	var rs []Ref
	for _, p := range t.parts {
		if p.ref != nil {
			rs = append(rs, *p.ref)
		}
	}
	return rs
}

// IsStatic reports whether the template has no references.
func (t *Template) IsStatic() bool {
	for _, p := range t.parts {
		if p.ref != nil {
			return false
		}
	}
	return true
}

// SingleRef returns the reference when the whole (trimmed) text is exactly
// one reference, such as "$orders$".
func (t *Template) SingleRef() (Ref, bool) {
	var ref *Ref
	for _, p := range t.parts {
		switch {
		case p.ref != nil && ref == nil:
			ref = p.ref
		case p.ref != nil:
			return Ref{}, false
		case strings.TrimSpace(p.lit) != "":
			return Ref{}, false
		}
	}
	if ref == nil {
		return Ref{}, false
	}
	return *ref, true
}

// Render substitutes every reference with its value's Text. A reference
// to an undeclared variable (or a path that leads nowhere in a declared one)
// renders as an empty string when the variable is declared and is kept
// verbatim when it is not.
func (t *Template) Render(g Getter) string {
	if len(t.parts) == 1 && t.parts[0].ref == nil {
		return t.parts[0].lit
	}
	var b strings.Builder
	for _, p := range t.parts {
		if p.ref == nil {
			b.WriteString(p.lit)
			continue
		}
		v, ok := p.ref.Resolve(g)
		if !ok {
			if _, declared := g.Lookup(p.ref.Name); !declared && (p.ref.Alt == nil || !isDeclared(g, p.ref.Alt.Name)) {
				b.WriteString(p.raw)
			}
			continue
		}
		b.WriteString(v.Text())
	}
	return b.String()
}

func isDeclared(g Getter, name string) bool {
	_, ok := g.Lookup(name)
	return ok
}

// Eval returns the typed value of a single-reference template and the
// rendered string otherwise.
func (t *Template) Eval(g Getter) Value {
	if r, ok := t.SingleRef(); ok {
		if v, found := r.Resolve(g); found {
			return v
		}
	}
	return Str(t.Render(g))
}

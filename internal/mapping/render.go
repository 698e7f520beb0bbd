package mapping

import (
	"strconv"
	"strings"

	"github.com/integrationd/integrationd/internal/value"
)

// String renders the program one row a line, in the notation of the
// reference's docs: $in$.json:GET_PROPERTY("a").json:TO_INT() => $out$.
func (p *Program) String() string {
	var b strings.Builder
	for _, r := range p.rows {
		b.WriteString("row ")
		b.WriteString(strconv.Itoa(r.n))
		b.WriteString(": ")
		b.WriteString(r.in.String())
		b.WriteString(" => ")
		b.WriteString(r.outSrc)
		if r.optional {
			b.WriteString(" (optional)")
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func (e *expr) String() string {
	var b strings.Builder
	e.render(&b)
	return b.String()
}

func (e *expr) render(b *strings.Builder) {
	switch e.kind {
	case initRef, initElem:
		b.WriteString(e.src)
	case initLit:
		b.WriteString(short(e.lit))
	case initBase:
		e.base.render(b)
	}
	for _, c := range e.chain {
		b.WriteByte('.')
		c.render(b)
	}
}

func (c *call) render(b *strings.Builder) {
	if c.fam.kind != value.Null {
		b.WriteString(c.fam.short)
		b.WriteByte(':')
	}
	b.WriteString(c.fn.name)
	b.WriteByte('(')
	if c.lambda != nil {
		b.WriteByte('{')
		c.lambda.render(b)
		b.WriteByte('}')
	}
	for i, p := range c.params {
		if i > 0 {
			b.WriteString(", ")
		}
		p.render(b)
	}
	b.WriteByte(')')
}

// describe names the call with its evaluated arguments for an error:
// stringArray GET(5).
func (c *call) describe(args []value.Value) string {
	var b strings.Builder
	b.WriteString(c.label())
	b.WriteByte('(')
	if c.lambda != nil {
		b.WriteByte('{')
		s := c.lambda.String()
		if len(s) > 60 {
			s = s[:57] + "..."
		}
		b.WriteString(s)
		b.WriteByte('}')
	}
	for i := range c.params {
		if i > 0 {
			b.WriteString(", ")
		}
		if i < len(args) && args[i].Kind() != value.Null {
			b.WriteString(short(args[i]))
		} else {
			b.WriteString("…")
		}
	}
	b.WriteByte(')')
	return b.String()
}

// short renders a value for a message, cut to a readable length.
func short(v value.Value) string {
	var s string
	switch v.Kind() {
	case value.JSON:
		s = value.EncodeJSON(v.JSON())
	default:
		s = v.String()
	}
	if len(s) > 40 {
		cut := 37
		for cut > 0 && s[cut]&0xC0 == 0x80 { // keep UTF-8 whole
			cut--
		}
		s = s[:cut] + "..."
	}
	return s
}

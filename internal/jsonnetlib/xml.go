package jsonnetlib

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
)

// parseXml(xml, format) and manifestXml(json, format, indent_output), in
// the BadgerFish (default) and JsonML conventions; docs/jsonnet.md shows
// the mapping.

// xelem is a parsed element with its content in document order.
type xelem struct {
	name    string
	attrs   []xml.Attr
	content []any // *xelem or string (character data, CDATA included)
}

func qname(n xml.Name) string {
	if n.Space != "" {
		return n.Space + ":" + n.Local
	}
	return n.Local
}

// parseXMLTree reads one document keeping namespace prefixes as written.
func parseXMLTree(text string) (*xelem, error) {
	dec := xml.NewDecoder(strings.NewReader(text))
	var root *xelem
	var stack []*xelem
	for {
		tok, err := dec.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			e := &xelem{name: qname(t.Name), attrs: append([]xml.Attr(nil), t.Attr...)}
			if len(stack) > 0 {
				top := stack[len(stack)-1]
				top.content = append(top.content, e)
			} else if root != nil {
				return nil, errors.New("more than one root element")
			} else {
				root = e
			}
			stack = append(stack, e)
		case xml.EndElement:
			if len(stack) == 0 || stack[len(stack)-1].name != qname(t.Name) {
				return nil, fmt.Errorf("unexpected end element </%s>", qname(t.Name))
			}
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				top := stack[len(stack)-1]
				top.content = append(top.content, string(t))
			} else if strings.TrimSpace(string(t)) != "" {
				return nil, errors.New("text outside the root element")
			}
		}
	}
	if len(stack) > 0 {
		return nil, fmt.Errorf("element <%s> is not closed", stack[len(stack)-1].name)
	}
	if root == nil {
		return nil, errors.New("no root element")
	}
	return root, nil
}

func parseXMLNative(args []any) (any, error) {
	const fn = "parseXml"
	text, err := stringArg(fn, "xml", args[0])
	if err != nil {
		return nil, err
	}
	format, err := stringArg(fn, "format", args[1])
	if err != nil {
		return nil, err
	}
	if format != "badgerfish" && format != "jsonml" {
		return nil, fmt.Errorf("%s: unknown format %q (want \"badgerfish\" or \"jsonml\")", fn, format)
	}
	root, err := parseXMLTree(text)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", fn, err)
	}
	if format == "jsonml" {
		return toJsonML(root), nil
	}
	return map[string]any{root.name: toBadgerfish(root)}, nil
}

// toBadgerfish: attributes are "@name" fields, namespace declarations are
// gathered in "@xmlns" ("$" for the default namespace, the prefix
// otherwise), the element's text (its character data joined, trimmed,
// omitted when blank) is "$", child elements are fields named after them,
// and an array when the name repeats.
func toBadgerfish(e *xelem) map[string]any {
	m := make(map[string]any, len(e.attrs)+len(e.content))
	ns := map[string]any{}
	for _, a := range e.attrs {
		switch {
		case a.Name.Space == "" && a.Name.Local == "xmlns":
			ns["$"] = a.Value
		case a.Name.Space == "xmlns":
			ns[a.Name.Local] = a.Value
		default:
			m["@"+qname(a.Name)] = a.Value
		}
	}
	if len(ns) > 0 {
		m["@xmlns"] = ns
	}
	var text strings.Builder
	for _, c := range e.content {
		switch x := c.(type) {
		case string:
			text.WriteString(x)
		case *xelem:
			v := toBadgerfish(x)
			switch prev := m[x.name].(type) {
			case nil:
				m[x.name] = v
			case []any:
				m[x.name] = append(prev, v)
			default:
				m[x.name] = []any{prev, v}
			}
		}
	}
	if t := strings.TrimSpace(text.String()); t != "" {
		m["$"] = t
	}
	return m
}

// toJsonML: ["name", {attributes}, children...], the attribute object
// only when there are attributes, text children as strings (blank ones
// dropped).
func toJsonML(e *xelem) []any {
	out := []any{e.name}
	if len(e.attrs) > 0 {
		attrs := make(map[string]any, len(e.attrs))
		for _, a := range e.attrs {
			attrs[qname(a.Name)] = a.Value
		}
		out = append(out, attrs)
	}
	for _, c := range e.content {
		switch x := c.(type) {
		case string:
			if strings.TrimSpace(x) != "" {
				out = append(out, x)
			}
		case *xelem:
			out = append(out, toJsonML(x))
		}
	}
	return out
}

func manifestXMLNative(args []any) (any, error) {
	const fn = "manifestXml"
	format, err := stringArg(fn, "format", args[1])
	if err != nil {
		return nil, err
	}
	indent, err := boolArg(fn, "indent_output", args[2])
	if err != nil {
		return nil, err
	}
	w := &xmlWriter{indent: indent}
	switch format {
	case "badgerfish":
		obj, ok := args[0].(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s: badgerfish input must be an object, got %s", fn, typeName(args[0]))
		}
		for _, k := range sortedKeys(obj) {
			if err := w.badgerfish(k, obj[k], 0); err != nil {
				return nil, fmt.Errorf("%s: %v", fn, err)
			}
		}
	case "jsonml":
		if err := w.jsonML(args[0], 0); err != nil {
			return nil, fmt.Errorf("%s: %v", fn, err)
		}
	default:
		return nil, fmt.Errorf("%s: unknown format %q (want \"badgerfish\" or \"jsonml\")", fn, format)
	}
	return w.b.String(), nil
}

type xmlWriter struct {
	b      strings.Builder
	indent bool
}

// newline starts a line at depth when indenting (not before the very
// first element).
func (w *xmlWriter) newline(depth int) {
	if w.indent && w.b.Len() > 0 {
		w.b.WriteByte('\n')
		w.b.WriteString(strings.Repeat("  ", depth))
	}
}

func (w *xmlWriter) text(s string) {
	_ = xml.EscapeText(&w.b, []byte(s))
}

func (w *xmlWriter) attr(name, val string) error {
	if err := checkName(name); err != nil {
		return err
	}
	w.b.WriteString(" " + name + `="`)
	w.text(val)
	w.b.WriteByte('"')
	return nil
}

func (w *xmlWriter) badgerfish(name string, v any, depth int) error {
	if err := checkName(name); err != nil {
		return err
	}
	if arr, ok := v.([]any); ok {
		for _, e := range arr {
			if _, nested := e.([]any); nested {
				return fmt.Errorf("element %s: an array inside an array has no XML form", name)
			}
			if err := w.badgerfish(name, e, depth); err != nil {
				return err
			}
		}
		return nil
	}
	w.newline(depth)
	w.b.WriteString("<" + name)
	obj, isObj := v.(map[string]any)
	if !isObj {
		if v == nil {
			w.b.WriteString("/>")
			return nil
		}
		w.b.WriteByte('>')
		w.text(scalarText(v))
		w.b.WriteString("</" + name + ">")
		return nil
	}
	var children []string
	for _, k := range sortedKeys(obj) {
		switch {
		case k == "@xmlns":
			ns, ok := obj[k].(map[string]any)
			if !ok {
				return fmt.Errorf("element %s: @xmlns must be an object", name)
			}
			for _, p := range sortedKeys(ns) {
				an := "xmlns"
				if p != "$" {
					an += ":" + p
				}
				if err := w.attr(an, scalarText(ns[p])); err != nil {
					return err
				}
			}
		case strings.HasPrefix(k, "@"):
			if err := w.attr(k[1:], scalarText(obj[k])); err != nil {
				return err
			}
		case k != "$":
			children = append(children, k)
		}
	}
	text, hasText := obj["$"]
	if (!hasText || text == nil) && len(children) == 0 {
		w.b.WriteString("/>")
		return nil
	}
	w.b.WriteByte('>')
	if hasText && text != nil {
		w.text(scalarText(text))
	}
	for _, c := range children {
		if err := w.badgerfish(c, obj[c], depth+1); err != nil {
			return err
		}
	}
	if len(children) > 0 {
		w.newline(depth)
	}
	w.b.WriteString("</" + name + ">")
	return nil
}

func (w *xmlWriter) jsonML(v any, depth int) error {
	arr, ok := v.([]any)
	if !ok || len(arr) == 0 {
		return fmt.Errorf("a JsonML element must be a non-empty array [\"name\", {attributes}?, children...], got %s", typeName(v))
	}
	name, ok := arr[0].(string)
	if !ok {
		return fmt.Errorf("a JsonML element must start with its name, got %s", typeName(arr[0]))
	}
	if err := checkName(name); err != nil {
		return err
	}
	w.newline(depth)
	w.b.WriteString("<" + name)
	rest := arr[1:]
	if len(rest) > 0 {
		if attrs, ok := rest[0].(map[string]any); ok {
			for _, k := range sortedKeys(attrs) {
				if err := w.attr(k, scalarText(attrs[k])); err != nil {
					return err
				}
			}
			rest = rest[1:]
		}
	}
	if len(rest) == 0 {
		w.b.WriteString("/>")
		return nil
	}
	w.b.WriteByte('>')
	hasElems := false
	for _, c := range rest {
		if _, ok := c.([]any); ok {
			hasElems = true
		}
	}
	for _, c := range rest {
		switch x := c.(type) {
		case []any:
			if err := w.jsonML(x, depth+1); err != nil {
				return err
			}
		case map[string]any:
			return fmt.Errorf("element %s: attributes must come right after the name", name)
		case nil:
		default:
			if hasElems {
				w.newline(depth + 1)
			}
			w.text(scalarText(x))
		}
	}
	if hasElems {
		w.newline(depth)
	}
	w.b.WriteString("</" + name + ">")
	return nil
}

// scalarText is the XML text of a JSON scalar; objects and arrays in text
// positions are written as JSON.
func scalarText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return formatNumber(x)
	case bool:
		if x {
			return "true"
		}
		return "false"
	}
	return compactJSON(v)
}

// checkName rejects strings that cannot be XML element or attribute names.
func checkName(n string) error {
	if n == "" {
		return errors.New("empty XML name")
	}
	for i, r := range n {
		switch {
		case r == '_' || r == ':' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r > 0x7f:
		case i > 0 && (r == '-' || r == '.' || r >= '0' && r <= '9'):
		default:
			return fmt.Errorf("%q is not a valid XML name", n)
		}
	}
	return nil
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

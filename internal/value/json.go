package value

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// JSON values are represented as nil, bool, float64, string, []any and
// *Object. JSON numbers are float64, as in google.protobuf.Value (the type
// of :execute's outputParameters), so integers beyond 2^53 lose precision.
// JSON values are immutable once shared: functions that change one return a
// copy (see SetPath).

// Object is a JSON object that keeps its keys in insertion order, as the
// reference service (Gson) does.
type Object struct {
	keys []string
	m    map[string]any
}

// NewObject returns an empty object with room for n keys.
func NewObject(n int) *Object {
	return &Object{keys: make([]string, 0, n), m: make(map[string]any, n)}
}

// Len is the number of keys.
func (o *Object) Len() int { return len(o.keys) }

// Keys returns the keys in order. The slice must not be modified.
func (o *Object) Keys() []string { return o.keys }

// Get returns the value of key k.
func (o *Object) Get(k string) (any, bool) {
	v, ok := o.m[k]
	return v, ok
}

// Set adds or replaces key k, keeping the position of an existing key.
func (o *Object) Set(k string, v any) {
	if _, ok := o.m[k]; !ok {
		o.keys = append(o.keys, k)
	}
	o.m[k] = v
}

// Delete removes key k.
func (o *Object) Delete(k string) {
	if _, ok := o.m[k]; !ok {
		return
	}
	delete(o.m, k)
	for i, key := range o.keys {
		if key == k {
			o.keys = append(o.keys[:i:i], o.keys[i+1:]...)
			break
		}
	}
}

// Clone returns a shallow copy.
func (o *Object) Clone() *Object {
	c := &Object{keys: append([]string(nil), o.keys...), m: make(map[string]any, len(o.m))}
	for k, v := range o.m {
		c.m[k] = v
	}
	return c
}

// DeepCopyJSON returns a deep copy of a JSON value.
func DeepCopyJSON(v any) any {
	switch x := v.(type) {
	case *Object:
		c := NewObject(x.Len())
		for _, k := range x.keys {
			c.Set(k, DeepCopyJSON(x.m[k]))
		}
		return c
	case []any:
		c := make([]any, len(x))
		for i, e := range x {
			c[i] = DeepCopyJSON(e)
		}
		return c
	}
	return v
}

// EqualJSON reports deep equality of two JSON values (numbers by value,
// objects regardless of key order).
func EqualJSON(a, b any) bool {
	switch x := a.(type) {
	case nil:
		return b == nil
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case float64:
		y, ok := b.(float64)
		return ok && x == y
	case string:
		y, ok := b.(string)
		return ok && x == y
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !EqualJSON(x[i], y[i]) {
				return false
			}
		}
		return true
	case *Object:
		y, ok := b.(*Object)
		if !ok || x.Len() != y.Len() {
			return false
		}
		for k, v := range x.m {
			w, ok := y.m[k]
			if !ok || !EqualJSON(v, w) {
				return false
			}
		}
		return true
	}
	return false
}

// maxDepth bounds nesting so hostile input cannot exhaust memory through
// recursion.
const maxDepth = 10000

// ParseJSON parses strict JSON text (RFC 8259).
func ParseJSON(text string) (any, error) { return parse(text, false) }

// ParseLenientJSON parses JSON the way Gson's lenient mode does: single-quoted
// strings, unquoted keys and bare words, trailing commas, // and /* */
// comments, NaN and Infinity. The reference service accepts such text in
// jsonValue payloads and in TO_JSON.
func ParseLenientJSON(text string) (any, error) { return parse(text, true) }

func parse(text string, lenient bool) (any, error) {
	p := &parser{s: text, lenient: lenient}
	p.skip()
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.skip()
	if p.i < len(p.s) {
		return nil, p.errorf("unexpected %q after the JSON value", p.rest())
	}
	return v, nil
}

type parser struct {
	s       string
	i       int
	lenient bool
}

// SyntaxError is a JSON syntax error with its byte offset.
type SyntaxError struct {
	Offset int
	Msg    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("invalid JSON at offset %d: %s", e.Offset, e.Msg)
}

func (p *parser) errorf(format string, args ...any) error {
	return &SyntaxError{Offset: p.i, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) rest() string {
	r := p.s[p.i:]
	if len(r) > 10 {
		r = r[:10]
	}
	return r
}

func (p *parser) skip() {
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			p.i++
		case p.lenient && c == '/' && p.i+1 < len(p.s) && p.s[p.i+1] == '/':
			for p.i < len(p.s) && p.s[p.i] != '\n' {
				p.i++
			}
		case p.lenient && c == '/' && p.i+1 < len(p.s) && p.s[p.i+1] == '*':
			end := strings.Index(p.s[p.i+2:], "*/")
			if end < 0 {
				p.i = len(p.s)
				return
			}
			p.i += end + 4
		case p.lenient && c == '#':
			for p.i < len(p.s) && p.s[p.i] != '\n' {
				p.i++
			}
		case p.lenient && c == 0xC2 && p.i+1 < len(p.s) && p.s[p.i+1] == 0xA0: // NBSP
			p.i += 2
		default:
			return
		}
	}
}

func (p *parser) value(depth int) (any, error) {
	if depth > maxDepth {
		return nil, p.errorf("nesting deeper than %d", maxDepth)
	}
	if p.i >= len(p.s) {
		return nil, p.errorf("unexpected end of input")
	}
	switch c := p.s[p.i]; {
	case c == '{':
		return p.object(depth)
	case c == '[':
		return p.array(depth)
	case c == '"' || (p.lenient && c == '\''):
		return p.str()
	case c == '-' || c == '+' || (c >= '0' && c <= '9') || c == '.':
		if c == '+' && !p.lenient {
			return nil, p.errorf("unexpected '+'")
		}
		return p.number()
	default:
		word := p.word()
		switch word {
		case "true":
			return true, nil
		case "false":
			return false, nil
		case "null":
			return nil, nil
		}
		if p.lenient {
			switch word {
			case "NaN", "Infinity", "-Infinity":
				return nil, p.errorf("%s cannot be represented", word)
			case "":
				return nil, p.errorf("unexpected %q", p.rest())
			}
			return strings.ToValidUTF8(word, "\uFFFD"), nil // Gson lenient: an unquoted literal is a string
		}
		if word == "" {
			return nil, p.errorf("unexpected %q", p.rest())
		}
		return nil, p.errorf("invalid literal %q", word)
	}
}

// word reads an unquoted literal (letters, digits and a few punctuation marks).
func (p *parser) word() string {
	start := p.i
	for p.i < len(p.s) {
		c := p.s[p.i]
		if c == ',' || c == ':' || c == '}' || c == ']' || c == '{' || c == '[' || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '"' || c == '\'' || c == '/' || c == '#' || c == ';' || c == '=' {
			break
		}
		p.i++
	}
	return p.s[start:p.i]
}

func (p *parser) object(depth int) (any, error) {
	p.i++ // {
	obj := NewObject(4)
	for {
		p.skip()
		if p.i >= len(p.s) {
			return nil, p.errorf("unterminated object")
		}
		if p.s[p.i] == '}' {
			p.i++
			return obj, nil
		}
		var key string
		if c := p.s[p.i]; c == '"' || (p.lenient && c == '\'') {
			k, err := p.str()
			if err != nil {
				return nil, err
			}
			key = k
		} else if p.lenient {
			key = strings.ToValidUTF8(p.word(), "\uFFFD")
			if key == "" {
				return nil, p.errorf("expected an object key, found %q", p.rest())
			}
		} else {
			return nil, p.errorf("expected a string key, found %q", p.rest())
		}
		p.skip()
		if p.i >= len(p.s) || (p.s[p.i] != ':' && !(p.lenient && p.s[p.i] == '=')) {
			return nil, p.errorf("expected ':' after key %q", key)
		}
		p.i++
		if p.lenient && p.i < len(p.s) && p.s[p.i] == '>' { // Gson accepts "=>"
			p.i++
		}
		p.skip()
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		obj.Set(key, v)
		p.skip()
		if p.i >= len(p.s) {
			return nil, p.errorf("unterminated object")
		}
		switch p.s[p.i] {
		case ',':
			p.i++
			if !p.lenient {
				p.skip()
				if p.i < len(p.s) && p.s[p.i] == '}' {
					return nil, p.errorf("trailing comma in object")
				}
			}
		case ';':
			if !p.lenient {
				return nil, p.errorf("expected ',' or '}'")
			}
			p.i++
		case '}':
			p.i++
			return obj, nil
		default:
			return nil, p.errorf("expected ',' or '}' in object, found %q", p.rest())
		}
	}
}

func (p *parser) array(depth int) (any, error) {
	p.i++ // [
	arr := make([]any, 0, 4)
	for {
		p.skip()
		if p.i >= len(p.s) {
			return nil, p.errorf("unterminated array")
		}
		if p.s[p.i] == ']' {
			p.i++
			return arr, nil
		}
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		arr = append(arr, v)
		p.skip()
		if p.i >= len(p.s) {
			return nil, p.errorf("unterminated array")
		}
		switch p.s[p.i] {
		case ',':
			p.i++
			if !p.lenient {
				p.skip()
				if p.i < len(p.s) && p.s[p.i] == ']' {
					return nil, p.errorf("trailing comma in array")
				}
			}
		case ']':
			p.i++
			return arr, nil
		default:
			return nil, p.errorf("expected ',' or ']' in array, found %q", p.rest())
		}
	}
}

func (p *parser) number() (any, error) {
	start := p.i
	if c := p.s[p.i]; c == '-' || c == '+' {
		p.i++
	}
	for p.i < len(p.s) {
		c := p.s[p.i]
		if (c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || ((c == '-' || c == '+') && (p.s[p.i-1] == 'e' || p.s[p.i-1] == 'E')) {
			p.i++
			continue
		}
		break
	}
	text := p.s[start:p.i]
	if p.lenient && (text == "-" || text == "+") {
		w := p.word()
		if w == "Infinity" {
			return nil, p.errorf("%s%s cannot be represented", text, w)
		}
		return strings.ToValidUTF8(text+w, "\uFFFD"), nil
	}
	if !p.lenient && !strictNumber(text) {
		return nil, &SyntaxError{Offset: start, Msg: fmt.Sprintf("invalid number %q", text)}
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && errors.Is(ne.Err, strconv.ErrRange) {
			return nil, &SyntaxError{Offset: start, Msg: fmt.Sprintf("number %q out of range", text)}
		}
		return nil, &SyntaxError{Offset: start, Msg: fmt.Sprintf("invalid number %q", text)}
	}
	return f, nil
}

func strictNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	if i >= len(s) {
		return false
	}
	if s[i] == '0' {
		i++
	} else if s[i] >= '1' && s[i] <= '9' {
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	} else {
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		d := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == d {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		d := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == d {
			return false
		}
	}
	return i == len(s)
}

func (p *parser) str() (string, error) {
	quote := p.s[p.i]
	p.i++
	start := p.i
	// Fast path: no escapes.
	for p.i < len(p.s) {
		c := p.s[p.i]
		if c == quote {
			s := p.s[start:p.i]
			p.i++
			if !utf8.ValidString(s) {
				return strings.ToValidUTF8(s, "\uFFFD"), nil
			}
			return s, nil
		}
		if c == '\\' {
			break
		}
		if c < 0x20 && !p.lenient {
			return "", p.errorf("control character in string")
		}
		p.i++
	}
	var b strings.Builder
	b.WriteString(p.s[start:p.i])
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == quote:
			p.i++
			return strings.ToValidUTF8(b.String(), "\uFFFD"), nil
		case c == '\\':
			p.i++
			if p.i >= len(p.s) {
				return "", p.errorf("unterminated string")
			}
			e := p.s[p.i]
			p.i++
			switch e {
			case '"', '\\', '/', '\'':
				b.WriteByte(e)
			case 'b':
				b.WriteByte('\b')
			case 'f':
				b.WriteByte('\f')
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case 'u':
				r, ok := p.hex4()
				if !ok {
					return "", p.errorf("invalid \\u escape")
				}
				if utf16.IsSurrogate(r) {
					if p.i+1 < len(p.s) && p.s[p.i] == '\\' && p.s[p.i+1] == 'u' {
						save := p.i
						p.i += 2
						r2, ok := p.hex4()
						if ok {
							if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
								b.WriteRune(d)
								continue
							}
						}
						p.i = save
					}
					r = utf8.RuneError
				}
				b.WriteRune(r)
			default:
				if !p.lenient {
					return "", p.errorf("invalid escape \\%c", e)
				}
				b.WriteByte(e)
			}
		default:
			if c < 0x20 && !p.lenient {
				return "", p.errorf("control character in string")
			}
			b.WriteByte(c)
			p.i++
		}
	}
	return "", p.errorf("unterminated string")
}

func (p *parser) hex4() (rune, bool) {
	if p.i+4 > len(p.s) {
		return 0, false
	}
	n, err := strconv.ParseUint(p.s[p.i:p.i+4], 16, 32)
	if err != nil {
		return 0, false
	}
	p.i += 4
	return rune(n), true
}

// AppendJSON appends the compact JSON encoding of v to dst.
func AppendJSON(dst []byte, v any) []byte { return appendJSON(dst, v, "", false) }

// AppendJSONIndent appends the pretty-printed encoding of v (two-space
// indent, Gson style) to dst.
func AppendJSONIndent(dst []byte, v any) []byte { return appendJSON(dst, v, "", true) }

// EncodeJSON returns the compact JSON text of v.
func EncodeJSON(v any) string { return string(AppendJSON(nil, v)) }

func appendJSON(b []byte, v any, indent string, pretty bool) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...)
	case bool:
		return strconv.AppendBool(b, x)
	case float64:
		return AppendNumber(b, x)
	case int64:
		return strconv.AppendInt(b, x, 10)
	case int:
		return strconv.AppendInt(b, int64(x), 10)
	case string:
		return appendString(b, x)
	case []any:
		if len(x) == 0 {
			return append(b, "[]"...)
		}
		b = append(b, '[')
		inner := indent + "  "
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			if pretty {
				b = append(b, '\n')
				b = append(b, inner...)
			}
			b = appendJSON(b, e, inner, pretty)
		}
		if pretty {
			b = append(b, '\n')
			b = append(b, indent...)
		}
		return append(b, ']')
	case *Object:
		if x == nil || x.Len() == 0 {
			return append(b, "{}"...)
		}
		b = append(b, '{')
		inner := indent + "  "
		for i, k := range x.keys {
			if i > 0 {
				b = append(b, ',')
			}
			if pretty {
				b = append(b, '\n')
				b = append(b, inner...)
			}
			b = appendString(b, k)
			b = append(b, ':')
			if pretty {
				b = append(b, ' ')
			}
			b = appendJSON(b, x.m[k], inner, pretty)
		}
		if pretty {
			b = append(b, '\n')
			b = append(b, indent...)
		}
		return append(b, '}')
	}
	return append(b, "null"...)
}

// AppendNumber appends a JSON number; whole numbers print without a
// fraction (1.0 prints as 1), as the reference service prints them.
func AppendNumber(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, "null"...)
	}
	if f == math.Trunc(f) && math.Abs(f) < 1e21 {
		return strconv.AppendFloat(b, f, 'f', 0, 64)
	}
	abs := math.Abs(f)
	if abs < 1e-6 || abs >= 1e21 {
		return strconv.AppendFloat(b, f, 'e', -1, 64)
	}
	return strconv.AppendFloat(b, f, 'f', -1, 64)
}

const hexDigits = "0123456789abcdef"

func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

package value

import (
	"fmt"
	"strconv"
	"strings"
)

// Seg is one step of a JSON path: an object key or an array index.
type Seg struct {
	Key     string
	Index   int
	IsIndex bool
}

// Path is a JSON path such as a.b[0].c.
type Path []Seg

func (p Path) String() string {
	var b strings.Builder
	for i, s := range p {
		if s.IsIndex {
			fmt.Fprintf(&b, "[%d]", s.Index)
			continue
		}
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(s.Key)
	}
	return b.String()
}

// ParsePath parses "a.b[0].c" (and "[0]"). Empty text is the empty path.
func ParsePath(text string) (Path, error) {
	var p Path
	i := 0
	for i < len(text) {
		switch text[i] {
		case '.':
			i++
			if i >= len(text) || text[i] == '.' {
				return nil, fmt.Errorf("empty segment in path %q", text)
			}
		case '[':
			end := strings.IndexByte(text[i:], ']')
			if end < 0 {
				return nil, fmt.Errorf("unclosed [ in path %q", text)
			}
			n, err := strconv.Atoi(strings.TrimSpace(text[i+1 : i+end]))
			if err != nil || n < 0 {
				return nil, fmt.Errorf("invalid index %q in path %q", text[i+1:i+end], text)
			}
			p = append(p, Seg{Index: n, IsIndex: true})
			i += end + 1
			continue
		}
		start := i
		for i < len(text) && text[i] != '.' && text[i] != '[' {
			i++
		}
		if i > start {
			p = append(p, Seg{Key: text[start:i]})
		}
	}
	return p, nil
}

// GetPath follows p inside a JSON value. A JSON string holding JSON text is
// parsed when the path continues into it.
func GetPath(j any, p Path) (any, bool) {
	for _, s := range p {
		if str, ok := j.(string); ok {
			parsed, err := ParseLenientJSON(str)
			if err != nil {
				return nil, false
			}
			j = parsed
		}
		switch x := j.(type) {
		case *Object:
			if s.IsIndex {
				v, ok := x.Get(strconv.Itoa(s.Index))
				if !ok {
					return nil, false
				}
				j = v
				continue
			}
			v, ok := x.Get(s.Key)
			if !ok {
				return nil, false
			}
			j = v
		case []any:
			idx := s.Index
			if !s.IsIndex {
				n, err := strconv.Atoi(s.Key)
				if err != nil {
					return nil, false
				}
				idx = n
			}
			if idx < 0 || idx >= len(x) {
				return nil, false
			}
			j = x[idx]
		default:
			return nil, false
		}
	}
	return j, true
}

// SetPath returns a copy of root with the value at p set to v, creating
// missing objects (and growing arrays with nulls) along the way. Nodes not
// on the path are shared with root, which is left unchanged.
func SetPath(root any, p Path, v any) (any, error) {
	if len(p) == 0 {
		return v, nil
	}
	s := p[0]
	if s.IsIndex {
		arr, _ := root.([]any)
		if root != nil && arr == nil {
			return nil, fmt.Errorf("cannot index %s with [%d]", DescribeJSON(root), s.Index)
		}
		if s.Index > 1_000_000 {
			return nil, fmt.Errorf("index %d too large", s.Index)
		}
		n := len(arr)
		if s.Index >= n {
			n = s.Index + 1
		}
		c := make([]any, n)
		copy(c, arr)
		child, err := SetPath(c[s.Index], p[1:], v)
		if err != nil {
			return nil, err
		}
		c[s.Index] = child
		return c, nil
	}
	var obj *Object
	switch x := root.(type) {
	case *Object:
		obj = x.Clone()
	case nil:
		obj = NewObject(1)
	case []any:
		// "a.0" on an array: numeric key as index.
		if n, err := strconv.Atoi(s.Key); err == nil && n >= 0 {
			return SetPath(root, append(Path{{Index: n, IsIndex: true}}, p[1:]...), v)
		}
		return nil, fmt.Errorf("cannot set property %q of an array", s.Key)
	default:
		return nil, fmt.Errorf("cannot set property %q of %s", s.Key, DescribeJSON(root))
	}
	cur, _ := obj.Get(s.Key)
	child, err := SetPath(cur, p[1:], v)
	if err != nil {
		return nil, err
	}
	obj.Set(s.Key, child)
	return obj, nil
}

// DescribeJSON names the kind of a JSON value for messages: "a string",
// "an object", "null"...
func DescribeJSON(j any) string {
	switch j.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case float64:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	case *Object:
		return "an object"
	}
	return fmt.Sprintf("%T", j)
}

// Ref is a reference to a variable, optionally into its JSON value:
// $name$, $name.a.b$, $`Task_1_x`.a$ (path outside the backticks) or
// $`ErrorInfo.code`$ (path inside).
type Ref struct {
	// Name is the variable name as written, backticks included.
	Name string
	Path Path
	// Alt is the alternative reading of a backtick name with a dot inside:
	// `ErrorInfo.code` is the variable "`ErrorInfo.code`" if one exists,
	// else "`ErrorInfo`" with path code.
	Alt *Ref
}

func (r Ref) String() string {
	if len(r.Path) == 0 {
		return "$" + r.Name + "$"
	}
	sep := "."
	if r.Path[0].IsIndex {
		sep = ""
	}
	return "$" + r.Name + sep + r.Path.String() + "$"
}

// ParseRef parses a reference with or without its surrounding dollars.
func ParseRef(text string) (Ref, error) {
	t := strings.TrimSpace(text)
	if len(t) >= 2 && t[0] == '$' && t[len(t)-1] == '$' {
		t = t[1 : len(t)-1]
	}
	if t == "" {
		return Ref{}, fmt.Errorf("empty variable reference %q", text)
	}
	var name, rest string
	if t[0] == '`' {
		end := strings.IndexByte(t[1:], '`')
		if end < 0 {
			return Ref{}, fmt.Errorf("unclosed backtick in %q", text)
		}
		name, rest = t[:end+2], t[end+2:]
	} else {
		i := strings.IndexAny(t, ".[")
		if i < 0 {
			i = len(t)
		}
		name, rest = t[:i], t[i:]
	}
	if name == "" || name == "``" {
		return Ref{}, fmt.Errorf("empty variable name in %q", text)
	}
	if rest != "" && rest[0] != '.' && rest[0] != '[' {
		return Ref{}, fmt.Errorf("unexpected %q after the variable name in %q", rest, text)
	}
	p, err := ParsePath(rest)
	if err != nil {
		return Ref{}, err
	}
	r := Ref{Name: name, Path: p}
	if name[0] == '`' {
		inner := name[1 : len(name)-1]
		if i := strings.IndexAny(inner, ".["); i > 0 {
			ip, err := ParsePath(inner[i:])
			if err == nil {
				r.Alt = &Ref{Name: "`" + inner[:i] + "`", Path: append(ip, p...)}
			}
		}
	}
	return r, nil
}

// Getter looks variables up by name. Lookup reports false for an undeclared
// variable; a declared variable without a value is (Null, true).
type Getter interface {
	Lookup(name string) (Value, bool)
}

// Resolve evaluates r against g. found is false when the variable is
// undeclared or the path leads nowhere.
func (r Ref) Resolve(g Getter) (v Value, found bool) {
	base, ok := g.Lookup(r.Name)
	if !ok && r.Alt != nil {
		return r.Alt.Resolve(g)
	}
	if !ok {
		return Value{}, false
	}
	if len(r.Path) == 0 {
		return base, true
	}
	if base.k.IsArray() && len(r.Path) >= 1 && r.Path[0].IsIndex {
		e, ok := base.Index(r.Path[0].Index)
		if !ok {
			return Value{}, false
		}
		if len(r.Path) == 1 {
			return e, true
		}
		base = e
		j, ok := GetPath(base.ToJSON(), r.Path[1:])
		return FromJSON(j), ok
	}
	if base.IsNull() {
		return Value{}, false
	}
	j, ok := GetPath(base.ToJSON(), r.Path)
	if !ok {
		return Value{}, false
	}
	return FromJSON(j), true
}

// MapGetter is a Getter over a plain map, for tests and small callers.
type MapGetter map[string]Value

// Lookup implements Getter.
func (m MapGetter) Lookup(name string) (Value, bool) {
	v, ok := m[name]
	return v, ok
}

package mapping

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/integrationd/integrationd/internal/value"
)

func init() {
	newFamily("jsonFunction", "json", value.JSON).add(
		&fnSpec{name: "GET_PROPERTY", params: []pkind{pString}, impl: jsonGetProperty, prep: pathPrep(0)},
		&fnSpec{name: "SET_PROPERTY", params: []pkind{pAny, pString}, nullIn: true, impl: jsonSetProperty, prep: pathPrep(1)},
		&fnSpec{name: "REMOVE_PROPERTY", params: []pkind{pString}, impl: jsonRemoveProperty, prep: pathPrep(0)},
		fn("GET_ELEMENT", jsonGetElement, pInt),
		fn("APPEND_ELEMENT", jsonAppendElement, pAny),
		fn("SIZE", jsonSize),
		fn("FLATTEN", jsonFlatten(true)),
		fn("FLATTEN_ONCE", jsonFlatten(false)),
		fn("MERGE", jsonMerge, pJSON),
		fn("TO_STRING", jsonToString),
		fn("TO_INT", convertTo(value.Int)),
		fn("TO_DOUBLE", convertTo(value.Double)),
		fn("TO_BOOLEAN", convertTo(value.Bool)),
		fn("TO_STRING_ARRAY", jsonToArray(value.StringArray)),
		fn("TO_INT_ARRAY", jsonToArray(value.IntArray)),
		fn("TO_DOUBLE_ARRAY", jsonToArray(value.DoubleArray)),
		fn("TO_BOOLEAN_ARRAY", jsonToArray(value.BoolArray)),
		&fnSpec{name: "TO_PROTO", unsupported: "TO_PROTO is not supported by integrationd (it needs Google's internal proto definitions)"},
		&fnSpec{name: "TO_PROTO_ARRAY", unsupported: "TO_PROTO_ARRAY is not supported by integrationd (it needs Google's internal proto definitions)"},
		fn("RESOLVE_TEMPLATE", func(_ *call, x *evalCtx, in value.Value, _ []value.Value) (value.Value, error) {
			return value.FromJSON(resolveJSON(in.JSON(), x.env)), nil
		}),
		fn("EQUALS", func(_ *call, _ *evalCtx, in value.Value, a []value.Value) (value.Value, error) {
			return value.Boolean(value.Equal(in, a[0])), nil
		}, pAny),
		&fnSpec{name: "FOR_EACH", lambda: true, impl: forEach},
		&fnSpec{name: "FILTER_ELEMENTS", lambda: true, impl: filter},
		fn("TO_JSON", func(_ *call, _ *evalCtx, in value.Value, _ []value.Value) (value.Value, error) { return in, nil }),
	)
}

// propPath is a property path parameter parsed once: "a.b[0].c".
type propPath struct {
	raw  string
	path value.Path
}

func parsePropPath(s string) (*propPath, error) {
	p, err := value.ParsePath(s)
	if err != nil {
		return nil, err
	}
	return &propPath{raw: s, path: p}, nil
}

func pathPrep(i int) func(c *call) error {
	return func(c *call) error {
		if !c.isConst[i] {
			return nil
		}
		p, err := parsePropPath(c.consts[i].Str())
		if err != nil {
			return err
		}
		c.prep = p
		return nil
	}
}

func (c *call) path(a []value.Value, i int) (*propPath, error) {
	if p, ok := c.prep.(*propPath); ok {
		return p, nil
	}
	return parsePropPath(a[i].Str())
}

// jsonGetProperty returns the property at a dotted path (a key that
// contains the whole path, dots included, wins). A missing property is null.
func jsonGetProperty(c *call, _ *evalCtx, in value.Value, a []value.Value) (value.Value, error) {
	p, err := c.path(a, 0)
	if err != nil {
		return value.Value{}, err
	}
	if o, ok := in.JSON().(*value.Object); ok {
		if v, ok := o.Get(p.raw); ok {
			return value.FromJSON(v), nil
		}
	}
	if len(p.path) == 0 {
		return value.Value{}, nil
	}
	v, ok := value.GetPath(in.JSON(), p.path)
	if !ok {
		return value.Value{}, nil
	}
	return value.FromJSON(v), nil
}

// jsonSetProperty is SET_PROPERTY(value, path): it creates the missing
// objects on the path; a null input starts from an empty object.
func jsonSetProperty(c *call, _ *evalCtx, in value.Value, a []value.Value) (value.Value, error) {
	p, err := c.path(a, 1)
	if err != nil {
		return value.Value{}, err
	}
	if len(p.path) == 0 {
		return value.Value{}, fmt.Errorf("the property path is empty")
	}
	root := in.JSON()
	if in.Kind() != value.JSON {
		root = nil
	}
	out, err := value.SetPath(root, p.path, a[0].ToJSON())
	if err != nil {
		return value.Value{}, err
	}
	return value.FromJSON(out), nil
}

func jsonRemoveProperty(c *call, _ *evalCtx, in value.Value, a []value.Value) (value.Value, error) {
	p, err := c.path(a, 0)
	if err != nil {
		return value.Value{}, err
	}
	if o, ok := in.JSON().(*value.Object); ok {
		if _, ok := o.Get(p.raw); ok {
			c := o.Clone()
			c.Delete(p.raw)
			return value.FromJSON(c), nil
		}
	}
	out, _ := removePath(in.JSON(), p.path)
	return value.FromJSON(out), nil
}

// removePath returns j without the property at p, copying only what it
// changes. A key segment that meets an array applies to every element; an
// index segment picks one element. Missing properties are no-ops.
func removePath(j any, p value.Path) (any, bool) {
	if len(p) == 0 {
		return j, false
	}
	s := p[0]
	switch x := j.(type) {
	case *value.Object:
		key := s.Key
		if s.IsIndex {
			key = strconv.Itoa(s.Index)
		}
		child, ok := x.Get(key)
		if !ok {
			return j, false
		}
		c := x.Clone()
		if len(p) == 1 {
			c.Delete(key)
			return c, true
		}
		nc, changed := removePath(child, p[1:])
		if !changed {
			return j, false
		}
		c.Set(key, nc)
		return c, true
	case []any:
		if !s.IsIndex {
			if n, err := strconv.Atoi(s.Key); err == nil && n >= 0 {
				s = value.Seg{Index: n, IsIndex: true}
			}
		}
		if s.IsIndex {
			if s.Index >= len(x) {
				return j, false
			}
			if len(p) == 1 {
				c := make([]any, 0, len(x)-1)
				c = append(c, x[:s.Index]...)
				return append(c, x[s.Index+1:]...), true
			}
			ne, changed := removePath(x[s.Index], p[1:])
			if !changed {
				return j, false
			}
			c := append([]any(nil), x...)
			c[s.Index] = ne
			return c, true
		}
		var c []any
		for i, e := range x {
			ne, changed := removePath(e, p)
			if changed {
				if c == nil {
					c = append([]any(nil), x...)
				}
				c[i] = ne
			}
		}
		if c == nil {
			return j, false
		}
		return c, true
	}
	return j, false
}

func jsonArray(in value.Value, fn string) ([]any, error) {
	a, ok := in.JSON().([]any)
	if !ok {
		return nil, fmt.Errorf("%s needs a JSON array, not %s", fn, value.DescribeJSON(in.JSON()))
	}
	return a, nil
}

func jsonGetElement(_ *call, _ *evalCtx, in value.Value, a []value.Value) (value.Value, error) {
	arr, err := jsonArray(in, "GET_ELEMENT")
	if err != nil {
		return value.Value{}, err
	}
	i := a[0].Int()
	if i < 0 || i >= int64(len(arr)) {
		return value.Value{}, fmt.Errorf("index %d out of range [0,%d)", i, len(arr))
	}
	return value.FromJSON(arr[i]), nil
}

func jsonAppendElement(_ *call, _ *evalCtx, in value.Value, a []value.Value) (value.Value, error) {
	arr, err := jsonArray(in, "APPEND_ELEMENT")
	if err != nil {
		return value.Value{}, err
	}
	out := make([]any, len(arr), len(arr)+1)
	copy(out, arr)
	return value.FromJSON(append(out, a[0].ToJSON())), nil
}

func jsonSize(_ *call, _ *evalCtx, in value.Value, _ []value.Value) (value.Value, error) {
	switch x := in.JSON().(type) {
	case []any:
		return value.Integer(int64(len(x))), nil
	case *value.Object:
		return value.Integer(int64(x.Len())), nil
	}
	return value.Value{}, fmt.Errorf("SIZE needs a JSON array or object, not %s", value.DescribeJSON(in.JSON()))
}

func jsonFlatten(deep bool) fnImpl {
	return func(c *call, _ *evalCtx, in value.Value, _ []value.Value) (value.Value, error) {
		arr, err := jsonArray(in, c.fn.name)
		if err != nil {
			return value.Value{}, err
		}
		return value.FromJSON(flatten(make([]any, 0, len(arr)), arr, deep)), nil
	}
}

func flatten(dst, a []any, deep bool) []any {
	for _, e := range a {
		sub, ok := e.([]any)
		switch {
		case !ok:
			dst = append(dst, e)
		case deep:
			dst = flatten(dst, sub, true)
		default:
			dst = append(dst, sub...)
		}
	}
	return dst
}

// jsonMerge merges two objects (the parameter's keys win) or two arrays
// (concatenated, then later elements equal to an earlier one dropped).
func jsonMerge(_ *call, _ *evalCtx, in value.Value, a []value.Value) (value.Value, error) {
	switch x := in.JSON().(type) {
	case *value.Object:
		y, ok := a[0].JSON().(*value.Object)
		if !ok {
			return value.Value{}, fmt.Errorf("cannot merge an object with %s", value.DescribeJSON(a[0].JSON()))
		}
		c := x.Clone()
		for _, k := range y.Keys() {
			v, _ := y.Get(k)
			c.Set(k, v)
		}
		return value.FromJSON(c), nil
	case []any:
		y, ok := a[0].JSON().([]any)
		if !ok {
			return value.Value{}, fmt.Errorf("cannot merge an array with %s", value.DescribeJSON(a[0].JSON()))
		}
		seen := make(map[string]bool, len(x)+len(y))
		out := make([]any, 0, len(x)+len(y))
		for _, part := range [2][]any{x, y} {
			for _, e := range part {
				k := string(appendCanonical(nil, e))
				if !seen[k] {
					seen[k] = true
					out = append(out, e)
				}
			}
		}
		return value.FromJSON(out), nil
	}
	return value.Value{}, fmt.Errorf("MERGE needs a JSON object or array, not %s", value.DescribeJSON(in.JSON()))
}

// appendCanonical encodes j so that values equal under value.EqualJSON
// (objects in any key order) encode the same.
func appendCanonical(b []byte, j any) []byte {
	switch x := j.(type) {
	case *value.Object:
		keys := append([]string(nil), x.Keys()...)
		sort.Strings(keys)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = value.AppendJSON(b, k)
			b = append(b, ':')
			v, _ := x.Get(k)
			b = appendCanonical(b, v)
		}
		return append(b, '}')
	case []any:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendCanonical(b, e)
		}
		return append(b, ']')
	case float64:
		if x == 0 { // -0 equals 0
			x = math.Abs(x)
		}
		return strconv.AppendFloat(b, x, 'g', -1, 64)
	}
	return value.AppendJSON(b, j)
}

// jsonToString prints JSON pretty (two-space indent, keys in order, whole
// numbers without a fraction); a JSON string prints as its bare text.
func jsonToString(_ *call, _ *evalCtx, in value.Value, _ []value.Value) (value.Value, error) {
	if s, ok := in.JSON().(string); ok {
		return value.Str(s), nil
	}
	return value.Str(string(value.AppendJSONIndent(nil, in.JSON()))), nil
}

func convertTo(k value.Kind) fnImpl {
	return func(_ *call, _ *evalCtx, in value.Value, _ []value.Value) (value.Value, error) {
		return value.Convert(in, k)
	}
}

func jsonToArray(k value.Kind) fnImpl {
	return func(c *call, _ *evalCtx, in value.Value, _ []value.Value) (value.Value, error) {
		if _, err := jsonArray(in, c.fn.name); err != nil {
			return value.Value{}, err
		}
		return value.Convert(in, k)
	}
}

// resolveJSON replaces $var$ references inside the string values of j. A
// string that is exactly one reference takes the referenced value with its
// type; other strings get the values' text. Unchanged nodes are shared.
func resolveJSON(j any, g value.Getter) any {
	out, _ := resolveNode(j, g)
	return out
}

func resolveNode(j any, g value.Getter) (any, bool) {
	switch x := j.(type) {
	case string:
		if strings.IndexByte(x, '$') < 0 {
			return x, false
		}
		t := value.CompileTemplate(x)
		if t.IsStatic() {
			return x, false
		}
		return t.Eval(g).ToJSON(), true
	case []any:
		var c []any
		for i, e := range x {
			ne, changed := resolveNode(e, g)
			if changed && c == nil {
				c = append([]any(nil), x...)
			}
			if c != nil {
				c[i] = ne
			}
		}
		if c == nil {
			return j, false
		}
		return c, true
	case *value.Object:
		var c *value.Object
		for _, k := range x.Keys() {
			e, _ := x.Get(k)
			ne, changed := resolveNode(e, g)
			if changed && c == nil {
				c = x.Clone()
			}
			if c != nil {
				c.Set(k, ne)
			}
		}
		if c == nil {
			return j, false
		}
		return c, true
	}
	return j, false
}

// forEach applies the lambda to every element of an array and collects the
// results into a JSON array, for every array family.
func forEach(c *call, x *evalCtx, in value.Value, _ []value.Value) (value.Value, error) {
	n := in.Len()
	if n < 0 {
		return value.Value{}, fmt.Errorf("FOR_EACH needs an array, not %s", value.DescribeJSON(in.JSON()))
	}
	out := make([]any, n)
	y := c.lambdaCtx(x)
	for i := 0; i < n; i++ {
		if err := x.ctx.Err(); err != nil {
			return value.Value{}, err
		}
		e, _ := in.Index(i)
		v, err := c.apply(y, e)
		if err != nil {
			return value.Value{}, err
		}
		out[i] = v.ToJSON()
	}
	return value.FromJSON(out), nil
}

// filter keeps the elements for which the lambda is true, as an array of
// the input's kind (FILTER_ELEMENTS on JSON, FILTER on the typed arrays).
func filter(c *call, x *evalCtx, in value.Value, _ []value.Value) (value.Value, error) {
	n := in.Len()
	if n < 0 {
		return value.Value{}, fmt.Errorf("%s needs an array, not %s", c.fn.name, value.DescribeJSON(in.JSON()))
	}
	keep := make([]value.Value, 0, n)
	y := c.lambdaCtx(x)
	for i := 0; i < n; i++ {
		if err := x.ctx.Err(); err != nil {
			return value.Value{}, err
		}
		e, _ := in.Index(i)
		v, err := c.apply(y, e)
		if err != nil {
			return value.Value{}, err
		}
		ok, err := condition(v, i)
		if err != nil {
			return value.Value{}, err
		}
		if ok {
			keep = append(keep, e)
		}
	}
	if in.Kind() == value.JSON {
		out := make([]any, len(keep))
		for i, e := range keep {
			out[i] = e.JSON()
		}
		return value.FromJSON(out), nil
	}
	return value.MakeArray(in.Kind(), keep), nil
}

// condition reads a filter lambda's result: a boolean (or JSON boolean);
// null counts as false.
func condition(v value.Value, i int) (bool, error) {
	switch {
	case v.IsNull():
		return false, nil
	case v.Kind() == value.Bool:
		return v.Bool(), nil
	case v.Kind() == value.JSON:
		if b, ok := v.JSON().(bool); ok {
			return b, nil
		}
	}
	return false, fmt.Errorf("the condition for element %d returned %s %s, not a boolean", i, v.Kind(), short(v))
}

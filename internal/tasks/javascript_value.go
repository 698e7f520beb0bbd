package tasks

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"

	"github.com/dop251/goja"

	"github.com/integrationd/integrationd/internal/value"
)

// How values cross between variables and JavaScript. Going in, every
// getParameter builds a fresh copy; coming out, setParameter walks the
// JavaScript value once, in the order JSON.stringify would, and bounds its
// size.

// jsIn converts a variable's value to a JavaScript value.
func jsIn(vm *goja.Runtime, v value.Value) goja.Value {
	switch v.Kind() {
	case value.String:
		return vm.ToValue(v.Str())
	case value.Int:
		return vm.ToValue(v.Int())
	case value.Double:
		return vm.ToValue(v.Double())
	case value.Bool:
		return vm.ToValue(v.Bool())
	case value.StringArray:
		return jsArray(vm, v.Strings())
	case value.IntArray:
		return jsArray(vm, v.Ints())
	case value.DoubleArray:
		return jsArray(vm, v.Doubles())
	case value.BoolArray:
		return jsArray(vm, v.Bools())
	case value.JSON:
		return jsFromJSON(vm, v.JSON())
	}
	return goja.Null()
}

func jsArray[T any](vm *goja.Runtime, s []T) goja.Value {
	items := make([]any, len(s))
	for i, e := range s {
		items[i] = vm.ToValue(e)
	}
	return vm.NewArray(items...)
}

// jsFromJSON builds real JavaScript objects and arrays from a JSON value,
// keys in the object's order. (JavaScript itself lists integer-like keys
// such as "1" first, in ascending order, whatever the insertion order.)
func jsFromJSON(vm *goja.Runtime, j any) goja.Value {
	switch x := j.(type) {
	case nil:
		return goja.Null()
	case *value.Object:
		o := vm.NewObject()
		for _, k := range x.Keys() {
			e, _ := x.Get(k)
			// Define, not Set: a "__proto__" key is an ordinary own property.
			_ = o.DefineDataProperty(k, jsFromJSON(vm, e), goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_TRUE)
		}
		return o
	case []any:
		items := make([]any, len(x))
		for i, e := range x {
			items[i] = jsFromJSON(vm, e)
		}
		return vm.NewArray(items...)
	}
	return vm.ToValue(j) // string, float64, bool
}

// natural converts a JavaScript value to the value a new variable would
// hold: strings, booleans, numbers (int when a safe integer, double
// otherwise), homogeneous arrays of strings, numbers or booleans as typed
// arrays, any other object or array as JSON. null and undefined are Null.
func (a *jsAttempt) natural(v goja.Value) (value.Value, error) {
	if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
		return value.Value{}, nil
	}
	switch v.(type) {
	case *goja.Object:
	case *goja.Symbol:
		return value.Value{}, &jsExportError{msg: "a symbol cannot be stored in a variable"}
	default:
		switch x := v.Export().(type) {
		case string:
			if int64(len(x)) > a.limit {
				return value.Value{}, jsTooLarge(a.limit)
			}
			return value.Str(x), nil
		case bool:
			return value.Boolean(x), nil
		case int64:
			return value.Integer(x), nil
		case float64:
			return jsNumber(x), nil
		case *big.Int:
			if x.IsInt64() {
				return value.Integer(x.Int64()), nil
			}
			return value.Value{}, fmt.Errorf("the BigInt %s does not fit in an int", x)
		}
	}
	j, err := a.exporter(a.limit).json(v, 0)
	if err != nil {
		return value.Value{}, err
	}
	return jsClassify(j), nil
}

// jsNumber is a JavaScript number as a value: an int when it is a safe
// integer (|x| <= 2^53-1), else a double.
func jsNumber(f float64) value.Value {
	if jsSafeInt(f) {
		return value.Integer(int64(f))
	}
	return value.Float(f)
}

func jsSafeInt(f float64) bool {
	return f == math.Trunc(f) && math.Abs(f) <= 1<<53-1
}

// jsClassify picks the kind of an exported value: a typed array when every
// element is a string, a safe integer, a number or a boolean; JSON for
// other arrays (the empty one included) and objects.
func jsClassify(j any) value.Value {
	switch x := j.(type) {
	case []any:
		if len(x) == 0 {
			return value.FromJSON(x)
		}
		var ss, fs, bs, ints int
		for _, e := range x {
			switch y := e.(type) {
			case string:
				ss++
			case float64:
				fs++
				if jsSafeInt(y) {
					ints++
				}
			case bool:
				bs++
			}
		}
		switch n := len(x); {
		case ss == n:
			a := make([]string, n)
			for i, e := range x {
				a[i] = e.(string)
			}
			return value.Strings(a)
		case ints == n:
			a := make([]int64, n)
			for i, e := range x {
				a[i] = int64(e.(float64))
			}
			return value.Ints(a)
		case fs == n:
			a := make([]float64, n)
			for i, e := range x {
				a[i] = e.(float64)
			}
			return value.Floats(a)
		case bs == n:
			a := make([]bool, n)
			for i, e := range x {
				a[i] = e.(bool)
			}
			return value.Bools(a)
		}
	}
	return value.Infer(j)
}

// jsMaxDepth bounds nesting so a deep structure cannot exhaust the Go
// stack.
const jsMaxDepth = 1000

// jsExporter converts JavaScript values to JSON values (nil, bool, float64,
// string, []any, *value.Object) as JSON.stringify would see them, with
// these differences: a function or symbol anywhere is an error, not
// skipped; undefined as an array element or on its own is null, as an
// object member it is left out; a cycle is an error naming where it
// closes; and the estimated size must stay within limit bytes.
type jsExporter struct {
	vm    *goja.Runtime
	limit int64
	size  int64
	open  map[*goja.Object]bool // objects on the current path
}

func (a *jsAttempt) exporter(limit int64) *jsExporter {
	return &jsExporter{vm: a.vm, limit: limit}
}

// jsExportError says what could not be exported and where (a path like
// .items[2].name).
type jsExportError struct {
	path  []string // innermost first
	msg   string
	whole bool // about the whole value: no path
}

func (e *jsExportError) Error() string {
	if len(e.path) == 0 {
		return e.msg
	}
	var b strings.Builder
	for i := len(e.path) - 1; i >= 0; i-- {
		b.WriteString(e.path[i])
	}
	return e.msg + " (at " + b.String() + ")"
}

func (e *jsExportError) at(seg string) *jsExportError {
	if !e.whole {
		e.path = append(e.path, seg)
	}
	return e
}

func jsTooLarge(limit int64) error {
	return &jsExportError{msg: fmt.Sprintf("the value is larger than the script memory bound (%s)", jsBytes(limit)), whole: true}
}

func (x *jsExporter) grow(n int64) error {
	x.size += n
	if x.size > x.limit {
		return jsTooLarge(x.limit)
	}
	return nil
}

func (x *jsExporter) json(v goja.Value, depth int) (any, error) {
	if depth > jsMaxDepth {
		return nil, &jsExportError{msg: fmt.Sprintf("the value is nested deeper than %d levels", jsMaxDepth)}
	}
	if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
		return nil, x.grow(4)
	}
	obj, ok := v.(*goja.Object)
	if !ok {
		return x.primitive(v)
	}
	if _, fn := goja.AssertFunction(obj); fn {
		return nil, &jsExportError{msg: "a function cannot be stored in a variable"}
	}
	if tj, ok := goja.AssertFunction(obj.Get("toJSON")); ok {
		r, err := tj(obj)
		if err != nil {
			// Rethrown as it is, as JSON.stringify does (an interrupt stays
			// uncatchable). Like the getters and proxy traps that Get and
			// Keys run, this is only ever called from inside the runtime.
			panic(err)
		}
		if r2, isObj := r.(*goja.Object); isObj && r2 == obj {
			return nil, &jsExportError{msg: "toJSON returned its own object"}
		}
		return x.json(r, depth+1)
	}
	switch obj.ClassName() { // wrapper objects, unwrapped as JSON.stringify does
	case "String":
		return x.primitive(x.vm.ToValue(obj.String()))
	case "Number":
		return x.primitive(x.vm.ToValue(obj.ToFloat()))
	case "Boolean", "BigInt":
		return x.primitive(x.vm.ToValue(obj.Export()))
	}
	if x.open[obj] {
		return nil, &jsExportError{msg: "the value is cyclic"}
	}
	if x.open == nil {
		x.open = make(map[*goja.Object]bool)
	}
	x.open[obj] = true
	defer delete(x.open, obj)

	if obj.ClassName() == "Array" {
		n := obj.Get("length").ToInteger()
		if n > x.limit {
			return nil, jsTooLarge(x.limit)
		}
		if err := x.grow(2 + n); err != nil {
			return nil, err
		}
		arr := make([]any, n)
		for i := range arr {
			e, err := x.json(obj.Get(strconv.Itoa(i)), depth+1)
			if err != nil {
				return nil, jsWrapAt(err, "["+strconv.Itoa(i)+"]")
			}
			arr[i] = e
		}
		return arr, nil
	}
	keys := obj.Keys()
	out := value.NewObject(len(keys))
	if err := x.grow(2); err != nil {
		return nil, err
	}
	for _, k := range keys {
		ev := obj.Get(k)
		if ev == nil || goja.IsUndefined(ev) {
			continue
		}
		if err := x.grow(int64(len(k)) + 4); err != nil {
			return nil, err
		}
		e, err := x.json(ev, depth+1)
		if err != nil {
			return nil, jsWrapAt(err, "."+k)
		}
		out.Set(k, e)
	}
	return out, nil
}

func (x *jsExporter) primitive(v goja.Value) (any, error) {
	if _, ok := v.(*goja.Symbol); ok {
		return nil, &jsExportError{msg: "a symbol cannot be stored in a variable"}
	}
	switch e := v.Export().(type) {
	case string:
		return e, x.grow(int64(len(e)) + 2)
	case bool:
		return e, x.grow(5)
	case int64:
		return float64(e), x.grow(8)
	case float64:
		if math.IsNaN(e) || math.IsInf(e, 0) {
			return nil, x.grow(4) // as JSON.stringify
		}
		return e, x.grow(8)
	case *big.Int:
		return nil, &jsExportError{msg: "a BigInt cannot be stored inside a JSON value"}
	case nil:
		return nil, x.grow(4)
	}
	return nil, &jsExportError{msg: "unsupported value " + v.String()}
}

func jsWrapAt(err error, seg string) error {
	if e, ok := err.(*jsExportError); ok {
		return e.at(seg)
	}
	return err
}

func jsBytes(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + " MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + " KiB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}

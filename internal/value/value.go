// Package value holds integrationd's typed values: the nine kinds of the
// reference service's variables (string, int, double, boolean, their arrays,
// and JSON), conversions between them, references ($name$, $name.path$,
// backtick names), templates, and the variable store of one execution.
//
// A Value is immutable once built: every operation that changes one returns
// a new Value, so Values can be shared by concurrent branches.
package value

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/integrationd/integrationd/internal/spec"
)

// Kind is the type of a Value.
type Kind uint8

// The kinds. Null is the absent value (a declared variable with no default).
const (
	Null Kind = iota
	String
	Int
	Double
	Bool
	StringArray
	IntArray
	DoubleArray
	BoolArray
	JSON
)

var kindNames = [...]string{"null", "string", "int", "double", "boolean", "string array", "int array", "double array", "boolean array", "JSON"}

var dataTypes = [...]string{"", spec.TypeString, spec.TypeInt, spec.TypeDouble, spec.TypeBoolean, spec.TypeStringArray, spec.TypeIntArray, spec.TypeDoubleArray, spec.TypeBooleanArray, spec.TypeJSON}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// DataType is Google's dataType name of k ("STRING_VALUE"...), "" for Null.
func (k Kind) DataType() string {
	if int(k) < len(dataTypes) {
		return dataTypes[k]
	}
	return ""
}

// IsArray reports whether k is one of the four typed array kinds.
func (k Kind) IsArray() bool { return k >= StringArray && k <= BoolArray }

// Elem is the element kind of an array kind, Null otherwise.
func (k Kind) Elem() Kind {
	if k.IsArray() {
		return k - StringArray + String
	}
	return Null
}

// KindOfDataType maps Google's dataType to a Kind. The internal array and
// proto types are not supported and report false; "" reports (Null, true).
func KindOfDataType(dt string) (Kind, bool) {
	switch dt {
	case "", "DATA_TYPE_UNSPECIFIED", "TYPE_UNSPECIFIED":
		return Null, true
	case spec.TypeString, "STRING":
		return String, true
	case spec.TypeInt, "INT", "INTEGER":
		return Int, true
	case spec.TypeDouble, "DOUBLE":
		return Double, true
	case spec.TypeBoolean, "BOOLEAN":
		return Bool, true
	case spec.TypeStringArray:
		return StringArray, true
	case spec.TypeIntArray:
		return IntArray, true
	case spec.TypeDoubleArray:
		return DoubleArray, true
	case spec.TypeBooleanArray:
		return BoolArray, true
	case spec.TypeJSON, "JSON":
		return JSON, true
	case "PROTO_VALUE", "PROTO_ARRAY", "SERIALIZED_OBJECT_VALUE", "NON_SERIALIZABLE_OBJECT", "BYTES", "BYTES_ARRAY", "PROTO_ENUM", "PROTO_ENUM_ARRAY":
		return JSON, true // carried as JSON
	}
	return Null, false
}

// Value is one typed value. The zero Value is Null.
type Value struct {
	k  Kind
	s  string
	i  int64
	f  float64
	b  bool
	ss []string
	is []int64
	fs []float64
	bs []bool
	j  any
}

// Constructors. The slices passed to the array constructors are owned by
// the Value afterwards.
func Str(s string) Value        { return Value{k: String, s: s} }
func Integer(i int64) Value     { return Value{k: Int, i: i} }
func Float(f float64) Value     { return Value{k: Double, f: f} }
func Boolean(b bool) Value      { return Value{k: Bool, b: b} }
func Strings(ss []string) Value { return Value{k: StringArray, ss: nonNil(ss)} }
func Ints(is []int64) Value     { return Value{k: IntArray, is: nonNil(is)} }
func Floats(fs []float64) Value { return Value{k: DoubleArray, fs: nonNil(fs)} }
func Bools(bs []bool) Value     { return Value{k: BoolArray, bs: nonNil(bs)} }
func FromJSON(j any) Value      { return Value{k: JSON, j: j} }
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// Kind returns the kind of v.
func (v Value) Kind() Kind { return v.k }

// IsNull reports whether v is Null or a JSON null.
func (v Value) IsNull() bool { return v.k == Null || (v.k == JSON && v.j == nil) }

// Accessors return the payload of the matching kind (the zero value for
// other kinds). Returned slices must not be modified.
func (v Value) Str() string        { return v.s }
func (v Value) Int() int64         { return v.i }
func (v Value) Double() float64    { return v.f }
func (v Value) Bool() bool         { return v.b }
func (v Value) Strings() []string  { return v.ss }
func (v Value) Ints() []int64      { return v.is }
func (v Value) Doubles() []float64 { return v.fs }
func (v Value) Bools() []bool      { return v.bs }
func (v Value) JSON() any          { return v.j }

// Len is the number of elements of an array kind or JSON array, -1 otherwise.
func (v Value) Len() int {
	switch v.k {
	case StringArray:
		return len(v.ss)
	case IntArray:
		return len(v.is)
	case DoubleArray:
		return len(v.fs)
	case BoolArray:
		return len(v.bs)
	case JSON:
		if a, ok := v.j.([]any); ok {
			return len(a)
		}
	}
	return -1
}

// Index returns element i of an array kind (as its element kind) or of a
// JSON array (as JSON).
func (v Value) Index(i int) (Value, bool) {
	if i < 0 || i >= v.Len() {
		return Value{}, false
	}
	switch v.k {
	case StringArray:
		return Str(v.ss[i]), true
	case IntArray:
		return Integer(v.is[i]), true
	case DoubleArray:
		return Float(v.fs[i]), true
	case BoolArray:
		return Boolean(v.bs[i]), true
	case JSON:
		return FromJSON(v.j.([]any)[i]), true
	}
	return Value{}, false
}

// ToJSON returns the JSON form of v: strings, numbers and booleans as JSON
// scalars, typed arrays as JSON arrays, JSON as itself, Null as nil.
func (v Value) ToJSON() any {
	switch v.k {
	case String:
		return v.s
	case Int:
		return float64(v.i)
	case Double:
		return v.f
	case Bool:
		return v.b
	case StringArray:
		a := make([]any, len(v.ss))
		for i, e := range v.ss {
			a[i] = e
		}
		return a
	case IntArray:
		a := make([]any, len(v.is))
		for i, e := range v.is {
			a[i] = float64(e)
		}
		return a
	case DoubleArray:
		a := make([]any, len(v.fs))
		for i, e := range v.fs {
			a[i] = e
		}
		return a
	case BoolArray:
		a := make([]any, len(v.bs))
		for i, e := range v.bs {
			a[i] = e
		}
		return a
	case JSON:
		return v.j
	}
	return nil
}

// Text renders v for a template or a string conversion: strings as they
// are, ints in decimal, doubles as Java prints them ("2.0", "1.0E10"),
// booleans as true/false, arrays and JSON as compact JSON text (a JSON
// string as its bare text), Null as "".
func (v Value) Text() string {
	switch v.k {
	case Null:
		return ""
	case String:
		return v.s
	case Int:
		return strconv.FormatInt(v.i, 10)
	case Double:
		return FormatDouble(v.f)
	case Bool:
		return strconv.FormatBool(v.b)
	case JSON:
		if s, ok := v.j.(string); ok {
			return s
		}
		if v.j == nil {
			return ""
		}
	}
	return EncodeJSON(v.ToJSON())
}

// String implements fmt.Stringer for logs and messages.
func (v Value) String() string {
	if v.k == String {
		return strconv.Quote(v.s)
	}
	if v.k == Null {
		return "null"
	}
	return v.Text()
}

// FormatDouble prints f as Java's Double.toString does: "2.0", "0.25",
// "1.0E10", "1.0E-5".
func FormatDouble(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	abs := math.Abs(f)
	if f == 0 || (abs >= 1e-3 && abs < 1e7) {
		s := strconv.FormatFloat(f, 'f', -1, 64)
		if !strings.ContainsAny(s, ".") {
			s += ".0"
		}
		return s
	}
	s := strconv.FormatFloat(f, 'E', -1, 64) // 1E+10
	mant, exp, _ := strings.Cut(s, "E")
	if !strings.Contains(mant, ".") {
		mant += ".0"
	}
	exp = strings.TrimPrefix(exp, "+")
	return mant + "E" + exp
}

// Equal reports whether a and b hold the same value; numbers compare by
// value across int, double and JSON numbers.
func Equal(a, b Value) bool {
	if a.k == b.k {
		switch a.k {
		case Null:
			return true
		case String:
			return a.s == b.s
		case Int:
			return a.i == b.i
		case Double:
			return a.f == b.f
		case Bool:
			return a.b == b.b
		}
	}
	if a.IsNull() || b.IsNull() {
		return a.IsNull() && b.IsNull()
	}
	return EqualJSON(a.ToJSON(), b.ToJSON())
}

// ConvertError says that a value cannot be converted to a kind.
type ConvertError struct {
	From Value
	To   Kind
	Why  string
}

func (e *ConvertError) Error() string {
	s := e.From.String()
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	msg := fmt.Sprintf("cannot convert %s %s to %s", e.From.k, s, e.To)
	if e.Why != "" {
		msg += ": " + e.Why
	}
	return msg
}

// Convert converts v to kind k, as the engine does when a value is written
// into a variable declared with that kind:
//   - Null converts to Null of any kind; anything converts to JSON.
//   - JSON scalars and arrays convert to the matching primitive or typed
//     array (a whole number to int; a JSON string holding a number to a number).
//   - strings parse into numbers and booleans, and leniently into JSON.
//   - int widens to double; a whole double narrows to int.
//   - numbers and booleans convert to their text; arrays and JSON to their
//     JSON text.
func Convert(v Value, k Kind) (Value, error) {
	if v.k == k || k == Null {
		return v, nil
	}
	if v.k == Null {
		return Value{}, nil
	}
	if k == JSON {
		if v.k == String {
			// A string written into a JSON variable: its JSON text if it
			// holds one, else a JSON string.
			if j, err := ParseLenientJSON(v.s); err == nil {
				if _, isStr := j.(string); !isStr || strings.HasPrefix(strings.TrimSpace(v.s), `"`) || strings.HasPrefix(strings.TrimSpace(v.s), `'`) {
					return FromJSON(j), nil
				}
			}
			return FromJSON(v.s), nil
		}
		return FromJSON(v.ToJSON()), nil
	}
	if v.k == JSON {
		return fromJSON(v, k)
	}
	fail := func(why string) (Value, error) { return Value{}, &ConvertError{From: v, To: k, Why: why} }
	switch k {
	case String:
		return Str(v.Text()), nil
	case Int:
		switch v.k {
		case String:
			s := strings.TrimSpace(v.s)
			if i, err := strconv.ParseInt(s, 10, 64); err == nil {
				return Integer(i), nil
			}
			if f, err := strconv.ParseFloat(s, 64); err == nil && f == math.Trunc(f) && math.Abs(f) < 1<<63 {
				return Integer(int64(f)), nil
			}
			return fail("not an integer")
		case Double:
			if v.f == math.Trunc(v.f) && math.Abs(v.f) < 1<<63 {
				return Integer(int64(v.f)), nil
			}
			return fail("not a whole number")
		}
	case Double:
		switch v.k {
		case String:
			f, err := strconv.ParseFloat(strings.TrimSpace(v.s), 64)
			if err != nil {
				return fail("not a number")
			}
			return Float(f), nil
		case Int:
			return Float(float64(v.i)), nil
		}
	case Bool:
		if v.k == String {
			switch strings.ToLower(strings.TrimSpace(v.s)) {
			case "true":
				return Boolean(true), nil
			case "false":
				return Boolean(false), nil
			}
			return fail("not true or false")
		}
	case StringArray, IntArray, DoubleArray, BoolArray:
		if v.k.IsArray() {
			return convertArray(FromJSON(v.ToJSON()), k)
		}
		if v.k == String {
			j, err := ParseLenientJSON(v.s)
			if err == nil {
				if _, ok := j.([]any); ok {
					return convertArray(FromJSON(j), k)
				}
			}
		}
		// A scalar becomes a one-element array.
		e, err := Convert(v, k.Elem())
		if err != nil {
			return fail(err.Error())
		}
		return convertArray(FromJSON([]any{e.ToJSON()}), k)
	}
	return fail("")
}

func fromJSON(v Value, k Kind) (Value, error) {
	fail := func(why string) (Value, error) { return Value{}, &ConvertError{From: v, To: k, Why: why} }
	if v.j == nil {
		return Value{}, nil
	}
	if k.IsArray() {
		return convertArray(v, k)
	}
	switch x := v.j.(type) {
	case string:
		return Convert(Str(x), k)
	case float64:
		switch k {
		case Int:
			if x == math.Trunc(x) && math.Abs(x) < 1<<63 {
				return Integer(int64(x)), nil
			}
			return fail("not a whole number")
		case Double:
			return Float(x), nil
		case String:
			return Str(EncodeJSON(x)), nil
		}
	case bool:
		switch k {
		case Bool:
			return Boolean(x), nil
		case String:
			return Str(strconv.FormatBool(x)), nil
		}
	default:
		if k == String {
			return Str(EncodeJSON(x)), nil
		}
	}
	return fail("")
}

func convertArray(v Value, k Kind) (Value, error) {
	arr, ok := v.j.([]any)
	if !ok {
		e, err := Convert(v, k.Elem())
		if err != nil {
			return Value{}, &ConvertError{From: v, To: k, Why: "not an array"}
		}
		arr = []any{e.ToJSON()}
	}
	elem := k.Elem()
	out := make([]Value, len(arr))
	for i, e := range arr {
		if e == nil {
			return Value{}, &ConvertError{From: v, To: k, Why: fmt.Sprintf("element %d is null", i)}
		}
		c, err := fromJSON(FromJSON(e), elem)
		if err != nil {
			return Value{}, &ConvertError{From: v, To: k, Why: fmt.Sprintf("element %d: %v", i, err)}
		}
		out[i] = c
	}
	return MakeArray(k, out), nil
}

// MakeArray builds an array of kind k from element values already of k.Elem().
func MakeArray(k Kind, elems []Value) Value {
	switch k {
	case StringArray:
		a := make([]string, len(elems))
		for i, e := range elems {
			a[i] = e.s
		}
		return Strings(a)
	case IntArray:
		a := make([]int64, len(elems))
		for i, e := range elems {
			a[i] = e.i
		}
		return Ints(a)
	case DoubleArray:
		a := make([]float64, len(elems))
		for i, e := range elems {
			a[i] = e.f
		}
		return Floats(a)
	case BoolArray:
		a := make([]bool, len(elems))
		for i, e := range elems {
			a[i] = e.b
		}
		return Bools(a)
	}
	return Value{}
}

// FromSpec decodes a ValueType. jsonValue text is parsed leniently. A nil
// or empty ValueType is Null.
func FromSpec(vt *spec.ValueType) (Value, error) {
	switch {
	case vt == nil:
		return Value{}, nil
	case vt.StringValue != nil:
		return Str(*vt.StringValue), nil
	case vt.IntValue != nil:
		return Integer(int64(*vt.IntValue)), nil
	case vt.DoubleValue != nil:
		return Float(float64(*vt.DoubleValue)), nil
	case vt.BooleanValue != nil:
		return Boolean(bool(*vt.BooleanValue)), nil
	case vt.JSONValue != nil:
		j, err := ParseLenientJSON(*vt.JSONValue)
		if err != nil {
			return Value{}, fmt.Errorf("jsonValue: %w", err)
		}
		return FromJSON(j), nil
	case vt.StringArray != nil:
		return Strings(append([]string(nil), vt.StringArray.StringValues...)), nil
	case vt.IntArray != nil:
		a := make([]int64, len(vt.IntArray.IntValues))
		for i, e := range vt.IntArray.IntValues {
			a[i] = int64(e)
		}
		return Ints(a), nil
	case vt.DoubleArray != nil:
		a := make([]float64, len(vt.DoubleArray.DoubleValues))
		for i, e := range vt.DoubleArray.DoubleValues {
			a[i] = float64(e)
		}
		return Floats(a), nil
	case vt.BooleanArray != nil:
		a := make([]bool, len(vt.BooleanArray.BooleanValues))
		for i, e := range vt.BooleanArray.BooleanValues {
			a[i] = bool(e)
		}
		return Bools(a), nil
	}
	return Value{}, nil
}

// ToSpec encodes v as a ValueType (JSON as jsonValue text).
func ToSpec(v Value) *spec.ValueType {
	vt := &spec.ValueType{}
	switch v.k {
	case String:
		s := v.s
		vt.StringValue = &s
	case Int:
		i := spec.Int64(v.i)
		vt.IntValue = &i
	case Double:
		f := spec.Double(v.f)
		vt.DoubleValue = &f
	case Bool:
		b := spec.Bool(v.b)
		vt.BooleanValue = &b
	case JSON:
		s := EncodeJSON(v.j)
		vt.JSONValue = &s
	case StringArray:
		vt.StringArray = &spec.StringArray{StringValues: v.ss}
	case IntArray:
		a := make([]spec.Int64, len(v.is))
		for i, e := range v.is {
			a[i] = spec.Int64(e)
		}
		vt.IntArray = &spec.IntArray{IntValues: a}
	case DoubleArray:
		a := make([]spec.Double, len(v.fs))
		for i, e := range v.fs {
			a[i] = spec.Double(e)
		}
		vt.DoubleArray = &spec.DoubleArray{DoubleValues: a}
	case BoolArray:
		a := make([]spec.Bool, len(v.bs))
		for i, e := range v.bs {
			a[i] = spec.Bool(e)
		}
		vt.BooleanArray = &spec.BooleanArray{BooleanValues: a}
	}
	return vt
}

// KindOfSpec reports the kind a ValueType carries (Null when empty).
func KindOfSpec(vt *spec.ValueType) Kind {
	switch {
	case vt == nil:
		return Null
	case vt.StringValue != nil:
		return String
	case vt.IntValue != nil:
		return Int
	case vt.DoubleValue != nil:
		return Double
	case vt.BooleanValue != nil:
		return Bool
	case vt.JSONValue != nil:
		return JSON
	case vt.StringArray != nil:
		return StringArray
	case vt.IntArray != nil:
		return IntArray
	case vt.DoubleArray != nil:
		return DoubleArray
	case vt.BooleanArray != nil:
		return BoolArray
	}
	return Null
}

// maxSafeInt is the largest integer a JSON number (float64) holds exactly.
const maxSafeInt = 1<<53 - 1

// Infer types a plain JSON value whose variable has no declared type:
// strings, booleans, integral numbers within ±(2^53−1) as Int, other
// numbers as Double, null as Null; arrays and objects stay JSON.
func Infer(j any) Value {
	switch x := j.(type) {
	case nil:
		return Value{}
	case string:
		return Str(x)
	case bool:
		return Boolean(x)
	case float64:
		if x == math.Trunc(x) && math.Abs(x) <= maxSafeInt {
			return Integer(int64(x))
		}
		return Float(x)
	}
	return FromJSON(j)
}

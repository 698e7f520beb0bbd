package mapping

import (
	"fmt"

	"github.com/integrationd/integrationd/internal/value"
)

// pkind is the declared type of a function parameter. Parameters are
// converted to it with value.Convert before the function runs.
type pkind uint8

const (
	pString pkind = iota
	pInt
	pDouble
	pBool
	pJSON // any value, converted to JSON (a string is parsed leniently)
	pAny  // any value, passed as it is
	pElem // the element kind of the family's array kind
)

func (k pkind) kind(f *family) value.Kind {
	switch k {
	case pString:
		return value.String
	case pInt:
		return value.Int
	case pDouble:
		return value.Double
	case pBool:
		return value.Bool
	case pJSON:
		return value.JSON
	case pElem:
		return f.kind.Elem()
	}
	return value.Null // pAny: no conversion
}

// fnImpl runs one function on the (already converted) input value with the
// (already converted, non-null) arguments.
type fnImpl func(c *call, x *evalCtx, in value.Value, args []value.Value) (value.Value, error)

// fnSpec declares one function of a family.
type fnSpec struct {
	name     string
	params   []pkind
	optional int  // how many trailing params may be left out
	variadic bool // the last param repeats (at least once)
	lambda   bool // takes exactly one lambda (protoValue TransformExpression)
	nullIn   bool // runs on a null input instead of passing the null on
	// unsupported, when set, makes the function a compile error with
	// this message.
	unsupported string
	impl        fnImpl
	// prep runs at compile time and may precompute state from the
	// constant parameters (c.isConst / c.consts) into c.prep.
	prep func(c *call) error
}

// family is one type family: the functions that apply to a value of kind.
type family struct {
	key   string     // JSON key in functionType: "stringFunction"
	short string     // name in messages: "string"
	kind  value.Kind // kind of the input; Null for base functions
	fns   map[string]*fnSpec
	// unsupported, when set, rejects every function of the family.
	unsupported string
}

var families = map[string]*family{}

func newFamily(key, short string, kind value.Kind) *family {
	if _, dup := families[key]; dup {
		panic("mapping: duplicate family " + key)
	}
	f := &family{key: key, short: short, kind: kind, fns: map[string]*fnSpec{}}
	families[key] = f
	return f
}

func (f *family) add(specs ...*fnSpec) *family {
	for _, s := range specs {
		if _, dup := f.fns[s.name]; dup {
			panic(fmt.Sprintf("mapping: duplicate function %s %s", f.short, s.name))
		}
		f.fns[s.name] = s
	}
	return f
}

// fn declares a function with fixed parameters.
func fn(name string, impl fnImpl, params ...pkind) *fnSpec {
	return &fnSpec{name: name, impl: impl, params: params}
}

func init() {
	for _, k := range []string{"protoFunction", "protoArrayFunction"} {
		f := newFamily(k, k[:len(k)-len("Function")], value.JSON)
		f.unsupported = "proto functions are not supported by integrationd"
	}
}

// familyNames lists the family keys in a stable order for messages.
var familyOrder = []string{
	"baseFunction", "stringFunction", "intFunction", "doubleFunction", "booleanFunction", "jsonFunction",
	"stringArrayFunction", "intArrayFunction", "doubleArrayFunction", "booleanArrayFunction",
	"protoFunction", "protoArrayFunction",
}

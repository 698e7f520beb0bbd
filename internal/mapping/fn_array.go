package mapping

import (
	"fmt"
	"math"

	"github.com/integrationd/integrationd/internal/value"
)

func init() {
	arrayFamily("stringArrayFunction", "stringArray", value.StringArray, false)
	arrayFamily("intArrayFunction", "intArray", value.IntArray, true)
	arrayFamily("doubleArrayFunction", "doubleArray", value.DoubleArray, true)
	arrayFamily("booleanArrayFunction", "booleanArray", value.BoolArray, false)
}

// arrayFamily registers the functions shared by the typed arrays, and the
// aggregates SUM, AVG, MAX and MIN for the numeric ones.
func arrayFamily(key, short string, k value.Kind, aggregates bool) {
	f := newFamily(key, short, k).add(
		fn("GET", arrGet, pInt),
		fn("APPEND", arrAppend, pElem),
		&fnSpec{name: "APPEND_ALL", params: []pkind{pAny}, variadic: true, impl: arrAppendAll},
		fn("SIZE", func(_ *call, _ *evalCtx, in value.Value, _ []value.Value) (value.Value, error) {
			return value.Integer(int64(in.Len())), nil
		}),
		fn("TO_SET", arrToSet),
		fn("SET", arrSet, pInt, pElem),
		fn("REMOVE", arrRemove, pElem),
		fn("REMOVE_AT", arrRemoveAt, pInt),
		fn("CONTAINS", func(_ *call, _ *evalCtx, in value.Value, a []value.Value) (value.Value, error) {
			return value.Boolean(indexOf(in, a[0]) >= 0), nil
		}, pElem),
		fn("TO_JSON", toJSON),
		&fnSpec{name: "FOR_EACH", lambda: true, impl: forEach},
		&fnSpec{name: "FILTER", lambda: true, impl: filter},
	)
	if aggregates {
		f.add(
			fn("SUM", arrSum),
			fn("AVG", arrAvg),
			fn("MAX", arrExtreme(true)),
			fn("MIN", arrExtreme(false)),
		)
	}
}

// elems returns the elements of a typed array.
func elems(v value.Value) []value.Value {
	n := v.Len()
	out := make([]value.Value, n, n+1)
	for i := range out {
		out[i], _ = v.Index(i)
	}
	return out
}

func checkIndex(i int64, n int) error {
	if i < 0 || i >= int64(n) {
		return fmt.Errorf("index %d out of range [0,%d)", i, n)
	}
	return nil
}

func arrGet(_ *call, _ *evalCtx, in value.Value, a []value.Value) (value.Value, error) {
	i := a[0].Int()
	if err := checkIndex(i, in.Len()); err != nil {
		return value.Value{}, err
	}
	e, _ := in.Index(int(i))
	return e, nil
}

func arrAppend(_ *call, _ *evalCtx, in value.Value, a []value.Value) (value.Value, error) {
	return value.MakeArray(in.Kind(), append(elems(in), a[0])), nil
}

// arrAppendAll appends every parameter; a parameter that is itself an
// array (typed or JSON) contributes its elements.
func arrAppendAll(c *call, _ *evalCtx, in value.Value, a []value.Value) (value.Value, error) {
	k := in.Kind().Elem()
	out := elems(in)
	add := func(v value.Value, i int) error {
		cv, err := value.Convert(v, k)
		if err != nil {
			return fmt.Errorf("parameter %d: %v", i+1, err)
		}
		if cv.Kind() == value.Null {
			return fmt.Errorf("parameter %d: null element", i+1)
		}
		out = append(out, cv)
		return nil
	}
	for i, v := range a {
		if n := v.Len(); n >= 0 {
			for j := 0; j < n; j++ {
				e, _ := v.Index(j)
				if err := add(e, i); err != nil {
					return value.Value{}, err
				}
			}
			continue
		}
		if err := add(v, i); err != nil {
			return value.Value{}, err
		}
	}
	return value.MakeArray(in.Kind(), out), nil
}

func arrToSet(_ *call, _ *evalCtx, in value.Value, _ []value.Value) (value.Value, error) {
	seen := make(map[any]bool, in.Len())
	var out []value.Value
	for _, e := range elems(in) {
		var key any
		switch e.Kind() {
		case value.String:
			key = e.Str()
		case value.Int:
			key = e.Int()
		case value.Double:
			key = e.Double()
		case value.Bool:
			key = e.Bool()
		}
		if !seen[key] {
			seen[key] = true
			out = append(out, e)
		}
	}
	return value.MakeArray(in.Kind(), out), nil
}

func arrSet(_ *call, _ *evalCtx, in value.Value, a []value.Value) (value.Value, error) {
	i := a[0].Int()
	if err := checkIndex(i, in.Len()); err != nil {
		return value.Value{}, err
	}
	out := elems(in)
	out[i] = a[1]
	return value.MakeArray(in.Kind(), out), nil
}

func indexOf(in, e value.Value) int {
	for i := 0; i < in.Len(); i++ {
		if x, _ := in.Index(i); value.Equal(x, e) {
			return i
		}
	}
	return -1
}

// arrRemove removes the first element equal to the parameter.
func arrRemove(_ *call, _ *evalCtx, in value.Value, a []value.Value) (value.Value, error) {
	i := indexOf(in, a[0])
	if i < 0 {
		return in, nil
	}
	out := elems(in)
	return value.MakeArray(in.Kind(), append(out[:i], out[i+1:]...)), nil
}

func arrRemoveAt(_ *call, _ *evalCtx, in value.Value, a []value.Value) (value.Value, error) {
	i := a[0].Int()
	if err := checkIndex(i, in.Len()); err != nil {
		return value.Value{}, err
	}
	out := elems(in)
	return value.MakeArray(in.Kind(), append(out[:i], out[i+1:]...)), nil
}

// arrSum adds the elements: an int for an int array (wrapping on
// overflow), a double for a double array; 0 for an empty array.
func arrSum(_ *call, _ *evalCtx, in value.Value, _ []value.Value) (value.Value, error) {
	if in.Kind() == value.IntArray {
		var s int64
		for _, e := range in.Ints() {
			s += e
		}
		return value.Integer(s), nil
	}
	var s float64
	for _, e := range in.Doubles() {
		s += e
	}
	if math.IsInf(s, 0) || math.IsNaN(s) {
		return value.Value{}, fmt.Errorf("the sum is not a finite number")
	}
	return value.Float(s), nil
}

func arrAvg(c *call, _ *evalCtx, in value.Value, _ []value.Value) (value.Value, error) {
	if in.Len() == 0 {
		return value.Value{}, fmt.Errorf("the array is empty")
	}
	if in.Kind() == value.IntArray {
		var s float64
		for _, e := range in.Ints() {
			s += float64(e)
		}
		return value.Float(s / float64(in.Len())), nil
	}
	var s float64
	for _, e := range in.Doubles() {
		s += e
	}
	r := s / float64(in.Len())
	if math.IsInf(r, 0) || math.IsNaN(r) {
		return value.Value{}, fmt.Errorf("the average is not a finite number")
	}
	return value.Float(r), nil
}

// arrExtreme is MAX (max true) or MIN of a numeric array; an empty array
// is an error.
func arrExtreme(max bool) fnImpl {
	return func(_ *call, _ *evalCtx, in value.Value, _ []value.Value) (value.Value, error) {
		if in.Len() == 0 {
			return value.Value{}, fmt.Errorf("the array is empty")
		}
		if in.Kind() == value.IntArray {
			is := in.Ints()
			best := is[0]
			for _, e := range is[1:] {
				if (e > best) == max && e != best {
					best = e
				}
			}
			return value.Integer(best), nil
		}
		fs := in.Doubles()
		best := fs[0]
		for _, e := range fs[1:] {
			if (e > best) == max && e != best {
				best = e
			}
		}
		return value.Float(best), nil
	}
}

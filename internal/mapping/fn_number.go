package mapping

import (
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/integrationd/integrationd/internal/value"
)

type intOp func(a, b int64) (int64, error)

func intBinary(op intOp) fnImpl {
	return func(_ *call, _ *evalCtx, in value.Value, a []value.Value) (value.Value, error) {
		r, err := op(in.Int(), a[0].Int())
		if err != nil {
			return value.Value{}, err
		}
		return value.Integer(r), nil
	}
}

func intCmp(cmp func(a, b int64) bool) fnImpl {
	return func(_ *call, _ *evalCtx, in value.Value, a []value.Value) (value.Value, error) {
		return value.Boolean(cmp(in.Int(), a[0].Int())), nil
	}
}

func dblBinary(op func(a, b float64) (float64, error)) fnImpl {
	return func(_ *call, _ *evalCtx, in value.Value, a []value.Value) (value.Value, error) {
		r, err := op(in.Double(), a[0].Double())
		if err != nil {
			return value.Value{}, err
		}
		if math.IsNaN(r) || math.IsInf(r, 0) {
			return value.Value{}, fmt.Errorf("the result is not a finite number")
		}
		return value.Float(r), nil
	}
}

func dblCmp(cmp func(a, b float64) bool) fnImpl {
	return func(_ *call, _ *evalCtx, in value.Value, a []value.Value) (value.Value, error) {
		return value.Boolean(cmp(in.Double(), a[0].Double())), nil
	}
}

func dblToInt(round func(float64) float64) fnImpl {
	return func(_ *call, _ *evalCtx, in value.Value, _ []value.Value) (value.Value, error) {
		r := round(in.Double())
		if math.IsNaN(r) || r >= 1<<63 || r < -(1<<63) {
			return value.Value{}, fmt.Errorf("%s does not fit in an int", value.FormatDouble(in.Double()))
		}
		return value.Integer(int64(r)), nil
	}
}

func toJSON(_ *call, _ *evalCtx, in value.Value, _ []value.Value) (value.Value, error) {
	return value.FromJSON(in.ToJSON()), nil
}

var errDivZero = errors.New("division by zero")

func init() {
	newFamily("intFunction", "int", value.Int).add(
		fn("ADD", intBinary(func(a, b int64) (int64, error) { return a + b, nil }), pInt),
		fn("SUBTRACT", intBinary(func(a, b int64) (int64, error) { return a - b, nil }), pInt),
		fn("MULTIPLY", intBinary(func(a, b int64) (int64, error) { return a * b, nil }), pInt),
		fn("DIVIDE", intBinary(func(a, b int64) (int64, error) {
			if b == 0 {
				return 0, errDivZero
			}
			if b == -1 { // MinInt64 / -1 wraps, as in Java
				return -a, nil
			}
			return a / b, nil
		}), pInt),
		fn("MOD", intBinary(func(a, b int64) (int64, error) {
			if b == 0 {
				return 0, errDivZero
			}
			if b == -1 {
				return 0, nil
			}
			return a % b, nil
		}), pInt),
		fn("EXPONENT", intBinary(intPow), pInt),
		fn("GREATER_THAN", intCmp(func(a, b int64) bool { return a > b }), pInt),
		fn("GREATER_THAN_EQUAL_TO", intCmp(func(a, b int64) bool { return a >= b }), pInt),
		fn("LESS_THAN", intCmp(func(a, b int64) bool { return a < b }), pInt),
		fn("LESS_THAN_EQUAL_TO", intCmp(func(a, b int64) bool { return a <= b }), pInt),
		fn("EQUALS", intCmp(func(a, b int64) bool { return a == b }), pInt),
		fn("TO_DOUBLE", func(_ *call, _ *evalCtx, in value.Value, _ []value.Value) (value.Value, error) {
			return value.Float(float64(in.Int())), nil
		}),
		fn("TO_STRING", func(_ *call, _ *evalCtx, in value.Value, _ []value.Value) (value.Value, error) {
			return value.Str(strconv.FormatInt(in.Int(), 10)), nil
		}),
		fn("TO_JSON", toJSON),
		&fnSpec{name: "EPOCH_TO_HUMAN_READABLE_TIME", params: []pkind{pString, pString}, optional: 1,
			impl: epochToHuman, prep: epochPrep},
	)
	newFamily("doubleFunction", "double", value.Double).add(
		fn("ADD", dblBinary(func(a, b float64) (float64, error) { return a + b, nil }), pDouble),
		fn("SUBTRACT", dblBinary(func(a, b float64) (float64, error) { return a - b, nil }), pDouble),
		fn("MULTIPLY", dblBinary(func(a, b float64) (float64, error) { return a * b, nil }), pDouble),
		fn("DIVIDE", dblBinary(func(a, b float64) (float64, error) {
			if b == 0 {
				return 0, errDivZero
			}
			return a / b, nil
		}), pDouble),
		fn("MOD", dblBinary(func(a, b float64) (float64, error) {
			if b == 0 {
				return 0, errDivZero
			}
			return math.Mod(a, b), nil
		}), pDouble),
		fn("EXPONENT", dblBinary(func(a, b float64) (float64, error) { return math.Pow(a, b), nil }), pDouble),
		fn("ROUND", dblToInt(javaRound)),
		fn("FLOOR", dblToInt(math.Floor)),
		fn("CEIL", dblToInt(math.Ceil)),
		fn("GREATER_THAN", dblCmp(func(a, b float64) bool { return a > b }), pDouble),
		fn("GREATER_THAN_EQUALS", dblCmp(func(a, b float64) bool { return a >= b }), pDouble),
		fn("LESS_THAN", dblCmp(func(a, b float64) bool { return a < b }), pDouble),
		fn("LESS_THAN_EQUALS", dblCmp(func(a, b float64) bool { return a <= b }), pDouble),
		fn("EQUALS", dblCmp(func(a, b float64) bool { return a == b }), pDouble),
		fn("TO_STRING", func(_ *call, _ *evalCtx, in value.Value, _ []value.Value) (value.Value, error) {
			return value.Str(value.FormatDouble(in.Double())), nil
		}),
		fn("TO_JSON", toJSON),
	)
}

// intPow is EXPONENT on ints: exact for a non-negative exponent (an
// overflow is an error); for a negative one, Java's (long) Math.pow: 1 and
// -1 keep their magnitude, 0 is a division by zero, anything else is 0.
func intPow(a, b int64) (int64, error) {
	if b < 0 {
		switch a {
		case 0:
			return 0, errDivZero
		case 1:
			return 1, nil
		case -1:
			if b%2 == 0 {
				return 1, nil
			}
			return -1, nil
		}
		return 0, nil
	}
	overflow := func() error { return fmt.Errorf("%d to the power %d overflows int64", a, b) }
	r, base := int64(1), a
	for e := b; e > 0; e >>= 1 {
		var ok bool
		if e&1 == 1 {
			if r, ok = mulOverflow(r, base); !ok {
				return 0, overflow()
			}
		}
		if e > 1 {
			if base, ok = mulOverflow(base, base); !ok {
				return 0, overflow()
			}
		}
	}
	return r, nil
}

// mulOverflow returns a*b and whether it did not overflow; on overflow
// the product is 0.
func mulOverflow(a, b int64) (int64, bool) {
	if a == 0 || b == 0 {
		return 0, true
	}
	p := a * b
	if p/b != a || (a == -1 && b == math.MinInt64) || (b == -1 && a == math.MinInt64) {
		return 0, false
	}
	return p, true
}

// javaRound is Java's Math.round: the closest integer, ties toward
// positive infinity (2.5 → 3, -2.5 → -2).
func javaRound(x float64) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return x
	}
	f := math.Floor(x)
	if x-f >= 0.5 {
		return f + 1
	}
	return f
}

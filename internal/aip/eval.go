package aip

import (
	"cmp"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/integrationd/integrationd/internal/rpc"
)

// Eval evaluates e against one record. get returns the values of a field
// (several for a repeated field, none for an unset one) and ok = false for a
// field the record type does not have, which makes Eval fail with
// INVALID_ARGUMENT on "filter". A nil e is true.
//
// Two values compare as integers when both parse as integers, else as
// numbers when both parse as finite floats, else as times when both are
// RFC 3339 timestamps, else = and != compare "true"/"false" without regard
// to case, and otherwise values compare as strings, byte by byte.
//
// For a field with several values, =, <, <=, > and >= hold when some value
// satisfies them and != holds when no value equals (so "a != x" is always
// "NOT a = x"). ":" and HAS hold when some value contains the operand as a
// substring (which covers membership); the unquoted operand * tests that
// the field has a non-empty value.
//
// Both sides of AND and OR are always evaluated, so an unknown field is
// reported whatever the record holds; check Fields once beforehand to fail
// before the first record.
func Eval(e Expr, get func(field string) (vals []string, ok bool)) (bool, error) {
	switch e := e.(type) {
	case nil:
		return true, nil
	case Compare:
		vals, ok := get(e.Field)
		if !ok {
			return false, rpc.InvalidArgument("filter", "unknown field %q", e.Field)
		}
		return compare(e, vals)
	case And:
		l, lerr := Eval(e.L, get)
		r, rerr := Eval(e.R, get)
		return l && r, cmp.Or(lerr, rerr)
	case Or:
		l, lerr := Eval(e.L, get)
		r, rerr := Eval(e.R, get)
		return l || r, cmp.Or(lerr, rerr)
	case Not:
		x, err := Eval(e.X, get)
		return !x, err
	}
	return false, rpc.Errorf(rpc.CodeInternal, "aip.Eval: unexpected expression %T", e)
}

func compare(c Compare, vals []string) (bool, error) {
	var test func(v string) bool
	switch c.Op {
	case OpEQ:
		test = func(v string) bool { return equal(v, c.Value) }
	case OpNE:
		for _, v := range vals {
			if equal(v, c.Value) {
				return false, nil
			}
		}
		return true, nil
	case OpLT:
		test = func(v string) bool { return order(v, c.Value) < 0 }
	case OpLE:
		test = func(v string) bool { return order(v, c.Value) <= 0 }
	case OpGT:
		test = func(v string) bool { return order(v, c.Value) > 0 }
	case OpGE:
		test = func(v string) bool { return order(v, c.Value) >= 0 }
	case OpHas, OpHAS:
		if c.Value == "*" && !c.Quoted {
			test = func(v string) bool { return v != "" }
		} else {
			test = func(v string) bool { return strings.Contains(v, c.Value) }
		}
	default:
		return false, rpc.InvalidArgument("filter", "unknown operator %q", c.Op)
	}
	for _, v := range vals {
		if test(v) {
			return true, nil
		}
	}
	return false, nil
}

func equal(a, b string) bool {
	if r, ok := orderTyped(a, b); ok {
		return r == 0
	}
	if isBool(a) && isBool(b) {
		return strings.EqualFold(a, b)
	}
	return a == b
}

func order(a, b string) int {
	if r, ok := orderTyped(a, b); ok {
		return r
	}
	return strings.Compare(a, b)
}

// orderTyped compares a and b as integers, numbers or times when both
// parse as such. Cheap shape checks come first: a failed strconv or time
// parse allocates its error.
func orderTyped(a, b string) (int, bool) {
	if numeric(a) && numeric(b) {
		if x, err := strconv.ParseInt(a, 10, 64); err == nil {
			if y, err := strconv.ParseInt(b, 10, 64); err == nil {
				return cmp.Compare(x, y), true
			}
		}
		if x, ok := number(a); ok {
			if y, ok := number(b); ok {
				return cmp.Compare(x, y), true
			}
		}
	}
	if timestamp(a) && timestamp(b) {
		if x, err := time.Parse(time.RFC3339, a); err == nil {
			if y, err := time.Parse(time.RFC3339, b); err == nil {
				return x.Compare(y), true
			}
		}
	}
	return 0, false
}

// numeric reports whether s may be a number: it starts with a digit, a
// sign or a point.
func numeric(s string) bool {
	return s != "" && (s[0] >= '0' && s[0] <= '9' || s[0] == '-' || s[0] == '+' || s[0] == '.')
}

// timestamp reports whether s may be an RFC 3339 timestamp: "YYYY-MM-DDT...".
func timestamp(s string) bool {
	return len(s) >= len("2006-01-02T15:04:05Z") && s[4] == '-' && s[7] == '-' && (s[10] == 'T' || s[10] == 't')
}

func number(s string) (float64, bool) {
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil && !math.IsInf(f, 0) && !math.IsNaN(f)
}

func isBool(s string) bool {
	return strings.EqualFold(s, "true") || strings.EqualFold(s, "false")
}

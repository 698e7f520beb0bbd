package expr

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/integrationd/integrationd/internal/value"
)

// class is how a comparison sees a value: typed values and JSON values of
// the same shape belong to the same class.
type class uint8

const (
	cNull class = iota
	cString
	cNumber
	cBool
	cArray
	cObject
	cOther
)

func classOf(v value.Value) class {
	switch v.Kind() {
	case value.Null:
		return cNull
	case value.String:
		return cString
	case value.Int, value.Double:
		return cNumber
	case value.Bool:
		return cBool
	case value.StringArray, value.IntArray, value.DoubleArray, value.BoolArray:
		return cArray
	case value.JSON:
		switch x := v.JSON().(type) {
		case nil:
			return cNull
		case string:
			return cString
		case float64:
			return cNumber
		case bool:
			return cBool
		case []any:
			return cArray
		case *value.Object:
			if x == nil {
				return cNull
			}
			return cObject
		}
	}
	return cOther
}

// typeName names v's type in error messages: "int", "string array", "JSON
// number"...
func typeName(v value.Value) string {
	if v.Kind() != value.JSON {
		return v.Kind().String()
	}
	switch classOf(v) {
	case cNull:
		return "JSON null"
	case cString:
		return "JSON string"
	case cNumber:
		return "JSON number"
	case cBool:
		return "JSON boolean"
	case cArray:
		return "JSON array"
	case cObject:
		return "JSON object"
	}
	return "JSON"
}

func strOf(v value.Value) string {
	if v.Kind() == value.String {
		return v.Str()
	}
	s, _ := v.JSON().(string)
	return s
}

func boolOf(v value.Value) bool {
	if v.Kind() == value.Bool {
		return v.Bool()
	}
	b, _ := v.JSON().(bool)
	return b
}

// number is an int or a double; ints compare exactly with ints.
type number struct {
	i     int64
	f     float64
	isInt bool
}

// value is n as an Int or a Double.
func (n number) value() value.Value {
	if n.isInt {
		return value.Integer(n.i)
	}
	return value.Float(n.f)
}

func numOf(v value.Value) number {
	switch v.Kind() {
	case value.Int:
		return number{i: v.Int(), f: float64(v.Int()), isInt: true}
	case value.Double:
		return number{f: v.Double()}
	}
	f, _ := v.JSON().(float64)
	return number{f: f}
}

// parseNumber reads a numeric string: optional spaces, an optional sign,
// decimal digits with an optional fraction and exponent. Hex, NaN,
// Infinity and underscores are not numbers here.
func parseNumber(s string) (number, bool) {
	s = strings.TrimSpace(s)
	i := 0
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		i++
	}
	digits := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i, digits = i+1, digits+1
	}
	isInt := true
	if i < len(s) && s[i] == '.' {
		isInt = false
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i, digits = i+1, digits+1
		}
	}
	if digits == 0 {
		return number{}, false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		isInt = false
		i++
		if i < len(s) && (s[i] == '-' || s[i] == '+') {
			i++
		}
		d := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == d {
			return number{}, false
		}
	}
	if i != len(s) {
		return number{}, false
	}
	if isInt {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return number{i: n, f: float64(n), isInt: true}, true
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !math.IsInf(f, 0) { // out of range parses as ±Inf: still a number
		return number{}, false
	}
	return number{f: f}, true
}

// cmpNumbers compares a and b; ok is false when either is NaN.
func cmpNumbers(a, b number) (c int, ok bool) {
	if a.isInt && b.isInt {
		switch {
		case a.i < b.i:
			return -1, true
		case a.i > b.i:
			return 1, true
		}
		return 0, true
	}
	switch {
	case a.f < b.f:
		return -1, true
	case a.f > b.f:
		return 1, true
	case a.f == b.f:
		return 0, true
	}
	return 0, false
}

// numbers returns the two sides as numbers when one is a number and the
// other a number or a numeric string.
func numbers(a, b value.Value, ca, cb class) (x, y number, ok bool) {
	switch {
	case ca == cNumber && cb == cNumber:
		return numOf(a), numOf(b), true
	case ca == cNumber && cb == cString:
		y, ok = parseNumber(strOf(b))
		return numOf(a), y, ok
	case ca == cString && cb == cNumber:
		x, ok = parseNumber(strOf(a))
		return x, numOf(b), ok
	}
	return number{}, number{}, false
}

// equal implements = (and, negated, !=). See docs/conditions.md.
func equal(a, b value.Value) bool {
	ca, cb := classOf(a), classOf(b)
	if ca == cNull || cb == cNull {
		other, co := b, cb
		if ca != cNull {
			other, co = a, ca
		}
		switch co {
		case cNull:
			return true
		case cString:
			return strOf(other) == ""
		case cArray:
			return other.Len() == 0
		}
		return false
	}
	if x, y, ok := numbers(a, b, ca, cb); ok {
		c, ok := cmpNumbers(x, y)
		return ok && c == 0
	}
	switch {
	case ca == cString && cb == cString:
		return strOf(a) == strOf(b)
	case ca == cBool && cb == cBool:
		return boolOf(a) == boolOf(b)
	case ca == cBool && cb == cString:
		return strings.EqualFold(strOf(b), strconv.FormatBool(boolOf(a)))
	case ca == cString && cb == cBool:
		return strings.EqualFold(strOf(a), strconv.FormatBool(boolOf(b)))
	case ca == cArray && cb == cArray:
		n := a.Len()
		if n != b.Len() {
			return false
		}
		for i := range n {
			x, _ := a.Index(i)
			y, _ := b.Index(i)
			if !equal(x, y) {
				return false
			}
		}
		return true
	case ca == cObject && cb == cObject:
		x, y := a.JSON().(*value.Object), b.JSON().(*value.Object)
		if x.Len() != y.Len() {
			return false
		}
		for _, k := range x.Keys() {
			xv, _ := x.Get(k)
			yv, ok := y.Get(k)
			if !ok || !equal(value.FromJSON(xv), value.FromJSON(yv)) {
				return false
			}
		}
		return true
	}
	return false
}

// order implements < <= > >=: numbers (and numeric strings against
// numbers) numerically, strings lexicographically by bytes; anything else
// is an error. NaN compares false.
func order(op cmpOp, a, b value.Value) (bool, error) {
	ca, cb := classOf(a), classOf(b)
	var c int
	if x, y, ok := numbers(a, b, ca, cb); ok {
		var ordered bool
		if c, ordered = cmpNumbers(x, y); !ordered {
			return false, nil
		}
	} else if ca == cString && cb == cString {
		c = strings.Compare(strOf(a), strOf(b))
	} else {
		return false, fmt.Errorf("cannot compare %s with %s using %s", typeName(a), typeName(b), op)
	}
	switch op {
	case opLt:
		return c < 0, nil
	case opLe:
		return c <= 0, nil
	case opGt:
		return c > 0, nil
	}
	return c >= 0, nil
}

// contains implements ':'. See docs/conditions.md.
func contains(a, b value.Value) (bool, error) {
	ca, cb := classOf(a), classOf(b)
	switch ca {
	case cNull:
		return false, nil
	case cArray:
		for i := range a.Len() {
			e, _ := a.Index(i)
			if equal(e, b) {
				return true, nil
			}
		}
		return false, nil
	case cString, cObject:
		var s string
		switch cb {
		case cNull:
			return false, nil
		case cString:
			s = strOf(b)
		case cNumber, cBool:
			s = b.Text()
		default:
			return false, fmt.Errorf("cannot look for %s in %s using :", typeName(b), typeName(a))
		}
		if ca == cString {
			return strings.Contains(strOf(a), s), nil
		}
		_, ok := a.JSON().(*value.Object).Get(s)
		return ok, nil
	}
	return false, fmt.Errorf("cannot look for %s in %s using : (want a string, an array or a JSON object on the left)", typeName(b), typeName(a))
}

// exists reports whether v is a value: neither null nor the empty string.
func exists(v value.Value) bool {
	switch classOf(v) {
	case cNull:
		return false
	case cString:
		return strOf(v) != ""
	}
	return true
}

// truth is the boolean reading of a value used by AND, OR, NOT and a
// whole condition: true for boolean true and for the string "true" (any
// case); false for everything else.
func truth(v value.Value) bool {
	switch v.Kind() {
	case value.Bool:
		return v.Bool()
	case value.String:
		return strings.EqualFold(v.Str(), "true")
	case value.JSON:
		switch x := v.JSON().(type) {
		case bool:
			return x
		case string:
			return strings.EqualFold(x, "true")
		}
	}
	return false
}

package value

import (
	"strconv"
)

// AppendString appends s as a JSON string.
func AppendString(b []byte, s string) []byte { return appendString(b, s) }

// AppendValueType appends v as a proto3 JSON ValueType object
// ({"stringValue": "x"}, {"intValue": "12"}, {"jsonValue": "<text>"}...);
// Null is {}. It is ToSpec followed by encoding, without the allocations.
func AppendValueType(b []byte, v Value) []byte {
	if v.k.IsArray() && v.Len() == 0 {
		return append(b, emptyArrays[v.k]...)
	}
	switch v.k {
	case String:
		b = append(b, `{"stringValue":`...)
		b = appendString(b, v.s)
	case Int:
		b = append(b, `{"intValue":"`...)
		b = strconv.AppendInt(b, v.i, 10)
		b = append(b, '"')
	case Double:
		b = append(b, `{"doubleValue":`...)
		b = appendDouble(b, v.f)
	case Bool:
		b = append(b, `{"booleanValue":`...)
		b = strconv.AppendBool(b, v.b)
	case JSON:
		b = append(b, `{"jsonValue":`...)
		b = appendString(b, string(AppendJSON(nil, v.j)))
	case StringArray:
		b = append(b, `{"stringArray":{"stringValues":[`...)
		for i, s := range v.ss {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, s)
		}
		b = append(b, "]}"...)
	case IntArray:
		b = append(b, `{"intArray":{"intValues":[`...)
		for i, n := range v.is {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '"')
			b = strconv.AppendInt(b, n, 10)
			b = append(b, '"')
		}
		b = append(b, "]}"...)
	case DoubleArray:
		b = append(b, `{"doubleArray":{"doubleValues":[`...)
		for i, f := range v.fs {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendDouble(b, f)
		}
		b = append(b, "]}"...)
	case BoolArray:
		b = append(b, `{"booleanArray":{"booleanValues":[`...)
		for i, x := range v.bs {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendBool(b, x)
		}
		b = append(b, "]}"...)
	default:
		return append(b, "{}"...)
	}
	return append(b, '}')
}

// emptyArrays are the encodings of empty arrays: proto3 JSON omits the
// empty repeated field.
var emptyArrays = [...]string{StringArray: `{"stringArray":{}}`, IntArray: `{"intArray":{}}`, DoubleArray: `{"doubleArray":{}}`, BoolArray: `{"booleanArray":{}}`}

// appendDouble writes a proto3 JSON double: NaN and infinities as strings.
func appendDouble(b []byte, f float64) []byte {
	switch {
	case f != f:
		return append(b, `"NaN"`...)
	case f > 1.7976931348623157e308:
		return append(b, `"Infinity"`...)
	case f < -1.7976931348623157e308:
		return append(b, `"-Infinity"`...)
	}
	return AppendNumber(b, f)
}

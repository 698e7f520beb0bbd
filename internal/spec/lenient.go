package spec

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Int64 is an int64 that decodes from a JSON number or a JSON string (proto3
// JSON writes int64 as a string; exports also carry plain numbers) and
// encodes as a string, as proto3 JSON does.
type Int64 int64

// UnmarshalJSON accepts 12, "12", 12.0 and "" (zero).
func (n *Int64) UnmarshalJSON(b []byte) error {
	v, err := parseLenientInt(b)
	if err != nil {
		return err
	}
	*n = Int64(v)
	return nil
}

// MarshalJSON writes the decimal string form.
func (n Int64) MarshalJSON() ([]byte, error) {
	return []byte(`"` + strconv.FormatInt(int64(n), 10) + `"`), nil
}

// Int32 is an int32 field (maxRetries, errorCatcherNumber...) that decodes
// leniently like Int64 but encodes as a JSON number, as proto3 JSON does.
type Int32 int32

// UnmarshalJSON accepts numbers and numeric strings.
func (n *Int32) UnmarshalJSON(b []byte) error {
	v, err := parseLenientInt(b)
	if err != nil {
		return err
	}
	if v > math.MaxInt32 || v < math.MinInt32 {
		return fmt.Errorf("value %d out of int32 range", v)
	}
	*n = Int32(v)
	return nil
}

func parseLenientInt(b []byte) (int64, error) {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		return 0, nil
	}
	s := string(b)
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return 0, err
		}
		s = strings.TrimSpace(s)
		if s == "" {
			return 0, nil
		}
	}
	if v, err := strconv.ParseInt(s, 10, 64); err == nil {
		return v, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<63 {
		return 0, fmt.Errorf("%s is not an integer", b)
	}
	return int64(f), nil
}

// Double is a float64 that also decodes from a numeric string and the proto3
// JSON spellings "NaN", "Infinity" and "-Infinity".
type Double float64

// UnmarshalJSON accepts numbers and numeric strings.
func (d *Double) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		*d = 0
		return nil
	}
	s := string(b)
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
	}
	switch s {
	case "NaN":
		*d = Double(math.NaN())
		return nil
	case "Infinity":
		*d = Double(math.Inf(1))
		return nil
	case "-Infinity":
		*d = Double(math.Inf(-1))
		return nil
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil {
		return fmt.Errorf("%s is not a number", b)
	}
	*d = Double(f)
	return nil
}

// Bool decodes from true/false and from the strings "true"/"false".
type Bool bool

// UnmarshalJSON accepts booleans and boolean strings.
func (v *Bool) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	s := string(b)
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
	}
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true":
		*v = true
	case "false", "", "null":
		*v = false
	default:
		return fmt.Errorf("%s is not a boolean", b)
	}
	return nil
}

// String decodes from a JSON string, number or boolean (some exports carry
// triggerNumber as a number) and encodes as a string.
type String string

// UnmarshalJSON accepts strings and scalars.
func (s *String) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = String(v)
		return nil
	}
	if bytes.Equal(b, []byte("null")) {
		*s = ""
		return nil
	}
	if len(b) > 0 && (b[0] == '{' || b[0] == '[') {
		return fmt.Errorf("%.20s... is not a string", b)
	}
	*s = String(b)
	return nil
}

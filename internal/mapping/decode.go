package mapping

import (
	"fmt"
	"strings"

	"github.com/integrationd/integrationd/internal/spec"
	"github.com/integrationd/integrationd/internal/value"
)

// The config is parsed with value.ParseLenientJSON (exports carry
// single-quoted JSON) and read from the resulting tree. Every key is looked
// up in its lowerCamelCase and its snake_case spelling, as proto3 JSON
// parsers accept both.

// field returns o[name] under the camelCase name or its snake_case form.
func field(o *value.Object, name string) (any, bool) {
	if o == nil {
		return nil, false
	}
	if v, ok := o.Get(name); ok {
		return v, true
	}
	return o.Get(snake(name))
}

func snake(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			b.WriteByte('_')
			c += 'a' - 'A'
		}
		b.WriteByte(c)
	}
	return b.String()
}

// camel turns snake_case into lowerCamelCase ("json_function" → "jsonFunction").
func camel(s string) string {
	if !strings.Contains(s, "_") {
		return s
	}
	var b strings.Builder
	up := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '_' {
			up = b.Len() > 0
			continue
		}
		if up && c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		up = false
		b.WriteByte(c)
	}
	return b.String()
}

func objField(o *value.Object, name string) (*value.Object, bool, error) {
	v, ok := field(o, name)
	if !ok || v == nil {
		return nil, false, nil
	}
	obj, isObj := v.(*value.Object)
	if !isObj {
		return nil, true, fmt.Errorf("%s must be an object, not %s", name, value.DescribeJSON(v))
	}
	return obj, true, nil
}

func strField(o *value.Object, name string) (string, bool, error) {
	v, ok := field(o, name)
	if !ok || v == nil {
		return "", false, nil
	}
	s, isStr := v.(string)
	if !isStr {
		return "", true, fmt.Errorf("%s must be a string, not %s", name, value.DescribeJSON(v))
	}
	return s, true, nil
}

func arrField(o *value.Object, name string) ([]any, error) {
	v, ok := field(o, name)
	if !ok || v == nil {
		return nil, nil
	}
	a, isArr := v.([]any)
	if !isArr {
		return nil, fmt.Errorf("%s must be an array, not %s", name, value.DescribeJSON(v))
	}
	return a, nil
}

// decodeValueType decodes a ValueType (literalValue, defaultValue) other
// than protoValue: jsonValue text (or an inline JSON value) is parsed
// leniently; the other members go through spec's proto3 decoding and
// value.FromSpec.
func decodeValueType(o *value.Object) (value.Value, error) {
	if jv, ok := field(o, "jsonValue"); ok {
		if s, isStr := jv.(string); isStr {
			j, err := value.ParseLenientJSON(s)
			if err != nil {
				return value.Value{}, fmt.Errorf("jsonValue: %w", err)
			}
			return value.FromJSON(j), nil
		}
		return value.FromJSON(jv), nil
	}
	var vt spec.ValueType
	if err := spec.Unmarshal([]byte(value.EncodeJSON(o)), &vt); err != nil {
		return value.Value{}, err
	}
	return value.FromSpec(&vt)
}

// isLambdaType reports whether a protoValue's @type names a TransformExpression.
func isLambdaType(o *value.Object) bool {
	t, _ := o.Get("@type")
	s, _ := t.(string)
	if strings.HasSuffix(s, ".TransformExpression") || strings.HasSuffix(s, "/TransformExpression") {
		return true
	}
	if s == "" {
		_, iv := field(o, "initialValue")
		_, tf := field(o, "transformationFunctions")
		return iv || tf
	}
	return false
}

// protoLiteral decodes a protoValue that is not a lambda: google.protobuf
// Struct/Value/ListValue literals become JSON; other messages are not
// supported.
func protoLiteral(o *value.Object) (value.Value, error) {
	t, _ := o.Get("@type")
	s, _ := t.(string)
	switch {
	case strings.HasSuffix(s, "google.protobuf.Struct"):
		c := o.Clone()
		c.Delete("@type")
		return value.FromJSON(c), nil
	case strings.HasSuffix(s, "google.protobuf.Value"), strings.HasSuffix(s, "google.protobuf.ListValue"):
		v, _ := o.Get("value")
		return value.FromJSON(v), nil
	}
	if s == "" {
		s = "(no @type)"
	}
	return value.Value{}, fmt.Errorf("protoValue of type %s is not supported", s)
}

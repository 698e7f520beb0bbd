package mapping

import (
	"errors"
	"strings"
	"testing"

	"github.com/integrationd/integrationd/internal/value"
)

func TestCompileErrors(t *testing.T) {
	t.Parallel()
	deep := s("x")
	for range maxDepth + 2 {
		deep = s("a").fn("string", "CONCAT", deep)
	}
	tests := []struct {
		name string
		cfg  string
		want []string // every line must appear, in order
	}{
		{"unknown function", config(mapped(s("a").fn("string", "FOO"), "$o$")),
			[]string{"mapping row 1: string FOO: unknown function FOO"}},
		{"wrong family", config(mapped(ref("$j$").fn("json", "CONCAT", s("x")), "$o$")),
			[]string{"mapping row 1: json CONCAT: CONCAT is not a json function (it exists for string)"}},
		{"wrong family lists all", config(mapped(ref("$j$").fn("boolean", "SUM"), "$o$")),
			[]string{"mapping row 1: boolean SUM: SUM is not a boolean function (it exists for doubleArray, intArray)"}},
		{"too few parameters", config(mapped(ref("$a$").fn("stringArray", "GET"), "$o$")),
			[]string{"mapping row 1: stringArray GET: takes 1 parameter, got 0"}},
		{"too many parameters", config(mapped(s("a").fn("string", "TO_UPPERCASE", s("x")), "$o$")),
			[]string{"mapping row 1: string TO_UPPERCASE: takes 0 parameters, got 1"}},
		{"optional parameters", config(mapped(n(1).fn("int", "EPOCH_TO_HUMAN_READABLE_TIME"), "$o$")),
			[]string{"mapping row 1: int EPOCH_TO_HUMAN_READABLE_TIME: takes 1 to 2 parameters, got 0"}},
		{"varargs need one", config(mapped(ref("$a$").fn("stringArray", "APPEND_ALL"), "$o$")),
			[]string{"mapping row 1: stringArray APPEND_ALL: takes at least 1 parameter, got 0"}},
		{"bad reference", config(mapped(ref("$$"), "$o$")),
			[]string{`mapping row 1: bad reference "$$"`}},
		{"bad reference path", config(mapped(ref("$a.b[x]$"), "$o$")),
			[]string{`mapping row 1: bad reference "$a.b[x]$"`}},
		{"unknown family", config(mapped(te{"initialValue": map[string]any{"referenceValue": "$a$"},
			"transformationFunctions": []any{map[string]any{"functionType": map[string]any{"fooFunction": map[string]any{"functionName": "X"}}}}}, "$o$")),
			[]string{`mapping row 1: unknown function family "fooFunction"`}},
		{"proto family", config(mapped(ref("$p$").fn("proto", "TO_JSON"), "$o$")),
			[]string{"mapping row 1: proto TO_JSON: proto functions are not supported by integrationd"}},
		{"unsupported json function", config(mapped(ref("$p$").fn("json", "TO_PROTO_ARRAY"), "$o$")),
			[]string{"mapping row 1: json TO_PROTO_ARRAY: TO_PROTO_ARRAY is not supported"}},
		{"element outside a lambda", config(mapped(ref("~x"), "$o$")),
			[]string{"mapping row 1: ~x refers to a lambda element outside a lambda"}},
		{"element in a parameter outside a lambda", config(mapped(s("a").fn("string", "CONCAT", ref("~x")), "$o$")),
			[]string{"mapping row 1: ~x refers to a lambda element outside a lambda"}},
		{"FOR_EACH needs a lambda", config(mapped(ref("$a$").fn("json", "FOR_EACH", s("x")), "$o$")),
			[]string{"mapping row 1: json FOR_EACH: the parameter must be a lambda"}},
		{"lambda where a value is expected", config(mapped(s("a").fn("string", "CONCAT", lambda(ref("~x"))), "$o$")),
			[]string{"mapping row 1: a lambda (protoValue TransformExpression) is only allowed as the parameter of FOR_EACH, FILTER or FILTER_ELEMENTS"}},
		{"lambda as the input", config(mapped(lambda(ref("~x")), "$o$")),
			[]string{"mapping row 1: a lambda"}},
		{"base function in the chain", config(mapped(s("a").fn("base", "NOW_IN_MILLIS"), "$o$")),
			[]string{"mapping row 1: base NOW_IN_MILLIS: a base function takes no input"}},
		{"unknown base function", config(mapped(base("TODAY"), "$o$")),
			[]string{"mapping row 1: base TODAY: unknown function TODAY"}},
		{"base parameters", config(mapped(base("INT_LIST", n(1)), "$o$")),
			[]string{"mapping row 1: base INT_LIST: takes 2 parameters, got 1"}},
		{"constant parameter of the wrong type", config(mapped(ref("$a$").fn("stringArray", "GET", s("one")), "$o$")),
			[]string{`mapping row 1: stringArray GET: parameter 1: cannot convert string "one" to int: not an integer`}},
		{"bad constant regexp", config(mapped(s("a").fn("string", "REPLACE_ALL", s("("), s("x")), "$o$")),
			[]string{"mapping row 1: string REPLACE_ALL: pattern \"(\": error parsing regexp"}},
		{"bad constant pattern", config(mapped(n(0).fn("int", "EPOCH_TO_HUMAN_READABLE_TIME", s("dddd"), s("UTC")), "$o$")),
			[]string{`mapping row 1: int EPOCH_TO_HUMAN_READABLE_TIME: pattern "dddd": wrong number of pattern letters: dddd`}},
		{"bad constant zone", config(mapped(n(0).fn("int", "EPOCH_TO_HUMAN_READABLE_TIME", s("d"), s("Mars/Olympus")), "$o$")),
			[]string{`mapping row 1: int EPOCH_TO_HUMAN_READABLE_TIME: unknown time zone "Mars/Olympus"`}},
		{"bad constant path", config(mapped(ref("$a$").fn("json", "GET_PROPERTY", s("a..b")), "$o$")),
			[]string{`mapping row 1: json GET_PROPERTY: empty segment in path "a..b"`}},
		{"empty literal parameter", config(mapped(s("a").fn("string", "CONCAT", te{"initialValue": map[string]any{"literalValue": map[string]any{}}}), "$o$")),
			[]string{"mapping row 1: string CONCAT: parameter 1 is an empty literal"}},
		{"missing output", config(mrow{"inputField": map[string]any{"transformExpression": s("a")}}),
			[]string{"mapping row 1: outputField is missing"}},
		{"lambda element as output", config(mapped(s("a"), "~x")),
			[]string{`mapping row 1: outputField.referenceKey "~x": a lambda element cannot be written`}},
		{"no initial value", config(mapped(te{}, "$o$")),
			[]string{"mapping row 1: transformExpression has no initialValue"}},
		{"bad cardinality", config(mrow{"inputField": map[string]any{"transformExpression": s("a")},
			"outputField": map[string]any{"referenceKey": "$o$", "cardinality": "MANY"}}),
			[]string{`mapping row 1: outputField.cardinality: unknown value "MANY"`}},
		{"bad field type", config(mrow{"inputField": map[string]any{"transformExpression": s("a"), "fieldType": "TEXT"},
			"outputField": map[string]any{"referenceKey": "$o$"}}),
			[]string{`mapping row 1: inputField.fieldType: unknown data type "TEXT"`}},
		{"too deep", config(mapped(deep, "$o$")),
			[]string{"mapping row 1: expression nested deeper than 64 levels"}},
		{"not JSON", `{"mappedFields": [`, []string{"mapping: parse FieldMappingConfig: invalid JSON"}},
		{"not an object", `[1]`, []string{"mapping: FieldMappingConfig must be a JSON object, not an array"}},
		{"mappedFields not an array", `{"mappedFields": {}}`, []string{"mapping: mappedFields must be an array, not an object"}},
		{"every row reported", config(
			mapped(s("a").fn("string", "NOPE"), "$o$"),
			mapped(s("fine"), "$o$"),
			mapped(ref("$a$").fn("stringArray", "GET"), "$o$"),
			mapped(ref("$a$").fn("json", "SPLIT", s(",")).fn("json", "CONTAINS", s("x")), "$o$"),
		), []string{
			"mapping row 1: string NOPE: unknown function NOPE",
			"mapping row 3: stringArray GET: takes 1 parameter, got 0",
			"mapping row 4: json SPLIT: SPLIT is not a json function (it exists for string)",
			"mapping row 4: json CONTAINS: CONTAINS is not a json function (it exists for booleanArray, doubleArray, intArray, string, stringArray)",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := Compile(tc.cfg)
			if err == nil {
				t.Fatalf("Compile() = %v, want an error", p)
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tc.want) {
				t.Fatalf("Compile() error =\n%v\nwant %d lines", err, len(tc.want))
			}
			for i, w := range tc.want {
				if !strings.HasPrefix(lines[i], w) {
					t.Errorf("error line %d = %q, want prefix %q", i+1, lines[i], w)
				}
			}
			var me *Error
			if !errors.As(err, &me) {
				t.Errorf("error %#v holds no *Error", err)
			}
		})
	}
}

// TestCompileSpellings checks the key spellings proto3 JSON parsers accept:
// snake_case and lowerCamelCase, single-quoted lenient JSON, a jsonValue
// quoted once more, and the google.protobuf literal protoValues.
func TestCompileSpellings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  string
		want value.Value
	}{
		{"snake_case", `{"mapped_fields": [{
			"input_field": {"field_type": "JSON_VALUE", "transform_expression": {
				"initial_value": {"reference_value": "$in$"},
				"transformation_functions": [
					{"function_type": {"json_function": {"function_name": "FILTER_ELEMENTS"}},
					 "parameters": [{"initial_value": {"literal_value": {"proto_value": {
						"@type": "type.googleapis.com/enterprise.crm.eventbus.proto.TransformExpression",
						"initial_value": {"reference_value": "~x"},
						"transformation_functions": [
							{"function_type": {"json_function": {"function_name": "TO_INT"}}},
							{"function_type": {"int_function": {"function_name": "GREATER_THAN"}},
							 "parameters": [{"initial_value": {"literal_value": {"int_value": "1"}}}]}]}}}}]}]}},
			"output_field": {"reference_key": "$out$", "field_type": "JSON_VALUE", "cardinality": "OPTIONAL"}}]}`,
			J(`[2,3]`)},
		{"single quotes", `{'@type': 'type.googleapis.com/enterprise.crm.eventbus.proto.FieldMappingConfig',
			'mappedFields': [{'inputField': {'fieldType': 'STRING_VALUE', 'transformExpression': {
				'initialValue': {'literalValue': {'stringValue': 'Filepath LIKE \u0027/pub/%\u0027'}}}},
			'outputField': {'referenceKey': '$out$', 'fieldType': 'STRING_VALUE', 'cardinality': 'OPTIONAL'}}]}`,
			value.Str("Filepath LIKE '/pub/%'")},
		{"quoted once more", `"{\"mappedFields\":[{\"inputField\":{\"transformExpression\":{\"initialValue\":{\"literalValue\":{\"intValue\":\"7\"}}}},\"outputField\":{\"referenceKey\":\"$out$\"}}]}"`,
			value.Integer(7)},
		{"jsonValue literal", config(mapped(lit(jsonText(`{'a': [1, 2,]}`)), "$out$")), J(`{"a":[1,2]}`)},
		{"struct protoValue", config(mapped(te{"initialValue": map[string]any{"literalValue": map[string]any{"protoValue": map[string]any{
			"@type": "type.googleapis.com/google.protobuf.Struct", "a": 1}}}}, "$out$")), J(`{"a":1}`)},
		{"numeric strings", config(mapped(te{"initialValue": map[string]any{"literalValue": map[string]any{"doubleValue": "2.5"}}}, "$out$")),
			value.Float(2.5)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := Compile(tc.cfg)
			if err != nil {
				t.Fatalf("Compile: %v", err)
			}
			env := newEnv(t, nil, map[string]value.Value{"in": J(`[1,2,3]`)})
			if err := p.Run(t.Context(), env); err != nil {
				t.Fatalf("Run: %v", err)
			}
			if got, _ := env.Lookup("out"); !sameValue(got, tc.want) {
				t.Fatalf("out = %s, want %s", show(got), show(tc.want))
			}
		})
	}
}

func TestEmptyConfig(t *testing.T) {
	t.Parallel()
	for _, cfg := range []string{`{}`, `{"mappedFields": []}`, `{"@type": "x", "mappedFields": null}`} {
		p, err := Compile(cfg)
		if err != nil || p.Len() != 0 {
			t.Fatalf("Compile(%s) = %v, %v; want an empty program", cfg, p, err)
		}
		if err := p.Run(t.Context(), newEnv(t, nil, nil)); err != nil {
			t.Fatalf("Run() = %v", err)
		}
	}
}

func TestProgramString(t *testing.T) {
	t.Parallel()
	p, err := Compile(config(
		mapped(ref("$orders_request$").fn("json", "GET_PROPERTY", s("line_items")).
			fn("json", "FOR_EACH", lambda(ref("~x").fn("json", "GET_PROPERTY", s("quantity")).fn("json", "TO_DOUBLE"))).
			fn("json", "TO_DOUBLE_ARRAY").fn("doubleArray", "SUM"), "$total$").optional(),
		mapped(s("readme-").fn("string", "CONCAT", base("GET_EXECUTION_ID")), "$`Task_2_x`.ObjectName$"),
	))
	if err != nil {
		t.Fatal(err)
	}
	want := `row 1: $orders_request$.json:GET_PROPERTY("line_items").json:FOR_EACH({~x.json:GET_PROPERTY("quantity").json:TO_DOUBLE()}).json:TO_DOUBLE_ARRAY().doubleArray:SUM() => $total$ (optional)
row 2: "readme-".string:CONCAT(GET_EXECUTION_ID()) => $` + "`Task_2_x`" + `.ObjectName$
`
	if got := p.String(); got != want {
		t.Fatalf("String() =\n%s\nwant\n%s", got, want)
	}
}

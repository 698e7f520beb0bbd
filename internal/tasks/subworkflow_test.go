package tasks

import (
	"fmt"
	"strings"
	"testing"

	"github.com/integrationd/integrationd/internal/spec"
	"github.com/integrationd/integrationd/internal/value"
)

func parsed(text string) value.Value {
	j, err := value.ParseJSON(text)
	if err != nil {
		panic(err)
	}
	return value.FromJSON(j)
}

func TestElements(t *testing.T) {
	vars := value.MapGetter{
		"strs":  value.Strings([]string{"a", "b"}),
		"ints":  value.Ints([]int64{1, 2, 3}),
		"docs":  parsed(`["x", 2, {"k": true}]`),
		"obj":   parsed(`{"items": [1, 2]}`),
		"str":   value.Str("plain"),
		"empty": value.Value{},
	}
	for _, tc := range []struct {
		list, want, err string
	}{
		{"$strs$", "a(STRING_VALUE) b(STRING_VALUE)", ""},
		{"$ints$", "1(INT_VALUE) 2(INT_VALUE) 3(INT_VALUE)", ""},
		{"$docs$", "x(STRING_VALUE) 2(INT_VALUE) {\"k\":true}(JSON_VALUE)", ""},
		{"$obj.items$", "1(INT_VALUE) 2(INT_VALUE)", ""},
		{`["l", 1.5]`, "l(STRING_VALUE) 1.5(DOUBLE_VALUE)", ""},
		{"$empty$", "", ""},
		{"$obj$", "", "not an array"},
		{"$str$", "", "neither an array variable nor a JSON array"},
		{"$ints$ and more", "", "neither an array variable nor a JSON array"},
	} {
		t.Run(tc.list, func(t *testing.T) {
			es, err := elements(value.CompileTemplate(tc.list), vars)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range es {
				got = append(got, fmt.Sprintf("%s(%s)", e.Text(), e.Kind().DataType()))
			}
			if g := strings.Join(got, " "); g != tc.want {
				t.Errorf("got %s, want %s", g, tc.want)
			}
		})
	}
}

func TestAggregator(t *testing.T) {
	for _, tc := range []struct {
		name     string
		declared value.Kind
		children []map[string]value.Value
		want     string
		err      string
	}{
		{"strings", value.StringArray, []map[string]value.Value{{"o": value.Str("a")}, {"o": value.Str("b")}}, `["a","b"]`, ""},
		{"ints converted", value.IntArray, []map[string]value.Value{{"o": value.Str("1")}, {"o": value.Integer(2)}}, `[1,2]`, ""},
		{"arrays concatenated", value.StringArray, []map[string]value.Value{{"o": value.Strings([]string{"a", "b"})}, {"o": value.Str("c")}}, `["a","b","c"]`, ""},
		{"missing skipped in typed arrays", value.StringArray, []map[string]value.Value{{}, {"o": value.Str("c")}}, `["c"]`, ""},
		{"JSON keeps positions", value.JSON, []map[string]value.Value{{"o": value.Integer(1)}, {}, {"o": parsed(`{"k":"v"}`)}}, `[1,null,{"k":"v"}]`, ""},
		{"undeclared is JSON", value.Null, []map[string]value.Value{{"o": value.Str("x")}}, `["x"]`, ""},
		{"no iteration", value.IntArray, nil, `[]`, ""},
		{"bad conversion", value.IntArray, []map[string]value.Value{{"o": value.Str("x")}}, "", "element 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			decl := map[string]value.Kind{"o": value.String}
			if tc.declared != value.Null {
				decl["target"] = tc.declared
			}
			vs := value.NewVars(decl)
			aggs, err := newAggregators(vs, []varMapping{{from: value.Ref{Name: "o"}, to: value.Ref{Name: "target"}}})
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range tc.children {
				aggs[0].add(c)
			}
			err = storeAll(vs, aggs)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, _ := vs.Lookup("target")
			if j := string(value.AppendJSON(nil, got.ToJSON())); j != tc.want {
				t.Errorf("target = %s, want %s", j, tc.want)
			}
		})
	}
	// A scalar target cannot collect.
	vs := value.NewVars(map[string]value.Kind{"target": value.String})
	if _, err := newAggregators(vs, []varMapping{{from: value.Ref{Name: "o"}, to: value.Ref{Name: "target"}}}); err == nil || !strings.Contains(err.Error(), "STRING_VALUE") {
		t.Errorf("scalar target: err = %v", err)
	}
}

func TestNameMappingForms(t *testing.T) {
	pm := func(text string) *spec.TaskConfig {
		return &spec.TaskConfig{Parameters: map[string]spec.EventParameter{"m": {Key: "m", Value: &spec.ValueType{JSONValue: &text}}}}
	}
	ms, err := nameMapping(pm(`{"entries":[{"key":{"literalValue":{"stringValue":"$order.id$"}},"value":{"literalValue":{"stringValue":"orderId"}}},`+
		`{"key":{"literalValue":{"stringValue":"`+"`Task_1_x`"+`"}},"value":{"referenceKey":"$y$"}}]}`), "m")
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 || ms[0].from.Name != "order" || ms[0].from.Path.String() != "id" || ms[0].to.Name != "orderId" || ms[1].from.Name != "`Task_1_x`" || ms[1].to.Name != "y" {
		t.Errorf("mappings = %+v", ms)
	}
	// Gson-lenient text, as some console exports hold.
	if ms, err := nameMapping(pm(`{'entries':[{'key':{'literalValue':{'stringValue':'a'}},'value':{'literalValue':{'stringValue':'b'}}}]}`), "m"); err != nil || len(ms) != 1 || ms[0].to.Name != "b" {
		t.Errorf("lenient: %v %+v", err, ms)
	}
	for _, bad := range []string{`{"entries":[{"key":{"literalValue":{"stringValue":""}},"value":{"literalValue":{"stringValue":"b"}}}]}`, `[1]`} {
		if _, err := nameMapping(pm(bad), "m"); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

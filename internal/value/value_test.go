package value_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/integrationd/integrationd/internal/value"
)

func TestParseJSON(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, in, want string
		lenient, bad   bool
	}{
		{name: "object keeps key order", in: `{"b":1,"a":[true,null,"x"],"c":{"z":1.5,"y":-2e3}}`, want: `{"b":1,"a":[true,null,"x"],"c":{"z":1.5,"y":-2000}}`},
		{name: "whole doubles print as integers", in: `[1.0, 2.50, 1e21, 0.000001]`, want: `[1,2.5,1e+21,0.000001]`},
		{name: "escapes and unicode", in: `"a\"b\\c\n\u00e9\ud83d\ude00"`, want: `"a\"b\\c\né😀"`},
		{name: "strict rejects single quotes", in: `{'a': 1}`, bad: true},
		{name: "strict rejects trailing comma", in: `[1,2,]`, bad: true},
		{name: "strict rejects leading zero", in: `01`, bad: true},
		{name: "strict rejects garbage after value", in: `{} x`, bad: true},
		{name: "lenient single quotes", in: `{ '@type': 'type.googleapis.com/x', 'mappedFields': [] }`, lenient: true, want: `{"@type":"type.googleapis.com/x","mappedFields":[]}`},
		{name: "lenient unquoted keys and words", in: `{product: cake, id: 21, price: 5}`, lenient: true, want: `{"product":"cake","id":21,"price":5}`},
		{name: "lenient comments and trailing commas", in: "{\"a\": 1, // one\n /* two */ \"b\": [2,],}", lenient: true, want: `{"a":1,"b":[2]}`},
		{name: "lenient null text", in: `null`, lenient: true, want: `null`},
		{name: "unterminated string", in: `"abc`, lenient: true, bad: true},
		{name: "unterminated object", in: `{"a":1`, lenient: true, bad: true},
		{name: "empty input", in: ``, bad: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			parse := value.ParseJSON
			if c.lenient {
				parse = value.ParseLenientJSON
			}
			j, err := parse(c.in)
			if c.bad {
				if err == nil {
					t.Fatalf("parse(%q) = %v, want an error", c.in, value.EncodeJSON(j))
				}
				return
			}
			if err != nil {
				t.Fatalf("parse(%q): %v", c.in, err)
			}
			if got := value.EncodeJSON(j); got != c.want {
				t.Errorf("parse(%q) = %s, want %s", c.in, got, c.want)
			}
		})
	}
}

func TestPrettyJSON(t *testing.T) {
	t.Parallel()
	j, _ := value.ParseJSON(`{"dbIntegers":[1.0,2.0],"dbString":"test","e":{},"f":[]}`)
	want := "{\n  \"dbIntegers\": [\n    1,\n    2\n  ],\n  \"dbString\": \"test\",\n  \"e\": {},\n  \"f\": []\n}"
	if got := string(value.AppendJSONIndent(nil, j)); got != want {
		t.Errorf("pretty = %q, want %q", got, want)
	}
}

func TestConvert(t *testing.T) {
	t.Parallel()
	js := func(s string) value.Value {
		j, err := value.ParseJSON(s)
		if err != nil {
			t.Fatal(err)
		}
		return value.FromJSON(j)
	}
	cases := []struct {
		name string
		in   value.Value
		to   value.Kind
		want string // Text() of the result
		bad  bool
	}{
		{"string to int", value.Str(" 42 "), value.Int, "42", false},
		{"decimal string to int fails", value.Str("2.5"), value.Int, "", true},
		{"string to double", value.Str("2.5"), value.Double, "2.5", false},
		{"string to bool", value.Str("TRUE"), value.Bool, "true", false},
		{"bad bool", value.Str("yes"), value.Bool, "", true},
		{"int to double", value.Integer(3), value.Double, "3.0", false},
		{"whole double to int", value.Float(4), value.Int, "4", false},
		{"fractional double to int fails", value.Float(4.5), value.Int, "", true},
		{"double to string is Java-like", value.Float(1e10), value.String, "1.0E10", false},
		{"JSON number to int", js(`7.0`), value.Int, "7", false},
		{"JSON string to string", js(`"hi"`), value.String, "hi", false},
		{"JSON object to string", js(`{"a":1}`), value.String, `{"a":1}`, false},
		{"JSON array to string array", js(`["a",1,true]`), value.StringArray, `["a","1","true"]`, false},
		{"JSON array to int array", js(`[1,2.0]`), value.IntArray, `[1,2]`, false},
		{"JSON array with null fails", js(`[1,null]`), value.IntArray, "", true},
		{"string holding JSON to JSON", value.Str(`{"a": [1]}`), value.JSON, `{"a":[1]}`, false},
		{"plain string to JSON string", value.Str(`hello world`), value.JSON, `hello world`, false},
		{"int array to JSON", value.Ints([]int64{1, 2}), value.JSON, `[1,2]`, false},
		{"scalar to array", value.Str("x"), value.StringArray, `["x"]`, false},
		{"null stays null", value.Value{}, value.Int, "", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got, err := value.Convert(c.in, c.to)
			if c.bad {
				if err == nil {
					t.Fatalf("Convert(%v, %s) = %v, want an error", c.in, c.to, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("Convert(%v, %s): %v", c.in, c.to, err)
			}
			if got.Text() != c.want {
				t.Errorf("Convert(%v, %s) = %s, want %s", c.in, c.to, got.Text(), c.want)
			}
		})
	}
}

func TestRefsAndTemplates(t *testing.T) {
	t.Parallel()
	order, _ := value.ParseJSON(`{"id": 7, "lines": [{"sku": "a"}, {"sku": "b"}], "ship": {"city": "Oslo"}}`)
	errInfo, _ := value.ParseJSON(`{"message": "boom", "code": 404}`)
	g := value.MapGetter{
		"order":                     value.FromJSON(order),
		"`ErrorInfo`":               value.FromJSON(errInfo),
		"`Task_4_connectorPayload`": value.FromJSON(order),
		"name":                      value.Str("Ada"),
		"tags":                      value.Strings([]string{"x", "y"}),
		"salesforce-api-token":      value.Str("tok"),
		"unset":                     {},
		"body":                      value.Str(`{"nested": {"n": 1}}`),
	}
	cases := []struct{ tmpl, want string }{
		{"Hello $name$!", "Hello Ada!"},
		{"$order.id$", "7"},
		{"$order.lines[1].sku$", "b"},
		{"$order.ship$", `{"city":"Oslo"}`},
		{"code=$`ErrorInfo.code`$", "code=404"},
		{"city=$`Task_4_connectorPayload`.ship.city$", "city=Oslo"},
		{"$tags$ $tags[0]$", `["x","y"] x`},
		{"$salesforce-api-token$", "tok"},
		{"[$unset$]", "[]"},
		{"keep $undeclared$ as is", "keep $undeclared$ as is"},
		{"costs $5 and $10", "costs $5 and $10"},
		{"$body.nested.n$", "1"},
		{"no refs", "no refs"},
	}
	for _, c := range cases {
		if got := value.CompileTemplate(c.tmpl).Render(g); got != c.want {
			t.Errorf("Render(%q) = %q, want %q", c.tmpl, got, c.want)
		}
	}
	if v := value.CompileTemplate(" $order.ship$ ").Eval(g); v.Kind() != value.JSON {
		t.Errorf("single reference Eval kind = %s, want JSON", v.Kind())
	}
	for _, bad := range []string{"$$", "$`unclosed$", "$a..b$", "$a[x]$"} {
		if _, err := value.ParseRef(bad); err == nil {
			t.Errorf("ParseRef(%q) succeeded, want an error", bad)
		}
	}
}

func TestVarsSetPath(t *testing.T) {
	t.Parallel()
	vs := value.NewVars(map[string]value.Kind{"out": value.JSON, "n": value.Int})
	if err := vs.SetPath("out", mustPath(t, "a.b[2].c"), value.Str("x")); err != nil {
		t.Fatal(err)
	}
	got, _ := vs.Lookup("out")
	if s := value.EncodeJSON(got.JSON()); s != `{"a":{"b":[null,null,{"c":"x"}]}}` {
		t.Errorf("out = %s", s)
	}
	before := value.EncodeJSON(got.JSON())
	if err := vs.SetPath("out", mustPath(t, "a.z"), value.Integer(1)); err != nil {
		t.Fatal(err)
	}
	if value.EncodeJSON(got.JSON()) != before {
		t.Error("SetPath modified a value already handed out")
	}
	if err := vs.Set("n", value.Str("12")); err != nil {
		t.Fatal(err)
	}
	if n, _ := vs.Lookup("n"); n.Kind() != value.Int || n.Int() != 12 {
		t.Errorf("n = %v", n)
	}
	if err := vs.Set("n", value.Str("twelve")); err == nil || !strings.Contains(err.Error(), "variable n") {
		t.Errorf("Set(n, twelve) err = %v", err)
	}
	if err := vs.SetPath("n", mustPath(t, "x"), value.Integer(1)); err == nil {
		t.Error("SetPath into an int variable succeeded")
	}
}

func mustPath(t *testing.T, s string) value.Path {
	t.Helper()
	p, err := value.ParsePath(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func FuzzParseLenientJSON(f *testing.F) {
	for _, s := range []string{`{}`, `{'a': [1, 2, {b: c}]}`, `"\ud800"`, "[1,2,]", `{"a":1e999}`, "\xff\xfe", `[[[[`, `{"a":"\u0000"}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		j, err := value.ParseLenientJSON(s)
		if err != nil {
			return
		}
		// What we print, we parse back strictly, to the same value.
		text := value.EncodeJSON(j)
		k, err := value.ParseJSON(text)
		if err != nil {
			t.Fatalf("re-parse of %q (from %q): %v", text, s, err)
		}
		if !value.EqualJSON(j, k) {
			t.Fatalf("round trip changed %q: %q", s, value.EncodeJSON(k))
		}
	})
}

func FuzzTemplate(f *testing.F) {
	for _, s := range []string{"$a$", "x $`T_1_b`.c$ y", "$a.b[0]$$c$", "$", "$$$", "$`$`$", "$a.$"} {
		f.Add(s)
	}
	order, _ := value.ParseJSON(`{"b": [1, {"c": "d"}]}`)
	g := value.MapGetter{"a": value.FromJSON(order), "`T_1_b`": value.Str(`{"c": 2}`), "c": value.Ints([]int64{1})}
	f.Fuzz(func(t *testing.T, s string) {
		tm := value.CompileTemplate(s)
		_ = tm.Render(g)
		_ = tm.Eval(g)
		if tm.IsStatic() && tm.Render(g) != s {
			t.Fatalf("static template %q rendered differently", s)
		}
	})
}

func TestAppendValueTypeMatchesToSpec(t *testing.T) {
	t.Parallel()
	obj, _ := value.ParseJSON(`{"a":[1,"x",null],"b":{"c":true}}`)
	for _, v := range []value.Value{
		{}, value.Str("he said \"hi\"\n"), value.Integer(-42), value.Float(2.5), value.Float(3), value.Boolean(true),
		value.FromJSON(obj), value.FromJSON(nil), value.Strings([]string{"a", "b"}), value.Ints([]int64{1, 2}),
		value.Floats([]float64{1.5, 2}), value.Bools([]bool{true, false}), value.Strings(nil),
	} {
		got := string(value.AppendValueType(nil, v))
		want, err := json.Marshal(value.ToSpec(v))
		if err != nil {
			t.Fatal(err)
		}
		var g, w any
		if err := json.Unmarshal([]byte(got), &g); err != nil {
			t.Fatalf("AppendValueType(%v) = %s: %v", v, got, err)
		}
		_ = json.Unmarshal(want, &w)
		if !reflect.DeepEqual(g, w) {
			t.Errorf("AppendValueType(%v) = %s, want %s", v, got, want)
		}
	}
}

func TestInfer(t *testing.T) {
	t.Parallel()
	obj, _ := value.ParseJSON(`{"a":1}`)
	cases := []struct {
		in   any
		kind value.Kind
		text string
	}{
		{nil, value.Null, ""},
		{"x", value.String, "x"},
		{true, value.Bool, "true"},
		{3.0, value.Int, "3"},
		{2.5, value.Double, "2.5"},
		{9007199254740993.0, value.Double, "9.007199254740992E15"},
		{[]any{1.0}, value.JSON, "[1]"},
		{obj, value.JSON, `{"a":1}`},
	}
	for _, c := range cases {
		if v := value.Infer(c.in); v.Kind() != c.kind || v.Text() != c.text {
			t.Errorf("Infer(%v) = %s %q, want %s %q", c.in, v.Kind(), v.Text(), c.kind, c.text)
		}
	}
}

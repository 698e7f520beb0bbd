package tasks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dop251/goja"

	"github.com/integrationd/integrationd/internal/engine"
	"github.com/integrationd/integrationd/internal/spec"
	"github.com/integrationd/integrationd/internal/value"
)

var jsTestNow = time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)

func jsTestRegistry(opts Options) *Registry {
	r := NewRegistry()
	registerFieldMapping(r)
	registerJavaScript(r, opts)
	return r
}

// jsCompileParams compiles a JavaScriptTask with the given parameters, as
// publishing a version does.
func jsCompileParams(opts Options, params map[string]*spec.ValueType) (engine.Task, error) {
	cfg := &spec.TaskConfig{Task: javaScriptTask, TaskID: "1", Parameters: map[string]spec.EventParameter{}}
	for k, v := range params {
		cfg.Parameters[k] = spec.EventParameter{Key: k, Value: v}
	}
	return jsTestRegistry(opts).CompileTask(cfg)
}

func jsStr(s string) *spec.ValueType { return &spec.ValueType{StringValue: &s} }

func jsCompile(t testing.TB, script string, opts Options) engine.Task {
	t.Helper()
	task, err := jsCompileParams(opts, map[string]*spec.ValueType{pScript: jsStr(script)})
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	return task
}

// jsLog collects what a task writes with tc.Log (which reaches the logger
// when the context has no execution log).
type jsLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *jsLog) Enabled(context.Context, slog.Level) bool { return true }
func (l *jsLog) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *jsLog) WithGroup(string) slog.Handler            { return l }
func (l *jsLog) Handle(_ context.Context, r slog.Record) error {
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "msg" {
			l.mu.Lock()
			l.lines = append(l.lines, a.Value.String())
			l.mu.Unlock()
		}
		return true
	})
	return nil
}

func jsContext(vars *value.Vars, log *jsLog) *engine.TaskContext {
	return &engine.TaskContext{
		Vars:    vars,
		Exec:    engine.ExecInfo{ExecutionID: "exec-7", IntegrationName: "orders", ProjectID: "acme-prod", Region: "europe-west1", Mode: "SYNC"},
		TaskID:  "1",
		Task:    javaScriptTask,
		Attempt: 1,
		Logger:  slog.New(log),
		Now:     func() time.Time { return jsTestNow },
	}
}

// jsRun runs one attempt of task on variables declared by decls and set
// from init.
func jsRun(ctx context.Context, t testing.TB, task engine.Task, decls map[string]value.Kind, init map[string]value.Value) (*value.Vars, []string, error) {
	t.Helper()
	vars := value.NewVars(decls)
	for k, v := range init {
		if err := vars.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	log := &jsLog{}
	err := task.Execute(ctx, jsContext(vars, log))
	return vars, log.lines, err
}

func jsJSON(t testing.TB, text string) value.Value {
	t.Helper()
	j, err := value.ParseJSON(text)
	if err != nil {
		t.Fatal(err)
	}
	return value.FromJSON(j)
}

// jsSame compares kind and value; JSON by its text, so key order counts.
func jsSame(got, want value.Value) bool {
	if got.Kind() != want.Kind() {
		return false
	}
	if got.Kind() == value.JSON {
		return value.EncodeJSON(got.JSON()) == value.EncodeJSON(want.JSON())
	}
	return value.Equal(got, want)
}

func jsErrorMessage(err error) string {
	var te *engine.TaskError
	if errors.As(err, &te) {
		return te.Message
	}
	if err == nil {
		return "<nil>"
	}
	return "not a TaskError: " + err.Error()
}

func TestJavaScriptEventMethods(t *testing.T) {
	t.Parallel()
	script := "function executeScript(event) {\n" +
		"  event.setParameter(\"info\", [event.getEventExecutionInfoId(), event.getGoogleCloudProjectId(), event.getGcpProjectId(),\n" +
		"    event.getIntegrationName(), event.getRegion()].join(\"|\"));\n" +
		"  event.setParameter(\"methods\", Object.keys(event).sort().join(\",\"));\n" +
		"  event.log(\"from event.log\");\n" +
		"  event.log({b: 1, a: [true, null]});\n" +
		"  console.log(\"console\", 42, 'x');\n" +
		"  console.info(\"info\");\n" +
		"  console.warn(\"careful\");\n" +
		"  console.error(new Error(\"shown\"));\n" +
		"  console.log({toJSON() { throw new Error(\"no\"); }}, [1, () => 2]);\n" +
		"  event.setParameter(\"now\", new Date().toISOString());\n" +
		"  event.mine = 1;\n" +
		"  event.getRegion = null;\n" +
		"  event.setParameter(\"own\", event.mine + \" \" + event.getRegion() + \" \" + event.getParameter.name + \" \" + console.log.name);\n" +
		"}"
	vars, logs, err := jsRun(t.Context(), t, jsCompile(t, script, Options{}), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"info":    "exec-7|acme-prod|acme-prod|orders|europe-west1",
		"methods": "getEventExecutionInfoId,getGcpProjectId,getGoogleCloudProjectId,getIntegrationName,getParameter,getRegion,log,setParameter",
		"now":     "2025-03-14T15:09:26.000Z",
		"own":     "1 europe-west1 getParameter log",
	} {
		if got, _ := vars.Lookup(name); got.Str() != want {
			t.Errorf("%s = %v, want %q", name, got, want)
		}
	}
	want := []string{"from event.log", `{"b":1,"a":[true,null]}`, "console 42 x", "info", "[warn] careful", "[error] Error: shown", "[object Object] 1,() => 2"}
	if strings.Join(logs, "\n") != strings.Join(want, "\n") {
		t.Errorf("logs = %q, want %q", logs, want)
	}
}

func TestJavaScriptValuesIn(t *testing.T) {
	t.Parallel()
	script := `function executeScript(event) {
  const v = event.getParameter("x");
  let s = typeof v + " " + JSON.stringify(v);
  if (typeof v === "number" && Number.isInteger(v)) s += " int";
  if (Array.isArray(v)) s = "array " + JSON.stringify(v.map(e => e)) + " " + typeof v[0];
  else if (v && typeof v === "object") s += " keys " + Object.keys(v).join(",") + (v instanceof Object ? " Object" : "");
  event.setParameter("out", s);
}`
	task := jsCompile(t, script, Options{})
	cases := []struct {
		name string
		kind value.Kind
		v    value.Value // Null: declared, unset
		want string
	}{
		{"string", value.String, value.Str("héllo \"q\""), `string "héllo \"q\""`},
		{"int", value.Int, value.Integer(42), "number 42 int"},
		{"int beyond 2^53 is rounded, as in V8", value.Int, value.Integer(1<<60 + 1), "number 1152921504606847000 int"},
		{"double", value.Double, value.Float(2.5), "number 2.5"},
		{"boolean", value.Bool, value.Boolean(true), "boolean true"},
		{"string array", value.StringArray, value.Strings([]string{"a", "b"}), `array ["a","b"] string`},
		{"int array", value.IntArray, value.Ints([]int64{1, 2}), "array [1,2] number"},
		{"double array", value.DoubleArray, value.Floats([]float64{1.5, -2}), "array [1.5,-2] number"},
		{"boolean array", value.BoolArray, value.Bools([]bool{true, false}), "array [true,false] boolean"},
		{"JSON object in key order", value.JSON, jsJSON(t, `{"z":1,"a":{"y":[1,"two",null,true]},"m":null}`),
			`object {"z":1,"a":{"y":[1,"two",null,true]},"m":null} keys z,a,m Object`},
		{"JSON array", value.JSON, jsJSON(t, `[{"b":2,"a":1},[3]]`), `array [{"b":2,"a":1},[3]] object`},
		{"JSON string", value.JSON, jsJSON(t, `"s"`), `string "s"`},
		{"JSON null", value.JSON, jsJSON(t, `null`), "object null"},
		{"__proto__ is a plain key", value.JSON, jsJSON(t, `{"__proto__":{"x":1},"k":2}`), `object {"__proto__":{"x":1},"k":2} keys __proto__,k Object`},
		{"declared, unset", value.String, value.Value{}, "object null"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			vars, _, err := jsRun(t.Context(), t, task, map[string]value.Kind{"x": c.kind, "out": value.String}, map[string]value.Value{"x": c.v})
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := vars.Lookup("out"); got.Str() != c.want {
				t.Errorf("in JavaScript: %s, want %s", got.Str(), c.want)
			}
		})
	}
}

func TestJavaScriptValuesOut(t *testing.T) {
	t.Parallel()
	obj := `{"z":1,"a":{"c":true,"b":null},"m":[1,{"y":2,"x":3}]}`
	cases := []struct {
		name string
		kind value.Kind // of the declared variable x
		init value.Value
		expr string // the value given to setParameter("x", ...)
		want value.Value
		err  string
	}{
		{name: "int stays int", kind: value.Int, init: value.Integer(41), expr: `event.getParameter("x") + 1`, want: value.Integer(42)},
		{name: "int beyond 2^53 comes back rounded", kind: value.Int, init: value.Integer(1<<60 + 1), expr: `event.getParameter("x")`, want: value.Integer(1 << 60)},
		{name: "whole result into int", kind: value.Int, expr: `6 / 2`, want: value.Integer(3)},
		{name: "numeric string into int", kind: value.Int, expr: `"17"`, want: value.Integer(17)},
		{name: "fraction into int", kind: value.Int, expr: `1.5`,
			err: `script error at line 2: TypeError: setParameter("x"): variable x is int: cannot convert double 1.5 to int: not a whole number`},
		{name: "NaN into int", kind: value.Int, expr: `0 / 0`, err: "cannot convert double NaN to int"},
		{name: "double", kind: value.Double, expr: `0.1 + 0.2`, want: value.Float(0.30000000000000004)},
		{name: "int into double", kind: value.Double, expr: `3`, want: value.Float(3)},
		{name: "boolean", kind: value.Bool, expr: `1 < 2`, want: value.Boolean(true)},
		{name: "string", kind: value.String, expr: `"a" + "b"`, want: value.Str("ab")},
		{name: "number into string", kind: value.String, expr: `7`, want: value.Str("7")},
		{name: "object into string is its JSON text", kind: value.String, expr: `{b: 1, a: [1, "x"]}`, want: value.Str(`{"b":1,"a":[1,"x"]}`)},
		{name: "array into string", kind: value.String, expr: `["p", "q"]`, want: value.Str(`["p","q"]`)},
		{name: "object into JSON keeps key order", kind: value.JSON, expr: `{z: 1, a: {c: true, b: null}, m: [1, {y: 2, x: 3}]}`, want: jsJSON(t, obj)},
		{name: "JSON round trip with an added key", kind: value.JSON, init: jsJSON(t, obj),
			expr: `Object.assign(event.getParameter("x"), {added: [new Date(0)]})`, want: jsJSON(t, `{"z":1,"a":{"c":true,"b":null},"m":[1,{"y":2,"x":3}],"added":["1970-01-01T00:00:00.000Z"]}`)},
		{name: "JSON text into JSON", kind: value.JSON, expr: `JSON.stringify({k: "v"})`, want: jsJSON(t, `{"k":"v"}`)},
		{name: "array into JSON", kind: value.JSON, expr: `["a", 1, [true]]`, want: jsJSON(t, `["a",1,[true]]`)},
		{name: "__proto__ key round trip", kind: value.JSON, init: jsJSON(t, `{"__proto__":{"x":1}}`), expr: `event.getParameter("x")`, want: jsJSON(t, `{"__proto__":{"x":1}}`)},
		{name: "strings into string array", kind: value.StringArray, expr: `["a", "b"]`, want: value.Strings([]string{"a", "b"})},
		{name: "numbers into string array", kind: value.StringArray, expr: `[1, 2]`, want: value.Strings([]string{"1", "2"})},
		{name: "int array", kind: value.IntArray, expr: `[1, 2, 3]`, want: value.Ints([]int64{1, 2, 3})},
		{name: "fraction into int array", kind: value.IntArray, expr: `[1, 2.5]`, err: "element 1"},
		{name: "double array", kind: value.DoubleArray, expr: `[1.5, 2]`, want: value.Floats([]float64{1.5, 2})},
		{name: "boolean array", kind: value.BoolArray, expr: `[true, false]`, want: value.Bools([]bool{true, false})},
		{name: "null clears", kind: value.String, init: value.Str("old"), expr: `null`, want: value.Value{}},
		{name: "undefined clears", kind: value.String, init: value.Str("old"), expr: `undefined`, want: value.Value{}},
		{name: "Date into string is ISO", kind: value.String, expr: `new Date(Date.UTC(2024, 0, 2, 3, 4, 5))`, want: value.Str("2024-01-02T03:04:05.000Z")},
		{name: "undefined members and elements", kind: value.JSON, expr: `{a: undefined, b: [undefined, 1, NaN]}`, want: jsJSON(t, `{"b":[null,1,null]}`)},
		{name: "wrapper objects", kind: value.JSON, expr: `[new String("s"), new Number(2), new Boolean(false)]`, want: jsJSON(t, `["s",2,false]`)},
		{name: "Map and Set as JSON.stringify sees them", kind: value.JSON, expr: `[new Map([[1, 2]]), new Set([1])]`, want: jsJSON(t, `[{},{}]`)},
		{name: "toJSON", kind: value.JSON, expr: `{when: {toJSON() { return "later"; }}}`, want: jsJSON(t, `{"when":"later"}`)},
		{name: "integer-like keys first, as in JavaScript", kind: value.JSON, expr: `{b: 1, 2: 2, a: 3, 1: 4}`, want: jsJSON(t, `{"1":4,"2":2,"b":1,"a":3}`)},
		{name: "class instance: own fields only", kind: value.JSON, expr: `new (class P { constructor() { this.q = 1 } m() {} })()`, want: jsJSON(t, `{"q":1}`)},
		{name: "BigInt into int", kind: value.Int, expr: `2n ** 40n`, want: value.Integer(1 << 40)},
		{name: "function", kind: value.JSON, expr: `{f: function () {}}`, err: "a function cannot be stored in a variable (at .f)"},
		{name: "function in an array", kind: value.JSON, expr: `{a: [1, () => 2]}`, err: "(at .a[1])"},
		{name: "cyclic", kind: value.JSON, expr: `(() => { const o = {a: [1]}; o.a.push(o); return o })()`, err: "the value is cyclic (at .a[1])"},
		{name: "symbol", kind: value.String, expr: `Symbol("s")`, err: "a symbol cannot be stored"},
		{name: "toJSON throws", kind: value.JSON, expr: `{toJSON() { throw new RangeError("mine"); }}`, err: "script error at line 2: RangeError: mine"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			task := jsCompile(t, "function executeScript(event) {\n  event.setParameter(\"x\", "+c.expr+");\n}", Options{})
			init := map[string]value.Value{}
			if c.init.Kind() != value.Null {
				init["x"] = c.init
			}
			vars, _, err := jsRun(t.Context(), t, task, map[string]value.Kind{"x": c.kind}, init)
			if c.err != "" {
				if msg := jsErrorMessage(err); !strings.Contains(msg, c.err) {
					t.Fatalf("error = %q, want it to contain %q", msg, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := vars.Lookup("x"); !jsSame(got, c.want) {
				t.Errorf("x = %s %v, want %s %v", got.Kind(), got, c.want.Kind(), c.want)
			}
		})
	}
}

func TestJavaScriptTransientVariables(t *testing.T) {
	t.Parallel()
	cases := []struct {
		expr string
		want value.Value
	}{
		{`"s"`, value.Str("s")},
		{`3`, value.Integer(3)},
		{`3.0`, value.Integer(3)},
		{`2.5`, value.Float(2.5)},
		{`2 ** 60`, value.Float(1 << 60)}, // not a safe integer
		{`true`, value.Boolean(true)},
		{`["a", "b"]`, value.Strings([]string{"a", "b"})},
		{`[1, 2]`, value.Ints([]int64{1, 2})},
		{`[1.5, 2]`, value.Floats([]float64{1.5, 2})},
		{`[false]`, value.Bools([]bool{false})},
		{`[]`, jsJSON(t, `[]`)},
		{`[1, "a"]`, jsJSON(t, `[1,"a"]`)},
		{`[null]`, jsJSON(t, `[null]`)},
		{`{b: 1, a: 2}`, jsJSON(t, `{"b":1,"a":2}`)},
		{`new Date(0)`, value.Str("1970-01-01T00:00:00.000Z")},
		{`null`, value.Value{}},
	}
	for _, c := range cases {
		t.Run(c.expr, func(t *testing.T) {
			t.Parallel()
			task := jsCompile(t, `function executeScript(event) { event.setParameter("fresh", `+c.expr+`); }`, Options{})
			vars, _, err := jsRun(t.Context(), t, task, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := vars.Lookup("fresh")
			if !ok {
				t.Fatal("fresh was not created")
			}
			if !jsSame(got, c.want) {
				t.Errorf("fresh = %s %v, want %s %v", got.Kind(), got, c.want.Kind(), c.want)
			}
			if _, declared := vars.Declared("fresh"); declared {
				t.Error("fresh is declared")
			}
		})
	}
}

func TestJavaScriptParameterNames(t *testing.T) {
	t.Parallel()
	script := `function executeScript(event) {
  const r = [
    event.getParameter("` + "`Task_1_out`" + `"),
    event.getParameter("Task_1_out"),
    event.getParameter("declared"),
    event.getParameter("nope"),
    event.getParameter("ErrorInfo").code,
    event.getParameter("$declared$"),
  ];
  event.setParameter("Task_1_out", "changed");
  event.setParameter("out", JSON.stringify(r));
}`
	decls := map[string]value.Kind{"`Task_1_out`": value.String, "declared": value.String, "`ErrorInfo`": value.JSON, "out": value.String}
	vars, _, err := jsRun(t.Context(), t, jsCompile(t, script, Options{}), decls,
		map[string]value.Value{"`Task_1_out`": value.Str("hello"), "`ErrorInfo`": jsJSON(t, `{"message":"","code":0}`)})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := vars.Lookup("out"); got.Str() != `["hello","hello",null,null,0,null]` {
		t.Errorf("out = %s", got.Str())
	}
	if got, _ := vars.Lookup("`Task_1_out`"); got.Str() != "changed" {
		t.Errorf("`Task_1_out` = %v, want changed (found through the name without backticks)", got)
	}
	if _, ok := vars.Lookup("Task_1_out"); ok {
		t.Error("setParameter created Task_1_out beside `Task_1_out`")
	}
}

func TestJavaScriptScriptIsNotTemplated(t *testing.T) {
	t.Parallel()
	script := "function executeScript(event) { event.setParameter(\"out\", \"$in$ and $`Task_1_x`$\"); }"
	vars, _, err := jsRun(t.Context(), t, jsCompile(t, script, Options{}), map[string]value.Kind{"in": value.String},
		map[string]value.Value{"in": value.Str("SUBSTITUTED")})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := vars.Lookup("out"); got.Str() != "$in$ and $`Task_1_x`$" {
		t.Errorf("out = %q", got.Str())
	}
}

func TestJavaScriptErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, script, want string
	}{
		{"thrown Error", "function executeScript(event) {\n  const x = 1;\n  throw new Error(\"boom\");\n}", "script error at line 3: Error: boom"},
		{"thrown string", "function executeScript(event) {\n  throw \"plain\";\n}", "script error at line 2: plain"},
		{"thrown object", "function executeScript(event) {\n  throw {code: 7};\n}", `script error at line 2: {"code":7}`},
		{"type error", "function executeScript(event) {\n  let o;\n  return o.x;\n}", "script error at line 3: TypeError: Cannot read property 'x' of undefined"},
		{"reference error", "function executeScript(event) {\n  nope();\n}", "script error at line 2: ReferenceError: nope is not defined"},
		{"error in a helper", "function helper() {\n  throw new TypeError(\"deep\");\n}\nfunction executeScript(event) {\n  helper();\n}", "script error at line 2: TypeError: deep"},
		{"top level throw", "throw new RangeError(\"early\");\nfunction executeScript(event) {}", "script error at line 1: RangeError: early"},
		{"not a function", "var executeScript = 42;", "script error: executeScript is not a function (it is a number)"},
		{"entry point only in a comment", "// executeScript\nfunction main(event) {}", "script does not define function executeScript(event)"},
		{"uncaught setParameter error", "function executeScript(event) {\n  event.setParameter(\"n\", 1.5);\n}",
			`script error at line 2: TypeError: setParameter("n"): variable n is int: cannot convert double 1.5 to int: not a whole number`},
		{"getParameter without a name", "function executeScript(event) {\n  event.getParameter();\n}", "script error at line 2: TypeError: getParameter needs a variable name"},
		{"async rejection", "async function executeScript(event) {\n  await null;\n  throw new Error(\"later\");\n}", "script error at line 3: Error: later"},
		{"pending promise", "function executeScript(event) {\n  return new Promise(() => {});\n}",
			"script error: executeScript returned a promise that never settled (there is no event loop and no timers)"},
		{"recursion", "function f() { return f() + 1; }\nfunction executeScript(event) { f(); }",
			"script error at line 1: RangeError: Maximum call stack size exceeded (3000 frames)"},
		{"recursion through a built-in", "function f() { return [1].map(f); }\nfunction executeScript(event) { f(); }",
			"script error at line 1: RangeError: Maximum call stack size exceeded (3000 frames)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := jsRun(t.Context(), t, jsCompile(t, c.script, Options{}), map[string]value.Kind{"n": value.Int}, nil)
			if got := jsErrorMessage(err); got != c.want {
				t.Errorf("error = %q\n want %q", got, c.want)
			}
		})
	}
}

func TestJavaScriptCaughtErrorsContinue(t *testing.T) {
	t.Parallel()
	script := `function executeScript(event) {
  try { event.setParameter("n", "twelve"); } catch (e) { event.setParameter("caught", e.message); }
  try { "x".repeat(1e13); } catch (e) { event.setParameter("guard", e.name); }
}`
	vars, _, err := jsRun(t.Context(), t, jsCompile(t, script, Options{}), map[string]value.Kind{"n": value.Int}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := vars.Lookup("caught"); !strings.Contains(got.Str(), `setParameter("n"): variable n is int`) {
		t.Errorf("caught = %v", got)
	}
	if got, _ := vars.Lookup("guard"); got.Str() != "RangeError" {
		t.Errorf("guard = %v, want RangeError", got)
	}
}

func TestJavaScriptCompileErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		params map[string]*spec.ValueType
		want   string // prefix
	}{
		{"syntax error", map[string]*spec.ValueType{pScript: jsStr("function executeScript(event) {\n  let x = ;\n}")},
			"script syntax error at line 2, column 11: Unexpected token ;"},
		{"redeclaration", map[string]*spec.ValueType{pScript: jsStr("let a = 1;\nlet a = 2;\nfunction executeScript(event) {}")},
			"script syntax error at line 2, column 5: Identifier 'a' has already been declared"},
		{"module syntax", map[string]*spec.ValueType{pScript: jsStr("import x from \"y\";\nfunction executeScript(event) {}")},
			"script syntax error at line 1, column 1"},
		{"no entry point", map[string]*spec.ValueType{pScript: jsStr("function main(event) {}")},
			"script does not define function executeScript(event)"},
		{"missing script", map[string]*spec.ValueType{}, "parameter script is required"},
		{"unknown engine", map[string]*spec.ValueType{pScript: jsStr("function executeScript(event) {}"), pJSEngine: jsStr("SPIDERMONKEY")},
			`parameter javaScriptEngine: unknown engine "SPIDERMONKEY" (want V8 or RHINO)`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := jsCompileParams(Options{}, c.params)
			if err == nil || !strings.HasPrefix(err.Error(), c.want) {
				t.Errorf("error = %v\n want prefix %q", err, c.want)
			}
		})
	}
	for _, eng := range []string{"V8", "RHINO", "v8", "JAVA_SCRIPT_ENGINE_UNSPECIFIED"} {
		if _, err := jsCompileParams(Options{}, map[string]*spec.ValueType{pScript: jsStr("function executeScript(event) {}"), pJSEngine: jsStr(eng)}); err != nil {
			t.Errorf("engine %s: %v", eng, err)
		}
	}
}

func TestJavaScriptEntryPointSpellings(t *testing.T) {
	t.Parallel()
	for _, script := range []string{
		`function executesScript(event) { event.setParameter("ran", true); }`,
		`const executeScript = (event) => event.setParameter("ran", true);`,
		`let executeScript; executeScript = function (event) { event.setParameter("ran", true); };`,
		`async function executeScript(event) { await Promise.resolve(); event.setParameter("ran", true); }`,
		`function executeScript(event) { event.setParameter("ran", true); const o = {}; o.o = o; return o; } // the result is ignored`,
	} {
		vars, _, err := jsRun(t.Context(), t, jsCompile(t, script, Options{}), nil, nil)
		if got, _ := vars.Lookup("ran"); err != nil || !got.Bool() {
			t.Errorf("%s: ran = %v, err = %v", script, got, err)
		}
	}
}

func TestJavaScriptTimeout(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, script string
		line         int // where the script was when interrupted
	}{
		{"busy loop", "function executeScript(event) {\n  let i = 0;\n  while (true) { i++; }\n}", 3},
		{"empty loop: goja places it at the function", "function executeScript(event) {\n  while (true) {}\n}", 1},
		{"top level loop", "let n = 0;\nfor (;;) { n++; }\nfunction executeScript(event) {}", 2},
		{"nor a catch around toJSON", "function executeScript(event) {\n  const o = {toJSON() { let i = 0; while (true) { i++; } }};\n  try { event.setParameter(\"o\", o); } catch (e) { event.setParameter(\"caught\", true); }\n}", 2},
		{"catch cannot swallow it", "function executeScript(event) {\n  let i = 0;\n  try { while (true) { i++; } } catch (e) { event.setParameter(\"caught\", true); }\n}", 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			task := jsCompile(t, c.script, Options{ScriptTimeout: 50 * time.Millisecond})
			// The line is where the interrupt found the script: a starved
			// goroutine may not have reached the loop yet, so allow retries.
			var msg string
			for try := 0; try < 3; try++ {
				start := time.Now()
				vars, _, err := jsRun(t.Context(), t, task, nil, nil)
				if !errors.Is(err, errScriptTimeout) {
					t.Fatalf("error = %v, want a timeout", err)
				}
				if d := time.Since(start); d > 5*time.Second {
					t.Errorf("took %v", d)
				}
				if _, ok := vars.Lookup("caught"); ok {
					t.Error("the script caught the timeout")
				}
				if msg = jsErrorMessage(err); msg == fmt.Sprintf("script timed out after 50ms (at line %d)", c.line) {
					return
				}
			}
			t.Errorf("error = %q, want line %d", msg, c.line)
		})
	}
}

func TestJavaScriptCancellation(t *testing.T) {
	t.Parallel()
	task := jsCompile(t, "function executeScript(event) {\n  let i = 0;\n  while (true) { i++; }\n}", Options{})
	t.Run("cancel", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(30*time.Millisecond, cancel)
		_, _, err := jsRun(ctx, t, task, nil, nil)
		if !errors.Is(err, context.Canceled) || !strings.HasPrefix(jsErrorMessage(err), "script cancelled: context canceled (at line ") {
			t.Errorf("error = %v", err)
		}
	})
	t.Run("deadline", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Millisecond)
		defer cancel()
		_, _, err := jsRun(ctx, t, task, nil, nil)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("error = %v", err)
		}
	})
	t.Run("already cancelled", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, _, err := jsRun(ctx, t, task, nil, nil)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("error = %v", err)
		}
	})
}

// TestJavaScriptMemoryBound is not parallel: the watchdog measures the
// process heap, so it runs while no other test allocates.
func TestJavaScriptMemoryBound(t *testing.T) {
	const bound = 32 << 20
	opts := Options{ScriptTimeout: time.Minute, ScriptMemoryBytes: bound}
	t.Run("growing array", func(t *testing.T) {
		task := jsCompile(t, "function executeScript(event) {\n  let a = [];\n  while (true) a.push(\"x\".repeat(1000));\n}", opts)
		runtime.GC()
		before := jsReadHeap().live
		peak := jsPeakHeap(t, func() {
			start := time.Now()
			_, _, err := jsRun(t.Context(), t, task, nil, nil)
			if !errors.Is(err, errScriptMemory) {
				t.Fatalf("error = %v, want the memory bound", err)
			}
			msg := jsErrorMessage(err)
			if !strings.HasPrefix(msg, "script exceeded its memory bound of 32 MiB (the heap grew by ") || !strings.HasSuffix(msg, " (at line 3)") {
				t.Errorf("message = %q", msg)
			}
			t.Logf("%s after %v", msg, time.Since(start))
		})
		grew := int64(peak) - int64(before)
		t.Logf("peak heap growth %d MiB for a %d MiB bound", grew>>20, bound>>20)
		if grew > 4*bound {
			t.Errorf("the heap grew by %d MiB before the script stopped", grew>>20)
		}
	})
	t.Run("setParameter", func(t *testing.T) {
		task := jsCompile(t, "function executeScript(event) {\n  event.setParameter(\"big\", \"x\".repeat(20e6) + \"y\".repeat(20e6));\n}", opts)
		_, _, err := jsRun(t.Context(), t, task, nil, nil)
		if want := `script error at line 2: TypeError: setParameter("big"): the value is larger than the script memory bound (32 MiB)`; jsErrorMessage(err) != want {
			t.Errorf("error = %q, want %q", jsErrorMessage(err), want)
		}
	})
	t.Run("garbage is not counted", func(t *testing.T) {
		// With a large live heap the collector lets garbage pile up past
		// the bound, so the watchdog has to confirm with a collection.
		ballast := make([]byte, 256<<20)
		defer runtime.KeepAlive(ballast)
		runtime.GC()
		jsGC.mu.Lock()
		forced := jsGC.forced
		jsGC.next = time.Time{} // lift the rate limit the last subtest left
		jsGC.mu.Unlock()
		task := jsCompile(t, "function executeScript(event) {\n  let s;\n  for (let i = 0; i < 60000; i++) s = \"y\".repeat(1000) + i;\n  event.setParameter(\"len\", s.length);\n}", opts)
		vars, _, err := jsRun(t.Context(), t, task, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := vars.Lookup("len"); got.Int() != 1005 {
			t.Errorf("len = %v", got)
		}
		jsGC.mu.Lock()
		forced = jsGC.forced - forced
		jsGC.mu.Unlock()
		if forced == 0 {
			t.Error("the watchdog never had to confirm with a collection")
		}
		t.Logf("the watchdog forced %d collections", forced)
	})
}

// jsPeakHeap runs f and returns the highest heap object bytes sampled
// meanwhile.
func jsPeakHeap(t *testing.T, f func()) uint64 {
	t.Helper()
	var peak uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			peak = max(peak, jsReadHeap().objects)
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	f()
	close(done)
	wg.Wait()
	return peak
}

func TestJavaScriptSingleCallGuards(t *testing.T) {
	t.Parallel()
	// The bound is large so the watchdog, which sees the whole process,
	// stays out of the way of these parallel cases.
	opts := Options{ScriptMemoryBytes: 256 << 20}
	cases := []struct{ name, expr string }{
		{"repeat", `"x".repeat(1e13)`},
		{"padStart", `"x".padStart(1e13)`},
		{"padEnd", `"x".padEnd(1e13)`},
		{"fill", `new Array(1e9).fill(0)`},
		{"join separators", `new Array(1e9).join("ab")`},
		{"join elements", `new Array(1000).fill("x".repeat(1e6)).join("")`},
		{"Array.from", `Array.from({length: 1e10})`},
		{"ArrayBuffer", `new ArrayBuffer(1e13)`},
		{"Uint8Array", `new Uint8Array(1e13)`},
		{"Float64Array from an array-like", `new Float64Array({length: 1e12})`},
		{"typed array from", `Uint8Array.from({length: 1e13})`},
		{"constructor of an instance", `new (new Uint8Array(1).constructor)(1e13)`},
		{"constructor of a buffer", `new (new Uint8Array(1).buffer.constructor)(1e13)`},
		{"subclass", `new (class B extends Int32Array {})(1e12)`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			task := jsCompile(t, "function executeScript(event) {\n  "+c.expr+";\n}", opts)
			_, _, err := jsRun(t.Context(), t, task, nil, nil)
			msg := jsErrorMessage(err)
			if !strings.HasPrefix(msg, "script error at line 2: RangeError: ") || !strings.HasSuffix(msg, "more than the script memory bound (256 MiB)") {
				t.Errorf("error = %q", msg)
			}
		})
	}
	t.Run("guarded built-ins still work", func(t *testing.T) {
		t.Parallel()
		script := `function executeScript(event) {
  const a = new Uint8Array([1, 2, 3]);
  class B extends Uint8Array {}
  const b = new B(2);
  const checks = [a instanceof Uint8Array, b instanceof B, b instanceof Uint8Array, Uint8Array.from([1]).length === 1,
    a.constructor === Uint8Array, Uint8Array.BYTES_PER_ELEMENT === 1, new Uint8Array(new ArrayBuffer(8), 2).length === 6,
    typeof Uint8Array === "function", Uint8Array.name === "Uint8Array", new DataView(new ArrayBuffer(4)).byteLength === 4,
    a.buffer instanceof ArrayBuffer, "ab".repeat(2) === "abab", [1, 2].join("-") === "1-2", new Array(3).fill(7).join() === "7,7,7",
    Array.from("ab").length === 2, Array.from({length: 2}).length === 2, "x".padStart(3) === "  x", "x".padEnd(2, "y") === "xy",
    new Float64Array(a).length === 3, a.slice(1).length === 2, [1, , 3].join("-") === "1--3", [].join() === "",
    Array.from.name === "from", "x".repeat.name === "repeat", "x".repeat.length === 1, Uint8Array.length === 3];
  event.setParameter("checks", checks.map((c, i) => c ? "" : "#" + i).join(""));
}`
		vars, _, err := jsRun(t.Context(), t, jsCompile(t, script, opts), nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := vars.Lookup("checks"); got.Str() != "" {
			t.Errorf("failed checks: %s", got.Str())
		}
	})
	t.Run("setParameter bound", func(t *testing.T) {
		t.Parallel()
		vm := goja.New()
		a := &jsAttempt{vm: vm, limit: 1 << 20}
		for _, src := range []string{
			`"x".repeat(700000) + "y".repeat(700000)`,
			`(() => { const a = [], s = "z".repeat(100); for (let i = 0; i < 20000; i++) a.push({s}); return a; })()`,
			`new Array(2e6)`,
		} {
			v, err := vm.RunString(src)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := a.natural(v); err == nil || err.Error() != "the value is larger than the script memory bound (1 MiB)" {
				t.Errorf("%s: error = %v", src, err)
			}
		}
	})
}

func TestJavaScriptNoStateLeaks(t *testing.T) {
	t.Parallel()
	script := `var count = 0;
function executeScript(event) {
  count++;
  event.setParameter("seen", [typeof leaked, typeof implicit, Array.prototype.polluted, Object.prototype.hacked, count, typeof JSON.parse].map(String).join(","));
  globalThis.leaked = true;
  implicit = 1;
  Array.prototype.polluted = 1;
  Object.prototype.hacked = 2;
  JSON.parse = null;
}`
	task := jsCompile(t, script, Options{})
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 3 {
				vars, _, err := jsRun(t.Context(), t, task, nil, nil)
				if err != nil {
					t.Error(err)
					return
				}
				if got, _ := vars.Lookup("seen"); got.Str() != "undefined,undefined,undefined,undefined,1,function" {
					t.Errorf("goroutine %d saw %s", i, got.Str())
				}
			}
		}()
	}
	wg.Wait()
}

func TestJavaScriptSandbox(t *testing.T) {
	t.Parallel()
	// goja reads the file a sourceMappingURL comment names (relative to
	// the working directory) unless told not to. This map sends every line
	// to other.js:1000 and after.
	abs := filepath.Join(t.TempDir(), "script.map")
	wd, _ := os.Getwd()
	sourceMap, err := filepath.Rel(wd, abs)
	if err != nil {
		t.Skip(err)
	}
	if err := os.WriteFile(abs, []byte(`{"version":3,"sources":["other.js"],"names":[],"mappings":"AAw+BA;AACA;AACA;AACA;AACA;AACA;AACA;AACA;AACA;AACA"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	script := `function executeScript(event) {
  const names = ["require", "process", "module", "exports", "fetch", "XMLHttpRequest", "setTimeout", "setInterval",
    "queueMicrotask", "java", "Packages", "JavaImporter", "load", "print", "readFile", "Deno", "Bun"];
  event.setParameter("present", names.filter(n => typeof globalThis[n] !== "undefined").join(","));
  try { eval("\n\nthrow new Error('in eval')\n//# sourceMappingURL=` + sourceMap + `"); } catch (e) { event.setParameter("evalStack", e.stack); }
  throw new Error("here");
}
//# sourceMappingURL=` + sourceMap

	// The fixture is meaningful: with goja's defaults, the map is read.
	prog, err := goja.Compile(jsSource, script, false)
	if err != nil {
		t.Fatal(err)
	}
	vm := goja.New()
	if _, err := vm.RunProgram(prog); err != nil {
		t.Fatal(err)
	}
	fn, _ := goja.AssertFunction(vm.Get("executeScript"))
	if _, err := fn(goja.Undefined(), vm.NewObject()); err == nil || !strings.Contains(err.Error(), "other.js:100") {
		t.Fatalf("with source maps on, error = %v; the fixture does not remap", err)
	}

	vars, _, err := jsRun(t.Context(), t, jsCompile(t, script, Options{}), nil, nil)
	if got := jsErrorMessage(err); got != "script error at line 6: Error: here" {
		t.Errorf("error = %q: the source map was read", got)
	}
	if got, _ := vars.Lookup("evalStack"); strings.Contains(got.Str(), "other.js") || !strings.Contains(got.Str(), "in eval") {
		t.Errorf("eval stack %q: the source map was read", got.Str())
	}
	if got, _ := vars.Lookup("present"); got.Str() != "" {
		t.Errorf("globals present: %s", got.Str())
	}
}

// TestJavaScriptLanguage pins what goja supports and what it lacks
// compared with V8 (ES2024); docs/javascript.md lists the same.
func TestJavaScriptLanguage(t *testing.T) {
	t.Parallel()
	supported := []string{
		`(() => { let a = 1; { let a = 2; } const b = 3; return a + b === 4; })()`,
		"`${1 + 1}` === \"2\"",
		`(() => { const {a = 5, ...r} = {b: 1}; const [x, , y = 3] = [1, 2]; return a + r.b + x + y === 10; })()`,
		`(() => { class A { #x = 1; static s = 2; static { A.t = 3; } get x() { return this.#x; } } class B extends A {} return new B().x + A.s + A.t === 6; })()`,
		`new Map([[1, 2]]).get(1) === 2 && new Set([1, 1]).size === 1 && typeof WeakMap === "function" && typeof WeakSet === "function"`,
		`(() => { function* g() { yield 1; yield 2; } return [...g()].length === 2; })()`,
		`({a: {b: 1}})?.a?.b === 1 && (null ?? 7) === 7 && 2 ** 10 === 1024 && 1_000 === 1000`,
		`(() => { let x = null; x ??= 1; x ||= 2; x &&= 3; return x === 3; })()`,
		`10n ** 20n > 0n`,
		`[1, [2, [3]]].flat(Infinity).length === 3 && [3, 1].toSorted()[0] === 1 && [1, 2].at(-1) === 2 && [1, 2].findLast(x => x) === 2 && [1, 2].with(0, 9)[0] === 9`,
		`Object.entries({a: 1}).length === 1 && Object.fromEntries([["a", 1]]).a === 1 && Object.hasOwn({a: 1}, "a")`,
		`"abc".replaceAll("b", "x") === "axc" && [..."a1b2".matchAll(/\d/g)].length === 2 && "x".at(0) === "x"`,
		`"2024-01-02".match(/(?<y>\d{4})/).groups.y === "2024" && /(?<=\$)\d+/.exec("$42")[0] === "42" && /a.c/s.test("a\nc")`,
		`new Proxy({}, {get: () => 5}).x === 5 && Reflect.ownKeys({a: 1}).length === 1`,
		`new Error("e", {cause: "c"}).cause === "c"`,
		`typeof Promise.allSettled === "function" && typeof Promise.any === "function"`,
		`JSON.stringify({d: new Date(0)}) === '{"d":"1970-01-01T00:00:00.000Z"}'`,
		`typeof Set.prototype.union === "function"`,
	}
	// What V8 (ES2024) has and goja does not: each expression is true.
	missing := []string{
		`typeof Intl === "undefined"`,
		`typeof Object.groupBy === "undefined" && typeof Map.groupBy === "undefined"`,
		`typeof Promise.withResolvers === "undefined"`,
		`typeof String.prototype.isWellFormed === "undefined"`,
		`typeof ArrayBuffer.prototype.resize === "undefined" && typeof ArrayBuffer.prototype.transfer === "undefined"`,
		`typeof Array.fromAsync === "undefined" && typeof Symbol.asyncIterator === "undefined"`,
		`typeof WeakRef === "undefined" && typeof FinalizationRegistry === "undefined"`,
		`typeof Atomics === "undefined" && typeof SharedArrayBuffer === "undefined"`,
		`typeof structuredClone === "undefined" && typeof atob === "undefined" && typeof TextEncoder === "undefined" && typeof URL === "undefined"`,
		`typeof Error.captureStackTrace === "undefined"`,
		`/\p{L}/u.test("a") === false`, // Unicode property escapes parse but never match
		`(() => { try { new RegExp("a", "d"); return false; } catch (e) { return e instanceof SyntaxError; } })()`,
		`(() => { try { new RegExp("a", "v"); return false; } catch (e) { return e instanceof SyntaxError; } })()`,
		`(() => { try { (1234.5).toLocaleString("de-DE"); return false; } catch (e) { return e instanceof RangeError; } })()`,
	}
	check := func(t *testing.T, expr string) {
		t.Helper()
		script := "function executeScript(event) {\n  event.setParameter(\"ok\", " + expr + ");\n}"
		vars, _, err := jsRun(t.Context(), t, jsCompile(t, script, Options{}), nil, nil)
		if got, _ := vars.Lookup("ok"); err != nil || !got.Bool() {
			t.Errorf("%s: %v, %v", expr, got, err)
		}
	}
	for _, e := range supported {
		check(t, e)
	}
	for _, e := range missing {
		check(t, e)
	}
	for _, src := range []string{
		"async function* g() {}\nfunction executeScript(event) {}",
		"async function executeScript(event) { for await (const x of []) {} }",
		"import x from \"m\";\nfunction executeScript(event) {}",
		"export function executeScript(event) {}",
	} {
		if _, err := jsCompileParams(Options{}, map[string]*spec.ValueType{pScript: jsStr(src)}); err == nil || !strings.HasPrefix(err.Error(), "script syntax error") {
			t.Errorf("%q compiled: %v", src, err)
		}
	}
}

// jsVersion is a version in the shape of the reference samples' JavaScript
// tasks (a JSDoc header, console.log, a FATAL conditional failure policy).
func jsVersion(t *testing.T, script string) *spec.IntegrationVersion {
	t.Helper()
	s, _ := json.Marshal(script)
	text := `{
  "triggerConfigs": [{"triggerType": "API", "triggerId": "api_trigger/js", "startTasks": [{"taskId": "1"}]}],
  "taskConfigs": [{
    "task": "JavaScriptTask", "taskId": "1", "displayName": "JavaScript",
    "parameters": {"script": {"key": "script", "value": {"stringValue": ` + string(s) + `}},
                   "javaScriptEngine": {"key": "javaScriptEngine", "value": {"stringValue": "V8"}}},
    "taskExecutionStrategy": "WHEN_ALL_SUCCEED",
    "conditionalFailurePolicies": {"failurePolicies": [{"retryStrategy": "FATAL", "condition": "1 > 0"}], "defaultFailurePolicy": {}},
    "externalTaskType": "NORMAL_TASK"
  }],
  "integrationParameters": [
    {"key": "total", "dataType": "INT_VALUE", "defaultValue": {"intValue": "40"}, "inputOutputType": "IN"},
    {"key": "order", "dataType": "JSON_VALUE", "defaultValue": {"jsonValue": "{\"id\": \"o-1\", \"lines\": [{\"sku\": \"a\", \"qty\": 2}]}"}},
    {"key": "summary", "dataType": "STRING_VALUE", "inputOutputType": "OUT"}
  ]
}`
	v, err := spec.DecodeVersion([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestJavaScriptInARun(t *testing.T) {
	t.Parallel()
	run := func(t *testing.T, script string) *engine.Result {
		p, iss := engine.Compile(jsVersion(t, script), jsTestRegistry(Options{}), engine.Limits{})
		if len(iss) > 0 {
			t.Fatalf("compile: %v", iss)
		}
		return engine.Run(t.Context(), p, engine.Request{TriggerID: "api_trigger/js",
			Exec: engine.ExecInfo{ExecutionID: "e-1", IntegrationName: "orders", Mode: "SYNC"}}, engine.Options{})
	}
	t.Run("succeeds", func(t *testing.T) {
		t.Parallel()
		res := run(t, `
/**
 * Function that is called during the JavaScript Task execution.
 * @param {IntegrationEvent} event
 */
function executeScript(event) {
    console.log("Checking order " + event.getParameter("order").id);
    const order = event.getParameter("order");
    const qty = order.lines.reduce((n, l) => n + l.qty, 0);
    event.setParameter("total", event.getParameter("total") + qty);
    event.setParameter("summary", JSON.stringify({id: order.id, qty}));
}`)
		if res.State != engine.StateSucceeded {
			t.Fatalf("state %s: %v", res.State, res.Err)
		}
		if got := res.Vars["total"]; got.Kind() != value.Int || got.Int() != 42 {
			t.Errorf("total = %s %v, want int 42", got.Kind(), got)
		}
		if got := res.Vars["summary"].Str(); got != `{"id":"o-1","qty":2}` {
			t.Errorf("summary = %s", got)
		}
		if len(res.Logs) != 1 || res.Logs[0].Msg != "Checking order o-1" || res.Logs[0].TaskID != "1" {
			t.Errorf("logs = %+v", res.Logs)
		}
	})
	t.Run("throws", func(t *testing.T) {
		t.Parallel()
		res := run(t, "function executeScript(event) {\n  throw new Error(\"no stock for \" + event.getParameter(\"order\").id);\n}")
		if res.State != engine.StateFailed || res.ErrorTask != "1" || jsErrorMessage(res.Err) != "script error at line 2: Error: no stock for o-1" {
			t.Errorf("state %s, task %s, err %v", res.State, res.ErrorTask, res.Err)
		}
	})
}

func BenchmarkTrivialScript(b *testing.B) {
	task := jsCompile(b, "function executeScript(event) {\n  event.setParameter(\"n\", event.getParameter(\"n\") + 1);\n}", Options{})
	vars := value.NewVars(map[string]value.Kind{"n": value.Int})
	_ = vars.Set("n", value.Integer(0))
	tc := jsContext(vars, &jsLog{})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := task.Execute(ctx, tc); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if n, _ := vars.Lookup("n"); n.Int() == 0 {
		b.Fatal("the script did not run")
	}
}

// BenchmarkScriptFeatures shows what the lazily installed parts cost: the
// console object and the guards of the built-ins a script names.
func BenchmarkScriptFeatures(b *testing.B) {
	for _, c := range []struct{ name, body string }{
		{"console", `console.log("n is", event.getParameter("n"));`},
		{"string guards", `event.setParameter("s", "ab".repeat(2).padEnd(5));`},
		{"array guards", `event.setParameter("s", Array.from([1, 2]).fill(0).join("-"));`},
		{"buffer guards", `event.setParameter("s", new Uint8Array(4).length);`},
		{"JSON in and out", `const o = event.getParameter("o"); o.n = (o.n || 0) + 1; event.setParameter("o", o);`},
	} {
		b.Run(c.name, func(b *testing.B) {
			task := jsCompile(b, "function executeScript(event) {\n  "+c.body+"\n}", Options{})
			vars := value.NewVars(map[string]value.Kind{"n": value.Int, "o": value.JSON})
			_ = vars.Set("o", jsJSON(b, `{"id":"o-1","lines":[{"sku":"a","qty":2},{"sku":"b","qty":1}],"total":{"amount":12.5,"currency":"EUR"}}`))
			tc := jsContext(vars, &jsLog{})
			b.ReportAllocs()
			for b.Loop() {
				if err := task.Execute(context.Background(), tc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkGojaRuntime is the measurement behind a fresh runtime per
// attempt: reusing one saves a few microseconds but cannot undo what a
// script did to the globals and built-in prototypes.
func BenchmarkGojaRuntime(b *testing.B) {
	prog, err := jsCompileScriptForBench()
	if err != nil {
		b.Fatal(err)
	}
	call := func(vm *goja.Runtime) {
		if _, err := vm.RunProgram(prog); err != nil {
			b.Fatal(err)
		}
		fn, _ := goja.AssertFunction(vm.Get("executeScript"))
		if _, err := fn(goja.Undefined(), vm.NewObject()); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("fresh", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			call(goja.New())
		}
	})
	b.Run("reused", func(b *testing.B) {
		vm := goja.New()
		b.ReportAllocs()
		for b.Loop() {
			call(vm)
		}
	})
}

func jsCompileScriptForBench() (*goja.Program, error) {
	return jsCompileSource("function executeScript(event) { return 1; }")
}

func TestJavaScriptLogTruncation(t *testing.T) {
	t.Parallel()
	_, logs, err := jsRun(t.Context(), t, jsCompile(t, `function executeScript(event) { console.log("z".repeat(100000)); }`, Options{}), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(logs) != 1 || len(logs[0]) > jsMaxLogBytes+64 || !strings.HasSuffix(logs[0], fmt.Sprintf("… (%d bytes truncated)", 100000-jsMaxLogBytes)) {
		t.Errorf("log line of %d bytes", len(logs[0]))
	}
}

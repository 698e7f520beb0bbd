package jsonnetlib_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/integrationd/integrationd/internal/jsonnetlib"
	"github.com/integrationd/integrationd/internal/value"
)

func mustCompile(t testing.TB, src string) *jsonnetlib.Template {
	t.Helper()
	tpl, err := jsonnetlib.Compile("template", src)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return tpl
}

func mustJSON(t testing.TB, text string) value.Value {
	t.Helper()
	j, err := value.ParseJSON(text)
	if err != nil {
		t.Fatal(err)
	}
	return value.FromJSON(j)
}

// testVars holds one variable of every kind, plus backtick names.
func testVars(t testing.TB) *value.Vars {
	decl := map[string]value.Kind{
		"s": value.String, "i": value.Int, "d": value.Double, "b": value.Bool,
		"sa": value.StringArray, "ia": value.IntArray, "da": value.DoubleArray, "ba": value.BoolArray,
		"jo": value.JSON, "ja": value.JSON, "js": value.String, "unset": value.Int,
		"`Task_1_responseStatus`": value.String, "retryCounter": value.Int,
	}
	vs := value.NewVars(decl)
	set := func(name string, v value.Value) {
		if err := vs.Set(name, v); err != nil {
			t.Fatal(err)
		}
	}
	set("s", value.Str("hello"))
	set("i", value.Integer(42))
	set("d", value.Float(2.5))
	set("b", value.Boolean(true))
	set("sa", value.Strings([]string{"a", "b"}))
	set("ia", value.Ints([]int64{1, 2}))
	set("da", value.Floats([]float64{1.5, 2}))
	set("ba", value.Bools([]bool{true, false}))
	set("jo", mustJSON(t, `{"z": 1, "a": {"b": [true, null, "x"]}}`))
	set("ja", mustJSON(t, `[{"k": 1}, 2]`))
	set("js", value.Str(`{"not": "parsed"}`))
	set("`Task_1_responseStatus`", value.Str("503 Service Unavailable"))
	set("retryCounter", value.Integer(2))
	set("transient", value.Str("undeclared"))
	return vs
}

func TestExtVarTyping(t *testing.T) {
	t.Parallel()
	vs := testVars(t)
	tests := []struct{ name, expr, want string }{
		{"string", `std.extVar("s")`, `"hello"`},
		{"int is a number", `std.extVar("i") + 1`, `43`},
		{"double is a number", `std.extVar("d") * 2`, `5`},
		{"boolean", `std.extVar("b") && true`, `true`},
		{"string array", `std.extVar("sa")`, `["a","b"]`},
		{"int array", `std.extVar("ia")[1] + 1`, `3`},
		{"double array", `std.extVar("da")`, `[1.5,2]`},
		{"boolean array", `std.extVar("ba")`, `[true,false]`},
		{"JSON object", `std.extVar("jo").a.b`, `[true,null,"x"]`},
		{"JSON array", `std.extVar("ja")[0].k`, `1`},
		{"a string holding JSON stays a string", `std.type(std.extVar("js"))`, `"string"`},
		{"parseJson reads it", `std.parseJson(std.extVar("js")).not`, `"parsed"`},
		{"declared without a value is null", `std.extVar("unset")`, `null`},
		{"undeclared transient", `std.extVar("transient")`, `"undeclared"`},
		{"backtick name", "std.extVar(\"`Task_1_responseStatus`\")", `"503 Service Unavailable"`},
		{"backtick name without backticks", `std.extVar("Task_1_responseStatus")`, `"503 Service Unavailable"`},
		{"f.extVar", `f.extVar("i")`, `42`},
		{"f.extVar with backticks", "f.extVar(\"`Task_1_responseStatus`\")", `"503 Service Unavailable"`},
		{"status-based-retry shape", "std.parseJson(std.split(std.extVar(\"`Task_1_responseStatus`\"), \" \")[0])", `503`},
		{"read twice", `[std.extVar("s"), f.extVar("s")]`, `["hello","hello"]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tpl := mustCompile(t, "local f = import \"functions\";\n{ r: "+tt.expr+" }")
			out, err := testEvaluator.Evaluate(t.Context(), tpl, jsonnetlib.Input{Vars: vs})
			if err != nil {
				t.Fatalf("%s: %v", tt.expr, err)
			}
			r, _ := out.(*value.Object).Get("r")
			if got := value.EncodeJSON(r); got != tt.want {
				t.Errorf("%s = %s, want %s", tt.expr, got, tt.want)
			}
		})
	}
}

func TestTemplateVars(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, src string
		want      []string
		all       bool
	}{
		{"literal names", `local f = import "functions"; {a: std.extVar("x"), b: f.extVar("y"), c: std.extVar("x")}`, []string{"x", "y"}, false},
		{"backtick names", "{a: std.extVar(\"`Task_1_x`\")}", []string{"`Task_1_x`"}, false},
		{"import used directly", `{a: (import "functions").extVar("x")}`, []string{"x"}, false},
		{"other std functions", `{a: std.length(std.extVar("x")), b: std["map"](function(v) v, [])}`, []string{"x"}, false},
		{"no variables", `{a: 1}`, nil, false},
		{"computed name", `local n = "x"; {a: std.extVar(n)}`, nil, true},
		{"extVar as a value", `local e = std.extVar; {a: e("x")}`, []string{}, true},
		{"std as a value", `local s = std; {a: s.extVar("x")}`, []string{"x"}, true},
		{"library as a value", `local f = import "functions"; local g = f; {a: g.extVar("x")}`, []string{"x"}, true},
		{"dynamic field of std", `local k = "extVar"; {a: std[k]("x")}`, nil, true},
		{"named argument", `{a: std.extVar(x="v")}`, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			names, all := mustCompile(t, tt.src).Vars()
			if all != tt.all || (!all && !slices.Equal(names, tt.want)) {
				t.Errorf("Vars() = %q, %v; want %q, %v", names, all, tt.want, tt.all)
			}
		})
	}
}

// A template the scan cannot follow still sees every variable.
func TestVarsWithComputedNames(t *testing.T) {
	t.Parallel()
	tpl := mustCompile(t, "local f = import \"functions\";\nlocal get = f.extVar;\n{ r: [get(n) for n in [\"s\", \"i\", \"Task_1_responseStatus\"]] }")
	if _, all := tpl.Vars(); !all {
		t.Fatal("Vars() all = false, want true")
	}
	out, err := testEvaluator.Evaluate(t.Context(), tpl, jsonnetlib.Input{Vars: testVars(t)})
	if err != nil {
		t.Fatal(err)
	}
	r, _ := out.(*value.Object).Get("r")
	if got, want := value.EncodeJSON(r), `["hello",42,"503 Service Unavailable"]`; got != want {
		t.Errorf("r = %s, want %s", got, want)
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, src string
		compile   bool // the error comes from Compile
		want      string
	}{
		{"syntax error", "local f = import \"functions\";\n{\n  a: 1 +\n}", true, `template:4:1: Unexpected: "}" while parsing terminal`},
		{"unknown variable", "{\n  a: nope,\n}", true, "template:2:6: Unknown variable: nope"},
		{"other import", "local x = import \"other.libsonnet\";\n{}", true, `template:1:11: cannot import "other.libsonnet": only the "functions" library can be imported`},
		{"importstr", "{ a: importstr \"/etc/passwd\" }", true, `template:1:6: cannot import "/etc/passwd"`},
		{"error", "local f = import \"functions\";\n{\n  a: 1,\n  b: error \"boom\",\n}", false, "template:4:6: boom"},
		{"assertion", "{\n  a: std.assertEqual(1, 2),\n}", false, "template:2:6: Assertion failed. 1 != 2"},
		{"type error", "{\n  a: 1 + {},\n}", false, "template:2:6: Unexpected type object, expected number"},
		{"unknown extVar", "local f = import \"functions\";\n{\n  a: f.extVar(\"nope\"),\n}", false, "template:3:6: Undefined external variable: nope"},
		{"unknown std.extVar", "{ a: std.extVar(\"nope\") }", false, "template:1:6: Undefined external variable: nope"},
		{"error in a library function", "local f = import \"functions\";\n{ a: f.dateFormat(0, \"YYYY\", \"Nowhere\") }", false, `template:2:6: dateFormat: unknown time zone "Nowhere"`},
		{"deep recursion", "local r(n) = 1 + r(n + 1);\n{ a: r(0) }", false, "max stack frames exceeded"},
		{"go-jsonnet panic", "{ a: std.removeAt([1], 5) }", false, "template: internal error in the Jsonnet interpreter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tpl, err := jsonnetlib.Compile("template", tt.src)
			if tt.compile {
				if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
					t.Fatalf("Compile error = %v, want %q", err, tt.want)
				}
				var je *jsonnetlib.Error
				if !errors.As(err, &je) || je.Line == 0 {
					t.Errorf("Compile error %#v is not a located *jsonnetlib.Error", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			_, err = testEvaluator.Evaluate(t.Context(), tpl, jsonnetlib.Input{Vars: testVars(t)})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Evaluate error = %v, want %q", err, tt.want)
			}
			var je *jsonnetlib.Error
			if !errors.As(err, &je) {
				t.Errorf("Evaluate error %#v is not a *jsonnetlib.Error", err)
			}
		})
	}
}

func TestResultShapes(t *testing.T) {
	t.Parallel()
	for src, want := range map[string]string{
		`[1, 2]`:                    `[1,2]`,
		`"text"`:                    `"text"`,
		`{a: 1, h:: 2, b+: {c: 3}}`: `{"a":1,"b":{"c":3}}`, // hidden fields are not output
	} {
		out, err := testEvaluator.Evaluate(t.Context(), mustCompile(t, src), jsonnetlib.Input{})
		if err != nil {
			t.Fatal(err)
		}
		if got := value.EncodeJSON(out); got != want {
			t.Errorf("%s = %s, want %s", src, got, want)
		}
	}
}

// Consecutive evaluations on one pooled VM see their own variables and
// execution, whichever template ran before.
func TestEvaluationsAreIndependent(t *testing.T) {
	t.Parallel()
	ev := jsonnetlib.NewEvaluator(jsonnetlib.Options{})
	a := mustCompile(t, "local f = import \"functions\";\n{ r: f.extVar(\"s\") + \"@\" + f.getExecutionId() }")
	b := mustCompile(t, "local f = import \"functions\";\n{ r: std.extVar(\"s\") + std.toString(f.extVar(\"i\")) }")
	for n, c := range []struct {
		tpl     *jsonnetlib.Template
		s, exec string
		i       int64
		want    string
	}{
		{a, "x", "e1", 0, `"x@e1"`},
		{a, "y", "e2", 0, `"y@e2"`},
		{b, "z", "e3", 7, `"z7"`},
		{a, "w", "e4", 0, `"w@e4"`},
		{b, "v", "e5", 8, `"v8"`},
	} {
		vs := value.NewVars(nil)
		_ = vs.Set("s", value.Str(c.s))
		_ = vs.Set("i", value.Integer(c.i))
		out, err := ev.Evaluate(t.Context(), c.tpl, jsonnetlib.Input{Vars: vs, Exec: jsonnetlib.ExecInfo{ExecutionID: c.exec}})
		if err != nil {
			t.Fatal(err)
		}
		r, _ := out.(*value.Object).Get("r")
		if got := value.EncodeJSON(r); got != c.want {
			t.Errorf("evaluation %d: r = %s, want %s", n, got, c.want)
		}
	}
}

func TestTraceGoesToLog(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var lines []string
	tpl := mustCompile(t, "{\n  a: std.trace(\"hello\", 1),\n}")
	_, err := testEvaluator.Evaluate(t.Context(), tpl, jsonnetlib.Input{Log: func(s string) {
		mu.Lock()
		defer mu.Unlock()
		lines = append(lines, s)
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 1 || !strings.Contains(lines[0], "template:2") || !strings.Contains(lines[0], "hello") {
		t.Errorf("log = %q, want one line with the position and the message", lines)
	}
}

// spin runs for a long time in constant memory and shallow recursion.
const spin = "{ a: std.foldl(function(a, i) a + std.foldl(function(b, j) b + j, std.range(1, 1e4), 0), std.range(1, 1e4), 0) }"

func TestCancellation(t *testing.T) {
	t.Parallel()
	tpl := mustCompile(t, spin)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := testEvaluator.Evaluate(ctx, tpl, jsonnetlib.Input{})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Evaluate = %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Evaluate stopped after %v, want about 50ms", d)
	} else {
		t.Logf("stopped %v after the deadline", d-50*time.Millisecond)
	}
	// A context that has already ended stops it before it starts.
	_, err = testEvaluator.Evaluate(ctx, tpl, jsonnetlib.Input{})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Evaluate on an ended context = %v, want context.DeadlineExceeded", err)
	}
	// The evaluator still works afterwards.
	if _, err := testEvaluator.Evaluate(t.Context(), mustCompile(t, `{a: 1}`), jsonnetlib.Input{}); err != nil {
		t.Errorf("Evaluate after a cancellation: %v", err)
	}
}

// TestMemoryLimit is not parallel: the guard watches the whole process.
func TestMemoryLimit(t *testing.T) {
	ev := jsonnetlib.NewEvaluator(jsonnetlib.Options{MemoryBytes: 32 << 20})
	// A linked list grows by one live object per inner step.
	tpl := mustCompile(t, "local grow(acc, i) = std.foldl(function(l, j) {next: l, v: [i, j]}, std.range(1, 1000), acc);\n{ a: std.foldl(grow, std.range(1, 1e5), {}) }")
	start := time.Now()
	_, err := ev.Evaluate(t.Context(), tpl, jsonnetlib.Input{})
	if !errors.Is(err, jsonnetlib.ErrMemoryLimit) {
		t.Fatalf("Evaluate = %v, want ErrMemoryLimit", err)
	}
	t.Logf("stopped after %v: %v", time.Since(start), err)
	// Templates that stay within the limit still run.
	out, err := ev.Evaluate(t.Context(), mustCompile(t, `{a: std.foldl(function(n, x) n + x, std.range(1, 1000), 0)}`), jsonnetlib.Input{})
	if err != nil {
		t.Fatal(err)
	}
	if got := value.EncodeJSON(out); got != `{"a":500500}` {
		t.Errorf("result = %s", got)
	}
}

func TestTooDeep(t *testing.T) {
	t.Parallel()
	ev := jsonnetlib.NewEvaluator(jsonnetlib.Options{MaxDepth: 5000})
	for _, src := range []string{
		"local loop(n) = if n == 0 then 0 else loop(n - 1) tailstrict;\n{ a: loop(1e9) }",
		"{ a: std.all(std.makeArray(1e5, function(i) true)) }",
		"{ a: std.length(std.range(1, 1e5)[1:]) }",
	} {
		if _, err := ev.Evaluate(t.Context(), mustCompile(t, src), jsonnetlib.Input{}); !errors.Is(err, jsonnetlib.ErrTooDeep) {
			t.Errorf("%s: Evaluate = %v, want ErrTooDeep", src, err)
		}
	}
	// Within the bound, the same functions work.
	out, err := ev.Evaluate(t.Context(), mustCompile(t, "{ a: std.all(std.makeArray(500, function(i) true)) }"), jsonnetlib.Input{})
	if err != nil || value.EncodeJSON(out) != `{"a":true}` {
		t.Errorf("std.all over 500 elements = %v, %v", out, err)
	}
}

func TestConcurrentEvaluations(t *testing.T) {
	t.Parallel()
	tpl := mustCompile(t, "local f = import \"functions\";\nlocal o = f.extVar(\"order\");\n{ total: f.sum([i.q * i.p for i in o.items]), id: o.id, exec: f.getExecutionId() }")
	const workers, rounds = 16, 40
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for r := range rounds {
				vs := value.NewVars(map[string]value.Kind{"order": value.JSON})
				_ = vs.Set("order", mustJSON(t, fmt.Sprintf(`{"id": "o-%d-%d", "items": [{"q": %d, "p": 2}, {"q": 1, "p": 0.5}]}`, w, r, r)))
				exec := fmt.Sprintf("e-%d-%d", w, r)
				out, err := testEvaluator.Evaluate(context.Background(), tpl, jsonnetlib.Input{Vars: vs, Exec: jsonnetlib.ExecInfo{ExecutionID: exec}})
				if err != nil {
					errs <- err
					return
				}
				want := fmt.Sprintf(`{"exec":"%s","id":"o-%d-%d","total":%s}`, exec, w, r, value.EncodeJSON(float64(2*r)+0.5))
				if got := value.EncodeJSON(out); got != want {
					errs <- fmt.Errorf("got %s, want %s", got, want)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func BenchmarkTrivialEvaluate(b *testing.B) {
	tpl := mustCompile(b, "local f = import \"functions\";\n{ hello: \"world\", n: f.extVar(\"i\") + 1 }")
	vs := testVars(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := testEvaluator.Evaluate(context.Background(), tpl, jsonnetlib.Input{Vars: vs}); err != nil {
			b.Fatal(err)
		}
	}
}

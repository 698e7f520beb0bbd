package mapping

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/integrationd/integrationd/internal/value"
)

// TestRowRules pins the row-level rules: cardinality, defaultValue,
// conversion to the output variable, nested output paths and ordering.
func TestRowRules(t *testing.T) {
	t.Parallel()
	preset := value.Str("untouched")
	tests := []struct {
		name  string
		cfg   string
		decl  map[string]value.Kind
		vars  map[string]value.Value
		want  map[string]value.Value // variables after the run
		err   string                 // exact error text when non-empty
		errIn string                 // substring of the error
	}{
		{name: "required null input fails",
			cfg: config(mapped(ref("$missing$"), "$out$")),
			err: "mapping row 1: input $missing$ is null or not found (the row is required: set cardinality OPTIONAL or a defaultValue)"},
		{name: "required declared but unset fails",
			cfg:   config(mapped(ref("$declared$"), "$out$")),
			decl:  map[string]value.Kind{"declared": value.String},
			errIn: "input $declared$ is null or not found"},
		{name: "required missing path fails",
			cfg:   config(mapped(ref("$obj.a.b$"), "$out$")),
			vars:  map[string]value.Value{"obj": J(`{"a":{}}`)},
			errIn: "input $obj.a.b$ is null or not found"},
		{name: "optional null input skips the row",
			cfg:  config(mapped(ref("$missing$"), "$out$").optional()),
			vars: map[string]value.Value{"out": preset},
			want: map[string]value.Value{"out": preset}},
		{name: "optional on the input field",
			cfg: config(mrow{
				"inputField":  map[string]any{"cardinality": "OPTIONAL", "transformExpression": ref("$missing$")},
				"outputField": map[string]any{"referenceKey": "$out$"},
			}),
			vars: map[string]value.Value{"out": preset},
			want: map[string]value.Value{"out": preset}},
		{name: "optional null mid-chain skips the row",
			cfg:  config(mapped(ref("$obj$").fn("json", "GET_PROPERTY", s("nope")).fn("json", "TO_INT"), "$out$").optional()),
			vars: map[string]value.Value{"obj": J(`{"a":1}`), "out": preset},
			want: map[string]value.Value{"out": preset}},
		{name: "explicit JSON null is null",
			cfg:  config(mapped(ref("$obj$").fn("json", "GET_PROPERTY", s("a")), "$out$").optional()),
			vars: map[string]value.Value{"obj": J(`{"a":null}`), "out": preset},
			want: map[string]value.Value{"out": preset}},
		{name: "defaultValue when null (required)",
			cfg:  config(mapped(ref("$missing$"), "$out$").withDefault("fallback")),
			want: map[string]value.Value{"out": value.Str("fallback")}},
		{name: "defaultValue wins over OPTIONAL",
			cfg:  config(mapped(ref("$missing$"), "$out$").optional().withDefault(7)),
			want: map[string]value.Value{"out": value.Integer(7)}},
		{name: "defaultValue unused when a value exists",
			cfg:  config(mapped(s("x"), "$out$").withDefault("fallback")),
			want: map[string]value.Value{"out": value.Str("x")}},
		{name: "null parameter fails a required row",
			cfg: config(mapped(s("a").fn("string", "CONCAT", ref("$missing$")), "$out$")),
			err: "mapping row 1: string CONCAT: parameter 1 ($missing$) is null or not found (the row is required: set cardinality OPTIONAL or a defaultValue)"},
		{name: "null parameter skips an optional row",
			cfg:  config(mapped(s("a").fn("string", "CONCAT", ref("$missing$")), "$out$").optional()),
			vars: map[string]value.Value{"out": preset},
			want: map[string]value.Value{"out": preset}},
		{name: "null parameter takes the default",
			cfg:  config(mapped(s("a").fn("string", "CONCAT", ref("$missing$")), "$out$").withDefault("d")),
			want: map[string]value.Value{"out": value.Str("d")}},
		{name: "function errors are not ignored under OPTIONAL",
			cfg:  config(mapped(ref("$arr$").fn("stringArray", "GET", n(2)), "$out$").optional()),
			vars: map[string]value.Value{"arr": value.Strings([]string{"a"})},
			err:  "mapping row 1: stringArray GET(2): index 2 out of range [0,1)"},
		{name: "output converted to the declared kind",
			cfg:  config(mapped(s("42"), "$out$")),
			decl: map[string]value.Kind{"out": value.Int},
			want: map[string]value.Value{"out": value.Integer(42)}},
		{name: "json array written into a string array variable",
			cfg:  config(mapped(lit(jsonText(`["a","b"]`)), "$out$")),
			decl: map[string]value.Kind{"out": value.StringArray},
			want: map[string]value.Value{"out": value.Strings([]string{"a", "b"})}},
		{name: "failed conversion at the output fails the row",
			cfg:  config(mapped(s("abc"), "$out$")),
			decl: map[string]value.Kind{"out": value.Int},
			err:  `mapping row 1: write $out$: variable out: cannot convert string "abc" to int: not an integer`},
		{name: "failed conversion of a defaultValue fails the row",
			cfg:   config(mapped(ref("$missing$"), "$out$").withDefault("abc")),
			decl:  map[string]value.Kind{"out": value.Bool},
			errIn: "write $out$"},
		{name: "nested output path is created",
			cfg:  config(mapped(s("shipped"), "$payload.order.status$")),
			want: map[string]value.Value{"payload": J(`{"order":{"status":"shipped"}}`)}},
		{name: "nested output path keeps other keys",
			cfg:  config(mapped(n(3), "$`Task_4_connectorInputPayload`.quantity$")),
			decl: map[string]value.Kind{"`Task_4_connectorInputPayload`": value.JSON},
			vars: map[string]value.Value{"`Task_4_connectorInputPayload`": J(`{"order_id":"o1"}`)},
			want: map[string]value.Value{"`Task_4_connectorInputPayload`": J(`{"order_id":"o1","quantity":3}`)}},
		{name: "nested output with index",
			cfg:  config(mapped(lit(true), "$payload.items[1].ok$")),
			vars: map[string]value.Value{"payload": J(`{"items":[{"ok":false}]}`)},
			want: map[string]value.Value{"payload": J(`{"items":[{"ok":false},{"ok":true}]}`)}},
		{name: "nested output into a non-JSON variable fails",
			cfg:   config(mapped(n(1), "$s.a$")),
			decl:  map[string]value.Kind{"s": value.String},
			errIn: "mapping row 1: write $s.a$: variable s is string, not JSON"},
		{name: "backtick name with a dot writes the declared variable",
			cfg:  config(mapped(n(500), "$`ErrorInfo.code`$")),
			decl: map[string]value.Kind{"`ErrorInfo`": value.JSON},
			vars: map[string]value.Value{"`ErrorInfo`": J(`{"message":"m","code":0}`)},
			want: map[string]value.Value{"`ErrorInfo`": J(`{"message":"m","code":500}`)}},
		{name: "later rows see earlier writes",
			cfg: config(
				mapped(s(`{ "RemoteFile" : "$path$" }`), "$tmpl$"),
				mapped(ref("$tmpl$").fn("string", "TO_JSON"), "$j$"),
				mapped(ref("$j$").fn("json", "RESOLVE_TEMPLATE"), "$j$"),
				mapped(ref("$j$").fn("json", "TO_STRING"), "$text$"),
			),
			vars: map[string]value.Value{"path": value.Str("/in/a.csv")},
			want: map[string]value.Value{
				"j":    J(`{"RemoteFile":"/in/a.csv"}`),
				"text": value.Str("{\n  \"RemoteFile\": \"/in/a.csv\"\n}"),
			}},
		{name: "stops at the first failing row",
			cfg: config(
				mapped(s("one"), "$a$"),
				mapped(ref("$arr$").fn("stringArray", "GET", n(5)), "$b$"),
				mapped(s("three"), "$c$"),
			),
			vars: map[string]value.Value{"arr": value.Strings([]string{"x", "y", "z"})},
			err:  "mapping row 2: stringArray GET(5): index 5 out of range [0,3)"},
		{name: "input referenceKey without an expression",
			cfg: config(mrow{
				"inputField":  map[string]any{"referenceKey": "$obj.a$"},
				"outputField": map[string]any{"referenceKey": "$out$"},
			}),
			vars: map[string]value.Value{"obj": J(`{"a":"x"}`)},
			want: map[string]value.Value{"out": value.FromJSON("x")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := Compile(tc.cfg)
			if err != nil {
				t.Fatalf("Compile: %v", err)
			}
			env := newEnv(t, tc.decl, tc.vars)
			err = p.Run(t.Context(), env)
			switch {
			case tc.err != "" || tc.errIn != "":
				if err == nil {
					t.Fatalf("Run() = nil, want an error")
				}
				if tc.err != "" && err.Error() != tc.err {
					t.Fatalf("Run() error = %q, want %q", err, tc.err)
				}
				if tc.errIn != "" && !strings.Contains(err.Error(), tc.errIn) {
					t.Fatalf("Run() error = %q, want it to contain %q", err, tc.errIn)
				}
				var me *Error
				if !errors.As(err, &me) || me.Row == 0 {
					t.Fatalf("Run() error %#v is not an *Error with a row", err)
				}
			case err != nil:
				t.Fatalf("Run() = %v", err)
			}
			for k, want := range tc.want {
				got, _ := env.Lookup(k)
				if !sameValue(got, want) {
					t.Errorf("%s = %s, want %s", k, show(got), show(want))
				}
			}
		})
	}
}

func TestErrorFields(t *testing.T) {
	t.Parallel()
	p, err := Compile(config(mapped(s("x"), "$a$"), mapped(ref("$arr$").fn("stringArray", "GET", n(5)), "$b$")))
	if err != nil {
		t.Fatal(err)
	}
	err = p.Run(t.Context(), newEnv(t, nil, map[string]value.Value{"arr": value.Strings([]string{"a", "b", "c"})}))
	var me *Error
	if !errors.As(err, &me) {
		t.Fatalf("Run() = %v, want *Error", err)
	}
	want := Error{Row: 2, Function: "stringArray GET(5)", Msg: "index 5 out of range [0,3)"}
	if me.Row != want.Row || me.Function != want.Function || me.Msg != want.Msg {
		t.Fatalf("Error = %+v, want %+v", *me, want)
	}
}

// cancelEnv cancels its context when $v$ is read (inside the loop body).
type cancelEnv struct {
	*testEnv
	cancel context.CancelFunc
	reads  int
}

func (e *cancelEnv) Lookup(name string) (value.Value, bool) {
	e.reads++
	if name == "v" {
		e.cancel()
	}
	return e.testEnv.Lookup(name)
}

func TestContextCancellation(t *testing.T) {
	t.Parallel()
	t.Run("before a row", func(t *testing.T) {
		t.Parallel()
		p, err := Compile(config(mapped(s("x"), "$a$")))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if err := p.Run(ctx, newEnv(t, nil, nil)); !errors.Is(err, context.Canceled) {
			t.Fatalf("Run() = %v, want context.Canceled", err)
		}
	})
	for _, fn := range []struct{ family, name string }{{"stringArray", "FOR_EACH"}, {"stringArray", "FILTER"}} {
		t.Run(fn.name, func(t *testing.T) {
			t.Parallel()
			body := ref("~x").fn("string", "EQUALS", ref("$v$"))
			p, err := Compile(config(mapped(ref("$arr$").fn(fn.family, fn.name, lambda(body)), "$out$")))
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			env := &cancelEnv{testEnv: newEnv(t, nil, map[string]value.Value{
				"arr": value.Strings([]string{"a", "b", "c", "d"}), "v": value.Str("a"),
			}), cancel: cancel}
			err = p.Run(ctx, env)
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("Run() = %v, want context.Canceled", err)
			}
			if !strings.HasPrefix(err.Error(), "mapping row 1: stringArray "+fn.name) {
				t.Errorf("error = %q, want it to name the loop", err)
			}
			if env.reads != 2 { // $arr$, then $v$ for the first element only
				t.Errorf("%d variable reads, want 2 (the loop must stop)", env.reads)
			}
		})
	}
}

// panicEnv panics on every read.
type panicEnv struct{ *testEnv }

func (panicEnv) Lookup(string) (value.Value, bool) { panic("boom") }

func TestPanicBecomesError(t *testing.T) {
	t.Parallel()
	p, err := Compile(config(mapped(s("x"), "$a$"), mapped(ref("$v$"), "$b$")))
	if err != nil {
		t.Fatal(err)
	}
	err = p.Run(t.Context(), panicEnv{newEnv(t, nil, nil)})
	var me *Error
	if !errors.As(err, &me) || me.Row != 2 || !strings.Contains(me.Msg, "internal error: boom") {
		t.Fatalf("Run() = %#v, want row 2 internal error", err)
	}
}

func TestBaseDefaults(t *testing.T) {
	t.Parallel()
	p, err := Compile(config(mapped(base("GET_UUID"), "$id$"), mapped(base("NOW_IN_MILLIS"), "$now$")))
	if err != nil {
		t.Fatal(err)
	}
	env := newEnv(t, nil, nil)
	env.base = BaseContext{} // no Now, no NewUUID: the defaults apply
	before := time.Now().UnixMilli()
	if err := p.Run(t.Context(), env); err != nil {
		t.Fatal(err)
	}
	id, _ := env.Lookup("id")
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(id.Str()) {
		t.Errorf("GET_UUID = %q, want a lowercase version 4 UUID", id.Str())
	}
	now, _ := env.Lookup("now")
	if now.Int() < before || now.Int() > time.Now().UnixMilli() {
		t.Errorf("NOW_IN_MILLIS = %d, want the wall clock", now.Int())
	}
}

// TestConcurrentRuns shares one Program between goroutines (run with -race).
func TestConcurrentRuns(t *testing.T) {
	t.Parallel()
	p, err := Compile(config(
		mapped(ref("$in$").fn("json", "FOR_EACH", lambda(ref("~x").fn("json", "SET_PROPERTY", ref("$tag$"), s("tag")))), "$out$"),
		mapped(ref("$out$").fn("json", "GET_ELEMENT", n(0)).fn("json", "GET_PROPERTY", s("tag")), "$first$"),
		mapped(s("2024-05-01").fn("string", "REPLACE_ALL", s(`(\d+)-(\d+)-(\d+)`), s("$3/$2/$1")), "$date$"),
		mapped(n(1714521600000).fn("int", "EPOCH_TO_HUMAN_READABLE_TIME", s("EEEE d MMMM yyyy HH:mm z"), s("Europe/Paris")), "$when$"),
	))
	if err != nil {
		t.Fatal(err)
	}
	in := J(`[{"a":1},{"a":2}]`)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tag := fmt.Sprintf("t%d", i)
			env := newEnv(t, nil, map[string]value.Value{"in": in, "tag": value.Str(tag)})
			if err := p.Run(context.Background(), env); err != nil {
				errs <- err
				return
			}
			first, _ := env.Lookup("first")
			date, _ := env.Lookup("date")
			when, _ := env.Lookup("when")
			if first.Text() != tag || date.Str() != "01/05/2024" || when.Str() != "Wednesday 1 May 2024 02:00 CEST" {
				errs <- fmt.Errorf("run %d: first=%s date=%s when=%s", i, first, date, when)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := value.EncodeJSON(in.JSON()); got != `[{"a":1},{"a":2}]` {
		t.Errorf("input mutated: %s", got)
	}
}

package mapping

import (
	"context"
	"encoding/json"
	"errors"
	"sort"
	"testing"
	"time"

	"github.com/integrationd/integrationd/internal/value"
)

// FuzzCompile checks that Compile never panics, that its errors are
// *Errors, and that a compiled program runs against a small variable set
// without panicking and fails only with *Errors.
func FuzzCompile(f *testing.F) {
	for _, fx := range loadFixtures(f) {
		f.Add(fx.configText())
	}
	for _, tc := range functionCases {
		f.Add(config(mapped(tc.expr, "$out$")))
	}
	for _, s := range []string{
		``, `{}`, `null`, `"{}"`, `[]`, `{"mappedFields":[{}]}`, `{'mappedFields': [{'inputField': {'referenceKey': '$j.a$'}, 'outputField': {'referenceKey': '$o.b[2]$'}}]}`,
		config(mapped(ref("$j$").fn("json", "FOR_EACH", lambda(ref("~x").fn("json", "FOR_EACH", lambda(ref("~x"))))), "$j.x$")),
		config(mapped(s("a$n$b").fn("string", "RESOLVE_TEMPLATE").fn("string", "REPLACE_ALL", s("(a)(b)?"), s("$2$1\\$")), "$`T_1`.a$")),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, cfg string) {
		p, err := Compile(cfg)
		if err != nil {
			var me *Error
			if !errors.As(err, &me) {
				t.Fatalf("Compile error %#v holds no *Error", err)
			}
			return
		}
		_ = p.String()
		env := newEnv(t, map[string]value.Kind{"n": value.Int, "s": value.String, "j": value.JSON, "arr": value.StringArray, "out": value.JSON},
			map[string]value.Value{
				"n":   value.Integer(5),
				"s":   value.Str("a,b.c"),
				"j":   J(`{"a":[1,{"b":"x"}],"s":"$s$","n":2.5}`),
				"arr": value.Strings([]string{"x", "y", ""}),
				"in":  J(`[1,2,3]`),
			})
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err := p.Run(ctx, env); err != nil {
			var me *Error
			if !errors.As(err, &me) {
				t.Fatalf("Run error %#v is not an *Error", err)
			}
		}
	})
}

// fuzzTargets lists every supported function as "family short name, name".
func fuzzTargets() [][2]string {
	var out [][2]string
	for _, key := range familyOrder {
		f := families[key]
		if f.unsupported != "" {
			continue
		}
		names := make([]string, 0, len(f.fns))
		for name, s := range f.fns {
			if s.unsupported == "" {
				names = append(names, name)
			}
		}
		sort.Strings(names)
		for _, name := range names {
			out = append(out, [2]string{f.short, name})
		}
	}
	return out
}

// FuzzFunctions runs one function of the catalogue on a fuzzed input with
// fuzzed string parameters (converted to the declared parameter types at
// compile time), checking that nothing panics and that every failure is an
// *Error.
func FuzzFunctions(f *testing.F) {
	targets := fuzzTargets()
	for i := range targets {
		for _, seed := range [][3]string{
			{"[1,2,3]", "1", "2"}, {"hello.world", ".", "x"}, {`{"a":{"b":[1,"$s$"]}}`, "a.b[1]", "$n$"},
			{"1667494335011", "EEE, d MMM yyyy HH:mm:ss.SSS z", "UTC+05:30"}, {"2.5", "-1", "0"},
			{`["x","y","x"]`, "x", "true"}, {"SGVsbG8=", `(\w)(\w)`, "$2$1"}, {"true", "false", "Europe/Paris"},
		} {
			f.Add(uint16(i), seed[0], seed[1], seed[2])
		}
	}
	f.Fuzz(func(t *testing.T, which uint16, in, a1, a2 string) {
		target := targets[int(which)%len(targets)]
		fam := families[target[0]+"Function"]
		spec := fam.fns[target[1]]
		var params []te
		switch {
		case spec.lambda:
			params = []te{lambda(ref("~x").fn("json", "EQUALS", s(a1)))}
		case spec.variadic:
			params = []te{s(a1), s(a2)}
		default:
			for i := range spec.params {
				params = append(params, s([]string{a1, a2}[i%2]))
			}
		}
		var init te
		switch {
		case fam.kind == value.Null:
			init = base(target[1], params...)
		case json.Valid([]byte(in)):
			init = lit(jsonText(in)).fn(target[0], target[1], params...)
		default:
			init = s(in).fn(target[0], target[1], params...)
		}
		p, err := Compile(config(mapped(init, "$out$").optional()))
		if err != nil {
			var me *Error
			if !errors.As(err, &me) {
				t.Fatalf("Compile error %#v holds no *Error", err)
			}
			return
		}
		env := newEnv(t, nil, map[string]value.Value{"n": value.Integer(5), "s": value.Str("x")})
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err := p.Run(ctx, env); err != nil {
			var me *Error
			if !errors.As(err, &me) {
				t.Fatalf("Run error %#v is not an *Error", err)
			}
		}
	})
}

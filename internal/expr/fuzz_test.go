package expr

import (
	"strings"
	"testing"

	"github.com/integrationd/integrationd/internal/value"
)

// fuzzSeeds are odd inputs on top of every condition of the tests.
var fuzzSeeds = []string{
	"\u00a0\u2028\u2029\u3000",
	"$a$ =\u00a0\u00a0b",
	"$`a b`$ : 'ü\\u0000'",
	"$ü$ = ü",
	"\xff\xfe",
	"$a$ = \"\xc3\x28\"",
	"$\xe2\x82$ = 1",
	"\"\\ud800\" = \"\\udc00\"",
	"\"\\ud83d\\ude00\" : 😀",
	"[[[[[]]]]] = []",
	"-0.0 = -0",
	"0.000000000000000000000000000001 > 0",
	"179769313486231570000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000.0 > 1",
	"NOT NOT NOT !!!$a$",
	"exists(exists)",
	"exists(EXISTS($a$))",
	"$a.b[0][1].c$ : [1, [2], \"3\", null, true]",
	"$`ErrorInfo.code[0]`$ = 1",
	"$a$ = \"\\$\\q\\\\\"",
	"$a$\t=\r\n'x'\u200b",
	"$$$$",
	"$`$`$",
	"``",
	"(((",
	")))",
	"a & b | c",
	"'\\u'",
}

// fuzzVars is the fixed variable set the fuzzer evaluates against.
func fuzzVars(t testing.TB) value.MapGetter {
	g := sampleVars(t)
	for k, v := range kindSamples(t) {
		g[k] = v
	}
	g["a"] = js(t, `{"b": [[0, {"c": "x"}]], "": 1}`)
	return g
}

func FuzzCompile(f *testing.F) {
	for _, c := range realConditions {
		f.Add(c.cond)
	}
	for _, c := range semanticCases {
		f.Add(c.cond)
	}
	for _, c := range syntaxCases {
		if len(c.cond) < 1000 {
			f.Add(c.cond)
		}
	}
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	g := fuzzVars(f)
	f.Fuzz(func(t *testing.T, text string) {
		p, err := Compile(text)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("Compile(%q) error %T, want *Error", text, err)
			}
			_ = err.Error()
			return
		}
		printed := p.String()
		p2, err := Compile(printed)
		if err != nil {
			t.Fatalf("Compile(%q) = %q, which does not compile: %v", text, printed, err)
		}
		if again := p2.String(); again != printed {
			t.Fatalf("String not stable for %q: %q then %q", text, printed, again)
		}
		ok1, err1 := p.Eval(g)
		ok2, err2 := p2.Eval(g)
		if err1 != nil && strings.Contains(err1.Error(), "internal error") {
			t.Fatalf("Eval(%q) panicked: %v", text, err1)
		}
		if ok1 != ok2 || (err1 == nil) != (err2 == nil) {
			t.Fatalf("Eval(%q) = %v, %v but Eval(%q) = %v, %v", text, ok1, err1, printed, ok2, err2)
		}
		if ok1 && err1 != nil {
			t.Fatalf("Eval(%q) = true with error %v", text, err1)
		}
		_, _ = p.Eval(nil)
		_ = p.Refs()
	})
}

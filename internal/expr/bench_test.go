package expr

import (
	"testing"

	"github.com/integrationd/integrationd/internal/value"
)

// BenchmarkEval compiles once, outside the loop, and evaluates inside it.
func BenchmarkEval(b *testing.B) {
	g := value.MapGetter{
		"a":                               value.Integer(42),
		"b":                               value.Str("x"),
		"retryCounter":                    value.Integer(1),
		"responseCode":                    value.Integer(500),
		"`ErrorInfo`":                     js(b, `{"message": "", "code": 404.0}`),
		"ErrorMessage":                    {},
		"claim":                           value.Str("Process"),
		"`Task_3_connectorOutputPayload`": js(b, `[]`),
		"tags":                            value.Strings([]string{"red", "green", "blue"}),
	}
	for _, bc := range []struct{ name, cond string }{
		{"compare_and", `$a$ > 10 AND $b$ = "x"`},
		{"while_nbsp", "$retryCounter$ < 2 AND\u00a0$responseCode$ >= 400"},
		{"error_code_alt", "$`ErrorInfo.code`$ = 404"},
		{"not_exists", `NOT exists($ErrorMessage$)`},
		{"bare_word", `$claim$ = Process`},
		{"empty_array", "$`Task_3_connectorOutputPayload`$ = []"},
		{"contains", `$tags$ : blue`},
		{"numeric_string", `$a$ = "42"`},
		{"constant", `1 > 0`},
	} {
		b.Run(bc.name, func(b *testing.B) {
			p, err := Compile(bc.cond)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if ok, err := p.Eval(g); !ok || err != nil {
					b.Fatalf("Eval(%q) = %v, %v", bc.cond, ok, err)
				}
			}
		})
	}
}

// BenchmarkCompile is the one-off cost paid when a version is published.
func BenchmarkCompile(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compile("$retryCounter$ < 2 AND\u00a0$responseCode$ >= 400 OR NOT exists($`ErrorInfo.code`$)"); err != nil {
			b.Fatal(err)
		}
	}
}

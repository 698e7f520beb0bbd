// Package expr is the condition language of integrations: the text on
// edges (nextTasks[].condition, startTasks[].condition), in While-loop
// conditions and in conditional failure policies, as described in
// ../shared/docs/reference.md §3.1. The decisions it makes where the
// reference service is silent are listed in docs/conditions.md.
//
// A condition is compiled once (Compile: lexing, parsing and every syntax
// check) and evaluated many times (Program.Eval), by any number of
// goroutines, against a value.Getter:
//
//	p, err := expr.Compile(`$responseCode$ >= 400 AND $claim$ = Process`)
//	ok, err := p.Eval(vars)
//
// Grammar (keywords are case-insensitive; whitespace is any Unicode space,
// including U+00A0):
//
//	condition := [ or ]                      empty: always true
//	or        := and { ("OR" | "||") and }
//	and       := cmp { ("AND" | "&&") cmp }
//	cmp       := unary { cmpop unary }       left-associative
//	cmpop     := "=" | "==" | "!=" | "<" | "<=" | ">" | ">=" | ":"
//	unary     := ("NOT" | "!") unary | primary
//	primary   := "(" or ")" | "exists" "(" operand ")" | operand
//	operand   := $ref$ | "string" | 'string' | number | true | false | null
//	           | array | bareword
//	array     := "[" [ literal { "," literal } [ "," ] ] "]"
//
// NOT binds tighter than the comparisons: NOT $a$ = $b$ is (NOT $a$) = $b$.
// Write NOT ($a$ = $b$) to negate a comparison.
package expr

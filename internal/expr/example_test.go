package expr_test

import (
	"fmt"

	"github.com/integrationd/integrationd/internal/expr"
	"github.com/integrationd/integrationd/internal/value"
)

func Example() {
	// Compile once, when the version is published...
	p, err := expr.Compile("$retryCounter$ < 2 AND $`ErrorInfo.code`$ = 404 AND $claim$ = Process")
	if err != nil {
		panic(err)
	}
	fmt.Println(p)
	// ...evaluate many times.
	code, _ := value.ParseJSON(`{"message": "Not Found", "code": 404}`)
	vars := value.MapGetter{
		"retryCounter": value.Integer(1),
		"`ErrorInfo`":  value.FromJSON(code),
		"claim":        value.Str("Process"),
	}
	fmt.Println(p.Eval(vars))
	// Output:
	// $retryCounter$ < 2 AND $`ErrorInfo.code`$ = 404 AND $claim$ = "Process"
	// true <nil>
}

func ExampleCompile_error() {
	_, err := expr.Compile(`NOT ($isNameUnique$ = false OR $numAccounts$ > 1`)
	fmt.Println(err)
	// Output:
	// 1:5: unclosed '(': missing ')'
	//  | NOT ($isNameUnique$ = false OR $numAccounts$ > 1
	//  |     ^
}

func ExampleProgram_Eval_typeError() {
	p, _ := expr.Compile(`$count$ < 2`)
	ok, err := p.Eval(value.MapGetter{}) // $count$ is undeclared: null
	fmt.Println(ok, err)
	// Output:
	// false $count$ < 2: cannot compare null with int using <
}

package aip_test

import (
	"fmt"

	"github.com/integrationd/integrationd/internal/aip"
)

func ExampleParse() {
	e, err := aip.Parse(`trigger_id="api_trigger/orders" AND event_execution_state="FAILED"`)
	if err != nil {
		panic(err)
	}
	cs, ok := aip.Conjuncts(e)
	fmt.Println(ok)
	for _, c := range cs {
		fmt.Printf("%s %s %q\n", c.Field, c.Op, c.Value)
	}

	_, err = aip.Parse(`state = ACTIVE OR`)
	fmt.Println(err)
	// Output:
	// true
	// trigger_id = "api_trigger/orders"
	// event_execution_state = "FAILED"
	// INVALID_ARGUMENT: invalid filter: expected a field name, found end of filter at column 18
	// state = ACTIVE OR
	//                  ^
}

func ExampleEval() {
	e, _ := aip.Parse(`snapshot_number > 9 AND "parameter_type" HAS "string"`)
	record := map[string][]string{"snapshot_number": {"12"}, "parameter_type": {"string", "int"}}
	ok, err := aip.Eval(e, func(f string) ([]string, bool) { v, ok := record[f]; return v, ok })
	fmt.Println(ok, err)
	// Output: true <nil>
}

func ExampleEncodeToken() {
	sum := aip.Checksum("projects/p/locations/l/integrations/x", "", "createTime desc")
	next := aip.EncodeToken("2024-05-01T10:00:00Z/e-42", sum)

	cursor, err := aip.DecodeToken(next, sum)
	fmt.Println(cursor, err)

	_, err = aip.DecodeToken(next, aip.Checksum("projects/p/locations/l/integrations/x", `state = "FAILED"`, "createTime desc"))
	fmt.Println(err)
	// Output:
	// 2024-05-01T10:00:00Z/e-42 <nil>
	// INVALID_ARGUMENT: invalid page_token: does not match the request: parent, filter and order_by must be those of the request that returned the token
}

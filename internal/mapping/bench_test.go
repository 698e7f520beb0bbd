package mapping

import (
	"encoding/base64"
	"testing"

	"github.com/integrationd/integrationd/internal/value"
)

// BenchmarkRunFiveRows runs a compiled 5-row mapping of mixed functions:
// a FOR_EACH/MULTIPLY/SUM total, a FILTER_ELEMENTS, a CONCAT of a base
// function into a JSON path, a JWT expiry check and a string-array
// FOR_EACH. Compilation happens once, outside the loop.
func BenchmarkRunFiveRows(b *testing.B) {
	qty := ref("~x").fn("json", "GET_PROPERTY", s("qty")).fn("json", "TO_DOUBLE").
		fn("double", "MULTIPLY", ref("~x").fn("json", "GET_PROPERTY", s("price")).fn("json", "TO_DOUBLE"))
	p, err := Compile(config(
		mapped(ref("$order$").fn("json", "GET_PROPERTY", s("line_items")).fn("json", "FOR_EACH", lambda(qty)).
			fn("json", "TO_DOUBLE_ARRAY").fn("doubleArray", "SUM"), "$total$"),
		mapped(ref("$order$").fn("json", "GET_PROPERTY", s("line_items")).fn("json", "FILTER_ELEMENTS",
			lambda(ref("~x").fn("json", "GET_PROPERTY", s("vendor")).fn("json", "TO_STRING").fn("string", "EQUALS", s("External")))), "$external$"),
		mapped(s("readme-").fn("string", "CONCAT", base("GET_EXECUTION_ID")).fn("string", "CONCAT", s(".txt")).fn("string", "TO_JSON"), "$payload.object$"),
		mapped(ref("$token$").fn("string", "SPLIT", s(".")).fn("stringArray", "GET", n(1)).fn("string", "DECODE_BASE64_STRING").
			fn("string", "TO_JSON").fn("json", "GET_PROPERTY", s("exp")).fn("json", "TO_INT").fn("int", "MULTIPLY", n(1000)).
			fn("int", "LESS_THAN", base("NOW_IN_MILLIS")), "$expired$"),
		mapped(ref("$names$").fn("stringArray", "FOR_EACH", lambda(ref("~x").fn("string", "TO_UPPERCASE"))).
			fn("json", "TO_STRING_ARRAY").fn("stringArray", "APPEND", s("END")), "$upper$"),
	))
	if err != nil {
		b.Fatal(err)
	}
	claims := base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"svc","exp":1700000000}`))
	env := newEnv(b, map[string]value.Kind{"total": value.Double, "external": value.JSON, "payload": value.JSON,
		"expired": value.Bool, "upper": value.StringArray}, map[string]value.Value{
		"order": J(`{"id":"o-1","line_items":[
			{"sku":"a","qty":2,"price":10.5,"vendor":"Internal"},
			{"sku":"b","qty":"3","price":1.25,"vendor":"External"},
			{"sku":"c","qty":1,"price":"99.99","vendor":"External"},
			{"sku":"d","qty":4,"price":0.5,"vendor":"Internal"}]}`),
		"token": value.Str("eyJhbGciOiJub25lIn0." + claims + ".sig"),
		"names": value.Strings([]string{"ana", "bo", "cy"}),
	})
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		if err := p.Run(ctx, env); err != nil {
			b.Fatal(err)
		}
	}
	if v, _ := env.Lookup("total"); v.Double() != 2*10.5+3*1.25+99.99+2 {
		b.Fatalf("total = %v", v)
	}
}

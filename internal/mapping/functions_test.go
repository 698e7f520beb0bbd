package mapping

import (
	"math"
	"sort"
	"strings"
	"testing"

	"github.com/integrationd/integrationd/internal/value"
)

// fnCase evaluates expr in a one-row mapping into $out$ and checks the
// value written, or that the error (compile or run) contains err.
type fnCase struct {
	name string
	expr te
	vars map[string]value.Value
	want value.Value
	err  string
}

func s(x string) te { return lit(x) }
func n(x int) te    { return lit(x) }

// Variables shared by the cases.
var commonVars = map[string]value.Value{
	"var2":       value.Str("World"),
	"num":        value.Integer(5),
	"order":      J(`{"billTo":{"street":"1 Main St","city":"Sunnyvale"},"id":7}`),
	"strs":       value.Strings([]string{"Hello", "Apigee", "Integrations"}),
	"pattern":    value.Str(`(\w+)@(\w+)`),
	"emptyInts":  value.Ints(nil),
	"emptyFloat": value.Floats(nil),
	"product":    J(`{"productId":23,"productName":"radio"}`),
}

var functionCases = []fnCase{
	// §1 base
	{name: "base/NOW_IN_MILLIS", expr: base("NOW_IN_MILLIS"), want: value.Integer(testNow)},
	{name: "base/NOW_IN_MILLIS/doc", expr: base("NOW_IN_MILLIS").fn("int", "EPOCH_TO_HUMAN_READABLE_TIME", s("d MMM yyyy HH:mm:ss:SSS z"), s("GMT")),
		want: value.Str("14 Jul 2022 07:26:20:839 GMT")},
	{name: "base/INT_LIST", expr: base("INT_LIST", n(2), n(5)), want: value.Ints([]int64{2, 3, 4})},
	{name: "base/INT_LIST/empty", expr: base("INT_LIST", n(5), n(5)), want: value.Ints(nil)},
	{name: "base/INT_LIST/reversed", expr: base("INT_LIST", n(5), n(2)), want: value.Ints(nil)},
	{name: "base/INT_LIST/too long", expr: base("INT_LIST", n(0), n(1_000_000_000)), err: "longer than the limit"},
	{name: "base/ENVIRONMENT", expr: base("ENVIRONMENT"), want: value.Str("staging")},
	{name: "base/GET_EXECUTION_ID", expr: base("GET_EXECUTION_ID"), want: value.Str("exec-1")},
	{name: "base/GET_INTEGRATION_NAME", expr: base("GET_INTEGRATION_NAME"), want: value.Str("orders")},
	{name: "base/GET_REGION", expr: base("GET_REGION"), want: value.Str("us-central1")},
	{name: "base/GET_UUID", expr: base("GET_UUID"), want: value.Str(testUUID)},
	{name: "base/GET_PROJECT_ID", expr: base("GET_PROJECT_ID"), want: value.Str("my-project")},

	// §2 string
	{name: "string/CONCAT/doc", expr: s("readme-").fn("string", "CONCAT", base("GET_EXECUTION_ID")).fn("string", "CONCAT", s(".txt")),
		want: value.Str("readme-exec-1.txt")},
	{name: "string/CONCAT/int param", expr: s("n=").fn("string", "CONCAT", ref("$num$")), want: value.Str("n=5")},
	{name: "string/CONCAT/nested parameter", expr: s("id = '").fn("string", "CONCAT", ref("$var2$").fn("string", "CONCAT", s("'"))),
		want: value.Str("id = 'World'")},
	{name: "string/TO_UPPERCASE", expr: s("straße").fn("string", "TO_UPPERCASE"), want: value.Str("STRASSE")},
	{name: "string/TO_LOWERCASE", expr: s("HeLLo").fn("string", "TO_LOWERCASE"), want: value.Str("hello")},
	{name: "string/CONTAINS/doc", expr: s("Hello Apigee Integrations").fn("string", "CONTAINS", s("xyz")), want: value.Boolean(false)},
	{name: "string/CONTAINS/case sensitive", expr: s("Hello Apigee").fn("string", "CONTAINS", s("apigee")), want: value.Boolean(false)},
	{name: "string/CONTAINS/found", expr: s("Hello Apigee").fn("string", "CONTAINS", s("Apigee")), want: value.Boolean(true)},
	{name: "string/CONTAINS/empty needle", expr: s("abc").fn("string", "CONTAINS", s("")), want: value.Boolean(true)},
	{name: "string/SPLIT/doc1", expr: s("Hello Apigee Integrations").fn("string", "SPLIT", s(" ")),
		want: value.Strings([]string{"Hello", "Apigee", "Integrations"})},
	{name: "string/SPLIT/doc2", expr: s("Test,Integrations").fn("string", "SPLIT", s(",")), want: value.Strings([]string{"Test", "Integrations"})},
	{name: "string/SPLIT/dot is literal", expr: s("a.b.c").fn("string", "SPLIT", s(".")), want: value.Strings([]string{"a", "b", "c"})},
	{name: "string/SPLIT/keeps empty fields", expr: s(",a,,b,").fn("string", "SPLIT", s(",")), want: value.Strings([]string{"", "a", "", "b", ""})},
	{name: "string/SPLIT/multi-char", expr: s("a::b").fn("string", "SPLIT", s("::")), want: value.Strings([]string{"a", "b"})},
	{name: "string/LENGTH", expr: s("abc").fn("string", "LENGTH"), want: value.Integer(3)},
	{name: "string/LENGTH/utf16", expr: s("héllo😀").fn("string", "LENGTH"), want: value.Integer(7)},
	{name: "string/EQUALS", expr: s("abc").fn("string", "EQUALS", s("abc")), want: value.Boolean(true)},
	{name: "string/EQUALS/case", expr: s("abc").fn("string", "EQUALS", s("ABC")), want: value.Boolean(false)},
	{name: "string/EQUALS_IGNORE_CASE", expr: s("abc").fn("string", "EQUALS_IGNORE_CASE", s("ABC")), want: value.Boolean(true)},
	{name: "string/TO_INT/doc", expr: s("35").fn("string", "TO_INT"), want: value.Integer(35)},
	{name: "string/TO_INT/blanks", expr: s(" -7 ").fn("string", "TO_INT"), want: value.Integer(-7)},
	{name: "string/TO_INT/decimal", expr: s("2.5").fn("string", "TO_INT"), err: `"2.5" is not an integer`},
	{name: "string/TO_INT/range", expr: s("99999999999999999999").fn("string", "TO_INT"), err: "out of the int64 range"},
	{name: "string/TO_DOUBLE/doc", expr: s("2.5").fn("string", "TO_DOUBLE"), want: value.Float(2.5)},
	{name: "string/TO_DOUBLE/bad", expr: s("abc").fn("string", "TO_DOUBLE"), err: "not a finite number"},
	{name: "string/TO_DOUBLE/NaN", expr: s("NaN").fn("string", "TO_DOUBLE"), err: "not a finite number"},
	{name: "string/TO_BOOLEAN/doc true", expr: s("true").fn("string", "TO_BOOLEAN"), want: value.Boolean(true)},
	{name: "string/TO_BOOLEAN/doc FALSE", expr: s("FALSE").fn("string", "TO_BOOLEAN"), want: value.Boolean(false)},
	{name: "string/TO_BOOLEAN/other", expr: s("yes").fn("string", "TO_BOOLEAN"), err: "not true or false"},
	{name: "string/TO_BASE_64/doc", expr: s("Hello World!").fn("string", "TO_BASE_64"), want: value.Str("SGVsbG8gV29ybGQh")},
	{name: "string/TO_BASE_64/padding", expr: s(">>>?").fn("string", "TO_BASE_64"), want: value.Str("Pj4+Pw==")},
	{name: "string/DECODE_BASE64_STRING/doc", expr: s("SGVsbG8gSW50ZWdyYXRpb24h").fn("string", "DECODE_BASE64_STRING"), want: value.Str("Hello Integration!")},
	{name: "string/DECODE_BASE64_STRING/std padded", expr: s("Pj4+Pw==").fn("string", "DECODE_BASE64_STRING"), want: value.Str(">>>?")},
	{name: "string/DECODE_BASE64_STRING/url unpadded", expr: s("Pj4-Pw").fn("string", "DECODE_BASE64_STRING"), want: value.Str(">>>?")},
	{name: "string/DECODE_BASE64_STRING/mime lines", expr: s("SGVs\r\nbG8=").fn("string", "DECODE_BASE64_STRING"), want: value.Str("Hello")},
	{name: "string/DECODE_BASE64_STRING/invalid", expr: s("***").fn("string", "DECODE_BASE64_STRING"), err: "not base64"},
	{name: "string/TO_JSON/doc", expr: s(`{product: "cake", id: 21, price: 5}`).fn("string", "TO_JSON"), want: J(`{"product":"cake","id":21,"price":5}`)},
	{name: "string/TO_JSON/plain text", expr: s("readme-exec-1.txt").fn("string", "TO_JSON"), want: value.FromJSON("readme-exec-1.txt")},
	{name: "string/TO_JSON/sentence", expr: s("hello world").fn("string", "TO_JSON"), want: value.FromJSON("hello world")},
	{name: "string/TO_JSON/number", expr: s("42").fn("string", "TO_JSON"), want: value.FromJSON(42.0)},
	{name: "string/TO_JSON/broken object", expr: s(`{"a": `).fn("string", "TO_JSON"), err: "invalid JSON"},
	{name: "string/REPLACE_ALL/doc", expr: s("HelloApigee").fn("string", "REPLACE_ALL", s("Apigee"), s("Google")), want: value.Str("HelloGoogle")},
	{name: "string/REPLACE_ALL/groups", expr: s("2024-05-01").fn("string", "REPLACE_ALL", s(`(\d+)-(\d+)-(\d+)`), s("$3/$2/$1")), want: value.Str("01/05/2024")},
	{name: "string/REPLACE_ALL/java group digits", expr: s("ab").fn("string", "REPLACE_ALL", s("(a)"), s("$12$1x")), want: value.Str("a2axb")},
	{name: "string/REPLACE_ALL/named group", expr: s("ab").fn("string", "REPLACE_ALL", s("(?P<first>a)"), s("[${first}]")), want: value.Str("[a]b")},
	{name: "string/REPLACE_ALL/escaped dollar", expr: s("a1").fn("string", "REPLACE_ALL", s(`\d`), s(`\$`)), want: value.Str("a$")},
	{name: "string/REPLACE_ALL/regex", expr: s("a.b.c").fn("string", "REPLACE_ALL", s(`\.`), s("/")), want: value.Str("a/b/c")},
	{name: "string/REPLACE_ALL/empty matches", expr: s("abc").fn("string", "REPLACE_ALL", s("x*"), s("-")), want: value.Str("-a-b-c-")},
	{name: "string/REPLACE_ALL/dynamic pattern", expr: s("joe@example").fn("string", "REPLACE_ALL", ref("$pattern$"), s("$2:$1")), want: value.Str("example:joe")},
	{name: "string/REPLACE_ALL/lookahead rejected", expr: s("a").fn("string", "REPLACE_ALL", s("a(?=b)"), s("x")), err: "RE2 syntax"},
	{name: "string/REPLACE_ALL/bad group", expr: s("a").fn("string", "REPLACE_ALL", s("(a)"), s("$2")), err: "no group 2"},
	{name: "string/REPLACE_ALL/bad reference", expr: s("a").fn("string", "REPLACE_ALL", s("a"), s("$x")), err: "illegal group reference"},
	{name: "string/SUBSTRING/doc", expr: s("HelloApigee").fn("string", "SUBSTRING", n(1), n(5)), want: value.Str("ello")},
	{name: "string/SUBSTRING/out of range", expr: s("HelloApigee").fn("string", "SUBSTRING", n(1), n(50)), err: "begin 1, end 50, length 11"},
	{name: "string/SUBSTRING/start after end", expr: s("Hello").fn("string", "SUBSTRING", n(3), n(2)), err: "begin 3, end 2, length 5"},
	{name: "string/SUBSTRING/negative", expr: s("Hello").fn("string", "SUBSTRING", n(-1), n(2)), err: "begin -1"},
	{name: "string/SUBSTRING/utf16", expr: s("a😀b").fn("string", "SUBSTRING", n(1), n(3)), want: value.Str("😀")},
	{name: "string/RESOLVE_TEMPLATE/doc", expr: s("Hello $var2$").fn("string", "RESOLVE_TEMPLATE"), want: value.Str("Hello World")},
	{name: "string/RESOLVE_TEMPLATE/path", expr: s("Ship to $order.billTo.street$, $order.billTo.city$").fn("string", "RESOLVE_TEMPLATE"),
		want: value.Str("Ship to 1 Main St, Sunnyvale")},
	{name: "string/RESOLVE_TEMPLATE/json value", expr: s("b=$order.billTo$").fn("string", "RESOLVE_TEMPLATE"),
		want: value.Str(`b={"street":"1 Main St","city":"Sunnyvale"}`)},
	{name: "string/RESOLVE_TEMPLATE/undeclared kept", expr: s("x $nope$ y").fn("string", "RESOLVE_TEMPLATE"), want: value.Str("x $nope$ y")},
	{name: "string/RESOLVE_TEMPLATE/missing path empty", expr: s("x[$order.zip$]").fn("string", "RESOLVE_TEMPLATE"), want: value.Str("x[]")},

	// §3 int
	{name: "int/ADD", expr: n(2).fn("int", "ADD", n(3)), want: value.Integer(5)},
	{name: "int/ADD/wraps", expr: lit(int64(math.MaxInt64)).fn("int", "ADD", n(1)), want: value.Integer(math.MinInt64)},
	{name: "int/SUBTRACT", expr: n(5).fn("int", "SUBTRACT", n(7)), want: value.Integer(-2)},
	{name: "int/MULTIPLY", expr: n(6).fn("int", "MULTIPLY", n(7)), want: value.Integer(42)},
	{name: "int/DIVIDE/doc", expr: n(16).fn("int", "DIVIDE", n(3)), want: value.Integer(5)},
	{name: "int/DIVIDE/toward zero", expr: n(-7).fn("int", "DIVIDE", n(2)), want: value.Integer(-3)},
	{name: "int/DIVIDE/by zero", expr: n(1).fn("int", "DIVIDE", n(0)), err: "int DIVIDE(0): division by zero"},
	{name: "int/MOD/doc", expr: n(90).fn("int", "MOD", n(3)), want: value.Integer(0)},
	{name: "int/MOD/dividend sign", expr: n(-7).fn("int", "MOD", n(3)), want: value.Integer(-1)},
	{name: "int/MOD/by zero", expr: n(7).fn("int", "MOD", n(0)), err: "division by zero"},
	{name: "int/EXPONENT/doc", expr: n(5).fn("int", "EXPONENT", n(3)), want: value.Integer(125)},
	{name: "int/EXPONENT/zero", expr: n(5).fn("int", "EXPONENT", n(0)), want: value.Integer(1)},
	{name: "int/EXPONENT/negative", expr: n(2).fn("int", "EXPONENT", n(-1)), want: value.Integer(0)},
	{name: "int/EXPONENT/negative one", expr: n(-1).fn("int", "EXPONENT", n(-3)), want: value.Integer(-1)},
	{name: "int/EXPONENT/zero negative", expr: n(0).fn("int", "EXPONENT", n(-1)), err: "division by zero"},
	{name: "int/EXPONENT/overflow", expr: n(2).fn("int", "EXPONENT", n(63)), err: "overflows int64"},
	{name: "int/EXPONENT/max", expr: n(-2).fn("int", "EXPONENT", n(63)), want: value.Integer(math.MinInt64)},
	{name: "int/GREATER_THAN", expr: n(3).fn("int", "GREATER_THAN", n(2)), want: value.Boolean(true)},
	{name: "int/GREATER_THAN_EQUAL_TO", expr: n(2).fn("int", "GREATER_THAN_EQUAL_TO", n(2)), want: value.Boolean(true)},
	{name: "int/LESS_THAN", expr: n(2).fn("int", "LESS_THAN", n(2)), want: value.Boolean(false)},
	{name: "int/LESS_THAN_EQUAL_TO", expr: n(2).fn("int", "LESS_THAN_EQUAL_TO", n(2)), want: value.Boolean(true)},
	{name: "int/LESS_THAN/now", expr: n(1700000).fn("int", "MULTIPLY", n(1000)).fn("int", "LESS_THAN", base("NOW_IN_MILLIS")), want: value.Boolean(true)},
	{name: "int/EQUALS", expr: n(2).fn("int", "EQUALS", n(2)), want: value.Boolean(true)},
	{name: "int/TO_DOUBLE/doc", expr: n(22).fn("int", "TO_DOUBLE"), want: value.Float(22)},
	{name: "int/TO_STRING/doc", expr: n(235).fn("int", "TO_STRING"), want: value.Str("235")},
	{name: "int/TO_JSON", expr: n(235).fn("int", "TO_JSON"), want: value.FromJSON(235.0)},
	{name: "int/EPOCH_TO_HUMAN_READABLE_TIME/doc1", expr: lit(int64(1667494335011)).fn("int", "EPOCH_TO_HUMAN_READABLE_TIME", s("EEE, d MMM yyyy HH:mm:ss z"), s("UTC")),
		want: value.Str("Thu, 3 Nov 2022 16:52:15 UTC")},
	{name: "int/EPOCH_TO_HUMAN_READABLE_TIME/doc2", expr: lit(int64(1667494335011)).fn("int", "EPOCH_TO_HUMAN_READABLE_TIME", s("EEE, yy-MM-dd HH:mm:ss,SSS"), s("GMT")),
		want: value.Str("Thu, 22-11-03 16:52:15,011")},
	{name: "int/EPOCH_TO_HUMAN_READABLE_TIME/zone default", expr: lit(int64(0)).fn("int", "EPOCH_TO_HUMAN_READABLE_TIME", s("yyyy-MM-dd'T'HH:mm:ssXXX")),
		want: value.Str("1970-01-01T00:00:00Z")},
	{name: "int/EPOCH_TO_HUMAN_READABLE_TIME/dynamic", expr: lit(int64(1667494335011)).fn("int", "EPOCH_TO_HUMAN_READABLE_TIME", ref("$fmt$"), ref("$zone$")),
		vars: map[string]value.Value{"fmt": value.Str("hh:mm a, EEEE d MMMM"), "zone": value.Str("Australia/Melbourne")},
		want: value.Str("03:52 AM, Friday 4 November")},
	{name: "int/EPOCH_TO_HUMAN_READABLE_TIME/dynamic bad zone", expr: n(0).fn("int", "EPOCH_TO_HUMAN_READABLE_TIME", s("d"), ref("$zone$")),
		vars: map[string]value.Value{"zone": value.Str("PST")}, err: `int EPOCH_TO_HUMAN_READABLE_TIME("d", "PST"): unknown time zone "PST"`},
	{name: "int/EPOCH_TO_HUMAN_READABLE_TIME/bad zone", expr: n(0).fn("int", "EPOCH_TO_HUMAN_READABLE_TIME", s("yyyy"), s("AEDT")), err: "unknown time zone"},
	{name: "int/EPOCH_TO_HUMAN_READABLE_TIME/bad pattern", expr: n(0).fn("int", "EPOCH_TO_HUMAN_READABLE_TIME", s("yyyy-bb"), s("UTC")), err: "unsupported pattern letter 'b'"},

	// §4 double
	{name: "double/ADD", expr: lit(1.5).fn("double", "ADD", n(2)), want: value.Float(3.5)},
	{name: "double/SUBTRACT", expr: lit(1.5).fn("double", "SUBTRACT", lit(0.25)), want: value.Float(1.25)},
	{name: "double/MULTIPLY", expr: lit(1.5).fn("double", "MULTIPLY", lit(4.0)), want: value.Float(6)},
	{name: "double/MULTIPLY/overflow", expr: lit(1e308).fn("double", "MULTIPLY", lit(10.0)), err: "not a finite number"},
	{name: "double/DIVIDE", expr: lit(7.0).fn("double", "DIVIDE", n(2)), want: value.Float(3.5)},
	{name: "double/DIVIDE/by zero", expr: lit(7.0).fn("double", "DIVIDE", lit(0.0)), err: "division by zero"},
	{name: "double/EXPONENT", expr: lit(9.0).fn("double", "EXPONENT", lit(0.5)), want: value.Float(3)},
	{name: "double/EXPONENT/NaN", expr: lit(-8.0).fn("double", "EXPONENT", lit(0.5)), err: "not a finite number"},
	{name: "double/MOD", expr: lit(7.5).fn("double", "MOD", n(2)), want: value.Float(1.5)},
	{name: "double/MOD/dividend sign", expr: lit(-7.5).fn("double", "MOD", n(2)), want: value.Float(-1.5)},
	{name: "double/MOD/by zero", expr: lit(7.5).fn("double", "MOD", lit(0.0)), err: "division by zero"},
	{name: "double/ROUND/doc", expr: lit(15.6).fn("double", "ROUND"), want: value.Integer(16)},
	{name: "double/ROUND/half up", expr: lit(2.5).fn("double", "ROUND"), want: value.Integer(3)},
	{name: "double/ROUND/negative half", expr: lit(-2.5).fn("double", "ROUND"), want: value.Integer(-2)},
	{name: "double/ROUND/below half", expr: lit(0.49999999999999994).fn("double", "ROUND"), want: value.Integer(0)},
	{name: "double/ROUND/too big", expr: lit(1e19).fn("double", "ROUND"), err: "does not fit in an int"},
	{name: "double/FLOOR", expr: lit(-3.5).fn("double", "FLOOR"), want: value.Integer(-4)},
	{name: "double/CEIL/doc", expr: lit(3.4).fn("double", "CEIL"), want: value.Integer(4)},
	{name: "double/GREATER_THAN", expr: lit(2.5).fn("double", "GREATER_THAN", n(2)), want: value.Boolean(true)},
	{name: "double/LESS_THAN", expr: lit(2.5).fn("double", "LESS_THAN", n(2)), want: value.Boolean(false)},
	{name: "double/GREATER_THAN_EQUALS", expr: lit(2.0).fn("double", "GREATER_THAN_EQUALS", n(2)), want: value.Boolean(true)},
	{name: "double/LESS_THAN_EQUALS", expr: lit(2.0).fn("double", "LESS_THAN_EQUALS", lit(1.5)), want: value.Boolean(false)},
	{name: "double/EQUALS", expr: lit(0.1).fn("double", "ADD", lit(0.2)).fn("double", "EQUALS", lit(0.3)), want: value.Boolean(false)},
	{name: "double/TO_STRING", expr: lit(22.0).fn("double", "TO_STRING"), want: value.Str("22.0")},
	{name: "double/TO_STRING/exponent", expr: lit(1e10).fn("double", "TO_STRING"), want: value.Str("1.0E10")},
	{name: "double/TO_JSON", expr: lit(1.5).fn("double", "TO_JSON"), want: value.FromJSON(1.5)},

	// §5 boolean
	{name: "boolean/TO_JSON", expr: lit(true).fn("boolean", "TO_JSON"), want: value.FromJSON(true)},
	{name: "boolean/NOT", expr: lit(true).fn("boolean", "NOT"), want: value.Boolean(false)},
	{name: "boolean/AND", expr: lit(true).fn("boolean", "AND", lit(false)), want: value.Boolean(false)},
	{name: "boolean/NAND", expr: lit(true).fn("boolean", "NAND", lit(false)), want: value.Boolean(true)},
	{name: "boolean/OR", expr: lit(false).fn("boolean", "OR", lit(true)), want: value.Boolean(true)},
	{name: "boolean/XOR", expr: lit(true).fn("boolean", "XOR", lit(true)), want: value.Boolean(false)},
	{name: "boolean/NOR", expr: lit(false).fn("boolean", "NOR", lit(false)), want: value.Boolean(true)},
	{name: "boolean/XNOR", expr: lit(false).fn("boolean", "XNOR", lit(false)), want: value.Boolean(true)},
	{name: "boolean/TO_STRING", expr: lit(false).fn("boolean", "TO_STRING"), want: value.Str("false")},
	{name: "boolean/EQUALS", expr: lit(false).fn("boolean", "EQUALS", lit(false)), want: value.Boolean(true)},
	{name: "boolean/AND/string parameter", expr: lit(true).fn("boolean", "AND", s("TRUE")), want: value.Boolean(true)},

	// §6 json
	{name: "json/GET_PROPERTY/doc", expr: ref("$product$").fn("json", "GET_PROPERTY", s("productId")), want: value.FromJSON(23.0)},
	{name: "json/GET_PROPERTY/dotted", expr: ref("$order$").fn("json", "GET_PROPERTY", s("billTo.city")), want: value.FromJSON("Sunnyvale")},
	{name: "json/GET_PROPERTY/index", expr: lit(jsonText(`{"a":{"b":[{"c":1},{"c":2}]}}`)).fn("json", "GET_PROPERTY", s("a.b[1].c")), want: value.FromJSON(2.0)},
	{name: "json/GET_PROPERTY/dotted key wins", expr: lit(jsonText(`{"a.b":1,"a":{"b":2}}`)).fn("json", "GET_PROPERTY", s("a.b")), want: value.FromJSON(1.0)},
	{name: "json/GET_PROPERTY/then TO_INT", expr: ref("$product$").fn("json", "GET_PROPERTY", s("productId")).fn("json", "TO_INT").fn("int", "ADD", n(1)), want: value.Integer(24)},
	{name: "json/GET_PROPERTY/missing is null", expr: ref("$product$").fn("json", "GET_PROPERTY", s("nope")), err: "is null or not found"},
	{name: "json/GET_PROPERTY/bad path", expr: ref("$product$").fn("json", "GET_PROPERTY", s("a[x]")), err: "invalid index"},
	{name: "json/SET_PROPERTY/doc add", expr: lit(jsonText(`{"productId":23}`)).fn("json", "SET_PROPERTY", s("radio"), s("productName")),
		want: J(`{"productId":23,"productName":"radio"}`)},
	{name: "json/SET_PROPERTY/doc nested", expr: lit(jsonText(`{"productId":23}`)).fn("json", "SET_PROPERTY", lit(jsonText(`{"productName":"radio"}`)), s("productDetails")),
		want: J(`{"productId":23,"productDetails":{"productName":"radio"}}`)},
	{name: "json/SET_PROPERTY/update keeps string", expr: ref("$product$").fn("json", "SET_PROPERTY", s("34"), s("productId")),
		want: J(`{"productId":"34","productName":"radio"}`)},
	{name: "json/SET_PROPERTY/creates path", expr: lit(jsonText(`{}`)).fn("json", "SET_PROPERTY", n(1), s("a.b[1].c")), want: J(`{"a":{"b":[null,{"c":1}]}}`)},
	{name: "json/SET_PROPERTY/null input", expr: ref("$undeclaredJson$").fn("json", "SET_PROPERTY", lit(true), s("ok")), want: J(`{"ok":true}`)},
	{name: "json/REMOVE_PROPERTY/doc", expr: lit(jsonText(`{"name":"Alex","address":{"street":"1 Main St","city":"Sunnyvale"}}`)).fn("json", "REMOVE_PROPERTY", s("address.street")),
		want: J(`{"name":"Alex","address":{"city":"Sunnyvale"}}`)},
	{name: "json/REMOVE_PROPERTY/through array", expr: lit(jsonText(`{"students":[{"name":"A","course":"X"},{"name":"B","course":"Y"},{"name":"C"}]}`)).fn("json", "REMOVE_PROPERTY", s("students.course")),
		want: J(`{"students":[{"name":"A"},{"name":"B"},{"name":"C"}]}`)},
	{name: "json/REMOVE_PROPERTY/dotted key", expr: lit(jsonText(`{"a.b":1,"a":{"b":2}}`)).fn("json", "REMOVE_PROPERTY", s("a.b")), want: J(`{"a":{"b":2}}`)},
	{name: "json/REMOVE_PROPERTY/index", expr: lit(jsonText(`{"a":[1,2,3]}`)).fn("json", "REMOVE_PROPERTY", s("a[1]")), want: J(`{"a":[1,3]}`)},
	{name: "json/REMOVE_PROPERTY/missing no-op", expr: ref("$product$").fn("json", "REMOVE_PROPERTY", s("x.y")), want: J(`{"productId":23,"productName":"radio"}`)},
	{name: "json/GET_ELEMENT/doc", expr: lit(jsonText(`["first","second","third","fourth"]`)).fn("json", "GET_ELEMENT", n(2)), want: value.FromJSON("third")},
	{name: "json/GET_ELEMENT/out of range", expr: lit(jsonText(`["a"]`)).fn("json", "GET_ELEMENT", n(1)), err: "json GET_ELEMENT(1): index 1 out of range [0,1)"},
	{name: "json/GET_ELEMENT/not an array", expr: ref("$product$").fn("json", "GET_ELEMENT", n(0)), err: "needs a JSON array, not an object"},
	{name: "json/APPEND_ELEMENT/doc", expr: lit(jsonText(`["first","second","third","fourth"]`)).fn("json", "APPEND_ELEMENT", s("fifth")),
		want: J(`["first","second","third","fourth","fifth"]`)},
	{name: "json/APPEND_ELEMENT/object", expr: lit(jsonText(`[]`)).fn("json", "APPEND_ELEMENT", ref("$product$")), want: J(`[{"productId":23,"productName":"radio"}]`)},
	{name: "json/SIZE/array", expr: lit(jsonText(`[1,2,3]`)).fn("json", "SIZE"), want: value.Integer(3)},
	{name: "json/SIZE/object", expr: ref("$product$").fn("json", "SIZE"), want: value.Integer(2)},
	{name: "json/SIZE/string", expr: lit(jsonText(`"abc"`)).fn("json", "SIZE"), err: "needs a JSON array or object, not a string"},
	{name: "json/FLATTEN/doc", expr: lit(jsonText(`[[1,2],[3,4]]`)).fn("json", "FLATTEN"), want: J(`[1,2,3,4]`)},
	{name: "json/FLATTEN/deep", expr: lit(jsonText(`[1,[2,[3,[4]]],[]]`)).fn("json", "FLATTEN"), want: J(`[1,2,3,4]`)},
	{name: "json/FLATTEN_ONCE", expr: lit(jsonText(`[[1,[2]],[3],4]`)).fn("json", "FLATTEN_ONCE"), want: J(`[1,[2],3,4]`)},
	{name: "json/MERGE/doc objects", expr: lit(jsonText(`{"productId":23}`)).fn("json", "MERGE", lit(jsonText(`{"productName":"radio"}`))),
		want: J(`{"productId":23,"productName":"radio"}`)},
	{name: "json/MERGE/doc arrays", expr: lit(jsonText(`["first","second","third"]`)).fn("json", "MERGE", lit(jsonText(`[4,5]`))),
		want: J(`["first","second","third",4,5]`)},
	{name: "json/MERGE/duplicates dropped", expr: lit(jsonText(`[1,2,{"a":1,"b":2}]`)).fn("json", "MERGE", lit(jsonText(`[2,3,{"b":2,"a":1.0}]`))),
		want: J(`[1,2,{"a":1,"b":2},3]`)},
	{name: "json/MERGE/duplicates inside one array", expr: lit(jsonText(`[1,1,2]`)).fn("json", "MERGE", lit(jsonText(`[]`))), want: J(`[1,2]`)},
	{name: "json/MERGE/parameter wins", expr: lit(jsonText(`{"a":1,"b":{"x":1}}`)).fn("json", "MERGE", lit(jsonText(`{"b":{"y":2},"c":3}`))),
		want: J(`{"a":1,"b":{"y":2},"c":3}`)},
	{name: "json/MERGE/mismatch", expr: lit(jsonText(`{"a":1}`)).fn("json", "MERGE", lit(jsonText(`[1]`))), err: "cannot merge an object with an array"},
	{name: "json/TO_STRING/doc", expr: lit(jsonText(`{"dbIntegers":[1.0,2.0,3.0,4.0],"dbString":"test"}`)).fn("json", "TO_STRING"),
		want: value.Str("{\n  \"dbIntegers\": [\n    1,\n    2,\n    3,\n    4\n  ],\n  \"dbString\": \"test\"\n}")},
	{name: "json/TO_STRING/string is bare", expr: lit(jsonText(`"External"`)).fn("json", "TO_STRING"), want: value.Str("External")},
	{name: "json/TO_STRING/number", expr: lit(jsonText(`2.50`)).fn("json", "TO_STRING"), want: value.Str("2.5")},
	{name: "json/TO_INT", expr: lit(jsonText(`1.0`)).fn("json", "TO_INT"), want: value.Integer(1)},
	{name: "json/TO_INT/string", expr: lit(jsonText(`"35"`)).fn("json", "TO_INT"), want: value.Integer(35)},
	{name: "json/TO_INT/fraction", expr: lit(jsonText(`1.5`)).fn("json", "TO_INT"), err: "not a whole number"},
	{name: "json/TO_DOUBLE", expr: lit(jsonText(`"2.25"`)).fn("json", "TO_DOUBLE"), want: value.Float(2.25)},
	{name: "json/TO_BOOLEAN", expr: lit(jsonText(`true`)).fn("json", "TO_BOOLEAN"), want: value.Boolean(true)},
	{name: "json/TO_BOOLEAN/string", expr: lit(jsonText(`"FALSE"`)).fn("json", "TO_BOOLEAN"), want: value.Boolean(false)},
	{name: "json/TO_STRING_ARRAY", expr: lit(jsonText(`["a",1,{"p":"v"},true]`)).fn("json", "TO_STRING_ARRAY"),
		want: value.Strings([]string{"a", "1", `{"p":"v"}`, "true"})},
	{name: "json/TO_STRING_ARRAY/not an array", expr: lit(jsonText(`"a"`)).fn("json", "TO_STRING_ARRAY"), err: "needs a JSON array, not a string"},
	{name: "json/TO_STRING_ARRAY/null element", expr: lit(jsonText(`["a",null]`)).fn("json", "TO_STRING_ARRAY"), err: "element 1 is null"},
	{name: "json/TO_INT_ARRAY", expr: lit(jsonText(`[1,"2",3.0]`)).fn("json", "TO_INT_ARRAY"), want: value.Ints([]int64{1, 2, 3})},
	{name: "json/TO_DOUBLE_ARRAY", expr: lit(jsonText(`[1,2.5]`)).fn("json", "TO_DOUBLE_ARRAY"), want: value.Floats([]float64{1, 2.5})},
	{name: "json/TO_BOOLEAN_ARRAY", expr: lit(jsonText(`[true,"false"]`)).fn("json", "TO_BOOLEAN_ARRAY"), want: value.Bools([]bool{true, false})},
	{name: "json/TO_PROTO", expr: lit(jsonText(`{}`)).fn("json", "TO_PROTO"), err: "json TO_PROTO: TO_PROTO is not supported"},
	{name: "json/TO_PROTO_ARRAY", expr: lit(jsonText(`[]`)).fn("json", "TO_PROTO_ARRAY"), err: "TO_PROTO_ARRAY is not supported"},
	{name: "json/RESOLVE_TEMPLATE/doc", expr: lit(jsonText(`{"name":"Alex","address":"$order.billTo$","age":"25","greeting":"Hi $var2$"}`)).fn("json", "RESOLVE_TEMPLATE"),
		want: J(`{"name":"Alex","address":{"street":"1 Main St","city":"Sunnyvale"},"age":"25","greeting":"Hi World"}`)},
	{name: "json/RESOLVE_TEMPLATE/doc variables", expr: ref("$var1$").fn("json", "RESOLVE_TEMPLATE"),
		vars: map[string]value.Value{"var1": J(`{"name":"Alex","address":"$var2$","age":"25"}`), "var2": J(`{"street":"1 Main St","city":"Sunnyvale"}`)},
		want: J(`{"name":"Alex","address":{"street":"1 Main St","city":"Sunnyvale"},"age":"25"}`)},
	{name: "json/RESOLVE_TEMPLATE/typed number", expr: lit(jsonText(`{"n":"$num$","list":["$var2$",1]}`)).fn("json", "RESOLVE_TEMPLATE"),
		want: J(`{"n":5,"list":["World",1]}`)},
	{name: "json/EQUALS/deep", expr: lit(jsonText(`{"a":[1,2],"b":"x"}`)).fn("json", "EQUALS", lit(jsonText(`{"b":"x","a":[1.0,2]}`))), want: value.Boolean(true)},
	{name: "json/EQUALS/string literal", expr: lit(jsonText(`"Aberdeen"`)).fn("json", "EQUALS", s("Aberdeen")), want: value.Boolean(true)},
	{name: "json/EQUALS/different", expr: lit(jsonText(`{"a":1}`)).fn("json", "EQUALS", lit(jsonText(`{"a":2}`))), want: value.Boolean(false)},
	{name: "json/FOR_EACH/doc", expr: lit(jsonText(`[{"name":"Alex"},{"name":"Bola"}]`)).fn("json", "FOR_EACH",
		lambda(ref("~x").fn("json", "SET_PROPERTY", s("Google"), s("company")))),
		want: J(`[{"name":"Alex","company":"Google"},{"name":"Bola","company":"Google"}]`)},
	{name: "json/FOR_EACH/empty", expr: lit(jsonText(`[]`)).fn("json", "FOR_EACH", lambda(ref("~x"))), want: J(`[]`)},
	{name: "json/FOR_EACH/element path", expr: lit(jsonText(`[{"a":{"b":1}},{"a":{"b":2}}]`)).fn("json", "FOR_EACH", lambda(ref("~x.a.b"))), want: J(`[1,2]`)},
	{name: "json/FOR_EACH/not an array", expr: ref("$product$").fn("json", "FOR_EACH", lambda(ref("~x"))), err: "FOR_EACH needs an array"},
	{name: "json/FILTER_ELEMENTS/doc", expr: lit(jsonText(`[{"n":1,"city":"Aberdeen"},{"n":2,"city":"Boston"},{"n":3,"city":"Aberdeen"},{"n":4,"city":"Aberdeen"},{"n":5}]`)).
		fn("json", "FILTER_ELEMENTS", lambda(ref("~x").fn("json", "GET_PROPERTY", s("city")).fn("json", "EQUALS", s("Aberdeen")))),
		want: J(`[{"n":1,"city":"Aberdeen"},{"n":3,"city":"Aberdeen"},{"n":4,"city":"Aberdeen"}]`)},
	{name: "json/FILTER_ELEMENTS/not boolean", expr: lit(jsonText(`[1]`)).fn("json", "FILTER_ELEMENTS", lambda(ref("~x"))), err: "not a boolean"},
	{name: "json/TO_JSON", expr: ref("$product$").fn("json", "TO_JSON"), want: J(`{"productId":23,"productName":"radio"}`)},

	// §7 stringArray
	{name: "stringArray/GET", expr: ref("$strs$").fn("stringArray", "GET", n(1)), want: value.Str("Apigee")},
	{name: "stringArray/GET/out of range", expr: ref("$strs$").fn("stringArray", "GET", n(5)), err: "stringArray GET(5): index 5 out of range [0,3)"},
	{name: "stringArray/APPEND/doc", expr: lit([]string{"Hello", "Apigee"}).fn("stringArray", "APPEND", s("Integrations")),
		want: value.Strings([]string{"Hello", "Apigee", "Integrations"})},
	{name: "stringArray/APPEND_ALL/doc", expr: lit([]string{"Hello", "Apigee"}).fn("stringArray", "APPEND_ALL", s("Integrations"), s("Test")),
		want: value.Strings([]string{"Hello", "Apigee", "Integrations", "Test"})},
	{name: "stringArray/APPEND_ALL/array parameter", expr: lit([]string{"a"}).fn("stringArray", "APPEND_ALL", ref("$strs$"), n(7)),
		want: value.Strings([]string{"a", "Hello", "Apigee", "Integrations", "7"})},
	{name: "stringArray/SIZE/doc", expr: ref("$strs$").fn("stringArray", "SIZE"), want: value.Integer(3)},
	{name: "stringArray/TO_SET/doc", expr: lit([]string{"Hello", "World", "Apigee", "World"}).fn("stringArray", "TO_SET"),
		want: value.Strings([]string{"Hello", "World", "Apigee"})},
	{name: "stringArray/SET/doc", expr: lit([]string{"Hello", "World", "Integrations"}).fn("stringArray", "SET", n(2), s("Apigee")),
		want: value.Strings([]string{"Hello", "World", "Apigee"})},
	{name: "stringArray/SET/out of range", expr: ref("$strs$").fn("stringArray", "SET", n(3), s("x")), err: "index 3 out of range [0,3)"},
	{name: "stringArray/REMOVE/doc", expr: ref("$strs$").fn("stringArray", "REMOVE", s("Integrations")), want: value.Strings([]string{"Hello", "Apigee"})},
	{name: "stringArray/REMOVE/first only", expr: lit([]string{"a", "b", "a"}).fn("stringArray", "REMOVE", s("a")), want: value.Strings([]string{"b", "a"})},
	{name: "stringArray/REMOVE/absent", expr: lit([]string{"a"}).fn("stringArray", "REMOVE", s("z")), want: value.Strings([]string{"a"})},
	{name: "stringArray/REMOVE_AT/doc", expr: ref("$strs$").fn("stringArray", "REMOVE_AT", n(1)), want: value.Strings([]string{"Hello", "Integrations"})},
	{name: "stringArray/REMOVE_AT/out of range", expr: ref("$strs$").fn("stringArray", "REMOVE_AT", n(-1)), err: "index -1 out of range [0,3)"},
	{name: "stringArray/CONTAINS", expr: ref("$strs$").fn("stringArray", "CONTAINS", s("Apigee")), want: value.Boolean(true)},
	{name: "stringArray/CONTAINS/not substring", expr: ref("$strs$").fn("stringArray", "CONTAINS", s("Api")), want: value.Boolean(false)},
	{name: "stringArray/TO_JSON", expr: ref("$strs$").fn("stringArray", "TO_JSON"), want: J(`["Hello","Apigee","Integrations"]`)},
	{name: "stringArray/FOR_EACH/doc", expr: lit([]string{"Alex", "Bola"}).fn("stringArray", "FOR_EACH", lambda(ref("~x").fn("string", "CONCAT", s("@gmail.com")))),
		want: J(`["Alex@gmail.com","Bola@gmail.com"]`)},
	{name: "stringArray/FILTER/doc", expr: lit([]string{"222larabrown@gmail.com", "dana@example.com", "cloudysanfrancisco@gmail.com"}).
		fn("stringArray", "FILTER", lambda(ref("~x").fn("string", "CONTAINS", s("@gmail.com")))),
		want: value.Strings([]string{"222larabrown@gmail.com", "cloudysanfrancisco@gmail.com"})},
	{name: "stringArray/FILTER/empty", expr: lit([]string{}).fn("stringArray", "FILTER", lambda(ref("~x").fn("string", "CONTAINS", s("x")))), want: value.Strings(nil)},

	// §8 intArray
	{name: "intArray/GET", expr: lit([]int64{3, 6, 8}).fn("intArray", "GET", n(0)), want: value.Integer(3)},
	{name: "intArray/APPEND/doc", expr: lit([]int64{3, 6, 8, 1}).fn("intArray", "APPEND", n(7)), want: value.Ints([]int64{3, 6, 8, 1, 7})},
	{name: "intArray/APPEND/string element", expr: lit([]int64{1}).fn("intArray", "APPEND", s("x")), err: "not an integer"},
	{name: "intArray/APPEND_ALL/doc", expr: lit([]int64{3, 6, 8, 1}).fn("intArray", "APPEND_ALL", n(7), n(9), n(15)), want: value.Ints([]int64{3, 6, 8, 1, 7, 9, 15})},
	{name: "intArray/SIZE/doc", expr: lit([]int64{5, 8, 2, 1, 7}).fn("intArray", "SIZE"), want: value.Integer(5)},
	{name: "intArray/TO_SET/doc", expr: lit([]int64{2, 6, 9, 12, 6, 8, 10, 6, 12}).fn("intArray", "TO_SET"), want: value.Ints([]int64{2, 6, 9, 12, 8, 10})},
	{name: "intArray/SET", expr: lit([]int64{1, 2}).fn("intArray", "SET", n(0), n(9)), want: value.Ints([]int64{9, 2})},
	{name: "intArray/REMOVE/by value", expr: lit([]int64{5, 0, 1}).fn("intArray", "REMOVE", n(1)), want: value.Ints([]int64{5, 0})},
	{name: "intArray/REMOVE_AT", expr: lit([]int64{5, 0, 1}).fn("intArray", "REMOVE_AT", n(1)), want: value.Ints([]int64{5, 1})},
	{name: "intArray/CONTAINS", expr: lit([]int64{5, 0, 1}).fn("intArray", "CONTAINS", n(0)), want: value.Boolean(true)},
	{name: "intArray/TO_JSON", expr: lit([]int64{5, 0}).fn("intArray", "TO_JSON"), want: J(`[5,0]`)},
	{name: "intArray/FOR_EACH", expr: lit([]int64{1, 2}).fn("intArray", "FOR_EACH", lambda(ref("~x").fn("int", "MULTIPLY", n(10)))), want: J(`[10,20]`)},
	{name: "intArray/FILTER", expr: lit([]int64{1, 20, 3, 40}).fn("intArray", "FILTER", lambda(ref("~x").fn("int", "GREATER_THAN", n(10)))), want: value.Ints([]int64{20, 40})},
	{name: "intArray/SUM/doc", expr: lit([]int64{5, 8, 2, 1}).fn("intArray", "SUM"), want: value.Integer(16)},
	{name: "intArray/SUM/empty", expr: ref("$emptyInts$").fn("intArray", "SUM"), want: value.Integer(0)},
	{name: "intArray/AVG/doc", expr: lit([]int64{2, 4, 9, 3}).fn("intArray", "AVG"), want: value.Float(4.5)},
	{name: "intArray/AVG/empty", expr: ref("$emptyInts$").fn("intArray", "AVG"), err: "intArray AVG(): the array is empty"},
	{name: "intArray/MAX/doc", expr: lit([]int64{5, 8, 2, 1}).fn("intArray", "MAX"), want: value.Integer(8)},
	{name: "intArray/MIN/doc", expr: lit([]int64{5, 8, 2, 1}).fn("intArray", "MIN"), want: value.Integer(1)},
	{name: "intArray/MAX/empty", expr: ref("$emptyInts$").fn("intArray", "MAX"), err: "the array is empty"},
	{name: "intArray/MAX/large", expr: lit([]int64{1 << 62, 1<<62 + 1}).fn("intArray", "MAX"), want: value.Integer(1<<62 + 1)},

	// §9 doubleArray
	{name: "doubleArray/GET", expr: lit([]float64{1.5, 2.5}).fn("doubleArray", "GET", n(1)), want: value.Float(2.5)},
	{name: "doubleArray/APPEND", expr: lit([]float64{1.5}).fn("doubleArray", "APPEND", n(2)), want: value.Floats([]float64{1.5, 2})},
	{name: "doubleArray/APPEND_ALL", expr: lit([]float64{1.5}).fn("doubleArray", "APPEND_ALL", lit(2.5), n(3)), want: value.Floats([]float64{1.5, 2.5, 3})},
	{name: "doubleArray/SIZE", expr: lit([]float64{1.5}).fn("doubleArray", "SIZE"), want: value.Integer(1)},
	{name: "doubleArray/TO_SET", expr: lit([]float64{1.5, 1.5, 2}).fn("doubleArray", "TO_SET"), want: value.Floats([]float64{1.5, 2})},
	{name: "doubleArray/SET", expr: lit([]float64{1.5, 2}).fn("doubleArray", "SET", n(1), lit(0.5)), want: value.Floats([]float64{1.5, 0.5})},
	{name: "doubleArray/REMOVE", expr: lit([]float64{1.5, 2}).fn("doubleArray", "REMOVE", n(2)), want: value.Floats([]float64{1.5})},
	{name: "doubleArray/REMOVE_AT", expr: lit([]float64{1.5, 2}).fn("doubleArray", "REMOVE_AT", n(0)), want: value.Floats([]float64{2})},
	{name: "doubleArray/CONTAINS", expr: lit([]float64{1.5, 2}).fn("doubleArray", "CONTAINS", lit(2.0)), want: value.Boolean(true)},
	{name: "doubleArray/TO_JSON", expr: lit([]float64{1.5, 2}).fn("doubleArray", "TO_JSON"), want: J(`[1.5,2]`)},
	{name: "doubleArray/FOR_EACH", expr: lit([]float64{1.5, 2}).fn("doubleArray", "FOR_EACH", lambda(ref("~x").fn("double", "ROUND"))), want: J(`[2,2]`)},
	{name: "doubleArray/FILTER", expr: lit([]float64{1.5, 2, 3}).fn("doubleArray", "FILTER", lambda(ref("~x").fn("double", "GREATER_THAN", n(1)))), want: value.Floats([]float64{1.5, 2, 3})},
	{name: "doubleArray/SUM", expr: lit([]float64{1.5, 2.25}).fn("doubleArray", "SUM"), want: value.Float(3.75)},
	{name: "doubleArray/SUM/empty", expr: ref("$emptyFloat$").fn("doubleArray", "SUM"), want: value.Float(0)},
	{name: "doubleArray/AVG/doc", expr: lit([]float64{2.0, 6.1, 3.9}).fn("doubleArray", "AVG"), want: value.Float(4.0)},
	{name: "doubleArray/AVG/empty", expr: ref("$emptyFloat$").fn("doubleArray", "AVG"), err: "the array is empty"},
	{name: "doubleArray/MAX/doc", expr: lit([]float64{2.5, 6.1, 4.9}).fn("doubleArray", "MAX"), want: value.Float(6.1)},
	{name: "doubleArray/MIN/doc", expr: lit([]float64{2.5, 6.1, 4.9}).fn("doubleArray", "MIN"), want: value.Float(2.5)},

	// §10 booleanArray
	{name: "booleanArray/GET", expr: lit([]bool{true, false}).fn("booleanArray", "GET", n(1)), want: value.Boolean(false)},
	{name: "booleanArray/APPEND/doc", expr: lit([]bool{true, false, true}).fn("booleanArray", "APPEND", lit(true)), want: value.Bools([]bool{true, false, true, true})},
	{name: "booleanArray/APPEND_ALL/doc", expr: lit([]bool{true, false, true}).fn("booleanArray", "APPEND_ALL", lit(false), lit(true)),
		want: value.Bools([]bool{true, false, true, false, true})},
	{name: "booleanArray/SIZE", expr: lit([]bool{true}).fn("booleanArray", "SIZE"), want: value.Integer(1)},
	{name: "booleanArray/TO_SET", expr: lit([]bool{true, true, false, true}).fn("booleanArray", "TO_SET"), want: value.Bools([]bool{true, false})},
	{name: "booleanArray/SET", expr: lit([]bool{true, true}).fn("booleanArray", "SET", n(1), lit(false)), want: value.Bools([]bool{true, false})},
	{name: "booleanArray/REMOVE", expr: lit([]bool{true, false, false}).fn("booleanArray", "REMOVE", lit(false)), want: value.Bools([]bool{true, false})},
	{name: "booleanArray/REMOVE_AT", expr: lit([]bool{true, false}).fn("booleanArray", "REMOVE_AT", n(0)), want: value.Bools([]bool{false})},
	{name: "booleanArray/CONTAINS", expr: lit([]bool{true}).fn("booleanArray", "CONTAINS", lit(false)), want: value.Boolean(false)},
	{name: "booleanArray/TO_JSON", expr: lit([]bool{true, false}).fn("booleanArray", "TO_JSON"), want: J(`[true,false]`)},
	{name: "booleanArray/FOR_EACH", expr: lit([]bool{true, false}).fn("booleanArray", "FOR_EACH", lambda(ref("~x").fn("boolean", "NOT"))), want: J(`[false,true]`)},
	{name: "booleanArray/FILTER", expr: lit([]bool{true, false, true}).fn("booleanArray", "FILTER", lambda(ref("~x"))), want: value.Bools([]bool{true, true})},

	// Lambdas: nesting, shadowing, parameters that read ~x and variables.
	{name: "lambda/nested shadowing", expr: lit(jsonText(`[[1,2],[3]]`)).fn("json", "FOR_EACH",
		lambda(ref("~x").fn("json", "FOR_EACH", lambda(ref("~x").fn("json", "TO_INT").fn("int", "MULTIPLY", n(10)))))),
		want: J(`[[10,20],[30]]`)},
	{name: "lambda/outer variable in body", expr: lit([]string{"a", "b"}).fn("stringArray", "FOR_EACH", lambda(ref("~x").fn("string", "CONCAT", ref("$var2$")))),
		want: J(`["aWorld","bWorld"]`)},
	{name: "lambda/element in parameter", expr: lit(jsonText(`[{"q":2,"p":1.5},{"q":3,"p":2}]`)).fn("json", "FOR_EACH",
		lambda(ref("~x").fn("json", "GET_PROPERTY", s("q")).fn("json", "TO_DOUBLE").fn("double", "MULTIPLY", ref("~x").fn("json", "GET_PROPERTY", s("p")).fn("json", "TO_DOUBLE")))).
		fn("json", "TO_DOUBLE_ARRAY").fn("doubleArray", "SUM"),
		want: value.Float(9)},
	{name: "lambda/filter null is false", expr: lit(jsonText(`[{"a":true},{}]`)).fn("json", "FILTER_ELEMENTS", lambda(ref("~x").fn("json", "GET_PROPERTY", s("a")))),
		want: J(`[{"a":true}]`)},

	// Limits.
	{name: "limits/string", expr: ref("$big$").fn("string", "CONCAT", ref("$big$")),
		vars: map[string]value.Value{"big": value.Str(strings.Repeat("x", 9<<20))}, err: "more than the limit of 16777216"},

	// The running value is converted to the family of the function.
	{name: "coerce/json number to int", expr: ref("$order.id$").fn("int", "TO_STRING"), want: value.Str("7")},
	{name: "coerce/json string to string", expr: ref("$order.billTo.city$").fn("string", "TO_UPPERCASE"), want: value.Str("SUNNYVALE")},
	{name: "coerce/string to json", expr: s(`{"a":1}`).fn("json", "GET_PROPERTY", s("a")), want: value.FromJSON(1.0)},
	{name: "coerce/json array to string array", expr: lit(jsonText(`["x","y"]`)).fn("stringArray", "GET", n(1)), want: value.Str("y")},
	{name: "coerce/failure", expr: lit(2.5).fn("int", "ADD", n(1)), err: "int ADD(…): the input is double, not int"},
	{name: "coerce/parameter failure", expr: n(1).fn("int", "ADD", ref("$var2$")), err: `parameter 1: cannot convert string "World" to int`},
}

func TestFunctions(t *testing.T) {
	t.Parallel()
	for _, tc := range functionCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := evalCase(t, tc)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error = %v, want one containing %q (value %s)", err, tc.err, show(got))
				}
				return
			}
			if err != nil {
				t.Fatalf("error = %v, want %s", err, show(tc.want))
			}
			if !sameValue(got, tc.want) {
				t.Fatalf("got %s, want %s", show(got), show(tc.want))
			}
		})
	}
}

func evalCase(t *testing.T, tc fnCase) (value.Value, error) {
	t.Helper()
	p, err := Compile(config(mapped(tc.expr, "$out$")))
	if err != nil {
		return value.Value{}, err
	}
	vars := map[string]value.Value{}
	for k, v := range commonVars {
		vars[k] = v
	}
	for k, v := range tc.vars {
		vars[k] = v
	}
	env := newEnv(t, nil, vars)
	if err := p.Run(t.Context(), env); err != nil {
		return value.Value{}, err
	}
	v, _ := env.Lookup("out")
	return v, nil
}

// TestEveryFunctionHasACase checks that functionCases exercises every
// function of every family (so a new function cannot land untested).
func TestEveryFunctionHasACase(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, tc := range functionCases {
		p, err := Compile(config(mapped(tc.expr, "$out$")))
		if err != nil {
			// Unsupported functions are compile errors; count them by name.
			for _, name := range []string{"TO_PROTO", "TO_PROTO_ARRAY"} {
				if strings.HasSuffix(tc.name, "/"+name) {
					seen["json "+name] = true
				}
			}
			continue
		}
		for _, r := range p.rows {
			walkCalls(r.in, func(c *call) { seen[c.label()] = true })
		}
	}
	var missing []string
	counts := map[string]int{}
	for _, key := range familyOrder {
		f := families[key]
		if f.unsupported != "" {
			continue
		}
		for name := range f.fns {
			counts[f.short]++
			if !seen[f.short+" "+name] {
				missing = append(missing, f.short+" "+name)
			}
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("functions without a case: %v", missing)
	}
	want := map[string]int{"base": 8, "string": 17, "int": 15, "double": 16, "boolean": 10, "json": 24,
		"stringArray": 12, "intArray": 16, "doubleArray": 16, "booleanArray": 12}
	for k, v := range want {
		if counts[k] != v {
			t.Errorf("family %s has %d functions, want %d", k, counts[k], v)
		}
	}
}

func walkCalls(e *expr, visit func(*call)) {
	if e == nil {
		return
	}
	var one func(c *call)
	one = func(c *call) {
		visit(c)
		for _, p := range c.params {
			walkCalls(p, visit)
		}
		walkCalls(c.lambda, visit)
	}
	if e.base != nil {
		one(e.base)
	}
	for _, c := range e.chain {
		one(c)
	}
}

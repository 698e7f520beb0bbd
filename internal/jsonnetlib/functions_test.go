package jsonnetlib_test

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha3"
	"crypto/sha512"
	"encoding/hex"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/integrationd/integrationd/internal/jsonnetlib"
	"github.com/integrationd/integrationd/internal/value"
)

var testEvaluator = jsonnetlib.NewEvaluator(jsonnetlib.Options{MemoryBytes: 300 << 20})

var testExec = jsonnetlib.ExecInfo{ExecutionID: "exec-1", IntegrationName: "orders", Region: "us-east1",
	ProjectID: "proj", VersionID: "ver-7", VersionNumber: 7}

// evalExpr evaluates `local f = import "functions"; {r: expr}` and
// returns r as JSON text.
func evalExpr(t *testing.T, expr string) (string, error) {
	t.Helper()
	tpl, err := jsonnetlib.Compile("template", "local f = import \"functions\";\n{ r: "+expr+" }")
	if err != nil {
		t.Fatalf("Compile(%q): %v", expr, err)
	}
	out, err := testEvaluator.Evaluate(t.Context(), tpl, jsonnetlib.Input{
		Vars: value.NewVars(nil),
		Exec: testExec,
		Now:  func() time.Time { return time.UnixMilli(1700000000123) },
	})
	if err != nil {
		return "", err
	}
	r, _ := out.(*value.Object).Get("r")
	return value.EncodeJSON(r), nil
}

func hexOf(sum []byte) string { return `"` + hex.EncodeToString(sum) + `"` }

func TestFunctions(t *testing.T) {
	t.Parallel()
	s1, s256, s512, s3 := sha1.Sum([]byte("abc")), sha256.Sum256([]byte("abc")), sha512.Sum512([]byte("abc")), sha3.Sum512([]byte("abc"))
	tests := []struct {
		name, expr, want string
		wantErr          string // substring of the error, instead of want
	}{
		// The standard library is all there.
		{"std length", `f.length([1, 2])`, `2`, ""},
		{"std filter", `f.filter(function(x) x > 1, [1, 2, 3])`, `[2,3]`, ""},
		{"std map", `f.map(function(x) x * 2, [1, 2])`, `[2,4]`, ""},
		{"std parseJson", `f.parseJson('{"a": [1]}')`, `{"a":[1]}`, ""},

		// Array functions.
		{"avg", `f.avg([1, 2, 3, 4])`, `2.5`, ""},
		{"avg empty", `f.avg([])`, "", "Cannot calculate average of an empty array"},
		{"contains", `f.contains([1, "a", {x: 1}], {x: 1})`, `true`, ""},
		{"contains missing", `f.contains([1, 2], 3)`, `false`, ""},
		{"maxArray", `f.maxArray([3, 9, 2])`, `9`, ""},
		{"maxArray strings", `f.maxArray(["b", "c", "a"])`, `"c"`, ""},
		{"minArray", `f.minArray([3, 9, 2])`, `2`, ""},
		{"minArray empty", `f.minArray([])`, "", "Expected at least one element"},
		{"remove first occurrence", `f.remove([1, 2, 1], 1)`, `[2,1]`, ""},
		{"remove missing", `f.remove([1, 2], 3)`, `[1,2]`, ""},
		{"removeAt", `f.removeAt([1, 2, 3], 1)`, `[1,3]`, ""},
		{"removeAt out of range", `f.removeAt([1], 5)`, "", "removeAt: index 5 is out of range for an array of length 1"},
		{"sum", `f.sum([1, 2, 3.5])`, `6.5`, ""},
		{"sum empty", `f.sum([])`, `0`, ""},
		{"groupBy", `f.groupBy([{t: "a", v: 1}, {t: "b", v: 2}, {t: "a", v: 3}], function(e) e.t)`,
			`{"a":[{"t":"a","v":1},{"t":"a","v":3}],"b":[{"t":"b","v":2}]}`, ""},
		{"groupBy number keys", `f.groupBy([1.5, 2, 2.5, 1], function(x) std.floor(x))`, `{"1":[1.5,1],"2":[2,2.5]}`, ""},
		{"groupBy empty", `f.groupBy([], function(x) x)`, `{}`, ""},
		{"groupBy not a function", `f.groupBy([1], "x")`, "", "groupBy: the second argument must be a function"},
		{"zip", `f.zip([[1, 2, 3], ["a", "b", "c"]])`, `[[1,"a"],[2,"b"],[3,"c"]]`, ""},
		{"zip uneven", `f.zip([[1, 2], ["a"]])`, `[[1,"a"],[2,null]]`, ""},
		{"zip nothing", `f.zip([])`, `[]`, ""},
		{"zip not arrays", `f.zip([1])`, "", "zip: every element must be an array"},
		{"unzip", `f.unzip([[1, "a"], [2, "b"]])`, `[[1,2],["a","b"]]`, ""},
		{"unzip of zip", `f.unzip(f.zip([[1, 2], [3, 4], [5, 6]]))`, `[[1,2],[3,4],[5,6]]`, ""},

		// Boolean functions.
		{"xor", `[f.xor(true, false), f.xor(true, true), f.xor(false, false)]`, `[true,false,false]`, ""},
		{"xnor", `[f.xnor(true, false), f.xnor(true, true), f.xnor(false, false)]`, `[false,true,true]`, ""},

		// Hash functions: lowercase hex of the UTF-8 bytes' digest.
		{"sha1", `f.sha1("abc")`, hexOf(s1[:]), ""},
		{"sha256", `f.sha256("abc")`, hexOf(s256[:]), ""},
		{"sha512", `f.sha512("abc")`, hexOf(s512[:]), ""},
		{"sha3 is SHA3-512", `f.sha3("abc")`, hexOf(s3[:]), ""},

		// XML, CSV and JSON functions.
		{"parseXml badgerfish", `f.parseXml('<a x="1"><b>t</b><b>u</b><c/> </a>')`,
			`{"a":{"@x":"1","b":[{"$":"t"},{"$":"u"}],"c":{}}}`, ""},
		{"parseXml namespaces", `f.parseXml('<a xmlns="urn:d" xmlns:p="urn:p"><p:b p:k="v">t</p:b></a>')`,
			`{"a":{"@xmlns":{"$":"urn:d","p":"urn:p"},"p:b":{"$":"t","@p:k":"v"}}}`, ""},
		{"parseXml text is trimmed and entities decoded", `f.parseXml('<a>\n  x &amp; <![CDATA[<y>]]>\n</a>')`, `{"a":{"$":"x & <y>"}}`, ""},
		{"parseXml jsonml", `f.parseXml('<a x="1">hi<b/> <c>t</c></a>', 'jsonml')`, `["a",{"x":"1"},"hi",["b"],["c","t"]]`, ""},
		{"parseXml malformed", `f.parseXml('<a><b></a>')`, "", "parseXml:"},
		{"parseXml two roots", `f.parseXml('<a/><b/>')`, "", "more than one root element"},
		{"parseXml unknown format", `f.parseXml('<a/>', 'gdata')`, "", `unknown format "gdata"`},
		{"manifestXml badgerfish", `f.manifestXml({a: {"@x": 1, "$": "hi", b: ["t", "u"], c: null, d: {"@y": true}}})`,
			`"<a x=\"1\">hi<b>t</b><b>u</b><c/><d y=\"true\"/></a>"`, ""},
		{"manifestXml namespaces", `f.manifestXml({a: {"@xmlns": {"$": "urn:d", p: "urn:p"}, "p:b": "t"}})`,
			`"<a xmlns=\"urn:d\" xmlns:p=\"urn:p\"><p:b>t</p:b></a>"`, ""},
		{"manifestXml escapes", `f.manifestXml({a: {"@q": "\"<", "$": "x<y&z"}})`, `"<a q=\"&#34;&lt;\">x&lt;y&amp;z</a>"`, ""},
		{"manifestXml indented", `f.manifestXml({a: {b: {c: "t"}, d: 2}}, indent_output=true)`,
			`"<a>\n  <b>\n    <c>t</c>\n  </b>\n  <d>2</d>\n</a>"`, ""},
		{"manifestXml jsonml", `f.manifestXml(["a", {x: "1"}, "hi", ["b", "t"], ["c"]], "jsonml")`, `"<a x=\"1\">hi<b>t</b><c/></a>"`, ""},
		{"manifestXml jsonml indented", `f.manifestXml(["a", ["b", "t"]], "jsonml", true)`, `"<a>\n  <b>t</b>\n</a>"`, ""},
		{"manifestXml bad name", `f.manifestXml({"a b": 1})`, "", `"a b" is not a valid XML name`},
		{"manifestXml not an object", `f.manifestXml([1])`, "", "badgerfish input must be an object"},
		{"xml round trip", `local x = {a: {"@id": "7", b: [{"$": "1"}, {"$": "2"}], c: {d: {}}}}; f.parseXml(f.manifestXml(x)) == x`, `true`, ""},
		{"parseCsvWithHeader", `f.parseCsvWithHeader("name,age\nann,30\nbob,41\n")`,
			`[{"age":"30","name":"ann"},{"age":"41","name":"bob"}]`, ""},
		{"parseCsvWithHeader quotes and delimiter", `f.parseCsvWithHeader('a;b\n1;"x;""y"""', ';')`, `[{"a":"1","b":"x;\"y\""}]`, ""},
		{"parseCsvWithHeader duplicate overwrites", `f.parseCsvWithHeader("a,a\n1,2")`, `[{"a":"2"}]`, ""},
		{"parseCsvWithHeader duplicate kept", `f.parseCsvWithHeader("a,a\n1,2", overwrite_duplicate_headers=false)`, `[{"a":"1"}]`, ""},
		{"parseCsvWithHeader short row", `f.parseCsvWithHeader("a,b\n1")`, `[{"a":"1","b":""}]`, ""},
		{"parseCsvWithHeader header only", `f.parseCsvWithHeader("a,b\n")`, `[]`, ""},
		{"parseCsvWithHeader bad delimiter", `f.parseCsvWithHeader("a", "ab")`, "", "delimiter must be a single character"},
		{"manifestCsv", `f.manifestCsv([{name: "ann", age: 30}, {name: "b,c", age: null, ok: true}])`,
			`"age,name,ok\n30,ann,\n,\"b,c\",true\n"`, ""},
		{"manifestCsv headers", `f.manifestCsv([{a: 1, b: 2.5, c: 3}], ["b", "a"])`, `"b,a\n2.5,1\n"`, ""},
		{"manifestCsv nested value", `f.manifestCsv([{a: {x: [1]}}])`, `"a\n\"{\"\"x\"\":[1]}\"\n"`, ""},
		{"manifestCsv not objects", `f.manifestCsv([1])`, "", "element 0 must be an object"},
		{"csv round trip", `local x = [{a: "1", b: "x,y"}]; f.parseCsvWithHeader(f.manifestCsv(x)) == x`, `true`, ""},
		{"objectRemoveKey", `f.objectRemoveKey({a: 1, b: 2}, "a")`, `{"b":2}`, ""},

		// Mathematical functions.
		{"isDecimal", `[f.isDecimal(1.5), f.isDecimal(2)]`, `[true,false]`, ""},
		{"isEven", `[f.isEven(4), f.isEven(3), f.isEven(0)]`, `[true,false,true]`, ""},
		{"isOdd", `[f.isOdd(3), f.isOdd(4), f.isOdd(-1)]`, `[true,false,true]`, ""},
		{"isInteger", `[f.isInteger(3), f.isInteger(3.1)]`, `[true,false]`, ""},
		{"randomNumber", `local r = [f.randomNumber(1, 2) for i in std.range(1, 50)]; std.all([x >= 1 && x < 2 for x in r])`, `true`, ""},
		{"randomNumber empty range", `f.randomNumber(3, 3)`, `3`, ""},
		{"randomNumber bad bounds", `f.randomNumber(2, 1)`, "", "lowerBound 2 is greater than upperBound 1"},
		{"round half away from zero", `[f.round(2.5), f.round(-2.5), f.round(2.4)]`, `[3,-3,2]`, ""},

		// String functions.
		{"equalsIgnoreCase", `[f.equalsIgnoreCase("ABC", "abc"), f.equalsIgnoreCase("a", "b")]`, `[true,false]`, ""},
		{"isEmpty", `[f.isEmpty(""), f.isEmpty(" ")]`, `[true,false]`, ""},
		{"match", `f.match("a1b22c333", "[0-9]+")`, `["1","22","333"]`, ""},
		{"match none", `f.match("abc", "[0-9]")`, `[]`, ""},
		{"match RE2 syntax", `f.match("Foo foo", "(?i)foo")`, `["Foo","foo"]`, ""},
		{"match bad regexp", `f.match("a", "(")`, "", "match: error parsing regexp"},
		{"trim", `f.trim("  x y \n\t")`, `"x y"`, ""},

		// Timestamp functions.
		{"dateFormat epoch seconds", `f.dateFormat(1700000000, "YYYY-MM-DD HH:mm:ss", "UTC", "E")`, `"2023-11-14 22:13:20"`, ""},
		{"dateFormat sample shape", `std.parseInt(f.dateFormat(1700000000123 / 1000, "YYYY", "UTC", "E"))`, `2023`, ""},
		{"dateFormat unpadded parts", `[f.dateFormat(1704164645, p, "UTC", "E") for p in ["M", "D", "H", "m", "s", "YY", "DDD", "d"]]`,
			`["1","2","3","4","5","24","2","2"]`, ""},
		{"dateFormat names", `f.dateFormat(1700000000, "dddd ddd MMMM MMM", "UTC", "E")`, `"Tuesday Tue November Nov"`, ""},
		{"dateFormat time zone", `f.dateFormat(1700000000, "YYYY-MM-DD HH:mm Z ZZ z", "Asia/Kolkata", "E")`, `"2023-11-15 03:43 +05:30 +0530 IST"`, ""},
		{"dateFormat 12-hour clock", `f.dateFormat(1700000000, "h:mm A hh a", "America/New_York", "E")`, `"5:13 PM 05 pm"`, ""},
		{"dateFormat fixed offset", `f.dateFormat(1700000000, "HH:mm", "UTC-03:00", "E")`, `"19:13"`, ""},
		{"dateFormat milliseconds", `f.dateFormat(1700000000123, "X x SSS S [at] HH", "UTC", "x")`, `"1700000000 1700000000123 123 1 at 22"`, ""},
		{"dateFormat fraction of seconds", `f.dateFormat(1700000000.25, "ss.SS", "UTC", "E")`, `"20.25"`, ""},
		{"dateFormat numeric string", `f.dateFormat("1700000000", "YYYY", "UTC", "E")`, `"2023"`, ""},
		{"dateFormat guesses RFC 3339", `f.dateFormat("2024-02-29T10:00:00+01:00", "dddd D MMMM YYYY HH:mm")`, `"Thursday 29 February 2024 09:00"`, ""},
		{"dateFormat reads a zone-less string in timezone", `f.dateFormat("2024-02-29 10:00:00", "HH:mm Z", "Europe/Paris")`, `"10:00 +01:00"`, ""},
		{"dateFormat with a pattern", `f.dateFormat("29/02/2024 10:05", "YYYY-MM-DD[T]HH:mm:ssZ", "UTC", "DD/MM/YYYY HH:mm")`, `"2024-02-29T10:05:00+00:00"`, ""},
		{"dateFormat pattern with fraction", `f.dateFormat("2024-02-29 10:05:06.789", "x", "UTC", "YYYY-MM-DD HH:mm:ss.SSS")`, `"1709201106789"`, ""},
		{"dateFormat unreadable", `f.dateFormat("yesterday", "YYYY")`, "", `cannot read timestamp "yesterday"`},
		{"dateFormat bad zone", `f.dateFormat(0, "YYYY", "Mars/Olympus")`, "", `unknown time zone "Mars/Olympus"`},
		{"dateFormat pattern unsupported for parsing", `f.dateFormat("5", "YYYY", "UTC", "d")`, "", "d is not supported for parsing"},
		{"isLeapYear", `[f.isLeapYear(y) for y in [2024, 2023, 1900, 2000]]`, `[true,false,false,true]`, ""},
		{"isLeapYear not an integer", `f.isLeapYear(2024.5)`, "", "isLeapYear: year must be an integer"},
		{"nowInMillis", `f.nowInMillis()`, `1700000000123`, ""},

		// Utility functions.
		{"uuid", `local u = f.uuid(); [std.length(u), u[14], u == f.uuid()]`, `[36,"4",false]`, ""},
		{"getExecutionId", `f.getExecutionId()`, `"exec-1"`, ""},
		{"getIntegrationName", `f.getIntegrationName()`, `"orders"`, ""},
		{"getIntegrationRegion", `f.getIntegrationRegion()`, `"us-east1"`, ""},
		{"getProjectId", `f.getProjectId()`, `"proj"`, ""},
		{"getIntegrationVersionId", `f.getIntegrationVersionId()`, `"ver-7"`, ""},
		{"getIntegrationVersionNumber", `f.getIntegrationVersionNumber()`, `7`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := evalExpr(t, tt.expr)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("%s = %s, %v; want an error containing %q", tt.expr, got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("%s: %v", tt.expr, err)
			}
			if got != tt.want {
				t.Errorf("%s = %s, want %s", tt.expr, got, tt.want)
			}
		})
	}
}

// TestEveryFunctionIsTested keeps the table above complete: every field
// the library adds to std, and every extra function Google documents, has
// a case.
func TestEveryFunctionIsTested(t *testing.T) {
	t.Parallel()
	documented := strings.Fields(`avg contains maxArray minArray remove removeAt sum groupBy zip unzip
		xnor xor sha1 sha256 sha512 sha3 manifestXml parseXml parseCsvWithHeader manifestCsv objectRemoveKey
		isDecimal isEven isInteger isOdd randomNumber round equalsIgnoreCase isEmpty match trim
		dateFormat isLeapYear nowInMillis uuid getIntegrationName getIntegrationRegion getIntegrationVersionId
		getIntegrationVersionNumber getExecutionId getProjectId extVar`)
	out, err := evalExpr(t, `std.objectFieldsAll(f)`)
	if err != nil {
		t.Fatal(err)
	}
	fields := map[string]bool{}
	for _, n := range strings.Split(strings.Trim(out, "[]"), ",") {
		fields[strings.Trim(n, `"`)] = true
	}
	src := readTestSource(t)
	for _, name := range documented {
		if !fields[name] {
			t.Errorf("f.%s is missing from the library", name)
		}
		if !strings.Contains(src, "f."+name+"(") {
			t.Errorf("f.%s has no test", name)
		}
	}
	// Every function the library itself defines is documented.
	for _, m := range libraryFunc.FindAllStringSubmatch(jsonnetlib.LibrarySource(), -1) {
		if !slices.Contains(documented, m[1]) {
			t.Errorf("library function %s is not in the documented list", m[1])
		}
	}
}

var libraryFunc = regexp.MustCompile(`(?m)^  (\w+)\([^)]*\)::`)

func readTestSource(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	for _, f := range []string{"functions_test.go", "eval_test.go"} {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(data)
	}
	return b.String()
}

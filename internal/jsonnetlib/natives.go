package jsonnetlib

import (
	"fmt"
	"math"
	"math/rand/v2"
	"regexp"
	"sync"
	"time"

	jsonnet "github.com/google/go-jsonnet"
	"github.com/google/go-jsonnet/ast"
	"github.com/google/uuid"

	"github.com/integrationd/integrationd/internal/value"
)

// Native functions are registered on every VM as "integrationd.<name>";
// functions.libsonnet wraps them with the documented names and defaults.
// go-jsonnet hands them their arguments as JSON (nil, bool, float64,
// string, []any, map[string]any) and turns what they return back into
// Jsonnet values; an error becomes a Jsonnet run-time error with the
// error's text as message.
const nativePrefix = "integrationd."

// nativeExtVar is the native behind every external variable (template.go).
const nativeExtVar = nativePrefix + "extVar"

func (m *machine) natives() []*jsonnet.NativeFunction {
	exec := func(name string, get func(ExecInfo) any) *jsonnet.NativeFunction {
		return &jsonnet.NativeFunction{Name: nativePrefix + name, Func: func([]any) (any, error) {
			if r := m.run; r != nil {
				return get(r.in.Exec), nil
			}
			return get(ExecInfo{}), nil
		}}
	}
	return []*jsonnet.NativeFunction{
		{Name: nativeExtVar, Params: ast.Identifiers{"x"}, Func: m.extVar},
		pure("dateFormat", dateFormatNative, "timestamp", "format_string", "timezone", "current_format"),
		pure("parseXml", parseXMLNative, "xml", "format"),
		pure("manifestXml", manifestXMLNative, "json", "format", "indent_output"),
		pure("parseCsvWithHeader", parseCSVNative, "input", "delimiter", "overwrite_duplicate_headers"),
		pure("manifestCsv", manifestCSVNative, "json", "headers"),
		pure("match", matchNative, "str", "regexp"),
		pure("randomNumber", randomNumberNative, "lowerBound", "upperBound"),
		{Name: nativePrefix + "nowInMillis", Func: m.nowInMillis},
		{Name: nativePrefix + "uuid", Func: func([]any) (any, error) { return uuid.NewString(), nil }},
		exec("getExecutionId", func(x ExecInfo) any { return x.ExecutionID }),
		exec("getIntegrationName", func(x ExecInfo) any { return x.IntegrationName }),
		exec("getIntegrationRegion", func(x ExecInfo) any { return x.Region }),
		exec("getProjectId", func(x ExecInfo) any { return x.ProjectID }),
		exec("getIntegrationVersionId", func(x ExecInfo) any { return x.VersionID }),
		exec("getIntegrationVersionNumber", func(x ExecInfo) any { return float64(x.VersionNumber) }),
	}
}

func pure(name string, f func([]any) (any, error), params ...string) *jsonnet.NativeFunction {
	ids := make(ast.Identifiers, len(params))
	for i, p := range params {
		ids[i] = ast.Identifier(p)
	}
	return &jsonnet.NativeFunction{Name: nativePrefix + name, Params: ids, Func: f}
}

// extVar returns an integration variable converted to Jsonnet (see
// nativeValue). The message of a missing variable is go-jsonnet's own.
func (m *machine) extVar(args []any) (any, error) {
	name, _ := args[0].(string)
	if r := m.run; r != nil && r.in.Vars != nil {
		if v, ok := resolve(r.in.Vars, name); ok {
			return nativeValue(v), nil
		}
	}
	return nil, fmt.Errorf("Undefined external variable: %s", name)
}

func (m *machine) nowInMillis([]any) (any, error) {
	now := time.Now
	if r := m.run; r != nil && r.in.Now != nil {
		now = r.in.Now
	}
	return float64(now().UnixMilli()), nil
}

// nativeValue converts a variable for Jsonnet: strings stay strings (a
// string holding JSON text is not parsed), int and double become numbers,
// typed arrays become arrays, JSON variables become the value they hold,
// Null becomes null.
func nativeValue(v value.Value) any {
	switch v.Kind() {
	case value.Null:
		return nil
	case value.String:
		return v.Str()
	case value.Int:
		return float64(v.Int())
	case value.Double:
		return v.Double()
	case value.Bool:
		return v.Bool()
	case value.JSON:
		return nativeJSON(v.JSON())
	}
	return v.ToJSON() // a typed array: a fresh []any of scalars
}

func nativeJSON(j any) any {
	switch x := j.(type) {
	case *value.Object:
		m := make(map[string]any, x.Len())
		for _, k := range x.Keys() {
			e, _ := x.Get(k)
			m[k] = nativeJSON(e)
		}
		return m
	case []any:
		a := make([]any, len(x))
		for i, e := range x {
			a[i] = nativeJSON(e)
		}
		return a
	}
	return j
}

// typeName is the Jsonnet type name of a native argument.
func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case float64:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

func stringArg(fn, param string, v any) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%s: %s must be a string, got %s", fn, param, typeName(v))
	}
	return s, nil
}

func boolArg(fn, param string, v any) (bool, error) {
	b, ok := v.(bool)
	if !ok {
		return false, fmt.Errorf("%s: %s must be a boolean, got %s", fn, param, typeName(v))
	}
	return b, nil
}

func numberArg(fn, param string, v any) (float64, error) {
	f, ok := v.(float64)
	if !ok {
		return 0, fmt.Errorf("%s: %s must be a number, got %s", fn, param, typeName(v))
	}
	return f, nil
}

// randomNumberNative: a uniformly distributed real number in
// [lowerBound, upperBound).
func randomNumberNative(args []any) (any, error) {
	lo, err := numberArg("randomNumber", "lowerBound", args[0])
	if err != nil {
		return nil, err
	}
	hi, err := numberArg("randomNumber", "upperBound", args[1])
	if err != nil {
		return nil, err
	}
	if lo > hi {
		return nil, fmt.Errorf("randomNumber: lowerBound %v is greater than upperBound %v", lo, hi)
	}
	r := lo + rand.Float64()*(hi-lo)
	if r >= hi && hi > lo { // rounding at the top of the range
		r = math.Nextafter(hi, lo)
	}
	return r, nil
}

// matchNative: every non-overlapping substring of str that matches the
// RE2 regular expression, in order; [] when none does.
func matchNative(args []any) (any, error) {
	s, err := stringArg("match", "str", args[0])
	if err != nil {
		return nil, err
	}
	expr, err := stringArg("match", "regexp", args[1])
	if err != nil {
		return nil, err
	}
	re, err := compileRegexp(expr)
	if err != nil {
		return nil, fmt.Errorf("match: %v", err)
	}
	found := re.FindAllString(s, -1)
	out := make([]any, len(found))
	for i, f := range found {
		out[i] = f
	}
	return out, nil
}

// regexps caches compiled expressions; templates usually pass literals.
var regexps struct {
	sync.Mutex
	m map[string]*regexp.Regexp
}

const maxCachedRegexps = 256

func compileRegexp(expr string) (*regexp.Regexp, error) {
	regexps.Lock()
	re, ok := regexps.m[expr]
	regexps.Unlock()
	if ok {
		return re, nil
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, err
	}
	regexps.Lock()
	if regexps.m == nil || len(regexps.m) >= maxCachedRegexps {
		regexps.m = make(map[string]*regexp.Regexp)
	}
	regexps.m[expr] = re
	regexps.Unlock()
	return re, nil
}

// formatNumber prints a number in text output (CSV cells, XML text):
// whole numbers without a fraction, others in the shortest form that
// reads back the same.
func formatNumber(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return fmt.Sprintf("%d", int64(f))
	}
	return fmt.Sprint(f)
}

package mapping

import (
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/integrationd/integrationd/internal/value"
)

// A small builder for FieldMappingConfig JSON, so that test cases read like
// the reference's notation: ref("$a$").fn("json", "GET_PROPERTY", lit("x")).

type te map[string]any // a TransformExpression

type jsonText string // a literal jsonValue

func ref(s string) te { return te{"initialValue": map[string]any{"referenceValue": s}} }

func lit(v any) te { return te{"initialValue": map[string]any{"literalValue": valueType(v)}} }

// valueType builds a ValueType from a Go value.
func valueType(v any) map[string]any {
	switch x := v.(type) {
	case string:
		return map[string]any{"stringValue": x}
	case int:
		return map[string]any{"intValue": strconv.Itoa(x)}
	case int64:
		return map[string]any{"intValue": strconv.FormatInt(x, 10)}
	case float64:
		return map[string]any{"doubleValue": x}
	case bool:
		return map[string]any{"booleanValue": x}
	case jsonText:
		return map[string]any{"jsonValue": string(x)}
	case []string:
		return map[string]any{"stringArray": map[string]any{"stringValues": x}}
	case []int64:
		s := make([]string, len(x))
		for i, e := range x {
			s[i] = strconv.FormatInt(e, 10)
		}
		return map[string]any{"intArray": map[string]any{"intValues": s}}
	case []float64:
		return map[string]any{"doubleArray": map[string]any{"doubleValues": x}}
	case []bool:
		return map[string]any{"booleanArray": map[string]any{"booleanValues": x}}
	}
	panic("valueType: unsupported " + strconv.Quote(string(mustJSON(v))))
}

func base(name string, params ...te) te {
	f := map[string]any{"functionType": map[string]any{"baseFunction": map[string]any{"functionName": name}}}
	if len(params) > 0 {
		f["parameters"] = params
	}
	return te{"initialValue": map[string]any{"baseFunction": f}}
}

// lambda wraps body as a protoValue TransformExpression parameter.
func lambda(body te) te {
	pv := map[string]any{"@type": "type.googleapis.com/enterprise.crm.eventbus.proto.TransformExpression"}
	for k, v := range body {
		pv[k] = v
	}
	return te{"initialValue": map[string]any{"literalValue": map[string]any{"protoValue": pv}}}
}

// fn returns t with one more function in its chain (family is the short
// name: "string", "json", "stringArray"...).
func (t te) fn(family, name string, params ...te) te {
	f := map[string]any{"functionType": map[string]any{family + "Function": map[string]any{"functionName": name}}}
	if len(params) > 0 {
		f["parameters"] = params
	}
	out := te{}
	for k, v := range t {
		out[k] = v
	}
	chain, _ := t["transformationFunctions"].([]any)
	out["transformationFunctions"] = append(append([]any(nil), chain...), f)
	return out
}

// mrow is one mappedFields entry.
type mrow map[string]any

func mapped(in te, out string) mrow {
	return mrow{
		"inputField":  map[string]any{"fieldType": "DATA_TYPE_UNSPECIFIED", "transformExpression": in},
		"outputField": map[string]any{"referenceKey": out, "fieldType": "DATA_TYPE_UNSPECIFIED"},
	}
}

func (r mrow) optional() mrow {
	r["outputField"].(map[string]any)["cardinality"] = "OPTIONAL"
	return r
}

func (r mrow) withDefault(v any) mrow {
	r["inputField"].(map[string]any)["defaultValue"] = valueType(v)
	return r
}

func config(rows ...mrow) string {
	return string(mustJSON(map[string]any{
		"@type":        "type.googleapis.com/enterprise.crm.eventbus.proto.FieldMappingConfig",
		"mappedFields": rows,
	}))
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// J parses JSON text into a JSON Value.
func J(text string) value.Value {
	j, err := value.ParseLenientJSON(text)
	if err != nil {
		panic(err)
	}
	return value.FromJSON(j)
}

// testEnv is the engine's wrapper in miniature: value.Vars plus a BaseContext.
type testEnv struct {
	*value.Vars
	base BaseContext
}

func (e *testEnv) Base() BaseContext { return e.base }

var _ Env = (*testEnv)(nil)

const (
	testNow  = 1657783580839 // 14 Jul 2022 07:26:20.839 GMT
	testUUID = "57547434-b572-4aaa-8da6-e6768850baa3"
)

func testBase() BaseContext {
	return BaseContext{
		ExecutionID: "exec-1", IntegrationName: "orders", Region: "us-central1",
		ProjectID: "my-project", Environment: "staging",
		Now:     func() time.Time { return time.UnixMilli(testNow) },
		NewUUID: func() string { return testUUID },
	}
}

// newEnv declares the variables of decl and sets vals (undeclared names in
// vals become transient variables).
func newEnv(t testing.TB, decl map[string]value.Kind, vals map[string]value.Value) *testEnv {
	t.Helper()
	vs := value.NewVars(decl)
	for k, v := range vals {
		if err := vs.Set(k, v); err != nil {
			t.Fatalf("Set(%s): %v", k, err)
		}
	}
	return &testEnv{Vars: vs, base: testBase()}
}

// sameValue compares kinds and contents (JSON key order included).
func sameValue(a, b value.Value) bool {
	if a.Kind() != b.Kind() {
		return false
	}
	if a.Kind() == value.Double {
		return a.Double() == b.Double()
	}
	return value.EncodeJSON(a.ToJSON()) == value.EncodeJSON(b.ToJSON())
}

func show(v value.Value) string {
	return v.Kind().String() + " " + v.String()
}

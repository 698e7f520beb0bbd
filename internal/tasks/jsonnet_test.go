package tasks

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/integrationd/integrationd/internal/engine"
	"github.com/integrationd/integrationd/internal/spec"
	"github.com/integrationd/integrationd/internal/value"
)

// jsonnetTasks is a registry with the Data Transformer task alone (New
// registers it among the others).
var jsonnetTasks = func() *Registry {
	r := NewRegistry()
	registerJsonnet(r, Options{})
	return r
}()

func jsonnetConfig(template string) *spec.TaskConfig {
	return &spec.TaskConfig{Task: jsonnetMapperTask, TaskID: "3", Parameters: map[string]spec.EventParameter{
		pTemplate: {Key: pTemplate, Value: &spec.ValueType{StringValue: &template}},
	}}
}

func compileJsonnet(t testing.TB, template string) engine.Task {
	t.Helper()
	task, err := jsonnetTasks.CompileTask(jsonnetConfig(template))
	if err != nil {
		t.Fatalf("CompileTask: %v", err)
	}
	return task
}

func jsonnetContext(vars *value.Vars) *engine.TaskContext {
	return &engine.TaskContext{
		Vars: vars,
		Exec: engine.ExecInfo{ExecutionID: "exec-1", IntegrationName: "orders", VersionID: "v-1", SnapshotNumber: 4,
			ProjectID: "proj", Region: "us-central1", Mode: "SYNC"},
		TaskID: "3", Task: jsonnetMapperTask, Attempt: 1,
		Now: func() time.Time { return time.UnixMilli(1700000000000) },
	}
}

func jsonnetJSON(t testing.TB, text string) value.Value {
	t.Helper()
	j, err := value.ParseJSON(text)
	if err != nil {
		t.Fatal(err)
	}
	return value.FromJSON(j)
}

func TestJsonnetOutputTyping(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		kind  value.Kind // declared kind; Null: undeclared
		field string     // the template's value for the field
		want  string     // value.Value.String() of the variable afterwards
		wantK value.Kind
	}{
		{"string", value.String, `"x"`, `"x"`, value.String},
		{"number into string", value.String, `3`, `"3"`, value.String},
		{"object into string", value.String, `{b: [1]}`, `"{\"b\":[1]}"`, value.String},
		{"whole number into int", value.Int, `2.0`, `2`, value.Int},
		{"numeric string into int", value.Int, `"5"`, `5`, value.Int},
		{"number into double", value.Double, `7`, `7.0`, value.Double},
		{"boolean", value.Bool, `true`, `true`, value.Bool},
		{"string into boolean", value.Bool, `"false"`, `false`, value.Bool},
		{"string array", value.StringArray, `["a", "b"]`, `["a","b"]`, value.StringArray},
		{"int array", value.IntArray, `[1, 2]`, `[1,2]`, value.IntArray},
		{"double array", value.DoubleArray, `[1.5, 2]`, `[1.5,2]`, value.DoubleArray},
		{"boolean array", value.BoolArray, `[true]`, `[true]`, value.BoolArray},
		{"scalar into an array", value.StringArray, `"a"`, `["a"]`, value.StringArray},
		{"JSON object", value.JSON, `{z: 1, a: [null]}`, `{"a":[null],"z":1}`, value.JSON},
		{"JSON text into JSON", value.JSON, `'{"k": 1}'`, `{"k":1}`, value.JSON},
		{"null", value.Int, `null`, `null`, value.Null},
		{"undeclared string", value.Null, `"x"`, `"x"`, value.String},
		{"undeclared whole number", value.Null, `3`, `3`, value.Int},
		{"undeclared fraction", value.Null, `0.5`, `0.5`, value.Double},
		{"undeclared boolean", value.Null, `false`, `false`, value.Bool},
		{"undeclared array", value.Null, `[1, "a"]`, `[1,"a"]`, value.JSON},
		{"undeclared object", value.Null, `{a: 1}`, `{"a":1}`, value.JSON},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			decl := map[string]value.Kind{}
			if tt.kind != value.Null {
				decl["out"] = tt.kind
			}
			vars := value.NewVars(decl)
			task := compileJsonnet(t, "local f = import \"functions\";\n{ out: "+tt.field+" }")
			if err := task.Execute(t.Context(), jsonnetContext(vars)); err != nil {
				t.Fatalf("Execute: %v", err)
			}
			got, _ := vars.Lookup("out")
			if got.Kind() != tt.wantK || got.String() != tt.want {
				t.Errorf("out = %s %s, want %s %s", got.Kind(), got, tt.wantK, tt.want)
			}
		})
	}
}

func TestJsonnetOutputNames(t *testing.T) {
	t.Parallel()
	vars := value.NewVars(map[string]value.Kind{"`Task_1_x`": value.Int, "full-custom-header": value.String, "kept": value.String})
	_ = vars.Set("kept", value.Str("before"))
	task := compileJsonnet(t, "local inputs = {prefix: \"test-\", \"another-prefix\": \"hello-world\"};\n"+
		"{\n  \"full-custom-header\": inputs.prefix + inputs[\"another-prefix\"],\n  Task_1_x: 1,\n  kept:: \"hidden fields are not written\",\n}")
	if err := task.Execute(t.Context(), jsonnetContext(vars)); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"full-custom-header": `"test-hello-world"`, "`Task_1_x`": `1`, "kept": `"before"`} {
		if got, _ := vars.Lookup(name); got.String() != want {
			t.Errorf("%s = %s, want %s", name, got, want)
		}
	}
	if _, ok := vars.Lookup("Task_1_x"); ok {
		t.Error("Task_1_x was created; the field should have gone to `Task_1_x`")
	}
}

func TestJsonnetConversionFailure(t *testing.T) {
	t.Parallel()
	vars := value.NewVars(map[string]value.Kind{"total": value.Int, "flag": value.Bool, "ok": value.String})
	task := compileJsonnet(t, `{ total: "abc", flag: [1, 2], ok: "fine" }`)
	err := task.Execute(t.Context(), jsonnetContext(vars))
	var te *engine.TaskError
	if !errors.As(err, &te) {
		t.Fatalf("Execute = %v, want a *engine.TaskError", err)
	}
	for _, want := range []string{"variable total (INT_VALUE): cannot convert", "variable flag (BOOLEAN_VALUE): cannot convert"} {
		if !strings.Contains(te.Message, want) {
			t.Errorf("message %q does not contain %q", te.Message, want)
		}
	}
	if v, _ := vars.Lookup("ok"); !v.IsNull() {
		t.Errorf("ok = %s: a failed task must not write any variable", v)
	}
}

func TestJsonnetErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, template, want string }{
		{"runtime error", "local f = import \"functions\";\n{\n  a: error \"x\",\n}", "template:3:6: x"},
		{"unknown extVar", "local f = import \"functions\";\n{\n  a: f.extVar(\"missing\"),\n}", "template:3:6: Undefined external variable: missing"},
		{"array result", `[1, 2]`, "the template must evaluate to an object whose fields name the variables to set, not an array"},
		{"string result", `"x"`, "not a string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := compileJsonnet(t, tt.template).Execute(t.Context(), jsonnetContext(value.NewVars(nil)))
			var te *engine.TaskError
			if !errors.As(err, &te) || !strings.Contains(te.Message, tt.want) {
				t.Fatalf("Execute = %v, want a TaskError containing %q", err, tt.want)
			}
		})
	}
}

func TestJsonnetCompileErrors(t *testing.T) {
	t.Parallel()
	_, err := jsonnetTasks.CompileTask(jsonnetConfig("local f = import \"functions\";\n{\n  a: f.sum([1, 2),\n}"))
	if err == nil || !strings.HasPrefix(err.Error(), "template:3:") {
		t.Errorf("syntax error: CompileTask = %v, want an error at template:3:<col>", err)
	}
	_, err = jsonnetTasks.CompileTask(&spec.TaskConfig{Task: jsonnetMapperTask, TaskID: "3"})
	if err == nil || !strings.Contains(err.Error(), "parameter template is required") {
		t.Errorf("no template: CompileTask = %v", err)
	}
	// diagramMetadata is accepted and ignored; unknown parameters too
	// (exports carry suspensionExpiration on some Data Transformer tasks).
	cfg := jsonnetConfig("{}")
	meta := `{"nodes": []}`
	cfg.Parameters[pDiagramMetadata] = spec.EventParameter{Key: pDiagramMetadata, Value: &spec.ValueType{JSONValue: &meta}}
	cfg.Parameters["suspensionExpiration"] = spec.EventParameter{Key: "suspensionExpiration"}
	if _, err := jsonnetTasks.CompileTask(cfg); err != nil {
		t.Errorf("with diagramMetadata: %v", err)
	}
}

func TestJsonnetCancelled(t *testing.T) {
	t.Parallel()
	task := compileJsonnet(t, "{ a: std.foldl(function(a, i) a + std.foldl(function(b, j) b + j, std.range(1, 1e4), 0), std.range(1, 1e4), 0) }")
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	err := task.Execute(ctx, jsonnetContext(value.NewVars(nil)))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Execute = %v, want context.DeadlineExceeded", err)
	}
}

// The ecom-order-processing-using-data-transformer sample's three Data
// Transformer tasks (filter the external line items, total the order, set
// the response), on our own order.
func TestJsonnetEcomOrderShape(t *testing.T) {
	t.Parallel()
	const header = "local f = import \"functions\"; // Import additional functions\n\n// TEMPLATE OUTPUT\n// Json Object is expected as on output.\n"
	filter := compileJsonnet(t, header+"local line_items = f.extVar(\"orders_request\").line_items;\n{\n// Add mapping here\n\"filtered_external_items\": f.filter(function(item) item.vendor == \"External\", line_items),\n}")
	total := compileJsonnet(t, header+"local line_items = f.extVar(\"orders_request\").line_items;\n\n{\n// Add mapping here\n\"total_order_value\":  f.sum(f.map(function(item) item.quantity * item.price_per_unit, line_items)),\n}")
	respond := compileJsonnet(t, header+"{\n// Add mapping here\n\"orders_response\": {\"STATUS\": \"PROCESSING_COMPLETE\"},\n}")

	vars := value.NewVars(map[string]value.Kind{
		"orders_request": value.JSON, "total_order_value": value.Double, "filtered_external_items": value.JSON,
		"orders_response": value.JSON, "threshold_order_value": value.Double,
	})
	_ = vars.Set("orders_request", jsonnetJSON(t, `{"order_id": "A-17", "line_items": [
		{"sku": "k-1", "vendor": "Internal", "quantity": 2, "price_per_unit": 12.5},
		{"sku": "k-2", "vendor": "External", "quantity": 1, "price_per_unit": 99.99},
		{"sku": "k-3", "vendor": "External", "quantity": 3, "price_per_unit": 4}]}`))
	for _, task := range []engine.Task{filter, total, respond} {
		if err := task.Execute(t.Context(), jsonnetContext(vars)); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]string{
		"filtered_external_items": `[{"price_per_unit":99.99,"quantity":1,"sku":"k-2","vendor":"External"},{"price_per_unit":4,"quantity":3,"sku":"k-3","vendor":"External"}]`,
		"total_order_value":       `136.99`,
		"orders_response":         `{"STATUS":"PROCESSING_COMPLETE"}`,
	}
	for name, w := range want {
		got, _ := vars.Lookup(name)
		if got.String() != w {
			t.Errorf("%s = %s, want %s", name, got, w)
		}
	}
	if got, _ := vars.Lookup("total_order_value"); got.Kind() != value.Double {
		t.Errorf("total_order_value is %s, want double", got.Kind())
	}
}

// The mapping-builder sample's shapes: an INT epoch in milliseconds cut
// with dateFormat, and a REST response body parsed from a string.
func TestJsonnetMappingBuilderShape(t *testing.T) {
	t.Parallel()
	query := compileJsonnet(t, `local f = import "functions";
local now_in_millis = f.extVar("now_in_millis");
local unit = f.extVar("delete_from_time_unit");
local extract(epochMs, element) =
  if element == 'year' then std.parseInt(f.dateFormat(epochMs/1000, 'YYYY', 'UTC', 'E'))
  else if element == 'month' then std.parseInt(f.dateFormat(epochMs/1000, 'M', 'UTC', 'E'))
  else if element == 'hour' then std.parseInt(f.dateFormat(epochMs/1000, 'HH', 'UTC', 'E'))
  else 0;
{
  find_neighbors_query: {
    restricts: [{namespace: "time_millis", value_int: now_in_millis - f.extVar("delete_from_value") * 60 * 60 * 1000, op: "GREATER_EQUAL"}],
    parts: [extract(now_in_millis, p) for p in ['year', 'month', 'hour', unit]],
  },
}`)
	count := compileJsonnet(t, "local f = import \"functions\";\nlocal raw = std.parseJson(f.extVar(\"`Task_2_responseBody`\"));\n"+
		"local ids = [n.datapoint.datapointId for nearest in raw.nearestNeighbors for n in nearest.neighbors if std.objectHas(n, \"datapoint\")];\n"+
		"{ nearest_neighbors_to_delete: {datapoint_ids: ids}, datapoints_to_delete_length: std.length(ids) }")
	vars := value.NewVars(map[string]value.Kind{
		"now_in_millis": value.Int, "delete_from_time_unit": value.String, "delete_from_value": value.Int,
		"find_neighbors_query": value.JSON, "`Task_2_responseBody`": value.String,
		"nearest_neighbors_to_delete": value.JSON, "datapoints_to_delete_length": value.Int,
	})
	_ = vars.Set("now_in_millis", value.Integer(1700000000000))
	_ = vars.Set("delete_from_time_unit", value.Str("day"))
	_ = vars.Set("delete_from_value", value.Integer(2))
	_ = vars.Set("`Task_2_responseBody`", value.Str(`{"nearestNeighbors": [{"neighbors": [{"datapoint": {"datapointId": "a"}}, {"distance": 1}, {"datapoint": {"datapointId": "b"}}]}]}`))
	for _, task := range []engine.Task{query, count} {
		if err := task.Execute(t.Context(), jsonnetContext(vars)); err != nil {
			t.Fatal(err)
		}
	}
	for name, want := range map[string]string{
		"find_neighbors_query":        `{"parts":[2023,11,22,0],"restricts":[{"namespace":"time_millis","op":"GREATER_EQUAL","value_int":1699992800000}]}`,
		"nearest_neighbors_to_delete": `{"datapoint_ids":["a","b"]}`,
		"datapoints_to_delete_length": `2`,
	} {
		if got, _ := vars.Lookup(name); got.String() != want {
			t.Errorf("%s = %s, want %s", name, got, want)
		}
	}
}

// The status-based-retry sample's sub-integration: parse the REST status
// line into an INT, count the retries.
func TestJsonnetStatusRetryShape(t *testing.T) {
	t.Parallel()
	code := compileJsonnet(t, "local f = import \"functions\"; // Import additional functions\n\nlocal rs = std.extVar(\"`Task_1_responseStatus`\");\n\n{\n// Add mapping here\n    responseCode: std.parseJson(std.split(rs, \" \")[0])\n}")
	retry := compileJsonnet(t, "local f = import \"functions\"; // Import additional functions\n\n{\n    retryCounter: std.extVar(\"retryCounter\") + 1\n}")
	vars := value.NewVars(map[string]value.Kind{"responseCode": value.Int, "retryCounter": value.Int, "`Task_1_responseStatus`": value.String})
	_ = vars.Set("`Task_1_responseStatus`", value.Str("429 Too Many Requests"))
	_ = vars.Set("retryCounter", value.Integer(1))
	for _, task := range []engine.Task{code, retry, retry} {
		if err := task.Execute(t.Context(), jsonnetContext(vars)); err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := vars.Lookup("responseCode"); got.Kind() != value.Int || got.Int() != 429 {
		t.Errorf("responseCode = %s %s, want int 429", got.Kind(), got)
	}
	if got, _ := vars.Lookup("retryCounter"); got.Int() != 3 {
		t.Errorf("retryCounter = %s, want 3", got)
	}
}

func TestJsonnetExecutionFunctions(t *testing.T) {
	t.Parallel()
	vars := value.NewVars(nil)
	task := compileJsonnet(t, `local f = import "functions";
{ info: [f.getExecutionId(), f.getIntegrationName(), f.getIntegrationRegion(), f.getProjectId(),
         f.getIntegrationVersionId(), f.getIntegrationVersionNumber(), f.nowInMillis()] }`)
	if err := task.Execute(t.Context(), jsonnetContext(vars)); err != nil {
		t.Fatal(err)
	}
	if got, _ := vars.Lookup("info"); got.String() != `["exec-1","orders","us-central1","proj","v-1",4,1700000000000]` {
		t.Errorf("info = %s", got)
	}
}

// One compiled task serves many executions at once.
func TestJsonnetConcurrentExecutions(t *testing.T) {
	t.Parallel()
	task := compileJsonnet(t, "local f = import \"functions\";\nlocal o = f.extVar(\"order\");\n"+
		"{ total: f.sum([i.q * i.p for i in o.items]), label: o.id + \"@\" + f.getExecutionId() }")
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for w := range 32 {
		wg.Go(func() {
			for r := range 20 {
				vars := value.NewVars(map[string]value.Kind{"order": value.JSON, "total": value.Double, "label": value.String})
				_ = vars.Set("order", jsonnetJSON(t, fmt.Sprintf(`{"id": "o%d", "items": [{"q": %d, "p": 0.5}, {"q": 1, "p": 1}]}`, w, r)))
				tc := jsonnetContext(vars)
				tc.Exec.ExecutionID = fmt.Sprintf("e%d-%d", w, r)
				if err := task.Execute(context.Background(), tc); err != nil {
					errs <- err
					return
				}
				total, _ := vars.Lookup("total")
				label, _ := vars.Lookup("label")
				if total.Double() != float64(r)*0.5+1 || label.Str() != fmt.Sprintf("o%d@e%d-%d", w, w, r) {
					errs <- fmt.Errorf("worker %d round %d: total %s, label %s", w, r, total, label)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// BenchmarkTrivialTemplate is the per-execution cost of a Data
// Transformer task that imports the library and sets two variables.
func BenchmarkTrivialTemplate(b *testing.B) {
	task := compileJsonnet(b, "local f = import \"functions\";\n{ hello: \"world\", next: f.extVar(\"n\") + 1 }")
	vars := value.NewVars(map[string]value.Kind{"n": value.Int, "hello": value.String, "next": value.Int})
	_ = vars.Set("n", value.Integer(41))
	tc := jsonnetContext(vars)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := task.Execute(ctx, tc); err != nil {
			b.Fatal(err)
		}
	}
}

package api_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/integrationd/integrationd/internal/service"
)

// samplesDir holds the integrations exported from Google's service that
// the project keeps beside the repository (read-only, not copied here).
const samplesDir = "../../../shared/samples"

func sampleFiles(t *testing.T) []string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(samplesDir, "*.json"))
	if len(files) == 0 {
		t.Skipf("skipping: no samples in %s (the shared samples are not beside this checkout)", samplesDir)
	}
	return files
}

// TestSamplesCreateAndValidate uploads every exported sample unchanged;
// create must succeed and validate must report no error other than
// UNIMPLEMENTED for task types integrationd does not support yet.
func TestSamplesCreateAndValidate(t *testing.T) {
	t.Parallel()
	e := start(t, nil, service.Config{})
	for _, f := range sampleFiles(t) {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		t.Run(name, func(t *testing.T) {
			content := readFile(t, f)
			integ := strings.ReplaceAll(name, "_", "-")
			if len(integ) > 64 {
				integ = integ[:64]
			}
			code, v := e.do(t, "POST", "/v1/"+parent+"/integrations/"+integ+"/versions", content)
			if code != 200 {
				t.Fatalf("create: %d %v", code, v)
			}
			code, m := e.do(t, "POST", "/v1/"+v["name"].(string)+":validate", "{}")
			if _, status, msg := errStatus(m); code != 200 && status != "UNIMPLEMENTED" {
				t.Errorf("validate: %d %s %s", code, status, msg)
			}
			// Download gives back a document that uploads again.
			code, d := e.do(t, "GET", "/v1/"+v["name"].(string)+":download", nil)
			if code != 200 {
				t.Fatalf("download: %d %v", code, d)
			}
			up, _ := json.Marshal(map[string]string{"content": d["content"].(string)})
			if code, m := e.do(t, "POST", "/v1/"+parent+"/integrations/"+integ+"/versions:upload", up); code != 200 {
				t.Errorf("re-upload: %d %v", code, m)
			}
		})
	}
}

// TestSamplesExecute runs the samples whose tasks are all supported and
// checks what they compute.
func TestSamplesExecute(t *testing.T) {
	t.Parallel()
	sampleFiles(t)
	e := start(t, nil, service.Config{})
	cases := []struct {
		file, trigger string
		// out: expected outputParameters (JSON text of the value);
		// final: expected final variables (from the execution record).
		out, final map[string]string
	}{
		{
			file: "concat-string-array_concat-string-array.json", trigger: "api_trigger/tkApplicationIntegrationSample2_API_1",
			out: map[string]string{"stringArray": `["orangesAreGreatFruits","applesAreGreatFruits","bananasAreGreatFruits","mangosAreGreatFruits"]`},
		},
		{
			file: "filter-json-array_filter-json-array.json", trigger: "api_trigger/filter_orders_greater_than500_API_1",
			out: map[string]string{"flag_orders": `[{"lineNumber":3,"productNumber":456,"unitPrice":10,"qty":1000,"taxAmount":10}]`},
		},
		{
			file: "merge-json-arrays_merge-json-arrays.json", trigger: "api_trigger/test_string_case_conversion_API_1",
			final: map[string]string{"outputJsonArray": `[{"name":"Abhishek","course":"Mechanical"},{"name":"Chirag","course":"Civil"},{"name":"Sachin","course":"Medical"},{"name":"Vivek","course":"Software"},{"name":"Shubham","course":"IT"},{"name":"Dravid","course":"Mechanical"}]`},
		},
		{
			file: "remove-json-property_remove-json-property.json", trigger: "api_trigger/test_string_case_conversion_API_1",
			final: map[string]string{"outputJsonArray": `{"students":[{"name":"Abhishek"},{"name":"Chirag"},{"name":"Sachin"},{"name":"Vivek"}]}`},
		},
		{
			file: "resolve-json_resolve-json.json", trigger: "api_trigger/json_structure_mapping_API_1",
			out: map[string]string{"output_order_json": `{"order":{"ordDate":"29/5/2022","orderID":"123","btAddr":{"btAddr":"1155 Borregas Ave Sunnyvale CA 94089","btCode":"CX3H+XC Sunnyvale, California"},"stAddr":{"stAddress":"1155 Borregas Ave Sunnyvale CA 94089","stCode":"CX3H-XC Sunnyvale, California"}}}`},
		},
		{
			file: "update-json-array_update-json-array.json", trigger: "api_trigger/tkApplicationIntegrationSample1_API_1",
			out: map[string]string{"outputJsonArray": `["{\"prop1\":\"val11\"}","{\"prop1\":\"val21\"}","{\n  \"prop1\": \"valUserDefined\"\n}","{\"prop1\":\"val41\"}"]`},
		},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			integ := strings.SplitN(c.file, "_", 2)[0]
			e.publish(t, integ, readFile(t, filepath.Join(samplesDir, c.file)))
			code, m := e.do(t, "POST", "/v1/"+parent+"/integrations/"+integ+":execute", `{"triggerId":"`+c.trigger+`"}`)
			if code != 200 {
				t.Fatalf("execute: %d %v", code, m)
			}
			outs := m["outputParameters"].(map[string]any)
			for k, want := range c.out {
				var w any
				if err := json.Unmarshal([]byte(want), &w); err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(outs[k], w) {
					got, _ := json.Marshal(outs[k])
					t.Errorf("output %s = %s, want %s", k, got, want)
				}
			}
			if len(c.final) == 0 {
				return
			}
			_, ex := e.do(t, "GET", "/v1/"+parent+"/integrations/"+integ+"/executions/"+m["executionId"].(string), nil)
			snaps := ex["executionDetails"].(map[string]any)["executionSnapshots"].([]any)
			params := snaps[len(snaps)-1].(map[string]any)["params"].(map[string]any)
			for k, want := range c.final {
				got := params[k].(map[string]any)["jsonValue"]
				if got != want {
					t.Errorf("final %s = %v, want %s", k, got, want)
				}
			}
		})
	}
}

// TestSamplesWithUnsupportedTasks checks the clear UNIMPLEMENTED error of
// a sample whose trigger reaches a task integrationd lacks.
// TestSamplesWithUnsupportedTasks runs toolkit_test_cloudfunctions, whose
// one task (CloudFunctionTask, Google Cloud Functions) integrationd does
// not support: :execute answers 501 naming it.
func TestSamplesWithUnsupportedTasks(t *testing.T) {
	t.Parallel()
	sampleFiles(t)
	e := start(t, nil, service.Config{})
	e.publish(t, "cf", readFile(t, filepath.Join(samplesDir, "toolkit_test_cloudfunctions.json")))
	code, m := e.execute(t, "cf", `{"triggerId":"api_trigger/cloudfunctions_API_1"}`)
	if _, status, msg := errStatus(m); code != 501 || status != "UNIMPLEMENTED" || !strings.Contains(msg, "CloudFunctionTask") {
		t.Errorf("%d %v", code, m)
	}
}

// lastParams returns the variables of an execution's last snapshot.
func lastParams(t *testing.T, e *env, integration, id string) map[string]any {
	t.Helper()
	code, ex := e.do(t, "GET", "/v1/"+parent+"/integrations/"+integration+"/executions/"+id, nil)
	if code != 200 {
		t.Fatalf("get execution: %d %v", code, ex)
	}
	snaps, _ := ex["executionDetails"].(map[string]any)["executionSnapshots"].([]any)
	if len(snaps) == 0 {
		t.Fatalf("execution %s has no snapshots", id)
	}
	params, _ := snaps[len(snaps)-1].(map[string]any)["params"].(map[string]any)
	return params
}

// taskStates maps task numbers to their final state in an execution.
func taskStates(t *testing.T, e *env, integration, id string) map[string]any {
	t.Helper()
	_, ex := e.do(t, "GET", "/v1/"+parent+"/integrations/"+integration+"/executions/"+id, nil)
	states := map[string]any{}
	for _, s := range ex["executionDetails"].(map[string]any)["executionSnapshots"].([]any) {
		for _, d := range s.(map[string]any)["taskExecutionDetails"].([]any) {
			d := d.(map[string]any)
			states[d["taskNumber"].(string)] = d["taskExecutionState"]
		}
	}
	return states
}

// TestSampleStatusBasedRetryMain runs status-based-retry-main, whose While
// Loop calls status-based-retry-sub while $retryCounter$ < 2 AND
// $responseCode$ >= 400, with httpbin.org replaced by a local server that
// answers 503 and then 200.
func TestSampleStatusBasedRetryMain(t *testing.T) {
	t.Parallel()
	sampleFiles(t)
	for _, tc := range []struct {
		name     string
		statuses []int
		calls    int
		counter  float64
		code     float64
		branch   string // the task that runs after the loop
	}{
		{"recovers", []int{503, 200}, 2, 2, 200, "2"},
		{"gives up", []int{400, 400, 400}, 2, 2, 400, "3"},
		{"first call succeeds", []int{204}, 1, 1, 204, "2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var calls atomic.Int64
			upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n := int(calls.Add(1))
				w.WriteHeader(tc.statuses[min(n, len(tc.statuses))-1])
			}))
			defer upstream.Close()
			e := start(t, nil, service.Config{})
			sub := strings.ReplaceAll(string(readFile(t, filepath.Join(samplesDir, "status-based-retry_status-based-retry-sub.json"))), "https://httpbin.org/status/400", upstream.URL)
			e.publish(t, "status-based-retry-sub", []byte(sub))
			e.publish(t, "status-based-retry-main", readFile(t, filepath.Join(samplesDir, "status-based-retry_status-based-retry-main.json")))
			code, m := e.execute(t, "status-based-retry-main", `{"triggerId":"api_trigger/status-based-retry-main_API_1"}`)
			if code != 200 {
				t.Fatalf("execute: %d %v", code, m)
			}
			id := m["executionId"].(string)
			params := lastParams(t, e, "status-based-retry-main", id)
			if fmt.Sprint(params["retryCounter"]) != fmt.Sprintf("map[intValue:%v]", tc.counter) || fmt.Sprint(params["responseCode"]) != fmt.Sprintf("map[intValue:%v]", tc.code) {
				t.Errorf("retryCounter = %v, responseCode = %v", params["retryCounter"], params["responseCode"])
			}
			if int(calls.Load()) != tc.calls {
				t.Errorf("upstream called %d times, want %d", calls.Load(), tc.calls)
			}
			states := taskStates(t, e, "status-based-retry-main", id)
			other := map[string]string{"2": "3", "3": "2"}[tc.branch]
			if states[tc.branch] != "SUCCEED" || states[other] != "SKIPPED" {
				t.Errorf("task states = %v", states)
			}
			meta, _ := params["`Task_1_loopMetadata`"].(map[string]any)["jsonValue"].(string)
			if !strings.Contains(meta, fmt.Sprintf(`"current_iteration_count":%d`, tc.calls)) {
				t.Errorf("loopMetadata = %s", meta)
			}
		})
	}
}

// TestSampleCallRESTAPI runs call-rest-api against a local server in place
// of mocktarget.apigee.net: GET, then TO_JSON of the body into OutputJson.
func TestSampleCallRESTAPI(t *testing.T) {
	t.Parallel()
	sampleFiles(t)
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/json" || r.Method != "GET" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"firstName":"john","lastName":"doe","city":"San Jose"}`)
	}))
	defer upstream.Close()
	content := strings.ReplaceAll(string(readFile(t, filepath.Join(samplesDir, "call-rest-api_call-rest-api.json"))), "https://mocktarget.apigee.net", upstream.URL)
	e := start(t, nil, service.Config{})
	e.publish(t, "call-rest-api", []byte(content))
	code, m := e.execute(t, "call-rest-api", `{"triggerId":"api_trigger/CallRestEndpointDemo_API_1"}`)
	if code != 200 {
		t.Fatalf("execute: %d %v", code, m)
	}
	if got := fmt.Sprint(outputs(m)["OutputJson"]); got != "map[city:San Jose firstName:john lastName:doe]" {
		t.Errorf("OutputJson = %s", got)
	}
	// throwError is true in the sample: a 500 upstream fails the execution.
	upstream.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) })
	code, m = e.execute(t, "call-rest-api", `{"triggerId":"api_trigger/CallRestEndpointDemo_API_1"}`)
	if _, _, msg := errStatus(m); code != 500 || !strings.Contains(msg, "500") {
		t.Errorf("upstream 500: %d %v", code, m)
	}
}

// TestSampleEcomOrderProcessing runs ecom-order-processing below its
// threshold: total the order (Data Mapping), filter the external items,
// then a For Each Loop calls the same integration's second trigger, whose
// Call REST Endpoint posts each item to a local server in place of
// mocktarget.apigee.net; the response statuses are aggregated.
func TestSampleEcomOrderProcessing(t *testing.T) {
	t.Parallel()
	sampleFiles(t)
	var mu sync.Mutex
	var bodies []string
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, string(b))
		mu.Unlock()
		w.Write(b)
	}))
	defer upstream.Close()
	content := strings.ReplaceAll(string(readFile(t, filepath.Join(samplesDir, "ecom-order-processing_ecom-order-processing.json"))), "https://mocktarget.apigee.net", upstream.URL)
	e := start(t, nil, service.Config{})
	const name = "ExampleIntegration-EcomOrderProcessing"
	e.publish(t, name, []byte(content))
	order := `{"order_no":"9","line_items":[` +
		`{"sku":"a","vendor":"Internal","quantity":1,"price_per_unit":10},` +
		`{"sku":"b","vendor":"External","quantity":2,"price_per_unit":5},` +
		`{"sku":"c","vendor":"External","quantity":3,"price_per_unit":1}]}`
	code, m := e.execute(t, name, `{"triggerId":"api_trigger/ecom-order-processing_API_1","inputParameters":{"orders_request":{"jsonValue":`+strconv.Quote(order)+`}}}`)
	if code != 200 {
		t.Fatalf("execute: %d %v", code, m)
	}
	outs := outputs(m)
	if outs["total_order_value"] != 23.0 {
		t.Errorf("total_order_value = %v", outs["total_order_value"])
	}
	if got := fmt.Sprint(outs["rest_call_response_status"]); got != "[200 OK 200 OK]" {
		t.Errorf("rest_call_response_status = %s", got)
	}
	if got := fmt.Sprint(outs["orders_response"]); got != "map[STATUS:PROCESSING_COMPLETE]" {
		t.Errorf("orders_response = %s", got)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(bodies) != 2 || !strings.Contains(bodies[0], `"sku":"b"`) || !strings.Contains(bodies[1], `"sku":"c"`) {
		t.Errorf("upstream got %q", bodies)
	}
}

// TestSampleCatchTaskError runs catch-task-error: its Data Mapping fails
// (GET out of range) under an IGNORE policy, which fills ErrorMessage, so
// the "Error" edge leads to the first Send Email task (which has no
// recipients and so sends nothing) and the "Success" one is skipped.
func TestSampleCatchTaskError(t *testing.T) {
	t.Parallel()
	sampleFiles(t)
	e := start(t, nil, service.Config{})
	e.publish(t, "catch", readFile(t, filepath.Join(samplesDir, "catch-task-error_catch-task-error.json")))
	code, m := e.do(t, "POST", "/v1/"+parent+"/integrations/catch:execute", `{"triggerId":"api_trigger/zhuht-error-handling_API_1"}`)
	if code != 200 {
		t.Fatalf("execute: %d %v", code, m)
	}
	if info, _ := m["outputParameters"].(map[string]any)["`ErrorInfo`"].(map[string]any); !strings.Contains(fmt.Sprint(info["message"]), "out of range") {
		t.Errorf("ErrorInfo = %v", info)
	}
	_, ex := e.do(t, "GET", "/v1/"+parent+"/integrations/catch/executions/"+m["executionId"].(string), nil)
	states := map[string]any{}
	for _, s := range ex["executionDetails"].(map[string]any)["executionSnapshots"].([]any) {
		for _, d := range s.(map[string]any)["taskExecutionDetails"].([]any) {
			d := d.(map[string]any)
			states[d["taskNumber"].(string)] = d["taskExecutionState"]
		}
	}
	if states["2"] != "SUCCEED" || states["1"] != "SUCCEED" || states["3"] != "SKIPPED" {
		t.Errorf("task states = %v", states)
	}
}

// TestSampleJavaScript runs toolkit_src_nandan2, whose one JavaScript task
// logs a line, and finds the line in the execution log.
func TestSampleJavaScript(t *testing.T) {
	t.Parallel()
	sampleFiles(t)
	e := start(t, nil, service.Config{})
	e.publish(t, "nandan2", readFile(t, filepath.Join(samplesDir, "toolkit_src_nandan2.json")))
	code, m := e.do(t, "POST", "/v1/"+parent+"/integrations/nandan2:execute", `{"triggerId":"api_trigger/nandan2_API_1"}`)
	if code != 200 {
		t.Fatalf("execute: %d %v", code, m)
	}
	_, ex := e.do(t, "GET", "/v1/"+parent+"/integrations/nandan2/executions/"+m["executionId"].(string), nil)
	lines, _ := ex["executionLog"].(map[string]any)["lines"].([]any)
	if len(lines) != 1 || lines[0].(map[string]any)["message"] != "This is a test" || lines[0].(map[string]any)["taskId"] != "1" {
		t.Errorf("execution log lines = %v", lines)
	}
}

// TestSampleStatusBasedRetrySub runs status-based-retry-sub with its
// httpbin.org host replaced by a local server: a Call REST Endpoint task
// (throwError false) whose "400 Bad Request" status a Data Transformer
// parses, in parallel with a second Data Transformer counting retries.
func TestSampleStatusBasedRetrySub(t *testing.T) {
	t.Parallel()
	sampleFiles(t)
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		code, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/status/"))
		if err != nil {
			code = 500
		}
		w.WriteHeader(code)
	}))
	defer upstream.Close()
	content := strings.ReplaceAll(string(readFile(t, filepath.Join(samplesDir, "status-based-retry_status-based-retry-sub.json"))), "https://httpbin.org", upstream.URL)
	e := start(t, nil, service.Config{})
	e.publish(t, "retry-sub", []byte(content))
	code, m := e.do(t, "POST", "/v1/"+parent+"/integrations/retry-sub:execute",
		`{"triggerId":"api_trigger/status-based-retry-sub_API_1","inputParameters":{"retryCounter":{"intValue":"2"}}}`)
	if code != 200 {
		t.Fatalf("execute: %d %v", code, m)
	}
	outs := m["outputParameters"].(map[string]any)
	if outs["responseCode"] != 400.0 || outs["retryCounter"] != 3.0 || outs["`Task_1_responseStatus`"] != "400 Bad Request" {
		t.Errorf("outputs = %v", outs)
	}
}

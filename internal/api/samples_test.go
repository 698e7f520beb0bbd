package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
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
func TestSamplesWithUnsupportedTasks(t *testing.T) {
	t.Parallel()
	sampleFiles(t)
	e := start(t, nil, service.Config{})
	e.publish(t, "foreach", readFile(t, filepath.Join(samplesDir, "foreach-loop-send-email_foreach-loop-send-email.json")))
	var v struct {
		TriggerConfigs []struct{ TriggerID string }
	}
	if err := json.Unmarshal(readFile(t, filepath.Join(samplesDir, "foreach-loop-send-email_foreach-loop-send-email.json")), &v); err != nil {
		t.Fatal(err)
	}
	code, m := e.do(t, "POST", "/v1/"+parent+"/integrations/foreach:execute", `{"triggerId":"`+v.TriggerConfigs[0].TriggerID+`"}`)
	if _, status, msg := errStatus(m); code != 501 || status != "UNIMPLEMENTED" || !strings.Contains(msg, "SubWorkflowForEachLoopV2Task") {
		t.Errorf("%d %v", code, m)
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

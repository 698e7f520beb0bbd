package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/integrationd/integrationd/internal/service"
	"github.com/integrationd/integrationd/internal/tasks"
)

// Builders of integration versions for the sub-integration tests.

// vparam is a task parameter entry with a ValueType.
func vparam(key string, vt any) (string, any) { return key, map[string]any{"key": key, "value": vt} }

func sval(s string) map[string]any { return map[string]any{"stringValue": s} }
func ival(n int) map[string]any    { return map[string]any{"intValue": strconv.Itoa(n)} }
func bval(b bool) map[string]any   { return map[string]any{"booleanValue": b} }
func outRef(name string) map[string]any {
	return map[string]any{"stringArray": map[string]any{"stringValues": []string{"$" + name + "$"}}}
}

// pmapVal is a ParameterMap jsonValue mapping from -> to, pairwise.
func pmapVal(pairs ...string) map[string]any {
	var es []map[string]any
	for i := 0; i+1 < len(pairs); i += 2 {
		es = append(es, map[string]any{
			"key":   map[string]any{"literalValue": sval(pairs[i])},
			"value": map[string]any{"literalValue": sval(pairs[i+1])},
		})
	}
	j, _ := json.Marshal(map[string]any{"@type": "type.googleapis.com/enterprise.crm.eventbus.proto.ParameterMap", "entries": es})
	return map[string]any{"jsonValue": string(j)}
}

// task is a task config with parameters given as key, ValueType pairs.
func task(id, typ string, extra map[string]any, kv ...any) map[string]any {
	params := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		k, v := vparam(kv[i].(string), kv[i+1])
		params[k] = v
	}
	t := map[string]any{"taskId": id, "task": typ, "parameters": params}
	for k, v := range extra {
		t[k] = v
	}
	return t
}

// variable declares an integration variable.
func variable(name, dataType, io string) map[string]any {
	v := map[string]any{"key": name, "dataType": dataType}
	if io != "" {
		v["inputOutputType"] = io
	}
	return v
}

// version builds a version whose triggers all start task "1" (none when
// there are no tasks).
func version(triggers []string, taskConfigs []map[string]any, vars ...map[string]any) []byte {
	var tcs []map[string]any
	for _, tr := range triggers {
		c := map[string]any{"triggerId": tr, "triggerType": "API"}
		if strings.HasPrefix(tr, "private_trigger/") {
			c["triggerType"] = "PRIVATE_TRIGGER"
		}
		if len(taskConfigs) > 0 {
			c["startTasks"] = []map[string]any{{"taskId": "1"}}
		}
		tcs = append(tcs, c)
	}
	b, _ := json.Marshal(map[string]any{"triggerConfigs": tcs, "taskConfigs": taskConfigs, "integrationParameters": vars})
	return b
}

// doubler publishes "double": twice = 2*n; n = 13 throws; reachable by
// api_trigger/double and private_trigger/double.
func doubler(t *testing.T, e *env) {
	t.Helper()
	e.publish(t, "double", version([]string{"api_trigger/double", "private_trigger/double"},
		[]map[string]any{task("1", "JavaScriptTask", nil, "script", sval(`function executeScript(event) {
  var n = event.getParameter("n");
  if (n == 13) { throw new Error("unlucky " + n); }
  event.setParameter("twice", n * 2);
}`))},
		variable("n", "INT_VALUE", "IN"), variable("twice", "INT_VALUE", "OUT")))
}

// echo publishes an integration without tasks whose IN_OUT variable n
// comes back as it went in: the cheapest sub-integration there is.
func echo(t *testing.T, e *env) {
	t.Helper()
	e.publish(t, "echo", version([]string{"api_trigger/echo"}, nil, variable("n", "INT_VALUE", "IN_OUT")))
}

func (e *env) execute(t *testing.T, integration, body string) (int, map[string]any) {
	t.Helper()
	return e.do(t, "POST", "/v1/"+parent+"/integrations/"+integration+":execute", body)
}

func outputs(m map[string]any) map[string]any {
	o, _ := m["outputParameters"].(map[string]any)
	return o
}

func callParent(async bool, workflow, trigger string, policy map[string]any) []byte {
	strategy := "SYNC"
	if async {
		strategy = "ASYNC"
	}
	return version([]string{"api_trigger/p"}, []map[string]any{task("1", "SubWorkflowExecutorV2Task", policy,
		"triggerId", sval(trigger), "workflowName", sval(workflow), "executionStrategy", sval(strategy),
		"timeInMsToSchedule", ival(0),
		"requestParamsMap", pmapVal("x", "n"), "responseParamsMap", pmapVal("twice", "y"),
		"executionIds", outRef("`Task_1_executionIds`"))},
		variable("x", "INT_VALUE", "IN"), variable("y", "INT_VALUE", "OUT"),
		variable("`Task_1_executionIds`", "STRING_ARRAY", "OUT"), variable("ErrorMessage", "STRING_VALUE", "OUT"))
}

func TestCallIntegrationSync(t *testing.T) {
	t.Parallel()
	e := start(t, nil, service.Config{})
	doubler(t, e)
	e.publish(t, "parent", callParent(false, "double", "api_trigger/double", nil))

	code, m := e.execute(t, "parent", `{"triggerId":"api_trigger/p","inputParameters":{"x":{"intValue":"21"}}}`)
	if code != 200 {
		t.Fatalf("execute: %d %v", code, m)
	}
	outs := outputs(m)
	if outs["y"] != 42.0 {
		t.Errorf("y = %v, want 42", outs["y"])
	}
	ids, _ := outs["`Task_1_executionIds`"].([]any)
	if len(ids) != 1 {
		t.Fatalf("executionIds = %v", outs["`Task_1_executionIds`"])
	}
	child := ids[0].(string)

	// The parent lists the child; the child names its parent; the list
	// filter finds it.
	_, pe := e.do(t, "GET", "/v1/"+parent+"/integrations/parent/executions/"+m["executionId"].(string), nil)
	subs, _ := pe["directSubExecutions"].([]any)
	if len(subs) != 1 || !strings.HasSuffix(subs[0].(map[string]any)["name"].(string), "/integrations/double/executions/"+child) {
		t.Errorf("directSubExecutions = %v", pe["directSubExecutions"])
	}
	_, ce := e.do(t, "GET", "/v1/"+parent+"/integrations/double/executions/"+child, nil)
	if ce["parentExecutionId"] != m["executionId"] || ce["executionDetails"].(map[string]any)["state"] != "SUCCEEDED" {
		t.Errorf("child execution = %v", ce)
	}
	_, list := e.do(t, "GET", "/v1/"+parent+"/integrations/-/executions?filter="+url.QueryEscape(`parent_execution_id="`+m["executionId"].(string)+`"`), nil)
	if es, _ := list["executions"].([]any); len(es) != 1 || es[0].(map[string]any)["parentExecutionId"] != m["executionId"] {
		t.Errorf("list by parent = %v", list)
	}

	// A failing child fails the task and so the parent.
	code, m = e.execute(t, "parent", `{"triggerId":"api_trigger/p","inputParameters":{"x":{"intValue":"13"}}}`)
	if _, _, msg := errStatus(m); code != 500 || !strings.Contains(msg, "unlucky 13") || !strings.Contains(msg, "double") {
		t.Errorf("failing child: %d %v", code, m)
	}
}

func TestCallIntegrationFailurePolicyIgnore(t *testing.T) {
	t.Parallel()
	e := start(t, nil, service.Config{})
	doubler(t, e)
	e.publish(t, "parent", callParent(false, "double", "private_trigger/double",
		map[string]any{"synchronousCallFailurePolicy": map[string]any{"retryStrategy": "IGNORE"}}))
	code, m := e.execute(t, "parent", `{"triggerId":"api_trigger/p","inputParameters":{"x":{"intValue":"13"}}}`)
	if code != 200 || !strings.Contains(fmt.Sprint(outputs(m)["ErrorMessage"]), "unlucky 13") {
		t.Errorf("IGNORE policy: %d %v", code, m)
	}
	// The private trigger works through the task but not through :execute.
	code, m = e.execute(t, "parent", `{"triggerId":"api_trigger/p","inputParameters":{"x":{"intValue":"5"}}}`)
	if code != 200 || outputs(m)["y"] != 10.0 {
		t.Errorf("private trigger through the task: %d %v", code, m)
	}
	code, m = e.execute(t, "double", `{"triggerId":"private_trigger/double","inputParameters":{"n":{"intValue":"5"}}}`)
	if _, status, msg := errStatus(m); code != 400 || status != "INVALID_ARGUMENT" || !strings.Contains(msg, "private") {
		t.Errorf("private trigger through :execute: %d %v", code, m)
	}
}

func TestCallIntegrationAsync(t *testing.T) {
	t.Parallel()
	e := start(t, nil, service.Config{})
	doubler(t, e)
	e.publish(t, "parent", callParent(true, "double", "api_trigger/double", nil))
	code, m := e.execute(t, "parent", `{"triggerId":"api_trigger/p","inputParameters":{"x":{"intValue":"4"}}}`)
	if code != 200 {
		t.Fatalf("execute: %d %v", code, m)
	}
	if outputs(m)["y"] != nil {
		t.Errorf("async call mapped an output: y = %v", outputs(m)["y"])
	}
	ids, _ := outputs(m)["`Task_1_executionIds`"].([]any)
	if len(ids) != 1 {
		t.Fatalf("executionIds = %v", ids)
	}
	child := waitState(t, e, "double", ids[0].(string), "SUCCEEDED")
	if rp, _ := child["responseParameters"].(map[string]any); fmt.Sprint(rp["twice"]) != "map[intValue:8]" {
		t.Errorf("async child responseParameters = %v", child["responseParameters"])
	}
	if child["executionMethod"] != "POST_TO_QUEUE" {
		t.Errorf("executionMethod = %v", child["executionMethod"])
	}
}

// waitState polls an execution until it reaches state.
func waitState(t *testing.T, e *env, integration, id, state string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, ex := e.do(t, "GET", "/v1/"+parent+"/integrations/"+integration+"/executions/"+id, nil)
		if code == 200 {
			if d, _ := ex["executionDetails"].(map[string]any); d["state"] == state {
				return ex
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("execution %s did not reach %s: %d %v", id, state, code, ex)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestCallIntegrationAllWithTriggerAndRecursion(t *testing.T) {
	t.Parallel()
	e := start(t, nil, service.Config{MaxSubDepth: 4})
	doubler(t, e)
	e.publish(t, "double2", version([]string{"api_trigger/double"}, nil, variable("n", "INT_VALUE", "IN")))
	e.publish(t, "parent", callParent(false, "", "api_trigger/double", nil))
	code, m := e.execute(t, "parent", `{"triggerId":"api_trigger/p","inputParameters":{"x":{"intValue":"3"}}}`)
	if code != 200 {
		t.Fatalf("execute: %d %v", code, m)
	}
	if ids, _ := outputs(m)["`Task_1_executionIds`"].([]any); len(ids) != 2 || outputs(m)["y"] != 6.0 {
		t.Errorf("every integration with the trigger: %v", outputs(m))
	}

	// An integration that calls itself stops at the depth limit.
	e.publish(t, "self", version([]string{"api_trigger/self"}, []map[string]any{task("1", "SubWorkflowExecutorV2Task", nil,
		"triggerId", sval("api_trigger/self"), "workflowName", sval("self"))}))
	code, m = e.execute(t, "self", `{"triggerId":"api_trigger/self"}`)
	if _, _, msg := errStatus(m); code != 500 || !strings.Contains(msg, "depth limit") || !strings.Contains(msg, "limit 4") {
		t.Errorf("recursion: %d %v", code, m)
	}
	// Unknown sub-integration: a clear task failure.
	e.publish(t, "lost", callParent(false, "nowhere", "api_trigger/nowhere", nil))
	code, m = e.execute(t, "lost", `{"triggerId":"api_trigger/p"}`)
	if _, _, msg := errStatus(m); code != 500 || !strings.Contains(msg, "nowhere") {
		t.Errorf("unknown sub-integration: %d %v", code, m)
	}
}

func forEachParent(list string, agg string) []byte {
	return version([]string{"api_trigger/p"}, []map[string]any{task("1", "SubWorkflowForEachLoopV2Task", nil,
		"triggerId", sval("api_trigger/double"), "workflowName", sval("double"),
		"listToIterate", sval("$"+list+"$"), "iterationElementMapping", sval("n"),
		"aggregatorParameterMapping", pmapVal("twice", agg), "overrideParameterMapping", pmapVal("twice", "last"),
		"loopMetadata", outRef("`Task_1_loopMetadata`"))},
		variable("ints", "INT_ARRAY", "IN"), variable("docs", "JSON_VALUE", "IN"),
		variable("results", "INT_ARRAY", "OUT"), variable("collected", "JSON_VALUE", "OUT"), variable("last", "INT_VALUE", "OUT"),
		variable("`Task_1_loopMetadata`", "JSON_VALUE", "OUT"))
}

func TestForEachLoop(t *testing.T) {
	t.Parallel()
	e := start(t, nil, service.Config{})
	doubler(t, e)
	e.publish(t, "typed", forEachParent("ints", "results"))
	e.publish(t, "json", forEachParent("docs", "collected"))

	code, m := e.execute(t, "typed", `{"triggerId":"api_trigger/p","inputParameters":{"ints":{"intArray":{"intValues":["1","2","3"]}}}}`)
	if code != 200 {
		t.Fatalf("execute: %d %v", code, m)
	}
	outs := outputs(m)
	if fmt.Sprint(outs["results"]) != "[2 4 6]" || outs["last"] != 6.0 {
		t.Errorf("outputs = %v", outs)
	}
	meta, _ := outs["`Task_1_loopMetadata`"].(map[string]any)
	if meta["current_iteration_count"] != 3.0 || len(meta["sub_integration_execution_ids"].([]any)) != 3 {
		t.Errorf("loopMetadata = %v", meta)
	}

	// A JSON array, into a JSON aggregate.
	code, m = e.execute(t, "json", `{"triggerId":"api_trigger/p","inputParameters":{"docs":{"jsonValue":"[5, 6]"}}}`)
	if code != 200 || fmt.Sprint(outputs(m)["collected"]) != "[10 12]" {
		t.Errorf("JSON list: %d %v", code, m)
	}

	// An empty list: no iteration, an empty aggregate.
	code, m = e.execute(t, "typed", `{"triggerId":"api_trigger/p","inputParameters":{"ints":{"intArray":{"intValues":[]}}}}`)
	if code != 200 || fmt.Sprint(outputs(m)["results"]) != "[]" || outputs(m)["`Task_1_loopMetadata`"].(map[string]any)["current_iteration_count"] != 0.0 {
		t.Errorf("empty list: %d %v", code, m)
	}

	// A failing iteration fails the loop, which says where.
	code, m = e.execute(t, "typed", `{"triggerId":"api_trigger/p","inputParameters":{"ints":{"intArray":{"intValues":["1","13","3"]}}}}`)
	if _, _, msg := errStatus(m); code != 500 || !strings.Contains(msg, "iteration 2") || !strings.Contains(msg, "unlucky 13") {
		t.Errorf("failing iteration: %d %v", code, m)
	}
	// Not a list.
	code, m = e.execute(t, "json", `{"triggerId":"api_trigger/p","inputParameters":{"docs":{"jsonValue":"{\"a\":1}"}}}`)
	if _, _, msg := errStatus(m); code != 500 || !strings.Contains(msg, "not an array") {
		t.Errorf("not a list: %d %v", code, m)
	}
}

func TestForEachLoopTenThousand(t *testing.T) {
	t.Parallel()
	e := start(t, nil, service.Config{})
	echo(t, e)
	e.publish(t, "p", version([]string{"api_trigger/p"}, []map[string]any{task("1", "SubWorkflowForEachLoopV2Task", nil,
		"triggerId", sval("api_trigger/echo"), "workflowName", sval("echo"),
		"listToIterate", sval("$ints$"), "iterationElementMapping", sval("n"),
		"aggregatorParameterMapping", pmapVal("n", "results"))},
		variable("ints", "INT_ARRAY", "IN"), variable("results", "INT_ARRAY", "OUT")))
	const n = 10_000
	code, m := e.execute(t, "p", intsInput("ints", n))
	if code != 200 {
		t.Fatalf("execute: %d %v", code, m)
	}
	checkSequence(t, outputs(m)["results"], n)
}

func intsInput(name string, n int) string {
	vals := make([]string, n)
	for i := range vals {
		vals[i] = strconv.Quote(strconv.Itoa(i))
	}
	return `{"triggerId":"api_trigger/p","inputParameters":{"` + name + `":{"intArray":{"intValues":[` + strings.Join(vals, ",") + `]}}}}`
}

func checkSequence(t *testing.T, got any, n int) {
	t.Helper()
	rs, _ := got.([]any)
	if len(rs) != n {
		t.Fatalf("got %d results, want %d", len(rs), n)
	}
	for i, r := range rs {
		if r != float64(i) {
			t.Fatalf("results[%d] = %v: not in input order", i, r)
		}
	}
}

func TestWhileLoop(t *testing.T) {
	t.Parallel()
	e := startWith(t, tasks.New(tasks.Options{MaxWhileIterations: 50}), service.Config{})
	e.publish(t, "inc", version([]string{"api_trigger/inc"}, []map[string]any{task("1", "JavaScriptTask", nil, "script", sval(
		`function executeScript(event) { event.setParameter("i", event.getParameter("i") + 1); }`))},
		variable("i", "INT_VALUE", "IN_OUT")))
	loop := func(cond string) []byte {
		return version([]string{"api_trigger/p"}, []map[string]any{task("1", "SubWorkflowWhileLoopV2Task", nil,
			"triggerId", sval("api_trigger/inc"), "workflowName", sval("inc"), "whileCondition", sval(cond),
			"requestParameterMapping", pmapVal("i", "i"), "overrideParameterMapping", pmapVal("i", "i"),
			"aggregatorParameterMapping", pmapVal("i", "seen"))},
			variable("i", "INT_VALUE", "IN_OUT"), variable("seen", "INT_ARRAY", "OUT"), variable("`Task_1_loopMetadata`", "JSON_VALUE", "OUT"))
	}
	// A non-breaking space, as in Google's exports, is whitespace.
	e.publish(t, "upto", loop("$i$ <\u00a05"))
	code, m := e.execute(t, "upto", `{"triggerId":"api_trigger/p","inputParameters":{"i":{"intValue":"1"}}}`)
	if code != 200 || outputs(m)["i"] != 5.0 || fmt.Sprint(outputs(m)["seen"]) != "[2 3 4 5]" {
		t.Errorf("while i < 5: %d %v", code, m)
	}
	// The condition is checked first: false at once runs nothing.
	code, m = e.execute(t, "upto", `{"triggerId":"api_trigger/p","inputParameters":{"i":{"intValue":"9"}}}`)
	if code != 200 || outputs(m)["i"] != 9.0 || fmt.Sprint(outputs(m)["seen"]) != "[]" {
		t.Errorf("while false at once: %d %v", code, m)
	}
	// The documented loopMetadata condition.
	e.publish(t, "count", loop("$loopMetadata.current_iteration_count$ < 3"))
	code, m = e.execute(t, "count", `{"triggerId":"api_trigger/p","inputParameters":{"i":{"intValue":"0"}}}`)
	if code != 200 || outputs(m)["i"] != 3.0 {
		t.Errorf("loopMetadata condition: %d %v", code, m)
	}
	// A condition that never ends hits the cap.
	e.publish(t, "forever", loop("1 = 1"))
	code, m = e.execute(t, "forever", `{"triggerId":"api_trigger/p","inputParameters":{"i":{"intValue":"0"}}}`)
	if _, _, msg := errStatus(m); code != 500 || !strings.Contains(msg, "50 iterations") {
		t.Errorf("endless loop: %d %v", code, m)
	}
}

// scatterParent fans list "ints" out to the REST-calling "fetch".
func scatterParent(maxParallel int, ignore bool) []byte {
	return version([]string{"api_trigger/p"}, []map[string]any{task("1", "SubWorkflowScatterGatherTask", nil,
		"triggerId", sval("api_trigger/fetch"), "workflowName", sval("fetch"), "executionStrategy", sval("SYNC"),
		"listToScatter", sval("$ints$"), "subworkflowInput", sval("n"),
		"maxParallelScatters", ival(maxParallel), "ignoreIndividualFailures", bval(ignore),
		"requestParamsMap", pmapVal("prefix", "prefix"),
		"responseAggregatorMap", pmapVal("`Task_1_responseBody`", "bodies"),
		"scatterResponseJson", outRef("`Task_1_scatterResponseJson`"))},
		variable("ints", "INT_ARRAY", "IN"), variable("prefix", "STRING_VALUE", "IN"),
		variable("bodies", "STRING_ARRAY", "OUT"), variable("`Task_1_scatterResponseJson`", "JSON_VALUE", "OUT"))
}

func TestForEachParallel(t *testing.T) {
	t.Parallel()
	var inflight, peak atomic.Int64
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := inflight.Add(1)
		defer inflight.Add(-1)
		for p := peak.Load(); now > p && !peak.CompareAndSwap(p, now); p = peak.Load() {
		}
		time.Sleep(15 * time.Millisecond)
		if r.URL.Query().Get("n") == "13" {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintf(w, "%s-%s", r.URL.Query().Get("prefix"), r.URL.Query().Get("n"))
	}))
	defer upstream.Close()
	e := start(t, nil, service.Config{})
	e.publish(t, "fetch", version([]string{"api_trigger/fetch"}, []map[string]any{task("1", "GenericRestV2Task", nil,
		"url", sval(upstream.URL+"/?n=$n$&prefix=$prefix$"), "httpMethod", sval("GET"), "throwError", bval(true),
		"responseBody", outRef("`Task_1_responseBody`"))},
		variable("n", "INT_VALUE", "IN"), variable("prefix", "STRING_VALUE", "IN"),
		variable("`Task_1_responseBody`", "STRING_VALUE", "OUT")))
	e.publish(t, "p4", scatterParent(4, false))
	e.publish(t, "ignore", scatterParent(0, true))

	code, m := e.execute(t, "p4", `{"triggerId":"api_trigger/p","inputParameters":{"prefix":{"stringValue":"v"},"ints":{"intArray":{"intValues":["0","1","2","3","4","5","6","7","8","9","10","11"]}}}}`)
	if code != 200 {
		t.Fatalf("execute: %d %v", code, m)
	}
	want := "[v-0 v-1 v-2 v-3 v-4 v-5 v-6 v-7 v-8 v-9 v-10 v-11]"
	if got := fmt.Sprint(outputs(m)["bodies"]); got != want {
		t.Errorf("bodies = %s, want %s (input order)", got, want)
	}
	if p := peak.Load(); p > 4 || p < 2 {
		t.Errorf("peak concurrency = %d, want 2..4 (maxParallelScatters 4)", p)
	}
	resp, _ := outputs(m)["`Task_1_scatterResponseJson`"].([]any)
	if len(resp) != 12 {
		t.Fatalf("scatterResponseJson = %v", outputs(m)["`Task_1_scatterResponseJson`"])
	}
	r5 := resp[5].(map[string]any)
	if r5["isSuccessful"] != true || r5["scatterElement"] != 5.0 || len(r5["executionIds"].([]any)) != 1 ||
		r5["responseParams"].(map[string]any)["`Task_1_responseBody`"] != "v-5" {
		t.Errorf("scatterResponseJson[5] = %v", r5)
	}

	// One failing element fails the task unless failures are ignored.
	in := `{"triggerId":"api_trigger/p","inputParameters":{"prefix":{"stringValue":"w"},"ints":{"intArray":{"intValues":["12","13","14"]}}}}`
	code, m = e.execute(t, "p4", in)
	if _, _, msg := errStatus(m); code != 500 || !strings.Contains(msg, "1 of 3 elements failed") || !strings.Contains(msg, "503") {
		t.Errorf("failing element: %d %v", code, m)
	}
	code, m = e.execute(t, "ignore", in)
	if code != 200 || fmt.Sprint(outputs(m)["bodies"]) != "[w-12 w-14]" {
		t.Fatalf("ignored failure: %d %v", code, m)
	}
	if r := outputs(m)["`Task_1_scatterResponseJson`"].([]any)[1].(map[string]any); r["isSuccessful"] != false || !strings.Contains(fmt.Sprint(r["errorMsg"]), "503") {
		t.Errorf("failed element's response = %v", r)
	}
}

func TestForEachParallelTenThousand(t *testing.T) {
	t.Parallel()
	e := start(t, nil, service.Config{})
	echo(t, e)
	e.publish(t, "p", version([]string{"api_trigger/p"}, []map[string]any{task("1", "SubWorkflowScatterGatherTask", nil,
		"triggerId", sval("api_trigger/echo"), "workflowName", sval("echo"),
		"listToScatter", sval("$ints$"), "subworkflowInput", sval("n"), "maxParallelScatters", ival(50),
		"responseAggregatorMap", pmapVal("n", "results"))},
		variable("ints", "INT_ARRAY", "IN"), variable("results", "INT_ARRAY", "OUT")))
	const n = 10_000
	code, m := e.execute(t, "p", intsInput("ints", n))
	if code != 200 {
		t.Fatalf("execute: %d %v", code, m)
	}
	checkSequence(t, outputs(m)["results"], n)
	// Every child is recorded with its parent.
	_, pe := e.do(t, "GET", "/v1/"+parent+"/integrations/p/executions/"+m["executionId"].(string), nil)
	if subs, _ := pe["directSubExecutions"].([]any); len(subs) != 100 {
		t.Errorf("directSubExecutions has %d entries, want the first 100", len(subs))
	}
}

// TestAsyncSubIntegrationsDelayed: Call Integration and For Each Parallel
// with executionStrategy ASYNC queue their children (delayed by
// timeInMsToSchedule) and go on at once.
func TestAsyncSubIntegrationsDelayed(t *testing.T) {
	t.Parallel()
	e := start(t, nil, quickQueue)
	doubler(t, e)
	e.publish(t, "call", version([]string{"api_trigger/p"}, []map[string]any{task("1", "SubWorkflowExecutorV2Task", nil,
		"triggerId", sval("api_trigger/double"), "workflowName", sval("double"), "executionStrategy", sval("ASYNC"),
		"timeInMsToSchedule", ival(400), "requestParamsMap", pmapVal("x", "n"), "executionIds", outRef("`Task_1_executionIds`"))},
		variable("x", "INT_VALUE", "IN"), variable("`Task_1_executionIds`", "STRING_ARRAY", "OUT")))
	code, m := e.execute(t, "call", `{"triggerId":"api_trigger/p","inputParameters":{"x":{"intValue":"2"}}}`)
	if code != 200 {
		t.Fatalf("execute: %d %v", code, m)
	}
	child := outputs(m)["`Task_1_executionIds`"].([]any)[0].(string)
	if st := stateOf(t, e, "double", child); st != "PENDING" {
		t.Errorf("delayed child right after the call: %s, want PENDING", st)
	}
	ex := waitState(t, e, "double", child, "SUCCEEDED")
	if fmt.Sprint(ex["responseParameters"].(map[string]any)["twice"]) != "map[intValue:4]" {
		t.Errorf("child outputs = %v", ex["responseParameters"])
	}

	e.publish(t, "fan", version([]string{"api_trigger/p"}, []map[string]any{task("1", "SubWorkflowScatterGatherTask", nil,
		"triggerId", sval("api_trigger/double"), "workflowName", sval("double"), "executionStrategy", sval("ASYNC"),
		"listToScatter", sval("$ints$"), "subworkflowInput", sval("n"), "scatterResponseJson", outRef("`Task_1_scatterResponseJson`"))},
		variable("ints", "INT_ARRAY", "IN"), variable("`Task_1_scatterResponseJson`", "JSON_VALUE", "OUT")))
	code, m = e.execute(t, "fan", `{"triggerId":"api_trigger/p","inputParameters":{"ints":{"intArray":{"intValues":["1","2","3"]}}}}`)
	if code != 200 {
		t.Fatalf("execute: %d %v", code, m)
	}
	resp := outputs(m)["`Task_1_scatterResponseJson`"].([]any)
	if len(resp) != 3 {
		t.Fatalf("scatterResponseJson = %v", resp)
	}
	for i, r := range resp {
		r := r.(map[string]any)
		ids := r["executionIds"].([]any)
		if r["isSuccessful"] != true || len(ids) != 1 || r["scatterElement"] != float64(i+1) {
			t.Fatalf("element %d: %v", i, r)
		}
		ex := waitState(t, e, "double", ids[0].(string), "SUCCEEDED")
		if got := fmt.Sprint(ex["responseParameters"].(map[string]any)["twice"]); got != fmt.Sprintf("map[intValue:%d]", 2*(i+1)) {
			t.Errorf("element %d: child outputs %s", i, got)
		}
	}
}

// TestUnsupportedTaskOnAnUntakenBranch: an unsupported task fails an
// execution only when it is reached.
func TestUnsupportedTaskOnAnUntakenBranch(t *testing.T) {
	t.Parallel()
	e := start(t, nil, service.Config{})
	e.publish(t, "maybe", version([]string{"api_trigger/p"}, []map[string]any{
		task("1", "JavaScriptTask", map[string]any{"nextTasks": []map[string]any{{"taskId": "2", "condition": "$go$ = true"}}},
			"script", sval(`function executeScript(event) { event.setParameter("ran", true); }`)),
		task("2", "GenericConnectorTask", nil),
	}, variable("go", "BOOLEAN_VALUE", "IN"), variable("ran", "BOOLEAN_VALUE", "OUT")))
	code, m := e.execute(t, "maybe", `{"triggerId":"api_trigger/p","inputParameters":{"go":{"booleanValue":false}}}`)
	if code != 200 || outputs(m)["ran"] != true {
		t.Errorf("untaken branch: %d %v", code, m)
	}
	code, m = e.execute(t, "maybe", `{"triggerId":"api_trigger/p","inputParameters":{"go":{"booleanValue":true}}}`)
	if _, status, msg := errStatus(m); code != 501 || status != "UNIMPLEMENTED" || !strings.Contains(msg, "GenericConnectorTask") {
		t.Errorf("taken branch: %d %v", code, m)
	}
}

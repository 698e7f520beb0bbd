package api_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	integrations "google.golang.org/api/integrations/v1"

	"github.com/integrationd/integrationd/internal/tasks"
)

// suspendVersion: task 1 suspends; then task 2 runs if the lift's result
// is "Approved", task 3 otherwise; each sets "path".
func suspendVersion(expiration string) []byte {
	js := func(path string) map[string]any {
		return map[string]any{"stringValue": `function executeScript(event) { event.setParameter("path", "` + path + `"); }`}
	}
	params := []any{"suspensionResult", outRef("`Task_1_suspensionResult`"), "suspensionId", outRef("`Task_1_suspensionId`")}
	if expiration != "" {
		params = append(params, "suspensionExpiration", map[string]any{"jsonValue": expiration})
	}
	return version([]string{"api_trigger/p"}, []map[string]any{
		task("1", "SuspendTask", map[string]any{"nextTasks": []map[string]any{
			{"taskId": "2", "condition": "$`Task_1_suspensionResult`$ = \"Approved\""},
			{"taskId": "3", "condition": "$`Task_1_suspensionResult`$ != \"Approved\""}}}, params...),
		task("2", "JavaScriptTask", nil, "script", js("approved")),
		task("3", "JavaScriptTask", nil, "script", js("other")),
	}, variable("path", "STRING_VALUE", "OUT"), variable("before", "STRING_VALUE", "IN_OUT"),
		variable("`Task_1_suspensionResult`", "STRING_VALUE", "OUT"), variable("`Task_1_suspensionId`", "STRING_VALUE", "OUT"))
}

func (e *env) suspensions(t *testing.T, integration, exec string) []map[string]any {
	t.Helper()
	code, m := e.do(t, "GET", "/v1/"+parent+"/integrations/"+integration+"/executions/"+exec+"/suspensions", nil)
	if code != 200 {
		t.Fatalf("list suspensions: %d %v", code, m)
	}
	var out []map[string]any
	for _, x := range m["suspensions"].([]any) {
		out = append(out, x.(map[string]any))
	}
	return out
}

func (e *env) suspensionVerb(t *testing.T, sp map[string]any, verb, body string) (int, map[string]any) {
	t.Helper()
	return e.do(t, "POST", "/v1/"+sp["name"].(string)+":"+verb, body)
}

// TestSuspendLiftAcrossRestart suspends an execution in one process,
// stops it, lifts the suspension in another, and reads the resumed
// execution's outputs.
func TestSuspendLiftAcrossRestart(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "s.db")
	cfg := quickQueue
	a := startProcess(t, db, cfg)
	a.publish(t, "sus", suspendVersion(""))
	code, m := a.execute(t, "sus", `{"triggerId":"api_trigger/p","inputParameters":{"before":{"stringValue":"kept"}}}`)
	if code != 200 {
		t.Fatalf("execute: %d %v", code, m)
	}
	id := m["executionId"].(string)
	if outputs(m)["before"] != "kept" || outputs(m)["path"] != nil {
		t.Errorf("outputs so far = %v", outputs(m))
	}
	suspensionID := outputs(m)["`Task_1_suspensionId`"]
	if st := stateOf(t, a.env, "sus", id); st != "SUSPENDED" {
		t.Fatalf("state = %s, want SUSPENDED", st)
	}
	a.stop()

	b := startProcess(t, db, cfg)
	sps := b.suspensions(t, "sus", id)
	if len(sps) != 1 || sps[0]["state"] != "PENDING" || sps[0]["taskId"] != "1" || !strings.HasSuffix(sps[0]["name"].(string), fmt.Sprint(suspensionID)) {
		t.Fatalf("suspensions = %v", sps)
	}
	code, m = b.suspensionVerb(t, sps[0], "lift", `{"suspensionResult":"Approved"}`)
	if code != 200 || m["eventExecutionInfoId"] != id {
		t.Fatalf("lift: %d %v", code, m)
	}
	ex := waitState(t, b.env, "sus", id, "SUCCEEDED")
	rp := ex["responseParameters"].(map[string]any)
	if fmt.Sprint(rp["path"]) != "map[stringValue:approved]" || fmt.Sprint(rp["before"]) != "map[stringValue:kept]" ||
		fmt.Sprint(rp["`Task_1_suspensionResult`"]) != "map[stringValue:Approved]" {
		t.Errorf("resumed outputs = %v", rp)
	}
	if states := taskStates(t, b.env, "sus", id); states["1"] != "SUCCEED" || states["2"] != "SUCCEED" || states["3"] != "SKIPPED" {
		t.Errorf("task states = %v", states)
	}
	sps = b.suspensions(t, "sus", id)
	if sps[0]["state"] != "LIFTED" || sps[0]["audit"] == nil {
		t.Errorf("lifted suspension = %v", sps[0])
	}
	if code, m := b.suspensionVerb(t, sps[0], "lift", `{}`); code != 400 {
		t.Errorf("second lift: %d %v", code, m)
	}
	if code, m := b.do(t, "POST", "/v1/"+parent+"/integrations/sus/executions/"+id+"/suspensions/nope:lift", `{}`); code != 404 {
		t.Errorf("lift of no suspension: %d %v", code, m)
	}

	// Another result takes the other branch.
	code, m = b.execute(t, "sus", `{"triggerId":"api_trigger/p"}`)
	if code != 200 {
		t.Fatalf("execute: %d %v", code, m)
	}
	id2 := m["executionId"].(string)
	sps = b.suspensions(t, "sus", id2)
	b.suspensionVerb(t, sps[0], "lift", `{"suspensionResult":"Later"}`)
	ex = waitState(t, b.env, "sus", id2, "SUCCEEDED")
	if fmt.Sprint(ex["responseParameters"].(map[string]any)["path"]) != "map[stringValue:other]" {
		t.Errorf("other branch: %v", ex["responseParameters"])
	}
}

func TestSuspendExpiryAndCancel(t *testing.T) {
	t.Parallel()
	e := start(t, nil, quickQueue)
	// Expiry lifts a Suspend task (with an empty result).
	e.publish(t, "exp", suspendVersion(`{"expireAfterMs": 100}`))
	_, m := e.execute(t, "exp", `{"triggerId":"api_trigger/p"}`)
	id := m["executionId"].(string)
	ex := waitState(t, e, "exp", id, "SUCCEEDED")
	if fmt.Sprint(ex["responseParameters"].(map[string]any)["path"]) != "map[stringValue:other]" {
		t.Errorf("expired suspension: %v", ex["responseParameters"])
	}
	if sps := e.suspensions(t, "exp", id); sps[0]["state"] != "LIFTED" || sps[0]["audit"].(map[string]any)["resolver"] != "expiry" {
		t.Errorf("expired suspension = %v", sps)
	}

	// Cancel a suspended execution; its suspension can no longer be lifted.
	e.publish(t, "can", suspendVersion(""))
	_, m = e.execute(t, "can", `{"triggerId":"api_trigger/p"}`)
	id = m["executionId"].(string)
	if code, m := e.do(t, "POST", "/v1/"+parent+"/integrations/can/executions/"+id+":cancel", `{}`); code != 200 {
		t.Fatalf("cancel: %d %v", code, m)
	}
	if st := stateOf(t, e, "can", id); st != "CANCELLED" {
		t.Errorf("state after cancel = %s", st)
	}
	sps := e.suspensions(t, "can", id)
	if code, m := e.suspensionVerb(t, sps[0], "lift", `{"suspensionResult":"Approved"}`); code != 400 {
		t.Errorf("lift after cancel: %d %v", code, m)
	}
}

// approvalVersion: an Approval task, then "path" says what ran.
func approvalVersion(expiration string) []byte {
	params := []any{"customMessage", sval("Please approve order $order$"), "isApproved", outRef("`Task_1_isApproved`"),
		"notifications", map[string]any{"jsonValue": `{"protoValues":[{"@type":"type.googleapis.com/enterprise.crm.eventbus.proto.Notification","emailAddress":{"email":"boss@example.com"}}]}`}}
	if expiration != "" {
		params = append(params, "suspensionExpiration", map[string]any{"jsonValue": expiration})
	}
	return version([]string{"api_trigger/p"}, []map[string]any{
		task("1", "SuspensionTask", map[string]any{"nextTasks": []map[string]any{{"taskId": "2", "condition": "$`Task_1_isApproved`$ = true"}}}, params...),
		task("2", "JavaScriptTask", nil, "script", sval(`function executeScript(event) { event.setParameter("path", "shipped"); }`)),
	}, variable("order", "STRING_VALUE", "IN"), variable("path", "STRING_VALUE", "OUT"), variable("`Task_1_isApproved`", "BOOLEAN_VALUE", "OUT"))
}

func TestApproval(t *testing.T) {
	t.Parallel()
	box, addr := startMailbox(t)
	smtp := tasks.SMTPConfig{Addr: addr, From: "integrationd@example.com", TLS: "none"}
	cfg := quickQueue
	cfg.Notifier = smtp
	e := startWith(t, tasks.New(tasks.Options{SMTP: smtp}), cfg)
	e.publish(t, "ok", approvalVersion(`{"remindAfterMs": 150}`))

	run := func(integration string) string {
		code, m := e.execute(t, integration, `{"triggerId":"api_trigger/p","inputParameters":{"order":{"stringValue":"A-7"}}}`)
		if code != 200 {
			t.Fatalf("execute: %d %v", code, m)
		}
		return m["executionId"].(string)
	}
	// Approved.
	id := run("ok")
	sps := e.suspensions(t, "ok", id)
	ac, _ := sps[0]["approvalConfig"].(map[string]any)
	if ac["customMessage"] != "Please approve order A-7" || fmt.Sprint(ac["emailAddresses"]) != "[boss@example.com]" {
		t.Errorf("approvalConfig = %v", sps[0])
	}
	if code, m := e.suspensionVerb(t, sps[0], "lift", `{}`); code != 400 || !strings.Contains(fmt.Sprint(m), "resolve") {
		t.Errorf("lift of an approval: %d %v", code, m)
	}
	// The request and, after remindAfterMs, a reminder reach the approver.
	waitMail(t, box, 2)
	box.mu.Lock()
	subjects := []string{box.msgs[0].Header.Get("Subject"), box.msgs[1].Header.Get("Subject")}
	body, _ := io.ReadAll(box.msgs[0].Body)
	box.mu.Unlock()
	if !strings.Contains(subjects[0], "Approval requested") || !strings.HasPrefix(subjects[1], "Reminder") || !strings.Contains(string(body), "Please approve order A-7") {
		t.Errorf("emails: %q, body %q", subjects, body)
	}
	if code, m := e.suspensionVerb(t, sps[0], "resolve", `{"suspension":{"state":"LIFTED"}}`); code != 200 {
		t.Fatalf("resolve: %d %v", code, m)
	}
	ex := waitState(t, e, "ok", id, "SUCCEEDED")
	if rp := ex["responseParameters"].(map[string]any); fmt.Sprint(rp["path"]) != "map[stringValue:shipped]" || fmt.Sprint(rp["`Task_1_isApproved`"]) != "map[booleanValue:true]" {
		t.Errorf("approved: %v", rp)
	}
	// Rejected: isApproved false, the edge is not taken, the execution succeeds.
	id = run("ok")
	sps = e.suspensions(t, "ok", id)
	if code, m := e.suspensionVerb(t, sps[0], "resolve", `{"suspension":{"state":"REJECTED"}}`); code != 200 {
		t.Fatalf("reject: %d %v", code, m)
	}
	ex = waitState(t, e, "ok", id, "SUCCEEDED")
	if rp := ex["responseParameters"].(map[string]any); strings.Contains(fmt.Sprint(rp["path"]), "shipped") || fmt.Sprint(rp["`Task_1_isApproved`"]) != "map[booleanValue:false]" {
		t.Errorf("rejected: %v", rp)
	}
	if code, m := e.suspensionVerb(t, sps[0], "resolve", `{"suspension":{"state":"MAYBE"}}`); code != 400 {
		t.Errorf("bad state: %d %v", code, m)
	}

	// Expiry rejects by default, approves with liftWhenExpired.
	for _, tc := range []struct {
		exp, approved string
	}{{`{"expireAfterMs": 100}`, "false"}, {`{"expireAfterMs": 100, "liftWhenExpired": true}`, "true"}} {
		name := "exp" + tc.approved
		e.publish(t, name, approvalVersion(tc.exp))
		id := run(name)
		ex := waitState(t, e, name, id, "SUCCEEDED")
		if got := fmt.Sprint(ex["responseParameters"].(map[string]any)["`Task_1_isApproved`"]); got != "map[booleanValue:"+tc.approved+"]" {
			t.Errorf("%s: isApproved = %s", tc.exp, got)
		}
	}
}

func waitMail(t *testing.T, box *mailbox, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		box.mu.Lock()
		got := len(box.msgs)
		box.mu.Unlock()
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d emails delivered, want %d", got, n)
		}
	}
}

// TestTimer: a short timer pauses inside the run; a long one suspends and
// the queue resumes it when an injectable clock passes its due time.
func TestTimer(t *testing.T) {
	t.Parallel()
	clock := newFakeClock(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	e := startProcess(t, filepath.Join(t.TempDir(), "t.db"), clock.config())
	timer := func(n int, unit string) []byte {
		return version([]string{"api_trigger/p"}, []map[string]any{
			task("1", "TimerTask", map[string]any{"nextTasks": []map[string]any{{"taskId": "2"}}}, "timeoutAfter", ival(n), "timeUnit", sval(unit)),
			task("2", "JavaScriptTask", nil, "script", sval(`function executeScript(event) { event.setParameter("done", true); }`)),
		}, variable("done", "BOOLEAN_VALUE", "OUT"))
	}
	e.publish(t, "short", timer(0, "SECONDS"))
	code, m := e.execute(t, "short", `{"triggerId":"api_trigger/p"}`)
	if code != 200 || outputs(m)["done"] != true {
		t.Errorf("short timer: %d %v", code, m)
	}
	e.publish(t, "long", timer(2, "MINUTES"))
	code, m = e.execute(t, "long", `{"triggerId":"api_trigger/p"}`)
	if code != 200 || outputs(m)["done"] == true {
		t.Fatalf("long timer: %d %v", code, m)
	}
	id := m["executionId"].(string)
	sps := e.suspensions(t, "long", id)
	if code, m := e.suspensionVerb(t, sps[0], "lift", `{}`); code != 400 {
		t.Errorf("lift of a timer: %d %v", code, m)
	}
	clock.Add(time.Minute)
	time.Sleep(100 * time.Millisecond)
	if st := stateOf(t, e.env, "long", id); st != "SUSPENDED" {
		t.Errorf("state one minute in = %s", st)
	}
	clock.Add(90 * time.Second)
	waitState(t, e.env, "long", id, "SUCCEEDED")
}

// TestSampleEcomOrderApproval runs ecom-order-processing above its
// threshold: the Approval task suspends the execution; approving resumes it
// through the For Each loop to the end, rejecting ends it.
func TestSampleEcomOrderApproval(t *testing.T) {
	t.Parallel()
	sampleFiles(t)
	var mu sync.Mutex
	calls := 0
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		mu.Unlock()
		b, _ := io.ReadAll(r.Body)
		w.Write(b)
	}))
	defer upstream.Close()
	content := strings.ReplaceAll(string(readFile(t, filepath.Join(samplesDir, "ecom-order-processing_ecom-order-processing.json"))), "https://mocktarget.apigee.net", upstream.URL)
	e := start(t, nil, quickQueue)
	const name = "ExampleIntegration-EcomOrderProcessing"
	e.publish(t, name, []byte(content))
	order := `{"order_no":"9","line_items":[{"sku":"b","vendor":"External","quantity":20,"price_per_unit":10},{"sku":"c","vendor":"External","quantity":1,"price_per_unit":1}]}`
	body := `{"triggerId":"api_trigger/ecom-order-processing_API_1","inputParameters":{"orders_request":{"jsonValue":` + strconv.Quote(order) + `}}}`
	for _, tc := range []struct {
		state    string
		statuses string
		calls    int
	}{{"LIFTED", "[200 OK 200 OK]", 2}, {"REJECTED", "<nil>", 0}} {
		mu.Lock()
		calls = 0
		mu.Unlock()
		code, m := e.execute(t, name, body)
		if code != 200 || outputs(m)["total_order_value"] != 201.0 {
			t.Fatalf("execute: %d %v", code, m)
		}
		id := m["executionId"].(string)
		sps := e.suspensions(t, name, id)
		if len(sps) != 1 || sps[0]["taskId"] != "2" {
			t.Fatalf("suspensions = %v", sps)
		}
		if code, m := e.suspensionVerb(t, sps[0], "resolve", `{"suspension":{"state":"`+tc.state+`"}}`); code != 200 {
			t.Fatalf("resolve: %d %v", code, m)
		}
		ex := waitState(t, e, name, id, "SUCCEEDED")
		rp := ex["responseParameters"].(map[string]any)
		got := "<nil>"
		if v, ok := rp["rest_call_response_status"].(map[string]any)["stringArray"].(map[string]any); ok {
			got = fmt.Sprint(v["stringValues"])
		}
		mu.Lock()
		n := calls
		mu.Unlock()
		if got != tc.statuses || n != tc.calls {
			t.Errorf("%s: rest_call_response_status = %s, upstream calls %d", tc.state, got, n)
		}
	}
}

// TestDurableWorkWithGoogleClient drives :schedule and the suspensions
// methods with Google's Go client.
func TestDurableWorkWithGoogleClient(t *testing.T) {
	t.Parallel()
	e := start(t, nil, quickQueue)
	doubler(t, e)
	e.publish(t, "sus", suspendVersion(""))
	e.publish(t, "ok", approvalVersion(""))
	ctx := t.Context()
	ints := e.c.Projects.Locations.Integrations

	sched, err := ints.Schedule(parent+"/integrations/double", &integrations.GoogleCloudIntegrationsV1alphaScheduleIntegrationsRequest{
		TriggerId:       "api_trigger/double",
		ScheduleTime:    time.Now().UTC().Format(time.RFC3339),
		InputParameters: map[string]integrations.GoogleCloudIntegrationsV1alphaValueType{"n": {IntValue: 6, ForceSendFields: []string{"IntValue"}}},
		RequestId:       "client-1",
	}).Context(ctx).Do()
	if err != nil || len(sched.ExecutionInfoIds) != 1 {
		t.Fatalf("Schedule: %v %+v", err, sched)
	}
	ex := waitState(t, e, "double", sched.ExecutionInfoIds[0], "SUCCEEDED")
	if fmt.Sprint(ex["responseParameters"].(map[string]any)["twice"]) != "map[intValue:12]" {
		t.Errorf("scheduled run: %v", ex["responseParameters"])
	}

	// Suspend, list and lift.
	resp, err := ints.Execute(parent+"/integrations/sus", &integrations.GoogleCloudIntegrationsV1alphaExecuteIntegrationsRequest{TriggerId: "api_trigger/p"}).Context(ctx).Do()
	if err != nil {
		t.Fatalf("Execute: %v", err)
	}
	execName := parent + "/integrations/sus/executions/" + resp.ExecutionId
	list, err := ints.Executions.Suspensions.List(execName).Context(ctx).Do()
	if err != nil || len(list.Suspensions) != 1 || list.Suspensions[0].State != "PENDING" || list.Suspensions[0].TaskId != "1" {
		t.Fatalf("Suspensions.List: %v %+v", err, list)
	}
	lifted, err := ints.Executions.Suspensions.Lift(list.Suspensions[0].Name, &integrations.GoogleCloudIntegrationsV1alphaLiftSuspensionRequest{SuspensionResult: "Approved"}).Context(ctx).Do()
	if err != nil || lifted.EventExecutionInfoId != resp.ExecutionId {
		t.Fatalf("Suspensions.Lift: %v %+v", err, lifted)
	}
	waitState(t, e, "sus", resp.ExecutionId, "SUCCEEDED")

	// Approve with resolve.
	resp, err = ints.Execute(parent+"/integrations/ok", &integrations.GoogleCloudIntegrationsV1alphaExecuteIntegrationsRequest{TriggerId: "api_trigger/p"}).Context(ctx).Do()
	if err != nil {
		t.Fatalf("Execute: %v", err)
	}
	list, err = ints.Executions.Suspensions.List(parent + "/integrations/ok/executions/" + resp.ExecutionId).Context(ctx).Do()
	if err != nil || len(list.Suspensions) != 1 {
		t.Fatalf("Suspensions.List: %v %+v", err, list)
	}
	s := list.Suspensions[0]
	if _, err := ints.Executions.Suspensions.Resolve(s.Name, &integrations.GoogleCloudIntegrationsV1alphaResolveSuspensionRequest{
		Suspension: &integrations.GoogleCloudIntegrationsV1alphaSuspension{EventExecutionInfoId: resp.ExecutionId, TaskId: s.TaskId, State: "LIFTED"},
	}).Context(ctx).Do(); err != nil {
		t.Fatalf("Suspensions.Resolve: %v", err)
	}
	ex = waitState(t, e, "ok", resp.ExecutionId, "SUCCEEDED")
	if fmt.Sprint(ex["responseParameters"].(map[string]any)["path"]) != "map[stringValue:shipped]" {
		t.Errorf("approved run: %v", ex["responseParameters"])
	}
}

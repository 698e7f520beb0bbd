package api_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/integrationd/integrationd/internal/service"
)

// quickQueue makes queued work run promptly in tests.
var quickQueue = service.Config{PollInterval: 20 * time.Millisecond, AsyncRetries: -1}

func (e *env) schedule(t *testing.T, integration, body string) (int, map[string]any) {
	t.Helper()
	return e.do(t, "POST", "/v1/"+parent+"/integrations/"+integration+":schedule", body)
}

// scheduled schedules and returns the executionInfoIds.
func (e *env) scheduled(t *testing.T, integration, body string) []string {
	t.Helper()
	code, m := e.schedule(t, integration, body)
	if code != 200 {
		t.Fatalf("schedule: %d %v", code, m)
	}
	var ids []string
	for _, id := range m["executionInfoIds"].([]any) {
		ids = append(ids, id.(string))
	}
	return ids
}

func stateOf(t *testing.T, e *env, integration, id string) string {
	t.Helper()
	code, ex := e.do(t, "GET", "/v1/"+parent+"/integrations/"+integration+"/executions/"+id, nil)
	if code != 200 {
		t.Fatalf("get execution %s: %d %v", id, code, ex)
	}
	return ex["executionDetails"].(map[string]any)["state"].(string)
}

func TestSchedule(t *testing.T) {
	t.Parallel()
	e := start(t, nil, quickQueue)
	doubler(t, e)
	at := time.Now().Add(400 * time.Millisecond).UTC().Format(time.RFC3339Nano)
	ids := e.scheduled(t, "double", `{"triggerId":"api_trigger/double","scheduleTime":"`+at+`","inputParameters":{"n":{"intValue":"5"}}}`)
	if len(ids) != 1 {
		t.Fatalf("executionInfoIds = %v", ids)
	}
	if st := stateOf(t, e, "double", ids[0]); st != "PENDING" {
		t.Errorf("state before the schedule time = %s, want PENDING", st)
	}
	ex := waitState(t, e, "double", ids[0], "SUCCEEDED")
	if ct, _ := time.Parse(time.RFC3339Nano, ex["updateTime"].(string)); ct.Before(time.Now().Add(-10 * time.Second)) {
		t.Errorf("updateTime = %v", ex["updateTime"])
	}
	rp := ex["responseParameters"].(map[string]any)
	if fmt.Sprint(rp["twice"]) != "map[intValue:10]" || fmt.Sprint(rp["`ExecutionMode`"]) != "map[stringValue:ASYNC]" || ex["executionMethod"] != "SCHEDULE" {
		t.Errorf("scheduled execution = %v", ex)
	}

	// requestId de-duplicates; a user-generated id is used as given.
	body := `{"triggerId":"api_trigger/double","requestId":"r-1","inputParameters":{"n":{"intValue":"1"}}}`
	first := e.scheduled(t, "double", body)
	again := e.scheduled(t, "double", body)
	if first[0] != again[0] {
		t.Errorf("a repeated requestId scheduled %v then %v", first, again)
	}
	mine := e.scheduled(t, "double", `{"triggerId":"api_trigger/double","userGeneratedExecutionId":"my-run-1","inputParameters":{"n":{"intValue":"2"}}}`)
	if mine[0] != "my-run-1" {
		t.Errorf("userGeneratedExecutionId: %v", mine)
	}
	waitState(t, e, "double", "my-run-1", "SUCCEEDED")
	code, m := e.schedule(t, "double", `{"triggerId":"api_trigger/double","userGeneratedExecutionId":"my-run-1"}`)
	if _, status, _ := errStatus(m); code != 409 || status != "ALREADY_EXISTS" {
		t.Errorf("reused execution id: %d %v", code, m)
	}
	// snake_case and the legacy parameterEntries form.
	snake := e.scheduled(t, "double", `{"trigger_id":"api_trigger/double","parameter_entries":[{"key":"n","value":{"int_value":"3"}}]}`)
	ex = waitState(t, e, "double", snake[0], "SUCCEEDED")
	if fmt.Sprint(ex["responseParameters"].(map[string]any)["twice"]) != "map[intValue:6]" {
		t.Errorf("snake_case schedule: %v", ex["responseParameters"])
	}
	for _, bad := range []struct{ body, field string }{
		{`{"triggerId":"api_trigger/double","scheduleTime":"tomorrow"}`, "schedule_time"},
		{`{"scheduleTime":"2030-01-01T00:00:00Z"}`, "trigger_id"},
		{`{"triggerId":"private_trigger/double"}`, "trigger_id"},
		{`{"triggerId":"api_trigger/double","inputParameters":{"n":{"stringValue":"x"}}}`, "input_parameters.n"},
	} {
		code, m := e.schedule(t, "double", bad.body)
		if code != 400 || !strings.Contains(fmt.Sprint(m), bad.field) {
			t.Errorf("%s: %d %v", bad.body, code, m)
		}
	}
}

func TestExecuteOnHoldAndCancel(t *testing.T) {
	t.Parallel()
	e := start(t, nil, quickQueue)
	doubler(t, e)
	later := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	ids := e.scheduled(t, "double", `{"triggerId":"api_trigger/double","scheduleTime":"`+later+`","inputParameters":{"n":{"intValue":"7"}}}`)

	// :execute with executionId runs it now and answers as :execute.
	code, m := e.execute(t, "double", `{"triggerId":"api_trigger/double","executionId":"`+ids[0]+`"}`)
	if code != 200 || m["executionId"] != ids[0] || outputs(m)["twice"] != 14.0 {
		t.Fatalf("execute ON_HOLD: %d %v", code, m)
	}
	waitState(t, e, "double", ids[0], "SUCCEEDED")
	code, m = e.execute(t, "double", `{"triggerId":"api_trigger/double","executionId":"`+ids[0]+`"}`)
	if _, status, _ := errStatus(m); code != 400 || status != "FAILED_PRECONDITION" {
		t.Errorf("execute a finished execution by id: %d %v", code, m)
	}

	// Cancel a pending execution.
	ids = e.scheduled(t, "double", `{"triggerId":"api_trigger/double","scheduleTime":"`+later+`"}`)
	code, m = e.do(t, "POST", "/v1/"+parent+"/integrations/double/executions/"+ids[0]+":cancel", `{"cancelReason":"not needed"}`)
	if code != 200 || m["isCanceled"] != true {
		t.Fatalf("cancel: %d %v", code, m)
	}
	ex := waitState(t, e, "double", ids[0], "CANCELLED")
	if !strings.Contains(fmt.Sprint(ex["executionLog"]), "not needed") {
		t.Errorf("cancelled execution log = %v", ex["executionLog"])
	}
	code, m = e.do(t, "POST", "/v1/"+parent+"/integrations/double/executions/"+ids[0]+":cancel", `{}`)
	if _, status, _ := errStatus(m); code != 400 || status != "FAILED_PRECONDITION" {
		t.Errorf("cancel twice: %d %v", code, m)
	}
	code, m = e.do(t, "POST", "/v1/"+parent+"/integrations/double/executions/nope:cancel", `{}`)
	if code != 404 {
		t.Errorf("cancel unknown: %d %v", code, m)
	}
}

func TestCancelRunning(t *testing.T) {
	t.Parallel()
	arrived := make(chan struct{}, 1)
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-r.Context().Done() // answers only when the caller gives up
	}))
	defer upstream.Close()
	e := start(t, nil, quickQueue)
	e.publish(t, "slow", version([]string{"api_trigger/slow"}, []map[string]any{task("1", "GenericRestV2Task", nil,
		"url", sval(upstream.URL), "httpMethod", sval("GET"), "timeout", ival(600))}))
	ids := e.scheduled(t, "slow", `{"triggerId":"api_trigger/slow"}`)
	select {
	case <-arrived:
	case <-time.After(10 * time.Second):
		t.Fatal("the scheduled execution never called the upstream")
	}
	if st := stateOf(t, e, "slow", ids[0]); st != "PROCESSING" {
		t.Errorf("state while running = %s", st)
	}
	code, m := e.do(t, "POST", "/v1/"+parent+"/integrations/slow/executions/"+ids[0]+":cancel", `{}`)
	if code != 200 {
		t.Fatalf("cancel running: %d %v", code, m)
	}
	waitState(t, e, "slow", ids[0], "CANCELLED")
}

func TestAsyncRetries(t *testing.T) {
	t.Parallel()
	var calls atomic.Int64
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) < 3 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer upstream.Close()
	cfg := quickQueue
	cfg.AsyncRetries, cfg.AsyncRetryBase = 3, 30*time.Millisecond
	e := start(t, nil, cfg)
	e.publish(t, "flaky", version([]string{"api_trigger/flaky"}, []map[string]any{task("1", "GenericRestV2Task", nil,
		"url", sval(upstream.URL), "httpMethod", sval("GET"), "throwError", bval(true))}))
	ids := e.scheduled(t, "flaky", `{"triggerId":"api_trigger/flaky"}`)
	waitState(t, e, "flaky", ids[0], "SUCCEEDED")
	if n := calls.Load(); n != 3 {
		t.Errorf("upstream called %d times, want 3 (two failed runs re-queued)", n)
	}
	// Without retries left, the execution ends FAILED.
	calls.Store(-100)
	ids = e.scheduled(t, "flaky", `{"triggerId":"api_trigger/flaky"}`)
	waitState(t, e, "flaky", ids[0], "FAILED")
	if n := calls.Load(); n != -96 {
		t.Errorf("upstream called %d times, want 4 (1 + 3 retries)", n+100)
	}
}

func TestReplay(t *testing.T) {
	t.Parallel()
	e := start(t, nil, quickQueue)
	doubler(t, e)
	replay := func(id, body string) (int, map[string]any) {
		return e.do(t, "POST", "/v1/"+parent+"/integrations/double/executions/"+id+":replay", body)
	}
	_, m := e.execute(t, "double", `{"triggerId":"api_trigger/double","inputParameters":{"n":{"intValue":"21"}}}`)
	orig := m["executionId"].(string)
	code, m := replay(orig, `{"replayReason":"upstream fixed"}`)
	if code != 200 || m["replayedExecutionId"] != orig || m["executionId"] == orig || outputs(m)["twice"] != 42.0 {
		t.Fatalf("replay: %d %v", code, m)
	}
	ex := waitState(t, e, "double", m["executionId"].(string), "SUCCEEDED")
	if ri, _ := ex["replayInfo"].(map[string]any); ri["originalExecutionInfoId"] != orig || ri["replayMode"] != "REPLAY_MODE_FROM_BEGINNING" || ri["replayReason"] != "upstream fixed" {
		t.Errorf("replayInfo = %v", ex["replayInfo"])
	}
	for _, bad := range []struct {
		body string
		code int
	}{{`{}`, 400}, {`{"replayReason":"x","replayMode":"REPLAY_MODE_POINT_OF_FAILURE"}`, 501}, {`{"replayReason":"x","replayMode":"SIDEWAYS"}`, 400}} {
		if code, m := replay(orig, bad.body); code != bad.code {
			t.Errorf("%s: %d %v", bad.body, code, m)
		}
	}
	// A failed execution replays to the same failure.
	e.execute(t, "double", `{"triggerId":"api_trigger/double","inputParameters":{"n":{"intValue":"13"}}}`)
	_, list := e.do(t, "GET", "/v1/"+parent+"/integrations/double/executions?filter="+url.QueryEscape(`event_execution_state="FAILED"`), nil)
	failed := list["executions"].([]any)[0].(map[string]any)["name"].(string)
	code, m = e.do(t, "POST", "/v1/"+failed+":replay", `{"replayReason":"retry"}`)
	if _, _, msg := errStatus(m); code != 500 || !strings.Contains(msg, "unlucky 13") {
		t.Errorf("replay of a failure: %d %v", code, m)
	}
	// A scheduled execution is replayed through the queue.
	ids := e.scheduled(t, "double", `{"triggerId":"api_trigger/double","inputParameters":{"n":{"intValue":"4"}}}`)
	waitState(t, e, "double", ids[0], "SUCCEEDED")
	code, m = replay(ids[0], `{"replayReason":"again"}`)
	if code != 200 || m["outputParameters"] != nil {
		t.Fatalf("async replay: %d %v", code, m)
	}
	ex = waitState(t, e, "double", m["executionId"].(string), "SUCCEEDED")
	if ex["executionMethod"] != "SCHEDULE" || fmt.Sprint(ex["responseParameters"].(map[string]any)["twice"]) != "map[intValue:8]" || ex["replayInfo"] == nil {
		t.Errorf("async replay execution = %v", ex)
	}
}

// TestCancelRunningSync cancels a synchronous :execute while it runs (found
// through the list once it is recorded PROCESSING): the caller gets
// CANCELLED and the execution ends CANCELLED.
func TestCancelRunningSync(t *testing.T) {
	t.Parallel()
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	defer upstream.Close()
	cfg := quickQueue
	cfg.SyncRecordAfter = 20 * time.Millisecond
	e := start(t, nil, cfg)
	e.publish(t, "slow", version([]string{"api_trigger/slow"}, []map[string]any{task("1", "GenericRestV2Task", nil,
		"url", sval(upstream.URL), "httpMethod", sval("GET"), "timeout", ival(600))}))
	type answer struct {
		code int
		m    map[string]any
	}
	done := make(chan answer, 1)
	go func() {
		code, m := e.execute(t, "slow", `{"triggerId":"api_trigger/slow"}`)
		done <- answer{code, m}
	}()
	var id string
	for deadline := time.Now().Add(10 * time.Second); id == ""; time.Sleep(10 * time.Millisecond) {
		_, list := e.do(t, "GET", "/v1/"+parent+"/integrations/slow/executions", nil)
		if es, _ := list["executions"].([]any); len(es) == 1 {
			name := es[0].(map[string]any)["name"].(string)
			id = name[strings.LastIndex(name, "/")+1:]
		}
		if time.Now().After(deadline) {
			t.Fatal("the synchronous execution was not recorded PROCESSING")
		}
	}
	if code, m := e.do(t, "POST", "/v1/"+parent+"/integrations/slow/executions/"+id+":cancel", `{}`); code != 200 {
		t.Fatalf("cancel: %d %v", code, m)
	}
	a := <-done
	if _, status, _ := errStatus(a.m); status != "CANCELLED" {
		t.Errorf(":execute of a cancelled execution answered %d %v", a.code, a.m)
	}
	waitState(t, e, "slow", id, "CANCELLED")
}

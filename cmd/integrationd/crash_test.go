package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// binary is the integrationd binary built once for the process tests.
var binary struct {
	once sync.Once
	path string
	err  error
}

func buildBinary(t *testing.T) string {
	t.Helper()
	binary.once.Do(func() {
		dir, err := os.MkdirTemp("", "integrationd-bin-")
		if err != nil {
			binary.err = err
			return
		}
		binary.path = filepath.Join(dir, "integrationd")
		out, err := exec.Command("go", "build", "-o", binary.path, ".").CombinedOutput()
		if err != nil {
			binary.err = fmt.Errorf("go build: %v: %s", err, out)
		}
	})
	if binary.err != nil {
		t.Fatal(binary.err)
	}
	return binary.path
}

// daemon is the real integrationd binary running as its own process.
type daemon struct {
	cmd  *exec.Cmd
	base string
	logs *syncBuffer
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func startDaemon(t *testing.T, db string, extra ...string) *daemon {
	t.Helper()
	addr := freeAddr(t)
	d := &daemon{logs: &syncBuffer{}, base: "http://" + addr}
	args := append([]string{"serve", "--addr", addr, "--db", db, "--log-level", "warn"}, extra...)
	d.cmd = exec.Command(buildBinary(t), args...)
	d.cmd.Stdout, d.cmd.Stderr = d.logs, d.logs
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.kill() })
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		resp, err := http.Get(d.base + "/v1/projects/p/locations/l/integrations")
		if err == nil {
			resp.Body.Close()
			return d
		}
		if time.Now().After(deadline) {
			t.Fatalf("integrationd did not start: %s", d.logs.String())
		}
	}
}

// kill ends the process with SIGKILL: no shutdown code runs.
func (d *daemon) kill() {
	if d.cmd.ProcessState == nil {
		_ = d.cmd.Process.Signal(syscall.SIGKILL)
		_ = d.cmd.Wait()
	}
}

func (d *daemon) post(path, body string) (int, []byte, error) {
	resp, err := http.Post(d.base+path, "application/json", strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// TestCrashRecovery schedules 1,000 executions on the real binary, kills it
// with SIGKILL while they are queued and running (and while a synchronous
// execution is in flight), restarts it, and checks that every accepted
// execution completed exactly once in effect: one execution record each,
// all SUCCEEDED, none lost; the interrupted synchronous one is FAILED.
func TestCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the real binary")
	}
	var calls atomic.Int64
	block := make(chan struct{})
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("sync") != "" {
			<-block // the synchronous execution hangs until the test ends
			return
		}
		calls.Add(1)
		time.Sleep(5 * time.Millisecond)
		fmt.Fprintf(w, `{"n":%q}`, r.URL.Query().Get("n"))
	}))
	defer upstream.Close()
	defer close(block)

	db := filepath.Join(t.TempDir(), "crash.db")
	flags := []string{"--job-lease", "1s", "--poll-interval", "50ms", "--sync-timeout", "2s", "--workers", "8", "--async-retries", "-1"}
	d := startDaemon(t, db, flags...)
	const loc = "/v1/projects/p/locations/l/integrations/"
	version := `{"triggerConfigs":[{"triggerId":"api_trigger/work","triggerType":"API","startTasks":[{"taskId":"1"}]}],
	 "taskConfigs":[{"taskId":"1","task":"GenericRestV2Task","parameters":{
	  "url":{"key":"url","value":{"stringValue":"` + upstream.URL + `/?n=$n$&sync=$sync$"}},
	  "httpMethod":{"key":"httpMethod","value":{"stringValue":"GET"}},
	  "throwError":{"key":"throwError","value":{"booleanValue":true}},
	  "responseBody":{"key":"responseBody","value":{"stringArray":{"stringValues":["$body$"]}}}}}],
	 "integrationParameters":[{"key":"n","dataType":"STRING_VALUE","inputOutputType":"IN"},
	  {"key":"sync","dataType":"STRING_VALUE","inputOutputType":"IN"},
	  {"key":"body","dataType":"STRING_VALUE","inputOutputType":"OUT"}]}`
	code, b, err := d.post(loc+"work/versions", version)
	if err != nil || code != 200 {
		t.Fatalf("create: %d %s %v", code, b, err)
	}
	name := regexp.MustCompile(`"name":"([^"]+)"`).FindStringSubmatch(string(b))[1]
	if code, b, err := d.post("/v1/"+name+":publish", "{}"); err != nil || code != 200 {
		t.Fatalf("publish: %d %s %v", code, b, err)
	}

	// A suspended execution when the process dies: an integration whose
	// Suspend task precedes a Data Mapping of the lift's result.
	held := `{"triggerConfigs":[{"triggerId":"api_trigger/held","triggerType":"API","startTasks":[{"taskId":"1"}]}],
	 "taskConfigs":[{"taskId":"1","task":"SuspendTask","parameters":{},"nextTasks":[{"taskId":"2"}]},
	  {"taskId":"2","task":"FieldMappingTask","parameters":{"FieldMappingConfigTaskParameterKey":{"key":"FieldMappingConfigTaskParameterKey","value":{"jsonValue":
	   "{\"mappedFields\":[{\"inputField\":{\"fieldType\":\"STRING_VALUE\",\"transformExpression\":{\"initialValue\":{\"referenceValue\":\"$` + "`Task_1_suspensionResult`" + `$\"}}},\"outputField\":{\"referenceKey\":\"$out$\",\"fieldType\":\"STRING_VALUE\"}}]}"}}}}],
	 "integrationParameters":[{"key":"out","dataType":"STRING_VALUE","inputOutputType":"OUT"}]}`
	code, b, err = d.post(loc+"held/versions", held)
	if err != nil || code != 200 {
		t.Fatalf("create held: %d %s %v", code, b, err)
	}
	heldName := regexp.MustCompile(`"name":"([^"]+)"`).FindStringSubmatch(string(b))[1]
	if code, b, err := d.post("/v1/"+heldName+":publish", "{}"); err != nil || code != 200 {
		t.Fatalf("publish held: %d %s %v", code, b, err)
	}
	code, b, err = d.post(loc+"held:execute", `{"triggerId":"api_trigger/held"}`)
	if err != nil || code != 200 {
		t.Fatalf("execute held: %d %s %v", code, b, err)
	}
	heldID := regexp.MustCompile(`"executionId":"([^"]+)"`).FindStringSubmatch(string(b))[1]

	// A synchronous execution in flight when the process dies: once it has
	// run for a second it is recorded PROCESSING.
	go func() {
		_, _, _ = d.post(loc+"work:execute", `{"triggerId":"api_trigger/work","inputParameters":{"sync":{"stringValue":"yes"}}}`)
	}()
	for deadline := time.Now().Add(10 * time.Second); len(listStates(t, d, loc+"work/executions")) == 0; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the synchronous execution was not recorded PROCESSING")
		}
	}

	// Schedule 1,000 executions from 8 clients; kill the process once the
	// upstream has seen 150 calls.
	const total = 1000
	accepted := make([]string, total) // execution id per request, "" until accepted
	var next atomic.Int64
	var wg sync.WaitGroup
	killed := make(chan struct{})
	schedule := func(d *daemon, i int) bool {
		body := fmt.Sprintf(`{"triggerId":"api_trigger/work","requestId":"req-%d","inputParameters":{"n":{"stringValue":"%d"}}}`, i, i)
		code, b, err := d.post(loc+"work:schedule", body)
		if err != nil || code != 200 {
			return false
		}
		var r struct{ ExecutionInfoIds []string }
		if json.Unmarshal(b, &r) != nil || len(r.ExecutionInfoIds) != 1 {
			t.Errorf("schedule %d: %s", i, b)
			return false
		}
		accepted[i] = r.ExecutionInfoIds[0]
		return true
	}
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= total {
					return
				}
				if !schedule(d, i) {
					return // refused or cut by the kill: retried after the restart
				}
			}
		}()
	}
	go func() {
		for calls.Load() < 150 {
			time.Sleep(2 * time.Millisecond)
		}
		d.kill()
		close(killed)
	}()
	<-killed
	wg.Wait()
	before := 0
	for _, id := range accepted {
		if id != "" {
			before++
		}
	}
	t.Logf("killed with %d schedules accepted and %d upstream calls made", before, calls.Load())
	if before == 0 || before == total {
		t.Fatalf("the kill did not land mid-way (%d accepted)", before)
	}

	// Restart; schedule what was not accepted (a client retries with the
	// same requestId, which de-duplicates requests that were accepted but
	// whose answer was lost).
	d2 := startDaemon(t, db, flags...)
	for i := range total {
		if accepted[i] == "" && !schedule(d2, i) {
			t.Fatalf("schedule %d after the restart failed", i)
		}
	}

	// Every accepted execution completes, once.
	deadline := time.Now().Add(60 * time.Second)
	for {
		states := listStates(t, d2, loc+"work/executions")
		succeeded := 0
		for _, id := range accepted {
			if states[id] == "SUCCEEDED" {
				succeeded++
			}
		}
		if succeeded == total {
			if len(states) != total+1 { // + the synchronous one
				t.Errorf("%d execution records, want %d", len(states), total+1)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d executions SUCCEEDED after the restart (upstream calls %d); logs: %s", succeeded, total, calls.Load(), d2.logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	seen := map[string]bool{}
	for _, id := range accepted {
		if seen[id] {
			t.Errorf("execution %s accepted twice", id)
		}
		seen[id] = true
	}
	if n := calls.Load(); n < total {
		t.Errorf("upstream saw %d calls for %d executions", n, total)
	}

	// The execution suspended before the crash resumes when lifted.
	resp, err := http.Get(d2.base + loc + "held/executions/" + heldID + "/suspensions")
	if err != nil {
		t.Fatal(err)
	}
	var sps struct{ Suspensions []struct{ Name string } }
	err = json.NewDecoder(resp.Body).Decode(&sps)
	resp.Body.Close()
	if err != nil || len(sps.Suspensions) != 1 {
		t.Fatalf("suspensions after the restart: %v %+v", err, sps)
	}
	if code, b, err := d2.post("/v1/"+sps.Suspensions[0].Name+":lift", `{"suspensionResult":"after the crash"}`); err != nil || code != 200 {
		t.Fatalf("lift: %d %s %v", code, b, err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		resp, err := http.Get(d2.base + loc + "held/executions/" + heldID)
		if err != nil {
			t.Fatal(err)
		}
		var ex struct {
			ExecutionDetails   struct{ State string }
			ResponseParameters map[string]struct{ StringValue string }
		}
		err = json.NewDecoder(resp.Body).Decode(&ex)
		resp.Body.Close()
		if err == nil && ex.ExecutionDetails.State == "SUCCEEDED" {
			if got := ex.ResponseParameters["out"].StringValue; got != "after the crash" {
				t.Errorf("resumed output = %q", got)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the suspended execution did not resume: %v %+v", err, ex)
		}
	}

	// The synchronous execution cut by the crash ends FAILED once its
	// timeout has passed, instead of staying PROCESSING.
	deadline = time.Now().Add(30 * time.Second)
	for {
		var syncState string
		for id, st := range listStates(t, d2, loc+"work/executions") {
			if !seen[id] {
				syncState = st
			}
		}
		if syncState == "FAILED" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the interrupted synchronous execution is %q; logs: %s", syncState, d2.logs.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// listStates returns every execution's state by id.
func listStates(t *testing.T, d *daemon, path string) map[string]string {
	t.Helper()
	out := map[string]string{}
	token := ""
	for {
		resp, err := http.Get(d.base + path + "?pageSize=1000&pageToken=" + url.QueryEscape(token))
		if err != nil {
			t.Fatal(err)
		}
		var page struct {
			Executions []struct {
				Name             string
				ExecutionDetails struct{ State string }
			}
			NextPageToken string
		}
		err = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Executions {
			out[e.Name[strings.LastIndex(e.Name, "/")+1:]] = e.ExecutionDetails.State
		}
		if page.NextPageToken == "" {
			return out
		}
		token = page.NextPageToken
	}
}

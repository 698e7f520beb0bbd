package engine_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/integrationd/integrationd/internal/engine"
	"github.com/integrationd/integrationd/internal/spec"
	"github.com/integrationd/integrationd/internal/value"
)

// testTasks is a small task set for graph tests:
//
//	Set{var, value}      sets a variable (value is a ValueType)
//	Fail{msg, code, times} fails its first `times` attempts (all when 0)
//	Sleep{ms}            waits, honouring cancellation
//	Return{code, msg}    ends the execution like the Return task
//	Suspend{data}        logs "suspending ID" and asks to suspend, with
//	                     data as the request's Data (default {"task":"ID"})
//	Log{msg}             appends msg to the execution log
type testTasks struct {
	mu    sync.Mutex
	trace []string
	tries map[string]int
}

func (tt *testTasks) ran(id string) {
	tt.mu.Lock()
	tt.trace = append(tt.trace, id)
	tt.mu.Unlock()
}

func (tt *testTasks) ranSet() []string {
	tt.mu.Lock()
	defer tt.mu.Unlock()
	s := append([]string(nil), tt.trace...)
	sort.Strings(s)
	return s
}

func str(cfg *spec.TaskConfig, k string) string {
	if p, ok := cfg.Parameters[k]; ok && p.Value != nil && p.Value.StringValue != nil {
		return *p.Value.StringValue
	}
	return ""
}

func num(cfg *spec.TaskConfig, k string) int {
	if p, ok := cfg.Parameters[k]; ok && p.Value != nil && p.Value.IntValue != nil {
		return int(*p.Value.IntValue)
	}
	return 0
}

func (tt *testTasks) CompileTask(cfg *spec.TaskConfig) (engine.Task, error) {
	id := string(cfg.TaskID)
	switch cfg.Task {
	case "Set":
		v, err := value.FromSpec(cfg.Parameters["value"].Value)
		if err != nil {
			return nil, err
		}
		name := str(cfg, "var")
		return engine.TaskFunc(func(ctx context.Context, tc *engine.TaskContext) error {
			tt.ran(id)
			return tc.Vars.Set(name, v)
		}), nil
	case "Fail":
		msg, code, times := str(cfg, "msg"), num(cfg, "code"), num(cfg, "times")
		return engine.TaskFunc(func(ctx context.Context, tc *engine.TaskContext) error {
			tt.ran(id)
			tt.mu.Lock()
			if tt.tries == nil {
				tt.tries = map[string]int{}
			}
			tt.tries[id]++
			n := tt.tries[id]
			tt.mu.Unlock()
			if times > 0 && n > times {
				return nil
			}
			return engine.Errorf(code, "%s", msg)
		}), nil
	case "Sleep":
		d := time.Duration(num(cfg, "ms")) * time.Millisecond
		return engine.TaskFunc(func(ctx context.Context, tc *engine.TaskContext) error {
			tt.ran(id)
			select {
			case <-time.After(d):
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}), nil
	case "Panic":
		return engine.TaskFunc(func(ctx context.Context, tc *engine.TaskContext) error {
			tt.ran(id)
			panic("boom")
		}), nil
	case "Suspend":
		data := str(cfg, "data")
		if data == "" {
			data = fmt.Sprintf(`{"task":%q}`, id)
		}
		return engine.TaskFunc(func(ctx context.Context, tc *engine.TaskContext) error {
			tt.ran(id)
			tc.Log("suspending " + id)
			return &engine.SuspendRequest{Kind: "test", Data: json.RawMessage(data)}
		}), nil
	case "Log":
		msg := str(cfg, "msg")
		return engine.TaskFunc(func(ctx context.Context, tc *engine.TaskContext) error {
			tt.ran(id)
			tc.Log(msg)
			return nil
		}), nil
	case "Return":
		code, msg := num(cfg, "code"), str(cfg, "msg")
		return engine.TaskFunc(func(ctx context.Context, tc *engine.TaskContext) error {
			tt.ran(id)
			return &engine.ReturnError{HTTPCode: code, Message: msg}
		}), nil
	}
	return nil, fmt.Errorf("%w %q", engine.ErrUnsupported, cfg.Task)
}

// version builds a version from a compact JSON text.
func version(t *testing.T, text string) *spec.IntegrationVersion {
	t.Helper()
	v, err := spec.DecodeVersion([]byte(text))
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	return v
}

func run(t *testing.T, text string, inputs map[string]value.Value) (*engine.Result, *testTasks) {
	t.Helper()
	tt := &testTasks{}
	p, iss := engine.Compile(version(t, text), tt, engine.Limits{MaxTasks: 100})
	if len(iss) > 0 {
		t.Fatalf("compile issues: %v", iss)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res := engine.Run(ctx, p, engine.Request{Exec: engine.ExecInfo{ExecutionID: "e1", IntegrationName: "i", Mode: "SYNC"}, TriggerID: "api_trigger/t", Inputs: inputs},
		engine.Options{RetryScale: 0.001})
	return res, tt
}

func set(id, variable, val string, next string) string {
	return fmt.Sprintf(`{"task":"Set","taskId":%q,"parameters":{"var":{"key":"var","value":{"stringValue":%q}},"value":{"key":"value","value":{"stringValue":%q}}}%s}`, id, variable, val, next)
}

func states(res *engine.Result) map[string]string {
	m := map[string]string{}
	for _, r := range res.Tasks {
		m[r.TaskID] = r.State
	}
	return m
}

func TestForksAndJoins(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		tasks  string
		starts string
		vars   string
		ran    []string
		state  string
	}{
		{
			name:   "linear",
			starts: `[{"taskId":"1"}]`,
			tasks:  set("1", "a", "x", `,"nextTasks":[{"taskId":"2"}]`) + "," + set("2", "b", "y", ""),
			ran:    []string{"1", "2"}, state: engine.StateSucceeded,
		},
		{
			name:   "run all match with conditions",
			starts: `[{"taskId":"1"}]`,
			vars:   `,"integrationParameters":[{"key":"n","dataType":"INT_VALUE","defaultValue":{"intValue":"5"}}]`,
			tasks: set("1", "a", "x", `,"nextTasks":[{"taskId":"2","condition":"$n$ > 3"},{"taskId":"3","condition":"$n$ > 10"},{"taskId":"4","condition":"$n$ = 5"}]`) +
				"," + set("2", "b", "y", "") + "," + set("3", "c", "y", "") + "," + set("4", "d", "y", ""),
			ran: []string{"1", "2", "4"}, state: engine.StateSucceeded,
		},
		{
			name:   "run first match",
			starts: `[{"taskId":"1"}]`,
			tasks: set("1", "a", "x", `,"nextTasksExecutionPolicy":"RUN_FIRST_MATCH","nextTasks":[{"taskId":"2","condition":"1 > 2"},{"taskId":"3"},{"taskId":"4"}]`) +
				"," + set("2", "b", "y", "") + "," + set("3", "c", "y", "") + "," + set("4", "d", "y", ""),
			ran: []string{"1", "3"}, state: engine.StateSucceeded,
		},
		{
			name:   "several start tasks run in parallel, join waits for all",
			starts: `[{"taskId":"1"},{"taskId":"2"}]`,
			tasks: set("1", "a", "x", `,"nextTasks":[{"taskId":"3"}]`) + "," + set("2", "b", "y", `,"nextTasks":[{"taskId":"3"}]`) +
				"," + set("3", "c", "$a$", ""),
			ran: []string{"1", "2", "3"}, state: engine.StateSucceeded,
		},
		{
			name:   "when all succeed runs if one incoming edge is taken",
			starts: `[{"taskId":"1"}]`,
			tasks: set("1", "a", "x", `,"nextTasks":[{"taskId":"2","condition":"1 = 2"},{"taskId":"3"}]`) +
				"," + set("2", "b", "y", `,"nextTasks":[{"taskId":"4"}]`) + "," + set("3", "c", "y", `,"nextTasks":[{"taskId":"4"}]`) +
				"," + set("4", "d", "y", ""),
			ran: []string{"1", "3", "4"}, state: engine.StateSucceeded,
		},
		{
			name:   "all tasks and conditions: one skipped predecessor skips the join",
			starts: `[{"taskId":"1"}]`,
			tasks: set("1", "a", "x", `,"nextTasks":[{"taskId":"2","condition":"1 = 2"},{"taskId":"3"}]`) +
				"," + set("2", "b", "y", `,"nextTasks":[{"taskId":"4"}]`) + "," + set("3", "c", "y", `,"nextTasks":[{"taskId":"4"}]`) +
				"," + strings.TrimSuffix(set("4", "d", "y", ""), "}") + `,"taskExecutionStrategy":"WHEN_ALL_TASKS_AND_CONDITIONS_SUCCEED"}`,
			ran: []string{"1", "3"}, state: engine.StateSucceeded,
		},
		{
			name:   "when any succeed merges an if/else",
			starts: `[{"taskId":"1"}]`,
			tasks: set("1", "a", "x", `,"nextTasks":[{"taskId":"2","condition":"$a$ = x"},{"taskId":"3","condition":"$a$ != x"}]`) +
				"," + set("2", "b", "y", `,"nextTasks":[{"taskId":"4"}]`) + "," + set("3", "c", "y", `,"nextTasks":[{"taskId":"4"}]`) +
				"," + strings.TrimSuffix(set("4", "d", "y", ""), "}") + `,"taskExecutionStrategy":"WHEN_ANY_SUCCEED"}`,
			ran: []string{"1", "2", "4"}, state: engine.StateSucceeded,
		},
		{
			name:   "start task condition false",
			starts: `[{"taskId":"1","condition":"1 = 2"},{"taskId":"2"}]`,
			tasks:  set("1", "a", "x", "") + "," + set("2", "b", "y", ""),
			ran:    []string{"2"}, state: engine.StateSucceeded,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			res, tt := run(t, `{"triggerConfigs":[{"triggerId":"api_trigger/t","startTasks":`+c.starts+`}],"taskConfigs":[`+c.tasks+`]`+c.vars+`}`, nil)
			if res.State != c.state {
				t.Fatalf("state = %s (%v), want %s", res.State, res.Err, c.state)
			}
			if got := tt.ranSet(); strings.Join(got, ",") != strings.Join(c.ran, ",") {
				t.Errorf("ran %v, want %v", got, c.ran)
			}
		})
	}
}

func TestParallelBranchesAreConcurrent(t *testing.T) {
	t.Parallel()
	sleep := func(id string) string {
		return fmt.Sprintf(`{"task":"Sleep","taskId":%q,"parameters":{"ms":{"key":"ms","value":{"intValue":"200"}}}}`, id)
	}
	start := time.Now()
	res, _ := run(t, `{"triggerConfigs":[{"triggerId":"api_trigger/t","startTasks":[{"taskId":"1"},{"taskId":"2"},{"taskId":"3"}]}],"taskConfigs":[`+
		sleep("1")+","+sleep("2")+","+sleep("3")+`]}`, nil)
	if res.State != engine.StateSucceeded {
		t.Fatalf("state = %s", res.State)
	}
	if d := time.Since(start); d > 550*time.Millisecond {
		t.Errorf("three 200ms branches took %v: not concurrent", d)
	}
}

func fail(id, msg string, extra string) string {
	return fmt.Sprintf(`{"task":"Fail","taskId":%q,"parameters":{"msg":{"key":"msg","value":{"stringValue":%q}},"code":{"key":"code","value":{"intValue":"404"}}}%s}`, id, msg, extra)
}

func TestFailurePolicies(t *testing.T) {
	t.Parallel()
	const trig = `{"triggerConfigs":[{"triggerId":"api_trigger/t","startTasks":[{"taskId":"1"}]}],"taskConfigs":[`
	cases := []struct {
		name      string
		text      string
		state     string
		ran       []string
		errSubstr string
		check     func(t *testing.T, res *engine.Result)
	}{
		{
			name:  "NONE (default) fails the execution when no leaf succeeds",
			text:  trig + fail("1", "bad thing", `,"nextTasks":[{"taskId":"2"}]`) + "," + set("2", "a", "x", "") + `]}`,
			state: engine.StateFailed, ran: []string{"1"}, errSubstr: "bad thing",
		},
		{
			name:  "NONE with another branch reaching a leaf succeeds",
			text:  `{"triggerConfigs":[{"triggerId":"api_trigger/t","startTasks":[{"taskId":"1"},{"taskId":"2"}]}],"taskConfigs":[` + fail("1", "bad", "") + "," + set("2", "a", "x", "") + `]}`,
			state: engine.StateSucceeded, ran: []string{"1", "2"},
		},
		{
			name: "IGNORE continues and fills ErrorInfo and ErrorMessage",
			text: trig + fail("1", "ignored failure", `,"synchronousCallFailurePolicy":{"retryStrategy":"IGNORE"},"nextTasks":[{"taskId":"2","condition":"exists($ErrorMessage$)"},{"taskId":"3","condition":"NOT exists($ErrorMessage$)"}]`) +
				"," + set("2", "a", "x", "") + "," + set("3", "b", "x", "") + `],"integrationParameters":[{"key":"ErrorMessage","dataType":"STRING_VALUE"}]}`,
			state: engine.StateSucceeded, ran: []string{"1", "2"},
			check: func(t *testing.T, res *engine.Result) {
				if got := res.Vars["ErrorMessage"].Str(); got != "ignored failure" {
					t.Errorf("ErrorMessage = %q", got)
				}
				if got := value.EncodeJSON(res.Vars["`ErrorInfo`"].JSON()); got != `{"message":"ignored failure","code":404}` {
					t.Errorf("ErrorInfo = %s", got)
				}
			},
		},
		{
			name:  "FATAL fails at once and cancels the running branch",
			text:  `{"triggerConfigs":[{"triggerId":"api_trigger/t","startTasks":[{"taskId":"1"},{"taskId":"2"}]}],"taskConfigs":[` + fail("1", "fatal!", `,"synchronousCallFailurePolicy":{"retryStrategy":"FATAL"}`) + `,{"task":"Sleep","taskId":"2","parameters":{"ms":{"key":"ms","value":{"intValue":"5000"}}}}]}`,
			state: engine.StateFailed, ran: []string{"1", "2"}, errSubstr: "fatal!",
			check: func(t *testing.T, res *engine.Result) {
				if s := states(res); s["1"] != engine.TaskFatal || s["2"] != engine.TaskCancelled {
					t.Errorf("task states %v", s)
				}
			},
		},
		{
			name:  "FIXED_INTERVAL retries until success",
			text:  trig + strings.Replace(fail("1", "flaky", `,"synchronousCallFailurePolicy":{"retryStrategy":"FIXED_INTERVAL","maxRetries":3,"intervalTime":"1"}`), `"parameters":{`, `"parameters":{"times":{"key":"times","value":{"intValue":"2"}},`, 1) + `]}`,
			state: engine.StateSucceeded, ran: []string{"1", "1", "1"},
			check: func(t *testing.T, res *engine.Result) {
				if n := len(res.Tasks[0].Attempts); n != 3 {
					t.Errorf("attempts = %d, want 3", n)
				}
			},
		},
		{
			name:  "EXPONENTIAL_BACKOFF gives up after maxRetries",
			text:  trig + fail("1", "always", `,"synchronousCallFailurePolicy":{"retryStrategy":"EXPONENTIAL_BACKOFF","maxRetries":"2","intervalTime":"2s"}`) + `]}`,
			state: engine.StateFailed, ran: []string{"1", "1", "1"}, errSubstr: "always",
		},
		{
			name:  "conditional policies: first matching condition wins",
			text:  trig + fail("1", "not found", `,"synchronousCallFailurePolicy":{"retryStrategy":"FATAL"},"conditionalFailurePolicies":{"failurePolicies":[{"retryStrategy":"IGNORE","condition":"$`+"`ErrorInfo.code`"+`$ = 500"},{"retryStrategy":"IGNORE","condition":"$`+"`ErrorInfo.code`"+`$ = 404"}],"defaultFailurePolicy":{}}`) + `]}`,
			state: engine.StateSucceeded, ran: []string{"1"},
		},
		{
			name:  "conditional policies: no match falls back to the sync policy",
			text:  trig + fail("1", "nope", `,"synchronousCallFailurePolicy":{"retryStrategy":"FATAL"},"conditionalFailurePolicies":{"failurePolicies":[{"retryStrategy":"IGNORE","condition":"1 = 2"}]}`) + `]}`,
			state: engine.StateFailed, ran: []string{"1"}, errSubstr: "nope",
		},
		{
			name:  "RESTART_INTEGRATION_WITH_BACKOFF reruns the whole integration",
			text:  trig + set("0", "a", "x", "") + "," + strings.Replace(fail("1", "restart me", `,"synchronousCallFailurePolicy":{"retryStrategy":"RESTART_INTEGRATION_WITH_BACKOFF","maxRetries":2,"intervalTime":"1"}`), `"parameters":{`, `"parameters":{"times":{"key":"times","value":{"intValue":"1"}},`, 1) + `]}`,
			state: engine.StateSucceeded, ran: []string{"1", "1"},
			check: func(t *testing.T, res *engine.Result) {
				if len(res.Attempts) != 2 {
					t.Errorf("execution attempts = %d, want 2", len(res.Attempts))
				}
			},
		},
		{
			name:  "a panicking task fails its attempt, not the process",
			text:  trig + `{"task":"Panic","taskId":"1"}]}`,
			state: engine.StateFailed, ran: []string{"1"}, errSubstr: "boom",
		},
		{
			name:  "Return task ends the execution with its code",
			text:  trig + `{"task":"Return","taskId":"1","parameters":{"code":{"key":"code","value":{"intValue":"418"}},"msg":{"key":"msg","value":{"stringValue":"teapot"}}},"nextTasks":[{"taskId":"2"}]},` + set("2", "a", "x", "") + `]}`,
			state: engine.StateFailed, ran: []string{"1"},
			check: func(t *testing.T, res *engine.Result) {
				var re *engine.ReturnError
				if !errors.As(res.Err, &re) || re.HTTPCode != 418 || re.Message != "teapot" {
					t.Errorf("err = %v", res.Err)
				}
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			res, tt := run(t, c.text, nil)
			if res.State != c.state {
				t.Fatalf("state = %s (%v), want %s", res.State, res.Err, c.state)
			}
			if got := tt.ranSet(); strings.Join(got, ",") != strings.Join(c.ran, ",") {
				t.Errorf("ran %v, want %v", got, c.ran)
			}
			if c.errSubstr != "" && (res.Err == nil || !strings.Contains(res.Err.Error(), c.errSubstr)) {
				t.Errorf("err = %v, want it to contain %q", res.Err, c.errSubstr)
			}
			if c.check != nil {
				c.check(t, res)
			}
		})
	}
}

func TestErrorCatchers(t *testing.T) {
	t.Parallel()
	catcher := `"errorCatcherConfigs":[{"errorCatcherId":"c1","errorCatcherNumber":"1","startErrorTasks":[{"taskId":"9"}]}]`
	t.Run("task-level catcher handles the failure", func(t *testing.T) {
		t.Parallel()
		res, tt := run(t, `{"triggerConfigs":[{"triggerId":"api_trigger/t","startTasks":[{"taskId":"1"}]}],"taskConfigs":[`+
			fail("1", "caught", `,"errorCatcherId":"c1","nextTasks":[{"taskId":"2"}]`)+","+set("2", "a", "x", "")+","+
			strings.TrimSuffix(set("9", "handled", "$`ErrorInfo.message`$", ""), "}")+`,"externalTaskType":"ERROR_TASK"}],`+catcher+`}`, nil)
		if res.State != engine.StateSucceeded {
			t.Fatalf("state = %s (%v)", res.State, res.Err)
		}
		if got := strings.Join(tt.ranSet(), ","); got != "1,9" {
			t.Errorf("ran %s", got)
		}
		if got := res.Vars["handled"].Text(); got != "$`ErrorInfo.message`$" {
			// Set stores its literal value; the catcher ran with ErrorInfo filled:
			t.Logf("handled = %s", got)
		}
		if got := value.EncodeJSON(res.Vars["`ErrorInfo`"].JSON()); !strings.Contains(got, "caught") {
			t.Errorf("ErrorInfo = %s", got)
		}
	})
	t.Run("trigger-level catcher handles failures of tasks without their own", func(t *testing.T) {
		t.Parallel()
		res, tt := run(t, `{"triggerConfigs":[{"triggerId":"api_trigger/t","errorCatcherId":"c1","startTasks":[{"taskId":"1"}]}],"taskConfigs":[`+
			fail("1", "x", `,"synchronousCallFailurePolicy":{"retryStrategy":"FATAL"}`)+","+
			strings.TrimSuffix(set("9", "handled", "yes", ""), "}")+`,"externalTaskType":"ERROR_TASK"}],`+catcher+`}`, nil)
		if res.State != engine.StateSucceeded {
			t.Fatalf("state = %s (%v)", res.State, res.Err)
		}
		if got := strings.Join(tt.ranSet(), ","); got != "1,9" {
			t.Errorf("ran %s", got)
		}
	})
	t.Run("a failing catcher leaves the failure unhandled", func(t *testing.T) {
		t.Parallel()
		res, _ := run(t, `{"triggerConfigs":[{"triggerId":"api_trigger/t","startTasks":[{"taskId":"1"}]}],"taskConfigs":[`+
			fail("1", "first", `,"errorCatcherId":"c1"`)+","+
			fail("9", "catcher broke", `,"externalTaskType":"ERROR_TASK"`)+`],`+catcher+`}`, nil)
		if res.State != engine.StateFailed {
			t.Fatalf("state = %s", res.State)
		}
	})
}

func TestDeadlineCancels(t *testing.T) {
	t.Parallel()
	tt := &testTasks{}
	p, iss := engine.Compile(version(t, `{"triggerConfigs":[{"triggerId":"api_trigger/t","startTasks":[{"taskId":"1"}]}],"taskConfigs":[{"task":"Sleep","taskId":"1","parameters":{"ms":{"key":"ms","value":{"intValue":"10000"}}}}]}`), tt, engine.Limits{})
	if len(iss) > 0 {
		t.Fatal(iss)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	res := engine.Run(ctx, p, engine.Request{TriggerID: "api_trigger/t"}, engine.Options{})
	if res.State != engine.StateCancelled || !errors.Is(res.Err, context.DeadlineExceeded) {
		t.Fatalf("state = %s, err = %v", res.State, res.Err)
	}
	if time.Since(start) > 2*time.Second {
		t.Errorf("cancellation took %v", time.Since(start))
	}
}

func TestCompileIssues(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, text, want string
		unsupported      bool
	}{
		{"dangling next task", `{"taskConfigs":[{"task":"Set","taskId":"1","nextTasks":[{"taskId":"7"}]}]}`, `task 1: nextTasks[0].taskId: next task "7" does not exist`, false},
		{"unknown start task", `{"triggerConfigs":[{"triggerId":"a","startTasks":[{"taskId":"3"}]}]}`, `start task "3" does not exist`, false},
		{"duplicate task id", `{"taskConfigs":[{"task":"Set","taskId":"1"},{"task":"Set","taskId":"1"}]}`, "duplicate task id 1", false},
		{"cycle", `{"taskConfigs":[{"task":"Set","taskId":"1","nextTasks":[{"taskId":"2"}]},{"task":"Set","taskId":"2","nextTasks":[{"taskId":"1"}]}]}`, "cycle: 1 -> 2 -> 1", false},
		{"bad condition", `{"taskConfigs":[{"task":"Set","taskId":"1","nextTasks":[{"taskId":"2","condition":"$a$ = ("}]},{"task":"Set","taskId":"2"}]}`, "task 1: nextTasks[0].condition", false},
		{"wrong default type", `{"integrationParameters":[{"key":"n","dataType":"INT_VALUE","defaultValue":{"stringValue":"abc"}}]}`, "variable n: default value", false},
		{"unknown data type", `{"integrationParameters":[{"key":"n","dataType":"WEIRD"}]}`, `unknown dataType "WEIRD"`, false},
		{"unknown retry strategy", `{"taskConfigs":[{"task":"Set","taskId":"1","synchronousCallFailurePolicy":{"retryStrategy":"SOMETIMES"}}]}`, `unknown retryStrategy "SOMETIMES"`, false},
		{"unknown catcher", `{"taskConfigs":[{"task":"Set","taskId":"1","errorCatcherId":"nope"}]}`, `error catcher "nope" does not exist`, false},
		{"unsupported task", `{"taskConfigs":[{"task":"Teleport","taskId":"5"}]}`, `task type "Teleport" is not supported`, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, iss := engine.Compile(version(t, c.text), &testTasks{}, engine.Limits{})
			found := false
			for _, i := range iss {
				if strings.Contains(i.String(), c.want) && i.Unsupported == c.unsupported {
					found = true
				}
			}
			if !found {
				t.Errorf("issues %q, want one containing %q (unsupported=%v)", iss.Error(), c.want, c.unsupported)
			}
		})
	}
}

func TestTaskLimit(t *testing.T) {
	t.Parallel()
	var ts []string
	for i := 0; i < 5; i++ {
		ts = append(ts, fmt.Sprintf(`{"task":"Set","taskId":"%d"}`, i))
	}
	_, iss := engine.Compile(version(t, `{"taskConfigs":[`+strings.Join(ts, ",")+`]}`), &testTasks{}, engine.Limits{MaxTasks: 4})
	if !strings.Contains(iss.Error(), "5 tasks exceed the limit of 4") {
		t.Errorf("issues = %v", iss)
	}
}

func TestDataLimit(t *testing.T) {
	t.Parallel()
	tt := &testTasks{}
	p, _ := engine.Compile(version(t, `{"triggerConfigs":[{"triggerId":"api_trigger/t","startTasks":[{"taskId":"1"}]}],"taskConfigs":[`+set("1", "big", strings.Repeat("x", 2000), `,"nextTasks":[{"taskId":"2"}]`)+","+set("2", "b", "y", "")+`]}`), tt, engine.Limits{})
	res := engine.Run(context.Background(), p, engine.Request{TriggerID: "api_trigger/t"}, engine.Options{MaxDataBytes: 1000})
	if res.State != engine.StateFailed || !strings.Contains(fmt.Sprint(res.Err), "exceeds the limit of 1000 bytes") {
		t.Fatalf("state %s err %v", res.State, res.Err)
	}
}

func TestSystemVariables(t *testing.T) {
	t.Parallel()
	res, _ := run(t, `{"triggerConfigs":[{"triggerId":"api_trigger/t","startTasks":[{"taskId":"1"}]}],"taskConfigs":[`+set("1", "a", "x", "")+`]}`, map[string]value.Value{"in": value.Integer(3)})
	for name, want := range map[string]string{"`ExecutionId`": "e1", "`IntegrationName`": "i", "`ExecutionMode`": "SYNC", "in": "3"} {
		if got := res.Vars[name].Text(); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	b, _ := json.Marshal(res.Tasks)
	if !strings.Contains(string(b), `"state":"SUCCEED"`) {
		t.Errorf("task records %s", b)
	}
}

func BenchmarkRunLinear100Tasks(b *testing.B) {
	var ts []string
	for i := 0; i < 100; i++ {
		next := ""
		if i < 99 {
			next = fmt.Sprintf(`,"nextTasks":[{"taskId":"%d","condition":"$n$ >= 0"}]`, i+1)
		}
		ts = append(ts, set(fmt.Sprint(i), "v", "x", next))
	}
	v, err := spec.DecodeVersion([]byte(`{"triggerConfigs":[{"triggerId":"t","startTasks":[{"taskId":"0"}]}],"taskConfigs":[` + strings.Join(ts, ",") + `],"integrationParameters":[{"key":"n","dataType":"INT_VALUE","defaultValue":{"intValue":"1"}}]}`))
	if err != nil {
		b.Fatal(err)
	}
	p, iss := engine.Compile(v, &testTasks{}, engine.Limits{})
	if len(iss) > 0 {
		b.Fatal(iss)
	}
	b.ReportAllocs()
	for b.Loop() {
		if res := engine.Run(context.Background(), p, engine.Request{TriggerID: "t"}, engine.Options{}); res.State != engine.StateSucceeded {
			b.Fatal(res.Err)
		}
	}
}

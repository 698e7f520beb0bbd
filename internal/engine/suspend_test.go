package engine_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/integrationd/integrationd/internal/engine"
	"github.com/integrationd/integrationd/internal/spec"
	"github.com/integrationd/integrationd/internal/value"
)

var execInfo = engine.ExecInfo{ExecutionID: "e1", IntegrationName: "i", VersionID: "v1", Mode: "SYNC"}

// graph is a version whose trigger api_trigger/t starts the tasks in
// starts; extra adds top-level members (",\"integrationParameters\":…").
func graph(starts string, tasks []string, extra string) string {
	return `{"triggerConfigs":[{"triggerId":"api_trigger/t","startTasks":` + starts + `}],"taskConfigs":[` +
		strings.Join(tasks, ",") + `]` + extra + `}`
}

func suspendTask(id, extra string) string {
	return fmt.Sprintf(`{"task":"Suspend","taskId":%q%s}`, id, extra)
}

func logTask(id, msg, extra string) string {
	return fmt.Sprintf(`{"task":"Log","taskId":%q,"parameters":{"msg":{"key":"msg","value":{"stringValue":%q}}}%s}`, id, msg, extra)
}

// compilePlan compiles text as a fresh process does: its own plan and
// task set.
func compilePlan(tb testing.TB, text string) (*engine.Plan, *testTasks) {
	tb.Helper()
	v, err := spec.DecodeVersion([]byte(text))
	if err != nil {
		tb.Fatalf("decode: %v", err)
	}
	tt := &testTasks{}
	p, iss := engine.Compile(v, tt, engine.Limits{})
	if len(iss) > 0 {
		tb.Fatalf("compile issues: %v", iss)
	}
	return p, tt
}

func testOptions() engine.Options { return engine.Options{RetryScale: 0.001} }

// start runs text until it ends or suspends.
func start(t *testing.T, text string, inputs map[string]value.Value, opts engine.Options) (*engine.Result, *testTasks) {
	t.Helper()
	p, tt := compilePlan(t, text)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	return engine.Run(ctx, p, engine.Request{Exec: execInfo, TriggerID: "api_trigger/t", Inputs: inputs}, opts), tt
}

// stored returns cp as another process reads it back from a store: a
// copy that went through a JSON document.
func stored(t *testing.T, cp []byte) []byte {
	t.Helper()
	doc, err := json.Marshal(map[string][]byte{"checkpoint": cp})
	if err != nil {
		t.Fatal(err)
	}
	var back map[string][]byte
	if err := json.Unmarshal(doc, &back); err != nil {
		t.Fatal(err)
	}
	return back["checkpoint"]
}

// tryResume resumes cp with a plan compiled afresh from text.
func tryResume(t *testing.T, ctx context.Context, text string, exec engine.ExecInfo, cp []byte, opts engine.Options, lifts ...engine.Lift) (*engine.Result, *testTasks, error) {
	t.Helper()
	p, tt := compilePlan(t, text)
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	res, err := engine.Resume(ctx, p, stored(t, cp), engine.Request{Exec: exec}, lifts, opts)
	return res, tt, err
}

func resume(t *testing.T, text string, cp []byte, lifts ...engine.Lift) (*engine.Result, *testTasks) {
	t.Helper()
	res, tt, err := tryResume(t, t.Context(), text, execInfo, cp, testOptions(), lifts...)
	if err != nil {
		t.Fatalf("Resume: %v", err)
	}
	return res, tt
}

func approve(id string, outs map[string]value.Value) engine.Lift {
	return engine.Lift{TaskID: id, Outputs: outs}
}

func reject(id string, err error) engine.Lift { return engine.Lift{TaskID: id, Err: err} }

func suspendedIDs(res *engine.Result) []string {
	var ids []string
	for _, s := range res.Suspended {
		ids = append(ids, s.TaskID)
	}
	slices.Sort(ids)
	return ids
}

// wantSuspended checks that res is suspended on exactly ids.
func wantSuspended(t *testing.T, res *engine.Result, ids ...string) {
	t.Helper()
	if res.State != engine.StateSuspended || res.Err != nil {
		t.Fatalf("state = %s (%v), want %s", res.State, res.Err, engine.StateSuspended)
	}
	if got := suspendedIDs(res); !slices.Equal(got, ids) {
		t.Errorf("suspended %v, want %v", got, ids)
	}
	if !bytes.HasPrefix(res.Checkpoint, []byte(`{"v":1,`)) {
		t.Errorf("checkpoint = %.40s…, want versioned JSON", res.Checkpoint)
	}
	for _, id := range ids {
		if s := states(res)[id]; s != engine.TaskSuspended {
			t.Errorf("task %s is %s, want %s", id, s, engine.TaskSuspended)
		}
	}
}

// wantEnded checks that res ended in state without suspension leftovers.
func wantEnded(t *testing.T, res *engine.Result, state string) {
	t.Helper()
	if res.State != state {
		t.Fatalf("state = %s (%v), want %s", res.State, res.Err, state)
	}
	if res.Suspended != nil || res.Checkpoint != nil {
		t.Errorf("suspended %v with a %d-byte checkpoint, want neither", res.Suspended, len(res.Checkpoint))
	}
}

func wantRan(t *testing.T, tt *testTasks, ids ...string) {
	t.Helper()
	if got := tt.ranSet(); !slices.Equal(got, ids) {
		t.Errorf("ran %v, want %v", got, ids)
	}
}

func wantStates(t *testing.T, res *engine.Result, want map[string]string) {
	t.Helper()
	if got := states(res); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("task states %v, want %v", got, want)
	}
}

func TestSuspendThenResume(t *testing.T) {
	t.Parallel()
	text := graph(`[{"taskId":"1"}]`, []string{
		set("1", "a", "x", `,"nextTasks":[{"taskId":"2"}]`),
		suspendTask("2", `,"nextTasks":[{"taskId":"3","condition":"$suspensionResult$ = \"Approved\""},{"taskId":"4","condition":"$suspensionResult$ = \"Rejected\""}]`),
		set("3", "outcome", "approved", ""),
		set("4", "outcome", "rejected", ""),
	}, `,"integrationParameters":[{"key":"suspensionResult","dataType":"STRING_VALUE"},{"key":"outcome","dataType":"STRING_VALUE"}]`)

	res, tt := start(t, text, nil, testOptions())
	wantSuspended(t, res, "2")
	wantRan(t, tt, "1", "2")
	wantStates(t, res, map[string]string{"1": engine.TaskSucceed, "2": engine.TaskSuspended})
	if got := res.Suspended[0].Request; got.Kind != "test" || string(got.Data) != `{"task":"2"}` {
		t.Errorf("request = %+v", got)
	}
	if got := res.Vars["a"].Str(); got != "x" {
		t.Errorf("a = %q at suspension, want x", got)
	}

	cases := []struct {
		result, ran, outcome string
		states               map[string]string
	}{
		{"Approved", "3", "approved", map[string]string{"1": engine.TaskSucceed, "2": engine.TaskSucceed, "3": engine.TaskSucceed, "4": engine.TaskSkipped}},
		{"Rejected", "4", "rejected", map[string]string{"1": engine.TaskSucceed, "2": engine.TaskSucceed, "3": engine.TaskSkipped, "4": engine.TaskSucceed}},
		{"Other", "", "", map[string]string{"1": engine.TaskSucceed, "2": engine.TaskSucceed, "3": engine.TaskSkipped, "4": engine.TaskSkipped}},
	}
	for _, c := range cases {
		t.Run(c.result, func(t *testing.T) {
			t.Parallel()
			res2, tt2 := resume(t, text, res.Checkpoint, approve("2", map[string]value.Value{"suspensionResult": value.Str(c.result)}))
			wantEnded(t, res2, engine.StateSucceeded)
			var ran []string
			if c.ran != "" {
				ran = []string{c.ran}
			}
			wantRan(t, tt2, ran...)
			wantStates(t, res2, c.states)
			if got := res2.Vars["outcome"].Str(); got != c.outcome {
				t.Errorf("outcome = %q, want %q", got, c.outcome)
			}
			if got := res2.Vars["a"].Str(); got != "x" {
				t.Errorf("a = %q after resume, want x", got)
			}
		})
	}
}

func TestSuspendParallelBranches(t *testing.T) {
	t.Parallel()
	t.Run("the other branch finishes first", func(t *testing.T) {
		t.Parallel()
		text := graph(`[{"taskId":"1"},{"taskId":"2"}]`, []string{
			suspendTask("1", ""),
			set("2", "b", "y", `,"nextTasks":[{"taskId":"3"}]`),
			set("3", "c", "z", ""),
		}, "")
		res, tt := start(t, text, nil, testOptions())
		wantSuspended(t, res, "1")
		wantRan(t, tt, "1", "2", "3")
		res2, tt2 := resume(t, text, res.Checkpoint, approve("1", nil))
		wantEnded(t, res2, engine.StateSucceeded)
		wantRan(t, tt2)
		wantStates(t, res2, map[string]string{"1": engine.TaskSucceed, "2": engine.TaskSucceed, "3": engine.TaskSucceed})
	})
	t.Run("two suspended tasks lifted one at a time", func(t *testing.T) {
		t.Parallel()
		text := graph(`[{"taskId":"1"},{"taskId":"2"}]`, []string{
			suspendTask("1", `,"nextTasks":[{"taskId":"3"}]`),
			suspendTask("2", `,"nextTasks":[{"taskId":"3"}]`),
			set("3", "c", "z", ""),
		}, "")
		res, _ := start(t, text, nil, testOptions())
		wantSuspended(t, res, "1", "2")

		res2, tt2 := resume(t, text, res.Checkpoint, approve("2", nil))
		wantSuspended(t, res2, "1")
		wantRan(t, tt2)
		wantStates(t, res2, map[string]string{"1": engine.TaskSuspended, "2": engine.TaskSucceed})
		if _, _, err := tryResume(t, t.Context(), text, execInfo, res2.Checkpoint, testOptions(), approve("2", nil)); !errors.Is(err, engine.ErrNotSuspended) {
			t.Errorf("lifting 2 again: err = %v, want ErrNotSuspended", err)
		}

		res3, tt3 := resume(t, text, res2.Checkpoint, approve("1", nil))
		wantEnded(t, res3, engine.StateSucceeded)
		wantRan(t, tt3, "3")
		wantStates(t, res3, map[string]string{"1": engine.TaskSucceed, "2": engine.TaskSucceed, "3": engine.TaskSucceed})
	})
	t.Run("two suspended tasks lifted together", func(t *testing.T) {
		t.Parallel()
		text := graph(`[{"taskId":"1"},{"taskId":"2"}]`, []string{suspendTask("1", ""), suspendTask("2", "")}, "")
		res, _ := start(t, text, nil, testOptions())
		wantSuspended(t, res, "1", "2")
		res2, _ := resume(t, text, res.Checkpoint, approve("2", nil), approve("1", nil))
		wantEnded(t, res2, engine.StateSucceeded)
	})
}

func TestSuspendJoin(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, strategy, result string
		ranBefore, ranAfter    []string
		join                   string // state of the join task 3 at the end
	}{
		{"when all succeed waits for the lift", "", "go", []string{"1", "2"}, []string{"3"}, engine.TaskSucceed},
		{"all tasks and conditions: condition true after the lift", spec.WhenAllTasksAndConditionsSucceed, "go", []string{"1", "2"}, []string{"3"}, engine.TaskSucceed},
		{"all tasks and conditions: condition false after the lift", spec.WhenAllTasksAndConditionsSucceed, "stop", []string{"1", "2"}, nil, engine.TaskSkipped},
		{"when any succeed runs without waiting", spec.WhenAnySucceed, "go", []string{"1", "2", "3"}, nil, engine.TaskSucceed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			join := `{"task":"Set","taskId":"3","taskExecutionStrategy":"` + c.strategy + `","parameters":{"var":{"key":"var","value":{"stringValue":"joined"}},"value":{"key":"value","value":{"stringValue":"yes"}}}}`
			text := graph(`[{"taskId":"1"},{"taskId":"2"}]`, []string{
				set("1", "a", "x", `,"nextTasks":[{"taskId":"3"}]`),
				suspendTask("2", `,"nextTasks":[{"taskId":"3","condition":"$r$ = go"}]`),
				join,
			}, "")
			res, tt := start(t, text, nil, testOptions())
			wantSuspended(t, res, "2")
			wantRan(t, tt, c.ranBefore...)
			res2, tt2 := resume(t, text, res.Checkpoint, approve("2", map[string]value.Value{"r": value.Str(c.result)}))
			wantEnded(t, res2, engine.StateSucceeded)
			wantRan(t, tt2, c.ranAfter...)
			if s := states(res2)["3"]; s != c.join {
				t.Errorf("join task is %s, want %s", s, c.join)
			}
		})
	}
}

func TestLiftWithError(t *testing.T) {
	t.Parallel()
	const catcher = `,"errorCatcherConfigs":[{"errorCatcherId":"c1","errorCatcherNumber":"1","startErrorTasks":[{"taskId":"9"}]}]`
	handler := strings.TrimSuffix(set("9", "handled", "yes", ""), "}") + `,"externalTaskType":"ERROR_TASK"}`
	cases := []struct {
		name, policy, extra string
		state, task         string // execution state, task 1's state
		ran                 []string
		check               func(t *testing.T, res *engine.Result)
	}{
		{
			name: "IGNORE continues with ErrorInfo set", policy: `,"synchronousCallFailurePolicy":{"retryStrategy":"IGNORE"}`,
			state: engine.StateSucceeded, task: engine.TaskSucceed, ran: []string{"2"},
			check: func(t *testing.T, res *engine.Result) {
				if got := value.EncodeJSON(res.Vars[engine.VarErrorInfo].JSON()); got != `{"message":"rejected","code":403}` {
					t.Errorf("ErrorInfo = %s", got)
				}
				a := res.Tasks[0].Attempts
				if len(a) != 1 || a[0].Error != "rejected" {
					t.Errorf("attempts of task 1 = %+v, want one that failed with rejected", a)
				}
			},
		},
		{
			name: "NONE fails the execution", state: engine.StateFailed, task: engine.TaskFailed,
			check: func(t *testing.T, res *engine.Result) {
				var te *engine.TaskError
				if !errors.As(res.Err, &te) || te.Code != 403 || res.ErrorTask != "1" {
					t.Errorf("err = %v, error task %q", res.Err, res.ErrorTask)
				}
			},
		},
		{name: "FATAL fails the execution", policy: `,"synchronousCallFailurePolicy":{"retryStrategy":"FATAL"}`, state: engine.StateFailed, task: engine.TaskFatal},
		{
			name: "a retrying strategy does not run the task again", policy: `,"synchronousCallFailurePolicy":{"retryStrategy":"FIXED_INTERVAL","maxRetries":3,"intervalTime":"1"}`,
			state: engine.StateFailed, task: engine.TaskFailed,
			check: func(t *testing.T, res *engine.Result) {
				if n := len(res.Tasks[0].Attempts); n != 1 {
					t.Errorf("task 1 has %d attempts, want 1", n)
				}
			},
		},
		{
			name:   "a conditional policy sees the code",
			policy: `,"synchronousCallFailurePolicy":{"retryStrategy":"FATAL"},"conditionalFailurePolicies":{"failurePolicies":[{"retryStrategy":"IGNORE","condition":"$` + "`ErrorInfo.code`" + `$ = 403"}]}`,
			state:  engine.StateSucceeded, task: engine.TaskSucceed, ran: []string{"2"},
		},
		{
			name: "an error catcher handles it", policy: `,"errorCatcherId":"c1"`, extra: catcher,
			state: engine.StateSucceeded, task: engine.TaskFailed, ran: []string{"9"},
			check: func(t *testing.T, res *engine.Result) {
				if got := res.Vars["handled"].Str(); got != "yes" {
					t.Errorf("handled = %q", got)
				}
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			tasks := []string{suspendTask("1", c.policy+`,"nextTasks":[{"taskId":"2"}]`), set("2", "after", "x", "")}
			if c.extra != "" {
				tasks = append(tasks, handler)
			}
			text := graph(`[{"taskId":"1"}]`, tasks, c.extra)
			res, _ := start(t, text, nil, testOptions())
			wantSuspended(t, res, "1")
			res2, tt2 := resume(t, text, res.Checkpoint, reject("1", engine.Errorf(403, "rejected")))
			wantEnded(t, res2, c.state)
			wantRan(t, tt2, c.ran...)
			if s := states(res2)["1"]; s != c.task {
				t.Errorf("task 1 is %s, want %s", s, c.task)
			}
			if c.check != nil {
				c.check(t, res2)
			}
		})
	}
}

func TestResumeErrors(t *testing.T) {
	t.Parallel()
	tasks := []string{set("1", "a", "x", `,"nextTasks":[{"taskId":"2"}]`), suspendTask("2", `,"nextTasks":[{"taskId":"3"}]`), set("3", "b", "y", "")}
	text := graph(`[{"taskId":"1"}]`, tasks, "")
	res, _ := start(t, text, nil, testOptions())
	wantSuspended(t, res, "2")
	cp := res.Checkpoint
	other := engine.ExecInfo{ExecutionID: "e2", VersionID: "v1"}
	newer := engine.ExecInfo{ExecutionID: "e1", VersionID: "v2"}

	cases := []struct {
		name  string
		text  string
		exec  engine.ExecInfo
		cp    []byte
		lifts []engine.Lift
		want  error
	}{
		{name: "a task renamed in another version", text: graph(`[{"taskId":"1"}]`, []string{tasks[0], suspendTask("2", `,"nextTasks":[{"taskId":"4"}]`), set("4", "b", "y", "")}, ""),
			cp: cp, lifts: []engine.Lift{approve("2", nil)}, want: engine.ErrPlanMismatch},
		{name: "an edge condition changed", text: strings.Replace(text, `"nextTasks":[{"taskId":"3"}]`, `"nextTasks":[{"taskId":"3","condition":"1 = 1"}]`, 1),
			cp: cp, lifts: []engine.Lift{approve("2", nil)}, want: engine.ErrPlanMismatch},
		{name: "another version id", exec: newer, cp: cp, lifts: []engine.Lift{approve("2", nil)}, want: engine.ErrPlanMismatch},
		{name: "another execution", exec: other, cp: cp, lifts: []engine.Lift{approve("2", nil)}, want: engine.ErrBadCheckpoint},
		{name: "not JSON", cp: []byte("not a checkpoint"), want: engine.ErrBadCheckpoint},
		{name: "truncated", cp: cp[:len(cp)/2], want: engine.ErrBadCheckpoint},
		{name: "unknown format version", cp: bytes.Replace(cp, []byte(`{"v":1,`), []byte(`{"v":2,`), 1), want: engine.ErrBadCheckpoint},
		{name: "suspended task not in state SUSPENDED", cp: bytes.Replace(cp, []byte(`"state":"SUSPENDED"`), []byte(`"state":"SUCCEED"`), 1), want: engine.ErrBadCheckpoint},
		{name: "lift of an unknown task", cp: cp, lifts: []engine.Lift{approve("99", nil)}, want: engine.ErrNotSuspended},
		{name: "lift of a task that succeeded", cp: cp, lifts: []engine.Lift{approve("1", nil)}, want: engine.ErrNotSuspended},
		{name: "lift of a task that never ran", cp: cp, lifts: []engine.Lift{approve("3", nil)}, want: engine.ErrNotSuspended},
		{name: "the same task lifted twice", cp: cp, lifts: []engine.Lift{approve("2", nil), approve("2", nil)}, want: engine.ErrNotSuspended},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			txt, exec := c.text, c.exec
			if txt == "" {
				txt = text
			}
			if exec == (engine.ExecInfo{}) {
				exec = execInfo
			}
			res, tt, err := tryResume(t, t.Context(), txt, exec, c.cp, testOptions(), c.lifts...)
			if !errors.Is(err, c.want) || res != nil {
				t.Fatalf("Resume = %v, %v; want a nil result and %v", res, err, c.want)
			}
			t.Logf("error: %v", err)
			wantRan(t, tt)
		})
	}
	// Nothing ran and the checkpoint was not consumed: it still resumes.
	res2, tt2 := resume(t, text, cp, approve("2", nil))
	wantEnded(t, res2, engine.StateSucceeded)
	wantRan(t, tt2, "3")
}

func TestSuspendKeepsVariables(t *testing.T) {
	t.Parallel()
	params := []string{
		`{"key":"s","dataType":"STRING_VALUE","defaultValue":{"stringValue":"héllo\n\"q\" \u2028"}}`,
		`{"key":"i","dataType":"INT_VALUE","defaultValue":{"intValue":"9007199254740993"}}`,
		`{"key":"d","dataType":"DOUBLE_VALUE","defaultValue":{"doubleValue":0.1}}`,
		`{"key":"inf","dataType":"DOUBLE_VALUE","defaultValue":{"doubleValue":"-Infinity"}}`,
		`{"key":"b","dataType":"BOOLEAN_VALUE","defaultValue":{"booleanValue":true}}`,
		`{"key":"sa","dataType":"STRING_ARRAY","defaultValue":{"stringArray":{"stringValues":["a","","c"]}}}`,
		`{"key":"ia","dataType":"INT_ARRAY","defaultValue":{"intArray":{"intValues":["1","-2"]}}}`,
		`{"key":"da","dataType":"DOUBLE_ARRAY","defaultValue":{"doubleArray":{"doubleValues":[1.5,-0.25]}}}`,
		`{"key":"ba","dataType":"BOOLEAN_ARRAY","defaultValue":{"booleanArray":{"booleanValues":[true,false]}}}`,
		`{"key":"empty","dataType":"STRING_ARRAY","defaultValue":{"stringArray":{}}}`,
		`{"key":"j","dataType":"JSON_VALUE","defaultValue":{"jsonValue":"{\"z\":1,\"a\":{\"y\":[1,\"x\",null,true],\"b\":2.5},\"m\":\"é\"}"}}`,
		`{"key":"jarr","dataType":"JSON_VALUE","defaultValue":{"jsonValue":"[3,2,1]"}}`,
		`{"key":"jnull","dataType":"JSON_VALUE","defaultValue":{"jsonValue":"null"}}`,
		`{"key":"unset","dataType":"STRING_VALUE"}`,
		`{"key":"untyped"}`,
	}
	text := graph(`[{"taskId":"1"}]`, []string{
		set("1", "transient", "tv", `,"nextTasks":[{"taskId":"2"}]`),
		suspendTask("2", ""),
	}, `,"integrationParameters":[`+strings.Join(params, ",")+`]`)
	inputs := map[string]value.Value{"in": value.Ints([]int64{7, 8}), "nothing": {}}
	res, _ := start(t, text, inputs, testOptions())
	wantSuspended(t, res, "2")
	res2, _ := resume(t, text, res.Checkpoint, approve("2", map[string]value.Value{"out": value.Boolean(true)}))
	wantEnded(t, res2, engine.StateSucceeded)

	for name, v := range res.Vars {
		got, ok := res2.Vars[name]
		if !ok {
			t.Errorf("%s lost", name)
			continue
		}
		if got.Kind() != v.Kind() || !bytes.Equal(value.AppendValueType(nil, got), value.AppendValueType(nil, v)) {
			t.Errorf("%s = %s %s, want %s %s", name, got.Kind(), value.AppendValueType(nil, got), v.Kind(), value.AppendValueType(nil, v))
		}
	}
	if n, n2 := len(res.Vars), len(res2.Vars); n2 != n+1 {
		t.Errorf("%d variables after the resume, want the %d of the suspension and out", n2, n)
	}
	for name, want := range map[string]string{
		"j": `{"z":1,"a":{"y":[1,"x",null,true],"b":2.5},"m":"é"}`, "jarr": `[3,2,1]`, "transient": `"tv"`, "in": `[7,8]`, "out": `true`,
	} {
		if got := value.EncodeJSON(res2.Vars[name].ToJSON()); got != want {
			t.Errorf("%s = %s, want %s", name, got, want)
		}
	}
	if got := res2.Vars["i"].Int(); got != 9007199254740993 {
		t.Errorf("i = %d, want 2^53+1", got)
	}
	if v := res2.Vars["unset"]; v.Kind() != value.Null {
		t.Errorf("unset = %v, want null", v)
	}
}

// clock is a fake time source: each reading is one second after the last.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(time.Second)
	return c.now
}

func TestSuspendKeepsHistory(t *testing.T) {
	t.Parallel()
	flaky := func(strategy string) string {
		return strings.Replace(fail("1", "flaky", `,"synchronousCallFailurePolicy":{"retryStrategy":"`+strategy+`","maxRetries":2,"intervalTime":"1"},"nextTasks":[{"taskId":"2"}]`),
			`"parameters":{`, `"parameters":{"times":{"key":"times","value":{"intValue":"1"}},`, 1)
	}
	cases := []struct {
		name, strategy       string
		attempts, execution  int // attempts of task 1, of the execution
		before, after, order []string
	}{
		{"task retried in place", spec.RetryFixedInterval, 2, 1, []string{"0", "1", "1", "2"}, []string{"3"}, []string{"0", "1", "2", "3"}},
		{"integration restarted", spec.RetryRestartIntegrationWithBackoff, 1, 2, []string{"0", "1", "0", "1", "2"}, []string{"3"}, []string{"0", "1", "2", "3"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			text := graph(`[{"taskId":"0"}]`, []string{
				logTask("0", "before", `,"nextTasks":[{"taskId":"1"}]`),
				flaky(c.strategy),
				suspendTask("2", `,"nextTasks":[{"taskId":"3"}]`),
				logTask("3", "after", ""),
			}, "")
			clk := &clock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
			opts := testOptions()
			opts.Now = clk.Now
			res, tt := start(t, text, nil, opts)
			wantSuspended(t, res, "2")
			if got := strings.Join(tt.trace, ","); got != strings.Join(c.before, ",") {
				t.Errorf("ran %s before the suspension, want %v", got, c.before)
			}
			if len(res.Attempts) != c.execution {
				t.Fatalf("%d execution attempts at suspension, want %d", len(res.Attempts), c.execution)
			}
			suspendedAt := clk.Now()
			clk.now = clk.now.Add(24 * time.Hour) // the approval comes a day later

			res2, tt2, err := tryResume(t, t.Context(), text, execInfo, res.Checkpoint, opts, approve("2", nil))
			if err != nil {
				t.Fatal(err)
			}
			wantEnded(t, res2, engine.StateSucceeded)
			wantRan(t, tt2, c.after...)

			var order []string
			for _, r := range res2.Tasks {
				order = append(order, r.TaskID)
			}
			if !slices.Equal(order, c.order) {
				t.Errorf("task records %v, want %v in this order", order, c.order)
			}
			// Records from before the suspension are unchanged, except the
			// suspended attempt, which ends at the lift.
			for i, before := range res.Tasks {
				after := res2.Tasks[i]
				if len(after.Attempts) != len(before.Attempts) {
					t.Fatalf("task %s: %d attempts, want %d", after.TaskID, len(after.Attempts), len(before.Attempts))
				}
				for k, a := range before.Attempts {
					b := after.Attempts[k]
					if !b.Start.Equal(a.Start) || b.Error != a.Error || (after.TaskID != "2" && !b.End.Equal(a.End)) {
						t.Errorf("task %s attempt %d = %+v, want %+v", after.TaskID, k, b, a)
					}
				}
			}
			if n := len(res2.Tasks[1].Attempts); n != c.attempts {
				t.Errorf("task 1 has %d attempts, want %d", n, c.attempts)
			}
			if a := res2.Tasks[2].Attempts[0]; !a.End.After(suspendedAt.Add(24 * time.Hour)) {
				t.Errorf("suspended attempt ended %v, want after the lift", a.End)
			}
			if len(res2.Attempts) != c.execution {
				t.Fatalf("%d execution attempts after the resume, want %d", len(res2.Attempts), c.execution)
			}
			last, was := res2.Attempts[c.execution-1], res.Attempts[c.execution-1]
			if !last.Start.Equal(was.Start) || !last.End.After(suspendedAt) {
				t.Errorf("last execution attempt %+v, want it to span the suspension from %v", last, was.Start)
			}
			if c.execution > 1 && res2.Attempts[0].Error == "" {
				t.Errorf("the restarted attempt lost its error: %+v", res2.Attempts[0])
			}

			var logs []string
			for _, l := range res2.Logs {
				logs = append(logs, l.TaskID+":"+l.Msg)
			}
			want := "0:before,2:suspending 2,3:after"
			if c.execution > 1 {
				want = "0:before," + want
			}
			if got := strings.Join(logs, ","); got != want {
				t.Errorf("logs %s, want %s", got, want)
			}
		})
	}
}

func TestSuspendLosesToReturnAndFailure(t *testing.T) {
	t.Parallel()
	ret := func(id string, code int) string {
		return fmt.Sprintf(`{"task":"Return","taskId":%q,"parameters":{"code":{"key":"code","value":{"intValue":"%d"}},"msg":{"key":"msg","value":{"stringValue":"bye"}}}}`, id, code)
	}
	slow := func(next string) string {
		return `{"task":"Sleep","taskId":"2","parameters":{"ms":{"key":"ms","value":{"intValue":"30"}}}` + next + `}`
	}
	cases := []struct {
		name  string
		other []string // tasks of the branch started by task 2
		state string
	}{
		{"successful Return", []string{slow(`,"nextTasks":[{"taskId":"3"}]`), ret("3", 200)}, engine.StateSucceeded},
		{"failing Return", []string{slow(`,"nextTasks":[{"taskId":"3"}]`), ret("3", 500)}, engine.StateFailed},
		{"FATAL failure", []string{slow(`,"nextTasks":[{"taskId":"3"}]`), fail("3", "fatal", `,"synchronousCallFailurePolicy":{"retryStrategy":"FATAL"}`)}, engine.StateFailed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			text := graph(`[{"taskId":"1"},{"taskId":"2"}]`, append([]string{suspendTask("1", "")}, c.other...), "")
			res, _ := start(t, text, nil, testOptions())
			wantEnded(t, res, c.state)
			if s := states(res)["1"]; s != engine.TaskCancelled {
				t.Errorf("suspended task is %s, want %s", s, engine.TaskCancelled)
			}
		})
	}
	t.Run("Return after a lift cancels the other suspension", func(t *testing.T) {
		t.Parallel()
		text := graph(`[{"taskId":"1"},{"taskId":"2"}]`, []string{suspendTask("1", `,"nextTasks":[{"taskId":"3"}]`), suspendTask("2", ""), ret("3", 418)}, "")
		res, _ := start(t, text, nil, testOptions())
		wantSuspended(t, res, "1", "2")
		res2, tt2 := resume(t, text, res.Checkpoint, approve("1", nil))
		wantEnded(t, res2, engine.StateFailed)
		wantRan(t, tt2, "3")
		var re *engine.ReturnError
		if !errors.As(res2.Err, &re) || re.HTTPCode != 418 {
			t.Errorf("err = %v, want the Return task's 418", res2.Err)
		}
		wantStates(t, res2, map[string]string{"1": engine.TaskSucceed, "2": engine.TaskCancelled, "3": engine.TaskSucceed})
	})
	t.Run("a non-fatal failure waits for the suspended branch", func(t *testing.T) {
		t.Parallel()
		text := graph(`[{"taskId":"1"},{"taskId":"2"}]`, []string{suspendTask("1", ""), fail("2", "bad", "")}, "")
		res, _ := start(t, text, nil, testOptions())
		wantSuspended(t, res, "1")
		// The suspended task is a leaf: its success makes the execution succeed.
		res2, _ := resume(t, text, res.Checkpoint, approve("1", nil))
		wantEnded(t, res2, engine.StateSucceeded)
		// Its failure leaves the earlier failure as the execution's error.
		res3, _ := resume(t, text, res.Checkpoint, reject("1", engine.Errorf(403, "rejected")))
		wantEnded(t, res3, engine.StateFailed)
		var te *engine.TaskError
		if !errors.As(res3.Err, &te) || te.Message != "bad" || te.Code != 404 || res3.ErrorTask != "2" {
			t.Errorf("err = %v (task %s), want task 2's 404 bad", res3.Err, res3.ErrorTask)
		}
	})
}

func TestResumeCancelled(t *testing.T) {
	t.Parallel()
	text := graph(`[{"taskId":"1"}]`, []string{set("1", "a", "x", `,"nextTasks":[{"taskId":"2"}]`), suspendTask("2", `,"nextTasks":[{"taskId":"3"}]`), set("3", "b", "y", "")}, "")
	res, _ := start(t, text, nil, testOptions())
	wantSuspended(t, res, "2")
	cases := []struct {
		name   string
		lifts  []engine.Lift
		states map[string]string
	}{
		{"no lift: how a suspended execution is cancelled", nil, map[string]string{"1": engine.TaskSucceed, "2": engine.TaskCancelled}},
		{"the lift applies, nothing runs", []engine.Lift{approve("2", nil)}, map[string]string{"1": engine.TaskSucceed, "2": engine.TaskSucceed, "3": engine.TaskCancelled}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			res2, tt2, err := tryResume(t, ctx, text, execInfo, res.Checkpoint, testOptions(), c.lifts...)
			if err != nil {
				t.Fatal(err)
			}
			wantEnded(t, res2, engine.StateCancelled)
			if !errors.Is(res2.Err, context.Canceled) {
				t.Errorf("err = %v, want context.Canceled", res2.Err)
			}
			wantRan(t, tt2)
			wantStates(t, res2, c.states)
		})
	}
}

func TestSuspendInErrorCatcher(t *testing.T) {
	t.Parallel()
	text := graph(`[{"taskId":"1"}]`, []string{
		fail("1", "caught", `,"errorCatcherId":"c1","nextTasks":[{"taskId":"2"}]`),
		set("2", "a", "x", ""),
		suspendTask("9", `,"externalTaskType":"ERROR_TASK","nextTasks":[{"taskId":"10"}]`),
		strings.TrimSuffix(set("10", "handled", "yes", ""), "}") + `,"externalTaskType":"ERROR_TASK"}`,
	}, `,"errorCatcherConfigs":[{"errorCatcherId":"c1","errorCatcherNumber":"1","startErrorTasks":[{"taskId":"9"}]}]`)
	res, tt := start(t, text, nil, testOptions())
	wantSuspended(t, res, "9")
	wantRan(t, tt, "1", "9")

	t.Run("the catcher finishes after the lift", func(t *testing.T) {
		t.Parallel()
		res2, tt2 := resume(t, text, res.Checkpoint, approve("9", nil))
		wantEnded(t, res2, engine.StateSucceeded)
		wantRan(t, tt2, "10")
		wantStates(t, res2, map[string]string{"1": engine.TaskFailed, "2": engine.TaskSkipped, "9": engine.TaskSucceed, "10": engine.TaskSucceed})
	})
	t.Run("a failed lift fails the catcher", func(t *testing.T) {
		t.Parallel()
		res2, tt2 := resume(t, text, res.Checkpoint, reject("9", errors.New("no")))
		wantEnded(t, res2, engine.StateFailed)
		wantRan(t, tt2)
	})
}

func TestSuspendRequests(t *testing.T) {
	t.Parallel()
	t.Run("data that is not JSON fails the task", func(t *testing.T) {
		t.Parallel()
		text := graph(`[{"taskId":"1"}]`, []string{`{"task":"Suspend","taskId":"1","parameters":{"data":{"key":"data","value":{"stringValue":"{nope"}}}}`}, "")
		res, _ := start(t, text, nil, testOptions())
		wantEnded(t, res, engine.StateFailed)
		if !strings.Contains(fmt.Sprint(res.Err), "not JSON") {
			t.Errorf("err = %v", res.Err)
		}
	})
	t.Run("a lift can suspend again, and the checkpoint does not grow", func(t *testing.T) {
		t.Parallel()
		text := graph(`[{"taskId":"1"}]`, []string{suspendTask("1", `,"nextTasks":[{"taskId":"2"}]`), set("2", "a", "x", "")}, "")
		res, _ := start(t, text, nil, testOptions())
		wantSuspended(t, res, "1")
		size := 0
		for i := range 20 {
			again := &engine.SuspendRequest{Kind: "remind", Data: json.RawMessage(fmt.Sprintf(`{"n":%d}`, i%10))}
			res, _ = resume(t, text, res.Checkpoint, reject("1", fmt.Errorf("still waiting: %w", again)))
			wantSuspended(t, res, "1")
			if got := res.Suspended[0].Request; got.Kind != "remind" || !bytes.Equal(got.Data, again.Data) {
				t.Fatalf("request %+v, want %+v", got, again)
			}
			if i == 0 {
				size = len(res.Checkpoint)
			} else if len(res.Checkpoint) > size+8 {
				t.Fatalf("checkpoint grew from %d to %d bytes after %d resumes", size, len(res.Checkpoint), i+1)
			}
		}
		res, tt := resume(t, text, res.Checkpoint, approve("1", nil))
		wantEnded(t, res, engine.StateSucceeded)
		wantRan(t, tt, "2")
		if n := len(res.Tasks[0].Attempts); n != 1 {
			t.Errorf("task 1 has %d attempts, want 1", n)
		}
	})
	t.Run("a lift output that does not convert fails the task", func(t *testing.T) {
		t.Parallel()
		text := graph(`[{"taskId":"1"}]`, []string{suspendTask("1", "")}, `,"integrationParameters":[{"key":"n","dataType":"INT_VALUE"}]`)
		res, _ := start(t, text, nil, testOptions())
		res2, _ := resume(t, text, res.Checkpoint, approve("1", map[string]value.Value{"n": value.Str("many")}))
		wantEnded(t, res2, engine.StateFailed)
		var te *engine.TaskError
		if !errors.As(res2.Err, &te) || te.Code != 400 {
			t.Errorf("err = %v, want a 400 TaskError", res2.Err)
		}
	})
}

// fuzzVersion has parallel branches, a join, a catcher and variables of
// several kinds: its checkpoints exercise every part of the decoder.
var fuzzVersion = graph(`[{"taskId":"1"},{"taskId":"2"},{"taskId":"5"}]`, []string{
	set("1", "a", "x", `,"nextTasks":[{"taskId":"3"}]`),
	suspendTask("2", `,"nextTasks":[{"taskId":"3","condition":"$r$ = go"},{"taskId":"4"}]`),
	strings.TrimSuffix(set("3", "b", "y", ""), "}") + `,"taskExecutionStrategy":"WHEN_ALL_TASKS_AND_CONDITIONS_SUCCEED"}`,
	set("4", "c", "z", ""),
	fail("5", "caught", `,"errorCatcherId":"c1"`),
	suspendTask("9", `,"externalTaskType":"ERROR_TASK"`),
}, `,"errorCatcherConfigs":[{"errorCatcherId":"c1","errorCatcherNumber":"1","startErrorTasks":[{"taskId":"9"}]}],`+
	`"integrationParameters":[{"key":"n","dataType":"INT_VALUE","defaultValue":{"intValue":"3"}},{"key":"j","dataType":"JSON_VALUE","defaultValue":{"jsonValue":"{\"k\":[1,2]}"}}]`)

func FuzzDecodeCheckpoint(f *testing.F) {
	p, _ := compilePlan(f, fuzzVersion)
	res := engine.Run(f.Context(), p, engine.Request{Exec: execInfo, TriggerID: "api_trigger/t"}, testOptions())
	if res.State != engine.StateSuspended {
		f.Fatalf("seed run: state %s (%v)", res.State, res.Err)
	}
	f.Add(res.Checkpoint)
	f.Add(bytes.Replace(res.Checkpoint, []byte(`"resolved":1`), []byte(`"resolved":-1`), 1))
	f.Add(bytes.Replace(res.Checkpoint, []byte(`"intValue":"3"`), []byte(`"stringValue":"3"`), 1))
	f.Add([]byte(`{"v":1}`))
	f.Add([]byte(`{"v":1,"tasks":[{"id":"2","state":"SUSPENDED"}],"suspended":[{"task":"2"},{"task":"2"}]}`))
	f.Add([]byte(`[]`))
	lifts := [][]engine.Lift{nil, {approve("2", map[string]value.Value{"r": value.Str("go")})}, {reject("9", errors.New("no"))}}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, l := range lifts {
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
			res, err := engine.Resume(ctx, p, data, engine.Request{Exec: execInfo}, l, testOptions())
			cancel()
			switch {
			case err != nil && res != nil:
				t.Fatalf("Resume returned a result with error %v", err)
			case err != nil:
				if !errors.Is(err, engine.ErrBadCheckpoint) && !errors.Is(err, engine.ErrPlanMismatch) && !errors.Is(err, engine.ErrNotSuspended) {
					t.Fatalf("error %v wraps no sentinel", err)
				}
			case res.State == engine.StateSuspended && len(res.Checkpoint) == 0:
				t.Fatal("suspended without a checkpoint")
			}
		}
	})
}

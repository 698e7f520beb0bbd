package engine_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/integrationd/integrationd/internal/engine"
	"github.com/integrationd/integrationd/internal/schema"
	"github.com/integrationd/integrationd/internal/value"
)

// orderVar declares the JSON variable order with a draft-04 schema.
const orderVar = `{"key":"order","dataType":"JSON_VALUE","inputOutputType":"IN_OUT","jsonSchema":` +
	`"{\"$schema\":\"http://json-schema.org/draft-04/schema#\",\"type\":\"object\",\"required\":[\"id\"],\"properties\":{\"id\":{\"type\":\"string\"},\"qty\":{\"type\":\"integer\"}}}"}`

// withOption adds fields to a task built by set or fail.
func withOption(task, fields string) string {
	return strings.TrimSuffix(task, "}") + "," + fields + "}"
}

func TestJSONValidationOption(t *testing.T) {
	t.Parallel()
	const (
		valid   = `{"id":"o1","qty":2}`
		invalid = `{"id":"o1","qty":"two"}`
	)
	version := func(starts string, tasks ...string) string {
		return `{"triggerConfigs":[{"triggerId":"api_trigger/t","startTasks":` + starts + `}],"taskConfigs":[` + strings.Join(tasks, ",") +
			`],"integrationParameters":[` + orderVar + `,{"key":"ErrorMessage","dataType":"STRING_VALUE"}]}`
	}
	one := `[{"taskId":"1"}]`
	cases := []struct {
		name   string
		text   string
		inputs map[string]value.Value
		state  string
		ran    []string
		// errSubstrs must all appear in the execution's error.
		errSubstrs []string
		check      func(t *testing.T, res *engine.Result)
	}{
		{
			name:  "PRE_POST_EXECUTION passes with valid values",
			text:  version(one, withOption(set("1", "order", valid, `,"nextTasks":[{"taskId":"2"}]`), `"jsonValidationOption":"PRE_POST_EXECUTION"`), set("2", "b", "x", "")),
			state: engine.StateSucceeded, ran: []string{"1", "2"},
		},
		{
			name:   "PRE_EXECUTION fails before the task runs",
			text:   version(one, withOption(set("1", "b", "x", ""), `"jsonValidationOption":"PRE_EXECUTION"`)),
			inputs: map[string]value.Value{"order": jsonValue(t, invalid)},
			state:  engine.StateFailed, ran: nil,
			errSubstrs: []string{"task 1", "PRE_EXECUTION", "variable order", "at /qty: got string, want integer"},
			check: func(t *testing.T, res *engine.Result) {
				var te *engine.TaskError
				var ve *schema.ValidationError
				if !errors.As(res.Err, &te) || te.Code != engine.SchemaViolationCode || !errors.As(res.Err, &ve) || ve.Violations[0].Pointer != "/qty" {
					t.Errorf("err = %#v", res.Err)
				}
				if res.ErrorTask != "1" || states(res)["1"] != engine.TaskFailed {
					t.Errorf("error task %q, states %v", res.ErrorTask, states(res))
				}
			},
		},
		{
			name:  "PRE_EXECUTION checks the values the task is given, not the ones it writes",
			text:  version(one, withOption(set("1", "order", invalid, ""), `"jsonValidationOption":"PRE_EXECUTION"`)),
			state: engine.StateSucceeded, ran: []string{"1"},
		},
		{
			name:  "POST_EXECUTION fails after the task wrote a bad value",
			text:  version(one, withOption(set("1", "order", invalid, `,"nextTasks":[{"taskId":"2"}]`), `"jsonValidationOption":"POST_EXECUTION"`), set("2", "b", "x", "")),
			state: engine.StateFailed, ran: []string{"1"},
			errSubstrs: []string{"task 1", "POST_EXECUTION", "variable order", "at /qty"},
		},
		{
			name:  "PRE_POST_EXECUTION fails after a missing required property",
			text:  version(one, withOption(set("1", "order", `{"qty":1}`, ""), `"jsonValidationOption":"PRE_POST_EXECUTION"`)),
			state: engine.StateFailed, ran: []string{"1"},
			errSubstrs: []string{"POST_EXECUTION", "at the root: missing property 'id'"},
		},
		{
			name:  "SKIP does not validate",
			text:  version(one, withOption(set("1", "order", invalid, `,"nextTasks":[{"taskId":"2"}]`), `"jsonValidationOption":"SKIP"`), withOption(set("2", "b", "x", ""), `"jsonValidationOption":"SKIP"`)),
			state: engine.StateSucceeded, ran: []string{"1", "2"},
		},
		{
			name:  "no option does not validate",
			text:  version(one, set("1", "order", invalid, `,"nextTasks":[{"taskId":"2"}]`), set("2", "b", "x", "")),
			state: engine.StateSucceeded, ran: []string{"1", "2"},
		},
		{
			name:  "a later task's PRE_EXECUTION catches what an earlier task wrote",
			text:  version(one, set("1", "order", invalid, `,"nextTasks":[{"taskId":"2"}]`), withOption(set("2", "b", "x", ""), `"jsonValidationOption":"PRE_EXECUTION"`)),
			state: engine.StateFailed, ran: []string{"1"},
			errSubstrs: []string{"task 2", "PRE_EXECUTION", "/qty"},
		},
		{
			name:  "null values are not validated",
			text:  version(one, withOption(set("1", "b", "x", ""), `"jsonValidationOption":"PRE_POST_EXECUTION"`)),
			state: engine.StateSucceeded, ran: []string{"1"},
		},
		{
			name: "IGNORE policy: the violation fills ErrorInfo and the graph goes on",
			text: version(one, withOption(set("1", "order", invalid, `,"nextTasks":[{"taskId":"2"}]`), `"jsonValidationOption":"POST_EXECUTION","synchronousCallFailurePolicy":{"retryStrategy":"IGNORE"}`),
				set("2", "b", "x", "")),
			state: engine.StateSucceeded, ran: []string{"1", "2"},
			check: func(t *testing.T, res *engine.Result) {
				info := value.EncodeJSON(res.Vars["`ErrorInfo`"].JSON())
				if !strings.Contains(info, `"code":400`) || !strings.Contains(info, "at /qty") {
					t.Errorf("ErrorInfo = %s", info)
				}
				if msg := res.Vars["ErrorMessage"].Str(); !strings.Contains(msg, "variable order") {
					t.Errorf("ErrorMessage = %q", msg)
				}
				if s := states(res); s["1"] != engine.TaskSucceed {
					t.Errorf("states %v", s)
				}
			},
		},
		{
			name:  "retries re-run the task and re-validate",
			text:  version(one, withOption(set("1", "order", invalid, ""), `"jsonValidationOption":"POST_EXECUTION","synchronousCallFailurePolicy":{"retryStrategy":"FIXED_INTERVAL","maxRetries":2,"intervalTime":"1"}`)),
			state: engine.StateFailed, ran: []string{"1", "1", "1"},
			errSubstrs: []string{"/qty"},
		},
		{
			name:   "conditional failure policy on the violation's code",
			text:   version(one, withOption(set("1", "b", "x", ""), `"jsonValidationOption":"PRE_EXECUTION","conditionalFailurePolicies":{"failurePolicies":[{"retryStrategy":"IGNORE","condition":"$`+"`ErrorInfo.code`"+`$ = 400"}]}`)),
			inputs: map[string]value.Value{"order": jsonValue(t, invalid)},
			state:  engine.StateSucceeded, ran: nil,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			res, tt := run(t, c.text, c.inputs)
			if res.State != c.state {
				t.Fatalf("state = %s (%v), want %s", res.State, res.Err, c.state)
			}
			if got := tt.ranSet(); strings.Join(got, ",") != strings.Join(c.ran, ",") {
				t.Errorf("ran %v, want %v", got, c.ran)
			}
			for _, s := range c.errSubstrs {
				if res.Err == nil || !strings.Contains(res.Err.Error(), s) {
					t.Errorf("err = %v, want it to contain %q", res.Err, s)
				}
			}
			if c.check != nil {
				c.check(t, res)
			}
		})
	}
}

func jsonValue(t *testing.T, text string) value.Value {
	t.Helper()
	j, err := value.ParseJSON(text)
	if err != nil {
		t.Fatal(err)
	}
	return value.FromJSON(j)
}

func TestSchemaCompileIssues(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, text, want string }{
		{"bad schema", `{"integrationParameters":[{"key":"order","dataType":"JSON_VALUE","jsonSchema":"{\"type\":\"strin\"}"}]}`,
			"integrationParameters[0].jsonSchema: variable order: invalid JSON schema"},
		{"schema that is not JSON", `{"integrationParameters":[{"key":"x","dataType":"STRING_VALUE"},{"key":"order","dataType":"JSON_VALUE","jsonSchema":"{oops"}]}`,
			"integrationParameters[1].jsonSchema: variable order: JSON schema is not JSON"},
		{"unknown jsonValidationOption", `{"taskConfigs":[{"task":"Set","taskId":"1","jsonValidationOption":"SOMETIMES"}]}`,
			`task 1: jsonValidationOption: unknown option "SOMETIMES"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, iss := engine.Compile(version(t, c.text), &testTasks{}, engine.Limits{})
			if !strings.Contains(iss.Error(), c.want) {
				t.Errorf("issues %q, want one containing %q", iss.Error(), c.want)
			}
		})
	}
	// Schemas of variables that are not JSON are not compiled (nor checked).
	_, iss := engine.Compile(version(t, `{"integrationParameters":[{"key":"s","dataType":"STRING_VALUE","jsonSchema":"{oops"}]}`), &testTasks{}, engine.Limits{})
	if len(iss) > 0 {
		t.Errorf("issues for a string variable's schema: %v", iss)
	}
}

func TestPlanCheckSchema(t *testing.T) {
	t.Parallel()
	p, iss := engine.Compile(version(t, `{"integrationParameters":[`+orderVar+`,{"key":"free","dataType":"JSON_VALUE"}]}`), &testTasks{}, engine.Limits{})
	if len(iss) > 0 {
		t.Fatal(iss)
	}
	cases := []struct {
		name, variable string
		v              value.Value
		want           string // "" for valid
	}{
		{"valid", "order", jsonValue(t, `{"id":"a"}`), ""},
		{"invalid", "order", jsonValue(t, `{"id":1}`), "at /id: got number, want string"},
		{"null is not checked", "order", value.FromJSON(nil), ""},
		{"no schema", "free", jsonValue(t, `[1]`), ""},
		{"undeclared", "nope", jsonValue(t, `[1]`), ""},
	}
	for _, c := range cases {
		err := p.CheckSchema(c.variable, c.v)
		if (c.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%s: CheckSchema = %v, want %q", c.name, err, c.want)
		}
	}
}

func ret(id string, code int, msg, extra string) string {
	return fmt.Sprintf(`{"task":"Return","taskId":%q,"parameters":{"code":{"key":"code","value":{"intValue":"%d"}},"msg":{"key":"msg","value":{"stringValue":%q}}}%s}`, id, code, msg, extra)
}

func sleepTask(id string, ms int, extra string) string {
	return fmt.Sprintf(`{"task":"Sleep","taskId":%q,"parameters":{"ms":{"key":"ms","value":{"intValue":"%d"}}}%s}`, id, ms, extra)
}

func TestReturn(t *testing.T) {
	t.Parallel()
	trig := func(starts string) string {
		return `{"triggerConfigs":[{"triggerId":"api_trigger/t","startTasks":` + starts + `}],"taskConfigs":[`
	}
	cases := []struct {
		name   string
		text   string
		state  string
		ran    []string
		states map[string]string
		check  func(t *testing.T, res *engine.Result)
	}{
		{
			name:  "4xx ends the execution FAILED with its code",
			text:  trig(`[{"taskId":"1"}]`) + set("1", "a", "x", `,"nextTasks":[{"taskId":"2"}]`) + "," + ret("2", 404, "no such order", `,"nextTasks":[{"taskId":"3"}]`) + "," + set("3", "b", "x", "") + `]}`,
			state: engine.StateFailed, ran: []string{"1", "2"},
			states: map[string]string{"1": engine.TaskSucceed, "2": engine.TaskSucceed},
			check: func(t *testing.T, res *engine.Result) {
				var re *engine.ReturnError
				if !errors.As(res.Err, &re) || re.HTTPCode != 404 || re.Message != "no such order" || res.ErrorTask != "2" {
					t.Errorf("err = %v, error task %q", res.Err, res.ErrorTask)
				}
			},
		},
		{
			name:  "5xx cancels the running branches",
			text:  trig(`[{"taskId":"1"},{"taskId":"2"}]`) + ret("1", 503, "down", "") + "," + sleepTask("2", 5000, `,"nextTasks":[{"taskId":"3"}]`) + "," + set("3", "b", "x", "") + `]}`,
			state: engine.StateFailed, ran: []string{"1", "2"},
			states: map[string]string{"1": engine.TaskSucceed, "2": engine.TaskCancelled},
		},
		{
			name:  "2xx ends the execution SUCCEEDED and cancels the rest",
			text:  trig(`[{"taskId":"1"},{"taskId":"2"}]`) + ret("1", 200, "done early", `,"nextTasks":[{"taskId":"4"}]`) + "," + sleepTask("2", 5000, `,"nextTasks":[{"taskId":"3"}]`) + "," + set("3", "b", "x", "") + "," + set("4", "c", "x", "") + `]}`,
			state: engine.StateSucceeded, ran: []string{"1", "2"},
			states: map[string]string{"1": engine.TaskSucceed, "2": engine.TaskCancelled},
			check: func(t *testing.T, res *engine.Result) {
				if res.Err != nil || res.ErrorTask != "" {
					t.Errorf("err = %v, error task %q", res.Err, res.ErrorTask)
				}
				if len(res.Attempts) != 1 || res.Attempts[0].Error != "" {
					t.Errorf("attempts %+v", res.Attempts)
				}
			},
		},
		{
			name:  "httpErrorCode 0 (unset) succeeds",
			text:  trig(`[{"taskId":"1"}]`) + ret("1", 0, "", `,"nextTasks":[{"taskId":"2"}]`) + "," + set("2", "b", "x", "") + `]}`,
			state: engine.StateSucceeded, ran: []string{"1"},
		},
		{
			name:  "2xx after another branch failed (NONE) still succeeds",
			text:  trig(`[{"taskId":"1"},{"taskId":"2"}]`) + fail("1", "lost", "") + "," + sleepTask("2", 30, `,"nextTasks":[{"taskId":"3"}]`) + "," + ret("3", 204, "", "") + `]}`,
			state: engine.StateSucceeded, ran: []string{"1", "2", "3"},
			states: map[string]string{"1": engine.TaskFailed, "2": engine.TaskSucceed, "3": engine.TaskSucceed},
		},
		{
			name:  "a Return task in an error catcher sets the failure's code",
			text:  trig(`[{"taskId":"1"}]`) + fail("1", "boom", `,"errorCatcherId":"c1"`) + "," + ret("9", 422, "bad order", `,"externalTaskType":"ERROR_TASK"`) + `],"errorCatcherConfigs":[{"errorCatcherId":"c1","startErrorTasks":[{"taskId":"9"}]}]}`,
			state: engine.StateFailed, ran: []string{"1", "9"},
			check: func(t *testing.T, res *engine.Result) {
				var re *engine.ReturnError
				if !errors.As(res.Err, &re) || re.HTTPCode != 422 {
					t.Errorf("err = %v", res.Err)
				}
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			res, tt := run(t, c.text, nil)
			if res.State != c.state {
				t.Fatalf("state = %s (%v), want %s", res.State, res.Err, c.state)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %v: running tasks were not cancelled", d)
			}
			if got := tt.ranSet(); strings.Join(got, ",") != strings.Join(c.ran, ",") {
				t.Errorf("ran %v, want %v", got, c.ran)
			}
			got := states(res)
			for id, want := range c.states {
				if got[id] != want {
					t.Errorf("task %s is %s, want %s (all: %v)", id, got[id], want, got)
				}
			}
			if c.check != nil {
				c.check(t, res)
			}
		})
	}
}

package tasks

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/integrationd/integrationd/internal/engine"
	"github.com/integrationd/integrationd/internal/spec"
	"github.com/integrationd/integrationd/internal/value"
)

func returnRegistry() *Registry {
	r := NewRegistry()
	registerReturn(r)
	return r
}

func TestReturnTask(t *testing.T) {
	t.Parallel()
	vars := value.NewVars(map[string]value.Kind{"id": value.String, "body": value.JSON, "unset": value.String})
	_ = vars.Set("id", value.Str("o-17"))
	body, _ := value.ParseJSON(`{"error":"not found","id":"o-17"}`)
	_ = vars.Set("body", value.FromJSON(body))
	cases := []struct {
		name   string
		params string // the "parameters" object
		code   int
		msg    string
		errSub string // compile error
	}{
		{"404 with a static message", `{"httpErrorCode":{"key":"httpErrorCode","value":{"intValue":"404"}},"errorMessage":{"key":"errorMessage","value":{"stringValue":"gone"}}}`, 404, "gone", ""},
		{"templated message", `{"httpErrorCode":{"key":"httpErrorCode","value":{"intValue":"422"}},"errorMessage":{"key":"errorMessage","value":{"stringValue":"order $id$ rejected$unset$; cost $5"}}}`, 422, "order o-17 rejected; cost $5", ""},
		{"a JSON variable renders as JSON (vertex sample)", `{"httpErrorCode":{"key":"httpErrorCode","value":{"intValue":"404"}},"errorMessage":{"key":"errorMessage","value":{"stringValue":"$body$"}}}`, 404, `{"error":"not found","id":"o-17"}`, ""},
		{"path into a JSON variable", `{"httpErrorCode":{"key":"httpErrorCode","value":{"intValue":"500"}},"errorMessage":{"key":"errorMessage","value":{"stringValue":"$body.error$"}}}`, 500, "not found", ""},
		{"2xx", `{"httpErrorCode":{"key":"httpErrorCode","value":{"intValue":"200"}}}`, 200, "", ""},
		{"no parameters", `{}`, 0, "", ""},
		{"3xx is refused", `{"httpErrorCode":{"key":"httpErrorCode","value":{"intValue":"302"}}}`, 0, "", "302 is not a 2xx, 4xx or 5xx HTTP status"},
		{"out of range", `{"httpErrorCode":{"key":"httpErrorCode","value":{"intValue":"700"}}}`, 0, "", "700 is not"},
		{"code given as a string", `{"httpErrorCode":{"key":"httpErrorCode","value":{"stringValue":"404"}}}`, 0, "", "httpErrorCode must be a"},
	}
	r := returnRegistry()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			v, err := spec.DecodeVersion([]byte(`{"taskConfigs":[{"task":"ReturnTask","taskId":"1","parameters":` + c.params + `}]}`))
			if err != nil {
				t.Fatal(err)
			}
			task, err := r.CompileTask(&v.TaskConfigs[0])
			if c.errSub != "" {
				if err == nil || !strings.Contains(err.Error(), c.errSub) {
					t.Fatalf("compile err = %v, want %q", err, c.errSub)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			err = task.Execute(context.Background(), &engine.TaskContext{Vars: vars, TaskID: "1", Now: time.Now})
			var re *engine.ReturnError
			if !errors.As(err, &re) || re.HTTPCode != c.code || re.Message != c.msg {
				t.Errorf("Execute = %#v, want code %d message %q", err, c.code, c.msg)
			}
		})
	}
}

// TestReturnTaskInARun runs the real task through the engine.
func TestReturnTaskInARun(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		code  string
		state string
	}{{"404", engine.StateFailed}, {"201", engine.StateSucceeded}} {
		v, err := spec.DecodeVersion([]byte(`{"triggerConfigs":[{"triggerId":"api_trigger/t","startTasks":[{"taskId":"1"}]}],
			"integrationParameters":[{"key":"who","dataType":"STRING_VALUE","defaultValue":{"stringValue":"Ada"}}],
			"taskConfigs":[{"task":"ReturnTask","taskId":"1","parameters":{"httpErrorCode":{"key":"httpErrorCode","value":{"intValue":"` + c.code + `"}},
			"errorMessage":{"key":"errorMessage","value":{"stringValue":"no order for $who$"}}}}]}`))
		if err != nil {
			t.Fatal(err)
		}
		p, iss := engine.Compile(v, returnRegistry(), engine.Limits{})
		if len(iss) > 0 {
			t.Fatal(iss)
		}
		res := engine.Run(context.Background(), p, engine.Request{TriggerID: "api_trigger/t"}, engine.Options{})
		if res.State != c.state {
			t.Fatalf("code %s: state %s (%v), want %s", c.code, res.State, res.Err, c.state)
		}
		var re *engine.ReturnError
		if c.state == engine.StateFailed && (!errors.As(res.Err, &re) || re.Message != "no order for Ada" || res.ErrorTask != "1") {
			t.Errorf("code %s: err %v, error task %q", c.code, res.Err, res.ErrorTask)
		}
	}
}

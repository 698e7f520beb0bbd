package api_test

import (
	"strings"
	"testing"

	"github.com/integrationd/integrationd/internal/service"
)

const returnOrder = "../../testdata/return-order.json"

// detail returns the first detail of an error body with the given @type.
func detail(m map[string]any, typ string) map[string]any {
	e, _ := m["error"].(map[string]any)
	ds, _ := e["details"].([]any)
	for _, d := range ds {
		if d, ok := d.(map[string]any); ok && d["@type"] == typ {
			return d
		}
	}
	return nil
}

func executionState(t *testing.T, e *env, integration, id string) string {
	t.Helper()
	code, ex := e.do(t, "GET", "/v1/"+parent+"/integrations/"+integration+"/executions/"+id, nil)
	if code != 200 {
		t.Fatalf("get execution %s: %d %v", id, code, ex)
	}
	return ex["executionDetails"].(map[string]any)["state"].(string)
}

func TestInputViolatesItsSchema(t *testing.T) {
	t.Parallel()
	e := start(t, nil, service.Config{})
	e.publish(t, "lookup", readFile(t, returnOrder))
	base := "/v1/" + parent + "/integrations/lookup"
	cases := []struct {
		name, order string
		want        []string // substrings of the message
	}{
		{"wrong types, ordered by pointer", `{\"id\": 7, \"qty\": 0}`, []string{"invalid input_parameters.order", "variable order does not match its jsonSchema", "at /id: got number, want string", "at /qty: minimum"}},
		{"missing required property", `{\"qty\": 2}`, []string{"at the root: missing property 'id'"}},
		{"not an object", `[1, 2]`, []string{"at the root: got array, want object"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, m := e.do(t, "POST", base+":execute", `{"triggerId":"api_trigger/lookup","inputParameters":{"order":{"jsonValue":"`+c.order+`"}}}`)
			ec, status, msg := errStatus(m)
			if code != 400 || ec != 400 || status != "INVALID_ARGUMENT" {
				t.Fatalf("got %d %v", code, m)
			}
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q does not contain %q", msg, w)
				}
			}
			br := detail(m, "type.googleapis.com/google.rpc.BadRequest")
			fv, _ := br["fieldViolations"].([]any)
			if len(fv) != 1 || fv[0].(map[string]any)["field"] != "input_parameters.order" {
				t.Errorf("BadRequest detail %v", br)
			}
		})
	}
	// Rejected inputs create no execution.
	code, l := e.do(t, "GET", base+"/executions", nil)
	if code != 200 || len(l["executions"].([]any)) != 0 {
		t.Errorf("executions: %d %v", code, l)
	}
	// A valid input runs, and so does the default (defaults are not
	// validated by :execute).
	for _, in := range []string{`"order":{"jsonValue":"{\"id\": \"o-1\", \"qty\": 3}"},`, ""} {
		code, m := e.do(t, "POST", base+":execute", `{"triggerId":"api_trigger/lookup","inputParameters":{`+in+`"found":{"booleanValue":true}}}`)
		if code != 200 {
			t.Errorf("input %s: %d %v", in, code, m)
		}
	}
}

func TestReturnTaskStatus(t *testing.T) {
	t.Parallel()
	e := start(t, nil, service.Config{})
	e.publish(t, "lookup", readFile(t, returnOrder))
	base := "/v1/" + parent + "/integrations/lookup"
	order := `"order":{"jsonValue":"{\"id\": \"o-1\", \"qty\": 3}"}`

	t.Run("4xx reaches the client as a google.rpc.Status", func(t *testing.T) {
		code, m := e.do(t, "POST", base+":execute", `{"triggerId":"api_trigger/lookup","inputParameters":{`+order+`,"found":{"booleanValue":false}}}`)
		ec, status, msg := errStatus(m)
		if code != 404 || ec != 404 || status != "NOT_FOUND" || msg != "no order o-1" {
			t.Fatalf("got %d %v", code, m)
		}
		info := detail(m, "type.googleapis.com/google.rpc.ErrorInfo")
		md, _ := info["metadata"].(map[string]any)
		if info["reason"] != "EXECUTION_FAILED" || md["httpErrorCode"] != "404" || md["taskId"] != "3" || md["executionId"] == "" {
			t.Fatalf("ErrorInfo %v", info)
		}
		if s := executionState(t, e, "lookup", md["executionId"].(string)); s != "FAILED" {
			t.Errorf("execution state %s, want FAILED", s)
		}
	})
	t.Run("2xx ends the execution successfully", func(t *testing.T) {
		code, m := e.do(t, "POST", base+":execute", `{"triggerId":"api_trigger/lookup","inputParameters":{`+order+`,"found":{"booleanValue":true}}}`)
		if code != 200 || m["executionFailed"] == true || m["outputParameters"].(map[string]any)["id"] != "o-1" {
			t.Fatalf("got %d %v", code, m)
		}
		if s := executionState(t, e, "lookup", m["executionId"].(string)); s != "SUCCEEDED" {
			t.Errorf("execution state %s, want SUCCEEDED", s)
		}
	})
	t.Run("a status without its own google.rpc code keeps its HTTP status", func(t *testing.T) {
		code, m := e.do(t, "POST", base+":execute", `{"triggerId":"api_trigger/reject","inputParameters":{`+order+`}}`)
		ec, status, msg := errStatus(m)
		md, _ := detail(m, "type.googleapis.com/google.rpc.ErrorInfo")["metadata"].(map[string]any)
		if code != 422 || ec != 422 || status != "UNKNOWN" || msg != "order o-1 cannot be processed" || md["httpErrorCode"] != "422" {
			t.Fatalf("got %d %v", code, m)
		}
	})
	t.Run("doNotPropagateError: 200 with the Return task's message as the exception", func(t *testing.T) {
		code, m := e.do(t, "POST", base+":execute", `{"triggerId":"api_trigger/lookup","doNotPropagateError":true,"inputParameters":{`+order+`,"found":{"booleanValue":false}}}`)
		if code != 200 || m["executionFailed"] != true {
			t.Fatalf("got %d %v", code, m)
		}
		exception := ""
		for _, p := range m["eventParameters"].(map[string]any)["parameters"].([]any) {
			p := p.(map[string]any)
			if p["key"] == service.ExceptionKey {
				exception, _ = p["value"].(map[string]any)["stringValue"].(string)
			}
		}
		if exception != "no order o-1" {
			t.Errorf("exception %q in %v", exception, m["eventParameters"])
		}
		if s := executionState(t, e, "lookup", m["executionId"].(string)); s != "FAILED" {
			t.Errorf("execution state %s, want FAILED", s)
		}
	})
	t.Run("doNotPropagateError with a 2xx Return: a plain success", func(t *testing.T) {
		code, m := e.do(t, "POST", base+":execute", `{"triggerId":"api_trigger/lookup","doNotPropagateError":true,"inputParameters":{`+order+`,"found":{"booleanValue":true}}}`)
		if code != 200 || m["executionFailed"] == true {
			t.Fatalf("got %d %v", code, m)
		}
	})
}

func TestBadSchemaIsRefusedAtPublish(t *testing.T) {
	t.Parallel()
	e := start(t, nil, service.Config{})
	content := `{"triggerConfigs":[{"triggerId":"api_trigger/x","startTasks":[]}],"integrationParameters":[` +
		`{"key":"order","dataType":"JSON_VALUE","jsonSchema":"{\"type\": \"objet\"}"}]}`
	code, v := e.do(t, "POST", "/v1/"+parent+"/integrations/bad-schema/versions", content)
	if code != 200 {
		t.Fatalf("create: %d %v", code, v)
	}
	code, m := e.do(t, "POST", "/v1/"+v["name"].(string)+":publish", "{}")
	if _, status, msg := errStatus(m); code != 400 || status != "INVALID_ARGUMENT" || !strings.Contains(msg, "integrationParameters[0].jsonSchema: variable order: invalid JSON schema") {
		t.Errorf("publish: %d %v", code, m)
	}
}

// TestScriptTasksEndToEnd runs an integration that chains a Data
// Transformer (Jsonnet) task and a JavaScript task over HTTP.
func TestScriptTasksEndToEnd(t *testing.T) {
	t.Parallel()
	e := start(t, nil, service.Config{})
	v := `{"triggerConfigs":[{"triggerId":"api_trigger/s","startTasks":[{"taskId":"1"}]}],
	 "taskConfigs":[
	  {"task":"JsonnetMapperTask","taskId":"1","nextTasks":[{"taskId":"2"}],"parameters":{"template":{"key":"template","value":{"stringValue":"local f = import \"functions\";\nlocal o = f.extVar(\"order\");\n{ total: f.sum([l.price * l.qty for l in o.lines]), skus: [l.sku for l in o.lines] }"}}}},
	  {"task":"JavaScriptTask","taskId":"2","parameters":{"script":{"key":"script","value":{"stringValue":"function executeScript(event) {\n  var skus = event.getParameter(\"skus\");\n  event.setParameter(\"label\", skus.join(\"+\") + \"=\" + event.getParameter(\"total\"));\n  console.log(\"labelled\");\n}"}}}}],
	 "integrationParameters":[
	  {"key":"order","dataType":"JSON_VALUE","inputOutputType":"IN"},
	  {"key":"total","dataType":"DOUBLE_VALUE","inputOutputType":"OUT"},
	  {"key":"skus","dataType":"STRING_ARRAY","inputOutputType":"OUT"},
	  {"key":"label","dataType":"STRING_VALUE","inputOutputType":"OUT"}]}`
	e.publish(t, "scripts", []byte(v))
	code, m := e.do(t, "POST", "/v1/"+parent+"/integrations/scripts:execute",
		`{"triggerId":"api_trigger/s","inputParameters":{"order":{"jsonValue":"{\"lines\":[{\"sku\":\"a\",\"price\":2.5,\"qty\":2},{\"sku\":\"b\",\"price\":1,\"qty\":3}]}"}}}`)
	if code != 200 {
		t.Fatalf("execute: %d %v", code, m)
	}
	outs := m["outputParameters"].(map[string]any)
	if outs["total"] != 8.0 || outs["label"] != "a+b=8" {
		t.Errorf("outputs = %v", outs)
	}
	if s, _ := outs["skus"].([]any); len(s) != 2 || s[0] != "a" {
		t.Errorf("skus = %v", outs["skus"])
	}
	// A Jsonnet error fails the execution with the template's position.
	code, m = e.do(t, "POST", "/v1/"+parent+"/integrations/scripts:execute", `{"triggerId":"api_trigger/s","inputParameters":{"order":{"jsonValue":"{\"lines\":\"oops\"}"}}}`)
	if _, status, msg := errStatus(m); code != 500 || status != "INTERNAL" || !strings.Contains(msg, "template:") {
		t.Errorf("failing template: %d %v", code, m)
	}
}

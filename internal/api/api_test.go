package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/api/googleapi"
	integrations "google.golang.org/api/integrations/v1"
	"google.golang.org/api/option"

	"github.com/integrationd/integrationd/internal/api"
	"github.com/integrationd/integrationd/internal/auth"
	"github.com/integrationd/integrationd/internal/engine"
	"github.com/integrationd/integrationd/internal/service"
	"github.com/integrationd/integrationd/internal/store"
	"github.com/integrationd/integrationd/internal/store/sqlite"
	"github.com/integrationd/integrationd/internal/tasks"
)

const parent = "projects/demo/locations/us-central1"

type env struct {
	url string
	c   *integrations.Service
	svc *service.Service
}

// start serves the API on a loopback port over a fresh SQLite database.
func start(t *testing.T, authz auth.Authorizer, cfg service.Config) *env {
	t.Helper()
	return startFull(t, authz, tasks.Default(), cfg)
}

// startWith is start with the tasks of reg.
func startWith(t *testing.T, reg *tasks.Registry, cfg service.Config) *env {
	t.Helper()
	return startFull(t, nil, reg, cfg)
}

func startFull(t *testing.T, authz auth.Authorizer, reg *tasks.Registry, cfg service.Config) *env {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "test.db"), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return serveStore(t, st, reg, cfg, authz)
}

// serveStore serves the API over st on a loopback port; everything is
// closed at the end of the test.
func serveStore(t *testing.T, st store.Store, comp engine.Compiler, cfg service.Config, authz auth.Authorizer) *env {
	t.Helper()
	ctx := context.Background()
	svc := service.New(st, comp, cfg)
	srv := httptest.NewServer(api.New(svc, api.Config{Authorizer: authz}))
	t.Cleanup(func() {
		srv.Close()
		if err := svc.Close(ctx); err != nil {
			t.Error(err)
		}
		if err := st.Close(); err != nil {
			t.Error(err)
		}
	})
	c, err := integrations.NewService(ctx, option.WithEndpoint(srv.URL+"/"), option.WithoutAuthentication(), option.WithHTTPClient(srv.Client()))
	if err != nil {
		t.Fatal(err)
	}
	return &env{url: srv.URL, c: c, svc: svc}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// do sends a raw request and decodes the JSON response.
func (e *env) do(t *testing.T, method, path string, body any, hdr ...string) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, e.url+path, rd)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("%s %s: response is not JSON: %s", method, path, raw)
		}
	}
	return resp.StatusCode, m
}

// publish creates and publishes a version from a file and returns its name.
func (e *env) publish(t *testing.T, integration string, content []byte) string {
	t.Helper()
	code, v := e.do(t, "POST", "/v1/"+parent+"/integrations/"+integration+"/versions", content)
	if code != 200 {
		t.Fatalf("create version: %d %v", code, v)
	}
	name := v["name"].(string)
	if code, m := e.do(t, "POST", "/v1/"+name+":publish", "{}"); code != 200 {
		t.Fatalf("publish: %d %v", code, m)
	}
	return name
}

func errStatus(m map[string]any) (int, string, string) {
	e, _ := m["error"].(map[string]any)
	if e == nil {
		return 0, "", ""
	}
	code, _ := e["code"].(float64)
	status, _ := e["status"].(string)
	msg, _ := e["message"].(string)
	return int(code), status, msg
}

func TestTourWithGoogleClient(t *testing.T) {
	t.Parallel()
	e := start(t, nil, service.Config{})
	var v integrations.GoogleCloudIntegrationsV1alphaIntegrationVersion
	if err := json.Unmarshal(readFile(t, "../../testdata/order-total.json"), &v); err != nil {
		t.Fatal(err)
	}
	integ := parent + "/integrations/orders"
	created, err := e.c.Projects.Locations.Integrations.Versions.Create(integ, &v).NewIntegration(true).Do()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(created.Name, integ+"/versions/") || created.State != "DRAFT" || created.SnapshotNumber != 1 {
		t.Fatalf("created %s state %s snapshot %d", created.Name, created.State, created.SnapshotNumber)
	}
	if _, err := e.c.Projects.Locations.Integrations.Versions.Validate(created.Name, &integrations.GoogleCloudIntegrationsV1alphaValidateIntegrationVersionRequest{}).Do(); err != nil {
		t.Fatalf("validate: %v", err)
	}
	// Not published yet: execute is NOT_FOUND.
	_, err = e.c.Projects.Locations.Integrations.Execute(integ, &integrations.GoogleCloudIntegrationsV1alphaExecuteIntegrationsRequest{TriggerId: "api_trigger/order_total"}).Do()
	if gerr, ok := err.(*googleapi.Error); !ok || gerr.Code != 404 {
		t.Fatalf("execute before publish: %v", err)
	}
	if _, err := e.c.Projects.Locations.Integrations.Versions.Publish(created.Name, &integrations.GoogleCloudIntegrationsV1alphaPublishIntegrationVersionRequest{}).Do(); err != nil {
		t.Fatalf("publish: %v", err)
	}
	got, err := e.c.Projects.Locations.Integrations.Versions.Get(created.Name).Do()
	if err != nil || got.State != "ACTIVE" {
		t.Fatalf("get after publish: %v %+v", err, got)
	}

	order := `{"customer": "grace", "items": [{"price": 40, "qty": 2}, {"price": 25.5, "qty": 2}]}`
	resp, err := e.c.Projects.Locations.Integrations.Execute(integ, &integrations.GoogleCloudIntegrationsV1alphaExecuteIntegrationsRequest{
		TriggerId:       "api_trigger/order_total",
		InputParameters: map[string]integrations.GoogleCloudIntegrationsV1alphaValueType{"order": {JsonValue: order}},
	}).Do()
	if err != nil {
		t.Fatalf("execute: %v", err)
	}
	var outs map[string]any
	if err := json.Unmarshal(resp.OutputParameters, &outs); err != nil {
		t.Fatal(err)
	}
	if outs["total"] != 131.0 || outs["customer"] != "GRACE" || outs["size"] != "big" {
		t.Errorf("outputs = %v", outs)
	}
	if s, _ := outs["summary"].(map[string]any); s["lines"] != 2.0 {
		t.Errorf("summary = %v", outs["summary"])
	}
	if outs["`ExecutionId`"] != resp.ExecutionId || outs["`ExecutionMode`"] != "SYNC" || outs["`IntegrationName`"] != "orders" || outs["`Region`"] != "us-central1" || outs["`ProjectId`"] != "demo" {
		t.Errorf("system variables = %v", outs)
	}
	if resp.ExecutionFailed || resp.ExecutionId == "" {
		t.Errorf("executionFailed %v id %q", resp.ExecutionFailed, resp.ExecutionId)
	}

	ex, err := e.c.Projects.Locations.Integrations.Executions.Get(integ + "/executions/" + resp.ExecutionId).Do()
	if err != nil {
		t.Fatalf("get execution: %v", err)
	}
	if ex.ExecutionDetails.State != "SUCCEEDED" || ex.TriggerId != "api_trigger/order_total" || len(ex.ExecutionDetails.AttemptStats) != 1 {
		t.Errorf("execution = %+v", ex.ExecutionDetails)
	}
	states := map[string]string{}
	for _, s := range ex.ExecutionDetails.ExecutionSnapshots {
		for _, d := range s.TaskExecutionDetails {
			states[d.TaskNumber] = d.TaskExecutionState
		}
	}
	if states["1"] != "SUCCEED" || states["2"] != "SUCCEED" || states["3"] != "SKIPPED" {
		t.Errorf("task states = %v", states)
	}
	if ex.RequestParameters["order"].JsonValue == "" {
		t.Errorf("requestParameters = %v", ex.RequestParameters)
	}
	if rp := ex.ResponseParameters; rp["total"].DoubleValue != 131 || rp["customer"].StringValue != "GRACE" || len(rp) != 10 {
		t.Errorf("responseParameters = %s", mustJSON(t, ex.ResponseParameters))
	}

	// A small order takes the other branch.
	resp2, err := e.c.Projects.Locations.Integrations.Execute(integ, &integrations.GoogleCloudIntegrationsV1alphaExecuteIntegrationsRequest{TriggerId: "api_trigger/order_total"}).Do()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(resp2.OutputParameters), `"size":"small"`) {
		t.Errorf("default input: %s", resp2.OutputParameters)
	}

	list, err := e.c.Projects.Locations.Integrations.Executions.List(integ).Filter(`trigger_id="api_trigger/order_total"`).Do()
	if err != nil || len(list.Executions) != 2 || !strings.HasSuffix(list.Executions[0].Name, resp2.ExecutionId) {
		t.Fatalf("list executions: %v (%d)", err, len(list.Executions))
	}
	page, err := e.c.Projects.Locations.Integrations.Executions.List(integ).PageSize(1).Do()
	if err != nil || len(page.Executions) != 1 || page.NextPageToken == "" {
		t.Fatalf("first page: %v", err)
	}
	page2, err := e.c.Projects.Locations.Integrations.Executions.List(integ).PageSize(1).PageToken(page.NextPageToken).Do()
	if err != nil || len(page2.Executions) != 1 || page2.Executions[0].Name == page.Executions[0].Name || page2.NextPageToken != "" {
		t.Fatalf("second page: %v %+v", err, page2)
	}

	vl, err := e.c.Projects.Locations.Integrations.Versions.List(integ).Filter("state=ACTIVE").Do()
	if err != nil || len(vl.IntegrationVersions) != 1 {
		t.Fatalf("list versions: %v", err)
	}
	dl, err := e.c.Projects.Locations.Integrations.Versions.Download(created.Name).Do()
	if err != nil || !strings.Contains(dl.Content, "api_trigger/order_total") {
		t.Fatalf("download: %v", err)
	}
	il, err := e.c.Projects.Locations.Integrations.List(parent).Do()
	if err != nil || len(il.Integrations) != 1 || !il.Integrations[0].Active {
		t.Fatalf("list integrations: %v %+v", err, il)
	}

	// Unpublish: the trigger is gone.
	if _, err := e.c.Projects.Locations.Integrations.Versions.Unpublish(created.Name, &integrations.GoogleCloudIntegrationsV1alphaUnpublishIntegrationVersionRequest{}).Do(); err != nil {
		t.Fatal(err)
	}
	_, err = e.c.Projects.Locations.Integrations.Execute(integ, &integrations.GoogleCloudIntegrationsV1alphaExecuteIntegrationsRequest{TriggerId: "api_trigger/order_total"}).Do()
	if gerr, ok := err.(*googleapi.Error); !ok || gerr.Code != 404 {
		t.Fatalf("execute after unpublish: %v", err)
	}
	if _, err := e.c.Projects.Locations.Integrations.Delete(integ).Do(); err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.Projects.Locations.Integrations.Versions.Get(created.Name).Do(); err == nil {
		t.Fatal("version survived the deletion of its integration")
	}
}

func TestExecuteErrors(t *testing.T) {
	t.Parallel()
	e := start(t, nil, service.Config{})
	e.publish(t, "orders", readFile(t, "../../testdata/order-total.json"))
	e.publish(t, "pick", readFile(t, "testdata/pick.json"))
	base := "/v1/" + parent + "/integrations/"
	cases := []struct {
		name, path, body string
		code             int
		status, msg      string
	}{
		{"malformed JSON", base + "orders:execute", `{"triggerId": `, 400, "INVALID_ARGUMENT", "malformed JSON"},
		{"missing trigger id", base + "orders:execute", `{}`, 400, "INVALID_ARGUMENT", "trigger_id"},
		{"unknown trigger", base + "orders:execute", `{"triggerId":"api_trigger/nope"}`, 404, "NOT_FOUND", "api_trigger/nope"},
		{"unknown integration", base + "ghost:execute", `{"triggerId":"api_trigger/order_total"}`, 404, "NOT_FOUND", "no published version"},
		{"input of the wrong type", base + "pick:execute", `{"triggerId":"api_trigger/pick","inputParameters":{"index":{"stringValue":"two"}}}`, 400, "INVALID_ARGUMENT", "input_parameters.index"},
		{"bad jsonValue", base + "orders:execute", `{"triggerId":"api_trigger/order_total","inputParameters":{"order":{"jsonValue":"{oops"}}}`, 400, "INVALID_ARGUMENT", "input_parameters.order"},
		{"wrong JSON type", base + "orders:execute", `{"triggerId":["x"]}`, 400, "INVALID_ARGUMENT", "triggerId"},
		{"task failure propagates as INTERNAL", base + "pick:execute", `{"triggerId":"api_trigger/pick","inputParameters":{"index":{"intValue":"7"}}}`, 500, "INTERNAL", "out of range"},
		{"resume of a non-suspended execution", base + "pick:execute", `{"triggerId":"api_trigger/pick","executionId":"nope"}`, 404, "NOT_FOUND", "nope"},
		{"unknown verb", base + "pick:explode", `{}`, 404, "NOT_FOUND", "explode"},
		{"integration name too long", base + strings.Repeat("x", 65) + ":execute", `{"triggerId":"api_trigger/pick"}`, 400, "INVALID_ARGUMENT", "limit of 64"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, m := e.do(t, "POST", c.path, c.body)
			ec, status, msg := errStatus(m)
			if code != c.code || ec != c.code || status != c.status || !strings.Contains(msg, c.msg) {
				t.Errorf("got %d %d %s %q, want %d %s containing %q", code, ec, status, msg, c.code, c.status, c.msg)
			}
			if _, ok := m["error"].(map[string]any)["details"].([]any); !ok {
				t.Errorf("details missing: %v", m)
			}
		})
	}
	// Rejected requests create no execution; the failed run does.
	code, m := e.do(t, "GET", base+"pick/executions", nil)
	if code != 200 || len(m["executions"].([]any)) != 1 {
		t.Errorf("executions of pick: %d %v", code, m)
	}
	code, m = e.do(t, "GET", base+"orders/executions", nil)
	if code != 200 || len(m["executions"].([]any)) != 0 {
		t.Errorf("executions of orders: %d %v", code, m)
	}
}

func TestExecuteForms(t *testing.T) {
	t.Parallel()
	e := start(t, nil, service.Config{})
	e.publish(t, "pick", readFile(t, "testdata/pick.json"))
	base := "/v1/" + parent + "/integrations/"
	outputOf := func(m map[string]any) any { return m["outputParameters"].(map[string]any)["picked"] }

	t.Run("snake_case fields and /:execute", func(t *testing.T) {
		code, m := e.do(t, "POST", base+"pick/:execute", `{"trigger_id":"api_trigger/pick","input_parameters":{"index":{"int_value":"2"}}}`)
		if code != 200 || outputOf(m) != "c" {
			t.Errorf("%d %v", code, m)
		}
	})
	t.Run("legacy parameters and parameterEntries", func(t *testing.T) {
		code, m := e.do(t, "POST", base+"pick:execute", `{"triggerId":"api_trigger/pick","parameters":{"parameters":[{"key":"index","value":{"intValue":"1"}}]}}`)
		if code != 200 || outputOf(m) != "b" {
			t.Errorf("parameters: %d %v", code, m)
		}
		code, m = e.do(t, "POST", base+"pick:execute", `{"triggerId":"api_trigger/pick","parameterEntries":[{"key":"letters","value":{"stringArray":{"stringValues":["x","y"]}},"dataType":"STRING_ARRAY"}]}`)
		if code != 200 || outputOf(m) != "x" || m["parameterEntries"] == nil {
			t.Errorf("parameterEntries: %d %v", code, m)
		}
	})
	t.Run("integration '-' runs every integration with the trigger", func(t *testing.T) {
		e.publish(t, "pick-too", readFile(t, "testdata/pick.json"))
		code, m := e.do(t, "POST", base+"-:execute", `{"triggerId":"api_trigger/pick"}`)
		if code != 200 || outputOf(m) != "a" {
			t.Fatalf("%d %v", code, m)
		}
		for _, name := range []string{"pick", "pick-too"} {
			_, l := e.do(t, "GET", base+name+"/executions?filter="+`trigger_id%3D%22api_trigger%2Fpick%22`, nil)
			if len(l["executions"].([]any)) == 0 {
				t.Errorf("%s has no execution", name)
			}
		}
	})
	t.Run("doNotPropagateError returns 200 with the exception", func(t *testing.T) {
		code, m := e.do(t, "POST", base+"pick:execute", `{"triggerId":"api_trigger/pick","doNotPropagateError":true,"inputParameters":{"index":{"intValue":"9"}}}`)
		if code != 200 || m["executionFailed"] != true || m["executionId"] == "" {
			t.Fatalf("%d %v", code, m)
		}
		found := false
		for _, p := range m["eventParameters"].(map[string]any)["parameters"].([]any) {
			p := p.(map[string]any)
			if p["key"] == "PostWithTriggerIdExecutionException" && strings.Contains(p["value"].(map[string]any)["stringValue"].(string), "out of range") {
				found = true
			}
		}
		if !found {
			t.Errorf("no exception parameter: %v", m["eventParameters"])
		}
		_, ex := e.do(t, "GET", base+"pick/executions/"+m["executionId"].(string), nil)
		if ex["executionDetails"].(map[string]any)["state"] != "FAILED" {
			t.Errorf("execution state: %v", ex["executionDetails"])
		}
	})
	t.Run("requestId de-duplicates", func(t *testing.T) {
		body := `{"triggerId":"api_trigger/pick","requestId":"req-1","inputParameters":{"index":{"intValue":"1"}}}`
		_, first := e.do(t, "POST", base+"pick:execute", body)
		_, again := e.do(t, "POST", base+"pick:execute", `{"triggerId":"api_trigger/pick","requestId":"req-1","inputParameters":{"index":{"intValue":"2"}}}`)
		if first["executionId"] != again["executionId"] || outputOf(again) != "b" {
			t.Errorf("first %v, again %v", first, again)
		}
		_, l := e.do(t, "GET", base+"pick/executions?filter="+`execution_id%3D%22`+first["executionId"].(string)+`%22`, nil)
		if len(l["executions"].([]any)) != 1 {
			t.Errorf("executions: %v", l)
		}
		// A failed request is de-duplicated too, error and all.
		bad := `{"triggerId":"api_trigger/pick","requestId":"req-2","inputParameters":{"index":{"intValue":"5"}}}`
		c1, m1 := e.do(t, "POST", base+"pick:execute", bad)
		c2, m2 := e.do(t, "POST", base+"pick:execute", bad)
		_, _, msg1 := errStatus(m1)
		_, _, msg2 := errStatus(m2)
		if c1 != 500 || c2 != 500 || msg1 != msg2 {
			t.Errorf("failed dedup: %d %q / %d %q", c1, msg1, c2, msg2)
		}
	})
}

func TestSyncDeadline(t *testing.T) {
	t.Parallel()
	e := start(t, nil, service.Config{SyncTimeout: time.Nanosecond})
	e.publish(t, "pick", readFile(t, "testdata/pick.json"))
	code, m := e.do(t, "POST", "/v1/"+parent+"/integrations/pick:execute", `{"triggerId":"api_trigger/pick"}`)
	if _, status, _ := errStatus(m); code != 504 || status != "DEADLINE_EXCEEDED" {
		t.Fatalf("%d %v", code, m)
	}
	_, l := e.do(t, "GET", "/v1/"+parent+"/integrations/pick/executions", nil)
	ex := l["executions"].([]any)
	if len(ex) != 1 || ex[0].(map[string]any)["executionDetails"].(map[string]any)["state"] != "CANCELLED" {
		t.Errorf("executions: %v", l)
	}
}

func TestVersionsLifecycle(t *testing.T) {
	t.Parallel()
	e := start(t, nil, service.Config{})
	base := "/v1/" + parent + "/integrations/pick"
	content := readFile(t, "testdata/pick.json")
	code, v1 := e.do(t, "POST", base+"/versions", content)
	if code != 200 || v1["snapshotNumber"] != "1" || v1["state"] != "DRAFT" {
		t.Fatalf("create: %d %v", code, v1)
	}
	up, _ := json.Marshal(map[string]string{"content": string(content)})
	code, upv := e.do(t, "POST", base+"/versions:upload", up)
	if code != 200 || upv["integrationVersion"].(map[string]any)["snapshotNumber"] != "2" {
		t.Fatalf("upload: %d %v", code, upv)
	}
	name1 := v1["name"].(string)
	code, p := e.do(t, "PATCH", "/v1/"+name1+"?updateMask=userLabel,description", `{"userLabel":"v-one","description":"first","taskConfigs":[]}`)
	if code != 200 || p["userLabel"] != "v-one" || p["description"] != "first" || len(p["taskConfigs"].([]any)) != 1 {
		t.Fatalf("patch: %d %v", code, p)
	}
	code, l := e.do(t, "GET", base+"/versions?filter=user_label%3D%22v-one%22", nil)
	if code != 200 || len(l["integrationVersions"].([]any)) != 1 {
		t.Fatalf("filter by label: %d %v", code, l)
	}
	code, l = e.do(t, "GET", base+"/versions?pageSize=1&orderBy=snapshot_number", nil)
	if code != 200 || len(l["integrationVersions"].([]any)) != 1 || l["nextPageToken"] == nil {
		t.Fatalf("page: %d %v", code, l)
	}
	if l["integrationVersions"].([]any)[0].(map[string]any)["snapshotNumber"] != "2" {
		t.Errorf("snapshot_number order: %v", l)
	}
	code, _ = e.do(t, "GET", base+"/versions?pageSize=1&pageToken="+l["nextPageToken"].(string)+"&filter=state%3DDRAFT", nil)
	if code != 400 {
		t.Errorf("token reused with another filter: %d", code)
	}
	if code, m := e.do(t, "POST", "/v1/"+name1+"/:publish", `{}`); code != 200 {
		t.Fatalf("publish (slash form): %d %v", code, m)
	}
	if code, m := e.do(t, "PATCH", "/v1/"+name1, `{"userLabel":"x"}`); code != 400 {
		t.Errorf("patch of an ACTIVE version: %d %v", code, m)
	}
	if code, m := e.do(t, "DELETE", "/v1/"+name1, nil); code != 400 {
		t.Errorf("delete of an ACTIVE version: %d %v", code, m)
	}
	name2 := upv["integrationVersion"].(map[string]any)["name"].(string)
	if code, m := e.do(t, "POST", "/v1/"+name2+":publish", `{}`); code != 200 {
		t.Fatalf("publish v2: %d %v", code, m)
	}
	_, g := e.do(t, "GET", "/v1/"+name1, nil)
	if g["state"] != "SNAPSHOT" {
		t.Errorf("previous active version is %v, want SNAPSHOT", g["state"])
	}
	if code, _ := e.do(t, "DELETE", "/v1/"+name1, nil); code != 200 {
		t.Errorf("delete: %d", code)
	}
	if code, _ := e.do(t, "GET", "/v1/"+name1, nil); code != 404 {
		t.Errorf("get deleted: %d", code)
	}
	for _, bad := range []string{`[1,2]`, `{"taskConfigs":"nope"}`, `not json`} {
		if code, m := e.do(t, "POST", base+"/versions", bad); code != 400 {
			t.Errorf("create %s: %d %v", bad, code, m)
		}
	}
	code, m := e.do(t, "POST", base+"/versions", `{"taskConfigs":[{"task":"FieldMappingTask","taskId":"1","nextTasks":[{"taskId":"9"}]}]}`)
	if code != 200 {
		t.Fatalf("create invalid-but-decodable: %d %v", code, m)
	}
	code, m = e.do(t, "POST", "/v1/"+m["name"].(string)+":validate", `{}`)
	if _, status, msg := errStatus(m); code != 400 || status != "INVALID_ARGUMENT" || !strings.Contains(msg, `task 1`) {
		t.Errorf("validate: %d %v", code, m)
	}
}

func TestConfigVariables(t *testing.T) {
	t.Parallel()
	e := start(t, nil, service.Config{})
	v := `{"triggerConfigs":[{"triggerId":"api_trigger/c","startTasks":[{"taskId":"1"}]}],
	 "taskConfigs":[{"task":"FieldMappingTask","taskId":"1","parameters":{"FieldMappingConfigTaskParameterKey":{"key":"FieldMappingConfigTaskParameterKey","value":{"jsonValue":"{\"mappedFields\":[{\"inputField\":{\"transformExpression\":{\"initialValue\":{\"referenceValue\":\"$` + "`CONFIG_greeting`" + `$\"}}},\"outputField\":{\"referenceKey\":\"$out$\"}}]}"}}}}],
	 "integrationParameters":[{"key":"out","dataType":"STRING_VALUE","inputOutputType":"OUT"}],
	 "integrationConfigParameters":[{"parameter":{"key":"` + "`CONFIG_greeting`" + `","dataType":"STRING_VALUE","defaultValue":{"stringValue":"hello"}}}]}`
	base := "/v1/" + parent + "/integrations/cfg"
	_, ver := e.do(t, "POST", base+"/versions", v)
	name := ver["name"].(string)
	if code, m := e.do(t, "POST", "/v1/"+name+":publish", `{"configParameters":{"`+"`CONFIG_greeting`"+`":{"stringValue":"bonjour"}}}`); code != 200 {
		t.Fatalf("publish: %d %v", code, m)
	}
	_, m := e.do(t, "POST", base+":execute", `{"triggerId":"api_trigger/c"}`)
	if got := m["outputParameters"].(map[string]any)["out"]; got != "bonjour" {
		t.Errorf("out = %v, want the value bound at publish", got)
	}
}

func TestPermissions(t *testing.T) {
	t.Parallel()
	cfg := &auth.Config{
		Tokens: []auth.Token{{Token: "admin-token", Principal: "user:admin@example.com"}, {Token: "invoker-token", Principal: "user:inv@example.com"}, {Token: "viewer-token", Principal: "user:view@example.com"}},
		Bindings: []auth.Binding{
			{Principal: "user:admin@example.com", Roles: []string{"roles/integrations.integrationAdmin"}},
			{Principal: "user:inv@example.com", Roles: []string{"roles/integrations.integrationInvoker"}},
			{Principal: "user:view@example.com", Roles: []string{"integrations.integrationViewer"}},
		},
	}
	authz, err := auth.NewTokenAuthorizer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e := start(t, authz, service.Config{})
	base := "/v1/" + parent + "/integrations/pick"
	bearer := func(tok string) []string { return []string{"Authorization", "Bearer " + tok} }
	code, v := e.do(t, "POST", base+"/versions", readFile(t, "testdata/pick.json"), bearer("admin-token")...)
	if code != 200 {
		t.Fatalf("admin create: %d %v", code, v)
	}
	if code, m := e.do(t, "POST", "/v1/"+v["name"].(string)+":publish", "{}", bearer("admin-token")...); code != 200 {
		t.Fatalf("admin publish: %d %v", code, m)
	}
	cases := []struct {
		name, method, path, body, token string
		code                            int
		msg                             string
	}{
		{"no token", "POST", base + ":execute", `{"triggerId":"api_trigger/pick"}`, "", 401, ""},
		{"unknown token", "POST", base + ":execute", `{"triggerId":"api_trigger/pick"}`, "forged", 401, ""},
		{"invoker executes", "POST", base + ":execute", `{"triggerId":"api_trigger/pick"}`, "invoker-token", 200, ""},
		{"viewer cannot execute", "POST", base + ":execute", `{"triggerId":"api_trigger/pick"}`, "viewer-token", 403, "integrations.integrations.invoke"},
		{"invoker cannot create versions", "POST", base + "/versions", `{}`, "invoker-token", 403, "integrations.integrationVersions.create"},
		{"viewer lists executions", "GET", base + "/executions", "", "viewer-token", 200, ""},
		{"invoker cannot publish", "POST", "/v1/" + v["name"].(string) + ":publish", `{}`, "invoker-token", 403, "integrations.integrationVersions.deploy"},
		{"viewer cannot delete", "DELETE", base, "", "viewer-token", 403, "integrations.integrations.delete"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var hdr []string
			if c.token != "" {
				hdr = bearer(c.token)
			}
			var body any
			if c.body != "" {
				body = c.body
			}
			code, m := e.do(t, c.method, c.path, body, hdr...)
			_, _, msg := errStatus(m)
			if code != c.code || !strings.Contains(msg, c.msg) {
				t.Errorf("got %d %q, want %d containing %q", code, msg, c.code, c.msg)
			}
		})
	}
}

func TestPersistenceDisabledAndLimits(t *testing.T) {
	t.Parallel()
	e := start(t, nil, service.Config{MaxDataBytes: 2000})
	var v map[string]any
	if err := json.Unmarshal(readFile(t, "testdata/pick.json"), &v); err != nil {
		t.Fatal(err)
	}
	v["databasePersistencePolicy"] = "DATABASE_PERSISTENCE_DISABLED"
	content, _ := json.Marshal(v)
	e.publish(t, "quiet", content)
	base := "/v1/" + parent + "/integrations/quiet"
	code, m := e.do(t, "POST", base+":execute", `{"triggerId":"api_trigger/pick"}`)
	if code != 200 {
		t.Fatalf("execute: %d %v", code, m)
	}
	if code, _ := e.do(t, "GET", base+"/executions/"+m["executionId"].(string), nil); code != 404 {
		t.Errorf("execution of a DATABASE_PERSISTENCE_DISABLED version: GET = %d, want 404", code)
	}
	big := `{"triggerId":"api_trigger/pick","inputParameters":{"letters":{"stringArray":{"stringValues":["` + strings.Repeat("x", 3000) + `"]}}}}`
	code, m = e.do(t, "POST", base+":execute", big)
	if _, status, msg := errStatus(m); code != 400 || status != "INVALID_ARGUMENT" || !strings.Contains(msg, "limit of 2000 bytes") {
		t.Errorf("oversized input: %d %v", code, m)
	}
	code, m = e.do(t, "POST", "/v1/"+parent+"/integrations/bad%20name/versions", `{}`)
	if _, status, _ := errStatus(m); code != 400 || status != "INVALID_ARGUMENT" {
		t.Errorf("bad integration name: %d %v", code, m)
	}
	code, m = e.do(t, "GET", "/v1/"+parent+"/integrations/quiet/versions?pageSize=-1", nil)
	if code != 400 || !strings.Contains(m["error"].(map[string]any)["message"].(string), "page_size") {
		t.Errorf("negative page size: %d %v", code, m)
	}
	code, m = e.do(t, "GET", "/v1/"+parent+"/integrations/quiet/executions?filter=nonsense%3D1", nil)
	if code != 400 || !strings.Contains(m["error"].(map[string]any)["message"].(string), "nonsense") {
		t.Errorf("unknown filter field: %d %v", code, m)
	}
}

func TestPatchWholeVersion(t *testing.T) {
	t.Parallel()
	e := start(t, nil, service.Config{})
	base := "/v1/" + parent + "/integrations/p"
	_, v := e.do(t, "POST", base+"/versions", readFile(t, "testdata/pick.json"))
	name := v["name"].(string)
	code, p := e.do(t, "PATCH", "/v1/"+name+"?updateMask=*", `{"description":"replaced"}`)
	if code != 200 || p["description"] != "replaced" || p["taskConfigs"] != nil {
		t.Errorf("patch *: %d %v", code, p)
	}
	code, p = e.do(t, "PATCH", "/v1/"+name+"?updateMask=no_such_field", `{}`)
	if code != 400 {
		t.Errorf("patch unknown field: %d %v", code, p)
	}
}

// BenchmarkExecute measures one :execute of the order-total fixture (three
// Data Mapping tasks) through the HTTP handler, with execution records
// written to SQLite, over a loopback connection.
func BenchmarkExecute(b *testing.B) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "bench.db"), slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	svc := service.New(st, tasks.Default(), service.Config{})
	srv := httptest.NewServer(api.New(svc, api.Config{}))
	defer func() { srv.Close(); _ = svc.Close(ctx); _ = st.Close() }()
	content, err := os.ReadFile("../../testdata/order-total.json")
	if err != nil {
		b.Fatal(err)
	}
	base := srv.URL + "/v1/" + parent + "/integrations/orders"
	resp, err := http.Post(base+"/versions", "application/json", bytes.NewReader(content))
	if err != nil {
		b.Fatal(err)
	}
	var v struct{ Name string }
	_ = json.NewDecoder(resp.Body).Decode(&v)
	resp.Body.Close()
	if resp, err = http.Post(srv.URL+"/v1/"+v.Name+":publish", "application/json", strings.NewReader("{}")); err != nil || resp.StatusCode != 200 {
		b.Fatalf("publish: %v", err)
	}
	resp.Body.Close()
	body := []byte(`{"triggerId":"api_trigger/order_total","inputParameters":{"order":{"jsonValue":"{\"customer\":\"ada\",\"items\":[{\"price\":40,\"qty\":2},{\"price\":25.5,\"qty\":2}]}"}}}`)
	client := srv.Client()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := client.Post(base+":execute", "application/json", bytes.NewReader(body))
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func readFileErr(path string) ([]byte, error) { return os.ReadFile(path) }

package main

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

// TestExecute checks the answer's values and its shape: integrationd's
// member order, backquoted system variable names included.
func TestExecute(t *testing.T) {
	body := `{"triggerId":"api_trigger/bench","inputParameters":{` +
		`"order":{"jsonValue":"{\"id\":\"o-1\",\"customer\":{\"name\":\"Ada\"},\"qty\":3,\"items\":[1,2],\"tags\":[\"a\",\"b\"]}"},` +
		`"channel":{"stringValue":"web"},"bonus":{"intValue":"2"}}}`
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/projects/{project}/locations/{location}/integrations/{target}", execute)
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/v1/projects/bench/locations/us-central1/integrations/bench:execute", strings.NewReader(body)))
	if rec.Code != http.StatusOK {
		t.Fatalf("HTTP %d: %s", rec.Code, rec.Body)
	}
	got := regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`).ReplaceAllString(rec.Body.String(), "ID")
	want := `{"executionId":"ID","outputParameters":{"customer":"ADA","label":"o-1/web","quantity":5,"lines":2,"tags":"[\n  \"a\",\n  \"b\"\n]",` +
		"\"`ExecutionMode`\":\"SYNC\",\"`ErrorInfo`\":{\"message\":\"\",\"code\":0},\"`ExecutionId`\":\"ID\",\"`IntegrationName`\":\"bench\",\"`Region`\":\"us-central1\",\"`ProjectId`\":\"bench\"}," +
		`"eventParameters":{"parameters":[{"key":"customer","value":{"stringValue":"ADA"}},{"key":"label","value":{"stringValue":"o-1/web"}},` +
		`{"key":"quantity","value":{"intValue":"5"}},{"key":"lines","value":{"intValue":"2"}},{"key":"tags","value":{"stringValue":"[\n  \"a\",\n  \"b\"\n]"}},` +
		"{\"key\":\"`ExecutionMode`\",\"value\":{\"stringValue\":\"SYNC\"}},{\"key\":\"`ErrorInfo`\",\"value\":{\"jsonValue\":\"{\\\"message\\\":\\\"\\\",\\\"code\\\":0}\"}}," +
		"{\"key\":\"`ExecutionId`\",\"value\":{\"stringValue\":\"ID\"}},{\"key\":\"`IntegrationName`\",\"value\":{\"stringValue\":\"bench\"}}," +
		"{\"key\":\"`Region`\",\"value\":{\"stringValue\":\"us-central1\"}},{\"key\":\"`ProjectId`\",\"value\":{\"stringValue\":\"bench\"}}]}}"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

package api_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/integrationd/integrationd/internal/api"
	"github.com/integrationd/integrationd/internal/service"
	"github.com/integrationd/integrationd/internal/store/sqlite"
	"github.com/integrationd/integrationd/internal/tasks"
)

// FuzzRequests sends arbitrary bodies to :execute and to versions.create
// and checks that every answer is a well-formed response: never a panic
// (which the server would turn into "internal error"), never a non-JSON
// body, never a 5xx other than a task's own failure.
func FuzzRequests(f *testing.F) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(f.TempDir(), "fuzz.db"), slog.New(slog.DiscardHandler))
	if err != nil {
		f.Fatal(err)
	}
	svc := service.New(st, tasks.Default(), service.Config{})
	h := api.New(svc, api.Config{})
	f.Cleanup(func() { _ = svc.Close(ctx); _ = st.Close() })
	pick := string(readFileF(f, "testdata/pick.json"))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/v1/projects/p/locations/l/integrations/pick/versions", strings.NewReader(pick)))
	var v struct{ Name string }
	_ = json.Unmarshal(rec.Body.Bytes(), &v)
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/v1/"+v.Name+":publish", strings.NewReader("{}")))

	for _, seed := range []string{
		`{"triggerId":"api_trigger/pick"}`,
		`{"triggerId":"api_trigger/pick","inputParameters":{"index":{"intValue":"1"},"letters":{"stringArray":{"stringValues":["a"]}}}}`,
		`{"trigger_id":"api_trigger/pick","parameterEntries":[{"key":"index","value":{"jsonValue":"{'a':1}"}}]}`,
		`{"triggerId":"api_trigger/pick","requestId":"r","doNotPropagateError":"true","inputParameters":{"index":{"doubleValue":"NaN"}}}`,
		pick, `{"taskConfigs":[{"taskId":"1","nextTasks":[{"taskId":"1"}]}]}`, `[]`, `{`, `null`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) {
		for _, path := range []string{"/v1/projects/p/locations/l/integrations/pick:execute", "/v1/projects/p/locations/l/integrations/fz/versions"} {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("POST", path, strings.NewReader(body)))
			var m map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
				t.Fatalf("POST %s %q: body is not JSON: %q", path, body, rec.Body.String())
			}
			if rec.Code >= 500 && rec.Code != http.StatusInternalServerError {
				t.Fatalf("POST %s %q: status %d: %s", path, body, rec.Code, rec.Body.String())
			}
			if e, _ := m["error"].(map[string]any); e != nil && e["message"] == "internal error" {
				t.Fatalf("POST %s %q: the handler panicked", path, body)
			}
		}
	})
}

func readFileF(f *testing.F, path string) []byte {
	b, err := readFileErr(path)
	if err != nil {
		f.Fatal(err)
	}
	return b
}

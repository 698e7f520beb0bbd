package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/integrationd/integrationd/internal/api"
	"github.com/integrationd/integrationd/internal/service"
	"github.com/integrationd/integrationd/internal/store/sqlite"
	"github.com/integrationd/integrationd/internal/tasks"
)

// Benchmarks of the composing tasks, in process over a fresh SQLite file
// with execution persistence on (every sub-execution is recorded):
//
//	go test -run '^$' -bench 'ForEachParallel|RESTIntegration|RESTRawClient' -benchmem ./bench
//
// BenchmarkForEachParallel10k: one op is one execution of an integration
// whose For Each Parallel task fans 10,000 elements out to a trivial
// sub-integration (no tasks; its IN_OUT variable comes back), 50 at a time,
// and collects the 10,000 results in input order (target: under 2 s on 2
// cores). BenchmarkRESTIntegration: executions of an integration with one
// Call REST Endpoint task against a local HTTP server, on every core;
// BenchmarkRESTRawClient is the same GET with a bare net/http client.

// apiCaller serves the API in process and calls it without sockets.
type apiCaller func(method, path string, body []byte) *httptest.ResponseRecorder

func newAPI(tb testing.TB) apiCaller {
	tb.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(tb.TempDir(), "b.db"), slog.New(slog.DiscardHandler))
	if err != nil {
		tb.Fatal(err)
	}
	svc := service.New(st, tasks.Default(), service.Config{})
	h := api.New(svc, api.Config{})
	tb.Cleanup(func() { _ = svc.Close(ctx); _ = st.Close() })
	return func(method, path string, body []byte) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(method, path, bytes.NewReader(body)))
		return rec
	}
}

const benchLoc = "/v1/projects/bench/locations/l/integrations/"

// publish creates and publishes a version of integration.
func (call apiCaller) publish(tb testing.TB, integration string, content []byte) {
	tb.Helper()
	rec := call(http.MethodPost, benchLoc+integration+"/versions", content)
	name := between(rec.Body.String(), `"name":"`, `"`)
	if rec.Code != http.StatusOK || name == "" {
		tb.Fatalf("create %s: %d %s", integration, rec.Code, rec.Body)
	}
	if rec := call(http.MethodPost, "/v1/"+name+":publish", []byte("{}")); rec.Code != http.StatusOK {
		tb.Fatalf("publish %s: %d %s", integration, rec.Code, rec.Body)
	}
}

func BenchmarkForEachParallel10k(b *testing.B) {
	const n = 10_000
	call := newAPI(b)
	call.publish(b, "echo", []byte(`{"triggerConfigs":[{"triggerId":"api_trigger/echo","triggerType":"API"}],
		"integrationParameters":[{"key":"n","dataType":"INT_VALUE","inputOutputType":"IN_OUT"}]}`))
	pm := `{\"entries\":[{\"key\":{\"literalValue\":{\"stringValue\":\"n\"}},\"value\":{\"literalValue\":{\"stringValue\":\"results\"}}}]}`
	call.publish(b, "fan", []byte(`{"triggerConfigs":[{"triggerId":"api_trigger/fan","triggerType":"API","startTasks":[{"taskId":"1"}]}],
		"taskConfigs":[{"taskId":"1","task":"SubWorkflowScatterGatherTask","parameters":{
			"triggerId":{"key":"triggerId","value":{"stringValue":"api_trigger/echo"}},
			"workflowName":{"key":"workflowName","value":{"stringValue":"echo"}},
			"listToScatter":{"key":"listToScatter","value":{"stringValue":"$ints$"}},
			"subworkflowInput":{"key":"subworkflowInput","value":{"stringValue":"n"}},
			"maxParallelScatters":{"key":"maxParallelScatters","value":{"intValue":"50"}},
			"responseAggregatorMap":{"key":"responseAggregatorMap","value":{"jsonValue":"`+pm+`"}}}}],
		"integrationParameters":[{"key":"ints","dataType":"INT_ARRAY","inputOutputType":"IN"},
			{"key":"results","dataType":"INT_ARRAY","inputOutputType":"OUT"}]}`))
	vals := make([]string, n)
	for i := range vals {
		vals[i] = strconv.Quote(strconv.Itoa(i))
	}
	body := []byte(`{"triggerId":"api_trigger/fan","inputParameters":{"ints":{"intArray":{"intValues":[` + strings.Join(vals, ",") + `]}}}}`)
	last := fmt.Sprintf(",%d]", n-1)
	b.ReportAllocs()
	for b.Loop() {
		rec := call(http.MethodPost, benchLoc+"fan:execute", body)
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), last) {
			b.Fatalf("execute: %d %.300s", rec.Code, rec.Body)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "elements/s")
}

// upstream is the local HTTP service of the REST benchmarks.
func upstream(b *testing.B) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":%q,"ok":true}`, r.URL.Query().Get("id"))
	}))
	b.Cleanup(srv.Close)
	return srv
}

func BenchmarkRESTIntegration(b *testing.B) {
	srv := upstream(b)
	call := newAPI(b)
	call.publish(b, "rest", []byte(`{"triggerConfigs":[{"triggerId":"api_trigger/rest","triggerType":"API","startTasks":[{"taskId":"1"}]}],
		"taskConfigs":[{"taskId":"1","task":"GenericRestV2Task","parameters":{
			"url":{"key":"url","value":{"stringValue":"`+srv.URL+`/item?id=$id$"}},
			"httpMethod":{"key":"httpMethod","value":{"stringValue":"GET"}},
			"throwError":{"key":"throwError","value":{"booleanValue":true}},
			"responseBody":{"key":"responseBody","value":{"stringArray":{"stringValues":["$body$"]}}}}}],
		"integrationParameters":[{"key":"id","dataType":"STRING_VALUE","inputOutputType":"IN"},
			{"key":"body","dataType":"STRING_VALUE","inputOutputType":"OUT"}]}`))
	body := []byte(`{"triggerId":"api_trigger/rest","inputParameters":{"id":{"stringValue":"a1"}}}`)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			rec := call(http.MethodPost, benchLoc+"rest:execute", body)
			if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `\"id\":\"a1\"`) {
				b.Errorf("execute: %d %s", rec.Code, rec.Body)
				return
			}
		}
	})
}

func BenchmarkRESTRawClient(b *testing.B) {
	srv := upstream(b)
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		var buf bytes.Buffer
		for pb.Next() {
			resp, err := c.Get(srv.URL + "/item?id=a1")
			if err != nil {
				b.Error(err)
				return
			}
			buf.Reset()
			_, _ = buf.ReadFrom(resp.Body)
			resp.Body.Close()
			if !strings.Contains(buf.String(), `"id":"a1"`) {
				b.Errorf("raw GET: %s", buf.String())
				return
			}
		}
	})
}

package main

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/integrationd/integrationd/internal/api"
	"github.com/integrationd/integrationd/internal/service"
	"github.com/integrationd/integrationd/internal/spec"
	"github.com/integrationd/integrationd/internal/store"
	"github.com/integrationd/integrationd/internal/store/sqlite"
	"github.com/integrationd/integrationd/internal/tasks"
)

// In-process benchmarks of the benchmark integration: the same fixture and
// request as the load benchmark, served by the internal packages over a
// fresh SQLite file with persistence on (the default). They exist to be
// profiled:
//
//	go test -run '^$' -bench '^BenchmarkExecuteHandler$' -benchtime 5s -cpuprofile cpu.pprof ./bench
//	go tool pprof -top bench.test cpu.pprof

type inproc struct {
	svc     *service.Service
	handler http.Handler
}

// newInproc publishes the fixture; persist false sets its
// databasePersistencePolicy to DATABASE_PERSISTENCE_DISABLED, to measure the
// engine without the execution writer.
func newInproc(tb testing.TB, persist bool) *inproc {
	tb.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(tb.TempDir(), "bench.db"), slog.New(slog.DiscardHandler))
	if err != nil {
		tb.Fatal(err)
	}
	svc := service.New(st, tasks.Default(), service.Config{})
	h := api.New(svc, api.Config{})
	tb.Cleanup(func() {
		if err := svc.Close(ctx); err != nil {
			tb.Error(err)
		}
		if err := st.Close(); err != nil {
			tb.Error(err)
		}
	})
	fixture, err := os.ReadFile(filepath.Join("testdata", "five-rows.json"))
	if err != nil {
		tb.Fatal(err)
	}
	if !persist {
		if fixture, err = withoutPersistence(fixture); err != nil {
			tb.Fatal(err)
		}
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	if err := publishFixture(ctx, srv.URL, fixture); err != nil {
		tb.Fatal(err)
	}
	if err := checkOnce(ctx, srv.URL); err != nil {
		tb.Fatal(err)
	}
	return &inproc{svc: svc, handler: h}
}

// TestFixture publishes the fixture, checks one execution, and checks that
// integrationd's answer takes verify's fast path.
func TestFixture(t *testing.T) {
	p := newInproc(t, true)
	req := httptest.NewRequest(http.MethodPost, executePath, bytes.NewReader(requestBody))
	rec := httptest.NewRecorder()
	p.handler.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("HTTP %d: %s", rec.Code, rec.Body)
	}
	if err := verify(rec.Body.Bytes()); err != nil {
		t.Fatal(err)
	}
	if !fastVerify(rec.Body.Bytes()) {
		t.Errorf("the answer does not match the compact fragments %q: %s", wantFragments, rec.Body)
	}
}

// BenchmarkExecuteHandler calls the API handler directly (no sockets): request
// decoding, the service, the engine, the Data Mapping task, response
// encoding, and the execution writer in the background.
func BenchmarkExecuteHandler(b *testing.B) { benchHandler(b, true) }

// BenchmarkExecuteHandlerNoPersistence is BenchmarkExecuteHandler with the
// integration's execution persistence disabled: the engine and the API
// without the execution writer and SQLite.
func BenchmarkExecuteHandlerNoPersistence(b *testing.B) { benchHandler(b, false) }

func benchHandler(b *testing.B, persist bool) {
	p := newInproc(b, persist)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest(http.MethodPost, executePath, bytes.NewReader(requestBody))
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			p.handler.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Fatalf("HTTP %d: %s", rec.Code, rec.Body)
			}
			if err := verify(rec.Body.Bytes()); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkExecuteService calls service.Execute with decoded inputs: no
// HTTP, no JSON request decoding, no response encoding.
func BenchmarkExecuteService(b *testing.B) {
	p := newInproc(b, true)
	var body struct {
		TriggerID       string                     `json:"triggerId"`
		InputParameters map[string]*spec.ValueType `json:"inputParameters"`
	}
	if err := spec.Unmarshal(requestBody, &body); err != nil {
		b.Fatal(err)
	}
	req := &service.ExecuteRequest{Key: store.IntegrationKey{Project: project, Location: location, Name: integration}, TriggerID: body.TriggerID, Inputs: body.InputParameters}
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := p.svc.Execute(ctx, req)
			if err != nil {
				b.Fatal(err)
			}
			if resp.ExecutionID == "" {
				b.Fatal("no execution ID")
			}
		}
	})
}

// BenchmarkExecuteHTTP goes through a loopback socket (httptest server and
// a keep-alive client in the same process).
func BenchmarkExecuteHTTP(b *testing.B) {
	p := newInproc(b, true)
	srv := httptest.NewServer(p.handler)
	defer srv.Close()
	c := newClient(64, 0)
	defer c.CloseIdleConnections()
	url := srv.URL + executePath
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		w := &worker{}
		for pb.Next() {
			if err := w.do(context.Background(), c, url); err != nil {
				b.Fatal(err)
			}
		}
	})
}

package sqlite

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/integrationd/integrationd/internal/store"
	"github.com/integrationd/integrationd/internal/store/storetest"
)

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func openTemp(t testing.TB) *Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "integrationd.db"), testLogger(t))
	if err != nil {
		t.Fatalf("Open: got error %v, want nil", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: got error %v, want nil", err)
		}
	})
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openTemp(t) })
}

func schemaVersion(t *testing.T, s *Store) int {
	t.Helper()
	var v int
	if err := s.r.QueryRowContext(t.Context(), "PRAGMA user_version").Scan(&v); err != nil {
		t.Fatalf("PRAGMA user_version: got error %v, want nil", err)
	}
	return v
}

func TestReopen(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "integrationd.db")
	key := store.IntegrationKey{Project: "p", Location: "l", Name: "i"}
	created := time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC)

	s, err := Open(ctx, path, testLogger(t))
	if err != nil {
		t.Fatalf("Open: got error %v, want nil", err)
	}
	v := &store.Version{Key: key, ID: "v1", State: store.StateDraft, Content: []byte(`{}`), CreateTime: created, UpdateTime: created}
	if err := s.CreateVersion(ctx, v); err != nil {
		t.Fatalf("CreateVersion: got error %v, want nil", err)
	}
	if err := s.PublishVersion(ctx, key, "v1", []byte(`{"a":1}`)); err != nil {
		t.Fatalf("PublishVersion: got error %v, want nil", err)
	}
	e := &store.Execution{Key: key, ID: "e1", RequestID: "r1", State: "SUCCEEDED",
		Params: map[string]string{"k": "v"}, CreateTime: created, UpdateTime: created}
	if err := s.PutExecutions(ctx, []*store.Execution{e}); err != nil {
		t.Fatalf("PutExecutions: got error %v, want nil", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: got error %v, want nil", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: got error %v, want nil", err)
	}
	// Close checkpointed the log into the database file.
	if fi, err := os.Stat(path + "-wal"); err == nil && fi.Size() != 0 {
		t.Errorf("after Close: %s-wal has %d bytes, want 0 or no file", path, fi.Size())
	}

	for i := range 2 {
		s, err := Open(ctx, path, testLogger(t))
		if err != nil {
			t.Fatalf("reopen %d: got error %v, want nil", i+1, err)
		}
		if got, want := schemaVersion(t, s), len(migrations); got != want {
			t.Errorf("reopen %d: schema version: got %d, want %d", i+1, got, want)
		}
		got, err := s.GetVersion(ctx, key, "v1")
		if err != nil {
			t.Fatalf("reopen %d: GetVersion: got error %v, want nil", i+1, err)
		}
		if got.State != store.StateActive || string(got.ConfigParameters) != `{"a":1}` || !got.CreateTime.Equal(created) {
			t.Errorf("reopen %d: GetVersion: got %+v, want ACTIVE, config {\"a\":1}, created %v", i+1, got, created)
		}
		ge, err := s.FindExecutionByRequestID(ctx, key, "r1")
		if err != nil {
			t.Fatalf("reopen %d: FindExecutionByRequestID: got error %v, want nil", i+1, err)
		}
		if ge.ID != "e1" || ge.Params["k"] != "v" || !ge.CreateTime.Equal(created) {
			t.Errorf("reopen %d: FindExecutionByRequestID: got %+v, want e1", i+1, ge)
		}
		page, _, err := s.ListExecutions(ctx, store.ExecutionQuery{Key: key, ParamKey: "k", ParamValue: "v"})
		if err != nil || len(page) != 1 {
			t.Errorf("reopen %d: ListExecutions(k=v): got %d executions, error %v, want 1, nil", i+1, len(page), err)
		}
		// The snapshot counter survives too.
		v2 := &store.Version{Key: key, ID: fmt.Sprintf("v%d", i+2)}
		if err := s.CreateVersion(ctx, v2); err != nil {
			t.Fatalf("reopen %d: CreateVersion: got error %v, want nil", i+1, err)
		}
		if v2.SnapshotNumber != int64(i+2) {
			t.Errorf("reopen %d: SnapshotNumber: got %d, want %d", i+1, v2.SnapshotNumber, i+2)
		}
		if err := s.Close(); err != nil {
			t.Fatalf("reopen %d: Close: got error %v, want nil", i+1, err)
		}
	}
}

func TestOpenNewerSchema(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "integrationd.db")
	s, err := Open(ctx, path, testLogger(t))
	if err != nil {
		t.Fatalf("Open: got error %v, want nil", err)
	}
	if _, err := s.w.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", len(migrations)+1)); err != nil {
		t.Fatalf("PRAGMA user_version: got error %v, want nil", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: got error %v, want nil", err)
	}
	if s, err := Open(ctx, path, testLogger(t)); err == nil {
		s.Close()
		t.Errorf("Open of a newer schema: got nil error, want one")
	}
}

func TestOpenInvalidPath(t *testing.T) {
	for _, path := range []string{"", ":memory:", "file:x.db?mode=memory"} {
		if s, err := Open(t.Context(), path, nil); !errors.Is(err, store.ErrInvalidArgument) {
			if s != nil {
				s.Close()
			}
			t.Errorf("Open(%q): got error %v, want %v", path, err, store.ErrInvalidArgument)
		}
	}
}

func BenchmarkPutExecutions(b *testing.B) {
	const batchSize = 64
	s := openTemp(b)
	ctx := b.Context()
	key := store.IntegrationKey{Project: "p", Location: "us-central1", Name: "bench"}
	now := time.Now()
	request := []byte(`{"triggerId":"api_trigger/bench","inputParameters":{"order":{"intValue":"42"}}}`)
	response := []byte(`{"outputParameters":{"status":"ok"}}`)
	details := []byte(`{"state":"SUCCEEDED","attemptStats":[{"startTime":"2025-01-01T00:00:00Z"}]}`)
	batch := make([]*store.Execution, batchSize)
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		for i := range batch {
			n++
			t := now.Add(time.Duration(n) * time.Microsecond)
			batch[i] = &store.Execution{
				Key: key, ID: fmt.Sprintf("e-%09d", n), VersionID: "v1", TriggerID: "api_trigger/bench",
				RequestID: fmt.Sprintf("r-%09d", n), State: "SUCCEEDED", ExecutionMethod: "POST",
				Params:  map[string]string{"order": "42", "customer": "acme"},
				Request: request, Response: response, Details: details,
				CreateTime: t, UpdateTime: t,
			}
		}
		if err := s.PutExecutions(ctx, batch); err != nil {
			b.Fatalf("PutExecutions: got error %v, want nil", err)
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "executions/s")
}

func TestOpenPathNeedingEscapes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a b?c%20d#e&f=g")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatalf("Mkdir: got error %v, want nil", err)
	}
	path := filepath.Join(dir, "store.db")
	s, err := Open(t.Context(), path, testLogger(t))
	if err != nil {
		t.Fatalf("Open(%q): got error %v, want nil", path, err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: got error %v, want nil", err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("Stat(%q): got error %v, want the database file", path, err)
	}
}

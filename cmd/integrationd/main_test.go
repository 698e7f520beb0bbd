package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/integrationd/integrationd/internal/store"
	"github.com/integrationd/integrationd/internal/store/sqlite"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestServeAndShutdown runs the serve command on a loopback port, executes
// an integration, stops the server as SIGTERM would, and checks that the
// execution record reached the database before it closed.
func TestServeAndShutdown(t *testing.T) {
	db := filepath.Join(t.TempDir(), "x.db")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	logs := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--db", db}, io.Discard, logs) }()

	addrRE := regexp.MustCompile(`integrationd serving.*addr=(127\.0\.0\.1:\d+)`)
	var base string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := addrRE.FindStringSubmatch(logs.String()); m != nil {
			base = "http://" + m[1] + "/v1/projects/p/locations/l/integrations/orders"
			break
		}
	}
	if base == "" {
		t.Fatalf("server did not start: %s", logs.String())
	}
	if !strings.Contains(logs.String(), "authentication off") {
		t.Errorf("startup log does not say that authentication is off: %s", logs.String())
	}
	content, err := os.ReadFile("../../testdata/order-total.json")
	if err != nil {
		t.Fatal(err)
	}
	post := func(url, body string) string {
		resp, err := http.Post(url, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("POST %s: %d %s", url, resp.StatusCode, b)
		}
		return string(b)
	}
	v := post(base+"/versions", string(content))
	name := regexp.MustCompile(`"name":"([^"]+)"`).FindStringSubmatch(v)[1]
	post(strings.SplitN(base, "/v1/", 2)[0]+"/v1/"+name+":publish", "{}")
	out := post(base+":execute", `{"triggerId":"api_trigger/order_total"}`)
	id := regexp.MustCompile(`"executionId":"([^"]+)"`).FindStringSubmatch(out)[1]

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
	st, err := sqlite.Open(context.Background(), db, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	e, err := st.GetExecution(context.Background(), store.IntegrationKey{Project: "p", Location: "l", Name: "orders"}, id)
	if err != nil || e.State != "SUCCEEDED" {
		t.Fatalf("execution after shutdown: %v %+v", err, e)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{{}, {"bogus"}, {"serve", "--db", "postgres://x"}, {"serve", "--log-level", "loud"}, {"validate"},
		{"serve", "--rest-deny-cidrs", "10.0.0.0/99"}, {"serve", "--rest-allow-cidrs", "example.com"},
		{"serve", "--secrets-key-file", filepath.Join(t.TempDir(), "missing")}} {
		if err := run(context.Background(), args, io.Discard, io.Discard); err == nil {
			t.Errorf("run(%q) succeeded, want an error", args)
		}
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"validate", "../../testdata/order-total.json"}, &out, io.Discard); err != nil || !strings.Contains(out.String(), "ok") {
		t.Errorf("validate: %v %s", err, out.String())
	}
}

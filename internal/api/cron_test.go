package api_test

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/integrationd/integrationd/internal/api"
	"github.com/integrationd/integrationd/internal/service"
	"github.com/integrationd/integrationd/internal/store/sqlite"
	"github.com/integrationd/integrationd/internal/tasks"
)

// fakeClock is an injectable clock that tests move by hand.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock(t time.Time) *fakeClock {
	c := &fakeClock{}
	c.ns.Store(t.UnixNano())
	return c
}

func (c *fakeClock) Now() time.Time      { return time.Unix(0, c.ns.Load()).UTC() }
func (c *fakeClock) Add(d time.Duration) { c.ns.Add(int64(d)) }
func (c *fakeClock) Set(t time.Time)     { c.ns.Store(t.UnixNano()) }
func (c *fakeClock) config() service.Config {
	return service.Config{Now: c.Now, PollInterval: 10 * time.Millisecond, AsyncRetries: -1}
}

// process is one integrationd process over a database file shared with
// others: its own store connections, service (queue, cron loop) and API.
type process struct {
	*env
	stop func()
}

func startProcess(t *testing.T, db string, cfg service.Config) *process {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, db, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	svc := service.New(st, tasks.Default(), cfg)
	srv := httptest.NewServer(api.New(svc, api.Config{}))
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		srv.Close()
		if err := svc.Close(ctx); err != nil {
			t.Error(err)
		}
		if err := st.Close(); err != nil {
			t.Error(err)
		}
	}
	t.Cleanup(stop)
	return &process{env: &env{url: srv.URL, svc: svc}, stop: stop}
}

// countExecutions counts the executions of an integration by state.
func countExecutions(t *testing.T, e *env, integration string) map[string]int {
	t.Helper()
	code, m := e.do(t, "GET", "/v1/"+parent+"/integrations/"+integration+"/executions?pageSize=1000", nil)
	if code != 200 {
		t.Fatalf("list executions: %d %v", code, m)
	}
	n := map[string]int{}
	list, _ := m["executions"].([]any)
	for _, x := range list {
		n[x.(map[string]any)["executionDetails"].(map[string]any)["state"].(string)]++
		n["all"]++
	}
	return n
}

// waitCount waits until integration has want executions, all SUCCEEDED,
// then checks that no more arrive for a while.
func waitCount(t *testing.T, e *env, integration string, want int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		n := countExecutions(t, e, integration)
		if n["SUCCEEDED"] == want && n["all"] == want {
			break
		}
		if n["all"] > want || time.Now().After(deadline) {
			t.Fatalf("executions of %s = %v, want %d SUCCEEDED", integration, n, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(150 * time.Millisecond) // many poll intervals: nothing more may come
	if n := countExecutions(t, e, integration); n["all"] != want {
		t.Fatalf("executions of %s = %v after settling, want %d", integration, n, want)
	}
}

const cronVersion = `{"triggerConfigs":[
 {"label":"Schedule Trigger","triggerType":"CRON","triggerNumber":"1","triggerId":"cron_trigger/tick_Timer_1/*/20+*+*+*+*",
  "properties":{"Timer Name":"tick_Timer_1","Scheduled Time spec":"*/20 * * * *"},"startTasks":[{"taskId":"1"}]},
 {"triggerType":"CLOUD_SCHEDULER","triggerNumber":"2","triggerId":"cloud_scheduler/hourly",
  "cloudSchedulerConfig":{"cronTab":"0 * * * *","location":"us-central1"},"startTasks":[{"taskId":"1"}]}],
 "taskConfigs":[{"taskId":"1","task":"JavaScriptTask","parameters":{"script":{"key":"script","value":{"stringValue":
  "function executeScript(event) { event.setParameter(\"mode\", event.getParameter(\"` + "`ExecutionMode`" + `\")); }"}}}}],
 "integrationParameters":[{"key":"mode","dataType":"STRING_VALUE","inputOutputType":"OUT"}]}`

// TestCronTriggers drives cron triggers with an injectable clock: the
// every-20-minutes CRON tick and the hourly Cloud Scheduler tick fire once,
// with two processes sharing the database, across a restart, and never
// for an unpublished version.
func TestCronTriggers(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "shared.db")
	clock := newFakeClock(time.Date(2030, 1, 1, 0, 0, 30, 0, time.UTC))
	a := startProcess(t, db, clock.config())
	b := startProcess(t, db, clock.config())
	name := a.publish(t, "tick", []byte(cronVersion))
	waitCount(t, a.env, "tick", 0) // published at 00:00:30: nothing is due yet

	clock.Set(time.Date(2030, 1, 1, 0, 45, 0, 0, time.UTC)) // ticks at 00:20 and 00:40
	waitCount(t, a.env, "tick", 2)
	ex := countExecutions(t, b.env, "tick") // the other process sees the same
	if ex["all"] != 2 {
		t.Errorf("process b sees %v", ex)
	}
	_, list := a.do(t, "GET", "/v1/"+parent+"/integrations/tick/executions?pageSize=1", nil)
	first := list["executions"].([]any)[0].(map[string]any)
	if first["triggerId"] != "cron_trigger/tick_Timer_1/*/20+*+*+*+*" || first["executionMethod"] != "SCHEDULE" {
		t.Errorf("cron execution = %v", first)
	}

	// Both processes stop; one restarts: nothing fires twice.
	a.stop()
	b.stop()
	c := startProcess(t, db, clock.config())
	waitCount(t, c.env, "tick", 2)
	clock.Set(time.Date(2030, 1, 1, 1, 0, 10, 0, time.UTC)) // 01:00: both triggers
	waitCount(t, c.env, "tick", 4)

	// Unpublished: no more ticks.
	if code, m := c.do(t, "POST", "/v1/"+name+":unpublish", "{}"); code != 200 {
		t.Fatalf("unpublish: %d %v", code, m)
	}
	clock.Add(2 * time.Hour)
	waitCount(t, c.env, "tick", 4)
}

// TestPublishSeenByOtherProcesses: a version published by one process is
// what another process sharing the database runs, within the cache's TTL.
func TestPublishSeenByOtherProcesses(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "shared.db")
	cfg := quickQueue
	cfg.ActiveTTL = 50 * time.Millisecond
	a := startProcess(t, db, cfg)
	b := startProcess(t, db, cfg)
	says := func(word string) []byte {
		return version([]string{"api_trigger/p"}, []map[string]any{task("1", "JavaScriptTask", nil, "script",
			sval(`function executeScript(event) { event.setParameter("word", "`+word+`"); }`))}, variable("word", "STRING_VALUE", "OUT"))
	}
	a.publish(t, "w", says("one"))
	if code, m := b.execute(t, "w", `{"triggerId":"api_trigger/p"}`); code != 200 || outputs(m)["word"] != "one" {
		t.Fatalf("b runs: %d %v", code, m)
	}
	a.publish(t, "w", says("two"))
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		_, m := b.execute(t, "w", `{"triggerId":"api_trigger/p"}`)
		if outputs(m)["word"] == "two" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("b still runs the old version: %v", m)
		}
	}
}

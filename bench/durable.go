package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The durable-work benchmark: on a fresh integrationd process of its own,
// (1) 10,000 synchronous executions each stop at a Suspend task, and the
// process's RSS is read with all of them suspended; (2) 10,000 executions
// of a one-task integration are scheduled for the same instant a few
// seconds ahead, and the time one process takes to drain them is measured.

const (
	suspendFixture = `{"triggerConfigs":[{"triggerId":"api_trigger/s","triggerType":"API","startTasks":[{"taskId":"1"}]}],
	 "taskConfigs":[{"taskId":"1","task":"SuspendTask","parameters":{}}],
	 "integrationParameters":[{"key":"order","dataType":"STRING_VALUE","inputOutputType":"IN"}]}`
	drainFixture = `{"triggerConfigs":[{"triggerId":"api_trigger/d","triggerType":"API","startTasks":[{"taskId":"1"}]}],
	 "taskConfigs":[{"taskId":"1","task":"FieldMappingTask","parameters":{"FieldMappingConfigTaskParameterKey":{"key":"FieldMappingConfigTaskParameterKey","value":{"jsonValue":
	  "{\"mappedFields\":[{\"inputField\":{\"fieldType\":\"STRING_VALUE\",\"transformExpression\":{\"initialValue\":{\"referenceValue\":\"$n$\"},\"transformationFunctions\":[{\"functionType\":{\"stringFunction\":{\"functionName\":\"TO_UPPERCASE\"}}}]}},\"outputField\":{\"referenceKey\":\"$out$\",\"fieldType\":\"STRING_VALUE\"}}]}"}}}}],
	 "integrationParameters":[{"key":"n","dataType":"STRING_VALUE","inputOutputType":"IN"},{"key":"out","dataType":"STRING_VALUE","inputOutputType":"OUT"}]}`
)

type durableResult struct {
	Suspended     int
	SuspendRate   float64 // suspending executions per second
	RSSSuspended  int64   // KiB, VmRSS with every execution suspended
	PeakSuspended int64   // KiB, VmHWM over the suspend phase
	Scheduled     int
	ScheduleRate  float64 // :schedule calls per second
	Drain         time.Duration
	DrainRate     float64 // executions per second, from the due time to the last one done
	PeakDrain     int64   // KiB, VmHWM over the drain phase
	Workers       int
}

// runDurable runs the durable-work benchmark with n executions per phase.
func runDurable(ctx context.Context, bin, tmp string, n, conc int) (*durableResult, error) {
	db := filepath.Join(tmp, "durable.db")
	const workers = 16
	s, err := startServer(ctx, "integrationd-durable", bin,
		[]string{"serve", "--addr", "{addr}", "--db", db, "--workers", strconv.Itoa(workers), "--poll-interval", "100ms", "--log-level", "warn"},
		filepath.Join(tmp, "integrationd-durable.log"), "/v1/projects/"+project+"/locations/"+location+"/integrations")
	if err != nil {
		return nil, err
	}
	defer s.stop()
	for name, f := range map[string]string{"suspend": suspendFixture, "drain": drainFixture} {
		if err := publishAs(ctx, s.base, name, []byte(f)); err != nil {
			return nil, fmt.Errorf("publishing %s: %w", name, err)
		}
	}
	loc := s.base + "/v1/projects/" + project + "/locations/" + location + "/integrations/"
	c := newClient(conc, 30*time.Second)
	res := &durableResult{Suspended: n, Scheduled: n, Workers: workers}

	// Phase 1: n executions suspended.
	s.resetPeakRSS()
	start := time.Now()
	err = fanOut(ctx, n, conc, func(i int) error {
		body := fmt.Sprintf(`{"triggerId":"api_trigger/s","inputParameters":{"order":{"stringValue":"order-%d"}}}`, i)
		b, err := post(ctx, c, loc+"suspend:execute", body)
		if err != nil {
			return err
		}
		if !bytes.Contains(b, []byte(`"executionId"`)) {
			return fmt.Errorf("execute: %s", b)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("suspending: %w", err)
	}
	res.SuspendRate = float64(n) / time.Since(start).Seconds()
	if got := countState(ctx, c, loc+"suspend/executions", "SUSPENDED"); got != n {
		return nil, fmt.Errorf("%d executions SUSPENDED, want %d", got, n)
	}
	time.Sleep(time.Second)
	res.RSSSuspended, res.PeakSuspended = s.rss(), s.peakRSS()

	// Phase 2: n executions due at the same instant, drained by the queue.
	s.resetPeakRSS()
	due := time.Now().Add(time.Duration(n/2000+3) * time.Second)
	start = time.Now()
	err = fanOut(ctx, n, conc, func(i int) error {
		body := fmt.Sprintf(`{"triggerId":"api_trigger/d","scheduleTime":%q,"inputParameters":{"n":{"stringValue":"x%d"}}}`, due.UTC().Format(time.RFC3339Nano), i)
		b, err := post(ctx, c, loc+"drain:schedule", body)
		if err != nil {
			return err
		}
		if !bytes.Contains(b, []byte(`"executionInfoIds"`)) {
			return fmt.Errorf("schedule: %s", b)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("scheduling: %w", err)
	}
	res.ScheduleRate = float64(n) / time.Since(start).Seconds()
	if time.Now().After(due) {
		return nil, fmt.Errorf("scheduling %d executions took past their due time; run with fewer", n)
	}
	for {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		left := countState(ctx, c, loc+"drain/executions", "PENDING") + countState(ctx, c, loc+"drain/executions", "PROCESSING")
		if left == 0 && time.Now().After(due) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	res.Drain = time.Since(due)
	res.DrainRate = float64(n) / res.Drain.Seconds()
	res.PeakDrain = s.peakRSS()
	if got := countState(ctx, c, loc+"drain/executions", "SUCCEEDED"); got != n {
		return nil, fmt.Errorf("%d drained executions SUCCEEDED, want %d", got, n)
	}
	return res, nil
}

// fanOut calls f(0..n-1) from conc goroutines and returns the first error.
func fanOut(ctx context.Context, n, conc int, f func(int) error) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := f(i); err != nil {
					once.Do(func() { first = err })
					return
				}
			}
		}()
	}
	wg.Wait()
	if first == nil {
		first = ctx.Err()
	}
	return first
}

func post(ctx context.Context, c *http.Client, u, body string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("POST %s: HTTP %d: %s", u, resp.StatusCode, b)
	}
	return b, err
}

// countState counts the executions in state by paging through the list.
func countState(ctx context.Context, c *http.Client, u, state string) int {
	n, token := 0, ""
	for {
		q := url.Values{"pageSize": {"1000"}, "filter": {`event_execution_state="` + state + `"`}, "pageToken": {token}}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u+"?"+q.Encode(), nil)
		if err != nil {
			return -1
		}
		resp, err := c.Do(req)
		if err != nil {
			return -1
		}
		var page struct {
			Executions    []json.RawMessage `json:"executions"`
			NextPageToken string            `json:"nextPageToken"`
		}
		err = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if err != nil {
			return -1
		}
		n += len(page.Executions)
		if page.NextPageToken == "" {
			return n
		}
		token = page.NextPageToken
	}
}

// rss reads VmRSS (KiB) from /proc/pid/status.
func (s *server) rss() int64 {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(s.pid()), "status"))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			if f := strings.Fields(rest); len(f) > 0 {
				v, _ := strconv.ParseInt(f[0], 10, 64)
				return v
			}
		}
	}
	return 0
}

// markdown reports the durable-work benchmark.
func (d *durableResult) markdown() string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("## Durable work: suspended and scheduled executions\n\n")
	w("A separate integrationd process (same binary, fresh SQLite file, `--workers %d`) serves two integrations. ", d.Workers)
	w("**Suspended:** %d synchronous `:execute` calls of an integration whose one task is a Suspend task, from 16 connections; each answers 200 with the execution SUSPENDED and its state (checkpoint, suspension row) saved. ", d.Suspended)
	w("**Drained:** %d `:schedule` calls of a one-task Data Mapping integration, all due at the same instant a few seconds ahead; the drain time runs from that instant until no execution is PENDING or PROCESSING (polled every 20 ms), all of them SUCCEEDED.\n\n", d.Scheduled)
	w("| measure | value |\n|---|---|\n")
	w("| executions suspended | %d (%.0f/s) |\n", d.Suspended, d.SuspendRate)
	w("| **RSS with %d executions suspended** (VmRSS, target < 100 MB) | **%s MiB** (%s) |\n", d.Suspended, mib(d.RSSSuspended), metOrMissed(d.RSSSuspended > 0 && d.RSSSuspended < 100_000))
	w("| peak RSS while suspending them (VmHWM) | %s MiB |\n", mib(d.PeakSuspended))
	w("| `:schedule` calls | %d (%.0f/s) |\n", d.Scheduled, d.ScheduleRate)
	w("| **scheduled executions drained by one process** | **%.0f/s** (%d in %s) |\n", d.DrainRate, d.Scheduled, d.Drain.Round(time.Millisecond))
	w("| peak RSS while draining (VmHWM) | %s MiB |\n\n", mib(d.PeakDrain))
	w("A suspended execution keeps nothing in integrationd's memory: its state lives in the database until a lift or an expiry resumes it, on whichever process claims the resume job. The RSS above, read a second after the last suspension, is the Go heap left from serving the requests (`GOGC` 200) and SQLite's page caches (a `-quick` run, 1,000 suspended, reads about 58 MiB). A drained execution is one job claimed with a lease, one run, and one commit holding its final record and the job's deletion (batched by the execution writer).\n\n")
	return b.String()
}

package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"
)

// result is one measured run against one target.
type result struct {
	Target      string
	Concurrency int     // workers (connections)
	Rate        float64 // paced runs: the offered arrival rate; 0: closed loop
	OK          int
	Errors      int
	ErrSamples  []string
	Elapsed     time.Duration
	RPS         float64
	P50, P90    time.Duration
	P99, Max    time.Duration
	PeakRSSKiB  int64         // VmHWM of the server during the run (warm-up included)
	RSSReset    bool          // false: VmHWM is the process's lifetime peak
	CPUPerReq   time.Duration // server CPU (user+system) per successful request
	ServerCPU   float64       // server CPU use during the run, in cores
	ClientCPU   float64       // the benchmark process's (load generator's) CPU use, in cores
	OtherCPU    float64       // every other process's CPU use, in cores (background noise)
	Interrupted bool
}

// newClient is the load generator's client: keep-alives on, enough idle
// connections per host for every worker, no compression, HTTP/1.1, loopback.
func newClient(conns int, timeout time.Duration) *http.Client {
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        conns * 2,
		MaxIdleConnsPerHost: conns * 2,
		MaxConnsPerHost:     0,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
		WriteBufferSize:     16 << 10,
		ReadBufferSize:      16 << 10,
	}
	return &http.Client{Transport: tr, Timeout: timeout}
}

// worker state: a reusable response buffer and the latencies it measured.
type worker struct {
	buf     bytes.Buffer
	lat     []time.Duration
	errs    int
	samples []string
}

// do sends one :execute call and verifies the answer.
func (w *worker) do(ctx context.Context, c *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(requestBody))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	w.buf.Reset()
	_, err = w.buf.ReadFrom(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %d: %s", resp.StatusCode, oneLine(w.buf.String()))
	}
	return verify(w.buf.Bytes())
}

func (w *worker) record(d time.Duration, err error) {
	if err == nil {
		w.lat = append(w.lat, d)
		return
	}
	w.errs++
	if len(w.samples) < 3 {
		w.samples = append(w.samples, oneLine(err.Error()))
	}
}

// closedLoop runs conc workers, each sending its next request as soon as
// the previous one is answered, for d. Latency is send-to-answer.
func closedLoop(ctx context.Context, c *http.Client, url string, conc int, d time.Duration) ([]*worker, time.Duration) {
	ws := make([]*worker, conc)
	start := time.Now()
	end := start.Add(d)
	var wg sync.WaitGroup
	for i := range ws {
		w := &worker{lat: make([]time.Duration, 0, 4096)}
		ws[i] = w
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				t0 := time.Now()
				if !t0.Before(end) {
					return
				}
				err := w.do(ctx, c, url)
				w.record(time.Since(t0), err)
			}
		}()
	}
	wg.Wait()
	return ws, time.Since(start)
}

// paced offers requests at a fixed rate (open loop) for d, served by up to
// conns workers. Latency is measured from each request's scheduled send
// time, so time spent waiting for a free worker counts (no coordinated
// omission).
func paced(ctx context.Context, c *http.Client, url string, conns int, rate float64, d time.Duration) ([]*worker, time.Duration) {
	interval := time.Duration(float64(time.Second) / rate)
	n := int(d / interval)
	sched := make(chan time.Time, n+1)
	ws := make([]*worker, conns)
	start := time.Now()
	var wg sync.WaitGroup
	for i := range ws {
		w := &worker{lat: make([]time.Duration, 0, 1024)}
		ws[i] = w
		wg.Add(1)
		go func() {
			defer wg.Done()
			for at := range sched {
				if ctx.Err() != nil {
					continue // drain
				}
				err := w.do(ctx, c, url)
				w.record(time.Since(at), err)
			}
		}()
	}
	// The schedule is absolute: a late tick is followed by immediate ones
	// until the schedule is caught up.
	for i := 0; i < n && ctx.Err() == nil; i++ {
		at := start.Add(time.Duration(i) * interval)
		if wait := time.Until(at); wait > 0 {
			time.Sleep(wait)
		}
		sched <- at
	}
	close(sched)
	wg.Wait()
	return ws, time.Since(start)
}

// summarize merges the workers' measurements into r.
func summarize(r *result, ws []*worker, elapsed time.Duration) {
	var lat []time.Duration
	for _, w := range ws {
		lat = append(lat, w.lat...)
		r.Errors += w.errs
		for _, s := range w.samples {
			if len(r.ErrSamples) < 5 {
				r.ErrSamples = append(r.ErrSamples, s)
			}
		}
	}
	r.OK = len(lat)
	r.Elapsed = elapsed
	if elapsed > 0 {
		r.RPS = float64(r.OK) / elapsed.Seconds()
	}
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	r.P50, r.P90, r.P99 = percentile(lat, 50), percentile(lat, 90), percentile(lat, 99)
	r.Max = lat[len(lat)-1]
}

// percentile is the nearest-rank percentile of sorted latencies.
func percentile(sorted []time.Duration, p float64) time.Duration {
	rank := int(p/100*float64(len(sorted))+0.999999) - 1
	rank = max(0, min(rank, len(sorted)-1))
	return sorted[rank]
}

// measure runs one level against s: warm-up (discarded), then the measured
// run, with the server's CPU time and peak RSS taken around it. rate > 0
// makes a paced (open-loop) run.
func measure(ctx context.Context, s *server, conc int, rate float64, warmup, d, timeout time.Duration) result {
	c := newClient(conc, timeout)
	defer c.CloseIdleConnections()
	url := s.base + executePath
	run := func(d time.Duration) ([]*worker, time.Duration) {
		if rate > 0 {
			return paced(ctx, c, url, conc, rate, d)
		}
		return closedLoop(ctx, c, url, conc, d)
	}
	r := result{Target: s.name, Concurrency: conc, Rate: rate}
	r.RSSReset = s.resetPeakRSS()
	if warmup > 0 {
		run(warmup)
	}
	cpu0, self0, busy0 := s.cpuTime(), procCPU("/proc/self/stat"), machineBusy()
	ws, elapsed := run(d)
	cpu := s.cpuTime() - cpu0
	self := procCPU("/proc/self/stat") - self0
	busy := machineBusy() - busy0
	r.PeakRSSKiB = s.peakRSS()
	summarize(&r, ws, elapsed)
	if r.OK > 0 {
		r.CPUPerReq = cpu / time.Duration(r.OK)
	}
	if elapsed > 0 {
		r.ServerCPU = cpu.Seconds() / elapsed.Seconds()
		r.ClientCPU = self.Seconds() / elapsed.Seconds()
		r.OtherCPU = max(0, (busy-cpu-self).Seconds()/elapsed.Seconds())
	}
	r.Interrupted = ctx.Err() != nil
	if s.exited() {
		r.Errors++
		r.ErrSamples = append(r.ErrSamples, fmt.Sprintf("%s exited during the run: %v", s.name, s.waitErr))
	}
	return r
}

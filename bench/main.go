// Command bench is integrationd's load benchmark.
//
// From the module root:
//
//	go run ./bench                            # full run, ~2.5 minutes on 2 cores
//	go run ./bench -quick                     # ~20 s smoke run
//	go run ./bench -micro -profile -write docs/benchmarks.md
//
// It builds the real integrationd binary and a raw net/http baseline
// (bench/rawserver), starts each as a separate process on a free loopback
// port (integrationd over a fresh SQLite file in a temporary directory, with
// execution persistence on, the default), publishes bench/testdata/five-rows.json
// (an API trigger and one Data Mapping task of five rows), and drives
// POST .../integrations/bench:execute at several concurrencies for a fixed
// time each, verifying every answer. It prints a Markdown table of
// requests/s, latency percentiles, errors, server CPU and peak RSS per target
// and concurrency; -write rewrites a Markdown report (docs/benchmarks.md).
//
// The server processes are stopped when the benchmark ends, fails or is
// interrupted (and, on Linux, killed by the kernel if it dies).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type config struct {
	levels    []int
	duration  time.Duration
	warmup    time.Duration
	timeout   time.Duration
	paced     bool
	pacedConn int
	micro     bool
	microTime string
	profile   bool
	write     string
	quick     bool
	quietWait time.Duration
	noPersist bool
	durable   int
	args      []string
}

func main() {
	code := 0
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		code = 1
		if errors.Is(err, context.Canceled) {
			code = 130
		}
	}
	os.Exit(code)
}

func parseFlags() (*config, error) {
	c := &config{args: os.Args[1:]}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	levels := fs.String("c", "1,4,16,64", "concurrencies (workers = keep-alive connections), comma-separated")
	fs.DurationVar(&c.duration, "duration", 12*time.Second, "measured time per target and concurrency")
	fs.DurationVar(&c.warmup, "warmup", 2*time.Second, "unmeasured warm-up before each measured run")
	fs.DurationVar(&c.timeout, "timeout", 10*time.Second, "per-request timeout (a timed-out request is an error)")
	fs.BoolVar(&c.paced, "paced", true, "also drive integrationd open-loop at half of its peak throughput")
	fs.IntVar(&c.pacedConn, "paced-conns", 64, "connections of the paced run")
	fs.BoolVar(&c.micro, "micro", false, "also run the Go micro-benchmarks (go test -bench ./internal/...) and report them")
	fs.StringVar(&c.microTime, "microtime", "300ms", "-benchtime of the micro-benchmarks")
	fs.BoolVar(&c.profile, "profile", false, "also CPU-profile the in-process benchmark (bench/engine_bench_test.go) and report pprof's top functions")
	fs.StringVar(&c.write, "write", "", "rewrite this Markdown report (e.g. docs/benchmarks.md)")
	fs.DurationVar(&c.quietWait, "quiet-wait", 0, "before each run, wait up to this long for other processes to use less than 0.25 cores (0: do not wait)")
	fs.BoolVar(&c.noPersist, "no-persistence", false, "diagnosis: publish the integration with databasePersistencePolicy DATABASE_PERSISTENCE_DISABLED (integrationd then records no executions)")
	fs.BoolVar(&c.quick, "quick", false, "smoke run: -duration 2s -warmup 500ms -durable 1000 (unless given)")
	fs.IntVar(&c.durable, "durable", 10000, "executions per phase of the durable-work benchmark (suspended, then scheduled and drained); 0 skips it")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: go run ./bench [flags]   (from the module root)")
		fs.PrintDefaults()
	}
	if err := fs.Parse(os.Args[1:]); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if c.quick {
		if !set["duration"] {
			c.duration = 2 * time.Second
		}
		if !set["warmup"] {
			c.warmup = 500 * time.Millisecond
		}
		if !set["durable"] {
			c.durable = 1000
		}
	}
	for _, s := range strings.Split(*levels, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 || n > 4096 {
			return nil, fmt.Errorf("-c: bad concurrency %q", s)
		}
		c.levels = append(c.levels, n)
	}
	if c.duration <= 0 || c.duration > 10*time.Minute || c.warmup < 0 || c.warmup > time.Minute {
		return nil, errors.New("-duration must be in (0, 10m] and -warmup in [0, 1m]")
	}
	if c.pacedConn < 1 || c.pacedConn > 4096 {
		return nil, errors.New("-paced-conns must be in [1, 4096]")
	}
	return c, nil
}

func run() error {
	cfg, err := parseFlags()
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	root, err := moduleRoot(ctx)
	if err != nil {
		return err
	}
	fixture, err := os.ReadFile(filepath.Join(root, fixturePath))
	if err != nil {
		return err
	}
	if cfg.noPersist {
		logf("-no-persistence: integrationd will record no executions")
		if fixture, err = withoutPersistence(fixture); err != nil {
			return err
		}
	}
	tmp, err := os.MkdirTemp("", "integrationd-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	logf("building integrationd and the raw baseline in %s", tmp)
	integrationdBin := filepath.Join(tmp, "integrationd")
	rawBin := filepath.Join(tmp, "rawserver")
	if err := buildBinary(ctx, root, integrationdBin, "./cmd/integrationd"); err != nil {
		return err
	}
	if err := buildBinary(ctx, root, rawBin, "./bench/rawserver"); err != nil {
		return err
	}

	// Servers: stopped on every way out of run (the signal context makes
	// the load loops return early).
	var servers []*server
	defer func() {
		for _, s := range servers {
			s.stop()
		}
	}()
	db := filepath.Join(tmp, "bench.db")
	integ, err := startServer(ctx, "integrationd", integrationdBin,
		[]string{"serve", "--addr", "{addr}", "--db", db},
		filepath.Join(tmp, "integrationd.log"), "/v1/projects/"+project+"/locations/"+location+"/integrations")
	if err != nil {
		return err
	}
	servers = append(servers, integ)
	raw, err := startServer(ctx, "raw", rawBin, []string{"-addr", "{addr}"}, filepath.Join(tmp, "rawserver.log"), "/healthz")
	if err != nil {
		return err
	}
	servers = append(servers, raw)
	logf("integrationd (pid %d) at %s, db %s; raw (pid %d) at %s", integ.pid(), integ.base, db, raw.pid(), raw.base)

	if err := publishFixture(ctx, integ.base, fixture); err != nil {
		return err
	}
	for _, s := range servers {
		if err := checkOnce(ctx, s.base); err != nil {
			return fmt.Errorf("%s: the first execution is wrong: %w", s.name, err)
		}
	}

	rep := &report{cfg: cfg, started: time.Now(), machine: describeMachine(ctx, root), loadStart: loadAvg()}
	for _, c := range cfg.levels {
		for _, s := range servers {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			waitQuiet(ctx, cfg.quietWait)
			logf("%-12s c=%-3d warm-up %s, measure %s", s.name, c, cfg.warmup, cfg.duration)
			r := measure(ctx, s, c, 0, cfg.warmup, cfg.duration, cfg.timeout)
			logf("%-12s c=%-3d %8.0f req/s  p50 %s  p99 %s  errors %d  (other processes: %.2f cores)", s.name, c, r.RPS, ms(r.P50), ms(r.P99), r.Errors, r.OtherCPU)
			for _, e := range r.ErrSamples {
				logf("    error: %s", e)
			}
			rep.results = append(rep.results, r)
			settle(ctx, servers)
		}
	}
	if cfg.paced && ctx.Err() == nil {
		if peak := rep.peak("integrationd"); peak.RPS > 0 {
			rate := peak.RPS / 2
			waitQuiet(ctx, cfg.quietWait)
			logf("integrationd paced at %.0f req/s (half of the peak %.0f) over %d connections", rate, peak.RPS, cfg.pacedConn)
			r := measure(ctx, integ, cfg.pacedConn, rate, cfg.warmup, cfg.duration, cfg.timeout)
			logf("integrationd paced: %8.0f req/s  p50 %s  p99 %s  errors %d", r.RPS, ms(r.P50), ms(r.P99), r.Errors)
			rep.paced = &r
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	for _, s := range servers {
		s.stop()
	}
	if cfg.durable > 0 {
		logf("durable work: %d executions suspended, then %d scheduled and drained", cfg.durable, cfg.durable)
		d, err := runDurable(ctx, integrationdBin, tmp, cfg.durable, 16)
		if err != nil {
			return fmt.Errorf("durable-work benchmark: %w", err)
		}
		logf("RSS with %d suspended: %s MiB; drained %d scheduled executions at %.0f/s", d.Suspended, mib(d.RSSSuspended), d.Scheduled, d.DrainRate)
		rep.durable = d
	}
	rep.finished, rep.loadEnd = time.Now(), loadAvg()

	if cfg.micro {
		logf("running the Go micro-benchmarks")
		rep.micro, rep.microCmd = microBenchmarks(ctx, root, cfg.microTime)
	}
	if cfg.profile && ctx.Err() == nil {
		logf("profiling the in-process benchmark")
		rep.profile, rep.shares, rep.profileCmd = profileEngine(ctx, root, tmp)
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}

	fmt.Print(rep.table())
	fmt.Println()
	fmt.Print(rep.verdict())
	if cfg.write != "" {
		if err := os.WriteFile(cfg.write, []byte(rep.markdown()), 0o644); err != nil {
			return err
		}
		logf("wrote %s", cfg.write)
	}
	if n := rep.errors(); n > 0 {
		return fmt.Errorf("%d requests failed", n)
	}
	return nil
}

// settle waits until every server is idle (under 5% of a core over 200 ms,
// twice in a row; at most 20 s), so that work left over from a run, such as
// integrationd's execution writer draining its queue into SQLite, does not
// land in the next one.
func settle(ctx context.Context, servers []*server) {
	deadline := time.Now().Add(20 * time.Second)
	for _, s := range servers {
		quiet := 0
		for quiet < 2 && time.Now().Before(deadline) && !s.exited() {
			c0 := s.cpuTime()
			select {
			case <-ctx.Done():
				return
			case <-time.After(200 * time.Millisecond):
			}
			if s.cpuTime()-c0 <= 10*time.Millisecond {
				quiet++
			} else {
				quiet = 0
			}
		}
	}
}

// waitQuiet waits, up to limit, until the other processes on the machine
// use less than noisyCores over one second.
func waitQuiet(ctx context.Context, limit time.Duration) {
	if limit <= 0 {
		return
	}
	deadline := time.Now().Add(limit)
	for {
		busy0, self0, t0 := machineBusy(), procCPU("/proc/self/stat"), time.Now()
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
		other := (machineBusy() - busy0 - (procCPU("/proc/self/stat") - self0)).Seconds() / time.Since(t0).Seconds()
		if other < noisyCores {
			return
		}
		if time.Now().After(deadline) {
			logf("other processes still use %.2f cores; measuring anyway", other)
			return
		}
		logf("other processes use %.2f cores; waiting for a quieter machine", other)
	}
}

func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %v", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("run the benchmark from inside the integrationd module (go run ./bench)")
	}
	return filepath.Dir(gomod), nil
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s  %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// Targets stated in the project's issue.
const (
	targetRatio  = 0.30                 // integrationd >= 30% of raw throughput
	targetHalfP9 = 5 * time.Millisecond // p99 < 5 ms at half of peak
)

type machine struct {
	Commit    string
	NProc     int
	CPU       string
	MemTotal  string
	Kernel    string
	GoVersion string
	GOOS      string
	GOARCH    string
}

type report struct {
	cfg      *config
	machine  machine
	started  time.Time
	finished time.Time
	results  []result
	paced    *result

	loadStart, loadEnd string // /proc/loadavg

	micro, microCmd             string
	profile, shares, profileCmd string
	durable                     *durableResult
}

func describeMachine(ctx context.Context, root string) machine {
	m := machine{NProc: runtime.NumCPU(), GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, CPU: "unknown", MemTotal: "unknown", Kernel: "unknown", Commit: "unknown"}
	git := func(args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, "git", args...)
		cmd.Dir = root
		out, err := cmd.Output()
		return strings.TrimSpace(string(out)), err
	}
	if head, err := git("rev-parse", "--short=12", "HEAD"); err == nil {
		m.Commit = head
		if st, err := git("status", "--porcelain", "--untracked-files=no"); err == nil && st != "" {
			m.Commit += " with uncommitted changes to tracked files"
		}
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				var kib int64
				fmt.Sscan(rest, &kib)
				m.MemTotal = fmt.Sprintf("%.1f GiB", float64(kib)/(1<<20))
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = "Linux " + strings.TrimSpace(string(b))
	}
	m.GoVersion = runtime.Version()
	if out, err := exec.CommandContext(ctx, "go", "env", "GOVERSION").Output(); err == nil {
		m.GoVersion = strings.TrimSpace(string(out))
	}
	return m
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

func msNum(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d)/float64(time.Millisecond)) }

func mib(kib int64) string {
	if kib == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1f", float64(kib)/1024)
}

// peak is the closed-loop run of target with the highest throughput.
func (r *report) peak(target string) result {
	var best result
	for _, x := range r.results {
		if x.Target == target && x.RPS > best.RPS {
			best = x
		}
	}
	return best
}

func (r *report) find(target string, conc int) (result, bool) {
	for _, x := range r.results {
		if x.Target == target && x.Concurrency == conc {
			return x, true
		}
	}
	return result{}, false
}

// noisyCores is the background CPU use above which a run is flagged.
const noisyCores = 0.25

func (r *report) noisy() int {
	n := 0
	for _, x := range r.results {
		if x.OtherCPU > noisyCores {
			n++
		}
	}
	if r.paced != nil && r.paced.OtherCPU > noisyCores {
		n++
	}
	return n
}

func (r *report) errors() int {
	n := 0
	for _, x := range r.results {
		n += x.Errors
	}
	if r.paced != nil {
		n += r.paced.Errors
	}
	return n
}

// table is the main Markdown table: one row per target and concurrency,
// then the paced run.
func (r *report) table() string {
	var b strings.Builder
	b.WriteString("| target | load | req/s | p50 ms | p90 ms | p99 ms | max ms | errors | server peak RSS MiB | server CPU cores | server CPU µs/req | client CPU cores | other CPU cores |\n")
	b.WriteString("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	row := func(x result, load string) {
		fmt.Fprintf(&b, "| %s | %s | %.0f | %s | %s | %s | %s | %d | %s | %.2f | %.0f | %.2f | %.2f |\n",
			x.Target, load, x.RPS, msNum(x.P50), msNum(x.P90), msNum(x.P99), msNum(x.Max), x.Errors, mib(x.PeakRSSKiB),
			x.ServerCPU, float64(x.CPUPerReq)/float64(time.Microsecond), x.ClientCPU, x.OtherCPU)
	}
	for _, x := range r.results {
		row(x, fmt.Sprintf("c=%d", x.Concurrency))
	}
	if p := r.paced; p != nil {
		row(*p, fmt.Sprintf("paced %.0f/s", p.Rate))
	}
	return b.String()
}

// ratios is the integrationd/raw throughput table.
func (r *report) ratios() string {
	var b strings.Builder
	b.WriteString("| concurrency | integrationd req/s | raw req/s | integrationd / raw | target ≥ 30% |\n")
	b.WriteString("|--:|--:|--:|--:|---|\n")
	for _, c := range r.cfg.levels {
		i, ok1 := r.find("integrationd", c)
		w, ok2 := r.find("raw", c)
		if !ok1 || !ok2 || w.RPS == 0 {
			continue
		}
		ratio := i.RPS / w.RPS
		fmt.Fprintf(&b, "| %d | %.0f | %.0f | %.1f%% | %s |\n", c, i.RPS, w.RPS, 100*ratio, metOrMissed(ratio >= targetRatio))
	}
	ip, wp := r.peak("integrationd"), r.peak("raw")
	if wp.RPS > 0 {
		ratio := ip.RPS / wp.RPS
		fmt.Fprintf(&b, "| peak vs peak | %.0f (c=%d) | %.0f (c=%d) | %.1f%% | %s |\n", ip.RPS, ip.Concurrency, wp.RPS, wp.Concurrency, 100*ratio, metOrMissed(ratio >= targetRatio))
	}
	return b.String()
}

func metOrMissed(ok bool) string {
	if ok {
		return "met"
	}
	return "**missed**"
}

// halfPeak is the closed-loop run of integrationd whose throughput is
// nearest half of its peak.
func (r *report) halfPeak() (result, float64) {
	half := r.peak("integrationd").RPS / 2
	var best result
	bestDiff := math.Inf(1)
	for _, x := range r.results {
		if x.Target != "integrationd" {
			continue
		}
		if d := math.Abs(x.RPS - half); d < bestDiff {
			best, bestDiff = x, d
		}
	}
	return best, half
}

// verdict states the two targets in a few lines.
func (r *report) verdict() string {
	var b strings.Builder
	ip, wp := r.peak("integrationd"), r.peak("raw")
	if wp.RPS > 0 {
		ratio := ip.RPS / wp.RPS
		fmt.Fprintf(&b, "- Throughput: integrationd peaks at %.0f req/s (c=%d), raw at %.0f req/s (c=%d): %.1f%% of raw; target ≥ %.0f%%: %s.\n",
			ip.RPS, ip.Concurrency, wp.RPS, wp.Concurrency, 100*ratio, 100*targetRatio, metOrMissed(ratio >= targetRatio))
	}
	if h, half := r.halfPeak(); h.RPS > 0 {
		fmt.Fprintf(&b, "- Latency at half of peak (%.0f req/s): the nearest concurrency is c=%d (%.0f req/s), p99 %s; target < %s: %s.\n",
			half, h.Concurrency, h.RPS, ms(h.P99), ms(targetHalfP9), metOrMissed(h.P99 < targetHalfP9))
	}
	if p := r.paced; p != nil && p.OK > 0 {
		fmt.Fprintf(&b, "- Open loop at exactly half of peak (%.0f req/s offered, %.0f served, %d connections): p50 %s, p99 %s, max %s; target < %s: %s.\n",
			p.Rate, p.RPS, p.Concurrency, ms(p.P50), ms(p.P99), ms(p.Max), ms(targetHalfP9), metOrMissed(p.P99 < targetHalfP9))
	}
	if n := r.errors(); n > 0 {
		fmt.Fprintf(&b, "- **%d requests failed** (HTTP status other than 200, transport error or wrong output).\n", n)
	} else {
		b.WriteString("- Every response was HTTP 200 with the expected five outputs (0 errors).\n")
	}
	return b.String()
}

func (r *report) command() string {
	var parts []string
	for _, a := range r.cfg.args {
		if strings.ContainsAny(a, " \t'\"$") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		parts = append(parts, a)
	}
	return strings.TrimSpace("go run ./bench " + strings.Join(parts, " "))
}

// markdown is the docs/benchmarks.md report.
func (r *report) markdown() string {
	var b strings.Builder
	m := r.machine
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("# Benchmarks\n\n")
	w("<!-- Generated by bench/ (%s); rerun the command below to update. -->\n\n", r.command())
	w("integrationd's load benchmark measures the synchronous `:execute` path end to end, over HTTP, against a raw `net/http` baseline doing the same JSON work.\n\n")
	w("## What was measured\n\n")
	if r.cfg.noPersist {
		w("- **integrationd**: the real binary (`go build ./cmd/integrationd`), started as its own process with `serve` on a free loopback port over a fresh SQLite file in a temporary directory, all defaults, **but with the integration's execution persistence off** (`-no-persistence`: `databasePersistencePolicy` `DATABASE_PERSISTENCE_DISABLED`, a diagnosis run). ")
	} else {
		w("- **integrationd**: the real binary (`go build ./cmd/integrationd`), started as its own process with `serve` on a free loopback port over a fresh SQLite file in a temporary directory, all defaults (execution persistence on: every execution is recorded by the batched writer). ")
	}
	w("The benchmark publishes [`bench/testdata/five-rows.json`](../bench/testdata/five-rows.json): an API trigger and one Data Mapping task (FieldMappingTask) of five rows — `GET_PROPERTY` on a JSON input with `TO_STRING` and `TO_UPPERCASE`, two `CONCAT` (one of a variable), an int `ADD` of a variable, a JSON `SIZE` and a JSON `TO_STRING` — with three IN and five OUT variables.\n")
	w("- **raw**: [`bench/rawserver`](../bench/rawserver/main.go), a plain `net/http` server in its own process that decodes the same request body with `encoding/json`, parses the `order` JSON input, computes the same five outputs by hand and encodes a response of the same shape (execution ID, `outputParameters` with the system variables, `eventParameters`). No engine, no storage.\n")
	w("- **Load**: `POST /v1/projects/bench/locations/us-central1/integrations/bench:execute` with the same ~%d-byte body, from a Go `http.Client` in the benchmark process (HTTP/1.1 keep-alive, `MaxIdleConnsPerHost` ≥ the concurrency, no compression). ", len(requestBody))
	w("A closed loop of *c* workers, each on its own connection, sends its next request as soon as the previous one is answered; each level runs %s after a %s warm-up, integrationd and raw alternating. ", r.cfg.duration, r.cfg.warmup)
	w("Every response is checked: HTTP 200, an execution ID and the five expected output values; anything else is an error.\n")
	if r.paced != nil {
		w("- **Paced run**: integrationd again, open loop, at a fixed arrival rate of half its peak closed-loop throughput over %d connections; latency counts from each request's scheduled send time, so queueing behind a busy connection is included.\n", r.paced.Concurrency)
	}
	w("- **Server peak RSS** is `VmHWM` from `/proc/<pid>/status` read at the end of each level, reset before the level by writing `5` to `/proc/<pid>/clear_refs` (so it covers that level and its warm-up).\n")
	w("- **CPU columns** (cores = CPU seconds per second of the measured run): the server process's user+system time (`/proc/<pid>/stat`), also per successful request; the benchmark process's own (the load generator, client side); and every other process on the machine (busy time from `/proc/stat` minus those two), which is background noise that competes with the measurement.\n")
	w("- Latencies are client-side, send to last byte read, nearest-rank percentiles. The load generator runs on the same machine and shares its cores with the server, so on a small machine the absolute numbers are lower than a dedicated client would see; the ratio integrationd / raw is the meaningful figure.\n\n")

	w("## Machine\n\n")
	w("| | |\n|---|---|\n")
	w("| integrationd commit | %s |\n", m.Commit)
	w("| CPUs (nproc) | %d |\n| CPU model | %s |\n| memory | %s |\n| OS | %s (%s/%s) |\n| Go | %s |\n| date | %s |\n| wall time of the measurements | %s |\n| load average (1, 5, 15 min) before / after | %s / %s |\n\n",
		m.NProc, m.CPU, m.MemTotal, m.Kernel, m.GOOS, m.GOARCH, m.GoVersion,
		r.started.UTC().Format("2006-01-02 15:04 MST"), r.finished.Sub(r.started).Round(time.Second), r.loadStart, r.loadEnd)
	if n := r.noisy(); n > 0 {
		w("**Noise:** in %d of the runs below other processes used more than %.2f cores (column *other CPU*); those rows understate what the machine can do.\n\n", n, noisyCores)
	}

	w("## Command\n\nFrom the module root:\n\n```sh\n%s\n```\n\n", r.command())
	w("`go run ./bench` alone runs the same measurement (~2.5 minutes on 2 cores) and prints the table; `-quick` is a ~20 s smoke run; `-write FILE` rewrites this report; `-micro` adds the Go micro-benchmarks and `-profile` a CPU profile of the in-process benchmark (both below); `-quiet-wait D` waits up to D before each run for other processes to go quiet; `-no-persistence` publishes the integration with execution persistence off, to measure the engine without the writer; `go run ./bench -h` lists the flags.\n\n")

	w("## Results\n\n")
	w("%s\n", r.table())
	w("### integrationd / raw throughput\n\n%s\n", r.ratios())
	w("### Against the targets\n\n")
	w("The project's issue sets two targets: integrationd at least 30%% of the raw baseline's throughput, and p99 under 5 ms at half of integrationd's peak throughput.\n\n")
	w("%s\n", r.verdict())

	if r.durable != nil {
		b.WriteString(r.durable.markdown())
	}
	if r.micro != "" {
		w("## Go micro-benchmarks\n\n```sh\n%s\n```\n\n```\n%s```\n\n", r.microCmd, r.micro)
		w("`BenchmarkTrivialTask*` (package bench) execute, one at a time through the API handler with persistence off, an integration of one trivial task: a one-row Data Mapping, a JavaScript task that sets one variable, and a one-field Jsonnet template. The JavaScript and Jsonnet figures minus the Data Mapping one are what those tasks add to an execution; the targets are under 50 µs for JavaScript and under 200 µs for Jsonnet.\n\n")
		w("`BenchmarkForEachParallel10k` (package bench, persistence on) executes an integration whose For Each Parallel task fans 10,000 elements out to a trivial sub-integration (no tasks; its IN_OUT variable comes back), 50 at a time, recording all 10,001 executions and collecting the 10,000 results in input order: ns/op is the whole execution (target: under 2 s on 2 cores), `elements/s` the sub-executions per second. `BenchmarkRESTIntegration` executes, on every core, an integration of one Call REST Endpoint task (GET, `throwError`, body into an output) against a local `httptest` server; `BenchmarkRESTRawClient` is the same GET with a bare `net/http` client, the floor of that path.\n\n")
	}
	if r.profile != "" {
		w("## In-process benchmarks and CPU profile\n\n")
		w("[`bench/engine_bench_test.go`](../bench/engine_bench_test.go) serves the same integration from the internal packages in one process over a fresh SQLite file: `BenchmarkExecuteHandler` calls the API handler directly (no sockets; the execution writer runs alongside), `BenchmarkExecuteHandlerNoPersistence` is the same with the integration's `databasePersistencePolicy` set to `DATABASE_PERSISTENCE_DISABLED`, `BenchmarkExecuteService` calls `service.Execute` with decoded inputs, and `BenchmarkExecuteHTTP` goes through a loopback socket. ")
		w("They run `b.RunParallel` on every core, so ns/op is wall time per request with the cores shared. The profile is of `BenchmarkExecuteHandler`, integrationd's own costs without the load generator's.\n\n")
		w("```sh\n%s\n```\n\n%s```\n%s```\n\n", r.profileCmd, r.shares, r.profile)
	}
	return b.String()
}

// microBenchmarks runs the Go benchmarks of ./internal/... and returns the
// benchmark lines.
func microBenchmarks(ctx context.Context, root, benchtime string) (string, string) {
	args := []string{"test", "-run", "^$", "-bench", ".", "-benchmem", "-benchtime", benchtime, "-timeout", "5m", "./internal/...", "./bench"}
	cmdline := "go " + strings.Join(quoteArgs(args), " ")
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	var b strings.Builder
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "pkg:") || strings.HasPrefix(line, "Benchmark") || strings.HasPrefix(line, "FAIL") || strings.HasPrefix(line, "---") {
			b.WriteString(line + "\n")
		}
	}
	if err != nil {
		fmt.Fprintf(&b, "(the command failed: %v)\n", err)
	}
	return b.String(), cmdline
}

// profileEngine runs the in-process benchmarks of bench/, then CPU-profiles
// BenchmarkExecuteHandler and returns their results and pprof's flat and
// cumulative top functions.
func profileEngine(ctx context.Context, root, tmp string) (profile, shares, cmdline string) {
	prof := filepath.Join(tmp, "cpu.pprof")
	testBin := filepath.Join(tmp, "bench.test")
	cmdline = "go test -run '^$' -bench '^BenchmarkExecute' -benchtime 2s -benchmem ./bench\n" +
		"go test -run '^$' -bench '^BenchmarkExecuteHandler$' -benchtime 5s -cpuprofile cpu.pprof ./bench\n" +
		"go tool pprof -top -nodecount 25 bench.test cpu.pprof\n" +
		"go tool pprof -top -cum -nodecount 45 bench.test cpu.pprof"
	var b strings.Builder
	gotest := func(args ...string) bool {
		cmd := exec.CommandContext(ctx, "go", append([]string{"test", "-run", "^$", "-timeout", "5m"}, args...)...)
		cmd.Dir = root
		out, err := cmd.CombinedOutput()
		if err != nil {
			fmt.Fprintf(&b, "(go test failed: %v)\n%s\n", err, out)
			return false
		}
		for _, line := range strings.Split(string(out), "\n") {
			if strings.HasPrefix(line, "Benchmark") {
				b.WriteString(line + "\n")
			}
		}
		b.WriteString("\n")
		return true
	}
	if !gotest("-bench", "^BenchmarkExecute", "-benchtime", "2s", "-benchmem", "./bench") {
		return b.String(), "", cmdline
	}
	if !gotest("-bench", "^BenchmarkExecuteHandler$", "-benchtime", "5s", "-cpuprofile", prof, "-o", testBin, "./bench") {
		return b.String(), "", cmdline
	}
	shares = cpuShares(ctx, root, testBin, prof)
	for _, extra := range [][]string{{"-top", "-nodecount", "25"}, {"-top", "-cum", "-nodecount", "45"}} {
		pargs := append([]string{"tool", "pprof"}, extra...)
		pargs = append(pargs, testBin, prof)
		cmd := exec.CommandContext(ctx, "go", pargs...)
		cmd.Dir = root
		out, err := cmd.Output()
		if err != nil {
			fmt.Fprintf(&b, "(go tool pprof failed: %v)\n", err)
			continue
		}
		b.Write(out)
		b.WriteString("\n")
	}
	return b.String(), shares, cmdline
}

// shareRows are the functions whose cumulative share of the profile is
// tabulated, by the suffix of their pprof name.
var shareRows = []struct{ fn, what string }{
	{"internal/api.(*Server).ServeHTTP", "request path: the API handler, all of it"},
	{"internal/spec.Unmarshal", "… decoding the request body (proto3 JSON)"},
	{"internal/spec.hasSnakeKey", "… … of which the scan for snake_case keys"},
	{"internal/service.(*Service).inputs", "… converting the inputs (parsing the jsonValue)"},
	{"internal/engine.Run", "… the engine run"},
	{"internal/mapping.(*Program).Run", "… … of which the five Data Mapping rows"},
	{"internal/service.(*Service).respond", "… building the response"},
	{"internal/service.(*Service).record", "… building the execution record for the writer"},
	{"internal/service.(*writer).loop", "execution writer (background): storing executions"},
	{"modernc.org/sqlite/lib._sqlite3BtreeInsert", "… SQLite B-tree inserts (rows and index entries)"},
	{"modernc.org/sqlite/lib._walFrames", "… SQLite WAL writes at commit"},
	{"internal/store/sqlite.(*Store).checkpointLoop", "WAL checkpointer (background)"},
	{"modernc.org/libc.Xpwrite", "… … pwrite system calls, all of SQLite's"},
	{"runtime.gcBgMarkWorker", "garbage collector (background marking)"},
}

// cpuShares tabulates the cumulative share of shareRows in the profile.
func cpuShares(ctx context.Context, root, testBin, prof string) string {
	cmd := exec.CommandContext(ctx, "go", "tool", "pprof", "-top", "-cum", "-nodecount", "100000", testBin, prof)
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		return ""
	}
	cum := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) < 6 || !strings.HasSuffix(f[4], "%") {
			continue
		}
		name := strings.TrimSuffix(strings.Join(f[5:], " "), " (inline)")
		for _, r := range shareRows {
			if strings.HasSuffix(name, r.fn) && cum[r.fn] == "" {
				cum[r.fn] = f[4]
			}
		}
	}
	var b strings.Builder
	b.WriteString("Where `BenchmarkExecuteHandler`'s CPU goes (cumulative share of the profile's samples):\n\n")
	b.WriteString("| function | what | CPU share |\n|---|---|--:|\n")
	for _, r := range shareRows {
		v := cum[r.fn]
		if v == "" {
			v = "< 0.5%"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", r.fn, r.what, v)
	}
	b.WriteString("\n")
	return b.String()
}

func quoteArgs(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if strings.ContainsAny(a, "^$ *") {
			a = "'" + a + "'"
		}
		out[i] = a
	}
	return out
}

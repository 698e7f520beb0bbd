package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// server is a target process: integrationd or the raw baseline.
type server struct {
	name    string
	cmd     *exec.Cmd
	base    string // http://127.0.0.1:port
	logPath string
	done    chan struct{} // closed when the process has exited
	waitErr error
}

// buildBinary runs go build -o out pkg in the module root.
func buildBinary(ctx context.Context, root, out, pkg string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build -o %s %s: %v\n%s", out, pkg, err, stderr.String())
	}
	return nil
}

// freePort asks the kernel for a free loopback port. Another process may
// take it before the server binds it; startServer retries then.
func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := ln.Addr().String()
	return addr, ln.Close()
}

// startServer starts bin with args (where "{addr}" is replaced by a free
// loopback address), its output going to logPath, and waits until GET
// readyPath answers 200.
func startServer(ctx context.Context, name, bin string, args []string, logPath, readyPath string) (*server, error) {
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		addr, err := freePort()
		if err != nil {
			return nil, err
		}
		s, err := launch(name, bin, args, addr, logPath)
		if err != nil {
			return nil, err
		}
		if err = s.waitReady(ctx, readyPath, 30*time.Second); err == nil {
			return s, nil
		}
		s.stop()
		lastErr = err
		if ctx.Err() != nil {
			break
		}
	}
	return nil, lastErr
}

func launch(name, bin string, args []string, addr, logPath string) (*server, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	a := make([]string, len(args))
	for i, x := range args {
		a[i] = strings.ReplaceAll(x, "{addr}", addr)
	}
	cmd := exec.Command(bin, a...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = childAttr() // killed if the benchmark dies (Linux)
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	s := &server{name: name, cmd: cmd, base: "http://" + addr, logPath: logPath, done: make(chan struct{})}
	go func() {
		s.waitErr = cmd.Wait()
		logf.Close()
		close(s.done)
	}()
	return s, nil
}

func (s *server) pid() int { return s.cmd.Process.Pid }

func (s *server) exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

func (s *server) waitReady(ctx context.Context, path string, limit time.Duration) error {
	c := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if s.exited() {
			return fmt.Errorf("%s exited before it was ready (%v); its log:\n%s", s.name, s.waitErr, s.logTail())
		}
		resp, err := c.Get(s.base + path)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s was not ready after %s; its log:\n%s", s.name, limit, s.logTail())
}

// stop asks the process to terminate (SIGTERM), then kills it after 5 s.
// It is safe to call more than once.
func (s *server) stop() {
	if s == nil || s.exited() {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
		return
	case <-time.After(5 * time.Second):
	}
	_ = s.cmd.Process.Kill()
	<-s.done
}

func (s *server) logTail() string {
	b, _ := os.ReadFile(s.logPath)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// --- /proc readings (Linux; zero elsewhere) ---------------------------------

// resetPeakRSS resets the process's VmHWM to its current RSS (writing 5 to
// /proc/pid/clear_refs), so that the next reading is the peak of one run.
func (s *server) resetPeakRSS() bool {
	return os.WriteFile(filepath.Join("/proc", strconv.Itoa(s.pid()), "clear_refs"), []byte("5"), 0) == nil
}

// peakRSS reads VmHWM (KiB) from /proc/pid/status.
func (s *server) peakRSS() int64 {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(s.pid()), "status"))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				n, _ := strconv.ParseInt(f[0], 10, 64)
				return n
			}
		}
	}
	return 0
}

// clockTick is USER_HZ, 100 on every Linux platform Go supports.
const clockTick = 10 * time.Millisecond

// cpuTime reads the process's user+system CPU time from /proc/pid/stat.
func (s *server) cpuTime() time.Duration {
	return procCPU(filepath.Join("/proc", strconv.Itoa(s.pid()), "stat"))
}

// procCPU reads utime+stime from a /proc/<pid>/stat file.
func procCPU(path string) time.Duration {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	// The command name (field 2) may contain spaces: fields are counted
	// after its closing parenthesis. utime and stime are fields 14 and 15.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * clockTick
}

// machineBusy reads the CPU time every CPU spent not idle (user, nice,
// system, irq, softirq, steal) from /proc/stat.
func machineBusy() time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0
	}
	var busy int64
	for _, i := range []int{1, 2, 3, 6, 7, 8} {
		n, _ := strconv.ParseInt(f[i], 10, 64)
		busy += n
	}
	return time.Duration(busy) * clockTick
}

// loadAvg is the first three fields of /proc/loadavg.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "n/a"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "n/a"
	}
	return strings.Join(f[:3], " ")
}

// --- integrationd setup -----------------------------------------------------

// publishFixture creates a version of the benchmark integration from the
// fixture file, publishes it, and checks one execution.
func publishFixture(ctx context.Context, base string, fixture []byte) error {
	return publishAs(ctx, base, integration, fixture)
}

// publishAs creates and publishes a version of integration name.
func publishAs(ctx context.Context, base, name string, fixture []byte) error {
	c := &http.Client{Timeout: 30 * time.Second}
	b, err := post(ctx, c, base+"/v1/projects/"+project+"/locations/"+location+"/integrations/"+name+"/versions", string(fixture))
	if err != nil {
		return fmt.Errorf("creating the version: %w", err)
	}
	var v struct{ Name string }
	if err := json.Unmarshal(b, &v); err != nil || v.Name == "" {
		return fmt.Errorf("creating the version: no name in the response %s", b)
	}
	if _, err := post(ctx, c, base+"/v1/"+v.Name+":publish", "{}"); err != nil {
		return fmt.Errorf("publishing: %w", err)
	}
	return nil
}

// checkOnce sends one request and verifies the answer.
func checkOnce(ctx context.Context, base string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+executePath, bytes.NewReader(requestBody))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %d: %s", resp.StatusCode, raw)
	}
	if err := verify(raw); err != nil {
		return err
	}
	if !fastVerify(raw) {
		logf("warning: %s's answer is right but not in the compact form the fast check expects; every answer will be fully decoded: %.300s", base, raw)
	}
	return nil
}

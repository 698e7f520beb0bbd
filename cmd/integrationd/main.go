// Command integrationd is a self-hosted engine for Google Cloud Application
// Integration's integrations, serving the integrations.googleapis.com/v1
// REST API.
//
//	integrationd serve [--addr 127.0.0.1:8080] [--db ./integrationd.db] [--auth-config FILE] [--secrets-key-file FILE]
//	integrationd validate FILE...
//	integrationd version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/integrationd/integrationd/internal/api"
	"github.com/integrationd/integrationd/internal/auth"
	"github.com/integrationd/integrationd/internal/engine"
	"github.com/integrationd/integrationd/internal/secrets"
	"github.com/integrationd/integrationd/internal/service"
	"github.com/integrationd/integrationd/internal/spec"
	"github.com/integrationd/integrationd/internal/store/sqlite"
	"github.com/integrationd/integrationd/internal/tasks"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "integrationd:", err)
		os.Exit(1)
	}
}

const usage = `integrationd: a self-hosted engine for Application Integration integrations.

Usage:
  integrationd serve [flags]     serve the integrations.googleapis.com/v1 API
  integrationd validate FILE...  check exported integration versions offline
  integrationd version           print the version

Run "integrationd serve -h" for the flags of serve.
`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("a command is required")
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], stderr)
	case "validate":
		return validate(args[1:], stdout)
	case "version":
		fmt.Fprintln(stdout, "integrationd", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

func serve(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "HTTP listen address")
	db := fs.String("db", "./integrationd.db", "database: a SQLite file path (postgres:// URLs come later)")
	authConfig := fs.String("auth-config", "", "JSON file mapping bearer tokens to principals and principals to roles; empty: no authentication, everything allowed")
	syncTimeout := fs.Duration("sync-timeout", 2*time.Minute, "deadline of a synchronous execution; after it the execution is CANCELLED")
	maxData := fs.Int("max-data-bytes", 30_000_000, "limit on the data of one execution (inputs and variables)")
	maxTasks := fs.Int("max-tasks", 100, "limit on the tasks of one integration")
	maxName := fs.Int("max-name-length", 64, "limit on the characters of an integration name")
	scriptTimeout := fs.Duration("script-timeout", 30*time.Second, "time limit of one JavaScript task attempt")
	scriptMemory := fs.Int64("script-memory-bytes", 64<<20, "best-effort bound on what one JavaScript task attempt may allocate")
	jsonnetMemory := fs.Int64("jsonnet-memory-bytes", 300_000_000, "best-effort bound on what one Data Transformer (Jsonnet) evaluation may allocate")
	maxSubDepth := fs.Int("max-sub-depth", 10, "how deep sub-integrations (Call Integration, loops) may nest")
	maxWhile := fs.Int("max-while-iterations", 8000, "iteration limit of one While Loop task")
	workers := fs.Int("workers", 16, "queued jobs (scheduled and async executions, cron ticks, resumptions) run at once by this process")
	jobLease := fs.Duration("job-lease", 30*time.Second, "how long a claimed job stays with this process without a heartbeat; a crashed process's jobs run again after it")
	pollInterval := fs.Duration("poll-interval", 500*time.Millisecond, "how often idle workers look for jobs added by other processes")
	asyncRetries := fs.Int("async-retries", 10, "times a failed async execution is run again (negative: never)")
	asyncRetryBase := fs.Duration("async-retry-base", 10*time.Minute, "delay before the first re-run of a failed async execution; doubled each time")
	keyFile := fs.String("secrets-key-file", "", "file holding the key that encrypts auth config credentials at rest: 32 raw bytes, or 64 hex digits / base64 of 32 bytes (one key a line, the first seals, the others only decrypt: rotation); default: the environment variable "+secrets.EnvKey)
	devSecrets := fs.Bool("insecure-dev-secrets", false, "DEVELOPMENT ONLY: without a key, seal credentials with a fixed, public key; with a key, still decrypt what the development key sealed")
	restMaxResponse := fs.Int64("rest-max-response-bytes", 25<<20, "limit on the response body of a Call REST Endpoint task")
	restDeny := fs.String("rest-deny-cidrs", cidrList(tasks.DefaultRESTDenyCIDRs), "comma-separated ranges (or addresses) Call REST Endpoint tasks may not connect to; replaces the default list, \"\" denies nothing")
	restAllow := fs.String("rest-allow-cidrs", "", "comma-separated ranges (or addresses): when set, the only ones Call REST Endpoint tasks may connect to (the deny list still applies)")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	smtpConfig := smtpFlags(fs, os.Getenv)
	if err := fs.Parse(args); err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	smtpCfg, err := smtpConfig(logger)
	if err != nil {
		return err
	}
	if os.Getenv("GOGC") == "" {
		// The engine allocates many short-lived values per execution; a
		// less eager collector buys throughput for little memory. GOGC
		// in the environment overrides this.
		debug.SetGCPercent(200)
	}

	authz := auth.AllowAll()
	if *authConfig != "" {
		cfg, err := auth.LoadConfig(*authConfig)
		if err != nil {
			return fmt.Errorf("--auth-config: %w", err)
		}
		if authz, err = auth.NewTokenAuthorizer(cfg); err != nil {
			return fmt.Errorf("--auth-config: %w", err)
		}
		logger.Info("authentication on: bearer tokens from the auth config", "file", *authConfig)
	} else {
		logger.Warn("authentication off: every request is allowed (pass --auth-config to require bearer tokens)")
		if host, _, err := net.SplitHostPort(*addr); err == nil {
			if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
				logger.Warn("listening beyond loopback without authentication", "addr", *addr)
			}
		}
	}

	if strings.HasPrefix(*db, "postgres://") || strings.HasPrefix(*db, "postgresql://") {
		return errors.New("--db: PostgreSQL is not supported yet; give a SQLite file path")
	}
	keys, warning, err := secrets.Load(*keyFile, os.Getenv, *devSecrets)
	if err != nil {
		return err
	}
	if warning != "" {
		logger.Warn(warning)
	}
	switch {
	case keys == nil:
		logger.Warn("no secrets key: auth configs with credentials are refused (pass --secrets-key-file or set " + secrets.EnvKey + ")")
	case keys.Insecure():
		logger.Warn("--insecure-dev-secrets: credentials are sealed with a fixed public key; for development only")
	}
	deny, err := tasks.ParseCIDRs(*restDeny)
	if err != nil {
		return fmt.Errorf("--rest-deny-cidrs: %w", err)
	}
	allow, err := tasks.ParseCIDRs(*restAllow)
	if err != nil {
		return fmt.Errorf("--rest-allow-cidrs: %w", err)
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	st, err := sqlite.Open(ctx, *db, logger)
	if err != nil {
		return fmt.Errorf("opening the database: %w", err)
	}
	authConfigs := service.NewAuthConfigs(st, keys, nil)
	reg := tasks.New(tasks.Options{
		ScriptTimeout: *scriptTimeout, ScriptMemoryBytes: *scriptMemory, JsonnetMemoryBytes: *jsonnetMemory,
		MaxWhileIterations: *maxWhile, SMTP: smtpCfg,
		RESTMaxResponseBytes: *restMaxResponse, RESTDenyCIDRs: deny, RESTAllowCIDRs: allow, AuthConfigs: authConfigs,
	})
	svc := service.New(st, reg, service.Config{
		SyncTimeout: *syncTimeout, MaxDataBytes: *maxData, MaxTasks: *maxTasks, MaxNameLength: *maxName, Logger: logger,
		MaxSubDepth: *maxSubDepth, Workers: *workers, JobLease: *jobLease, PollInterval: *pollInterval,
		AsyncRetries: *asyncRetries, AsyncRetryBase: *asyncRetryBase,
		AuthConfigs: authConfigs, Notifier: notifier(smtpCfg),
	})
	srv := &http.Server{
		Addr:              *addr,
		Handler:           api.New(svc, api.Config{Authorizer: authz, MaxBodyBytes: int64(*maxData) + 2<<20, Logger: logger}),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		_ = svc.Close(context.Background())
		_ = st.Close()
		return err
	}
	logger.Info("integrationd serving", "version", version, "addr", ln.Addr().String(), "db", *db)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()

	select {
	case err = <-errc:
	case <-ctx.Done():
		logger.Info("shutting down: waiting for requests in flight")
		sctx, cancel := context.WithTimeout(context.Background(), *syncTimeout+5*time.Second)
		err = srv.Shutdown(sctx)
		cancel()
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	cctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if cerr := svc.Close(cctx); cerr != nil && err == nil {
		err = cerr
	}
	if cerr := st.Close(); cerr != nil && err == nil {
		err = cerr
	}
	logger.Info("integrationd stopped")
	return err
}

// cidrList prints prefixes as --rest-deny-cidrs takes them.
func cidrList(ps []netip.Prefix) string {
	ss := make([]string, len(ps))
	for i, p := range ps {
		ss[i] = p.String()
	}
	return strings.Join(ss, ",")
}

// validate compiles exported versions and prints their problems.
func validate(files []string, stdout io.Writer) error {
	if len(files) == 0 {
		return errors.New("validate: give at least one file")
	}
	reg := tasks.Default()
	bad := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		v, err := spec.DecodeVersion(data)
		if err != nil {
			fmt.Fprintf(stdout, "%s: cannot decode: %v\n", f, err)
			bad++
			continue
		}
		_, iss := engine.Compile(v, reg, engine.Limits{MaxTasks: 100})
		if len(iss) == 0 {
			fmt.Fprintf(stdout, "%s: ok\n", f)
			continue
		}
		for _, i := range iss {
			kind := "error"
			if i.Unsupported {
				kind = "unsupported"
			}
			fmt.Fprintf(stdout, "%s: %s: %s\n", f, kind, i)
		}
		if len(iss.Errors()) > 0 {
			bad++
		}
	}
	if bad > 0 {
		return fmt.Errorf("%d of %d files have errors", bad, len(files))
	}
	return nil
}

// notifier is the Approval task's mailer: the Send Email relay, when one
// is configured.
func notifier(c tasks.SMTPConfig) service.Notifier {
	if c.Addr == "" {
		return nil
	}
	return c
}

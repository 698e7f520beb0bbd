// Package service holds integrationd's use cases: versions (create,
// upload, publish...), executions (execute, list, get) with request-id
// de-duplication, compiled-plan caching and the batched execution writer.
// It speaks in Go types and *rpc.Error; the HTTP surface is package api.
package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/integrationd/integrationd/internal/engine"
	"github.com/integrationd/integrationd/internal/rpc"
	"github.com/integrationd/integrationd/internal/store"
)

// Config tunes the service. Zero fields take the documented defaults.
type Config struct {
	// SyncTimeout bounds a synchronous execution. Default: 2 minutes, as on
	// Google's service; after it the execution is CANCELLED.
	SyncTimeout time.Duration
	// MaxDataBytes bounds the data of one execution. Default: 30 MB.
	MaxDataBytes int
	// MaxTasks bounds the tasks of one integration. Default: 100.
	MaxTasks int
	// MaxNameLength bounds integration names. Default: 64.
	MaxNameLength int
	// RetryScale multiplies retry delays (tests set it small). Default: 1.
	RetryScale float64
	// MaxSubDepth bounds how deep sub-integrations may nest (a top-level
	// execution is at depth 0). Default: 10.
	MaxSubDepth int
	// Workers bounds the queued jobs (scheduled and async executions,
	// cron ticks, resumptions) this process runs at once. Default: 16.
	Workers int
	// JobLease is how long a claimed job stays with this process without
	// a heartbeat; a crashed process's jobs run again after it. Default 30 s.
	JobLease time.Duration
	// PollInterval is how often idle workers look for due jobs added by
	// other processes (this process's own wake them at once). Default 500 ms.
	PollInterval time.Duration
	// AsyncRetries and AsyncRetryBase: a failed async execution is run
	// again up to AsyncRetries times, after AsyncRetryBase, then twice
	// that, and so on. Default: 10 times from 10 minutes, as Google does;
	// a negative AsyncRetries disables the retries.
	AsyncRetries   int
	AsyncRetryBase time.Duration
	// JobKeyRetention is how long the key of a done job (a cron tick, a
	// scheduled request) is remembered. Default: 7 days.
	JobKeyRetention time.Duration
	// SyncRecordAfter: a synchronous execution still running after it is
	// recorded PROCESSING (so that a crash leaves a trace, recorded FAILED
	// once its timeout has passed). Default: 1 s.
	SyncRecordAfter time.Duration
	// Notifier emails the Approval task's requests and reminders; nil:
	// they are logged, not sent.
	Notifier Notifier
	// ActiveTTL is how long the published versions of an integration are
	// taken from memory before the store is asked again, so that a version
	// published by another process sharing the database is used within
	// it. Publishing in this process takes effect at once. Default: 1 s.
	ActiveTTL time.Duration
	// CronRefresh is how often the cron loop reloads the published cron
	// triggers (publishing in this process reloads them at once).
	// Default: 10 s.
	CronRefresh time.Duration
	// AuthConfigs serves the authConfigs methods; the same value should
	// resolve auth configs for the tasks (tasks.Options.AuthConfigs).
	// Default: auth configs over the service's store without a secrets
	// key, so credentials are refused.
	AuthConfigs *AuthConfigs
	Logger      *slog.Logger
	Now         func() time.Time
}

func (c *Config) provision() {
	if c.SyncTimeout == 0 {
		c.SyncTimeout = 2 * time.Minute
	}
	if c.MaxDataBytes == 0 {
		c.MaxDataBytes = 30 << 20
	}
	if c.MaxTasks == 0 {
		c.MaxTasks = 100
	}
	if c.MaxNameLength == 0 {
		c.MaxNameLength = 64
	}
	if c.RetryScale == 0 {
		c.RetryScale = 1
	}
	if c.MaxSubDepth == 0 {
		c.MaxSubDepth = 10
	}
	if c.Workers <= 0 {
		c.Workers = 16
	}
	if c.JobLease <= 0 {
		c.JobLease = 30 * time.Second
	}
	if c.PollInterval <= 0 {
		c.PollInterval = 500 * time.Millisecond
	}
	switch {
	case c.AsyncRetries == 0:
		c.AsyncRetries = 10
	case c.AsyncRetries < 0:
		c.AsyncRetries = 0
	}
	if c.AsyncRetryBase <= 0 {
		c.AsyncRetryBase = 10 * time.Minute
	}
	if c.SyncRecordAfter <= 0 {
		c.SyncRecordAfter = time.Second
	}
	if c.ActiveTTL <= 0 {
		c.ActiveTTL = time.Second
	}
	if c.CronRefresh <= 0 {
		c.CronRefresh = 10 * time.Second
	}
	if c.JobKeyRetention <= 0 {
		c.JobKeyRetention = 7 * 24 * time.Hour
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Service implements the API's use cases over a store.
type Service struct {
	st       store.Store
	compiler engine.Compiler
	cfg      Config
	log      *slog.Logger

	mu     sync.Mutex
	plans  map[string]*compiled                 // version ID -> plan
	active map[store.IntegrationKey]*activeList // integration -> its active plan(s)

	inflight sync.Map // dedupKey -> *call
	writer   *writer

	queue *queue

	runMu   sync.Mutex
	running map[string]*runningExec // execution ID -> a queued execution running here

	authConfigs *AuthConfigs
}

type compiled struct {
	plan   *engine.Plan
	issues engine.Issues
}

type activeList struct {
	loaded   time.Time
	versions []*store.Version
	plans    []*engine.Plan
}

// New returns a service. It starts the execution writer, which Close stops.
func New(st store.Store, c engine.Compiler, cfg Config) *Service {
	cfg.provision()
	s := &Service{
		st:       st,
		compiler: c,
		cfg:      cfg,
		log:      cfg.Logger,
		plans:    make(map[string]*compiled),
		active:   make(map[store.IntegrationKey]*activeList),
	}
	s.writer = newWriter(st, cfg.Logger)
	s.authConfigs = cfg.AuthConfigs
	if s.authConfigs == nil {
		s.authConfigs = NewAuthConfigs(st, nil, cfg.Now)
	}
	s.running = make(map[string]*runningExec)
	s.queue = newQueue(s)
	s.queue.start()
	return s
}

// AuthConfigs returns the service's auth configs.
func (s *Service) AuthConfigs() *AuthConfigs { return s.authConfigs }

// Close stops claiming queued jobs, waits until ctx ends for the running
// ones (those left are given back to the queue, to run again in the next
// process), flushes pending execution records and stops the writer. Call
// it once the API no longer accepts requests.
func (s *Service) Close(ctx context.Context) error {
	s.queue.stop(ctx)
	if ctx.Err() != nil {
		// The running jobs used up the deadline; the records of the work
		// that did finish still get a short while to reach the store.
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
	}
	return s.writer.close(ctx)
}

// storeErr maps store sentinels to rpc errors with a message about what.
func storeErr(err error, what string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrNotFound):
		return rpc.Errorf(rpc.CodeNotFound, "%s not found", what)
	case errors.Is(err, store.ErrAlreadyExists):
		return rpc.Errorf(rpc.CodeAlreadyExists, "%s already exists", what)
	case errors.Is(err, store.ErrFailedPrecondition):
		return rpc.Errorf(rpc.CodeFailedPrecondition, "%s: %v", what, err)
	case errors.Is(err, store.ErrInvalidArgument):
		return rpc.InvalidArgument("page_token", "%v", err)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	}
	return fmt.Errorf("%s: %w", what, err)
}

// IntegrationName is the resource name of an integration.
func IntegrationName(k store.IntegrationKey) string {
	return "projects/" + k.Project + "/locations/" + k.Location + "/integrations/" + k.Name
}

// VersionName is the resource name of a version.
func VersionName(k store.IntegrationKey, id string) string {
	return IntegrationName(k) + "/versions/" + id
}

// ExecutionName is the resource name of an execution.
func ExecutionName(k store.IntegrationKey, id string) string {
	return IntegrationName(k) + "/executions/" + id
}

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

	authConfigs *AuthConfigs
}

type compiled struct {
	plan   *engine.Plan
	issues engine.Issues
}

type activeList struct {
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
	return s
}

// AuthConfigs returns the service's auth configs.
func (s *Service) AuthConfigs() *AuthConfigs { return s.authConfigs }

// Close flushes pending execution records and stops the writer.
func (s *Service) Close(ctx context.Context) error {
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

// Package store defines integrationd's persistence: integrations, their
// versions and executions, and auth configs. Implementations live in sub-packages (sqlite,
// later postgres) and all pass the conformance suite in storetest.
//
// The store knows nothing of the integration model: version content and
// execution payloads are opaque JSON documents owned by the service layer.
package store

import (
	"context"
	"errors"
	"time"
)

// Sentinel errors. Callers compare with errors.Is; the API layer alone maps
// them to google.rpc codes.
var (
	ErrNotFound           = errors.New("not found")
	ErrAlreadyExists      = errors.New("already exists")
	ErrFailedPrecondition = errors.New("failed precondition")
	// ErrInvalidArgument reports a malformed request, such as an
	// ExecutionQuery.After cursor that the store did not issue.
	ErrInvalidArgument = errors.New("invalid argument")
)

// Version states as Google names them.
const (
	StateDraft    = "DRAFT"
	StateActive   = "ACTIVE"
	StateArchived = "ARCHIVED"
	StateSnapshot = "SNAPSHOT"
)

// IntegrationKey names one integration: projects/{Project}/locations/{Location}/integrations/{Name}.
type IntegrationKey struct {
	Project, Location, Name string
}

// Integration is the parent of versions. It exists from the first version's
// creation until it is deleted.
type Integration struct {
	Key         IntegrationKey
	Description string
	// ActiveVersion is the ID of the published version, "" when none is.
	ActiveVersion string
	CreateTime    time.Time
	UpdateTime    time.Time
}

// Version is one integration version. Content is the version JSON as the
// service encoded it (without output-only fields, which the service derives
// from the columns below).
type Version struct {
	Key            IntegrationKey
	ID             string // UUID, the last segment of the resource name
	SnapshotNumber int64  // assigned by CreateVersion: 1 + the highest ever used in the integration
	State          string // StateDraft, StateActive, StateArchived, StateSnapshot
	UserLabel      string
	Description    string
	Content        []byte // JSON
	// ConfigParameters is the JSON object of config variable values bound at
	// publish (name -> ValueType JSON), nil when never published.
	ConfigParameters []byte
	CreateTime       time.Time
	UpdateTime       time.Time
}

// VersionQuery selects versions of one integration.
type VersionQuery struct {
	Key IntegrationKey
	// States, if non-empty, keeps versions whose State is one of these.
	States []string
	// UserLabel, if non-nil, keeps versions with exactly this label.
	UserLabel *string
	// SnapshotNumber, if non-nil, keeps the version with this number.
	SnapshotNumber *int64
	// OrderBy is "snapshot_number" (default, descending) or "create_time" (descending).
	OrderBy string
	// Offset and Limit page the result; Limit <= 0 means no limit.
	Offset, Limit int
}

// IntegrationQuery selects integrations of one project and location.
type IntegrationQuery struct {
	Project, Location string
	// NameEquals, if set, keeps the integration with exactly this name.
	NameEquals string
	// NameContains, if set, keeps integrations whose name contains it.
	NameContains string
	// After is the keyset cursor: the name of the last integration already returned.
	After string
	Limit int
}

// Execution is one run of an integration (one trigger of one version).
// Request, Response and Details are JSON documents owned by the service.
type Execution struct {
	Key       IntegrationKey
	ID        string // UUID, the last segment of the resource name
	VersionID string
	TriggerID string
	// RequestID is the :execute requestId ("" when none). A non-empty
	// RequestID is unique within an integration.
	RequestID       string
	State           string // PENDING, PROCESSING, SUCCEEDED, FAILED, CANCELLED, RETRY_ON_HOLD, SUSPENDED
	ExecutionMethod string // POST, POST_TO_QUEUE, SCHEDULE
	// Params are the request parameter values flattened to text, used by
	// the parameter filters of ListExecutions: key -> value text.
	Params     map[string]string
	Request    []byte // JSON
	Response   []byte // JSON
	Details    []byte // JSON
	CreateTime time.Time
	UpdateTime time.Time
	// ParentID is the execution whose Call Integration or loop task started
	// this one; "" for a top-level execution.
	ParentID string
}

// Job is durable work: a row that a worker claims (leases), runs and
// deletes when done. A worker that dies loses its lease when it expires,
// and the job runs again: work is at least once, so jobs must be
// idempotent.
type Job struct {
	ID   int64 // assigned by the store
	Kind string
	// Key, when set, is unique: a job with a key already used (even by a
	// job since done, until PurgeJobKeys forgets it) is not added.
	Key        string
	Payload    []byte
	RunAt      time.Time
	Attempt    int    // claims so far, including the current one
	Owner      string // the worker holding the lease, "" when free
	LeaseUntil time.Time
	LastError  string
}

// Change is what one step of an execution's life writes at once:
// records, the saved state of a suspended execution, its suspensions, and
// the jobs that the step finishes and starts.
type Change struct {
	Executions  []*Execution
	Checkpoints []*Checkpoint // Data nil deletes the checkpoint
	Suspensions []*Suspension // inserted or replaced by (Key, ExecutionID, ID)
	DoneJobs    []int64
	AddJobs     []*Job // skipped when their Key was used, as in Commit
}

// Checkpoint is the saved state of a suspended execution (the engine's
// checkpoint, opaque here).
type Checkpoint struct {
	Key         IntegrationKey
	ExecutionID string
	Data        []byte
}

// Suspension is one suspended task of an execution (Suspend, Approval,
// Timer). Doc is a JSON document owned by the service.
type Suspension struct {
	Key         IntegrationKey
	ExecutionID string
	ID          string
	TaskID      string
	Kind        string
	State       string // PENDING, LIFTED, REJECTED
	Doc         []byte
	CreateTime  time.Time
	UpdateTime  time.Time
}

// ExecutionQuery selects executions. Results are newest first: CreateTime
// descending, then ID descending.
type ExecutionQuery struct {
	// Key.Name "-" selects executions of every integration in the project and location.
	Key         IntegrationKey
	ExecutionID string
	// ParentID, if set, keeps the sub-executions of this execution.
	ParentID  string
	TriggerID string
	States    []string
	// CreatedAfter / CreatedBefore bound CreateTime (exclusive); zero means unbounded.
	CreatedAfter, CreatedBefore time.Time
	// ParamKey / ParamValue keep executions that have a request parameter
	// with this key (when set) and/or with this value text (when set).
	ParamKey, ParamValue string
	// After is an opaque keyset cursor returned as Next by the previous page.
	After string
	Limit int
}

// AuthConfigKey names one auth config: projects/{Project}/locations/{Location}/authConfigs/{ID}.
type AuthConfigKey struct {
	Project, Location, ID string
}

// AuthConfig is one auth config (authentication profile). Doc holds the
// resource's non-secret fields as JSON owned by the service; Credential
// holds the secret part sealed by the service, never plaintext.
type AuthConfig struct {
	Key            AuthConfigKey
	DisplayName    string
	CredentialType string
	Doc            []byte // JSON
	// Credential is the sealed credential; nil when the auth config has none.
	Credential []byte
	CreateTime time.Time
	UpdateTime time.Time
}

// AuthConfigQuery selects auth configs of one project and location,
// ordered by ID.
type AuthConfigQuery struct {
	Project, Location string
	// DisplayName, if set, keeps the auth configs with exactly this display name.
	DisplayName string
	// CredentialType, if set, keeps the auth configs of this credential type.
	CredentialType string
	// After is the keyset cursor: the ID of the last auth config already returned.
	After string
	// Limit bounds the page; <= 0 means no limit.
	Limit int
}

// Store is implemented by every backend. Every method is safe for
// concurrent use.
type Store interface {
	// CreateVersion creates the integration if it does not exist, assigns
	// v.SnapshotNumber, and stores v. v.ID must be set by the caller.
	CreateVersion(ctx context.Context, v *Version) error
	GetVersion(ctx context.Context, key IntegrationKey, id string) (*Version, error)
	// ListVersions returns the page and the total number of matches.
	ListVersions(ctx context.Context, q VersionQuery) ([]*Version, int, error)
	// UpdateVersion replaces the mutable fields (State excepted) of an
	// existing version: UserLabel, Description, Content.
	UpdateVersion(ctx context.Context, v *Version) error
	// DeleteVersion removes a version; ErrFailedPrecondition if it is the active one.
	DeleteVersion(ctx context.Context, key IntegrationKey, id string) error
	// PublishVersion makes id the integration's only ACTIVE version: the
	// previously ACTIVE version, if any, becomes SNAPSHOT (Google: "tagged
	// PREVIOUSLY_PUBLISHED"). config (may be nil) is stored as the version's
	// ConfigParameters. ErrFailedPrecondition if id is ARCHIVED.
	PublishVersion(ctx context.Context, key IntegrationKey, id string, config []byte) error
	// UnpublishVersion turns the ACTIVE version id into SNAPSHOT;
	// ErrFailedPrecondition if it is not active.
	UnpublishVersion(ctx context.Context, key IntegrationKey, id string) error
	// ActiveVersions returns the ACTIVE version of each integration; key.Name
	// "-" means every integration of the project and location, and the zero
	// key every integration of every project and location.
	ActiveVersions(ctx context.Context, key IntegrationKey) ([]*Version, error)

	GetIntegration(ctx context.Context, key IntegrationKey) (*Integration, error)
	// ListIntegrations returns integrations ordered by name.
	ListIntegrations(ctx context.Context, q IntegrationQuery) ([]*Integration, error)
	// DeleteIntegration removes an integration with all its versions and executions.
	DeleteIntegration(ctx context.Context, key IntegrationKey) error

	// PutExecutions inserts or replaces executions (by Key and ID) in one
	// transaction. ErrAlreadyExists if a new execution's non-empty RequestID
	// is already used by another execution of the same integration.
	PutExecutions(ctx context.Context, es []*Execution) error
	GetExecution(ctx context.Context, key IntegrationKey, id string) (*Execution, error)
	// FindExecutionByRequestID returns the execution of key with this requestId.
	FindExecutionByRequestID(ctx context.Context, key IntegrationKey, requestID string) (*Execution, error)
	// ListExecutions returns a page and the cursor of the next one ("" when none).
	ListExecutions(ctx context.Context, q ExecutionQuery) (page []*Execution, next string, err error)

	// Commit is PutExecutions, deleting the jobs done and adding the jobs
	// add, all in one transaction. A job of add whose Key was ever used
	// (within the key retention) is skipped.
	Commit(ctx context.Context, es []*Execution, done []int64, add []*Job) error
	// Apply makes every change of c in one transaction.
	Apply(ctx context.Context, c *Change) error
	// GetCheckpoint returns the saved state of a suspended execution;
	// ErrNotFound when there is none.
	GetCheckpoint(ctx context.Context, key IntegrationKey, executionID string) ([]byte, error)
	// ListSuspensions returns the suspensions of an execution, oldest first.
	ListSuspensions(ctx context.Context, key IntegrationKey, executionID string) ([]*Suspension, error)
	// GetSuspension returns one suspension; ErrNotFound if there is none.
	GetSuspension(ctx context.Context, key IntegrationKey, executionID, id string) (*Suspension, error)
	// ClaimJobs leases to owner, until now+lease, up to limit jobs due at
	// now (RunAt <= now) that no live lease holds, earliest RunAt first,
	// and increments their Attempt.
	ClaimJobs(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]*Job, error)
	// ExtendLeases moves the lease of every job owner holds to until.
	ExtendLeases(ctx context.Context, owner string, until time.Time) error
	// ReleaseJob gives a held job back, due at runAt, recording lastError.
	ReleaseJob(ctx context.Context, id int64, runAt time.Time, lastError string) error
	// RescheduleJob makes the job with key due at runAt; ErrNotFound if
	// there is none, ErrFailedPrecondition if a live lease holds it.
	RescheduleJob(ctx context.Context, key string, runAt time.Time, now time.Time) error
	// TakeJob deletes the job with key unless a live lease holds it and
	// returns it; ErrNotFound if there is none, ErrFailedPrecondition if
	// it is held.
	TakeJob(ctx context.Context, key string, now time.Time) (*Job, error)
	// NextJobTime is the earliest RunAt of the jobs, ok false when none.
	NextJobTime(ctx context.Context) (t time.Time, ok bool, err error)
	// PurgeJobKeys forgets job keys used before t.
	PurgeJobKeys(ctx context.Context, before time.Time) error

	// CreateAuthConfig stores a new auth config; a zero CreateTime or
	// UpdateTime is set to now, in a too. ErrAlreadyExists if the key is
	// taken.
	CreateAuthConfig(ctx context.Context, a *AuthConfig) error
	GetAuthConfig(ctx context.Context, key AuthConfigKey) (*AuthConfig, error)
	// ListAuthConfigs returns auth configs ordered by ID.
	ListAuthConfigs(ctx context.Context, q AuthConfigQuery) ([]*AuthConfig, error)
	// UpdateAuthConfig replaces DisplayName, CredentialType, Doc and
	// Credential of an existing auth config and sets its UpdateTime (to now
	// when zero); CreateTime is kept. ErrNotFound if it does not exist.
	UpdateAuthConfig(ctx context.Context, a *AuthConfig) error
	// DeleteAuthConfig removes an auth config; ErrNotFound if there is none.
	DeleteAuthConfig(ctx context.Context, key AuthConfigKey) error

	Close() error
}

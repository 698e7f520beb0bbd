package engine

import (
	"context"
	"errors"
	"time"

	"github.com/integrationd/integrationd/internal/value"
)

// Invoker runs other integrations on behalf of a task: Call Integration,
// For Each, For Each Parallel and While. The service implements it; the
// engine only passes it through to tasks, so that it never depends on
// storage.
type Invoker interface {
	// Invoke starts the integrations that c names. Sync calls return when
	// every child has ended, with one SubResult per child (ordered by
	// integration name); async calls return as soon as the children are
	// accepted, with their ids only. The error is for calls that could not
	// start at all (no such trigger, bad inputs, depth limit); a child
	// that ran and failed is reported in its SubResult.
	Invoke(ctx context.Context, c *SubCall) ([]SubResult, error)
}

// SubCall asks for sub-executions.
type SubCall struct {
	Parent ExecInfo
	TaskID string // the calling task
	// TriggerID is the child's trigger: api_trigger/… or private_trigger/….
	TriggerID string
	// Integration names the one integration to run; "" runs every
	// published integration of the parent's project and location that has
	// the trigger.
	Integration string
	// Inputs are the child's input values by variable name, converted by
	// the invoker to the child's declared kinds.
	Inputs map[string]value.Value
	Async  bool
	// Delay postpones an async child.
	Delay time.Duration
}

// SubResult is one child execution.
type SubResult struct {
	ExecutionID string
	Integration string
	// State is the child's final state (SUCCEEDED, FAILED, CANCELLED), or
	// "" for an async child that has not ended.
	State string
	// Vars are the child's variables at its end (sync children only).
	Vars map[string]value.Value
	// Err is the child's failure; nil when it succeeded or is async.
	Err error
}

// ErrNoInvoker is returned to tasks that call sub-integrations when the
// run was given no Invoker.
var ErrNoInvoker = errors.New("this run cannot call sub-integrations (no invoker configured)")

package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/integrationd/integrationd/internal/value"
)

// SuspendRequest is the error a task returns from Execute to suspend the
// execution until the service lifts the suspension (Google's Suspend and
// Approval tasks, and the Timer task beyond its synchronous range).
// Returning it is not a failure: no retry and no failure policy applies,
// and the attempt is recorded without an error. The task's record becomes
// TaskSuspended, its outgoing edges stay unresolved, and the other branches
// go on until nothing else can run; the run then ends in StateSuspended
// unless it failed fatally, a Return task ended it or it was cancelled
// meanwhile (those win, and the suspended tasks are recorded CANCELLED).
// Wrapped requests are found with errors.As.
//
// A task's successPolicy.finalState SUSPENDED is not what suspends it: the
// engine does not read that field, so the task alone decides (a Timer may
// pause synchronously and return nil).
type SuspendRequest struct {
	// Kind names what the suspension waits for; the engine does not read
	// it (e.g. the task type: "SuspendTask", "SuspensionTask").
	Kind string
	// Data is what the service needs to manage the suspension (its id, an
	// expiry, a timer's due time). It must be JSON or empty; the engine
	// keeps it in the checkpoint without reading it. A request whose Data
	// is not JSON fails the attempt like any error (code 500).
	Data json.RawMessage
}

func (s *SuspendRequest) Error() string {
	if s == nil || s.Kind == "" {
		return "task asks to suspend the execution"
	}
	return "task asks to suspend the execution (" + s.Kind + ")"
}

// SuspendedTask is a task that waits for a Lift.
type SuspendedTask struct {
	TaskID  string
	Request SuspendRequest
}

// Lift ends the suspension of one task when passed to Resume.
type Lift struct {
	TaskID string
	// Outputs are variables set, in name order, before the task succeeds
	// (e.g. its suspensionResult output); declared variables convert to
	// their kinds, and a value that does not convert fails the task with
	// code 400. Ignored when Err is set.
	Outputs map[string]value.Value
	// Err, when non-nil, fails the task with it: `ErrorInfo` is set (a
	// *TaskError gives its code), then the task's failure policy and error
	// catchers apply as to any failed attempt, except that retrying
	// strategies do not retry (the attempt ended when it suspended; a
	// RESTART_INTEGRATION_WITH_BACKOFF policy does restart the execution).
	// A *SuspendRequest keeps the task suspended with the new request.
	Err error
}

// Sentinel errors of Resume; nothing has run when Resume returns one.
var (
	// ErrBadCheckpoint: the checkpoint is malformed, of an unknown format
	// version, inconsistent with the plan, or of another execution.
	ErrBadCheckpoint = errors.New("invalid checkpoint")
	// ErrPlanMismatch: the checkpoint was taken with another version of
	// the integration (its fingerprint or version id differs).
	ErrPlanMismatch = errors.New("checkpoint of another version of the integration")
	// ErrNotSuspended: a Lift names a task that is not suspended (unknown,
	// already lifted, never suspended, or named twice in one call).
	ErrNotSuspended = errors.New("task is not suspended")
)

// Resume continues an execution that ended in StateSuspended from the
// Checkpoint of its last Result. p must be compiled from the same version
// (possibly in another process). Only req.Exec is read: the trigger and
// the inputs come from the checkpoint.
//
// Resume rebuilds the run without re-running anything, completes each
// lifted task in lifts order (a success sets its Outputs, then resolves its
// edges against the current variables; a failure goes through the task's
// failure policy), then goes on like Run. Tasks suspended and not lifted
// stay suspended: the result is StateSuspended again, with a new
// Checkpoint, when nothing else can run. The Result covers the whole
// execution: task records, attempts and log lines from before the
// suspension are kept, and the last execution attempt spans the
// suspension (its End is when this call ended).
//
// Resume returns an error wrapping ErrBadCheckpoint, ErrPlanMismatch or
// ErrNotSuspended, and a nil Result, when it cannot resume; nothing has
// run then, and the checkpoint remains valid for a corrected call. With a
// ctx already done, the result is StateCancelled, like Run's: that is how
// the service records the cancellation of a suspended execution (no lifts,
// a cancelled ctx); the lifts given are applied first, but no further task
// runs.
func Resume(ctx context.Context, p *Plan, checkpoint []byte, req Request, lifts []Lift, opts Options) (*Result, error) {
	opts.setDefaults()
	r, res, err := restore(p, checkpoint, req, opts)
	if err != nil {
		return nil, fmt.Errorf("resume: %w", err)
	}
	if err := r.checkLifts(lifts); err != nil {
		return nil, fmt.Errorf("resume: %w", err)
	}
	r.susp.lifts = lifts
	last := len(res.Attempts) - 1
	start := res.Attempts[last].Start
	res.Attempts = res.Attempts[:last]
	return r.drive(ctx, res, start), nil
}

// suspensions is the suspension state of a run.
type suspensions struct {
	tasks []suspension // waiting for a Lift, in suspension order
	// restored: the run comes from a checkpoint; execute applies lifts
	// instead of starting from the trigger.
	restored bool
	lifts    []Lift
}

// suspension is a task waiting for a Lift.
type suspension struct {
	n   *node
	req *SuspendRequest
}

// suspendRequest returns the SuspendRequest in err's chain, or nil and err.
// A request whose Data is not JSON becomes the task's failure.
func suspendRequest(n *node, err error) (*SuspendRequest, error) {
	var sr *SuspendRequest
	if !errors.As(err, &sr) {
		return nil, err
	}
	if sr == nil {
		return &SuspendRequest{}, nil
	}
	if len(sr.Data) > 0 && !json.Valid(sr.Data) {
		return nil, Errorf(500, "task %s (%s) asked to suspend with data that is not JSON", n.id, n.cfg.Task)
	}
	return sr, nil
}

// suspend records that n waits for a Lift; its edges stay unresolved.
func (r *run) suspend(n *node, sr *SuspendRequest) {
	st := r.states[n]
	st.rec.State = TaskSuspended
	st.scope.suspended++
	if r.susp == nil {
		r.susp = &suspensions{}
	}
	r.susp.tasks = append(r.susp.tasks, suspension{n: n, req: sr})
	r.opts.Logger.Info("task suspended", "execution_id", r.req.Exec.ExecutionID, "task_id", n.id, "task", n.cfg.Task, "kind", sr.Kind)
}

// cancelSuspensions marks the suspended tasks CANCELLED: the run ended
// otherwise than suspended, so they will never be lifted.
func (r *run) cancelSuspensions() {
	if r.susp == nil {
		return
	}
	for _, s := range r.susp.tasks {
		r.states[s.n].rec.State = TaskCancelled
	}
}

// suspendedIndex is the index of task id in r.susp.tasks, or -1.
func (r *run) suspendedIndex(id string) int {
	if r.susp == nil {
		return -1
	}
	return slices.IndexFunc(r.susp.tasks, func(s suspension) bool { return s.n.id == id })
}

// checkLifts reports the first lift that names no suspended task.
func (r *run) checkLifts(lifts []Lift) error {
	for i, l := range lifts {
		if r.suspendedIndex(l.TaskID) < 0 {
			why := "no such task"
			if n, ok := r.p.nodes[l.TaskID]; ok {
				why = "never ran"
				if st := r.states[n]; st != nil && st.rec != nil {
					why = "its state is " + st.rec.State
				}
			}
			return fmt.Errorf("%w: lift of task %q: %s", ErrNotSuspended, l.TaskID, why)
		}
		if slices.ContainsFunc(lifts[:i], func(o Lift) bool { return o.TaskID == l.TaskID }) {
			return fmt.Errorf("%w: task %q is lifted twice in one call", ErrNotSuspended, l.TaskID)
		}
	}
	return nil
}

// applyLifts completes the lifted tasks as if their suspending attempt
// had just returned.
func (r *run) applyLifts() {
	lifts := r.susp.lifts
	r.susp.lifts, r.susp.restored = nil, false
	for i := range lifts {
		l := &lifts[i]
		k := r.suspendedIndex(l.TaskID)
		n := r.susp.tasks[k].n
		r.susp.tasks = slices.Delete(r.susp.tasks, k, k+1)
		st := r.states[n]
		st.scope.suspended--
		st.scope.running++
		err := l.Err
		if err == nil {
			err = r.setOutputs(n, l.Outputs)
		}
		if err == nil && n.checkPost {
			err = r.checkSchemas(n, JSONValidationPost)
		}
		c := completion{n: n}
		var msg string
		if err != nil {
			var sr *SuspendRequest
			var ret *ReturnError
			switch sr, err = suspendRequest(n, err); {
			case sr != nil:
				c.err = sr
			case errors.As(err, &ret): // ends the execution, as from Execute
				c.err, msg = err, err.Error()
			default:
				c.err, msg = err, err.Error()
				c.pol = r.failurePolicy(n, err)
			}
		}
		// The attempt that asked to suspend lasts until the lift.
		if a := st.rec.Attempts; len(a) > 0 {
			a[len(a)-1].End, a[len(a)-1].Error = r.opts.Now(), msg
		}
		r.complete(c)
	}
}

func (r *run) setOutputs(n *node, outs map[string]value.Value) error {
	for _, name := range slices.Sorted(maps.Keys(outs)) {
		if err := r.vars.Set(name, outs[name]); err != nil {
			return Errorf(400, "task %s: lift output: %v", n.id, err)
		}
	}
	return nil
}

// suspendResult fills the suspended tasks and the checkpoint of a run
// that ended in StateSuspended.
func (r *run) suspendResult(res *Result) {
	cp, err := r.checkpoint(res)
	if err != nil { // only a task's unencodable data or a time out of range
		r.cancelSuspensions()
		res.State, res.Err = StateFailed, fmt.Errorf("encode checkpoint: %w", err)
		res.Attempts[len(res.Attempts)-1].Error = res.Err.Error()
		return
	}
	res.Checkpoint = cp
	res.Suspended = make([]SuspendedTask, len(r.susp.tasks))
	for i, s := range r.susp.tasks {
		res.Suspended[i] = SuspendedTask{TaskID: s.n.id, Request: *s.req}
	}
}

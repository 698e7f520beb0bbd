package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/integrationd/integrationd/internal/engine"
	"github.com/integrationd/integrationd/internal/rpc"
	"github.com/integrationd/integrationd/internal/spec"
	"github.com/integrationd/integrationd/internal/store"
)

// ScheduleRequest is a decoded :schedule call.
type ScheduleRequest struct {
	Key       store.IntegrationKey // Name "-": every integration with the trigger
	TriggerID string
	Inputs    map[string]*spec.ValueType
	RequestID string
	// ScheduleTime is when to run; zero or past: now.
	ScheduleTime time.Time
	// ExecutionID is userGeneratedExecutionId: the id to give the
	// execution ("" to generate one).
	ExecutionID string
}

// Schedule queues the integrations that req names to run asynchronously
// at req.ScheduleTime and returns their execution ids. The executions are
// PENDING until they run; they are durable once Schedule returns.
func (s *Service) Schedule(ctx context.Context, req *ScheduleRequest) ([]string, error) {
	if strings.TrimSpace(req.TriggerID) == "" {
		return nil, rpc.InvalidArgument("trigger_id", "trigger_id is required")
	}
	if req.Key.Name != "-" {
		if err := s.checkKey(req.Key); err != nil {
			return nil, err
		}
	}
	if strings.HasPrefix(req.TriggerID, PrivateTriggerPrefix) {
		return nil, rpc.InvalidArgument("trigger_id", "%s is a private trigger: only a Call Integration or loop task of another integration can start it", req.TriggerID)
	}
	targets, err := s.targets(ctx, req.Key, req.TriggerID)
	if err != nil {
		return nil, err
	}
	if req.ExecutionID != "" {
		if len(targets) > 1 {
			return nil, rpc.InvalidArgument("user_generated_execution_id", "a user-generated execution id names one execution, but trigger %s starts %d integrations", req.TriggerID, len(targets))
		}
		if strings.ContainsAny(req.ExecutionID, "/ ") || len(req.ExecutionID) > 128 {
			return nil, rpc.InvalidArgument("user_generated_execution_id", "%q is not a valid execution id (at most 128 characters, no '/' or space)", req.ExecutionID)
		}
	}
	now := s.cfg.Now().UTC()
	runAt := req.ScheduleTime
	if runAt.Before(now) {
		runAt = now
	}
	var specs []*execSpec
	ids := make([]string, 0, len(targets))
	for _, t := range targets {
		if req.RequestID != "" {
			if prev, err := s.st.FindExecutionByRequestID(ctx, t.v.Key, req.RequestID); err == nil {
				ids = append(ids, prev.ID) // a repeated request: the first one's execution
				continue
			} else if !errors.Is(err, store.ErrNotFound) {
				return nil, storeErr(err, "request "+req.RequestID)
			}
		}
		in, err := s.inputs(t.p, req.Inputs)
		if err != nil {
			return nil, err
		}
		id := req.ExecutionID
		if id == "" {
			id = uuid.NewString()
		} else if _, err := s.GetExecution(ctx, t.v.Key, id); err == nil {
			return nil, rpc.Errorf(rpc.CodeAlreadyExists, "execution %s already exists", ExecutionName(t.v.Key, id))
		}
		specs = append(specs, &execSpec{t: t, id: id, trigger: req.TriggerID, requestID: req.RequestID, in: in,
			mode: "ASYNC", method: "SCHEDULE", created: now})
		ids = append(ids, id)
	}
	if len(specs) > 0 {
		if err := s.enqueueRuns(ctx, specs, runAt); err != nil {
			var re *rpc.Error
			if errors.As(err, &re) && re.Code == rpc.CodeAlreadyExists && req.RequestID != "" {
				// A concurrent request with the same requestId won.
				return s.Schedule(ctx, req)
			}
			return nil, err
		}
	}
	return ids, nil
}

// resumeOnHold runs the PENDING (ON_HOLD) execution req.ExecutionID now,
// synchronously, and answers as :execute does.
func (s *Service) resumeOnHold(ctx context.Context, req *ExecuteRequest) (*ExecuteResponse, error) {
	if req.Key.Name == "-" {
		return nil, rpc.InvalidArgument("name", "running execution %s needs the integration name, not '-'", req.ExecutionID)
	}
	e, err := s.GetExecution(ctx, req.Key, req.ExecutionID)
	if err != nil {
		return nil, err
	}
	j, err := s.st.TakeJob(ctx, runJobKey(req.ExecutionID), s.cfg.Now())
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, rpc.Errorf(rpc.CodeFailedPrecondition, "execution %s is %s, not ON_HOLD (PENDING): only scheduled executions waiting to run can be run with executionId", req.ExecutionID, e.State())
	case errors.Is(err, store.ErrFailedPrecondition):
		return nil, rpc.Errorf(rpc.CodeFailedPrecondition, "execution %s is already running", req.ExecutionID)
	case err != nil:
		return nil, storeErr(err, "execution "+req.ExecutionID)
	}
	var p runPayload
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		return nil, fmt.Errorf("execution %s: stored job payload: %w", req.ExecutionID, err)
	}
	es, err := s.specFromRecord(ctx, e.Execution, &p)
	if err != nil {
		return nil, rpc.Errorf(rpc.CodeFailedPrecondition, "execution %s cannot run: %v", req.ExecutionID, err)
	}
	if req.TriggerID != "" && req.TriggerID != es.trigger {
		return nil, rpc.InvalidArgument("trigger_id", "execution %s was scheduled for trigger %s, not %s", req.ExecutionID, es.trigger, req.TriggerID)
	}
	return s.runSync(ctx, req, es, true).result()
}

// CancelExecution cancels a PENDING, running or SUSPENDED execution: it
// ends CANCELLED. It reports FAILED_PRECONDITION for an execution that has
// ended, or that runs in another process.
func (s *Service) CancelExecution(ctx context.Context, k store.IntegrationKey, id, reason string) error {
	view, err := s.GetExecution(ctx, k, id)
	if err != nil {
		return err
	}
	e := view.Execution
	if terminal(e.State) {
		return rpc.Errorf(rpc.CodeFailedPrecondition, "execution %s has ended (%s): only pending, running or suspended executions can be cancelled", id, e.State)
	}
	s.runMu.Lock()
	r := s.running[id]
	if r != nil {
		r.cancelled = true
		r.cancel()
	}
	s.runMu.Unlock()
	if r != nil {
		return nil // the run ends CANCELLED and records itself
	}
	if e.State == engine.StateSuspended {
		return s.cancelSuspended(ctx, e, reason)
	}
	if s.cancelOnHold(ctx, e, reason) {
		return nil
	}
	return rpc.Errorf(rpc.CodeFailedPrecondition, "execution %s is %s in another process or between steps; try again", id, e.State)
}

// cancelOnHold cancels an execution waiting in the queue: its job is
// removed and its record ends CANCELLED in one step.
func (s *Service) cancelOnHold(ctx context.Context, e *store.Execution, reason string) bool {
	j, err := s.st.TakeJob(ctx, runJobKey(e.ID), s.cfg.Now())
	if err != nil {
		return false
	}
	msg := "cancelled"
	if reason != "" {
		msg += ": " + reason
	}
	rec := s.recordStub(e, &engine.Result{State: engine.StateCancelled, Err: errors.New(msg)})
	if err := s.st.Commit(ctx, []*store.Execution{rec}, nil, nil); err != nil {
		// Put the job back (under no key: its key stays used): the
		// execution is not cancelled after all.
		s.log.Error("cancelling a pending execution", "execution_id", e.ID, "error", err)
		if err := s.st.Commit(context.Background(), nil, nil, []*store.Job{{Kind: j.Kind, Payload: j.Payload, RunAt: j.RunAt}}); err != nil {
			s.log.Error("re-queueing a pending execution", "execution_id", e.ID, "error", err)
		}
		return false
	}
	return true
}

// cancelSuspended ends a suspended execution CANCELLED: the engine
// resumes it under a cancelled context, so that its records are complete,
// and the saved state is dropped. Its pending suspensions stay as they
// are; their jobs find the execution ended and do nothing.
func (s *Service) cancelSuspended(ctx context.Context, e *store.Execution, reason string) error {
	cp, err := s.st.GetCheckpoint(ctx, e.Key, e.ID)
	if err != nil {
		return storeErr(err, "saved state of "+ExecutionName(e.Key, e.ID))
	}
	es, err := s.specFromRecord(ctx, e, &runPayload{Mode: "ASYNC"})
	if err != nil {
		return s.failSuspended(ctx, e, err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	res, err := s.resumeTracked(cctx, es, cp, nil)
	if err != nil {
		return s.failSuspended(ctx, e, err)
	}
	if reason != "" {
		res.Err = fmt.Errorf("cancelled: %s", reason)
	}
	if err := s.apply(ctx, &store.Change{Executions: []*store.Execution{s.record(es, res, nil)},
		Checkpoints: []*store.Checkpoint{{Key: e.Key, ExecutionID: e.ID}}}); err != nil {
		return storeErr(err, "execution "+e.ID)
	}
	return nil
}

package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/integrationd/integrationd/internal/engine"
	"github.com/integrationd/integrationd/internal/rpc"
	"github.com/integrationd/integrationd/internal/store"
	"github.com/integrationd/integrationd/internal/suspend"
	"github.com/integrationd/integrationd/internal/value"
)

// Suspensions: a run that ends SUSPENDED (engine.StateSuspended) is saved
// in one store change — its record, the engine's checkpoint, a suspension
// row per suspended task and the jobs that watch them (expiry, reminder,
// timer, the approval email). suspensions:lift and :resolve, and those
// jobs, settle a suspension and queue a resume job; the resume job (on any
// process) runs engine.Resume from the checkpoint with every settled
// suspension not yet applied, and saves the outcome the same way.

// Suspension states (Google's ResolutionState).
const (
	suspPending  = "PENDING"
	suspLifted   = "LIFTED"
	suspRejected = "REJECTED"
)

// Job kinds of suspensions.
const (
	jobResume = "resume" // continue a suspended execution with its settled suspensions
	jobExpire = "expire" // settle a suspension at its expiry or a timer's due time
	jobNotify = "notify" // email the approvers (request or reminder)
)

// Notifier sends the Approval task's emails.
type Notifier interface {
	Notify(ctx context.Context, to []string, subject, body string) error
}

// suspDoc is a suspension's document: the task's request and the outcome.
type suspDoc struct {
	Request  *suspend.Data `json:"request"`
	Kind     string        `json:"kind"`
	Result   string        `json:"result,omitempty"`   // a lift's suspensionResult
	Resolver string        `json:"resolver,omitempty"` // who settled it ("expiry", "timer", a principal)
	Resolved time.Time     `json:"resolved,omitzero"`
	Applied  bool          `json:"applied,omitempty"` // the execution has resumed with it
}

// suspRef is the payload of the suspension jobs.
type suspRef struct {
	Project     string `json:"p"`
	Location    string `json:"l"`
	Integration string `json:"i"`
	Execution   string `json:"e"`
	Suspension  string `json:"s,omitempty"`
	Reminder    bool   `json:"reminder,omitempty"`
}

func (r *suspRef) key() store.IntegrationKey {
	return store.IntegrationKey{Project: r.Project, Location: r.Location, Name: r.Integration}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // plain structs of strings, bools and times
	}
	return b
}

// suspendedChange saves a run of es that ended SUSPENDED: the record, the
// checkpoint, the suspensions not yet known (known lists the tasks that
// already have a pending suspension) and their jobs.
func (s *Service) suspendedChange(es *execSpec, res *engine.Result, out *outcome, known map[string]bool) (*store.Change, error) {
	k := es.t.v.Key
	now := s.cfg.Now().UTC()
	c := &store.Change{
		Executions:  []*store.Execution{s.record(es, res, out)},
		Checkpoints: []*store.Checkpoint{{Key: k, ExecutionID: es.id, Data: res.Checkpoint}},
	}
	for _, st := range res.Suspended {
		if known[st.TaskID] {
			continue
		}
		d, err := suspend.Decode(st.Request.Data)
		if err != nil {
			return nil, fmt.Errorf("task %s: %w", st.TaskID, err)
		}
		if d.ID == "" {
			return nil, fmt.Errorf("task %s asked to suspend without a suspension id", st.TaskID)
		}
		kind := st.Request.Kind
		c.Suspensions = append(c.Suspensions, &store.Suspension{Key: k, ExecutionID: es.id, ID: d.ID, TaskID: st.TaskID,
			Kind: kind, State: suspPending, Doc: mustJSON(suspDoc{Request: d, Kind: kind}), CreateTime: now, UpdateTime: now})
		ref := suspRef{Project: k.Project, Location: k.Location, Integration: k.Name, Execution: es.id, Suspension: d.ID}
		switch {
		case kind == suspend.KindTimer:
			c.AddJobs = append(c.AddJobs, &store.Job{Kind: jobExpire, Key: "expire:" + d.ID, Payload: mustJSON(ref), RunAt: d.Due})
		case d.ExpireAfter > 0:
			c.AddJobs = append(c.AddJobs, &store.Job{Kind: jobExpire, Key: "expire:" + d.ID, Payload: mustJSON(ref), RunAt: now.Add(d.ExpireAfter)})
		}
		if kind == suspend.KindApproval && len(d.Emails) > 0 {
			c.AddJobs = append(c.AddJobs, &store.Job{Kind: jobNotify, Key: "notify:" + d.ID, Payload: mustJSON(ref), RunAt: now})
			if d.RemindAfter > 0 {
				r := ref
				r.Reminder = true
				c.AddJobs = append(c.AddJobs, &store.Job{Kind: jobNotify, Key: "remind:" + d.ID, Payload: mustJSON(r), RunAt: now.Add(d.RemindAfter)})
			}
		}
	}
	return c, nil
}

// saveSuspended writes a suspended run at once (a client may lift it as
// soon as it has the execution id), finishing the jobs done.
func (s *Service) saveSuspended(ctx context.Context, es *execSpec, res *engine.Result, out *outcome, known map[string]bool, done ...int64) error {
	c, err := s.suspendedChange(es, res, out, known)
	if err != nil {
		// A suspension the service cannot keep fails the execution.
		failed := &engine.Result{State: engine.StateFailed, Err: err, Vars: res.Vars, Tasks: res.Tasks, Attempts: res.Attempts, Logs: res.Logs}
		c = &store.Change{Executions: []*store.Execution{s.record(es, failed, out)}}
	}
	c.DoneJobs = append(c.DoneJobs, done...)
	if err := s.apply(ctx, c); err != nil {
		return fmt.Errorf("saving suspended execution %s: %w", es.id, err)
	}
	s.queue.notify()
	return nil
}

// apply writes c after the records already queued for the writer (a
// PROCESSING record must not land after the state that follows it).
func (s *Service) apply(ctx context.Context, c *store.Change) error {
	if err := s.writer.flush(ctx); err != nil {
		return err
	}
	return s.st.Apply(ctx, c)
}

// SuspensionView is a suspension as the API returns it.
type SuspensionView struct {
	Suspension *store.Suspension
	Doc        *value.Object
}

func suspensionName(k store.IntegrationKey, execID, id string) string {
	return ExecutionName(k, execID) + "/suspensions/" + id
}

func (s *Service) suspensionView(sp *store.Suspension) (*SuspensionView, error) {
	var d suspDoc
	if err := json.Unmarshal(sp.Doc, &d); err != nil {
		return nil, fmt.Errorf("stored suspension %s: %w", sp.ID, err)
	}
	o := value.NewObject(10)
	o.Set("name", suspensionName(sp.Key, sp.ExecutionID, sp.ID))
	o.Set("eventExecutionInfoId", sp.ExecutionID)
	o.Set("integration", sp.Key.Name)
	o.Set("taskId", sp.TaskID)
	o.Set("state", sp.State)
	o.Set("createTime", ts(sp.CreateTime))
	o.Set("lastModifyTime", ts(sp.UpdateTime))
	if r := d.Request; r != nil && sp.Kind == suspend.KindApproval {
		ac := value.NewObject(3)
		ac.Set("customMessage", r.CustomMessage)
		emails := make([]any, len(r.Emails))
		for i, e := range r.Emails {
			emails[i] = e
		}
		ac.Set("emailAddresses", emails)
		exp := value.NewObject(3)
		if r.ExpireAfter > 0 {
			exp.Set("expireTime", ts(sp.CreateTime.Add(r.ExpireAfter)))
		}
		exp.Set("liftWhenExpired", r.LiftWhenExpired)
		if r.RemindAfter > 0 {
			exp.Set("remindTime", ts(sp.CreateTime.Add(r.RemindAfter)))
		}
		ac.Set("expiration", exp)
		o.Set("approvalConfig", ac)
	}
	if !d.Resolved.IsZero() {
		audit := value.NewObject(2)
		audit.Set("resolveTime", ts(d.Resolved))
		audit.Set("resolver", d.Resolver)
		o.Set("audit", audit)
	}
	if d.Result != "" {
		o.Set("suspensionResult", d.Result) // integrationd's addition
	}
	return &SuspensionView{Suspension: sp, Doc: o}, nil
}

// ListSuspensions lists the suspensions of an execution.
func (s *Service) ListSuspensions(ctx context.Context, k store.IntegrationKey, execID string) ([]*SuspensionView, error) {
	if _, err := s.GetExecution(ctx, k, execID); err != nil {
		return nil, err
	}
	sps, err := s.st.ListSuspensions(ctx, k, execID)
	if err != nil {
		return nil, storeErr(err, "suspensions of "+ExecutionName(k, execID))
	}
	out := make([]*SuspensionView, 0, len(sps))
	for _, sp := range sps {
		v, err := s.suspensionView(sp)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// Settle is how a suspension ends.
type Settle struct {
	Lifted   bool   // false: rejected
	Result   string // a lift's suspensionResult
	Resolver string
	// Via names the method, for errors: "lift", "resolve".
	Via string
}

// SettleSuspension ends a pending suspension and queues the execution's
// resumption.
func (s *Service) SettleSuspension(ctx context.Context, k store.IntegrationKey, execID, id string, how Settle) error {
	sp, err := s.st.GetSuspension(ctx, k, execID, id)
	if err != nil {
		return storeErr(err, "suspension "+suspensionName(k, execID, id))
	}
	if sp.State != suspPending {
		return rpc.Errorf(rpc.CodeFailedPrecondition, "suspension %s is %s: only PENDING suspensions can be settled", id, sp.State)
	}
	if e, err := s.GetExecution(ctx, k, execID); err != nil {
		return err
	} else if e.State() != engine.StateSuspended {
		return rpc.Errorf(rpc.CodeFailedPrecondition, "execution %s is %s, no longer suspended", execID, e.State())
	}
	if how.Via == "lift" && sp.Kind == suspend.KindApproval {
		return rpc.Errorf(rpc.CodeFailedPrecondition, "suspension %s belongs to an Approval task, which is approved or rejected with :resolve, not lifted", id)
	}
	if sp.Kind == suspend.KindTimer {
		return rpc.Errorf(rpc.CodeFailedPrecondition, "suspension %s belongs to a Timer task, which resumes only by itself", id)
	}
	c, err := s.settleChange(sp, how)
	if err != nil {
		return err
	}
	if err := s.st.Apply(ctx, c); err != nil {
		return storeErr(err, "suspension "+id)
	}
	s.queue.notify()
	return nil
}

// settleChange marks sp settled and queues the resume job.
func (s *Service) settleChange(sp *store.Suspension, how Settle) (*store.Change, error) {
	var d suspDoc
	if err := json.Unmarshal(sp.Doc, &d); err != nil {
		return nil, fmt.Errorf("stored suspension %s: %w", sp.ID, err)
	}
	now := s.cfg.Now().UTC()
	d.Result, d.Resolver, d.Resolved = how.Result, how.Resolver, now
	c := *sp
	c.State, c.UpdateTime, c.Doc = suspRejected, now, mustJSON(d)
	if how.Lifted {
		c.State = suspLifted
	}
	ref := suspRef{Project: sp.Key.Project, Location: sp.Key.Location, Integration: sp.Key.Name, Execution: sp.ExecutionID}
	return &store.Change{
		Suspensions: []*store.Suspension{&c},
		AddJobs:     []*store.Job{{Kind: jobResume, Key: "resume:" + sp.ID, Payload: mustJSON(ref), RunAt: now}},
	}, nil
}

// lift turns a settled suspension into the engine's Lift.
func lift(sp *store.Suspension, d *suspDoc) engine.Lift {
	l := engine.Lift{TaskID: sp.TaskID, Outputs: map[string]value.Value{}}
	var outs map[string]string
	if d.Request != nil {
		outs = d.Request.Outputs
	}
	switch sp.Kind {
	case suspend.KindApproval:
		if v := outs[suspend.OutIsApproved]; v != "" {
			l.Outputs[v] = value.Boolean(sp.State == suspLifted)
		}
	case suspend.KindSuspend:
		if sp.State == suspRejected {
			l.Err = engine.Errorf(409, "suspension %s was rejected", sp.ID)
			return l
		}
		if v := outs[suspend.OutResult]; v != "" {
			l.Outputs[v] = value.Str(d.Result)
		}
	}
	return l
}

// resume continues a suspended execution with its settled suspensions.
// It is idempotent: suspensions already applied are skipped, and an
// execution no longer SUSPENDED is left alone.
func (s *Service) resume(ctx context.Context, j *store.Job) error {
	var ref suspRef
	if err := decodePayload(j, &ref); err != nil {
		return err
	}
	k := ref.key()
	done := &store.Change{DoneJobs: []int64{j.ID}}
	e, err := s.st.GetExecution(ctx, k, ref.Execution)
	if errors.Is(err, store.ErrNotFound) {
		return s.st.Apply(ctx, done)
	}
	if err != nil {
		return err
	}
	if e.State != engine.StateSuspended {
		return s.st.Apply(ctx, done)
	}
	sps, err := s.st.ListSuspensions(ctx, k, e.ID)
	if err != nil {
		return err
	}
	var lifts []engine.Lift
	var applied []*store.Suspension
	known := map[string]bool{}
	for _, sp := range sps {
		var d suspDoc
		if err := json.Unmarshal(sp.Doc, &d); err != nil {
			return fmt.Errorf("stored suspension %s: %w", sp.ID, err)
		}
		switch {
		case sp.State == suspPending:
			known[sp.TaskID] = true
		case !d.Applied:
			lifts = append(lifts, lift(sp, &d))
			d.Applied = true
			c := *sp
			c.Doc = mustJSON(d)
			applied = append(applied, &c)
		}
	}
	if len(lifts) == 0 {
		return s.st.Apply(ctx, done)
	}
	cp, err := s.st.GetCheckpoint(ctx, k, e.ID)
	if err != nil {
		return s.failSuspended(ctx, e, fmt.Errorf("its saved state is missing: %w", err), j.ID)
	}
	es, err := s.specFromRecord(ctx, e, &runPayload{Mode: "ASYNC"})
	if err != nil {
		return s.failSuspended(ctx, e, err, j.ID)
	}
	running := *e
	running.State, running.UpdateTime = "PROCESSING", s.cfg.Now().UTC()
	s.writer.enqueue(&running)
	res, err := s.resumeTracked(ctx, es, cp, lifts)
	if err != nil {
		return s.failSuspended(ctx, e, err, j.ID)
	}
	if ctx.Err() != nil && res.State == engine.StateCancelled && !s.cancelled(es.id) {
		return ctx.Err() // shutdown: resume again later
	}
	if res.State == engine.StateSuspended {
		c, err := s.suspendedChange(es, res, nil, known)
		if err != nil {
			return s.failSuspended(ctx, e, err, j.ID)
		}
		c.Suspensions = append(c.Suspensions, applied...)
		c.DoneJobs = append(c.DoneJobs, j.ID)
		if err := s.apply(ctx, c); err != nil {
			return err
		}
		s.queue.notify()
		return nil
	}
	return s.apply(ctx, &store.Change{
		Executions:  []*store.Execution{s.record(es, res, nil)},
		Checkpoints: []*store.Checkpoint{{Key: k, ExecutionID: e.ID}},
		Suspensions: applied,
		DoneJobs:    []int64{j.ID},
	})
}

// resumeTracked resumes es where :cancel can reach it.
func (s *Service) resumeTracked(ctx context.Context, es *execSpec, cp []byte, lifts []engine.Lift) (*engine.Result, error) {
	ctx, untrack := s.track(ctx, es.id)
	defer untrack()
	v := es.t.v
	return engine.Resume(ctx, es.t.p, cp, engine.Request{
		Exec: engine.ExecInfo{ExecutionID: es.id, IntegrationName: v.Key.Name, VersionID: v.ID, SnapshotNumber: v.SnapshotNumber,
			ProjectID: v.Key.Project, Region: v.Key.Location, Mode: es.mode, ParentID: es.parentID, Depth: es.depth},
		TriggerID: es.trigger,
	}, lifts, s.engineOptions())
}

// failSuspended ends a suspended execution that cannot resume as FAILED.
func (s *Service) failSuspended(ctx context.Context, e *store.Execution, cause error, done ...int64) error {
	rec := s.recordStub(e, &engine.Result{State: engine.StateFailed, Err: fmt.Errorf("execution %s cannot resume: %w", e.ID, cause)})
	return s.apply(ctx, &store.Change{Executions: []*store.Execution{rec},
		Checkpoints: []*store.Checkpoint{{Key: e.Key, ExecutionID: e.ID}}, DoneJobs: done})
}

// expire settles a suspension whose expiry (or timer) has come.
func (s *Service) expire(ctx context.Context, j *store.Job) error {
	var ref suspRef
	if err := decodePayload(j, &ref); err != nil {
		return err
	}
	sp, err := s.st.GetSuspension(ctx, ref.key(), ref.Execution, ref.Suspension)
	if err != nil || sp.State != suspPending {
		return s.st.Apply(ctx, &store.Change{DoneJobs: []int64{j.ID}})
	}
	var d suspDoc
	if err := json.Unmarshal(sp.Doc, &d); err != nil {
		return fmt.Errorf("stored suspension %s: %w", sp.ID, err)
	}
	how := Settle{Lifted: true, Resolver: "expiry"}
	switch sp.Kind {
	case suspend.KindTimer:
		how.Resolver = "timer"
	case suspend.KindApproval:
		how.Lifted = d.Request != nil && d.Request.LiftWhenExpired
	}
	c, err := s.settleChange(sp, how)
	if err != nil {
		return err
	}
	c.DoneJobs = append(c.DoneJobs, j.ID)
	if err := s.st.Apply(ctx, c); err != nil {
		return err
	}
	s.queue.notify()
	return nil
}

// notify emails the approvers of a pending approval (request or reminder).
func (s *Service) notify(ctx context.Context, j *store.Job) error {
	var ref suspRef
	if err := decodePayload(j, &ref); err != nil {
		return err
	}
	done := &store.Change{DoneJobs: []int64{j.ID}}
	sp, err := s.st.GetSuspension(ctx, ref.key(), ref.Execution, ref.Suspension)
	if err != nil || sp.State != suspPending {
		return s.st.Apply(ctx, done)
	}
	var d suspDoc
	if err := json.Unmarshal(sp.Doc, &d); err != nil || d.Request == nil {
		return s.st.Apply(ctx, done)
	}
	if s.cfg.Notifier == nil {
		s.log.Warn("approval request not emailed: no SMTP relay configured", "execution_id", sp.ExecutionID, "suspension", sp.ID)
		return s.st.Apply(ctx, done)
	}
	subject := "Approval requested: integration " + sp.Key.Name
	if ref.Reminder {
		subject = "Reminder: " + subject
	}
	var b strings.Builder
	if d.Request.CustomMessage != "" {
		b.WriteString(d.Request.CustomMessage + "\n\n")
	}
	fmt.Fprintf(&b, "Execution %s of integration %s waits for your approval (task %s).\n\n", sp.ExecutionID, sp.Key.Name, sp.TaskID)
	fmt.Fprintf(&b, "Approve: POST /v1/%s:resolve {\"suspension\":{\"state\":\"LIFTED\"}}\n", suspensionName(sp.Key, sp.ExecutionID, sp.ID))
	fmt.Fprintf(&b, "Reject:  POST /v1/%s:resolve {\"suspension\":{\"state\":\"REJECTED\"}}\n", suspensionName(sp.Key, sp.ExecutionID, sp.ID))
	if d.Request.ExpireAfter > 0 {
		fmt.Fprintf(&b, "\nIt expires at %s.\n", ts(sp.CreateTime.Add(d.Request.ExpireAfter)))
	}
	if err := s.cfg.Notifier.Notify(ctx, d.Request.Emails, subject, b.String()); err != nil {
		if j.Attempt < 5 {
			return fmt.Errorf("approval email: %w", err) // the queue runs the job again
		}
		s.log.Error("approval email not sent", "execution_id", sp.ExecutionID, "suspension", sp.ID, "error", err)
	}
	return s.st.Apply(ctx, done)
}

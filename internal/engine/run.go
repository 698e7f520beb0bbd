package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/integrationd/integrationd/internal/spec"
	"github.com/integrationd/integrationd/internal/value"
)

// Execution states (ExecutionDetails.state).
const (
	StateSucceeded = "SUCCEEDED"
	StateFailed    = "FAILED"
	StateCancelled = "CANCELLED"
	// StateSuspended: a task asked to suspend (see SuspendRequest) and
	// nothing else could run; Result.Checkpoint resumes the execution.
	StateSuspended = "SUSPENDED"
)

// Task states (TaskExecutionDetails.taskExecutionState).
const (
	TaskSucceed   = "SUCCEED"
	TaskFailed    = "FAILED"
	TaskFatal     = "FATAL"
	TaskSkipped   = "SKIPPED"
	TaskCancelled = "CANCELLED"
	// TaskSuspended: the task asked to suspend and waits for a Lift.
	TaskSuspended = "SUSPENDED"
)

// System variable names, as the reference service declares them.
const (
	VarExecutionMode   = "`ExecutionMode`"
	VarExecutionID     = "`ExecutionId`"
	VarIntegrationName = "`IntegrationName`"
	VarRegion          = "`Region`"
	VarProjectID       = "`ProjectId`"
	VarErrorInfo       = "`ErrorInfo`"
	// VarErrorMessage is the user variable older integrations declare to
	// receive a failed task's message.
	VarErrorMessage = "ErrorMessage"
)

var systemVars = []struct {
	name string
	kind value.Kind
}{
	{VarExecutionMode, value.String}, {VarErrorInfo, value.JSON}, {VarExecutionID, value.String},
	{VarIntegrationName, value.String}, {VarRegion, value.String}, {VarProjectID, value.String},
}

// SystemVarNames lists the system variables in the order :execute returns them.
func SystemVarNames() []string {
	names := make([]string, len(systemVars))
	for i, s := range systemVars {
		names[i] = s.name
	}
	return names
}

// Options tune one run.
type Options struct {
	Logger *slog.Logger
	// RetryScale multiplies retry delays (tests use a small one). Default 1.
	RetryScale float64
	// MaxDataBytes bounds the variables' total size (30 MB on Google's
	// service); 0 means no bound.
	MaxDataBytes int
	// MaxLogLines bounds the execution log. Default 1000.
	MaxLogLines int
	Now         func() time.Time
	// Invoker runs the sub-integrations that tasks call; nil: none.
	Invoker Invoker
}

func (o *Options) setDefaults() {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.RetryScale == 0 {
		o.RetryScale = 1
	}
	if o.MaxLogLines == 0 {
		o.MaxLogLines = 1000
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// Request is one execution to run.
type Request struct {
	Exec      ExecInfo
	TriggerID string
	// Inputs are values for declared or transient variables, already
	// converted to their declared kinds.
	Inputs map[string]value.Value
}

// Attempt is one attempt of a task or of the whole execution.
type Attempt struct {
	Start time.Time `json:"startTime"`
	End   time.Time `json:"endTime"`
	Error string    `json:"error,omitempty"`
}

// TaskRecord is what happened to one task.
type TaskRecord struct {
	TaskID      string    `json:"taskId"`
	Task        string    `json:"task"`
	DisplayName string    `json:"displayName,omitempty"`
	State       string    `json:"state"`
	Attempts    []Attempt `json:"attempts,omitempty"`
	Error       string    `json:"error,omitempty"`
	// Seq orders records by the time the task was decided (ran or skipped).
	Seq int `json:"-"`
}

// Result is the outcome of an execution.
type Result struct {
	State string
	// Err is the execution's error: a *TaskError, *ReturnError, or the
	// context's error for cancelled runs; nil on success and suspension.
	// A failure that happened before a suspension comes back from Resume
	// as a *TaskError with the original message and code.
	Err error
	// ErrorTask is the id of the task whose failure failed the execution.
	ErrorTask string
	Vars      map[string]value.Value
	Tasks     []*TaskRecord
	Attempts  []Attempt
	Logs      []LogLine
	// Suspended lists, in the order they suspended, every task that waits
	// for a Lift when State is StateSuspended (including tasks suspended
	// in an earlier run and not lifted since); nil otherwise.
	Suspended []SuspendedTask
	// Checkpoint is the state to pass to Resume when State is
	// StateSuspended; nil otherwise. It is opaque versioned JSON.
	Checkpoint []byte
}

// ErrNoTrigger is returned by Run for an unknown trigger id.
var ErrNoTrigger = errors.New("no such trigger")

// Run executes the plan from the trigger req.TriggerID and returns when no
// task remains runnable, when the execution fails fatally, or when ctx ends.
//
// A run in which tasks asked to suspend, and that neither failed fatally,
// returned through a Return task nor was cancelled, ends in
// StateSuspended with a Checkpoint for Resume.
func Run(ctx context.Context, p *Plan, req Request, opts Options) *Result {
	opts.setDefaults()
	tr, ok := p.triggers[req.TriggerID]
	if !ok {
		return &Result{State: StateFailed, Err: fmt.Errorf("%w %q", ErrNoTrigger, req.TriggerID)}
	}
	r := &run{p: p, tr: tr, req: req, opts: opts, logs: &logSink{max: opts.MaxLogLines}, attempt: 1}
	return r.drive(ctx, &Result{}, opts.Now())
}

// drive executes r, then restarts the integration as long as a
// RESTART_INTEGRATION_WITH_BACKOFF policy asks, filling res. start is when
// r's execution attempt began.
func (r *run) drive(ctx context.Context, res *Result, start time.Time) *Result {
	for {
		r.execute(ctx)
		res.Attempts = append(res.Attempts, Attempt{Start: start, End: r.opts.Now()})
		res.State, res.Err, res.ErrorTask = r.outcome()
		if res.State != StateSuspended {
			r.cancelSuspensions()
		}
		res.Vars = r.vars.Final()
		res.Tasks = r.records()
		if res.Err != nil {
			res.Attempts[len(res.Attempts)-1].Error = res.Err.Error()
		}
		if r.restart == nil || r.attempt > r.restart.maxRetries || ctx.Err() != nil {
			break
		}
		d := r.restart.delay(r.attempt, r.opts.RetryScale)
		r.opts.Logger.Info("restarting integration", "execution_id", r.req.Exec.ExecutionID, "attempt", r.attempt+1, "after", d)
		if !sleep(ctx, d) {
			res.State, res.Err = StateCancelled, ctx.Err()
			break
		}
		start = r.opts.Now()
		r = &run{p: r.p, tr: r.tr, req: r.req, opts: r.opts, logs: r.logs, attempt: r.attempt + 1}
	}
	res.Logs = r.logs.lines
	if res.State == StateSuspended {
		r.suspendResult(res)
	}
	return res
}

func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

type nodeState struct {
	decided  bool
	resolved int
	taken    int
	need     int // incoming edges from nodes that can run in this execution
	rec      *TaskRecord
	scope    *scope
}

// scope is the main graph or one error catcher's subgraph.
type scope struct {
	catcher *catcher
	running int
	// suspended counts the scope's tasks waiting for a Lift: like running
	// ones, they keep a catcher's scope from settling.
	suspended int
	// order numbers the catcher scopes in the order they started (a
	// checkpoint replays their preparation in that order).
	order   int
	failed  bool
	done    bool
	waiting []*failure // failures this catcher handles
}

type failure struct {
	node  *node
	err   error
	fatal bool
}

type completion struct {
	n        *node
	err      error
	pol      policy
	attempts []Attempt
}

type run struct {
	p       *Plan
	tr      *trigger
	req     Request
	opts    Options
	logs    *logSink
	attempt int

	parent  context.Context
	ctx     context.Context
	cancel  context.CancelFunc
	vars    *value.Vars
	states  map[*node]*nodeState
	done    chan completion
	running int
	ready   []*node
	seq     int

	main     *scope
	catchers map[*catcher]*scope
	failures []*failure // unhandled
	fatal    *failure
	ret      *ReturnError
	retNode  *node // the Return task that set ret
	limitErr error
	leafOK   bool
	restart  *policy

	// susp is nil until a task suspends or a checkpoint is restored, so
	// that runs that never suspend do not pay for it.
	susp *suspensions
}

func (r *run) execute(parent context.Context) {
	r.parent = parent
	r.ctx, r.cancel = context.WithCancel(parent)
	defer r.cancel()
	r.done = make(chan completion)
	if r.susp != nil && r.susp.restored {
		r.applyLifts()
	} else if !r.begin() {
		return
	}
	r.launch()

	for r.running > 0 {
		select {
		case c := <-r.done:
			r.running--
			r.complete(c)
			r.launch()
		case <-r.ctx.Done():
			r.drain()
		}
	}
}

// begin sets the variables and resolves the trigger's start edges; it
// returns false when an input does not fit its variable.
func (r *run) begin() bool {
	r.vars = value.NewVars(r.p.decls)
	for k, v := range r.p.defaults {
		_ = r.vars.Set(k, v)
	}
	ex := r.req.Exec
	_ = r.vars.Set(VarExecutionMode, value.Str(ex.Mode))
	_ = r.vars.Set(VarExecutionID, value.Str(ex.ExecutionID))
	_ = r.vars.Set(VarIntegrationName, value.Str(ex.IntegrationName))
	_ = r.vars.Set(VarRegion, value.Str(ex.Region))
	_ = r.vars.Set(VarProjectID, value.Str(ex.ProjectID))
	_ = r.vars.Set(VarErrorInfo, errorInfo("", 0))
	for k, v := range r.req.Inputs {
		if err := r.vars.Set(k, v); err != nil {
			r.fatal = &failure{err: Errorf(400, "input %v", err), fatal: true}
			return false
		}
	}
	r.states = make(map[*node]*nodeState)
	r.catchers = make(map[*catcher]*scope)
	r.main = &scope{}
	r.prepare(r.main, r.tr.starts)
	r.startEdges(r.main, r.tr.starts, r.tr.first)
	return true
}

// prepare counts, for every node reachable from starts, the incoming edges
// that can resolve in this execution.
func (r *run) prepare(sc *scope, starts []*edge) {
	seen := make(map[*node]bool)
	var stack []*node
	for _, e := range starts {
		if !seen[e.to] {
			seen[e.to] = true
			stack = append(stack, e.to)
		}
	}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if _, ok := r.states[n]; !ok {
			r.states[n] = &nodeState{scope: sc}
		}
		for _, e := range n.out {
			if !seen[e.to] {
				seen[e.to] = true
				stack = append(stack, e.to)
			}
		}
	}
	for n := range seen {
		for _, e := range n.out {
			if st := r.states[e.to]; st != nil && st.scope == sc {
				st.need++
			}
		}
	}
}

func (r *run) startEdges(sc *scope, starts []*edge, first bool) {
	matched := false
	for _, e := range starts {
		ok := !(first && matched) && r.eval(e)
		st := r.states[e.to]
		if ok {
			matched = true
			if !st.decided {
				r.schedule(e.to)
			}
		} else if !st.decided && st.need == 0 {
			r.skip(e.to)
		}
	}
	r.settle(sc)
}

func (r *run) eval(e *edge) bool {
	if e.cond == nil {
		return true
	}
	ok, err := e.cond.Eval(r.vars)
	if err != nil {
		r.opts.Logger.Warn("condition failed", "execution_id", r.req.Exec.ExecutionID, "condition", e.text, "error", err)
		return false
	}
	return ok
}

func (r *run) record(n *node, state string) *TaskRecord {
	st := r.states[n]
	if st.rec == nil {
		r.seq++
		st.rec = &TaskRecord{TaskID: n.id, Task: n.cfg.Task, DisplayName: n.cfg.DisplayName, Seq: r.seq}
	}
	st.rec.State = state
	return st.rec
}

func (r *run) schedule(n *node) {
	st := r.states[n]
	st.decided = true
	r.record(n, "IN_PROCESS")
	if r.fatal != nil || r.ret != nil || r.ctx.Err() != nil {
		r.record(n, TaskCancelled)
		return
	}
	st.scope.running++
	r.ready = append(r.ready, n)
}

// launch starts the ready tasks. A lone ready task with nothing else
// running runs on the coordinator's goroutine (the common sequential case
// pays no goroutine hand-off); otherwise each gets its own goroutine.
func (r *run) launch() {
	for len(r.ready) > 0 {
		if r.fatal != nil || r.ret != nil || r.ctx.Err() != nil {
			for _, n := range r.ready {
				r.states[n].scope.running--
				r.record(n, TaskCancelled)
			}
			r.ready = r.ready[:0]
			return
		}
		if len(r.ready) == 1 && r.running == 0 {
			n := r.ready[0]
			r.ready = r.ready[:0]
			r.running++
			c := r.attempts(n, r.taskContext(n))
			r.running--
			r.complete(c)
			continue
		}
		for _, n := range r.ready {
			r.running++
			tc := r.taskContext(n)
			go func() { r.done <- r.attempts(n, tc) }()
		}
		r.ready = r.ready[:0]
	}
}

func (r *run) taskContext(n *node) *TaskContext {
	return &TaskContext{Vars: r.vars, Exec: r.req.Exec, TaskID: n.id, Task: n.cfg.Task, Logger: r.opts.Logger, Now: r.opts.Now, Invoker: r.opts.Invoker, log: r.logs}
}

// attempts runs a task's attempts, retrying in place as its policy says,
// and returns the outcome for the coordinator.
func (r *run) attempts(n *node, tc *TaskContext) completion {
	var attempts []Attempt
	for try := 1; ; try++ {
		tc.Attempt = try
		start := r.opts.Now()
		err := r.call(n, tc)
		a := Attempt{Start: start, End: r.opts.Now()}
		if err == nil {
			attempts = append(attempts, a)
			return completion{n: n, attempts: attempts}
		}
		sr, err := suspendRequest(n, err)
		if sr != nil {
			attempts = append(attempts, a) // suspending is not a failure: no retry, no policy
			return completion{n: n, err: sr, attempts: attempts}
		}
		a.Error = err.Error()
		attempts = append(attempts, a)
		var ret *ReturnError
		if errors.As(err, &ret) || r.ctx.Err() != nil {
			return completion{n: n, err: err, pol: policy{strategy: spec.RetryFatal}, attempts: attempts}
		}
		pol := r.failurePolicy(n, err)
		if pol.retries() && try <= pol.maxRetries {
			if sleep(r.ctx, pol.delay(try, r.opts.RetryScale)) {
				continue
			}
		}
		return completion{n: n, err: err, pol: pol, attempts: attempts}
	}
}

// failurePolicy sets `ErrorInfo` from a failed attempt's error and
// returns the policy that applies to it.
func (r *run) failurePolicy(n *node, err error) policy {
	msg, code := errorParts(err)
	_ = r.vars.Set(VarErrorInfo, errorInfo(msg, code))
	return r.policies(n).choose(r.vars)
}

func (r *run) policies(n *node) *policySet {
	if r.req.Exec.Mode == "ASYNC" {
		return n.async
	}
	return n.sync
}

// call runs one attempt, turning a panic into the attempt's failure.
func (r *run) call(n *node, tc *TaskContext) (err error) {
	defer func() {
		if p := recover(); p != nil {
			r.opts.Logger.Error("task panicked", "execution_id", r.req.Exec.ExecutionID, "task_id", n.id, "panic", p, "stack", string(debug.Stack()))
			err = Errorf(500, "internal error in task %s (%s): %v", n.id, n.cfg.Task, p)
		}
	}()
	if n.task == nil {
		if n.compErr != nil {
			return &TaskError{Code: 501, Message: fmt.Sprintf("task %s: %v", n.id, n.compErr), Err: n.compErr}
		}
		return Errorf(501, "task %s (%s) cannot run", n.id, n.cfg.Task)
	}
	if n.checkPre {
		if err := r.checkSchemas(n, JSONValidationPre); err != nil {
			return err
		}
	}
	err = n.task.Execute(r.ctx, tc)
	if err == nil && n.checkPost {
		err = r.checkSchemas(n, JSONValidationPost)
	}
	return err
}

func errorParts(err error) (string, int) {
	var te *TaskError
	if errors.As(err, &te) {
		return te.Message, te.Code
	}
	return err.Error(), 0
}

func errorInfo(msg string, code int) value.Value {
	o := value.NewObject(2)
	o.Set("message", msg)
	o.Set("code", float64(code))
	return value.FromJSON(o)
}

func (r *run) complete(c completion) {
	n, st := c.n, r.states[c.n]
	rec := st.rec
	rec.Attempts = append(rec.Attempts, c.attempts...)
	st.scope.running--
	if c.err == nil {
		r.succeed(n)
		r.checkLimits()
		r.settle(st.scope)
		return
	}
	var ret *ReturnError
	if errors.As(c.err, &ret) {
		rec.State = TaskSucceed
		r.ret, r.retNode = ret, n
		r.cancel()
		return
	}
	if sr, ok := c.err.(*SuspendRequest); ok {
		r.suspend(n, sr)
		return
	}
	msg, _ := errorParts(c.err)
	rec.Error = msg
	if r.ctx.Err() != nil {
		rec.State = TaskCancelled
		r.settle(st.scope)
		return
	}
	r.opts.Logger.Info("task failed", "execution_id", r.req.Exec.ExecutionID, "task_id", n.id, "task", n.cfg.Task, "policy", c.pol.strategy, "error", msg)
	if k, ok := r.vars.Declared(VarErrorMessage); ok && (k == value.String || k == value.Null) {
		_ = r.vars.Set(VarErrorMessage, value.Str(msg))
	}
	switch c.pol.strategy {
	case spec.RetryIgnore:
		rec.State = TaskSucceed
		r.succeed(n)
		r.settle(st.scope)
		return
	case spec.RetryRestartIntegrationWithBackoff:
		if r.attempt <= c.pol.maxRetries {
			p := c.pol
			r.restart = &p
			rec.State = TaskFailed
			r.fatal = &failure{node: n, err: c.err, fatal: true}
			r.cancel()
			return
		}
	}
	f := &failure{node: n, err: c.err, fatal: c.pol.strategy == spec.RetryFatal}
	rec.State = TaskFailed
	if f.fatal {
		rec.State = TaskFatal
	}
	r.resolveOut(n, nil)
	if sc := r.catcherFor(n, st.scope); sc != nil {
		sc.waiting = append(sc.waiting, f)
		if sc.done {
			r.finishCatcher(sc) // already ran: its outcome applies again
		}
	} else {
		st.scope.failed = true
		r.fail(f)
	}
	r.settle(st.scope)
}

func (r *run) fail(f *failure) {
	r.failures = append(r.failures, f)
	if f.fatal && r.fatal == nil {
		r.fatal = f
		r.cancel()
	}
}

func (r *run) checkLimits() {
	if r.opts.MaxDataBytes > 0 && r.limitErr == nil {
		if size := r.vars.Size(); size > r.opts.MaxDataBytes {
			r.limitErr = Errorf(413, "execution data of %d bytes exceeds the limit of %d bytes", size, r.opts.MaxDataBytes)
			r.fail(&failure{err: r.limitErr, fatal: true})
		}
	}
}

// catcherFor returns the scope of the catcher that handles a failure of n:
// the task's own, else the trigger's. Failures inside a catcher are not
// caught again (catchers cannot nest).
func (r *run) catcherFor(n *node, in *scope) *scope {
	if in != r.main {
		return nil
	}
	id := n.catcher
	if id == "" {
		id = r.tr.catcher
	}
	c, ok := r.p.catchers[id]
	if !ok {
		return nil
	}
	if sc, ok := r.catchers[c]; ok {
		return sc
	}
	sc := &scope{catcher: c, order: len(r.catchers)}
	r.catchers[c] = sc
	r.prepare(sc, c.starts)
	r.startEdges(sc, c.starts, false)
	return sc
}

func (r *run) succeed(n *node) {
	st := r.states[n]
	if st.rec.State != TaskSucceed {
		st.rec.State = TaskSucceed
	}
	taken := r.resolveOut(n, r.eval)
	if taken == 0 && st.scope == r.main {
		r.leafOK = true
	}
}

// resolveOut resolves n's outgoing edges: with eval nil none is taken.
func (r *run) resolveOut(n *node, eval func(*edge) bool) int {
	taken := 0
	for _, e := range n.out {
		ok := false
		if eval != nil && !(n.first && taken > 0) {
			ok = eval(e)
		}
		if ok {
			taken++
		}
		r.resolve(e, ok)
	}
	return taken
}

func (r *run) resolve(e *edge, taken bool) {
	st := r.states[e.to]
	if st == nil || st.decided {
		return
	}
	st.resolved++
	if taken {
		st.taken++
	}
	switch e.to.join {
	case spec.WhenAnySucceed:
		if st.taken > 0 {
			r.schedule(e.to)
		} else if st.resolved >= st.need {
			r.skip(e.to)
		}
	case spec.WhenAllTasksAndConditionsSucceed:
		if st.resolved >= st.need {
			if st.taken == st.need {
				r.schedule(e.to)
			} else {
				r.skip(e.to)
			}
		}
	default: // WHEN_ALL_SUCCEED
		if st.resolved >= st.need {
			if st.taken > 0 {
				r.schedule(e.to)
			} else {
				r.skip(e.to)
			}
		}
	}
}

func (r *run) skip(n *node) {
	st := r.states[n]
	st.decided = true
	r.record(n, TaskSkipped)
	r.resolveOut(n, nil)
}

// settle ends a catcher scope once nothing in it runs any more.
func (r *run) settle(sc *scope) {
	if sc == r.main || sc.done || sc.running > 0 || sc.suspended > 0 {
		return
	}
	sc.done = true
	r.finishCatcher(sc)
}

func (r *run) finishCatcher(sc *scope) {
	if !sc.failed {
		sc.waiting = nil // handled
		return
	}
	for _, f := range sc.waiting {
		r.fail(f)
	}
	sc.waiting = nil
}

// drain cancels the run and waits for running tasks to return.
func (r *run) drain() {
	r.cancel()
	for r.running > 0 {
		c := <-r.done
		r.running--
		rec := r.states[c.n].rec
		rec.Attempts = append(rec.Attempts, c.attempts...)
		switch c.err.(type) {
		case nil:
			rec.State = TaskSucceed
		case *SuspendRequest: // the run ends otherwise: never suspended
			rec.State = TaskCancelled
		default:
			rec.State = TaskCancelled
			rec.Error, _ = errorParts(c.err)
		}
	}
}

func (r *run) outcome() (string, error, string) {
	switch {
	case r.ret != nil && r.ret.Succeeded():
		return StateSucceeded, nil, ""
	case r.ret != nil:
		return StateFailed, r.ret, r.retNode.id
	case r.fatal != nil && r.fatal.node != nil:
		return StateFailed, r.fatal.err, r.fatal.node.id
	case r.fatal != nil:
		return StateFailed, r.fatal.err, ""
	}
	if err := r.parent.Err(); err != nil {
		return StateCancelled, err, ""
	}
	if r.susp != nil && len(r.susp.tasks) > 0 {
		return StateSuspended, nil, ""
	}
	for _, sc := range r.catchers {
		if !sc.done && sc.failed {
			return StateFailed, errors.New("error catcher did not finish"), ""
		}
	}
	if len(r.failures) > 0 && !r.leafOK {
		f := r.failures[0]
		id := ""
		if f.node != nil {
			id = f.node.id
		}
		return StateFailed, f.err, id
	}
	return StateSucceeded, nil, ""
}

func (r *run) records() []*TaskRecord {
	recs := make([]*TaskRecord, 0, len(r.states))
	for _, st := range r.states {
		if st.rec != nil {
			recs = append(recs, st.rec)
		}
	}
	sortRecords(recs)
	return recs
}

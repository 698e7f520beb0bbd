package service

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/integrationd/integrationd/internal/engine"
	"github.com/integrationd/integrationd/internal/spec"
	"github.com/integrationd/integrationd/internal/store"
	"github.com/integrationd/integrationd/internal/value"
)

// The durable queue: work that outlives a request (scheduled and async
// executions, their retries, cron ticks, resumptions) is a job row in the
// store, committed with the execution record it concerns. Workers of
// every process sharing the database claim due jobs with a lease that a
// heartbeat extends while they run; a process that dies stops extending,
// its leases expire and another worker (or the restarted process) claims
// the jobs again. Work is therefore at least once; each job kind makes its
// effect idempotent (see runJob).

// Job kinds.
const (
	jobRun  = "run"  // run a PENDING execution
	jobReap = "reap" // fail a synchronous execution whose process died
)

// runPayload is the payload of a jobRun: the execution to run and how.
type runPayload struct {
	Project     string `json:"p"`
	Location    string `json:"l"`
	Integration string `json:"i"`
	ID          string `json:"id"`
	Mode        string `json:"mode"`
	Depth       int    `json:"depth,omitempty"`
	// Retry counts the earlier runs of the execution that failed.
	Retry  int         `json:"retry,omitempty"`
	Replay *replayInfo `json:"replay,omitempty"`
}

func (p *runPayload) key() store.IntegrationKey {
	return store.IntegrationKey{Project: p.Project, Location: p.Location, Name: p.Integration}
}

func runJobKey(id string) string { return "run:" + id }

// queue claims and runs jobs. It is started by New and stopped by Close.
type queue struct {
	s     *Service
	owner string
	wake  chan struct{}
	slots chan struct{} // one per running job

	ctx    context.Context // cancelled by stop: running jobs are abandoned
	cancel context.CancelFunc
	quit   chan struct{} // closed by stop: no new claims
	loops  sync.WaitGroup
	jobs   sync.WaitGroup

	cronDirty atomic.Bool // a version was published or unpublished here
}

func newQueue(s *Service) *queue {
	var b [6]byte
	_, _ = rand.Read(b[:])
	host, _ := os.Hostname()
	q := &queue{s: s, owner: fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b[:])),
		wake: make(chan struct{}, 1), slots: make(chan struct{}, s.cfg.Workers), quit: make(chan struct{})}
	q.ctx, q.cancel = context.WithCancel(context.Background())
	return q
}

func (q *queue) start() {
	q.loops.Add(3)
	go q.claimLoop()
	go q.heartbeat()
	go q.cronLoop()
}

// notify wakes the claim loop (a job was added in this process).
func (q *queue) notify() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// stop stops claiming, waits until ctx ends for the running jobs, then
// abandons those left: their leases are released so that the next process
// runs them again.
func (q *queue) stop(ctx context.Context) {
	close(q.quit)
	q.loops.Wait()
	done := make(chan struct{})
	go func() {
		q.jobs.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		q.cancel()
		<-done
	}
	q.cancel()
}

func (q *queue) claimLoop() {
	defer q.loops.Done()
	log := q.s.log
	for {
		free := cap(q.slots) - len(q.slots)
		claimed := 0
		if free > 0 {
			jobs, err := q.s.st.ClaimJobs(q.ctx, q.owner, q.s.cfg.Now(), q.s.cfg.JobLease, free)
			if err != nil && q.ctx.Err() == nil {
				log.Error("claiming jobs", "error", err)
			}
			claimed = len(jobs)
			for _, j := range jobs {
				q.slots <- struct{}{}
				q.jobs.Add(1)
				go func() {
					defer func() { <-q.slots; q.jobs.Done(); q.notify() }()
					q.s.runJob(q.ctx, j)
				}()
			}
		}
		if claimed > 0 && claimed == free {
			continue // there may be more due
		}
		wait := q.s.cfg.PollInterval
		if free > 0 && claimed == 0 {
			if next, ok, err := q.s.st.NextJobTime(q.ctx); err == nil && ok {
				if d := next.Sub(q.s.cfg.Now()); d < wait {
					wait = max(d, time.Millisecond)
				}
			}
		}
		t := time.NewTimer(wait)
		select {
		case <-q.quit:
			t.Stop()
			return
		case <-q.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// heartbeat extends the leases of the running jobs.
func (q *queue) heartbeat() {
	defer q.loops.Done()
	lease := q.s.cfg.JobLease
	t := time.NewTicker(lease / 3)
	defer t.Stop()
	purge := time.NewTicker(time.Hour)
	defer purge.Stop()
	for {
		select {
		case <-q.quit:
			return
		case <-t.C:
			if len(q.slots) == 0 {
				continue
			}
			if err := q.s.st.ExtendLeases(q.ctx, q.owner, q.s.cfg.Now().Add(lease)); err != nil && q.ctx.Err() == nil {
				q.s.log.Error("extending job leases", "error", err)
			}
		case <-purge.C:
			if err := q.s.st.PurgeJobKeys(q.ctx, q.s.cfg.Now().Add(-q.s.cfg.JobKeyRetention)); err != nil && q.ctx.Err() == nil {
				q.s.log.Error("purging job keys", "error", err)
			}
		}
	}
}

// runJob runs one claimed job. A job that cannot be decoded is dropped
// with an error log: running it again would not help.
func (s *Service) runJob(ctx context.Context, j *store.Job) {
	var err error
	switch j.Kind {
	case jobRun:
		err = s.runPending(ctx, j)
	case jobCron:
		err = s.fireCron(ctx, j)
	case jobReap:
		err = s.reap(ctx, j)
	case jobResume:
		err = s.resume(ctx, j)
	case jobExpire:
		err = s.expire(ctx, j)
	case jobNotify:
		err = s.notify(ctx, j)
	default:
		err = fmt.Errorf("%w: unknown job kind %q", errBadJob, j.Kind)
	}
	switch {
	case err == nil:
	case ctx.Err() != nil:
		// Shutting down: give the job back for the next process.
		s.releaseJob(j, s.cfg.Now(), "interrupted by shutdown")
	case errors.Is(err, errBadJob) || j.Attempt >= maxJobAttempts:
		s.finishJob(j, err)
	default:
		// A passing failure (the store, a lock): try again later.
		s.log.Warn("job failed; it will run again", "job", j.ID, "kind", j.Kind, "attempt", j.Attempt, "error", err)
		s.releaseJob(j, s.cfg.Now().Add(time.Duration(j.Attempt)*time.Second), err.Error())
	}
}

// errBadJob marks a job that no rerun can fix (an unknown kind, a payload
// that does not decode): it is dropped.
var errBadJob = errors.New("bad job")

// maxJobAttempts bounds the runs of a job that keeps failing.
const maxJobAttempts = 20

// decodePayload reads a job's payload into v.
func decodePayload(j *store.Job, v any) error {
	if err := json.Unmarshal(j.Payload, v); err != nil {
		return fmt.Errorf("%w: job %d (%s): payload: %v", errBadJob, j.ID, j.Kind, err)
	}
	return nil
}

// releaseJob gives a held job back, due at runAt.
func (s *Service) releaseJob(j *store.Job, runAt time.Time, why string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.st.ReleaseJob(ctx, j.ID, runAt, why); err != nil {
		s.log.Warn("releasing job", "job", j.ID, "error", err)
	}
}

// finishJob drops a job that failed in a way a rerun cannot fix.
func (s *Service) finishJob(j *store.Job, err error) {
	s.log.Error("dropping job", "job", j.ID, "kind", j.Kind, "key", j.Key, "error", err)
	if cerr := s.st.Commit(context.Background(), nil, []int64{j.ID}, nil); cerr != nil {
		s.log.Error("deleting job", "job", j.ID, "error", cerr)
	}
}

// terminal reports whether an execution state is final.
func terminal(state string) bool {
	switch state {
	case engine.StateSucceeded, engine.StateFailed, engine.StateCancelled:
		return true
	}
	return false
}

// runPending runs the PENDING execution of a jobRun. It is idempotent: an
// execution already ended is not run again (the job was run before and
// its deletion was lost), and the final record and the job's deletion
// commit together.
func (s *Service) runPending(ctx context.Context, j *store.Job) error {
	var p runPayload
	if err := decodePayload(j, &p); err != nil {
		return err
	}
	e, err := s.st.GetExecution(ctx, p.key(), p.ID)
	if errors.Is(err, store.ErrNotFound) {
		s.finishJob(j, fmt.Errorf("execution %s no longer exists", p.ID))
		return nil
	}
	if err != nil {
		return err
	}
	if terminal(e.State) {
		return s.st.Commit(ctx, nil, []int64{j.ID}, nil)
	}
	es, err := s.specFromRecord(ctx, e, &p)
	if err != nil {
		// The version is gone or no longer compiles: the execution fails.
		res := &engine.Result{State: engine.StateFailed, Err: err}
		return s.st.Commit(ctx, []*store.Execution{s.recordStub(e, res)}, []int64{j.ID}, nil)
	}
	running := *e
	running.State, running.UpdateTime = "PROCESSING", s.cfg.Now().UTC()
	running.Details = []byte(`{"executionDetails":{"state":"PROCESSING"}}`)
	s.writer.enqueue(&running)
	res := s.runTracked(ctx, es)
	if ctx.Err() != nil && res.State == engine.StateCancelled && !s.cancelled(es.id) {
		return ctx.Err() // shutdown: run it again later
	}
	if res.State == engine.StateSuspended {
		return s.saveSuspended(ctx, es, res, nil, nil, j.ID)
	}
	if res.State == engine.StateFailed && p.Retry < s.cfg.AsyncRetries && es.mode == "ASYNC" {
		// Google re-queues failed async executions with a growing delay.
		rec := s.record(es, res, nil)
		rec.State = "RETRY_ON_HOLD"
		next := p
		next.Retry++
		payload, _ := json.Marshal(next)
		delay := s.cfg.AsyncRetryBase << min(p.Retry, 20)
		return s.apply(ctx, &store.Change{Executions: []*store.Execution{rec}, DoneJobs: []int64{j.ID},
			AddJobs: []*store.Job{{Kind: jobRun, Key: fmt.Sprintf("%s#%d", runJobKey(es.id), next.Retry), Payload: payload, RunAt: s.cfg.Now().Add(delay)}}})
	}
	// Queued executions are always recorded (their PENDING record carried
	// them), whatever databasePersistencePolicy says.
	s.writer.enqueueDone(s.record(es, res, nil), j.ID)
	return nil
}

// reap records FAILED a synchronous execution still PROCESSING after its
// timeout: the process that ran it stopped before recording its end.
func (s *Service) reap(ctx context.Context, j *store.Job) error {
	var p runPayload
	if err := decodePayload(j, &p); err != nil {
		return err
	}
	e, err := s.st.GetExecution(ctx, p.key(), p.ID)
	if err != nil || terminal(e.State) {
		return s.st.Commit(ctx, nil, []int64{j.ID}, nil)
	}
	rec := s.recordStub(e, &engine.Result{State: engine.StateFailed,
		Err: errors.New("the integrationd process running this synchronous execution stopped before it ended")})
	return s.st.Commit(ctx, []*store.Execution{rec}, []int64{j.ID}, nil)
}

// specFromRecord rebuilds the execSpec of a stored PENDING execution.
func (s *Service) specFromRecord(ctx context.Context, e *store.Execution, p *runPayload) (*execSpec, error) {
	v, err := s.st.GetVersion(ctx, e.Key, e.VersionID)
	if err != nil {
		return nil, fmt.Errorf("version %s of %s: %w", e.VersionID, e.Key.Name, err)
	}
	c, err := s.plan(v)
	if err != nil {
		return nil, err
	}
	in, err := decodeParamMap(e.Request)
	if err != nil {
		return nil, fmt.Errorf("execution %s: stored inputs: %w", e.ID, err)
	}
	return &execSpec{t: target{v, c.plan}, id: e.ID, trigger: e.TriggerID, requestID: e.RequestID, in: in,
		mode: p.Mode, method: e.ExecutionMethod, parentID: e.ParentID, depth: p.Depth, created: e.CreateTime, replay: p.Replay}, nil
}

// decodeParamMap reads {name: ValueType} (appendParamMap's form).
func decodeParamMap(b []byte) (map[string]value.Value, error) {
	var m map[string]*spec.ValueType
	if len(b) > 0 {
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, err
		}
	}
	out := make(map[string]value.Value, len(m))
	for k, vt := range m {
		v, err := value.FromSpec(vt)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		out[k] = v
	}
	return out, nil
}

// recordStub is e ended with res without having run.
func (s *Service) recordStub(e *store.Execution, res *engine.Result) *store.Execution {
	c := *e
	c.State = res.State
	c.UpdateTime = s.cfg.Now().UTC()
	msg := ""
	if res.Err != nil {
		msg = res.Err.Error()
	}
	c.Details = fmt.Appendf(nil, `{"executionDetails":{"state":%q},"executionLog":{"error":%s}}`, res.State, jsonString(msg))
	return &c
}

func jsonString(s string) []byte { return value.AppendString(nil, s) }

// runTracked runs es where :cancel can reach it.
func (s *Service) runTracked(ctx context.Context, es *execSpec) *engine.Result {
	ctx, untrack := s.track(ctx, es.id)
	defer untrack()
	return s.run(ctx, es)
}

// track registers execution id as running here, cancellable by :cancel,
// until untrack is called.
func (s *Service) track(ctx context.Context, id string) (context.Context, func()) {
	ctx, cancel := context.WithCancel(ctx)
	s.runMu.Lock()
	s.running[id] = &runningExec{cancel: cancel}
	s.runMu.Unlock()
	return ctx, func() {
		cancel()
		s.runMu.Lock()
		delete(s.running, id)
		s.runMu.Unlock()
	}
}

// cancelled reports whether :cancel stopped execution id.
func (s *Service) cancelled(id string) bool {
	s.runMu.Lock()
	defer s.runMu.Unlock()
	r := s.running[id]
	return r != nil && r.cancelled
}

type runningExec struct {
	cancel    context.CancelFunc
	cancelled bool
}

// enqueueRuns records es as PENDING and queues them to run at runAt, in
// one transaction: once it returns, the executions survive a crash.
func (s *Service) enqueueRuns(ctx context.Context, specs []*execSpec, runAt time.Time) error {
	recs := make([]*store.Execution, len(specs))
	jobs := make([]*store.Job, len(specs))
	for i, es := range specs {
		recs[i] = s.pendingRecord(es)
		v := es.t.v
		payload, err := json.Marshal(runPayload{Project: v.Key.Project, Location: v.Key.Location, Integration: v.Key.Name,
			ID: es.id, Mode: es.mode, Depth: es.depth, Replay: es.replay})
		if err != nil {
			return err
		}
		jobs[i] = &store.Job{Kind: jobRun, Key: runJobKey(es.id), Payload: payload, RunAt: runAt}
	}
	if err := s.st.Commit(ctx, recs, nil, jobs); err != nil {
		return storeErr(err, "scheduling executions")
	}
	s.queue.notify()
	return nil
}

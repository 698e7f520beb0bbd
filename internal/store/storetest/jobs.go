package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/integrationd/integrationd/internal/store"
)

func testJobs(t *testing.T, s store.Store) {
	ctx := t.Context()
	t0 := at(0)
	if _, ok, err := s.NextJobTime(ctx); err != nil || ok {
		t.Fatalf("NextJobTime on no jobs = %v, %v", ok, err)
	}
	e := newExecution(keyA, 1, 0)
	e.State = "PENDING"
	jobs := []*store.Job{
		{Kind: "run", Key: "run:1", Payload: []byte(`{"id":1}`), RunAt: t0.Add(2 * time.Second)},
		{Kind: "run", Payload: []byte(`{"id":2}`), RunAt: t0.Add(time.Second)},
		{Kind: "later", RunAt: t0.Add(time.Hour)},
	}
	mustNil(t, "Commit", s.Commit(ctx, []*store.Execution{e}, nil, jobs))
	for _, j := range jobs {
		if j.ID == 0 {
			t.Fatalf("job %s got no id", j.Kind)
		}
	}
	got, err := s.GetExecution(ctx, keyA, e.ID)
	mustNil(t, "GetExecution", err)
	checkExecution(t, "Commit", got, e)
	if next, ok, err := s.NextJobTime(ctx); err != nil || !ok || !next.Equal(t0.Add(time.Second)) {
		t.Errorf("NextJobTime = %v, %v, %v", next, ok, err)
	}

	// Nothing is due before its time; due jobs come earliest first.
	claimed, err := s.ClaimJobs(ctx, "w1", t0, time.Minute, 10)
	mustNil(t, "ClaimJobs", err)
	if len(claimed) != 0 {
		t.Fatalf("claimed %d jobs before they were due", len(claimed))
	}
	claimed, err = s.ClaimJobs(ctx, "w1", t0.Add(3*time.Second), time.Minute, 10)
	mustNil(t, "ClaimJobs", err)
	if len(claimed) != 2 || string(claimed[0].Payload) != `{"id":2}` || claimed[1].Key != "run:1" || claimed[0].Attempt != 1 || claimed[0].Owner != "w1" {
		t.Fatalf("claimed = %+v", claimed)
	}
	if !claimed[0].LeaseUntil.Equal(t0.Add(3*time.Second + time.Minute)) {
		t.Errorf("lease until %v", claimed[0].LeaseUntil)
	}
	// Held jobs are not claimed again while the lease lives...
	again, err := s.ClaimJobs(ctx, "w2", t0.Add(4*time.Second), time.Minute, 10)
	mustNil(t, "ClaimJobs", err)
	if len(again) != 0 {
		t.Fatalf("w2 claimed held jobs: %+v", again)
	}
	// ...nor taken or rescheduled.
	if _, err := s.TakeJob(ctx, "run:1", t0.Add(4*time.Second)); !errors.Is(err, store.ErrFailedPrecondition) {
		t.Errorf("TakeJob of a held job: %v", err)
	}
	// Extended leases outlive the original one.
	mustNil(t, "ExtendLeases", s.ExtendLeases(ctx, "w1", t0.Add(10*time.Minute)))
	again, err = s.ClaimJobs(ctx, "w2", t0.Add(2*time.Minute), time.Minute, 10)
	mustNil(t, "ClaimJobs", err)
	if len(again) != 0 {
		t.Fatalf("w2 claimed jobs with extended leases: %+v", again)
	}
	// An expired lease frees the job for another worker (its holder died).
	again, err = s.ClaimJobs(ctx, "w2", t0.Add(11*time.Minute), time.Minute, 1)
	mustNil(t, "ClaimJobs", err)
	if len(again) != 1 || again[0].ID != claimed[0].ID || again[0].Attempt != 2 || again[0].Owner != "w2" {
		t.Fatalf("reclaim = %+v", again)
	}
	// Release: due again later, with the error kept.
	mustNil(t, "ReleaseJob", s.ReleaseJob(ctx, again[0].ID, t0.Add(time.Hour*2), "boom"))
	if err := s.ReleaseJob(ctx, 999999, t0, ""); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ReleaseJob of no job: %v", err)
	}
	// Done: the execution update and the job's deletion commit together.
	e.State = "SUCCEEDED"
	mustNil(t, "Commit", s.Commit(ctx, []*store.Execution{e}, []int64{claimed[1].ID}, nil))
	got, err = s.GetExecution(ctx, keyA, e.ID)
	mustNil(t, "GetExecution", err)
	if got.State != "SUCCEEDED" {
		t.Errorf("state = %s", got.State)
	}
	if _, err := s.TakeJob(ctx, "run:1", t0.Add(time.Hour*24)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("TakeJob of a done job: %v", err)
	}
	rest, err := s.ClaimJobs(ctx, "w3", t0.Add(3*time.Hour), time.Minute, 10)
	mustNil(t, "ClaimJobs", err)
	if len(rest) != 2 || rest[0].Kind != "later" || rest[1].LastError != "boom" || rest[1].Attempt != 3 {
		t.Errorf("remaining jobs = %+v", rest)
	}
	// Reschedule and take free jobs by key.
	mustNil(t, "Commit", s.Commit(ctx, nil, nil, []*store.Job{{Kind: "run", Key: "run:9", RunAt: t0.Add(48 * time.Hour)}}))
	mustNil(t, "RescheduleJob", s.RescheduleJob(ctx, "run:9", t0.Add(time.Second), t0))
	if next, ok, _ := s.NextJobTime(ctx); !ok || !next.Equal(t0.Add(time.Second)) {
		t.Errorf("NextJobTime after reschedule = %v", next)
	}
	if err := s.RescheduleJob(ctx, "run:none", t0, t0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("RescheduleJob of no job: %v", err)
	}
	j, err := s.TakeJob(ctx, "run:9", t0)
	mustNil(t, "TakeJob", err)
	if j.Kind != "run" || j.Key != "run:9" {
		t.Errorf("taken = %+v", j)
	}
	if _, err := s.TakeJob(ctx, "run:9", t0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second TakeJob: %v", err)
	}
	if err := s.Commit(ctx, nil, nil, []*store.Job{{RunAt: t0}}); !errors.Is(err, store.ErrInvalidArgument) {
		t.Errorf("job without kind: %v", err)
	}
}

func testJobKeys(t *testing.T, s store.Store) {
	ctx := t.Context()
	t0 := at(0)
	tick := &store.Job{Kind: "cron", Key: "cron:a:1", RunAt: t0}
	mustNil(t, "Commit", s.Commit(ctx, nil, nil, []*store.Job{tick}))
	dup := &store.Job{Kind: "cron", Key: "cron:a:1", RunAt: t0}
	mustNil(t, "Commit duplicate", s.Commit(ctx, nil, nil, []*store.Job{dup}))
	if dup.ID != 0 {
		t.Errorf("a duplicate key was added as job %d", dup.ID)
	}
	// The key stays used after the job is done, until purged.
	mustNil(t, "Commit done", s.Commit(ctx, nil, []int64{tick.ID}, nil))
	again := &store.Job{Kind: "cron", Key: "cron:a:1", RunAt: t0}
	mustNil(t, "Commit after done", s.Commit(ctx, nil, nil, []*store.Job{again}))
	if again.ID != 0 {
		t.Errorf("a done job's key was reused")
	}
	mustNil(t, "PurgeJobKeys", s.PurgeJobKeys(ctx, time.Now().Add(time.Hour)))
	mustNil(t, "Commit after purge", s.Commit(ctx, nil, nil, []*store.Job{again}))
	if again.ID == 0 {
		t.Errorf("a purged key was not reusable")
	}
	// A live job's key is never purged.
	mustNil(t, "PurgeJobKeys", s.PurgeJobKeys(ctx, time.Now().Add(time.Hour)))
	third := &store.Job{Kind: "cron", Key: "cron:a:1", RunAt: t0}
	mustNil(t, "Commit", s.Commit(ctx, nil, nil, []*store.Job{third}))
	if third.ID != 0 {
		t.Errorf("the key of a live job was purged")
	}
}

// testJobsConcurrentClaims claims from several workers at once: every job
// is handed to exactly one.
func testJobsConcurrentClaims(t *testing.T, s store.Store) {
	ctx := t.Context()
	t0 := at(0)
	const n = 200
	var jobs []*store.Job
	for i := range n {
		jobs = append(jobs, &store.Job{Kind: "run", Key: fmt.Sprintf("k%d", i), RunAt: t0})
	}
	mustNil(t, "Commit", s.Commit(ctx, nil, nil, jobs))
	var mu sync.Mutex
	seen := map[int64]string{}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			owner := fmt.Sprintf("w%d", w)
			for {
				js, err := s.ClaimJobs(ctx, owner, t0.Add(time.Second), time.Hour, 7)
				if err != nil {
					t.Error(err)
					return
				}
				if len(js) == 0 {
					return
				}
				mu.Lock()
				for _, j := range js {
					if prev, dup := seen[j.ID]; dup {
						t.Errorf("job %d claimed by %s and %s", j.ID, prev, owner)
					}
					seen[j.ID] = owner
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(seen) != n {
		t.Errorf("claimed %d distinct jobs, want %d", len(seen), n)
	}
}

// testSuspensions applies a suspension step and its resumption.
func testSuspensions(t *testing.T, s store.Store) {
	ctx := t.Context()
	e := newExecution(keyA, 7, 0)
	e.State = "SUSPENDED"
	sp := &store.Suspension{Key: keyA, ExecutionID: e.ID, ID: "s1", TaskID: "3", Kind: "SuspendTask", State: "PENDING", Doc: []byte(`{"a":1}`)}
	sp2 := &store.Suspension{Key: keyA, ExecutionID: e.ID, ID: "s2", TaskID: "4", Kind: "SuspensionTask", State: "PENDING"}
	expiry := &store.Job{Kind: "expire", Key: "expire:s1", RunAt: at(time.Hour)}
	mustNil(t, "Apply", s.Apply(ctx, &store.Change{
		Executions:  []*store.Execution{e},
		Checkpoints: []*store.Checkpoint{{Key: keyA, ExecutionID: e.ID, Data: []byte(`{"v":1}`)}},
		Suspensions: []*store.Suspension{sp, sp2},
		AddJobs:     []*store.Job{expiry},
	}))
	cp, err := s.GetCheckpoint(ctx, keyA, e.ID)
	if err != nil || string(cp) != `{"v":1}` {
		t.Fatalf("GetCheckpoint = %s, %v", cp, err)
	}
	list, err := s.ListSuspensions(ctx, keyA, e.ID)
	mustNil(t, "ListSuspensions", err)
	if len(list) != 2 || list[0].ID != "s1" || list[0].TaskID != "3" || string(list[0].Doc) != `{"a":1}` || list[0].CreateTime.IsZero() {
		t.Fatalf("ListSuspensions = %+v", list)
	}
	if _, err := s.GetSuspension(ctx, keyA, e.ID, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetSuspension of none: %v", err)
	}
	// Lifted: state and doc replaced, the expiry job done; then resumed to
	// the end: checkpoint deleted.
	sp.State, sp.Doc = "LIFTED", []byte(`{"result":"ok"}`)
	mustNil(t, "Apply", s.Apply(ctx, &store.Change{Suspensions: []*store.Suspension{sp}, DoneJobs: []int64{expiry.ID}}))
	got, err := s.GetSuspension(ctx, keyA, e.ID, "s1")
	mustNil(t, "GetSuspension", err)
	if got.State != "LIFTED" || string(got.Doc) != `{"result":"ok"}` || !got.CreateTime.Equal(list[0].CreateTime) {
		t.Errorf("lifted suspension = %+v", got)
	}
	e.State = "SUCCEEDED"
	mustNil(t, "Apply", s.Apply(ctx, &store.Change{Executions: []*store.Execution{e}, Checkpoints: []*store.Checkpoint{{Key: keyA, ExecutionID: e.ID}}}))
	if _, err := s.GetCheckpoint(ctx, keyA, e.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("checkpoint after delete: %v", err)
	}
	if err := s.Apply(ctx, &store.Change{Suspensions: []*store.Suspension{{Key: keyA, ID: "x"}}}); !errors.Is(err, store.ErrInvalidArgument) {
		t.Errorf("suspension without execution: %v", err)
	}
}

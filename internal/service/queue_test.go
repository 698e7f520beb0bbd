package service_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/integrationd/integrationd/internal/service"
	"github.com/integrationd/integrationd/internal/store"
	"github.com/integrationd/integrationd/internal/tasks"
)

var key = store.IntegrationKey{Project: "p", Location: "l", Name: "slow"}

// waitNoJobs waits until the store holds no job.
func waitNoJobs(t *testing.T, st store.Store) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		_, ok, err := st.NextJobTime(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("jobs are still queued")
		}
	}
}

// TestBadJobsAreDropped: a job of an unknown kind, or whose payload does
// not decode, cannot be fixed by running it again: it is dropped, and the
// queue goes on.
func TestBadJobsAreDropped(t *testing.T) {
	st := openStore(t)
	svc := service.New(st, tasks.Default(), service.Config{PollInterval: 10 * time.Millisecond})
	defer svc.Close(context.Background())
	now := time.Now()
	if err := st.Commit(t.Context(), nil, nil, []*store.Job{
		{Kind: "mystery", RunAt: now},
		{Kind: "run", Payload: []byte("not json"), RunAt: now},
		{Kind: "resume", Payload: []byte(`{"p":1}`), RunAt: now},
	}); err != nil {
		t.Fatal(err)
	}
	waitNoJobs(t, st)
}

// TestShutdownGivesJobsBack: a process that stops while a queued execution
// runs cancels it after the shutdown deadline and gives its job back, due
// at once, so that the next process runs it without waiting for the lease.
func TestShutdownGivesJobsBack(t *testing.T) {
	arrived := make(chan struct{}, 1)
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case arrived <- struct{}{}:
		default:
		}
		<-r.Context().Done()
	}))
	defer upstream.Close()
	st := openStore(t)
	svc := service.New(st, tasks.Default(), service.Config{PollInterval: 10 * time.Millisecond, JobLease: time.Hour})
	ctx := t.Context()
	v, err := svc.CreateVersion(ctx, key, []byte(`{"triggerConfigs":[{"triggerId":"api_trigger/slow","startTasks":[{"taskId":"1"}]}],
	 "taskConfigs":[{"taskId":"1","task":"GenericRestV2Task","parameters":{"url":{"key":"url","value":{"stringValue":"`+upstream.URL+`"}},
	  "timeout":{"key":"timeout","value":{"intValue":"600"}}}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.PublishVersion(ctx, key, v.Version.ID, nil); err != nil {
		t.Fatal(err)
	}
	ids, err := svc.Schedule(ctx, &service.ScheduleRequest{Key: key, TriggerID: "api_trigger/slow"})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-arrived:
	case <-time.After(10 * time.Second):
		t.Fatal("the scheduled execution did not start")
	}
	stopCtx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if err := svc.Close(stopCtx); err != nil {
		t.Fatal(err)
	}
	// The job is free and due now, although its lease was for an hour.
	jobs, err := st.ClaimJobs(ctx, "next-process", time.Now(), time.Minute, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 1 || jobs[0].Key != "run:"+ids[0] || jobs[0].LastError != "interrupted by shutdown" {
		t.Fatalf("jobs after shutdown = %+v", jobs)
	}
	e, err := st.GetExecution(ctx, key, ids[0])
	if err != nil || e.State == "CANCELLED" || e.State == "FAILED" {
		t.Errorf("execution after shutdown: %v %+v (it must stay to run again)", err, e)
	}
}

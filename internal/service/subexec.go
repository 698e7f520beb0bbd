package service

import (
	"context"
	"errors"
	"fmt"
	"maps"

	"github.com/google/uuid"

	"github.com/integrationd/integrationd/internal/engine"
	"github.com/integrationd/integrationd/internal/store"
	"github.com/integrationd/integrationd/internal/value"
)

var _ engine.Invoker = (*Service)(nil)

// Invoke implements engine.Invoker: it runs the sub-executions that a
// Call Integration or loop task asks for, in the parent's project and
// location. Sync children run on the caller's goroutine under its
// context; async children run in the background (see background) and
// their ids are returned at once.
func (s *Service) Invoke(ctx context.Context, c *engine.SubCall) ([]engine.SubResult, error) {
	depth := c.Parent.Depth + 1
	if depth > s.cfg.MaxSubDepth {
		return nil, fmt.Errorf("sub-integration depth limit reached: execution %s is %d calls deep and may not start %s (limit %d; an integration calling itself without end?)",
			c.Parent.ExecutionID, c.Parent.Depth, c.TriggerID, s.cfg.MaxSubDepth)
	}
	k := store.IntegrationKey{Project: c.Parent.ProjectID, Location: c.Parent.Region, Name: c.Integration}
	if k.Name == "" {
		k.Name = "-"
	}
	ts, err := s.targets(ctx, k, c.TriggerID)
	if err != nil {
		return nil, err
	}
	specs := make([]*execSpec, len(ts))
	for i, t := range ts {
		in := c.Inputs
		if len(ts) > 1 {
			in = maps.Clone(in) // each child converts its own copy
		}
		if in == nil {
			in = map[string]value.Value{}
		}
		if err := s.convertInputs(t.p, in, "sub-integration "+t.v.Key.Name+" input"); err != nil {
			return nil, err
		}
		specs[i] = &execSpec{t: t, id: uuid.NewString(), trigger: c.TriggerID, in: in, mode: "SYNC", method: "POST",
			parentID: c.Parent.ExecutionID, depth: depth, created: s.cfg.Now().UTC()}
	}
	out := make([]engine.SubResult, len(specs))
	if c.Async {
		for _, es := range specs {
			es.mode, es.method = "ASYNC", "POST_TO_QUEUE"
		}
		if err := s.enqueueRuns(ctx, specs, s.cfg.Now().Add(c.Delay)); err != nil {
			return nil, err
		}
		for i, es := range specs {
			out[i] = engine.SubResult{ExecutionID: es.id, Integration: es.t.v.Key.Name}
		}
		return out, nil
	}
	for i, es := range specs {
		res := s.run(ctx, es)
		r := engine.SubResult{ExecutionID: es.id, Integration: es.t.v.Key.Name, State: res.State, Vars: res.Vars}
		switch {
		case res.State == engine.StateSuspended:
			// The child lives on, suspended; the parent's task cannot wait
			// for it inside a synchronous call.
			if err := s.saveSuspended(ctx, es, res, nil, nil); err != nil {
				return nil, err
			}
			r.Err = errors.New("it suspended (Suspend, Approval or Timer task), and a SYNC call cannot wait for a suspension: call it ASYNC")
		case res.State != engine.StateSucceeded:
			r.Err = errors.New(s.failure(es.id, res, false).Message)
			fallthrough
		default:
			if es.t.p.Persisted() {
				s.writer.enqueue(s.record(es, res, nil))
			}
		}
		out[i] = r
	}
	return out, nil
}

// pendingRecord is the record of an accepted async execution that has not
// run yet.
func (s *Service) pendingRecord(es *execSpec) *store.Execution {
	return &store.Execution{
		Key: es.t.v.Key, ID: es.id, VersionID: es.t.v.ID, TriggerID: es.trigger, RequestID: es.requestID,
		State: "PENDING", ExecutionMethod: es.method,
		Request: appendParamMap(nil, sortedKeys(es.in), es.in), Details: []byte(`{"executionDetails":{"state":"PENDING"}}`),
		CreateTime: es.created, UpdateTime: es.created, ParentID: es.parentID,
	}
}

package tasks

import (
	"context"
	"time"

	"github.com/integrationd/integrationd/internal/engine"
	"github.com/integrationd/integrationd/internal/spec"
	"github.com/integrationd/integrationd/internal/value"
)

// The Call Integration task:
// https://cloud.google.com/application-integration/docs/configure-call-integration-task
const (
	callIntegrationTask   = "SubWorkflowExecutorV2Task"
	callIntegrationLegacy = "SubWorkflowExecutorTask"
	pRequestParamsMap     = "requestParamsMap"
	pResponseParamsMap    = "responseParamsMap"
	pExecutionIDs         = "executionIds"
)

const parameterMapDoc = "ParameterMap jsonValue whose entries map a variable name (key) to a variable name (value)."

func registerCallIntegration(r *Registry) {
	r.Register(callIntegrationTask, Spec{
		Summary: "Call Integration: runs the integrations with an API or private trigger, synchronously (outputs mapped back) or asynchronously (optionally delayed).",
		DocURL:  "https://cloud.google.com/application-integration/docs/configure-call-integration-task",
		Params: []Param{
			{Key: pTriggerID, Type: value.String, Required: true, Doc: "Trigger id of the sub-integration: api_trigger/NAME or private_trigger/NAME."},
			{Key: pWorkflowName, Type: value.String, Doc: "Integration to run; empty runs every published integration with the trigger."},
			{Key: pExecutionStrategy, Type: value.String, Doc: "SYNC (default: wait and map the outputs) or ASYNC (start and go on)."},
			{Key: pTimeInMsToSchedule, Type: value.Int, Doc: "ASYNC only: delay before the sub-integration starts, in milliseconds."},
			{Key: pRequestParamsMap, Type: value.JSON, Doc: parameterMapDoc + " Parent variable -> sub-integration input."},
			{Key: pResponseParamsMap, Type: value.JSON, Doc: parameterMapDoc + " Sub-integration output -> parent variable (SYNC)."},
			{Key: pExecutionIDs, Type: value.StringArray, Doc: "Output: the sub-executions' ids (STRING_ARRAY), `Task_N_executionIds` by default."},
		},
	}, newCallIntegration)
	r.Alias(callIntegrationLegacy, callIntegrationTask)
}

type callIntegration struct {
	target subTarget
	async  bool
	delay  time.Duration
	req    []varMapping
	resp   []varMapping
	outIDs value.Ref
}

func newCallIntegration(cfg *spec.TaskConfig) (engine.Task, error) {
	t := &callIntegration{}
	var err error
	if t.target, err = newSubTarget(cfg); err != nil {
		return nil, err
	}
	if t.async, t.delay, err = asyncParams(cfg); err != nil {
		return nil, err
	}
	if t.req, err = nameMapping(cfg, pRequestParamsMap); err != nil {
		return nil, err
	}
	if t.resp, err = nameMapping(cfg, pResponseParamsMap); err != nil {
		return nil, err
	}
	if t.outIDs, err = outputRef(cfg, pExecutionIDs, string(cfg.TaskID)); err != nil {
		return nil, err
	}
	return t, nil
}

func (t *callIntegration) Execute(ctx context.Context, tc *engine.TaskContext) error {
	if tc.Invoker == nil {
		return engine.ErrNoInvoker
	}
	rs, err := tc.Invoker.Invoke(ctx, &engine.SubCall{
		Parent: tc.Exec, TaskID: tc.TaskID, TriggerID: t.target.trigger, Integration: t.target.integration,
		Inputs: childInputs(tc.Vars, t.req, 0), Async: t.async, Delay: t.delay,
	})
	if err != nil {
		return &engine.TaskError{Message: "Call Integration " + t.target.String() + ": " + err.Error(), Err: err}
	}
	ids := make([]string, len(rs))
	for i, r := range rs {
		ids[i] = r.ExecutionID
	}
	if err := setRef(tc.Vars, t.outIDs, value.Strings(ids)); err != nil {
		return err
	}
	for _, r := range rs {
		if r.Err != nil {
			return &engine.TaskError{Message: "Call Integration: " + childFailure(r).Error(), Err: r.Err}
		}
	}
	// With several integrations, outputs are mapped in name order: the
	// last one that sets a variable wins.
	for _, r := range rs {
		if r.Vars == nil {
			continue // async
		}
		if err := override(tc.Vars, t.resp, r.Vars); err != nil {
			return err
		}
	}
	return nil
}

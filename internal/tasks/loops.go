package tasks

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/integrationd/integrationd/internal/engine"
	"github.com/integrationd/integrationd/internal/expr"
	"github.com/integrationd/integrationd/internal/spec"
	"github.com/integrationd/integrationd/internal/value"
)

// The loop tasks: For Each (sequential), While, and For Each Parallel.
const (
	forEachTask = "SubWorkflowForEachLoopV2Task"
	whileTask   = "SubWorkflowWhileLoopV2Task"
	scatterTask = "SubWorkflowScatterGatherTask"

	pListToIterate        = "listToIterate"
	pIterationElement     = "iterationElementMapping"
	pRequestParamMapping  = "requestParameterMapping"
	pAggregatorMapping    = "aggregatorParameterMapping"
	pOverrideMapping      = "overrideParameterMapping"
	pLoopMetadata         = "loopMetadata"
	pWhileCondition       = "whileCondition"
	pListToScatter        = "listToScatter"
	pSubworkflowInput     = "subworkflowInput"
	pMaxParallelScatters  = "maxParallelScatters"
	pIgnoreIndividual     = "ignoreIndividualFailures"
	pResponseAggregator   = "responseAggregatorMap"
	pScatterResponseJSON  = "scatterResponseJson"
	defaultParallelGather = 50
)

// loopDoc are the parameters the sequential loops share.
var loopDoc = []Param{
	{Key: pTriggerID, Type: value.String, Required: true, Doc: "Trigger id of the sub-integration run by each iteration."},
	{Key: pWorkflowName, Type: value.String, Doc: "Integration to run; empty runs every published integration with the trigger."},
	{Key: pRequestParamMapping, Type: value.JSON, Doc: parameterMapDoc + " Parent variable -> sub-integration input, passed to every iteration."},
	{Key: pAggregatorMapping, Type: value.JSON, Doc: parameterMapDoc + " Sub-integration output -> parent array variable: one element per iteration, in order."},
	{Key: pOverrideMapping, Type: value.JSON, Doc: parameterMapDoc + " Sub-integration output -> parent variable, overwritten after each iteration."},
	{Key: pLoopMetadata, Type: value.StringArray, Doc: "Output: the loop's metadata (JSON), `Task_N_loopMetadata` by default."},
}

func registerLoops(r *Registry, opts Options) {
	r.Register(forEachTask, Spec{
		Summary: "For Each Loop: runs a sub-integration once per element of a list, one after the other.",
		DocURL:  "https://cloud.google.com/application-integration/docs/configure-for-each-loop-task",
		Params: append([]Param{
			{Key: pListToIterate, Type: value.String, Required: true, Doc: "$var$ of an array or JSON array variable (or literal JSON array) to iterate over."},
			{Key: pIterationElement, Type: value.String, Doc: "Sub-integration input variable that receives the element."},
		}, loopDoc...),
	}, newForEach)
	r.Register(whileTask, Spec{
		Summary: "While Loop: runs a sub-integration as long as a condition holds (checked before each iteration, with the overrides of the previous one applied).",
		DocURL:  "https://cloud.google.com/application-integration/docs/configure-while-loop-task",
		Params: append([]Param{
			{Key: pWhileCondition, Type: value.String, Required: true, Doc: "Condition (same language as edge conditions); $loopMetadata.current_iteration_count$ is available."},
		}, loopDoc...),
	}, func(cfg *spec.TaskConfig) (engine.Task, error) { return newWhile(cfg, opts.MaxWhileIterations) })
	r.Register(scatterTask, Spec{
		Summary: "For Each Parallel: runs a sub-integration for every element of a list concurrently, at most maxParallelScatters at once; results in input order.",
		DocURL:  "https://cloud.google.com/application-integration/docs/configure-for-each-parallel-task",
		Params: []Param{
			{Key: pListToScatter, Type: value.String, Required: true, Doc: "$var$ of an array or JSON array variable (or literal JSON array)."},
			{Key: pSubworkflowInput, Type: value.String, Doc: "Sub-integration input variable that receives the element."},
			{Key: pTriggerID, Type: value.String, Required: true, Doc: "Trigger id of the sub-integration."},
			{Key: pWorkflowName, Type: value.String, Doc: "Integration to run; empty runs every published integration with the trigger."},
			{Key: pExecutionStrategy, Type: value.String, Doc: "SYNC (default) or ASYNC."},
			{Key: pTimeInMsToSchedule, Type: value.Int, Doc: "ASYNC only: delay before the sub-integrations start, in milliseconds."},
			{Key: pMaxParallelScatters, Type: value.Int, Doc: "Most sub-integrations running at once; 0 means 50."},
			{Key: pIgnoreIndividual, Type: value.Bool, Doc: "When true a failed element does not fail the task."},
			{Key: pRequestParamsMap, Type: value.JSON, Doc: parameterMapDoc + " Parent variable -> sub-integration input."},
			{Key: pResponseAggregator, Type: value.JSON, Doc: parameterMapDoc + " Sub-integration output -> parent array variable, one element per list element in input order."},
			{Key: pScatterResponseJSON, Type: value.StringArray, Doc: "Output: JSON array of ScatterResponse {executionIds, isSuccessful, errorMsg, responseParams, scatterElement}, `Task_N_scatterResponseJson` by default."},
		},
	}, newScatter)
}

// loopCore is what For Each and While share.
type loopCore struct {
	target subTarget
	req    []varMapping
	agg    []varMapping
	over   []varMapping
	meta   value.Ref
}

func newLoopCore(cfg *spec.TaskConfig) (loopCore, error) {
	var c loopCore
	var err error
	if c.target, err = newSubTarget(cfg); err != nil {
		return c, err
	}
	if c.req, err = nameMapping(cfg, pRequestParamMapping); err != nil {
		return c, err
	}
	if c.agg, err = nameMapping(cfg, pAggregatorMapping); err != nil {
		return c, err
	}
	if c.over, err = nameMapping(cfg, pOverrideMapping); err != nil {
		return c, err
	}
	c.meta, err = outputRef(cfg, pLoopMetadata, string(cfg.TaskID))
	return c, err
}

// iterate runs one iteration: the sub-integration with the request
// mappings (plus extra inputs), then the overrides and the aggregation.
func (c *loopCore) iterate(ctx context.Context, tc *engine.TaskContext, m *loopMeta, aggs []*aggregator, extra map[string]value.Value) error {
	in := childInputs(tc.Vars, c.req, len(extra))
	for k, v := range extra {
		in[k] = v
	}
	rs, err := c.target.call(ctx, tc, in)
	if err != nil {
		return m.fail(failBuildingRequest, err)
	}
	for _, r := range rs {
		m.ids = append(m.ids, r.ExecutionID)
		if r.Err != nil {
			return m.fail(failSubworkflow, childFailure(r))
		}
	}
	for _, r := range rs {
		if err := override(tc.Vars, c.over, r.Vars); err != nil {
			return m.fail(failOverriding, err)
		}
		for _, a := range aggs {
			a.add(r.Vars)
		}
	}
	return nil
}

// finish stores the aggregates and the metadata, whatever the outcome.
func (c *loopCore) finish(tc *engine.TaskContext, m *loopMeta, aggs []*aggregator, err error) error {
	if aerr := storeAll(tc.Vars, aggs); aerr != nil && err == nil {
		err = m.fail(failAggregating, aerr)
	}
	if merr := setRef(tc.Vars, c.meta, m.value()); merr != nil && err == nil {
		err = merr
	}
	return err
}

type forEach struct {
	loopCore
	list *value.Template
	elem string
}

func newForEach(cfg *spec.TaskConfig) (engine.Task, error) {
	core, err := newLoopCore(cfg)
	if err != nil {
		return nil, err
	}
	t := &forEach{loopCore: core}
	if t.list, err = listParam(cfg, pListToIterate); err != nil {
		return nil, err
	}
	ev, err := param(cfg, pIterationElement)
	if err != nil {
		return nil, err
	}
	t.elem = childName(ev.Str())
	return t, nil
}

// childName is a sub-integration variable named in a parameter, with any
// $…$ around it removed.
func childName(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && s[0] == '$' && s[len(s)-1] == '$' {
		s = s[1 : len(s)-1]
	}
	return s
}

func (t *forEach) Execute(ctx context.Context, tc *engine.TaskContext) (err error) {
	m := &loopMeta{}
	aggs, err := newAggregators(tc.Vars, t.agg)
	if err != nil {
		return t.finish(tc, m, nil, m.fail(failAggregating, err))
	}
	defer func() { err = t.finish(tc, m, aggs, err) }()
	elems, err := elements(t.list, tc.Vars)
	if err != nil {
		return m.fail(failGettingList, err)
	}
	var extra map[string]value.Value
	for i, e := range elems {
		if err := ctx.Err(); err != nil {
			return err
		}
		m.count, m.detail = i+1, e.Text()
		if t.elem != "" {
			extra = map[string]value.Value{t.elem: e}
		}
		if err := t.iterate(ctx, tc, m, aggs, extra); err != nil {
			return err
		}
	}
	return nil
}

type whileLoop struct {
	loopCore
	cond *expr.Program
	max  int
}

func newWhile(cfg *spec.TaskConfig, max int) (engine.Task, error) {
	core, err := newLoopCore(cfg)
	if err != nil {
		return nil, err
	}
	cv, err := param(cfg, pWhileCondition)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(cv.Str()) == "" {
		return nil, fmt.Errorf("parameter %s is required", pWhileCondition)
	}
	prog, err := expr.Compile(cv.Str())
	if err != nil {
		return nil, fmt.Errorf("parameter %s: %w", pWhileCondition, err)
	}
	if max <= 0 {
		max = 8000
	}
	return &whileLoop{loopCore: core, cond: prog, max: max}, nil
}

// metaGetter adds the name loopMetadata (the doc's conditions use
// $loopMetadata.current_iteration_count$) to the parent's variables.
type metaGetter struct {
	vars value.Getter
	meta value.Value
}

func (g metaGetter) Lookup(name string) (value.Value, bool) {
	if v, ok := g.vars.Lookup(name); ok {
		return v, ok
	}
	if name == "loopMetadata" {
		return g.meta, true
	}
	return value.Value{}, false
}

func (t *whileLoop) Execute(ctx context.Context, tc *engine.TaskContext) (err error) {
	m := &loopMeta{}
	aggs, err := newAggregators(tc.Vars, t.agg)
	if err != nil {
		return t.finish(tc, m, nil, m.fail(failAggregating, err))
	}
	defer func() { err = t.finish(tc, m, aggs, err) }()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		ok, err := t.cond.Eval(metaGetter{tc.Vars, m.value()})
		if err != nil {
			return m.fail(failCondition, fmt.Errorf("while condition %s: %w", t.cond, err))
		}
		if !ok {
			return nil
		}
		if m.count >= t.max {
			return m.fail(failCondition, fmt.Errorf("the while loop ran %d iterations, its limit, and its condition %s still holds", t.max, t.cond))
		}
		m.count++
		m.detail = ""
		if err := t.iterate(ctx, tc, m, aggs, nil); err != nil {
			return err
		}
	}
}

type scatter struct {
	target subTarget
	list   *value.Template
	elem   string
	async  bool
	delay  time.Duration
	max    int
	ignore bool
	req    []varMapping
	agg    []varMapping
	out    value.Ref
}

func newScatter(cfg *spec.TaskConfig) (engine.Task, error) {
	t := &scatter{}
	var err error
	if t.target, err = newSubTarget(cfg); err != nil {
		return nil, err
	}
	if t.list, err = listParam(cfg, pListToScatter); err != nil {
		return nil, err
	}
	ev, err := param(cfg, pSubworkflowInput)
	if err != nil {
		return nil, err
	}
	t.elem = childName(ev.Str())
	if t.async, t.delay, err = asyncParams(cfg); err != nil {
		return nil, err
	}
	mv, err := param(cfg, pMaxParallelScatters)
	if err != nil {
		return nil, err
	}
	t.max = int(mv.Int())
	if t.max < 0 {
		return nil, fmt.Errorf("parameter %s must not be negative", pMaxParallelScatters)
	}
	if t.max == 0 {
		t.max = defaultParallelGather
	}
	if t.ignore, err = boolParam(cfg, pIgnoreIndividual, false); err != nil {
		return nil, err
	}
	if t.req, err = nameMapping(cfg, pRequestParamsMap); err != nil {
		return nil, err
	}
	if t.agg, err = nameMapping(cfg, pResponseAggregator); err != nil {
		return nil, err
	}
	t.out, err = outputRef(cfg, pScatterResponseJSON, string(cfg.TaskID))
	return t, err
}

// scatterResult is the outcome of one element.
type scatterResult struct {
	ran bool
	rs  []engine.SubResult
	err error
}

func (t *scatter) Execute(ctx context.Context, tc *engine.TaskContext) error {
	if tc.Invoker == nil {
		return engine.ErrNoInvoker
	}
	elems, err := elements(t.list, tc.Vars)
	if err != nil {
		return &engine.TaskError{Message: "For Each Parallel: " + err.Error(), Err: err}
	}
	aggs, err := newAggregators(tc.Vars, t.agg)
	if err != nil {
		return &engine.TaskError{Message: "For Each Parallel: " + err.Error(), Err: err}
	}
	base := childInputs(tc.Vars, t.req, 0)
	results := make([]scatterResult, len(elems))
	call := func(i int) {
		in := make(map[string]value.Value, len(base)+1)
		for k, v := range base {
			in[k] = v
		}
		if t.elem != "" {
			in[t.elem] = elems[i]
		}
		rs, err := tc.Invoker.Invoke(ctx, &engine.SubCall{Parent: tc.Exec, TaskID: tc.TaskID, TriggerID: t.target.trigger,
			Integration: t.target.integration, Inputs: in, Async: t.async, Delay: t.delay})
		if err == nil {
			for _, r := range rs {
				if r.Err != nil {
					err = childFailure(r)
					break
				}
			}
		}
		results[i] = scatterResult{ran: true, rs: rs, err: err}
	}
	t.run(ctx, len(elems), call, results)

	failed, first := 0, error(nil)
	arr := make([]any, len(elems))
	for i, res := range results {
		o := value.NewObject(5)
		ids := []any{}
		for _, r := range res.rs {
			ids = append(ids, r.ExecutionID)
		}
		o.Set("executionIds", ids)
		ok := res.ran && res.err == nil
		o.Set("isSuccessful", ok)
		switch {
		case !res.ran:
			o.Set("errorMsg", "not started: an earlier element failed")
		case res.err != nil:
			o.Set("errorMsg", res.err.Error())
		}
		if !ok {
			failed++
			if first == nil && res.err != nil {
				first = res.err
			}
		}
		params := value.NewObject(len(t.agg))
		for _, r := range res.rs {
			for _, a := range aggs {
				if v, found := a.m.childValue(r.Vars); found && r.Vars != nil {
					params.Set(a.m.from.Name, v.ToJSON())
				}
			}
			if ok {
				for _, a := range aggs {
					a.add(r.Vars)
				}
			}
		}
		o.Set("responseParams", params)
		o.Set("scatterElement", elems[i].ToJSON())
		arr[i] = o
	}
	if err := setRef(tc.Vars, t.out, value.FromJSON(arr)); err != nil {
		return err
	}
	if !t.async {
		if err := storeAll(tc.Vars, aggs); err != nil {
			return &engine.TaskError{Message: "For Each Parallel: " + err.Error(), Err: err}
		}
	}
	if failed > 0 && !t.ignore {
		msg := fmt.Sprintf("For Each Parallel: %d of %d elements failed", failed, len(elems))
		if first != nil {
			msg += "; the first: " + first.Error()
		}
		return &engine.TaskError{Message: msg, Err: first}
	}
	return ctx.Err()
}

// run calls call(i) for every element, at most t.max at once, and returns
// when all calls have returned. Unless failures are ignored, no element
// starts after one has failed.
func (t *scatter) run(ctx context.Context, n int, call func(int), results []scatterResult) {
	workers := min(t.max, n)
	next := make(chan int)
	var wg sync.WaitGroup
	var stop atomic.Bool
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				call(i)
				if results[i].err != nil && !t.ignore {
					stop.Store(true)
				}
			}
		}()
	}
	for i := 0; i < n && !stop.Load() && ctx.Err() == nil; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
}

package tasks

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/integrationd/integrationd/internal/engine"
	"github.com/integrationd/integrationd/internal/spec"
	"github.com/integrationd/integrationd/internal/value"
)

// This file holds what the Call Integration, For Each, For Each Parallel
// and While tasks share: the sub-integration they call, the ParameterMaps
// that move values between parent and child, and aggregation.

// Parameter keys shared by the sub-integration tasks.
const (
	pTriggerID          = "triggerId"
	pWorkflowName       = "workflowName"
	pExecutionStrategy  = "executionStrategy"
	pTimeInMsToSchedule = "timeInMsToSchedule"
)

// subTarget is the sub-integration a task calls.
type subTarget struct {
	trigger     string
	integration string // "" = every integration with the trigger
}

func newSubTarget(cfg *spec.TaskConfig) (subTarget, error) {
	tv, err := param(cfg, pTriggerID)
	if err != nil {
		return subTarget{}, err
	}
	wv, err := param(cfg, pWorkflowName)
	if err != nil {
		return subTarget{}, err
	}
	t := subTarget{trigger: strings.TrimSpace(tv.Str()), integration: strings.TrimSpace(wv.Str())}
	if t.trigger == "" {
		return t, fmt.Errorf("parameter %s is required: the trigger id of the sub-integration to run", pTriggerID)
	}
	if !strings.Contains(t.trigger, "/") {
		// The console shows trigger ids without their type prefix.
		t.trigger = "api_trigger/" + t.trigger
	}
	return t, nil
}

func (t subTarget) String() string {
	if t.integration == "" {
		return "every integration with trigger " + t.trigger
	}
	return t.integration + " (" + t.trigger + ")"
}

// call runs the sub-integration once, synchronously, and returns its one
// result (the first by name when the trigger starts several).
func (t subTarget) call(ctx context.Context, tc *engine.TaskContext, in map[string]value.Value) ([]engine.SubResult, error) {
	if tc.Invoker == nil {
		return nil, engine.ErrNoInvoker
	}
	return tc.Invoker.Invoke(ctx, &engine.SubCall{Parent: tc.Exec, TaskID: tc.TaskID, TriggerID: t.trigger, Integration: t.integration, Inputs: in})
}

// asyncParams reads executionStrategy and timeInMsToSchedule.
func asyncParams(cfg *spec.TaskConfig) (async bool, delay time.Duration, err error) {
	sv, err := param(cfg, pExecutionStrategy)
	if err != nil {
		return false, 0, err
	}
	switch s := strings.ToUpper(strings.TrimSpace(sv.Str())); s {
	case "", "SYNC":
	case "ASYNC":
		async = true
	default:
		return false, 0, fmt.Errorf("parameter %s must be SYNC or ASYNC, not %q", pExecutionStrategy, sv.Str())
	}
	dv, err := param(cfg, pTimeInMsToSchedule)
	if err != nil {
		return false, 0, err
	}
	ms := dv.Int()
	if dv.Kind() == value.String {
		if _, err := fmt.Sscan(dv.Str(), &ms); err != nil && strings.TrimSpace(dv.Str()) != "" {
			return false, 0, fmt.Errorf("parameter %s: %q is not a number of milliseconds", pTimeInMsToSchedule, dv.Str())
		}
	}
	if ms < 0 {
		return false, 0, fmt.Errorf("parameter %s must not be negative", pTimeInMsToSchedule)
	}
	return async, time.Duration(ms) * time.Millisecond, nil
}

// varMapping is one ParameterMap entry between parent and child
// variables. For requests, from is a parent reference and to a child
// input name; for responses, from is a child variable and to a parent
// reference.
type varMapping struct {
	from value.Ref
	to   value.Ref
}

// nameMapping compiles a ParameterMap whose keys and values name
// variables (bare names, `backticked` names or $references$).
func nameMapping(cfg *spec.TaskConfig, key string) ([]varMapping, error) {
	entries, err := decodeParameterMap(cfg, key)
	if err != nil {
		return nil, err
	}
	out := make([]varMapping, 0, len(entries))
	for i, e := range entries {
		from, err := e.Key.name()
		if err != nil {
			return nil, fmt.Errorf("parameter %s entry %d key: %w", key, i, err)
		}
		to, err := e.Value.name()
		if err != nil {
			return nil, fmt.Errorf("parameter %s entry %d value: %w", key, i, err)
		}
		if from == "" || to == "" {
			return nil, fmt.Errorf("parameter %s entry %d: both the key and the value must name a variable", key, i)
		}
		fr, err := value.ParseRef(from)
		if err != nil {
			return nil, fmt.Errorf("parameter %s entry %d key: %w", key, i, err)
		}
		tr, err := value.ParseRef(to)
		if err != nil {
			return nil, fmt.Errorf("parameter %s entry %d value: %w", key, i, err)
		}
		out = append(out, varMapping{from: fr, to: tr})
	}
	return out, nil
}

// name is the variable an entry side names.
func (p pmValue) name() (string, error) {
	switch {
	case p.ReferenceKey != "":
		return strings.TrimSpace(p.ReferenceKey), nil
	case p.LiteralValue != nil:
		v, err := value.FromSpec(p.LiteralValue)
		if err != nil {
			return "", err
		}
		return strings.TrimSpace(v.Text()), nil
	}
	return "", nil
}

// childInputs builds a child's inputs from the parent's variables: each
// mapping's parent value under the child variable's name. Unset parent
// variables are not passed.
func childInputs(g value.Getter, ms []varMapping, extra int) map[string]value.Value {
	in := make(map[string]value.Value, len(ms)+extra)
	for _, m := range ms {
		if v, ok := m.from.Resolve(g); ok && !v.IsNull() {
			in[m.to.Name] = v
		}
	}
	return in
}

// childValue reads the child variable that m maps from.
func (m varMapping) childValue(vars map[string]value.Value) (value.Value, bool) {
	v, ok := m.from.Resolve(value.MapGetter(vars))
	return v, ok
}

// override writes the child's values into the parent's variables.
func override(vs *value.Vars, ms []varMapping, child map[string]value.Value) error {
	for _, m := range ms {
		v, ok := m.childValue(child)
		if !ok {
			continue
		}
		if err := setRef(vs, m.to, v); err != nil {
			return fmt.Errorf("mapping sub-integration output %s to %s: %w", m.from, m.to, err)
		}
	}
	return nil
}

// aggregator collects a child output across iterations into a parent
// array variable, in iteration order.
type aggregator struct {
	m     varMapping
	kind  value.Kind // the parent variable's kind (JSON when undeclared)
	elems []value.Value
}

func newAggregators(vs *value.Vars, ms []varMapping) ([]*aggregator, error) {
	out := make([]*aggregator, len(ms))
	for i, m := range ms {
		k, ok := vs.Declared(m.to.Name)
		if !ok || k == value.Null || len(m.to.Path) > 0 {
			k = value.JSON
		}
		if !k.IsArray() && k != value.JSON {
			return nil, fmt.Errorf("cannot collect sub-integration output %s into %s: it is declared %s, and collecting needs an array or JSON variable", m.from, m.to, k.DataType())
		}
		out[i] = &aggregator{m: m, kind: k}
	}
	return out, nil
}

// add appends the child's value (the elements of an array value into a
// typed array; the value itself into a JSON array). A child without the
// variable adds nothing to typed arrays and null to JSON ones, so that
// JSON positions follow iterations.
func (a *aggregator) add(child map[string]value.Value) {
	v, ok := a.m.childValue(child)
	if a.kind == value.JSON {
		if !ok {
			v = value.Value{}
		}
		a.elems = append(a.elems, v)
		return
	}
	if !ok || v.IsNull() {
		return
	}
	if v.Kind().IsArray() || (v.Kind() == value.JSON && isJSONArray(v)) {
		for i := range v.Len() {
			e, _ := v.Index(i)
			a.elems = append(a.elems, e)
		}
		return
	}
	a.elems = append(a.elems, v)
}

func isJSONArray(v value.Value) bool {
	_, ok := v.JSON().([]any)
	return ok
}

// store writes the collected array into the parent variable.
func (a *aggregator) store(vs *value.Vars) error {
	var v value.Value
	if a.kind == value.JSON {
		arr := make([]any, len(a.elems))
		for i, e := range a.elems {
			arr[i] = e.ToJSON()
		}
		v = value.FromJSON(arr)
	} else {
		elems := make([]value.Value, len(a.elems))
		for i, e := range a.elems {
			c, err := value.Convert(e, a.kind.Elem())
			if err != nil {
				return fmt.Errorf("collecting sub-integration output %s into %s (%s): element %d: %w", a.m.from, a.m.to, a.kind.DataType(), i, err)
			}
			elems[i] = c
		}
		v = value.MakeArray(a.kind, elems)
	}
	if err := setRef(vs, a.m.to, v); err != nil {
		return fmt.Errorf("collecting sub-integration output %s into %s: %w", a.m.from, a.m.to, err)
	}
	return nil
}

func storeAll(vs *value.Vars, aggs []*aggregator) error {
	for _, a := range aggs {
		if err := a.store(vs); err != nil {
			return err
		}
	}
	return nil
}

// listParam compiles a list parameter such as listToIterate: "$var$" (an
// array or a JSON array variable, or a path into one) or literal JSON.
func listParam(cfg *spec.TaskConfig, key string) (*value.Template, error) {
	t, err := templateParam(cfg, key)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(t.Text()) == "" {
		return nil, fmt.Errorf("parameter %s is required: the list to iterate over", key)
	}
	return t, nil
}

// elements resolves a list parameter to its elements.
func elements(t *value.Template, g value.Getter) ([]value.Value, error) {
	v := t.Eval(g)
	if v.Kind() == value.String {
		text := strings.TrimSpace(v.Str())
		if text == "" {
			return nil, nil
		}
		j, err := value.ParseJSON(text)
		if err != nil {
			return nil, fmt.Errorf("%s is neither an array variable nor a JSON array: %w", t.Text(), err)
		}
		v = value.FromJSON(j)
	}
	switch {
	case v.IsNull():
		return nil, nil
	case v.Kind() == value.JSON && !isJSONArray(v):
		return nil, fmt.Errorf("%s is a JSON %s, not an array", t.Text(), value.DescribeJSON(v.JSON()))
	case v.Kind() != value.JSON && !v.Kind().IsArray():
		return nil, fmt.Errorf("%s is a %s, not an array", t.Text(), v.Kind().DataType())
	}
	out := make([]value.Value, v.Len())
	for i := range out {
		e, _ := v.Index(i)
		if e.Kind() == value.JSON {
			e = value.Infer(e.JSON())
		}
		out[i] = e
	}
	return out, nil
}

// Loop failure locations (LoopMetadata.failureLocation).
const (
	failSubworkflow     = "SUBWORKFLOW"
	failOverriding      = "PARAM_OVERRIDING"
	failAggregating     = "PARAM_AGGREGATING"
	failGettingList     = "GETTING_LIST_TO_ITERATE"
	failCondition       = "CONDITION_EVALUATION"
	failBuildingRequest = "BUILDING_REQUEST"
)

// loopMeta is the loopMetadata output of the loop tasks. Its keys are
// the LoopMetadata proto's field names as Google's documentation spells
// them in conditions ($loopMetadata.current_iteration_count$).
type loopMeta struct {
	count    int
	detail   string
	errMsg   string
	location string
	ids      []string
}

func (m *loopMeta) value() value.Value {
	o := value.NewObject(5)
	o.Set("current_iteration_count", float64(m.count))
	o.Set("current_iteration_detail", m.detail)
	ids := make([]any, len(m.ids))
	for i, id := range m.ids {
		ids[i] = id
	}
	o.Set("sub_integration_execution_ids", ids)
	if m.errMsg != "" {
		o.Set("error_msg", m.errMsg)
		o.Set("failure_location", m.location)
	}
	return value.FromJSON(o)
}

// fail records a loop failure in the metadata and returns it as the
// task's error.
func (m *loopMeta) fail(location string, err error) error {
	m.location, m.errMsg = location, err.Error()
	return &engine.TaskError{Message: fmt.Sprintf("iteration %d: %v", m.count, err), Err: err}
}

// childFailure is the task error for a child execution that failed.
func childFailure(r engine.SubResult) error {
	return fmt.Errorf("sub-integration %s (execution %s) ended %s: %w", r.Integration, r.ExecutionID, r.State, r.Err)
}

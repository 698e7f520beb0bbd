package engine

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/integrationd/integrationd/internal/expr"
	"github.com/integrationd/integrationd/internal/schema"
	"github.com/integrationd/integrationd/internal/spec"
	"github.com/integrationd/integrationd/internal/value"
)

// Plan is a version compiled for execution: immutable, shared by every
// execution of the version.
type Plan struct {
	Version   *spec.IntegrationVersion
	nodes     map[string]*node
	order     []*node // in taskConfigs order
	triggers  map[string]*trigger
	catchers  map[string]*catcher
	decls     map[string]value.Kind
	defaults  map[string]value.Value
	outputs   []string // OUT and IN_OUT variables in declaration order
	response  []string // outputs, then the system variables
	inputs    map[string]bool
	persisted bool
	// schemas holds the compiled jsonSchema of each JSON variable that
	// declares one; schemaVars lists those variables in declaration order.
	schemas    map[string]*schema.Schema
	schemaVars []string

	// fp is the plan's fingerprint, computed by the first checkpoint.
	fpOnce sync.Once
	fp     string
}

type node struct {
	id       string
	cfg      *spec.TaskConfig
	task     Task
	compErr  error // ErrUnsupported & co: the task cannot run
	out      []*edge
	in       []*edge
	first    bool // RUN_FIRST_MATCH
	join     string
	sync     *policySet
	async    *policySet
	catcher  string
	errorTsk bool
	// successPolicy.finalState SUSPENDED (set on Google's SuspendTask and
	// SuspensionTask) is not read: a task suspends by returning a
	// *SuspendRequest, whatever its success policy says (docs/suspensions.md).
	// checkPre and checkPost: jsonValidationOption asks to validate the
	// JSON variables against their schemas before / after each attempt.
	checkPre, checkPost bool
}

type edge struct {
	from, to *node
	cond     *expr.Program
	text     string
	idx      int // position in from.out or the trigger's startTasks
}

type trigger struct {
	cfg     *spec.TriggerConfig
	starts  []*edge // from == nil
	first   bool
	catcher string
}

type catcher struct {
	id     string
	starts []*edge
}

// Issue is one problem found while compiling a version.
type Issue struct {
	TaskID string // "" for version-level problems
	Field  string // e.g. "nextTasks[0].condition"
	Msg    string
	// Unsupported marks an unknown task type: the version can be stored
	// and published, but executing a trigger that reaches the task fails
	// with UNIMPLEMENTED.
	Unsupported bool
}

func (i Issue) String() string {
	var b strings.Builder
	if i.TaskID != "" {
		fmt.Fprintf(&b, "task %s: ", i.TaskID)
	}
	if i.Field != "" {
		b.WriteString(i.Field + ": ")
	}
	b.WriteString(i.Msg)
	return b.String()
}

// Issues is every problem found in a version.
type Issues []Issue

// Errors returns the issues that are errors (not unsupported tasks).
func (is Issues) Errors() Issues {
	var out Issues
	for _, i := range is {
		if !i.Unsupported {
			out = append(out, i)
		}
	}
	return out
}

// Unsupported returns the unsupported-task issues.
func (is Issues) Unsupported() Issues {
	var out Issues
	for _, i := range is {
		if i.Unsupported {
			out = append(out, i)
		}
	}
	return out
}

func (is Issues) Error() string {
	parts := make([]string, len(is))
	for i, x := range is {
		parts[i] = x.String()
	}
	return strings.Join(parts, "; ")
}

// Limits bound what a version may hold.
type Limits struct {
	MaxTasks int // 100 on Google's service; 0 means no limit
}

// Compile builds the plan of a version. It always returns a plan when the
// version has no error issues; unsupported tasks are reported as issues
// marked Unsupported and fail only the executions that reach them.
func Compile(v *spec.IntegrationVersion, c Compiler, lim Limits) (*Plan, Issues) {
	p := &Plan{
		Version:   v,
		nodes:     make(map[string]*node, len(v.TaskConfigs)),
		triggers:  make(map[string]*trigger, len(v.TriggerConfigs)),
		catchers:  make(map[string]*catcher),
		decls:     make(map[string]value.Kind),
		defaults:  make(map[string]value.Value),
		inputs:    make(map[string]bool),
		persisted: v.DatabasePersistencePolicy != spec.PersistenceDisabled,
	}
	var iss Issues
	add := func(task, field, format string, args ...any) {
		iss = append(iss, Issue{TaskID: task, Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	if lim.MaxTasks > 0 && len(v.TaskConfigs) > lim.MaxTasks {
		add("", "taskConfigs", "%d tasks exceed the limit of %d tasks per integration", len(v.TaskConfigs), lim.MaxTasks)
	}

	// Variables.
	for i := range v.IntegrationParameters {
		ip := &v.IntegrationParameters[i]
		field := fmt.Sprintf("integrationParameters[%d]", i)
		if ip.Key == "" {
			add("", field+".key", "variable without a key")
			continue
		}
		if _, dup := p.decls[ip.Key]; dup {
			add("", field+".key", "duplicate variable %s", ip.Key)
			continue
		}
		k, ok := value.KindOfDataType(ip.DataType)
		if !ok {
			add("", field+".dataType", "variable %s: unknown dataType %q", ip.Key, ip.DataType)
			continue
		}
		if k == value.Null && ip.DefaultValue != nil {
			k = value.KindOfSpec(ip.DefaultValue)
		}
		p.decls[ip.Key] = k
		if k == value.JSON && strings.TrimSpace(ip.JSONSchema) != "" {
			if s, err := schema.Compile(ip.JSONSchema); err != nil {
				add("", field+".jsonSchema", "variable %s: %v", ip.Key, err)
			} else {
				if p.schemas == nil {
					p.schemas = make(map[string]*schema.Schema)
				}
				p.schemas[ip.Key] = s
				p.schemaVars = append(p.schemaVars, ip.Key)
			}
		}
		if ip.DefaultValue != nil {
			d, err := value.FromSpec(ip.DefaultValue)
			if err == nil {
				d, err = value.Convert(d, k)
			}
			if err != nil {
				add("", field+".defaultValue", "variable %s: default value: %v", ip.Key, err)
			} else if !d.IsNull() || value.KindOfSpec(ip.DefaultValue) != value.Null {
				p.defaults[ip.Key] = d
			}
		}
		switch ip.InputOutputType {
		case spec.InOutOut:
			p.outputs = append(p.outputs, ip.Key)
		case spec.InOutInOut:
			p.outputs = append(p.outputs, ip.Key)
			p.inputs[ip.Key] = true
		case spec.InOutIn:
			p.inputs[ip.Key] = true
		}
	}
	for i := range v.IntegrationConfigParameters {
		cp := &v.IntegrationConfigParameters[i]
		k, ok := value.KindOfDataType(cp.Parameter.DataType)
		if !ok {
			add("", fmt.Sprintf("integrationConfigParameters[%d].parameter.dataType", i), "unknown dataType %q", cp.Parameter.DataType)
			continue
		}
		p.decls[cp.Parameter.Key] = k
		dv := cp.Value
		if dv == nil {
			dv = cp.Parameter.DefaultValue
		}
		if dv != nil {
			if d, err := value.FromSpec(dv); err == nil {
				p.defaults[cp.Parameter.Key] = d
			}
		}
	}
	for _, sv := range systemVars {
		if _, ok := p.decls[sv.name]; !ok {
			p.decls[sv.name] = sv.kind
		}
	}
	p.response = append([]string(nil), p.outputs...)
	for _, sv := range systemVars {
		if !slices.Contains(p.outputs, sv.name) {
			p.response = append(p.response, sv.name)
		}
	}

	// Tasks.
	for i := range v.TaskConfigs {
		tc := &v.TaskConfigs[i]
		id := string(tc.TaskID)
		if id == "" {
			add("", fmt.Sprintf("taskConfigs[%d].taskId", i), "task without a taskId")
			continue
		}
		if _, dup := p.nodes[id]; dup {
			add(id, "taskId", "duplicate task id %s", id)
			continue
		}
		n := &node{id: id, cfg: tc, first: tc.NextTasksExecutionPolicy == spec.RunFirstMatch,
			join: tc.TaskExecutionStrategy, catcher: tc.ErrorCatcherID, errorTsk: tc.ExternalTaskType == spec.TaskTypeError}
		switch n.join {
		case "", spec.WhenAllSucceed, spec.WhenAnySucceed, spec.WhenAllTasksAndConditionsSucceed:
		default:
			add(id, "taskExecutionStrategy", "unknown strategy %q", n.join)
		}
		switch tc.NextTasksExecutionPolicy {
		case "", spec.RunAllMatch, spec.RunFirstMatch, "NEXT_TASKS_EXECUTION_POLICY_UNSPECIFIED":
		default:
			add(id, "nextTasksExecutionPolicy", "unknown policy %q", tc.NextTasksExecutionPolicy)
		}
		switch tc.JSONValidationOption {
		case "", JSONValidationSkip, "JSON_VALIDATION_OPTION_UNSPECIFIED":
		case JSONValidationPre:
			n.checkPre = true
		case JSONValidationPost:
			n.checkPost = true
		case JSONValidationPrePost:
			n.checkPre, n.checkPost = true, true
		default:
			add(id, "jsonValidationOption", "unknown option %q", tc.JSONValidationOption)
		}
		var err error
		if n.sync, err = compilePolicies(tc.ConditionalFailurePolicies, tc.SynchronousCallFailurePolicy); err != nil {
			add(id, "synchronousCallFailurePolicy", "%v", err)
		}
		if n.async, err = compilePolicies(tc.ConditionalFailurePolicies, tc.FailurePolicy); err != nil {
			add(id, "failurePolicy", "%v", err)
		}
		if tc.Task == "" {
			add(id, "task", "task type is empty")
		} else if c != nil {
			t, err := c.CompileTask(tc)
			switch {
			case errors.Is(err, ErrUnsupported):
				n.compErr = err
				iss = append(iss, Issue{TaskID: id, Field: "task", Msg: fmt.Sprintf("task type %q is not supported by integrationd", tc.Task), Unsupported: true})
			case err != nil:
				n.compErr = err
				add(id, "parameters", "%v", err)
			default:
				n.task = t
			}
		}
		p.nodes[id] = n
		p.order = append(p.order, n)
	}

	compileEdge := func(from *node, nt *spec.NextTask, owner, field string, idx int) *edge {
		to, ok := p.nodes[string(nt.TaskID)]
		if !ok {
			add(owner, field+".taskId", "next task %q does not exist", nt.TaskID)
			return nil
		}
		e := &edge{from: from, to: to, text: nt.Condition, idx: idx}
		prog, err := expr.Compile(nt.Condition)
		if err != nil {
			add(owner, field+".condition", "%v", err)
			return nil
		}
		e.cond = prog
		to.in = append(to.in, e)
		return e
	}
	for _, n := range p.order {
		for j := range n.cfg.NextTasks {
			if e := compileEdge(n, &n.cfg.NextTasks[j], n.id, fmt.Sprintf("nextTasks[%d]", j), j); e != nil {
				if e.to == n {
					add(n.id, fmt.Sprintf("nextTasks[%d]", j), "task %s points to itself", n.id)
					continue
				}
				n.out = append(n.out, e)
			}
		}
	}
	// Triggers.
	for i := range v.TriggerConfigs {
		tc := &v.TriggerConfigs[i]
		field := fmt.Sprintf("triggerConfigs[%d]", i)
		tr := &trigger{cfg: tc, first: tc.NextTasksExecutionPolicy == spec.RunFirstMatch, catcher: tc.ErrorCatcherID}
		for j := range tc.StartTasks {
			to, ok := p.nodes[string(tc.StartTasks[j].TaskID)]
			if !ok {
				add("", fmt.Sprintf("%s.startTasks[%d].taskId", field, j), "trigger %s: start task %q does not exist", tc.TriggerID, tc.StartTasks[j].TaskID)
				continue
			}
			prog, err := expr.Compile(tc.StartTasks[j].Condition)
			if err != nil {
				add("", fmt.Sprintf("%s.startTasks[%d].condition", field, j), "%v", err)
				continue
			}
			tr.starts = append(tr.starts, &edge{to: to, cond: prog, text: tc.StartTasks[j].Condition, idx: j})
		}
		key := tc.TriggerID
		if key == "" {
			key = "trigger_number/" + string(tc.TriggerNumber)
		}
		if _, dup := p.triggers[key]; dup && tc.TriggerID != "" {
			add("", field+".triggerId", "duplicate triggerId %s", tc.TriggerID)
		}
		p.triggers[key] = tr
	}
	// Error catchers.
	for i := range v.ErrorCatcherConfigs {
		ec := &v.ErrorCatcherConfigs[i]
		field := fmt.Sprintf("errorCatcherConfigs[%d]", i)
		c := &catcher{id: ec.ErrorCatcherID}
		if c.id == "" {
			add("", field+".errorCatcherId", "error catcher without an id")
			continue
		}
		for j := range ec.StartErrorTasks {
			to, ok := p.nodes[string(ec.StartErrorTasks[j].TaskID)]
			if !ok {
				add("", fmt.Sprintf("%s.startErrorTasks[%d].taskId", field, j), "error catcher %s: start task %q does not exist", c.id, ec.StartErrorTasks[j].TaskID)
				continue
			}
			prog, err := expr.Compile(ec.StartErrorTasks[j].Condition)
			if err != nil {
				add("", fmt.Sprintf("%s.startErrorTasks[%d].condition", field, j), "%v", err)
				continue
			}
			c.starts = append(c.starts, &edge{to: to, cond: prog, text: ec.StartErrorTasks[j].Condition, idx: j})
		}
		p.catchers[c.id] = c
	}
	for _, n := range p.order {
		if n.catcher != "" {
			checkCatcherRef(p, &iss, n.id, "errorCatcherId", n.catcher)
		}
	}
	for i := range v.TriggerConfigs {
		if id := v.TriggerConfigs[i].ErrorCatcherID; id != "" {
			checkCatcherRef(p, &iss, "", fmt.Sprintf("triggerConfigs[%d].errorCatcherId", i), id)
		}
	}
	iss = append(iss, findCycles(p)...)
	sort.SliceStable(iss, func(i, j int) bool {
		return iss[i].TaskID < iss[j].TaskID && iss[i].TaskID != "" && iss[j].TaskID != ""
	})
	return p, iss
}

func checkCatcherRef(p *Plan, iss *Issues, task, field, id string) {
	if _, ok := p.catchers[id]; !ok {
		*iss = append(*iss, Issue{TaskID: task, Field: field, Msg: fmt.Sprintf("error catcher %q does not exist", id)})
	}
}

// findCycles reports each cycle of the task graph once (the reference
// service's graphs are acyclic; loops are While/For Each tasks).
func findCycles(p *Plan) Issues {
	const (
		white = iota
		grey
		black
	)
	color := make(map[*node]int, len(p.order))
	var iss Issues
	var stack []*node
	var visit func(n *node)
	visit = func(n *node) {
		color[n] = grey
		stack = append(stack, n)
		for _, e := range n.out {
			switch color[e.to] {
			case white:
				visit(e.to)
			case grey:
				var ids []string
				for i := len(stack) - 1; i >= 0; i-- {
					ids = append([]string{stack[i].id}, ids...)
					if stack[i] == e.to {
						break
					}
				}
				ids = append(ids, e.to.id)
				iss = append(iss, Issue{TaskID: n.id, Field: "nextTasks", Msg: "cycle: " + strings.Join(ids, " -> ")})
			}
		}
		stack = stack[:len(stack)-1]
		color[n] = black
	}
	for _, n := range p.order {
		if color[n] == white {
			visit(n)
		}
	}
	return iss
}

// HasTrigger reports whether the plan has a trigger with this id.
func (p *Plan) HasTrigger(id string) bool {
	_, ok := p.triggers[id]
	return ok
}

// TriggerIDs lists the trigger ids of the plan.
func (p *Plan) TriggerIDs() []string {
	ids := make([]string, 0, len(p.triggers))
	for id := range p.triggers {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// Declared returns the declared kind of a variable.
func (p *Plan) Declared(name string) (value.Kind, bool) {
	k, ok := p.decls[name]
	return k, ok
}

// IsInput reports whether a variable is declared IN or IN_OUT.
func (p *Plan) IsInput(name string) bool { return p.inputs[name] }

// Persisted is false when the version disables execution persistence.
func (p *Plan) Persisted() bool { return p.persisted }

// Unreachable returns the unsupported tasks reachable from trigger id,
// including the error catchers they may run.
func (p *Plan) Unsupported(triggerID string) []*spec.TaskConfig {
	tr, ok := p.triggers[triggerID]
	if !ok {
		return nil
	}
	seen := make(map[*node]bool)
	var out []*spec.TaskConfig
	var walk func(n *node)
	walk = func(n *node) {
		if seen[n] {
			return
		}
		seen[n] = true
		if n.compErr != nil {
			out = append(out, n.cfg)
		}
		for _, e := range n.out {
			walk(e.to)
		}
		if c, ok := p.catchers[n.catcher]; ok {
			for _, e := range c.starts {
				walk(e.to)
			}
		}
	}
	for _, e := range tr.starts {
		walk(e.to)
	}
	if c, ok := p.catchers[tr.catcher]; ok {
		for _, e := range c.starts {
			walk(e.to)
		}
	}
	return out
}

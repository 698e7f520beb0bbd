package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"maps"
	"slices"
	"strconv"

	"github.com/integrationd/integrationd/internal/spec"
	"github.com/integrationd/integrationd/internal/value"
)

// checkpointVersion is the format version of the checkpoints Run and
// Resume write ("v"); Resume refuses any other.
const checkpointVersion = 1

// checkpoint is the state of a suspended run: everything the coordinator
// keeps that a rebuild cannot derive from the plan. What prepare derives
// (which scope each task belongs to, how many incoming edges it waits
// for) is recomputed; nothing is running at a suspension, so the running
// counters are zero. Its size grows with the variables and the tasks, not
// with the history (log lines are bounded by Options.MaxLogLines).
type checkpoint struct {
	V         int    `json:"v"`
	Plan      string `json:"plan"`              // Plan.fingerprint
	Version   string `json:"version,omitempty"` // ExecInfo.VersionID
	Execution string `json:"execution,omitempty"`
	Trigger   string `json:"trigger"`
	// Attempt is the execution attempt (restarts); Attempts its history,
	// the last one ending at the suspension.
	Attempt  int       `json:"attempt"`
	Attempts []Attempt `json:"attempts"`
	// Inputs are the request's inputs, kept for a restart of the
	// integration after a resume.
	Inputs []cpVar `json:"inputs,omitempty"`
	// Vars are the variables with a value; declared variables without one
	// are left out.
	Vars []cpVar `json:"vars,omitempty"`
	Seq  int     `json:"seq"` // the last TaskRecord.Seq given
	// Tasks are the tasks decided or with resolved incoming edges, in
	// taskConfigs order.
	Tasks []cpTask `json:"tasks,omitempty"`
	// Catchers are the error catchers started, in the order they started.
	Catchers []cpCatcher `json:"catchers,omitempty"`
	// Failures are the unhandled non-fatal failures: they fail the
	// execution at its end unless a leaf task succeeds (LeafOK).
	Failures  []cpFailure   `json:"failures,omitempty"`
	LeafOK    bool          `json:"leafOk,omitempty"`
	Suspended []cpSuspended `json:"suspended"`
	Logs      []LogLine     `json:"logs,omitempty"`
}

// cpVar is a variable; Value is its proto3 JSON ValueType, so every kind
// keeps its type (JSON objects keep their key order in the jsonValue text).
type cpVar struct {
	Name  string          `json:"name"`
	Value json.RawMessage `json:"value"`
}

// cpTask is the coordinator's state of one task: its join counters and,
// once decided (State set), its record.
type cpTask struct {
	ID       string    `json:"id"`
	Resolved int       `json:"resolved,omitempty"`
	Taken    int       `json:"taken,omitempty"`
	State    string    `json:"state,omitempty"`
	Seq      int       `json:"seq,omitempty"`
	Attempts []Attempt `json:"attempts,omitempty"`
	Error    string    `json:"error,omitempty"`
}

// cpCatcher is a started error catcher and the failures it handles.
type cpCatcher struct {
	ID      string      `json:"id"`
	Failed  bool        `json:"failed,omitempty"`
	Done    bool        `json:"done,omitempty"`
	Waiting []cpFailure `json:"waiting,omitempty"`
}

// cpFailure is a task failure; its error comes back as a *TaskError.
type cpFailure struct {
	Task    string `json:"task,omitempty"`
	Message string `json:"message"`
	Code    int    `json:"code,omitempty"`
	Fatal   bool   `json:"fatal,omitempty"`
}

type cpSuspended struct {
	Task string          `json:"task"`
	Kind string          `json:"kind,omitempty"`
	Data json.RawMessage `json:"data,omitempty"`
}

// checkpoint encodes r once its run has ended suspended; res holds the
// run's final variables, execution attempts and log lines.
func (r *run) checkpoint(res *Result) ([]byte, error) {
	cp := checkpoint{
		V: checkpointVersion, Plan: r.p.fingerprint(), Version: r.req.Exec.VersionID, Execution: r.req.Exec.ExecutionID,
		Trigger: r.req.TriggerID, Attempt: r.attempt, Attempts: res.Attempts,
		Inputs: encodeVars(r.req.Inputs, nil), Vars: encodeVars(res.Vars, r.p.decls),
		Seq: r.seq, LeafOK: r.leafOK, Logs: res.Logs,
	}
	for _, n := range r.p.order {
		st := r.states[n]
		if st == nil || (st.rec == nil && st.resolved == 0) {
			continue
		}
		t := cpTask{ID: n.id, Resolved: st.resolved, Taken: st.taken}
		if rec := st.rec; rec != nil {
			t.State, t.Seq, t.Attempts, t.Error = rec.State, rec.Seq, rec.Attempts, rec.Error
		}
		cp.Tasks = append(cp.Tasks, t)
	}
	cp.Catchers = make([]cpCatcher, len(r.catchers))
	for _, sc := range r.catchers {
		cp.Catchers[sc.order] = cpCatcher{ID: sc.catcher.id, Failed: sc.failed, Done: sc.done, Waiting: encodeFailures(sc.waiting)}
	}
	cp.Failures = encodeFailures(r.failures)
	for _, s := range r.susp.tasks {
		cp.Suspended = append(cp.Suspended, cpSuspended{Task: s.n.id, Kind: s.req.Kind, Data: s.req.Data})
	}
	return json.Marshal(&cp)
}

// encodeVars lists vars in name order, leaving out the variables that
// decls declares and that hold no value (a rebuild sees them as declared
// and null all the same).
func encodeVars(vars map[string]value.Value, decls map[string]value.Kind) []cpVar {
	out := make([]cpVar, 0, len(vars))
	for _, name := range slices.Sorted(maps.Keys(vars)) {
		v := vars[name]
		if _, declared := decls[name]; declared && v.Kind() == value.Null {
			continue
		}
		out = append(out, cpVar{Name: name, Value: value.AppendValueType(nil, v)})
	}
	return out
}

func decodeVar(cv cpVar) (value.Value, error) {
	var vt spec.ValueType
	if err := json.Unmarshal(cv.Value, &vt); err != nil {
		return value.Value{}, fmt.Errorf("variable %q: %w", cv.Name, err)
	}
	v, err := value.FromSpec(&vt)
	if err != nil {
		return value.Value{}, fmt.Errorf("variable %q: %w", cv.Name, err)
	}
	return v, nil
}

func encodeFailures(fs []*failure) []cpFailure {
	var out []cpFailure
	for _, f := range fs {
		msg, code := errorParts(f.err)
		cf := cpFailure{Message: msg, Code: code, Fatal: f.fatal}
		if f.node != nil {
			cf.Task = f.node.id
		}
		out = append(out, cf)
	}
	return out
}

func (p *Plan) decodeFailures(cfs []cpFailure) ([]*failure, error) {
	var out []*failure
	for _, cf := range cfs {
		f := &failure{err: &TaskError{Code: cf.Code, Message: cf.Message}, fatal: cf.Fatal}
		if cf.Task != "" {
			n, ok := p.nodes[cf.Task]
			if !ok {
				return nil, fmt.Errorf("failure of unknown task %q", cf.Task)
			}
			f.node = n
		}
		out = append(out, f)
	}
	return out, nil
}

// badCheckpoint wraps ErrBadCheckpoint with a description.
func badCheckpoint(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBadCheckpoint, fmt.Sprintf(format, args...))
}

// restore rebuilds a suspended run from a checkpoint: variables, task
// states and records, error catchers, failures and suspensions. It checks
// the checkpoint against p, so that what it returns is a state the
// coordinator could have reached. res holds the execution attempts.
func restore(p *Plan, data []byte, req Request, opts Options) (*run, *Result, error) {
	var cp checkpoint
	if err := json.Unmarshal(data, &cp); err != nil {
		return nil, nil, badCheckpoint("%v", err)
	}
	if cp.V != checkpointVersion {
		return nil, nil, badCheckpoint("format version %d, want %d", cp.V, checkpointVersion)
	}
	if fp := p.fingerprint(); cp.Plan != fp || (cp.Version != "" && req.Exec.VersionID != "" && cp.Version != req.Exec.VersionID) {
		return nil, nil, fmt.Errorf("%w: taken with version %q (plan %s), resumed with version %q (plan %s)",
			ErrPlanMismatch, cp.Version, cp.Plan, req.Exec.VersionID, fp)
	}
	if cp.Execution != "" && req.Exec.ExecutionID != "" && cp.Execution != req.Exec.ExecutionID {
		return nil, nil, badCheckpoint("taken in execution %q, not %q", cp.Execution, req.Exec.ExecutionID)
	}
	tr, ok := p.triggers[cp.Trigger]
	if !ok {
		return nil, nil, badCheckpoint("no trigger %q", cp.Trigger)
	}
	if cp.Attempt < 1 || len(cp.Attempts) == 0 || cp.Seq < 0 {
		return nil, nil, badCheckpoint("attempt %d with %d attempts, seq %d", cp.Attempt, len(cp.Attempts), cp.Seq)
	}
	req.TriggerID = cp.Trigger
	req.Inputs = make(map[string]value.Value, len(cp.Inputs))
	for _, cv := range cp.Inputs {
		v, err := decodeVar(cv)
		if err != nil {
			return nil, nil, badCheckpoint("input %v", err)
		}
		req.Inputs[cv.Name] = v
	}
	r := &run{p: p, tr: tr, req: req, opts: opts, logs: &logSink{max: opts.MaxLogLines, lines: cp.Logs},
		attempt: cp.Attempt, seq: cp.Seq, leafOK: cp.LeafOK, susp: &suspensions{restored: true}}
	r.vars = value.NewVars(p.decls)
	for _, cv := range cp.Vars {
		v, err := decodeVar(cv)
		if err == nil {
			err = r.vars.Set(cv.Name, v)
		}
		if err != nil {
			return nil, nil, badCheckpoint("%v", err)
		}
	}
	if err := r.restoreGraph(&cp); err != nil {
		return nil, nil, badCheckpoint("%v", err)
	}
	return r, &Result{Attempts: cp.Attempts}, nil
}

// restoreGraph replays the scope preparations of the run in their order,
// which recomputes each task's scope and join target, then lays the
// checkpoint's counters, records, failures and suspensions over them.
func (r *run) restoreGraph(cp *checkpoint) error {
	p := r.p
	r.states = make(map[*node]*nodeState)
	r.catchers = make(map[*catcher]*scope)
	r.main = &scope{}
	r.prepare(r.main, r.tr.starts)
	var err error
	for _, cc := range cp.Catchers {
		c, ok := p.catchers[cc.ID]
		if !ok || r.catchers[c] != nil {
			return fmt.Errorf("unknown or repeated error catcher %q", cc.ID)
		}
		sc := &scope{catcher: c, order: len(r.catchers), failed: cc.Failed, done: cc.Done}
		if sc.waiting, err = p.decodeFailures(cc.Waiting); err != nil {
			return err
		}
		r.catchers[c] = sc
		r.prepare(sc, c.starts)
	}
	if r.failures, err = p.decodeFailures(cp.Failures); err != nil {
		return err
	}
	suspended := 0
	for _, t := range cp.Tasks {
		n := p.nodes[t.ID]
		st := r.states[n]
		if st == nil || st.decided || st.resolved > 0 {
			return fmt.Errorf("task %q is unknown, unreachable or repeated", t.ID)
		}
		if t.Taken < 0 || t.Taken > t.Resolved || t.Resolved > len(n.in) {
			return fmt.Errorf("task %q: %d of %d incoming edges taken, %d resolved", t.ID, t.Taken, len(n.in), t.Resolved)
		}
		st.resolved, st.taken = t.Resolved, t.Taken
		switch t.State {
		case "":
			continue
		case TaskSuspended:
			suspended++
		case TaskSucceed, TaskFailed, TaskFatal, TaskSkipped, TaskCancelled:
		default:
			return fmt.Errorf("task %q: state %q", t.ID, t.State)
		}
		st.decided = true
		st.rec = &TaskRecord{TaskID: n.id, Task: n.cfg.Task, DisplayName: n.cfg.DisplayName, State: t.State,
			Attempts: t.Attempts, Error: t.Error, Seq: t.Seq}
	}
	for _, cs := range cp.Suspended {
		st := r.states[p.nodes[cs.Task]]
		if st == nil || st.rec == nil || st.rec.State != TaskSuspended || r.suspendedIndex(cs.Task) >= 0 {
			return fmt.Errorf("task %q is listed as suspended but is not, or twice", cs.Task)
		}
		st.scope.suspended++
		r.susp.tasks = append(r.susp.tasks, suspension{n: p.nodes[cs.Task], req: &SuspendRequest{Kind: cs.Kind, Data: cs.Data}})
	}
	if suspended != len(r.susp.tasks) || suspended == 0 {
		return fmt.Errorf("%d tasks in state %s, %d listed as suspended", suspended, TaskSuspended, len(r.susp.tasks))
	}
	return nil
}

// fingerprint identifies what a checkpoint's state depends on: the task
// ids and types, edges and their conditions, fork and join policies,
// triggers, error catchers and variable declarations. Task parameters
// are not part of it (the service resumes with the version the execution
// started with, which the checkpoint's version id checks).
func (p *Plan) fingerprint() string {
	p.fpOnce.Do(func() {
		h := sha256.New()
		for _, n := range p.order {
			writeParts(h, "task", n.id, n.cfg.Task, n.join, strconv.FormatBool(n.first), n.catcher, strconv.FormatBool(n.errorTsk))
			writeEdges(h, n.out)
		}
		for _, id := range slices.Sorted(maps.Keys(p.triggers)) {
			tr := p.triggers[id]
			writeParts(h, "trigger", id, strconv.FormatBool(tr.first), tr.catcher)
			writeEdges(h, tr.starts)
		}
		for _, id := range slices.Sorted(maps.Keys(p.catchers)) {
			writeParts(h, "catcher", id)
			writeEdges(h, p.catchers[id].starts)
		}
		for _, name := range slices.Sorted(maps.Keys(p.decls)) {
			writeParts(h, "var", name, p.decls[name].String())
		}
		p.fp = hex.EncodeToString(h.Sum(nil)[:16])
	})
	return p.fp
}

// writeParts writes each part length-prefixed, so that no two sequences
// of parts write the same bytes.
func writeParts(h hash.Hash, parts ...string) {
	for _, s := range parts {
		fmt.Fprintf(h, "%d:%s;", len(s), s)
	}
}

func writeEdges(h hash.Hash, es []*edge) {
	for _, e := range es {
		writeParts(h, "edge", e.to.id, e.text)
	}
}

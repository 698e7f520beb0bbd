package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/integrationd/integrationd/internal/engine"
	"github.com/integrationd/integrationd/internal/rpc"
	"github.com/integrationd/integrationd/internal/spec"
	"github.com/integrationd/integrationd/internal/store"
	"github.com/integrationd/integrationd/internal/value"
)

// ExecuteRequest is a decoded :execute call.
type ExecuteRequest struct {
	Key       store.IntegrationKey // Name "-": every integration with the trigger
	TriggerID string
	// Inputs merges inputParameters, parameters and parameterEntries.
	Inputs              map[string]*spec.ValueType
	RequestID           string
	DoNotPropagateError bool
	ExecutionID         string
	// LegacyEntries asks for parameterEntries in the response (the request
	// used them).
	LegacyEntries bool
}

// ExecuteResponse is ExecuteIntegrationsResponse, kept as JSON so that a
// de-duplicated request gets exactly the first response.
type ExecuteResponse struct {
	ExecutionID      string          `json:"executionId"`
	OutputParameters json.RawMessage `json:"outputParameters,omitempty"`
	EventParameters  json.RawMessage `json:"eventParameters,omitempty"`
	ExecutionFailed  bool            `json:"executionFailed,omitempty"`
	ParameterEntries json.RawMessage `json:"parameterEntries,omitempty"`
}

// outcome is what an :execute call returned, as stored for de-duplication.
type outcome struct {
	Response *ExecuteResponse `json:"response,omitempty"`
	Error    *storedError     `json:"error,omitempty"`
}

type storedError struct {
	Code    rpc.Code          `json:"code"`
	HTTP    int               `json:"http,omitempty"` // a Return task's httpErrorCode`
	Message string            `json:"message"`
	Meta    map[string]string `json:"meta,omitempty"`
}

func (o *outcome) result() (*ExecuteResponse, error) {
	if o.Error != nil {
		return nil, execError(o.Error)
	}
	return o.Response, nil
}

func execError(se *storedError) *rpc.Error {
	e := rpc.Errorf(se.Code, "%s", se.Message)
	e.HTTP = se.HTTP
	if len(se.Meta) > 0 {
		e = e.WithErrorInfo("EXECUTION_FAILED", "integrations.googleapis.com", se.Meta)
	}
	return e
}

type dedupKey struct {
	key       store.IntegrationKey
	requestID string
}

type call struct {
	done chan struct{}
	out  *outcome
}

// ExceptionKey is the eventParameters key that carries a failed
// execution's error when doNotPropagateError is true.
const ExceptionKey = "PostWithTriggerIdExecutionException"

// Execute runs every published integration of req.Key whose trigger is
// req.TriggerID, synchronously, and returns the response of :execute.
func (s *Service) Execute(ctx context.Context, req *ExecuteRequest) (*ExecuteResponse, error) {
	if strings.TrimSpace(req.TriggerID) == "" {
		return nil, rpc.InvalidArgument("trigger_id", "trigger_id is required")
	}
	if req.Key.Name != "-" {
		if err := s.checkKey(req.Key); err != nil {
			return nil, err
		}
	}
	if req.ExecutionID != "" {
		return s.resumeOnHold(ctx, req)
	}
	if strings.HasPrefix(req.TriggerID, PrivateTriggerPrefix) {
		return nil, rpc.InvalidArgument("trigger_id", "%s is a private trigger: only a Call Integration or loop task of another integration can start it", req.TriggerID)
	}
	targets, err := s.targets(ctx, req.Key, req.TriggerID)
	if err != nil {
		return nil, err
	}
	// Inputs are checked against every target before anything runs.
	inputs := make([]map[string]value.Value, len(targets))
	for i, t := range targets {
		in, err := s.inputs(t.p, req.Inputs)
		if err != nil {
			return nil, err
		}
		inputs[i] = in
	}

	if len(targets) == 1 {
		return s.executeOne(ctx, req, targets[0].v, targets[0].p, inputs[0])
	}
	// Integration "-": run every match in parallel; answer with the first
	// (by integration name) and report executionFailed if any failed.
	resps := make([]*ExecuteResponse, len(targets))
	errs := make([]error, len(targets))
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resps[i], errs[i] = s.executeOne(ctx, req, t.v, t.p, inputs[i])
		}()
	}
	wg.Wait()
	if errs[0] != nil {
		return nil, errs[0]
	}
	first := *resps[0]
	for i := range targets {
		if errs[i] != nil || resps[i].ExecutionFailed {
			first.ExecutionFailed = true
		}
	}
	return &first, nil
}

// PrivateTriggerPrefix starts the ids of triggers that only other
// integrations can call.
const PrivateTriggerPrefix = "private_trigger/"

// target is one published integration that a trigger starts.
type target struct {
	v *store.Version
	p *engine.Plan
}

// targets finds the published integrations of k (Name "-": all of the
// project and location) that have trigger, ordered by name.
func (s *Service) targets(ctx context.Context, k store.IntegrationKey, trigger string) ([]target, error) {
	al, err := s.activePlans(ctx, k)
	if err != nil {
		return nil, err
	}
	var ts []target
	for i, p := range al.plans {
		if p.HasTrigger(trigger) {
			ts = append(ts, target{al.versions[i], p})
		}
	}
	if len(ts) == 0 {
		if k.Name == "-" {
			return nil, rpc.Errorf(rpc.CodeNotFound, "no published integration in projects/%s/locations/%s has trigger %q", k.Project, k.Location, trigger)
		}
		if len(al.plans) == 0 {
			return nil, rpc.Errorf(rpc.CodeNotFound, "integration %s has no published version", IntegrationName(k))
		}
		return nil, rpc.Errorf(rpc.CodeNotFound, "the published version of %s has no trigger %q (its triggers: %s)", IntegrationName(k), trigger, strings.Join(al.plans[0].TriggerIDs(), ", "))
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i].v.Key.Name < ts[j].v.Key.Name })
	return ts, nil
}

// inputs converts the request's values to the plan's declared kinds and
// validates JSON values against their variable's jsonSchema (null values
// and defaults are not validated here).
func (s *Service) inputs(p *engine.Plan, in map[string]*spec.ValueType) (map[string]value.Value, error) {
	out := make(map[string]value.Value, len(in))
	for name, vt := range in {
		if name == "" {
			return nil, rpc.InvalidArgument("input_parameters", "a parameter has an empty name")
		}
		v, err := value.FromSpec(vt)
		if err != nil {
			return nil, rpc.InvalidArgument("input_parameters."+name, "%v", err)
		}
		out[name] = v
	}
	return out, s.convertInputs(p, out, "input_parameters")
}

// convertInputs converts in place the values of in to their declared
// kinds in p, checks them against their jsonSchema and bounds their total
// size. field names the inputs in errors.
func (s *Service) convertInputs(p *engine.Plan, in map[string]value.Value, field string) error {
	size := 0
	for name, v := range in {
		if k, ok := p.Declared(name); ok {
			var err error
			if v, err = value.Convert(v, k); err != nil {
				return rpc.InvalidArgument(field+"."+name, "variable %s is declared %s: %v", name, k.DataType(), err)
			}
			if err := p.CheckSchema(name, v); err != nil {
				return rpc.InvalidArgument(field+"."+name, "variable %s does not match its jsonSchema: %v", name, err)
			}
			in[name] = v
		}
		size += v.Size()
		if size > s.cfg.MaxDataBytes {
			return rpc.InvalidArgument(field, "the inputs exceed the limit of %d bytes of data per execution", s.cfg.MaxDataBytes)
		}
	}
	return nil
}

func (s *Service) executeOne(ctx context.Context, req *ExecuteRequest, v *store.Version, p *engine.Plan, in map[string]value.Value) (*ExecuteResponse, error) {
	if req.RequestID == "" {
		return s.runAndRecord(ctx, req, v, p, in).result()
	}
	dk := dedupKey{key: v.Key, requestID: req.RequestID}
	c := &call{done: make(chan struct{})}
	if prev, loaded := s.inflight.LoadOrStore(dk, c); loaded {
		pc := prev.(*call)
		select {
		case <-pc.done:
			return pc.out.result()
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	defer func() {
		close(c.done)
		s.inflight.Delete(dk)
	}()
	if out, ok, err := s.previous(ctx, v.Key, req.RequestID); err != nil {
		c.out = &outcome{Error: &storedError{Code: rpc.CodeInternal, Message: err.Error()}}
		return nil, err
	} else if ok {
		c.out = out
		return out.result()
	}
	c.out = s.runAndRecord(ctx, req, v, p, in)
	return c.out.result()
}

// previous finds the stored outcome of an earlier call with requestID.
func (s *Service) previous(ctx context.Context, k store.IntegrationKey, requestID string) (*outcome, bool, error) {
	e, ok := s.writer.findRequest(k, requestID)
	if !ok {
		var err error
		e, err = s.st.FindExecutionByRequestID(ctx, k, requestID)
		if errors.Is(err, store.ErrNotFound) {
			return nil, false, nil
		}
		if err != nil {
			return nil, false, fmt.Errorf("looking up request %s: %w", requestID, err)
		}
	}
	var out outcome
	if err := json.Unmarshal(e.Response, &out); err != nil || (out.Response == nil && out.Error == nil) {
		return nil, false, fmt.Errorf("stored execution %s has no response", e.ID)
	}
	return &out, true, nil
}

// execSpec is one execution to run.
type execSpec struct {
	t         target
	id        string
	trigger   string
	requestID string
	in        map[string]value.Value
	mode      string // SYNC or ASYNC
	method    string // POST, POST_TO_QUEUE
	parentID  string
	depth     int
	created   time.Time
	replay    *replayInfo // set on a replay
}

// replayInfo is an Execution's replayInfo.
type replayInfo struct {
	Original string `json:"originalExecutionInfoId"`
	Mode     string `json:"replayMode"`
	Reason   string `json:"replayReason,omitempty"`
}

// run executes es and returns the engine's result.
func (s *Service) run(ctx context.Context, es *execSpec) *engine.Result {
	v := es.t.v
	return engine.Run(ctx, es.t.p, engine.Request{
		Exec: engine.ExecInfo{ExecutionID: es.id, IntegrationName: v.Key.Name, VersionID: v.ID, SnapshotNumber: v.SnapshotNumber,
			ProjectID: v.Key.Project, Region: v.Key.Location, Mode: es.mode, ParentID: es.parentID, Depth: es.depth},
		TriggerID: es.trigger,
		Inputs:    es.in,
	}, s.engineOptions())
}

func (s *Service) engineOptions() engine.Options {
	return engine.Options{Logger: s.log, RetryScale: s.cfg.RetryScale, MaxDataBytes: s.cfg.MaxDataBytes, Now: s.cfg.Now, Invoker: s}
}

func (s *Service) runAndRecord(ctx context.Context, req *ExecuteRequest, v *store.Version, p *engine.Plan, in map[string]value.Value) *outcome {
	es := &execSpec{t: target{v, p}, id: uuid.NewString(), trigger: req.TriggerID, requestID: req.RequestID, in: in,
		mode: "SYNC", method: "POST", created: s.cfg.Now().UTC()}
	return s.runSync(ctx, req, es, p.Persisted())
}

// runSync runs es under the synchronous timeout, where :cancel can reach
// it, answers as :execute does, and records it: always when persist is
// set or the run suspended (a suspended execution lives in the store until
// it resumes), and then at once for a suspension, through the writer
// otherwise.
func (s *Service) runSync(ctx context.Context, req *ExecuteRequest, es *execSpec, persist bool) *outcome {
	var w *inflightWatch
	if persist {
		w = s.watchSync(es)
	}
	runCtx, cancel := context.WithTimeout(ctx, s.cfg.SyncTimeout)
	res := s.runTracked(runCtx, es)
	deadline := errors.Is(runCtx.Err(), context.DeadlineExceeded) && ctx.Err() == nil
	cancel()

	out := s.respond(req, es.t.p, es.id, res, deadline)
	if res.State == engine.StateSuspended {
		var done []int64
		if j := w.stop(); j != nil && j.ID != 0 {
			done = append(done, j.ID)
		}
		if err := s.saveSuspended(ctx, es, res, out, nil, done...); err != nil {
			return &outcome{Error: &storedError{Code: rpc.CodeInternal, Message: err.Error()}}
		}
		return out
	}
	if persist {
		s.writer.enqueueReq(writeReq{e: s.record(es, res, out), doneJob: w.stop()})
	}
	return out
}

// inflightWatch records a synchronous execution that runs longer than
// Config.SyncRecordAfter as PROCESSING, with a reaper job due after the
// synchronous timeout: if the process dies, the reaper (run by any
// process) records the execution FAILED instead of leaving it PROCESSING.
type inflightWatch struct {
	mu    sync.Mutex
	timer *time.Timer
	ended bool
	job   *store.Job // the reaper, once recorded
}

func (s *Service) watchSync(es *execSpec) *inflightWatch {
	w := &inflightWatch{}
	w.timer = time.AfterFunc(s.cfg.SyncRecordAfter, func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		if w.ended {
			return
		}
		k := es.t.v.Key
		payload, _ := json.Marshal(runPayload{Project: k.Project, Location: k.Location, Integration: k.Name, ID: es.id, Mode: es.mode})
		w.job = &store.Job{Kind: jobReap, Key: "reap:" + es.id, Payload: payload, RunAt: es.created.Add(s.cfg.SyncTimeout + 5*time.Second)}
		rec := s.pendingRecord(es)
		rec.State = "PROCESSING"
		rec.Details = []byte(`{"executionDetails":{"state":"PROCESSING"}}`)
		s.writer.enqueueReq(writeReq{e: rec, add: w.job})
	})
	return w
}

// stop ends the watch and returns the reaper job to delete (nil: none).
func (w *inflightWatch) stop() *store.Job {
	if w == nil {
		return nil
	}
	w.timer.Stop()
	w.mu.Lock()
	defer w.mu.Unlock()
	w.ended = true
	return w.job
}

func (s *Service) respond(req *ExecuteRequest, p *engine.Plan, id string, res *engine.Result, deadline bool) *outcome {
	names := p.ResponseNames()
	outs := value.NewObject(len(names))
	for _, n := range names {
		outs.Set(n, res.Vars[n].ToJSON())
	}
	resp := &ExecuteResponse{ExecutionID: id, OutputParameters: value.AppendJSON(nil, outs)}
	var exception *value.Value
	if res.State != engine.StateSucceeded && res.State != engine.StateSuspended {
		se := s.failure(id, res, deadline)
		if !req.DoNotPropagateError {
			return &outcome{Error: se}
		}
		resp.ExecutionFailed = true
		msg := value.Str(se.Message)
		exception = &msg
	}
	ep := append(make([]byte, 0, 512), `{"parameters":`...)
	ep = appendParamList(ep, names, res.Vars, exception, appendParam)
	resp.EventParameters = append(ep, '}')
	if req.LegacyEntries {
		resp.ParameterEntries = appendParamList(nil, names, res.Vars, exception, appendEntry)
	}
	return &outcome{Response: resp}
}

// appendParamList appends a JSON array with elem(name, value) for each of
// names and, when exception is set, for the PostWithTriggerIdExecutionException.
func appendParamList(b []byte, names []string, vars map[string]value.Value, exception *value.Value, elem func([]byte, string, value.Value) []byte) []byte {
	b = append(b, '[')
	for i, n := range names {
		if i > 0 {
			b = append(b, ',')
		}
		b = elem(b, n, vars[n])
	}
	if exception != nil {
		if len(names) > 0 {
			b = append(b, ',')
		}
		b = elem(b, ExceptionKey, *exception)
	}
	return append(b, ']')
}

// appendEntry appends a legacy ParameterEntry {key, value, dataType}.
func appendEntry(b []byte, k string, v value.Value) []byte {
	b = appendParam(b, k, v)
	b = append(b[:len(b)-1], `,"dataType":`...)
	b = value.AppendString(b, legacyDataType(v.Kind()))
	return append(b, '}')
}

// AppendJSON appends the response as ExecuteIntegrationsResponse JSON.
func (r *ExecuteResponse) AppendJSON(b []byte) []byte {
	b = append(b, `{"executionId":`...)
	b = value.AppendString(b, r.ExecutionID)
	if len(r.OutputParameters) > 0 {
		b = append(b, `,"outputParameters":`...)
		b = append(b, r.OutputParameters...)
	}
	if len(r.EventParameters) > 0 {
		b = append(b, `,"eventParameters":`...)
		b = append(b, r.EventParameters...)
	}
	if r.ExecutionFailed {
		b = append(b, `,"executionFailed":true`...)
	}
	if len(r.ParameterEntries) > 0 {
		b = append(b, `,"parameterEntries":`...)
		b = append(b, r.ParameterEntries...)
	}
	return append(b, '}')
}

func (o *outcome) appendJSON(b []byte) []byte {
	if o.Response != nil {
		b = append(b, `{"response":`...)
		b = o.Response.AppendJSON(b)
		return append(b, '}')
	}
	e, _ := json.Marshal(o.Error)
	b = append(b, `{"error":`...)
	b = append(b, e...)
	return append(b, '}')
}

// failure maps a failed or cancelled run to the error :execute returns.
func (s *Service) failure(id string, res *engine.Result, deadline bool) *storedError {
	meta := map[string]string{"executionId": id}
	if res.ErrorTask != "" {
		meta["taskId"] = res.ErrorTask
	}
	var ret *engine.ReturnError
	var te *engine.TaskError
	switch {
	case deadline:
		return &storedError{Code: rpc.CodeDeadlineExceeded, Message: fmt.Sprintf("execution %s exceeded the synchronous execution timeout of %s and was cancelled", id, s.cfg.SyncTimeout), Meta: meta}
	case res.State == engine.StateCancelled:
		return &storedError{Code: rpc.CodeCanceled, Message: fmt.Sprintf("execution %s was cancelled: %v", id, res.Err), Meta: meta}
	case errors.As(res.Err, &ret):
		// The status maps to the google.rpc code whose HTTP status it is;
		// the status as the task gave it stays in the ErrorInfo metadata.
		meta["httpErrorCode"] = strconv.Itoa(ret.HTTPCode)
		msg := ret.Message
		if msg == "" {
			msg = fmt.Sprintf("execution %s ended by a Return task with HTTP status %d", id, ret.HTTPCode)
		}
		return &storedError{Code: rpc.CodeFromHTTP(ret.HTTPCode), HTTP: ret.HTTPCode, Message: msg, Meta: meta}
	case errors.As(res.Err, &te) && errors.Is(te.Err, engine.ErrUnsupported):
		// An unsupported task was reached (validate reports them up front).
		return &storedError{Code: rpc.CodeUnimplemented, Message: fmt.Sprintf("execution %s reached a task integrationd does not support: %s", id, te.Message), Meta: meta}
	case errors.As(res.Err, &te) && te.Code == 413:
		return &storedError{Code: rpc.CodeResourceExhausted, Message: te.Message, Meta: meta}
	case res.Err != nil:
		return &storedError{Code: rpc.CodeInternal, Message: res.Err.Error(), Meta: meta}
	}
	return &storedError{Code: rpc.CodeInternal, Message: "execution " + id + " failed", Meta: meta}
}

// legacyDataType is the EventBus dataType name of a kind.
func legacyDataType(k value.Kind) string {
	if dt := k.DataType(); dt != "" {
		return dt
	}
	return "DATA_TYPE_UNSPECIFIED"
}

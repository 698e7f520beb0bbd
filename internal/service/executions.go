package service

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/integrationd/integrationd/internal/engine"
	"github.com/integrationd/integrationd/internal/rpc"
	"github.com/integrationd/integrationd/internal/spec"
	"github.com/integrationd/integrationd/internal/store"
	"github.com/integrationd/integrationd/internal/value"
)

// The Details document of a stored execution:
//
//	{"executionDetails": {"state", "attemptStats", "executionSnapshots"},
//	 "snapshotNumber": "1",
//	 "responseParameters": {name: EventParameter},
//	 "executionLog": {"error", "errorTaskId", "tasks", "lines"}}
//
// Request holds requestParameters and Response the :execute outcome (kept
// for requestId de-duplication). They are encoded by hand: this runs for
// every execution, and reflection-based encoding was most of its cost.

// maxIndexedParam is the longest parameter text kept for filtering.
const maxIndexedParam = 256

func ts(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func appendTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.UTC().AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

// appendParam appends an EventParameter {"key": k, "value": ValueType}.
func appendParam(b []byte, k string, v value.Value) []byte {
	b = append(b, `{"key":`...)
	b = value.AppendString(b, k)
	b = append(b, `,"value":`...)
	b = value.AppendValueType(b, v)
	return append(b, '}')
}

// appendParamMap appends {name: ValueType} for names, in order: the form of
// an Execution's requestParameters, responseParameters and snapshot params.
func appendParamMap(b []byte, names []string, vals map[string]value.Value) []byte {
	b = append(b, '{')
	for i, n := range names {
		if i > 0 {
			b = append(b, ',')
		}
		b = value.AppendString(b, n)
		b = append(b, ':')
		b = value.AppendValueType(b, vals[n])
	}
	return append(b, '}')
}

func appendAttempts(b []byte, as []engine.Attempt) []byte {
	b = append(b, '[')
	for i, a := range as {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"startTime":`...)
		b = appendTime(b, a.Start)
		b = append(b, `,"endTime":`...)
		b = appendTime(b, a.End)
		b = append(b, '}')
	}
	return append(b, ']')
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// record builds the stored record of es with its result res and, for
// :execute calls with a requestId, the outcome out.
func (s *Service) record(es *execSpec, res *engine.Result, out *outcome) *store.Execution {
	v, p, in := es.t.v, es.t.p, es.in
	flat := make(map[string]string, len(in))
	for k, val := range in {
		// Long values (a whole JSON document) are not kept for the
		// parameter filters of executions.list.
		if t := val.Text(); len(t) <= maxIndexedParam {
			flat[k] = t
		}
	}
	reqJSON := appendParamMap(make([]byte, 0, 256), sortedKeys(in), in)

	b := make([]byte, 0, 4096)
	b = append(b, `{"executionDetails":{"state":`...)
	b = value.AppendString(b, res.State)
	b = append(b, `,"attemptStats":`...)
	b = appendAttempts(b, res.Attempts)
	b = append(b, `,"executionSnapshots":[`...)
	attempt := strconv.Itoa(len(res.Attempts))
	writeSnap := func(t *engine.TaskRecord, last bool) {
		b = append(b, '{')
		if t != nil {
			b = append(b, `"checkpointTaskNumber":`...)
			b = value.AppendString(b, t.TaskID)
			b = append(b, ',')
		}
		b = append(b, `"executionSnapshotMetadata":{"executionAttempt":`...)
		b = append(b, attempt...)
		if t != nil {
			b = append(b, `,"task":`...)
			b = value.AppendString(b, t.Task)
			b = append(b, `,"taskAttempt":`...)
			b = strconv.AppendInt(b, int64(len(t.Attempts)), 10)
			if t.DisplayName != "" {
				b = append(b, `,"taskLabel":`...)
				b = value.AppendString(b, t.DisplayName)
			}
			b = append(b, `,"taskNumber":`...)
			b = value.AppendString(b, t.TaskID)
		}
		b = append(b, `,"integrationName":`...)
		b = value.AppendString(b, v.Key.Name)
		b = append(b, '}')
		if t != nil {
			b = append(b, `,"taskExecutionDetails":[{"taskNumber":`...)
			b = value.AppendString(b, t.TaskID)
			b = append(b, `,"taskExecutionState":`...)
			b = value.AppendString(b, t.State)
			b = append(b, `,"taskAttemptStats":`...)
			b = appendAttempts(b, t.Attempts)
			b = append(b, "}]"...)
		}
		if last {
			b = append(b, `,"params":`...)
			b = appendParamMap(b, sortedKeys(res.Vars), res.Vars)
		}
		b = append(b, '}')
	}
	if len(res.Tasks) == 0 {
		writeSnap(nil, true)
	}
	for i, t := range res.Tasks {
		if i > 0 {
			b = append(b, ',')
		}
		writeSnap(t, i == len(res.Tasks)-1)
	}
	b = append(b, `]},`...)
	if es.replay != nil {
		b = append(b, `"replayInfo":`...)
		b = append(b, mustJSON(es.replay)...)
		b = append(b, ',')
	}
	b = append(b, `"snapshotNumber":"`...)
	b = strconv.AppendInt(b, v.SnapshotNumber, 10)
	// responseParameters are rebuilt from the last snapshot's params and
	// these names when the execution is read: no need to store them twice.
	b = append(b, `","outputNames":[`...)
	for i, n := range p.ResponseNames() {
		if i > 0 {
			b = append(b, ',')
		}
		b = value.AppendString(b, n)
	}
	b = append(b, `],"executionLog":{`...)
	if res.Err != nil {
		b = append(b, `"error":`...)
		b = value.AppendString(b, res.Err.Error())
		b = append(b, ',')
	}
	if res.ErrorTask != "" {
		b = append(b, `"errorTaskId":`...)
		b = value.AppendString(b, res.ErrorTask)
		b = append(b, ',')
	}
	b = append(b, `"tasks":[`...)
	for i, t := range res.Tasks {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"taskId":`...)
		b = value.AppendString(b, t.TaskID)
		b = append(b, `,"task":`...)
		b = value.AppendString(b, t.Task)
		b = append(b, `,"state":`...)
		b = value.AppendString(b, t.State)
		b = append(b, `,"errors":[`...)
		n := 0
		for _, a := range t.Attempts {
			if a.Error != "" {
				if n > 0 {
					b = append(b, ',')
				}
				b = value.AppendString(b, a.Error)
				n++
			}
		}
		b = append(b, "]}"...)
	}
	b = append(b, `],"lines":[`...)
	for i, l := range res.Logs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"taskId":`...)
		b = value.AppendString(b, l.TaskID)
		b = append(b, `,"time":`...)
		b = appendTime(b, l.Time)
		b = append(b, `,"message":`...)
		b = value.AppendString(b, l.Msg)
		b = append(b, '}')
	}
	b = append(b, "]}}"...)

	var outJSON []byte
	if es.requestID != "" && out != nil { // kept to answer a repeated requestId
		outJSON = out.appendJSON(nil)
	}
	return &store.Execution{
		Key: v.Key, ID: es.id, VersionID: v.ID, TriggerID: es.trigger, RequestID: es.requestID,
		State: res.State, ExecutionMethod: es.method, Params: flat,
		Request: reqJSON, Response: outJSON, Details: b,
		CreateTime: es.created, UpdateTime: s.cfg.Now().UTC(), ParentID: es.parentID,
	}
}

// ExecutionView is an execution as the API returns it.
type ExecutionView struct {
	Execution *store.Execution
	Doc       *value.Object
}

// State is the execution's state.
func (e *ExecutionView) State() string { return e.Execution.State }

func (s *Service) execView(e *store.Execution) (*ExecutionView, error) {
	doc := value.NewObject(10)
	doc.Set("name", ExecutionName(e.Key, e.ID))
	doc.Set("triggerId", e.TriggerID)
	doc.Set("executionMethod", e.ExecutionMethod)
	doc.Set("createTime", ts(e.CreateTime))
	doc.Set("updateTime", ts(e.UpdateTime))
	if e.ParentID != "" {
		doc.Set("parentExecutionId", e.ParentID)
	}
	for _, part := range []struct {
		key string
		raw []byte
	}{{"requestParameters", e.Request}} {
		if len(part.raw) == 0 {
			continue
		}
		j, err := value.ParseJSON(string(part.raw))
		if err != nil {
			return nil, fmt.Errorf("stored execution %s: %s: %w", e.ID, part.key, err)
		}
		doc.Set(part.key, j)
	}
	j, err := value.ParseJSON(string(e.Details))
	if err != nil {
		return nil, fmt.Errorf("stored execution %s: details: %w", e.ID, err)
	}
	if d, ok := j.(*value.Object); ok {
		doc.Set("responseParameters", responseParameters(d))
		for _, k := range []string{"executionDetails", "snapshotNumber", "replayInfo", "executionLog"} {
			if x, ok := d.Get(k); ok {
				doc.Set(k, x)
			}
		}
	}
	// The state column is authoritative: a record re-queued for a retry
	// keeps the details of its failed run but is RETRY_ON_HOLD.
	if details, ok := doc.Get("executionDetails"); ok {
		if o, ok := details.(*value.Object); ok && e.State != "" {
			o.Set("state", e.State)
		}
	}
	return &ExecutionView{Execution: e, Doc: doc}, nil
}

// responseParameters picks the output variables out of the last
// snapshot's params.
func responseParameters(d *value.Object) *value.Object {
	out := value.NewObject(8)
	names, _ := d.Get("outputNames")
	details, _ := d.Get("executionDetails")
	snaps, _ := value.GetPath(details, value.Path{{Key: "executionSnapshots"}})
	list, _ := snaps.([]any)
	if len(list) == 0 {
		return out
	}
	params, _ := value.GetPath(list[len(list)-1], value.Path{{Key: "params"}})
	po, _ := params.(*value.Object)
	ns, _ := names.([]any)
	for _, n := range ns {
		name, _ := n.(string)
		if po == nil {
			break
		}
		if p, ok := po.Get(name); ok {
			out.Set(name, p)
		}
	}
	return out
}

// maxSubExecutions bounds the directSubExecutions that GetExecution
// embeds; executions.list with parent_execution_id pages through all.
const maxSubExecutions = 100

// GetExecution returns one execution, including one still being written,
// with its direct sub-executions.
func (s *Service) GetExecution(ctx context.Context, k store.IntegrationKey, id string) (*ExecutionView, error) {
	e, ok := s.writer.get(id)
	if !ok || e.Key != k {
		var err error
		if e, err = s.st.GetExecution(ctx, k, id); err != nil {
			return nil, storeErr(err, "execution "+ExecutionName(k, id))
		}
	}
	view, err := s.execView(e)
	if err != nil {
		return nil, err
	}
	if s.writer.hasChildren(id) {
		if err := s.writer.flush(ctx); err != nil {
			return nil, err
		}
	}
	subs, _, err := s.st.ListExecutions(ctx, store.ExecutionQuery{
		Key: store.IntegrationKey{Project: k.Project, Location: k.Location, Name: "-"}, ParentID: id, Limit: maxSubExecutions})
	if err != nil {
		return nil, storeErr(err, "sub-executions of "+ExecutionName(k, id))
	}
	if len(subs) > 0 {
		arr := make([]any, 0, len(subs))
		for i := len(subs) - 1; i >= 0; i-- { // oldest first
			sv, err := s.execView(subs[i])
			if err != nil {
				return nil, err
			}
			arr = append(arr, sv.Doc)
		}
		view.Doc.Set("directSubExecutions", arr)
	}
	return view, nil
}

// ListExecutions returns a page of executions, newest first.
func (s *Service) ListExecutions(ctx context.Context, q store.ExecutionQuery) ([]*ExecutionView, string, error) {
	if err := s.writer.flush(ctx); err != nil {
		return nil, "", err
	}
	es, next, err := s.st.ListExecutions(ctx, q)
	if err != nil {
		return nil, "", storeErr(err, "executions")
	}
	out := make([]*ExecutionView, 0, len(es))
	for _, e := range es {
		v, err := s.execView(e)
		if err != nil {
			return nil, "", err
		}
		out = append(out, v)
	}
	return out, next, nil
}

// Inputs decodes the legacy and current forms of :execute inputs into one
// map. Later forms override earlier ones: parameters, parameterEntries,
// then inputParameters.
func Inputs(inputParameters map[string]*spec.ValueType, legacy []LegacyParam, entries []LegacyParam) (map[string]*spec.ValueType, error) {
	out := make(map[string]*spec.ValueType, len(inputParameters)+len(legacy)+len(entries))
	for i, p := range legacy {
		if p.Key == "" {
			return nil, rpc.InvalidArgument(fmt.Sprintf("parameters.parameters[%d].key", i), "key is required")
		}
		out[p.Key] = p.Value
	}
	for i, p := range entries {
		if p.Key == "" {
			return nil, rpc.InvalidArgument(fmt.Sprintf("parameter_entries[%d].key", i), "key is required")
		}
		out[p.Key] = p.Value
	}
	for k, v := range inputParameters {
		out[k] = v
	}
	return out, nil
}

// LegacyParam is an EventBus parameter: {key, value, dataType}.
type LegacyParam struct {
	Key      string          `json:"key"`
	Value    *spec.ValueType `json:"value"`
	DataType string          `json:"dataType,omitempty"`
}

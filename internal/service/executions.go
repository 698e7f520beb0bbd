package service

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/integrationd/integrationd/internal/engine"
	"github.com/integrationd/integrationd/internal/rpc"
	"github.com/integrationd/integrationd/internal/spec"
	"github.com/integrationd/integrationd/internal/store"
	"github.com/integrationd/integrationd/internal/value"
)

// execRecord is the Details document of a stored execution.
type execRecord struct {
	ExecutionDetails executionDetails `json:"executionDetails"`
	SnapshotNumber   string           `json:"snapshotNumber,omitempty"`
	Log              *executionLog    `json:"executionLog,omitempty"`
	Outcome          *outcome         `json:"outcome,omitempty"`
}

type executionDetails struct {
	State              string         `json:"state"`
	AttemptStats       []attemptStats `json:"attemptStats,omitempty"`
	ExecutionSnapshots []snapshot     `json:"executionSnapshots,omitempty"`
}

type attemptStats struct {
	StartTime string `json:"startTime,omitempty"`
	EndTime   string `json:"endTime,omitempty"`
}

type snapshot struct {
	CheckpointTaskNumber      string                `json:"checkpointTaskNumber,omitempty"`
	ExecutionSnapshotMetadata snapshotMetadata      `json:"executionSnapshotMetadata"`
	TaskExecutionDetails      []taskExecutionDetail `json:"taskExecutionDetails,omitempty"`
	Params                    map[string]eventParam `json:"params,omitempty"`
}

type snapshotMetadata struct {
	ExecutionAttempt int    `json:"executionAttempt"`
	Task             string `json:"task,omitempty"`
	TaskAttempt      int    `json:"taskAttempt"`
	TaskLabel        string `json:"taskLabel,omitempty"`
	TaskNumber       string `json:"taskNumber,omitempty"`
	IntegrationName  string `json:"integrationName,omitempty"`
}

type taskExecutionDetail struct {
	TaskNumber         string         `json:"taskNumber"`
	TaskExecutionState string         `json:"taskExecutionState"`
	TaskAttemptStats   []attemptStats `json:"taskAttemptStats,omitempty"`
}

// executionLog is integrationd's addition to the Execution resource: the
// error, the per-task errors and the log lines, which v1 has no field for.
type executionLog struct {
	Error     string           `json:"error,omitempty"`
	ErrorTask string           `json:"errorTaskId,omitempty"`
	Tasks     []taskLog        `json:"tasks,omitempty"`
	Lines     []engine.LogLine `json:"lines,omitempty"`
}

type taskLog struct {
	TaskID string   `json:"taskId"`
	Task   string   `json:"task"`
	State  string   `json:"state"`
	Errors []string `json:"errors,omitempty"`
}

func ts(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func (s *Service) record(req *ExecuteRequest, v *store.Version, p *engine.Plan, id string, created time.Time, in map[string]value.Value, res *engine.Result, out *outcome) *store.Execution {
	state := res.State
	reqParams := make(map[string]eventParam, len(in))
	flat := make(map[string]string, len(in))
	for k, val := range in {
		reqParams[k] = eventParam{Key: k, Value: value.ToSpec(val)}
		flat[k] = val.Text()
	}
	respParams := make(map[string]eventParam)
	for _, n := range append(append([]string(nil), p.OutputNames()...), engine.SystemVarNames()...) {
		respParams[n] = eventParam{Key: n, Value: value.ToSpec(res.Vars[n])}
	}
	rec := execRecord{
		ExecutionDetails: executionDetails{State: state},
		SnapshotNumber:   strconv.FormatInt(v.SnapshotNumber, 10),
		Outcome:          out,
		Log:              &executionLog{ErrorTask: res.ErrorTask, Lines: res.Logs},
	}
	if res.Err != nil {
		rec.Log.Error = res.Err.Error()
	}
	for _, a := range res.Attempts {
		rec.ExecutionDetails.AttemptStats = append(rec.ExecutionDetails.AttemptStats, attemptStats{StartTime: ts(a.Start), EndTime: ts(a.End)})
	}
	attempt := len(res.Attempts)
	for _, t := range res.Tasks {
		d := taskExecutionDetail{TaskNumber: t.TaskID, TaskExecutionState: t.State}
		tl := taskLog{TaskID: t.TaskID, Task: t.Task, State: t.State}
		for _, a := range t.Attempts {
			d.TaskAttemptStats = append(d.TaskAttemptStats, attemptStats{StartTime: ts(a.Start), EndTime: ts(a.End)})
			if a.Error != "" {
				tl.Errors = append(tl.Errors, a.Error)
			}
		}
		rec.Log.Tasks = append(rec.Log.Tasks, tl)
		rec.ExecutionDetails.ExecutionSnapshots = append(rec.ExecutionDetails.ExecutionSnapshots, snapshot{
			CheckpointTaskNumber: t.TaskID,
			ExecutionSnapshotMetadata: snapshotMetadata{ExecutionAttempt: attempt, Task: t.Task, TaskAttempt: len(t.Attempts),
				TaskLabel: t.DisplayName, TaskNumber: t.TaskID, IntegrationName: v.Key.Name},
			TaskExecutionDetails: []taskExecutionDetail{d},
		})
	}
	final := make(map[string]eventParam, len(res.Vars))
	for k, val := range res.Vars {
		final[k] = eventParam{Key: k, Value: value.ToSpec(val)}
	}
	if n := len(rec.ExecutionDetails.ExecutionSnapshots); n > 0 {
		rec.ExecutionDetails.ExecutionSnapshots[n-1].Params = final
	} else {
		rec.ExecutionDetails.ExecutionSnapshots = []snapshot{{ExecutionSnapshotMetadata: snapshotMetadata{ExecutionAttempt: attempt, IntegrationName: v.Key.Name}, Params: final}}
	}
	reqJSON, _ := json.Marshal(reqParams)
	respJSON, _ := json.Marshal(respParams)
	details, _ := json.Marshal(rec)
	return &store.Execution{
		Key: v.Key, ID: id, VersionID: v.ID, TriggerID: req.TriggerID, RequestID: req.RequestID,
		State: state, ExecutionMethod: "POST", Params: flat,
		Request: reqJSON, Response: respJSON, Details: details,
		CreateTime: created, UpdateTime: s.cfg.Now().UTC(),
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
	for _, part := range []struct {
		key string
		raw []byte
	}{{"requestParameters", e.Request}, {"responseParameters", e.Response}} {
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
		for _, k := range []string{"executionDetails", "snapshotNumber", "executionLog"} {
			if x, ok := d.Get(k); ok {
				doc.Set(k, x)
			}
		}
	}
	return &ExecutionView{Execution: e, Doc: doc}, nil
}

// GetExecution returns one execution, including one still being written.
func (s *Service) GetExecution(ctx context.Context, k store.IntegrationKey, id string) (*ExecutionView, error) {
	if e, ok := s.writer.get(id); ok && e.Key == k {
		return s.execView(e)
	}
	e, err := s.st.GetExecution(ctx, k, id)
	if err != nil {
		return nil, storeErr(err, "execution "+ExecutionName(k, id))
	}
	return s.execView(e)
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

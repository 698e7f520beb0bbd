package tasks

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/integrationd/integrationd/internal/engine"
	"github.com/integrationd/integrationd/internal/jsonnetlib"
	"github.com/integrationd/integrationd/internal/spec"
	"github.com/integrationd/integrationd/internal/value"
)

// The Data Transformer Script task:
// https://cloud.google.com/application-integration/docs/configure-data-transformer-script-task
// Its Jsonnet dialect, the functions library and the limits are in
// docs/jsonnet.md.
const (
	jsonnetMapperTask = "JsonnetMapperTask"
	pTemplate         = "template"
	pDiagramMetadata  = "diagramMetadata"
)

// registerJsonnet registers the Data Transformer Script task. All its
// tasks share one evaluator (a pool of Jsonnet VMs) bounded by
// opts.JsonnetMemoryBytes (default 300 MB).
func registerJsonnet(r *Registry, opts Options) {
	mem := opts.JsonnetMemoryBytes
	if mem == 0 {
		mem = 300_000_000
	}
	ev := jsonnetlib.NewEvaluator(jsonnetlib.Options{MemoryBytes: mem})
	r.Register(jsonnetMapperTask, Spec{
		Summary: "Data Transformer Script: evaluates a Jsonnet template over the integration variables and writes each top-level field of the resulting object into the variable of that name.",
		DocURL:  "https://cloud.google.com/application-integration/docs/configure-data-transformer-script-task",
		Params: []Param{
			{Key: pTemplate, Type: value.String, Required: true, Doc: "Jsonnet template; reads variables with std.extVar / f.extVar, `import \"functions\"` gives the predefined functions."},
			{Key: pDiagramMetadata, Type: value.JSON, Doc: "State of the console's visual editor; ignored."},
		},
	}, func(cfg *spec.TaskConfig) (engine.Task, error) { return newJsonnet(cfg, ev) })
}

// jsonnetTask is one compiled template; it is immutable and shared by
// concurrent executions.
type jsonnetTask struct {
	tpl *jsonnetlib.Template
	ev  *jsonnetlib.Evaluator
}

var _ engine.Task = (*jsonnetTask)(nil)

func newJsonnet(cfg *spec.TaskConfig, ev *jsonnetlib.Evaluator) (engine.Task, error) {
	v, err := param(cfg, pTemplate)
	if err != nil {
		return nil, err
	}
	tpl, err := jsonnetlib.Compile(pTemplate, v.Str())
	if err != nil {
		return nil, err
	}
	return &jsonnetTask{tpl: tpl, ev: ev}, nil
}

// Execute evaluates the template and writes its fields into variables.
// Every field is converted before any is written: a field that does not
// fit its variable's declared type fails the task and sets nothing.
func (t *jsonnetTask) Execute(ctx context.Context, tc *engine.TaskContext) error {
	x := tc.Exec
	out, err := t.ev.Evaluate(ctx, t.tpl, jsonnetlib.Input{
		Vars: tc.Vars,
		Exec: jsonnetlib.ExecInfo{ExecutionID: x.ExecutionID, IntegrationName: x.IntegrationName, Region: x.Region,
			ProjectID: x.ProjectID, VersionID: x.VersionID, VersionNumber: x.SnapshotNumber},
		Now: tc.Now,
		Log: tc.Log,
	})
	if err != nil {
		return &engine.TaskError{Message: err.Error(), Err: err}
	}
	obj, ok := out.(*value.Object)
	if !ok {
		return engine.Errorf(0, "%s: the template must evaluate to an object whose fields name the variables to set, not %s", pTemplate, jsonnetKindOf(out))
	}
	names := make([]string, 0, obj.Len())
	vals := make([]value.Value, 0, obj.Len())
	var errs []error
	for _, field := range obj.Keys() {
		j, _ := obj.Get(field)
		name, v, err := jsonnetOutput(tc.Vars, field, j)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		names, vals = append(names, name), append(vals, v)
	}
	if len(errs) > 0 {
		err := errors.Join(errs...)
		return &engine.TaskError{Message: err.Error(), Err: err}
	}
	for i, name := range names {
		if err := tc.Vars.Set(name, vals[i]); err != nil {
			return &engine.TaskError{Message: err.Error(), Err: err}
		}
	}
	return nil
}

// jsonnetOutput picks the variable a top-level field is written to (the
// field's name, or its backtick twin when only that one is declared),
// types the field's value (see jsonnetValue) and converts it to the
// variable's declared type with value.Convert's rules (so a string holding
// JSON text written into a JSON variable is parsed, a number written into
// a STRING variable becomes its text...). An undeclared variable keeps the
// value's own type.
func jsonnetOutput(vs *value.Vars, field string, j any) (string, value.Value, error) {
	name := field
	kind, declared := vs.Declared(name)
	if !declared {
		if twin := jsonnetTwin(field); twin != field {
			if k, ok := vs.Declared(twin); ok {
				name, kind, declared = twin, k, true
			}
		}
	}
	v := value.Infer(j) // Jsonnet numbers are doubles: integral ones become INT
	if !declared || kind == value.Null {
		return name, v, nil
	}
	v, err := value.Convert(v, kind)
	if err != nil {
		return "", value.Value{}, fmt.Errorf("variable %s (%s): %w", name, kind.DataType(), err)
	}
	return name, v, nil
}

func jsonnetTwin(name string) string {
	if len(name) >= 2 && strings.HasPrefix(name, "`") && strings.HasSuffix(name, "`") {
		return name[1 : len(name)-1]
	}
	return "`" + name + "`"
}

func jsonnetKindOf(j any) string {
	switch j.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case float64:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	}
	return "a " + fmt.Sprintf("%T", j)
}

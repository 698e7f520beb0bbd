package tasks

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/integrationd/integrationd/internal/engine"
	"github.com/integrationd/integrationd/internal/mapping"
	"github.com/integrationd/integrationd/internal/spec"
	"github.com/integrationd/integrationd/internal/value"
)

// The Data Mapping task:
// https://cloud.google.com/application-integration/docs/configure-data-mapping-task
const (
	fieldMappingTask = "FieldMappingTask"
	pMappingConfig   = "FieldMappingConfigTaskParameterKey"
)

func registerFieldMapping(r *Registry) {
	r.Register(fieldMappingTask, Spec{
		Summary: "Data Mapping: evaluates mapping rows (transform expressions) in order and writes their results into variables.",
		DocURL:  "https://cloud.google.com/application-integration/docs/configure-data-mapping-task",
		Params: []Param{
			{Key: pMappingConfig, Type: value.JSON, Required: true, Doc: "FieldMappingConfig: the mappedFields rows."},
		},
	}, newFieldMapping)
}

type fieldMapping struct{ prog *mapping.Program }

func newFieldMapping(cfg *spec.TaskConfig) (engine.Task, error) {
	ep := cfg.Parameters[pMappingConfig]
	var text string
	switch {
	case ep.Value != nil && ep.Value.JSONValue != nil:
		text = *ep.Value.JSONValue
	case ep.Value != nil && ep.Value.StringValue != nil:
		text = *ep.Value.StringValue
	default:
		return nil, fmt.Errorf("parameter %s must be a jsonValue", pMappingConfig)
	}
	prog, err := mapping.Compile(text)
	if err != nil {
		return nil, err
	}
	return &fieldMapping{prog: prog}, nil
}

func (f *fieldMapping) Execute(ctx context.Context, tc *engine.TaskContext) error {
	if err := f.prog.Run(ctx, mappingEnv{tc}); err != nil {
		return &engine.TaskError{Message: err.Error(), Err: err}
	}
	return nil
}

// mappingEnv adapts a task context to mapping.Env.
type mappingEnv struct{ tc *engine.TaskContext }

func (e mappingEnv) Lookup(name string) (value.Value, bool) { return e.tc.Vars.Lookup(name) }
func (e mappingEnv) Set(name string, v value.Value) error   { return e.tc.Vars.Set(name, v) }
func (e mappingEnv) SetPath(name string, p value.Path, v value.Value) error {
	return e.tc.Vars.SetPath(name, p, v)
}
func (e mappingEnv) Base() mapping.BaseContext {
	x := e.tc.Exec
	return mapping.BaseContext{ExecutionID: x.ExecutionID, IntegrationName: x.IntegrationName, Region: x.Region,
		ProjectID: x.ProjectID, Now: e.tc.Now, NewUUID: uuid.NewString}
}

package engine

import (
	"fmt"
	"strings"

	"github.com/integrationd/integrationd/internal/value"
)

// Values of a task's jsonValidationOption.
const (
	JSONValidationSkip    = "SKIP"
	JSONValidationPre     = "PRE_EXECUTION"
	JSONValidationPost    = "POST_EXECUTION"
	JSONValidationPrePost = "PRE_POST_EXECUTION"
)

// CheckSchema validates a value of variable name against the jsonSchema
// the variable declares. It returns nil when the variable declares none or
// the value is null, and otherwise a *schema.ValidationError naming the
// JSON pointer of each violation.
func (p *Plan) CheckSchema(name string, v value.Value) error {
	s, ok := p.schemas[name]
	if !ok || v.IsNull() {
		return nil
	}
	return s.Validate(v.ToJSON())
}

// SchemaViolationCode is the `ErrorInfo`.code of a task failed by its
// jsonValidationOption.
const SchemaViolationCode = 400

// checkSchemas validates every JSON variable that declares a jsonSchema
// and holds a non-null value; phase is JSONValidationPre (before the
// attempt) or JSONValidationPost (after a successful one).
func (r *run) checkSchemas(n *node, phase string) error {
	var msgs []string
	var first error
	for _, name := range r.p.schemaVars {
		v, _ := r.vars.Lookup(name)
		if err := r.p.CheckSchema(name, v); err != nil {
			msgs = append(msgs, fmt.Sprintf("variable %s does not match its jsonSchema: %v", name, err))
			if first == nil {
				first = err
			}
		}
	}
	if len(msgs) == 0 {
		return nil
	}
	return &TaskError{Code: SchemaViolationCode, Message: fmt.Sprintf("task %s (%s): %s validation: %s", n.id, n.cfg.Task, phase, strings.Join(msgs, "; ")), Err: first}
}

// Succeeded reports whether a Return task's return ends the execution
// successfully: an HTTPCode of 0 (unset) or 2xx. Any other code fails the
// execution with that code.
func (e *ReturnError) Succeeded() bool {
	return e.HTTPCode == 0 || (e.HTTPCode >= 200 && e.HTTPCode < 300)
}

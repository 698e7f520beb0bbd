package tasks

import (
	"context"
	"fmt"

	"github.com/integrationd/integrationd/internal/engine"
	"github.com/integrationd/integrationd/internal/spec"
	"github.com/integrationd/integrationd/internal/value"
)

// The Return task ends the execution at once, as exported integrations
// declare it: {"task": "ReturnTask", "parameters": {"httpErrorCode":
// {"intValue": "404"}, "errorMessage": {"stringValue": "$var$"}}}.
const (
	returnTask     = "ReturnTask"
	pHTTPErrorCode = "httpErrorCode"
	pErrorMessage  = "errorMessage"
)

func registerReturn(r *Registry) {
	r.Register(returnTask, Spec{
		Summary: "Return: ends the execution at once and cancels every other running task. " +
			"A 4xx or 5xx httpErrorCode fails the execution and :execute answers that status with errorMessage; " +
			"0 (unset) or 2xx ends it successfully.",
		Params: []Param{
			{Key: pHTTPErrorCode, Type: value.Int, Doc: "HTTP status the caller of :execute gets: 4xx or 5xx fail the execution, 0 (unset) or 2xx end it successfully."},
			{Key: pErrorMessage, Type: value.String, Doc: "Message of the google.rpc.Status the caller gets; $var$ references are rendered when the task runs."},
		},
	}, newReturn)
}

type returnTaskImpl struct {
	code int
	msg  *value.Template
}

func newReturn(cfg *spec.TaskConfig) (engine.Task, error) {
	c, err := param(cfg, pHTTPErrorCode)
	if err != nil {
		return nil, err
	}
	code := int64(0)
	if !c.IsNull() {
		code = c.Int()
	}
	if code != 0 && (code < 200 || code > 599 || (code >= 300 && code < 400)) {
		return nil, fmt.Errorf("parameter %s: %d is not a 2xx, 4xx or 5xx HTTP status", pHTTPErrorCode, code)
	}
	msg, err := templateParam(cfg, pErrorMessage)
	if err != nil {
		return nil, err
	}
	return &returnTaskImpl{code: int(code), msg: msg}, nil
}

// Execute ends the execution: the engine treats *engine.ReturnError as
// the Return task's outcome, not as a failure of the task.
func (t *returnTaskImpl) Execute(_ context.Context, tc *engine.TaskContext) error {
	return &engine.ReturnError{HTTPCode: t.code, Message: t.msg.Render(tc.Vars)}
}

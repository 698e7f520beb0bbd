// Package engine runs one execution of a compiled integration version (a
// Plan): the task graph with its forks, joins, failure policies and error
// catchers. It knows tasks only through the Task interface and never
// touches storage or HTTP.
package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/integrationd/integrationd/internal/spec"
	"github.com/integrationd/integrationd/internal/value"
)

// Task is a compiled task. Execute runs one attempt; it reads and writes
// variables through tc.Vars. Implementations are immutable and shared by
// concurrent executions.
type Task interface {
	Execute(ctx context.Context, tc *TaskContext) error
}

// TaskFunc adapts a function to Task.
type TaskFunc func(ctx context.Context, tc *TaskContext) error

// Execute implements Task.
func (f TaskFunc) Execute(ctx context.Context, tc *TaskContext) error { return f(ctx, tc) }

// Compiler turns a task config into a Task, once per published version.
// It returns an error wrapping ErrUnsupported for task types it does not know.
type Compiler interface {
	CompileTask(cfg *spec.TaskConfig) (Task, error)
}

// ErrUnsupported marks a task type integrationd does not implement.
var ErrUnsupported = errors.New("unsupported task type")

// ExecInfo describes the running execution to tasks.
type ExecInfo struct {
	ExecutionID     string
	IntegrationName string
	VersionID       string
	SnapshotNumber  int64
	ProjectID       string
	Region          string
	Mode            string // SYNC or ASYNC
	// ParentID is the execution whose task started this one ("" for a
	// top-level execution); Depth counts the ancestors (0 at top level).
	ParentID string
	Depth    int
}

// TaskContext is what a task attempt sees.
type TaskContext struct {
	Vars    *value.Vars
	Exec    ExecInfo
	TaskID  string
	Task    string // the task type name
	Attempt int    // 1 for the first attempt
	Logger  *slog.Logger
	Now     func() time.Time
	// Invoker runs sub-integrations; nil when the run has none.
	Invoker Invoker

	log *logSink
}

// Log appends a line to the execution log of this task attempt (the
// JavaScript task's event.log and console.log land here).
func (tc *TaskContext) Log(msg string) {
	if tc.log != nil {
		tc.log.add(tc.TaskID, msg, tc.Now())
	}
	if tc.Logger != nil {
		tc.Logger.Debug("task log", "task_id", tc.TaskID, "msg", msg)
	}
}

// TaskError is an error with the code that `ErrorInfo`.code receives (an
// HTTP status for the REST task, 0 when the task has none).
type TaskError struct {
	Code    int
	Message string
	Err     error
}

func (e *TaskError) Error() string { return e.Message }
func (e *TaskError) Unwrap() error { return e.Err }

// Errorf returns a TaskError with code and a formatted message.
func Errorf(code int, format string, args ...any) *TaskError {
	return &TaskError{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ReturnError ends the execution as the Return task asks: the caller of
// :execute gets HTTPCode and Message.
type ReturnError struct {
	HTTPCode int
	Message  string
}

func (e *ReturnError) Error() string {
	return fmt.Sprintf("return task: %d %s", e.HTTPCode, e.Message)
}

// LogLine is one line of an execution's log.
type LogLine struct {
	TaskID string    `json:"taskId,omitempty"`
	Time   time.Time `json:"time"`
	Msg    string    `json:"message"`
}

type logSink struct {
	mu    sync.Mutex
	lines []LogLine
	max   int
}

func (s *logSink) add(task, msg string, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.max > 0 && len(s.lines) >= s.max {
		return
	}
	s.lines = append(s.lines, LogLine{TaskID: task, Time: at, Msg: msg})
}

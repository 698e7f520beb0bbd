package tasks

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/dop251/goja"
	"github.com/dop251/goja/parser"

	"github.com/integrationd/integrationd/internal/engine"
	"github.com/integrationd/integrationd/internal/spec"
	"github.com/integrationd/integrationd/internal/value"
)

// The JavaScript task:
// https://cloud.google.com/application-integration/docs/configure-javascript-task
//
// The script runs on goja (pure Go, ES2015+ with gaps listed in
// docs/javascript.md) whichever engine javaScriptEngine names. It is
// compiled once per published version; every attempt gets a fresh runtime,
// so nothing a script leaves behind reaches another execution.
const (
	javaScriptTask = "JavaScriptTask"
	pScript        = "script"
	pJSEngine      = "javaScriptEngine"

	// jsSource is the source name goja puts in positions and stacks.
	jsSource = "script"
	// jsMaxCallStack bounds JavaScript call depth. V8 allows about 10,000
	// frames of a small function; goja unwinds recursion through built-ins
	// (f calls [1].map(f)) in time quadratic in the depth: 0.3 s at 3,000
	// frames, 2.7 s at 10,000.
	jsMaxCallStack = 3000
	// jsMaxLogBytes truncates one event.log / console line.
	jsMaxLogBytes = 64 << 10
)

// jsEntryPoints are the names the entry function may have, in order of
// preference: the samples' spelling, then the one Google's page shows once.
var jsEntryPoints = [...]string{"executeScript", "executesScript"}

func registerJavaScript(r *Registry, opts Options) {
	opts.provision()
	r.Register(javaScriptTask, Spec{
		Summary: "JavaScript: runs the script's executeScript(event) function, which reads and writes variables through event.",
		DocURL:  "https://cloud.google.com/application-integration/docs/configure-javascript-task",
		Params: []Param{
			{Key: pScript, Type: value.String, Required: true,
				Doc: "The script. It must define function executeScript(event). $var$ references in it are not substituted."},
			{Key: pJSEngine, Type: value.String,
				Doc: `"V8" (default) or "RHINO". Both run on goja; see docs/javascript.md for what differs from V8.`},
		},
	}, func(cfg *spec.TaskConfig) (engine.Task, error) { return newJavaScript(cfg, opts) })
}

// javaScript is a compiled JavaScript task, shared by all executions of a
// version.
type javaScript struct {
	prog    *goja.Program
	guards  jsGuards
	console bool // the script names console
	timeout time.Duration
	memory  int64
}

var _ engine.Task = (*javaScript)(nil)

func newJavaScript(cfg *spec.TaskConfig, opts Options) (engine.Task, error) {
	src, err := param(cfg, pScript)
	if err != nil {
		return nil, err
	}
	if src.Kind() != value.String {
		return nil, fmt.Errorf("parameter %s must be a stringValue", pScript)
	}
	eng, err := param(cfg, pJSEngine)
	if err != nil {
		return nil, err
	}
	switch strings.ToUpper(eng.Text()) {
	case "", "V8", "RHINO", "JAVA_SCRIPT_ENGINE_UNSPECIFIED":
	default:
		return nil, fmt.Errorf("parameter %s: unknown engine %q (want V8 or RHINO)", pJSEngine, eng.Text())
	}
	prog, err := jsCompileSource(src.Str())
	if err != nil {
		return nil, err
	}
	return &javaScript{prog: prog, guards: jsGuardsFor(src.Str()), console: strings.Contains(src.Str(), "console"),
		timeout: opts.ScriptTimeout, memory: opts.ScriptMemoryBytes}, nil
}

// jsCompileSource parses and compiles a script, reporting the first syntax
// error with its line and column.
func jsCompileSource(src string) (*goja.Program, error) {
	if !strings.Contains(src, jsEntryPoints[0]) && !strings.Contains(src, jsEntryPoints[1]) {
		return nil, errors.New("script does not define function executeScript(event)")
	}
	// Source maps are off: goja would otherwise read the file a
	// sourceMappingURL comment names.
	ast, err := parser.ParseFile(nil, jsSource, src, 0, parser.WithDisableSourceMaps)
	if err != nil {
		var list parser.ErrorList
		if errors.As(err, &list) && len(list) > 0 {
			e := list[0]
			more := ""
			if len(list) > 1 {
				more = fmt.Sprintf(" (and %d more)", len(list)-1)
			}
			return nil, fmt.Errorf("script syntax error at line %d, column %d: %s%s", e.Position.Line, e.Position.Column, e.Message, more)
		}
		return nil, fmt.Errorf("script syntax error: %v", err)
	}
	prog, err := goja.CompileAST(ast, false)
	if err != nil {
		var se *goja.CompilerSyntaxError
		if errors.As(err, &se) && se.File != nil {
			p := se.File.Position(se.Offset)
			return nil, fmt.Errorf("script syntax error at line %d, column %d: %s", p.Line, p.Column, se.Message)
		}
		return nil, fmt.Errorf("script syntax error: %v", err)
	}
	return prog, nil
}

// Execute runs one attempt in a fresh runtime: the script's top level,
// then executeScript(event).
func (j *javaScript) Execute(ctx context.Context, tc *engine.TaskContext) error {
	if err := ctx.Err(); err != nil {
		return &engine.TaskError{Message: "script cancelled: " + err.Error(), Err: err}
	}
	vm := goja.New()
	vm.SetParserOptions(parser.WithDisableSourceMaps) // eval and new Function too
	vm.SetMaxCallStackSize(jsMaxCallStack)
	if tc.Now != nil {
		vm.SetTimeSource(goja.Now(tc.Now))
	}
	a := &jsAttempt{vm: vm, tc: tc, limit: j.memory}
	if j.console {
		a.installConsole()
	}
	jsInstallGuards(vm, j.guards, j.memory)

	w := jsStartWatch(ctx, vm, j.timeout, j.memory)
	defer w.stop()

	if _, err := vm.RunProgram(j.prog); err != nil {
		return a.fail(err)
	}
	fn, err := a.entry()
	if err != nil {
		return &engine.TaskError{Message: err.Error(), Err: err}
	}
	res, err := fn(goja.Undefined(), a.event())
	if err != nil {
		return a.fail(err)
	}
	return a.settle(res)
}

// jsAttempt is the state of one attempt.
type jsAttempt struct {
	vm    *goja.Runtime
	tc    *engine.TaskContext
	limit int64
}

// entry finds the entry function the script's top level defined.
func (a *jsAttempt) entry() (goja.Callable, error) {
	for _, name := range jsEntryPoints {
		v := a.vm.Get(name)
		if v == nil || goja.IsUndefined(v) {
			continue
		}
		fn, ok := goja.AssertFunction(v)
		if !ok {
			return nil, fmt.Errorf("script error: %s is not a function (it is %s)", name, jsTypeOf(v))
		}
		return fn, nil
	}
	return nil, errors.New("script does not define function executeScript(event)")
}

var jsPromiseType = reflect.TypeFor[*goja.Promise]()

// settle checks the result of an async executeScript: the runtime has no
// event loop, so the promise has settled once the call returned unless it
// waits for something that never comes.
func (a *jsAttempt) settle(res goja.Value) error {
	obj, ok := res.(*goja.Object)
	if !ok || obj.ExportType() != jsPromiseType {
		return nil // what executeScript returns is ignored
	}
	p, ok := obj.Export().(*goja.Promise)
	if !ok {
		return nil
	}
	switch p.State() {
	case goja.PromiseStateRejected:
		reason := p.Result()
		msg := a.errorText(reason)
		if line := jsStackLine(reason); line > 0 {
			return &engine.TaskError{Message: fmt.Sprintf("script error at line %d: %s", line, msg)}
		}
		return &engine.TaskError{Message: "script error: " + msg}
	case goja.PromiseStatePending:
		return &engine.TaskError{Message: "script error: executeScript returned a promise that never settled (there is no event loop and no timers)"}
	}
	return nil
}

// fail turns an error out of goja into the attempt's TaskError.
func (a *jsAttempt) fail(err error) error {
	var ie *goja.InterruptedError
	if errors.As(err, &ie) {
		at := ""
		if line := jsFrameLine(ie.Stack()); line > 0 {
			at = fmt.Sprintf(" (at line %d)", line)
		}
		if st, ok := ie.Value().(*jsStop); ok {
			return &engine.TaskError{Message: st.message() + at, Err: st.err}
		}
		return &engine.TaskError{Message: "script interrupted" + at, Err: err}
	}
	var so *goja.StackOverflowError
	if errors.As(err, &so) {
		return &engine.TaskError{Message: jsLineMessage(jsFrameLine(so.Stack()),
			fmt.Sprintf("RangeError: Maximum call stack size exceeded (%d frames)", jsMaxCallStack)), Err: err}
	}
	var ex *goja.Exception
	if errors.As(err, &ex) {
		line := jsFrameLine(ex.Stack())
		if line == 0 {
			line = jsStackLine(ex.Value())
		}
		return &engine.TaskError{Message: jsLineMessage(line, a.errorText(ex.Value())), Err: err}
	}
	return &engine.TaskError{Message: "script error: " + err.Error(), Err: err}
}

func jsLineMessage(line int, msg string) string {
	if line > 0 {
		return fmt.Sprintf("script error at line %d: %s", line, msg)
	}
	return "script error: " + msg
}

// jsFrameLine is the line of the innermost stack frame in the script.
func jsFrameLine(stack []goja.StackFrame) int {
	for i := range stack {
		f := &stack[i]
		if f.SrcName() != jsSource {
			continue
		}
		if p := f.Position(); p.Line > 0 {
			return p.Line
		}
	}
	return 0
}

var jsStackPos = regexp.MustCompile(`\(` + jsSource + `:(\d+):\d+`)

// jsStackLine reads the line from an Error object's stack property, for
// errors that reach Go without their *goja.Exception (promise rejections).
func jsStackLine(v goja.Value) int {
	obj, ok := v.(*goja.Object)
	if !ok {
		return 0
	}
	var s string
	func() {
		defer func() { _ = recover() }()
		if st := obj.Get("stack"); st != nil && !goja.IsUndefined(st) {
			s = st.String()
		}
	}()
	if m := jsStackPos.FindStringSubmatch(s); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n
	}
	return 0
}

// errorText renders a thrown value: "TypeError: message" for errors, the
// text of anything else. A throwing toString does not escape.
func (a *jsAttempt) errorText(v goja.Value) (s string) {
	if v == nil {
		return "undefined"
	}
	defer func() {
		if recover() != nil {
			s = "(a value whose toString throws)"
		}
	}()
	if obj, ok := v.(*goja.Object); ok && obj.ClassName() == "Error" {
		return jsTruncate(obj.String(), jsMaxLogBytes)
	}
	return jsTruncate(a.text(v), jsMaxLogBytes)
}

func jsTypeOf(v goja.Value) string {
	switch {
	case goja.IsNull(v):
		return "null"
	case goja.IsUndefined(v):
		return "undefined"
	}
	if obj, ok := v.(*goja.Object); ok {
		if obj.ClassName() == "Array" {
			return "an array"
		}
		return "an object"
	}
	switch v.Export().(type) {
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case int64, float64:
		return "a number"
	}
	return "a " + v.String()
}

func jsTruncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && cut < len(s) && s[cut]&0xC0 == 0x80 { // keep UTF-8 whole
		cut--
	}
	return s[:cut] + fmt.Sprintf("… (%d bytes truncated)", len(s)-cut)
}

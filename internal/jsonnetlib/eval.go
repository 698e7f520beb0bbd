package jsonnetlib

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"runtime/metrics"
	"slices"
	"strings"
	"sync"
	"time"
	"unsafe"

	jsonnet "github.com/google/go-jsonnet"
	"github.com/google/go-jsonnet/ast"

	"github.com/integrationd/integrationd/internal/value"
)

// ErrMemoryLimit is wrapped by the error Evaluate returns when the memory
// guard stops an evaluation.
var ErrMemoryLimit = errors.New("memory limit exceeded")

// ErrTooDeep is wrapped by the error Evaluate returns when the
// interpreter's Go recursion gets too deep (see hook.go).
var ErrTooDeep = errors.New("evaluation nested too deeply")

// DefaultMaxDepth is the default bound on the nesting of node
// evaluations, that is on the Go stack of an evaluation: one level takes
// about 2 KB, so 100,000 levels stay within a 256 MiB stack, while
// go-jsonnet overflows Go's 1 GB stack limit (which kills the process) at
// about 250,000.
const DefaultMaxDepth = 100_000

// DefaultMaxStack is the default bound on the Jsonnet call depth
// (go-jsonnet's own default).
const DefaultMaxStack = 500

// Options tune an Evaluator.
type Options struct {
	// MemoryBytes bounds how much the process heap may grow while one
	// evaluation runs; see docs/jsonnet.md for what this does and does not
	// guarantee. Zero or negative disables the guard.
	MemoryBytes int64
	// MaxStack bounds the Jsonnet call depth (deep recursion fails with
	// "max stack frames exceeded"). Default: DefaultMaxStack.
	MaxStack int
	// MaxDepth bounds the nesting of node evaluations, which tailstrict
	// calls and some std functions grow with the size of their input
	// (deeper evaluations fail with ErrTooDeep). Default: DefaultMaxDepth.
	MaxDepth int
}

// Vars is what a template reads through extVar: value.Vars implements it.
type Vars interface {
	// Lookup returns a variable; a declared variable without a value is
	// (Null, true).
	Lookup(name string) (value.Value, bool)
	// Names lists every variable.
	Names() []string
}

// ExecInfo describes the running execution to the utility functions
// (getExecutionId(), getIntegrationName()...).
type ExecInfo struct {
	ExecutionID     string
	IntegrationName string
	Region          string
	ProjectID       string
	VersionID       string
	VersionNumber   int64
}

// Input is what one evaluation sees.
type Input struct {
	Vars Vars
	Exec ExecInfo
	// Now is the clock of nowInMillis() (time.Now when nil).
	Now func() time.Time
	// Log receives std.trace output, one line per call (dropped when nil).
	Log func(string)
}

// Evaluator evaluates compiled templates. It is safe for concurrent use.
// It keeps a pool of go-jsonnet VMs, each used by one evaluation at a
// time, so that the functions library is parsed once per VM, and
// evaluated once per VM as long as consecutive evaluations bind the same
// variable names (the library holds functions only, so nothing of one
// evaluation leaks into the next).
type Evaluator struct {
	opts Options
	pool sync.Pool
}

// NewEvaluator returns an Evaluator tuned by opts.
func NewEvaluator(opts Options) *Evaluator {
	if opts.MaxStack <= 0 {
		opts.MaxStack = DefaultMaxStack
	}
	if opts.MaxDepth <= 0 {
		opts.MaxDepth = DefaultMaxDepth
	}
	e := &Evaluator{opts: opts}
	e.pool.New = func() any { return newMachine(e.opts.MaxStack, e.opts.MaxDepth) }
	return e
}

// machine is one pooled VM with the state of the evaluation it runs.
type machine struct {
	vm       *jsonnet.VM
	hooked   bool
	maxDepth int
	bound    []string // the external variables bound on vm
	run      *run     // the current evaluation, nil between evaluations
	sample   []metrics.Sample
}

func newMachine(maxStack, maxDepth int) *machine {
	m := &machine{vm: jsonnet.MakeVM(), maxDepth: maxDepth, sample: []metrics.Sample{{Name: heapMetric}}}
	m.vm.MaxStack = maxStack
	m.vm.OutputNewline = false
	m.vm.Importer(importer{})
	m.vm.SetTraceOut(traceWriter{m})
	for _, f := range m.natives() {
		m.vm.NativeFunction(f)
	}
	m.hooked = installHooks(m.vm, m.pre, m.post)
	return m
}

// run is the state of one evaluation.
type run struct {
	ctx   context.Context
	done  <-chan struct{}
	in    Input
	steps uint64
	// depth is the nesting of node evaluations: the Go recursion of the
	// interpreter.
	depth int
	// The memory guard: the heap size when the evaluation started, the
	// limit on its growth, and the size at which the guard next looks
	// closer (forcing a collection).
	limit, heapBase, heapNext uint64
	// stop is why the guard stopped the evaluation.
	stop error
}

// heapMetric is the memory the guard watches: live and not yet swept
// heap objects of the whole process.
const heapMetric = "/memory/classes/heap/objects:bytes"

// checkEvery is how many node evaluations pass between two checks of the
// context and of the heap (about 0.1 ms of evaluation).
const checkEvery = 1024

// errStop is the panic value the hook unwinds an evaluation with.
type errStop struct{}

// pre and post are the VM's evaluation hooks (see hook.go).
func (m *machine) pre(unsafe.Pointer, ast.Node) {
	r := m.run
	if r == nil {
		return
	}
	r.depth++
	if r.depth > m.maxDepth {
		r.stop = fmt.Errorf("%w (more than %d levels): a tailstrict recursion, or a std function over a very large array (std.all, std.any, std.setUnion, a slice, std.format...)", ErrTooDeep, m.maxDepth)
		panic(errStop{})
	}
	r.steps++
	if r.steps%checkEvery != 0 {
		return
	}
	if err := m.check(r); err != nil {
		r.stop = err
		panic(errStop{})
	}
}

func (m *machine) post(unsafe.Pointer, ast.Node, fmt.Stringer, error) {
	if r := m.run; r != nil {
		r.depth--
	}
}

// check returns why the evaluation must stop, or nil.
func (m *machine) check(r *run) error {
	if r.stop != nil {
		return r.stop
	}
	select {
	case <-r.done:
		return fmt.Errorf("evaluation stopped: %w", context.Cause(r.ctx))
	default:
	}
	if r.limit == 0 {
		return nil
	}
	if cur := m.heap(); cur > r.heapNext {
		// The metric counts garbage not yet collected: look at what is
		// really live before blaming this evaluation.
		runtime.GC()
		cur = m.heap()
		if cur > r.heapBase && cur-r.heapBase > r.limit {
			return fmt.Errorf("%w: the heap grew by %d MB during the evaluation (limit %d MB)",
				ErrMemoryLimit, (cur-r.heapBase)>>20, r.limit>>20)
		}
		r.heapNext = cur + r.limit/2 // at most one forced collection per half limit of growth
	}
	return nil
}

func (m *machine) heap() uint64 {
	metrics.Read(m.sample)
	if m.sample[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return m.sample[0].Value.Uint64()
}

// Evaluate runs t with the variables and execution of in and returns the
// result as JSON (see value.ParseJSON: *value.Object for an object).
// Errors are *Error for Jsonnet errors, wrap ErrMemoryLimit when the
// memory guard stopped the evaluation, and wrap the context's error when
// ctx ended first.
func (e *Evaluator) Evaluate(ctx context.Context, t *Template, in Input) (any, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("evaluation not started: %w", context.Cause(ctx))
	}
	m := e.pool.Get().(*machine)
	r := &run{ctx: ctx, done: ctx.Done(), in: in}
	if e.opts.MemoryBytes > 0 {
		r.limit = uint64(e.opts.MemoryBytes)
		r.heapBase = m.heap()
		r.heapNext = r.heapBase + r.limit
	}
	if names := t.varsFor(in.Vars); !slices.Equal(names, m.bound) {
		// Binding external variables flushes the VM's cache of evaluated
		// imports: keep the bindings (and the evaluated library) when the
		// next evaluation needs the same names, as evaluations of one
		// template usually do. The bindings hold names only; the values
		// are fetched by each evaluation from its own Input.
		m.vm.ExtReset()
		for _, name := range names {
			m.vm.ExtNode(name, t.extNodeOf(name))
		}
		m.bound = names
	}
	m.run = r
	out, err := m.vm.Evaluate(t.node)
	m.run = nil
	if r.stop != nil {
		// The VM was unwound mid-evaluation: do not reuse it.
		return nil, r.stop
	}
	if err != nil && strings.HasPrefix(err.Error(), "(CRASH)") {
		// A panic inside go-jsonnet: report it without its Go stack and
		// do not reuse the VM.
		msg, _, _ := strings.Cut(err.Error(), "\n")
		return nil, &Error{File: t.name, Msg: "internal error in the Jsonnet interpreter: " + strings.TrimSpace(strings.TrimPrefix(msg, "(CRASH)"))}
	}
	e.pool.Put(m)
	if err != nil {
		return nil, t.runtimeError(err)
	}
	j, err := value.ParseJSON(out)
	if err != nil {
		return nil, &Error{File: t.name, Msg: "internal error: cannot read the result: " + err.Error()}
	}
	return j, nil
}

// varsFor lists the external variables to bind for one evaluation: the
// names the template reads that exist (under that name or its backtick
// twin), or every variable, under both spellings, when the scan could not
// tell.
func (t *Template) varsFor(vs Vars) []string {
	if vs == nil {
		return nil
	}
	if !t.allVars {
		names := make([]string, 0, len(t.refs))
		for _, n := range t.refs {
			if _, ok := resolve(vs, n); ok {
				names = append(names, n)
			}
		}
		return names
	}
	all := vs.Names()
	seen := make(map[string]bool, 2*len(all))
	names := make([]string, 0, 2*len(all))
	for _, n := range all {
		for _, alias := range [2]string{n, backtickTwin(n)} {
			if !seen[alias] {
				seen[alias] = true
				names = append(names, alias)
			}
		}
	}
	return names
}

// resolve finds variable name, or else its backtick twin: extVar("x")
// reads "`x`" when only that exists, and the other way round.
func resolve(vs Vars, name string) (value.Value, bool) {
	if v, ok := vs.Lookup(name); ok {
		return v, true
	}
	return vs.Lookup(backtickTwin(name))
}

// backtickTwin is `name` for name and name for `name`.
func backtickTwin(name string) string {
	if len(name) >= 2 && name[0] == '`' && name[len(name)-1] == '`' {
		return name[1 : len(name)-1]
	}
	return "`" + name + "`"
}

// traceWriter forwards std.trace output to the running evaluation's Log.
type traceWriter struct{ m *machine }

func (w traceWriter) Write(p []byte) (int, error) {
	if r := w.m.run; r != nil && r.in.Log != nil {
		for line := range strings.SplitSeq(strings.TrimRight(string(p), "\n"), "\n") {
			r.in.Log(line)
		}
	}
	return len(p), nil
}

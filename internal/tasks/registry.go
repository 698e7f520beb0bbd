// Package tasks holds integrationd's built-in tasks, one file each,
// registered under Google's task type name with a declared parameter spec
// from which validation and the coverage table are derived.
package tasks

import (
	"fmt"
	"net/netip"
	"sort"
	"time"

	"github.com/integrationd/integrationd/internal/engine"
	"github.com/integrationd/integrationd/internal/spec"
	"github.com/integrationd/integrationd/internal/value"
)

// Param declares one task parameter, keyed exactly as in Google's JSON.
type Param struct {
	Key      string
	Type     value.Kind
	Required bool
	Doc      string
}

// Spec declares a task type.
type Spec struct {
	Summary string
	// DocURL is Google's documentation page of the task.
	DocURL string
	Params []Param
}

// Factory compiles one task config, once per published version.
type Factory func(cfg *spec.TaskConfig) (engine.Task, error)

type entry struct {
	spec    Spec
	factory Factory
}

// Registry maps task type names to their factories. It implements
// engine.Compiler.
type Registry struct {
	m       map[string]entry
	aliases map[string]string
}

var _ engine.Compiler = (*Registry)(nil)

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{m: make(map[string]entry), aliases: make(map[string]string)}
}

// Options tune the built-in tasks. Zero fields take the documented
// defaults.
type Options struct {
	// ScriptTimeout bounds one JavaScript task attempt. Default: 30 s.
	ScriptTimeout time.Duration
	// ScriptMemoryBytes bounds what one JavaScript task attempt may build.
	// Default: 64 MiB.
	ScriptMemoryBytes int64
	// JsonnetMemoryBytes bounds one Data Transformer evaluation. Default:
	// 300 MB, as on Google's service.
	JsonnetMemoryBytes int64
	// MaxWhileIterations bounds one While Loop task. Default: 8000, as on
	// Google's service.
	MaxWhileIterations int
	// SMTP is the relay of the Send Email task. Default: none (an
	// EmailTask that has a recipient fails); see SMTPConfig.
	SMTP SMTPConfig
	// RESTMaxResponseBytes caps the response body of a Call REST Endpoint
	// task; a larger one fails the task. Default: 25 MiB.
	RESTMaxResponseBytes int64
	// RESTDenyCIDRs are the ranges a Call REST Endpoint task may not
	// connect to (checked on the dialled address, for every redirect hop
	// and token request). nil: DefaultRESTDenyCIDRs (link-local, cloud
	// metadata); an empty non-nil slice denies nothing.
	RESTDenyCIDRs []netip.Prefix
	// RESTAllowCIDRs, when not empty, are the only ranges a Call REST
	// Endpoint task may connect to (RESTDenyCIDRs still apply).
	RESTAllowCIDRs []netip.Prefix
	// AuthConfigs resolves the auth configs tasks name (authConfig,
	// authConfigName). nil: a task naming one fails.
	AuthConfigs AuthConfigResolver
}

func (o *Options) provision() {
	if o.ScriptTimeout == 0 {
		o.ScriptTimeout = 30 * time.Second
	}
	if o.ScriptMemoryBytes == 0 {
		o.ScriptMemoryBytes = 64 << 20
	}
	if o.JsonnetMemoryBytes == 0 {
		o.JsonnetMemoryBytes = 300_000_000
	}
	if o.MaxWhileIterations == 0 {
		o.MaxWhileIterations = 8000
	}
}

// New returns a registry with every built-in task, tuned by opts.
func New(opts Options) *Registry {
	opts.provision()
	r := NewRegistry()
	registerFieldMapping(r)
	registerReturn(r)
	registerJavaScript(r, opts)
	registerJsonnet(r, opts)
	registerREST(r, opts)
	registerEmail(r, opts)
	registerCallIntegration(r)
	registerLoops(r, opts)
	registerSuspensions(r)
	return r
}

// Default returns a registry with every built-in task and default options.
func Default() *Registry { return New(Options{}) }

// Register adds a task type. A duplicate name is a programming error and
// panics.
func (r *Registry) Register(name string, s Spec, f Factory) {
	if name == "" || f == nil {
		panic("tasks: Register needs a name and a factory")
	}
	if _, dup := r.m[name]; dup {
		panic("tasks: duplicate task type " + name)
	}
	r.m[name] = entry{spec: s, factory: f}
}

// Alias makes alias another name of task type name.
func (r *Registry) Alias(alias, name string) { r.aliases[alias] = name }

// Names lists the registered task types, sorted.
func (r *Registry) Names() []string {
	names := make([]string, 0, len(r.m))
	for n := range r.m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Spec returns the declared spec of a task type.
func (r *Registry) Spec(name string) (Spec, bool) {
	e, ok := r.m[name]
	return e.spec, ok
}

// CompileTask implements engine.Compiler: it checks the declared
// parameters, then builds the task.
func (r *Registry) CompileTask(cfg *spec.TaskConfig) (engine.Task, error) {
	name := cfg.Task
	if a, ok := r.aliases[name]; ok {
		name = a
	}
	e, ok := r.m[name]
	if !ok {
		return nil, fmt.Errorf("%w %q", engine.ErrUnsupported, cfg.Task)
	}
	for _, p := range e.spec.Params {
		ep, ok := cfg.Parameters[p.Key]
		got := value.KindOfSpec(ep.Value)
		if p.Required && (!ok || got == value.Null) {
			return nil, fmt.Errorf("parameter %s is required", p.Key)
		}
		if ok && got != value.Null && p.Type != value.Null && !compatible(got, p.Type) {
			return nil, fmt.Errorf("parameter %s must be a %s (%s), not a %s", p.Key, p.Type, valueField(p.Type), got)
		}
	}
	return e.factory(cfg)
}

// compatible reports whether a parameter given as kind got can serve a
// parameter declared as want: exact kinds, JSON given as its text in a
// string, and numbers given as ints.
func compatible(got, want value.Kind) bool {
	switch {
	case got == want:
		return true
	case want == value.JSON && got == value.String:
		return true
	case want == value.Double && got == value.Int:
		return true
	}
	return false
}

// valueField is the ValueType field that carries kind k.
func valueField(k value.Kind) string {
	switch k {
	case value.String:
		return "stringValue"
	case value.Int:
		return "intValue"
	case value.Double:
		return "doubleValue"
	case value.Bool:
		return "booleanValue"
	case value.JSON:
		return "jsonValue"
	case value.StringArray:
		return "stringArray"
	case value.IntArray:
		return "intArray"
	case value.DoubleArray:
		return "doubleArray"
	case value.BoolArray:
		return "booleanArray"
	}
	return "value"
}

// templateParam compiles a string parameter as a $var$ template (an
// absent parameter is the empty template).
func templateParam(cfg *spec.TaskConfig, key string) (*value.Template, error) {
	v, err := param(cfg, key)
	if err != nil {
		return nil, err
	}
	return value.CompileTemplate(v.Str()), nil
}

// param returns the value of a parameter (Null when absent).
func param(cfg *spec.TaskConfig, key string) (value.Value, error) {
	ep, ok := cfg.Parameters[key]
	if !ok {
		return value.Value{}, nil
	}
	v, err := value.FromSpec(ep.Value)
	if err != nil {
		return value.Value{}, fmt.Errorf("parameter %s: %w", key, err)
	}
	return v, nil
}

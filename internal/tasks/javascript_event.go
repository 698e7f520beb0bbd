package tasks

import (
	"fmt"
	"strings"

	"github.com/dop251/goja"

	"github.com/integrationd/integrationd/internal/value"
)

// jsEventMethods are the methods of the event object: exactly the seven
// documented ones plus getGcpProjectId, the alias the documentation's own
// example calls.
var jsEventMethods = [...]string{"getParameter", "setParameter", "log", "getEventExecutionInfoId",
	"getGoogleCloudProjectId", "getGcpProjectId", "getIntegrationName", "getRegion"}

// event builds the object executeScript receives.
func (a *jsAttempt) event() *goja.Object {
	return a.vm.NewDynamicObject(&jsMethods{vm: a.vm, names: jsEventMethods[:], make: a.eventMethod})
}

func (a *jsAttempt) eventMethod(name string) func(goja.FunctionCall) goja.Value {
	x := a.tc.Exec
	str := func(s string) func(goja.FunctionCall) goja.Value {
		return func(goja.FunctionCall) goja.Value { return a.vm.ToValue(s) }
	}
	switch name {
	case "getParameter":
		return a.getParameter
	case "setParameter":
		return a.setParameter
	case "log":
		return a.logFunc("")
	case "getEventExecutionInfoId":
		return str(x.ExecutionID)
	case "getGoogleCloudProjectId", "getGcpProjectId":
		return str(x.ProjectID)
	case "getIntegrationName":
		return str(x.IntegrationName)
	}
	return str(x.Region)
}

var jsConsoleMethods = [...]string{"log", "info", "debug", "warn", "error"}

// installConsole defines console.log, info, debug, warn and error, which
// write to the execution log like event.log.
func (a *jsAttempt) installConsole() {
	c := a.vm.NewDynamicObject(&jsMethods{vm: a.vm, names: jsConsoleMethods[:], make: func(name string) func(goja.FunctionCall) goja.Value {
		switch name {
		case "warn":
			return a.logFunc("[warn] ")
		case "error":
			return a.logFunc("[error] ")
		}
		return a.logFunc("")
	}})
	_ = a.vm.Set("console", c)
}

// jsMethods is an object of native methods made on first use (most
// scripts call two or three), implementing goja.DynamicObject. Scripts may
// add their own properties; the methods cannot be replaced or deleted.
type jsMethods struct {
	vm    *goja.Runtime
	names []string
	make  func(name string) func(goja.FunctionCall) goja.Value
	fns   [len(jsEventMethods)]goja.Value // by index in names
	extra map[string]goja.Value
	keys  []string // of extra, in order
}

var _ goja.DynamicObject = (*jsMethods)(nil)

func (m *jsMethods) index(key string) int {
	for i, n := range m.names {
		if n == key {
			return i
		}
	}
	return -1
}

// Get implements goja.DynamicObject.
func (m *jsMethods) Get(key string) goja.Value {
	i := m.index(key)
	if i < 0 {
		return m.extra[key]
	}
	if m.fns[i] == nil {
		f := m.vm.ToValue(m.make(key)).ToObject(m.vm)
		jsNameFunc(m.vm, f, key, nil)
		m.fns[i] = f
	}
	return m.fns[i]
}

// Set implements goja.DynamicObject.
func (m *jsMethods) Set(key string, v goja.Value) bool {
	if m.index(key) >= 0 {
		return false
	}
	if m.extra == nil {
		m.extra = make(map[string]goja.Value)
	}
	if _, ok := m.extra[key]; !ok {
		m.keys = append(m.keys, key)
	}
	m.extra[key] = v
	return true
}

// Has implements goja.DynamicObject.
func (m *jsMethods) Has(key string) bool {
	_, ok := m.extra[key]
	return ok || m.index(key) >= 0
}

// Delete implements goja.DynamicObject.
func (m *jsMethods) Delete(key string) bool {
	if m.index(key) >= 0 {
		return false
	}
	if _, ok := m.extra[key]; ok {
		delete(m.extra, key)
		for i, k := range m.keys {
			if k == key {
				m.keys = append(m.keys[:i:i], m.keys[i+1:]...)
				break
			}
		}
	}
	return true
}

// Keys implements goja.DynamicObject.
func (m *jsMethods) Keys() []string {
	return append(m.names[:len(m.names):len(m.names)], m.keys...)
}

// logFunc writes its arguments, separated by spaces, as one log line.
func (a *jsAttempt) logFunc(prefix string) func(goja.FunctionCall) goja.Value {
	return func(call goja.FunctionCall) goja.Value {
		var b strings.Builder
		b.WriteString(prefix)
		for i, arg := range call.Arguments {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(a.text(arg))
			if b.Len() > jsMaxLogBytes {
				break
			}
		}
		a.tc.Log(jsTruncate(b.String(), jsMaxLogBytes))
		return goja.Undefined()
	}
}

// text renders a value for the log: strings as they are, objects and
// arrays as JSON in their key order, everything else as String(v) does.
func (a *jsAttempt) text(v goja.Value) string {
	if v == nil || goja.IsUndefined(v) {
		return "undefined"
	}
	if obj, ok := v.(*goja.Object); ok {
		if _, fn := goja.AssertFunction(obj); !fn && obj.ClassName() != "Error" {
			if s, ok := a.jsonText(obj); ok {
				return s
			}
		}
	}
	return v.String()
}

// jsonText renders an object as JSON text, false when it cannot be (a
// function inside, a cycle, a throwing getter or toJSON). An interrupt
// still propagates.
func (a *jsAttempt) jsonText(obj *goja.Object) (s string, ok bool) {
	defer func() {
		if r := recover(); r != nil {
			if _, caught := r.(*goja.Exception); !caught {
				panic(r)
			}
			s, ok = "", false
		}
	}()
	j, err := a.exporter(jsMaxLogBytes).json(obj, 0)
	if err != nil {
		return "", false
	}
	if str, isStr := j.(string); isStr { // a Date, or another toJSON result
		return str, true
	}
	return value.EncodeJSON(j), true
}

// getParameter returns a copy of a variable as a JavaScript value; null
// for a variable that is unset or unknown.
func (a *jsAttempt) getParameter(call goja.FunctionCall) goja.Value {
	name := a.nameArg(call, "getParameter")
	v, ok := a.tc.Vars.Lookup(a.resolve(name))
	if !ok {
		return goja.Null()
	}
	return jsIn(a.vm, v)
}

// setParameter writes a variable: converted to its declared type, or a
// new transient variable whose type follows the value.
func (a *jsAttempt) setParameter(call goja.FunctionCall) goja.Value {
	name := a.resolve(a.nameArg(call, "setParameter"))
	v, err := a.natural(call.Argument(1))
	if err != nil {
		panic(a.vm.NewTypeError(fmt.Sprintf("setParameter(%q): %v", name, err)))
	}
	if k, ok := a.tc.Vars.Declared(name); ok && k != value.Null {
		c, err := value.Convert(v, k)
		if err != nil {
			panic(a.vm.NewTypeError(fmt.Sprintf("setParameter(%q): variable %s is %s: %v", name, name, k, err)))
		}
		v = c
	}
	if err := a.tc.Vars.Set(name, v); err != nil {
		panic(a.vm.NewTypeError(fmt.Sprintf("setParameter(%q): %v", name, err)))
	}
	return goja.Undefined()
}

func (a *jsAttempt) nameArg(call goja.FunctionCall, method string) string {
	arg := call.Argument(0)
	if goja.IsUndefined(arg) || goja.IsNull(arg) {
		panic(a.vm.NewTypeError(method + " needs a variable name"))
	}
	return arg.String()
}

// resolve maps a name to the variable it means: the name as written when
// such a variable exists, else the same name with backticks added or
// removed when that one exists ("ErrorInfo" finds "`ErrorInfo`"), else the
// name as written.
func (a *jsAttempt) resolve(name string) string {
	if _, ok := a.tc.Vars.Lookup(name); ok {
		return name
	}
	var alt string
	if len(name) >= 2 && name[0] == '`' && name[len(name)-1] == '`' {
		alt = name[1 : len(name)-1]
	} else if name != "" {
		alt = "`" + name + "`"
	}
	if alt != "" {
		if _, ok := a.tc.Vars.Lookup(alt); ok {
			return alt
		}
	}
	return name
}

package value

import (
	"fmt"
	"sort"
	"sync"
)

// Vars is the variable namespace of one execution: one map shared by all
// branches (the reference service has no per-branch copies; concurrent
// writes are last-writer-wins). It is safe for concurrent use.
type Vars struct {
	mu    sync.RWMutex
	vals  map[string]Value
	kinds map[string]Kind // declared kinds; absent for transient undeclared variables
}

// NewVars returns an empty namespace. decl maps declared variable names to
// their kinds; it is kept, not copied, and must not change afterwards (a
// compiled plan shares one with all its executions).
func NewVars(decl map[string]Kind) *Vars {
	if decl == nil {
		decl = map[string]Kind{}
	}
	return &Vars{vals: make(map[string]Value, len(decl)+4), kinds: decl}
}

// Lookup implements Getter: declared variables are found even without a
// value (Null).
func (vs *Vars) Lookup(name string) (Value, bool) {
	vs.mu.RLock()
	v, ok := vs.vals[name]
	vs.mu.RUnlock()
	if !ok {
		_, ok = vs.kinds[name]
	}
	return v, ok
}

// Declared returns the declared kind of name.
func (vs *Vars) Declared(name string) (Kind, bool) {
	vs.mu.RLock()
	k, ok := vs.kinds[name]
	vs.mu.RUnlock()
	return k, ok
}

// Set stores v under name, converted to the declared kind when name is
// declared with one. An undeclared name becomes a new transient variable
// of v's kind.
func (vs *Vars) Set(name string, v Value) error {
	vs.mu.Lock()
	defer vs.mu.Unlock()
	if k, ok := vs.kinds[name]; ok && k != Null {
		c, err := Convert(v, k)
		if err != nil {
			return fmt.Errorf("variable %s: %w", name, err)
		}
		v = c
	}
	vs.vals[name] = v
	return nil
}

// SetPath writes v at path p inside the JSON variable name (created as an
// object when absent or null).
func (vs *Vars) SetPath(name string, p Path, v Value) error {
	if len(p) == 0 {
		return vs.Set(name, v)
	}
	vs.mu.Lock()
	defer vs.mu.Unlock()
	cur := vs.vals[name]
	if k, ok := vs.kinds[name]; ok && k != JSON && k != Null {
		return fmt.Errorf("variable %s is %s, not JSON: cannot set %s inside it", name, k, p)
	}
	var root any
	if cur.k == JSON {
		root = cur.j
	} else if cur.k != Null {
		return fmt.Errorf("variable %s is %s, not JSON: cannot set %s inside it", name, cur.k, p)
	}
	nr, err := SetPath(root, p, v.ToJSON())
	if err != nil {
		return fmt.Errorf("variable %s: %w", name, err)
	}
	vs.vals[name] = FromJSON(nr)
	return nil
}

// Names returns the names of all variables, declared or set, sorted.
func (vs *Vars) Names() []string {
	vs.mu.RLock()
	names := make([]string, 0, len(vs.vals)+len(vs.kinds))
	for k := range vs.vals {
		names = append(names, k)
	}
	for k := range vs.kinds {
		if _, set := vs.vals[k]; !set {
			names = append(names, k)
		}
	}
	vs.mu.RUnlock()
	sort.Strings(names)
	return names
}

// Snapshot returns a copy of the current values, declared variables
// without a value included as Null. Values are immutable, so the copy is
// cheap.
func (vs *Vars) Snapshot() map[string]Value {
	vs.mu.RLock()
	m := make(map[string]Value, len(vs.vals)+len(vs.kinds))
	for k := range vs.kinds {
		m[k] = Value{}
	}
	for k, v := range vs.vals {
		m[k] = v
	}
	vs.mu.RUnlock()
	return m
}

// Final returns the values like Snapshot, without copying: the namespace
// must not be used afterwards (the engine calls it once a run is over).
func (vs *Vars) Final() map[string]Value {
	vs.mu.Lock()
	defer vs.mu.Unlock()
	for k := range vs.kinds {
		if _, set := vs.vals[k]; !set {
			vs.vals[k] = Value{}
		}
	}
	m := vs.vals
	vs.vals = nil
	return m
}

// Size estimates the bytes held by all values (used to enforce the
// per-execution data limit).
func (vs *Vars) Size() int {
	vs.mu.RLock()
	defer vs.mu.RUnlock()
	n := 0
	for k, v := range vs.vals {
		n += len(k) + v.Size()
	}
	return n
}

// Size estimates the bytes v occupies in its JSON form.
func (v Value) Size() int {
	switch v.k {
	case Null:
		return 0
	case String:
		return len(v.s) + 2
	case Int, Double:
		return 8
	case Bool:
		return 5
	case StringArray:
		n := 2
		for _, s := range v.ss {
			n += len(s) + 3
		}
		return n
	case IntArray:
		return 2 + 9*len(v.is)
	case DoubleArray:
		return 2 + 9*len(v.fs)
	case BoolArray:
		return 2 + 6*len(v.bs)
	}
	return jsonSize(v.j)
}

func jsonSize(j any) int {
	switch x := j.(type) {
	case string:
		return len(x) + 2
	case []any:
		n := 2
		for _, e := range x {
			n += jsonSize(e) + 1
		}
		return n
	case *Object:
		n := 2
		for _, k := range x.keys {
			n += len(k) + 4 + jsonSize(x.m[k])
		}
		return n
	}
	return 5
}

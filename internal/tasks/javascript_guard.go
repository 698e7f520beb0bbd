package tasks

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dop251/goja"
)

// The sandbox's bounds on one attempt (docs/javascript.md says exactly what
// they guarantee):
//   - a deadline (Options.ScriptTimeout) and the execution's context, both
//     delivered through vm.Interrupt, which stops JavaScript code between
//     instructions;
//   - a memory watchdog: goja has no heap limit, so the attempt samples the
//     process heap every jsSampleEvery and interrupts the script once the
//     live bytes, measured after a collection, exceed the heap at the start
//     of the attempt by more than Options.ScriptMemoryBytes;
//   - size checks in front of the built-ins that can allocate without
//     limit in one call, which no interrupt can stop (jsInstallGuards, for
//     the built-ins the script names), and on every value setParameter
//     stores;
//   - a call depth limit (jsMaxCallStack).

var (
	errScriptTimeout = errors.New("script timed out")
	errScriptMemory  = errors.New("script exceeded its memory bound")
)

const (
	// jsSampleEvery is the watchdog's sampling period.
	jsSampleEvery = 2 * time.Millisecond
	// Garbage collections the watchdogs force are jsGCShare times as far
	// apart as the last one took (so they take at most a tenth of the
	// time), but at least jsMinGCGap and at most jsMaxGCGap apart.
	jsMinGCGap = 20 * time.Millisecond
	jsMaxGCGap = time.Second
	jsGCShare  = 10
)

// jsStop is why a watchdog interrupted a script.
type jsStop struct {
	err     error // errScriptTimeout, errScriptMemory or the context's error
	timeout time.Duration
	grew    uint64
	limit   int64
}

func (s *jsStop) message() string {
	switch s.err {
	case errScriptTimeout:
		return fmt.Sprintf("script timed out after %v", s.timeout)
	case errScriptMemory:
		return fmt.Sprintf("script exceeded its memory bound of %s (the heap grew by %s while it ran)",
			jsBytes(s.limit), jsBytes(int64(s.grew)>>20<<20))
	}
	return "script cancelled: " + s.err.Error()
}

// jsWatch is the watchdog of one attempt. stop must be called when the
// attempt returns; a callback that fires afterwards only interrupts a
// runtime nobody uses any more.
type jsWatch struct {
	vm      *goja.Runtime
	timer   *time.Timer
	stopCtx func() bool

	mu      sync.Mutex
	done    bool
	sampler *time.Timer
	base    uint64 // heap object bytes at the start
	limit   int64
	cycles  uint64 // GC cycles completed at the last look at the live heap
	fresh   uint64 // the first cycle count whose collection began after the start
}

func jsStartWatch(ctx context.Context, vm *goja.Runtime, timeout time.Duration, limit int64) *jsWatch {
	w := &jsWatch{vm: vm, limit: limit}
	w.timer = time.AfterFunc(timeout, func() {
		vm.Interrupt(&jsStop{err: errScriptTimeout, timeout: timeout})
	})
	if ctx.Done() != nil {
		w.stopCtx = context.AfterFunc(ctx, func() { vm.Interrupt(&jsStop{err: ctx.Err()}) })
	}
	if limit > 0 {
		// The base is every heap object now, garbage included: measuring
		// from the last collection's live bytes would blame the script for
		// whatever others allocated since. A collection running now may
		// have begun before the attempt; the one after it began after.
		h := jsReadHeap()
		w.base, w.cycles, w.fresh = h.objects, h.cycles, h.cycles+2
		w.mu.Lock()
		w.sampler = time.AfterFunc(jsSampleEvery, w.sample)
		w.mu.Unlock()
	}
	return w
}

func (w *jsWatch) stop() {
	w.timer.Stop()
	if w.stopCtx != nil {
		w.stopCtx()
	}
	w.mu.Lock()
	w.done = true
	if w.sampler != nil {
		w.sampler.Stop()
	}
	w.mu.Unlock()
}

// sample runs every jsSampleEvery while the attempt lasts. The heap's
// object bytes include garbage, so a sample over the bound is confirmed
// with the live bytes of a garbage collection that ended after it: one
// that happened anyway, or one the watchdog forces (rate-limited across
// the process).
func (w *jsWatch) sample() {
	h := jsReadHeap()
	if h.objects > w.base+uint64(w.limit) {
		if grew, ok := w.confirm(h.cycles); ok && grew > uint64(w.limit) {
			w.vm.Interrupt(&jsStop{err: errScriptMemory, grew: grew, limit: w.limit})
			return
		}
	}
	w.mu.Lock()
	if !w.done {
		w.sampler.Reset(jsSampleEvery)
	}
	w.mu.Unlock()
}

// confirm returns how much the live heap grew since the attempt started,
// measured by a collection that began after the attempt started and ended
// after the sample that read a GC count of seen; false when there is none
// yet and the rate limit forbids forcing one.
func (w *jsWatch) confirm(seen uint64) (uint64, bool) {
	w.mu.Lock()
	need := max(w.cycles+1, w.fresh)
	w.mu.Unlock()
	if seen < need && !jsForceGC(need) {
		return 0, false
	}
	h := jsReadHeap()
	w.mu.Lock()
	w.cycles = h.cycles
	w.mu.Unlock()
	if h.live <= w.base {
		return 0, true
	}
	return h.live - w.base, true
}

// jsGC rate-limits the collections watchdogs force: one at a time, apart
// by jsGCShare × the last one's duration, within [jsMinGCGap, jsMaxGCGap].
var jsGC struct {
	mu     sync.Mutex
	next   time.Time
	forced int // collections forced so far
}

// jsForceGC makes sure the GC count reached need: it runs a collection
// (which begins after the call) unless the count is there already or the
// rate limit forbids it, and reports whether the count is there.
func jsForceGC(need uint64) bool {
	jsGC.mu.Lock()
	defer jsGC.mu.Unlock()
	if jsReadHeap().cycles >= need {
		return true
	}
	now := time.Now()
	if now.Before(jsGC.next) {
		return false
	}
	runtime.GC()
	jsGC.forced++
	took := time.Since(now)
	jsGC.next = time.Now().Add(min(max(jsMinGCGap, jsGCShare*took), jsMaxGCGap))
	return true
}

type jsHeap struct{ objects, live, cycles uint64 }

var jsHeapMetrics = [...]string{"/memory/classes/heap/objects:bytes", "/gc/heap/live:bytes", "/gc/cycles/total:gc-cycles"}

func jsReadHeap() jsHeap {
	var s [len(jsHeapMetrics)]metrics.Sample
	for i, n := range jsHeapMetrics {
		s[i].Name = n
	}
	metrics.Read(s[:])
	u := func(i int) uint64 {
		if s[i].Value.Kind() == metrics.KindUint64 {
			return s[i].Value.Uint64()
		}
		return 0
	}
	return jsHeap{objects: u(0), live: u(1), cycles: u(2)}
}

// jsGuards selects the built-ins jsInstallGuards wraps.
type jsGuards uint32

const (
	jsGuardRepeat jsGuards = 1 << iota // String.prototype.repeat
	jsGuardPad                         // String.prototype.padStart, padEnd
	jsGuardFill                        // Array.prototype.fill
	jsGuardJoin                        // Array.prototype.join
	jsGuardFrom                        // Array.from
	jsGuardBuffer                      // jsBufferCtors[i] is bit jsGuardBuffer << i
)

var jsBufferCtors = [...]string{"ArrayBuffer", "Int8Array", "Uint8Array", "Uint8ClampedArray", "Int16Array", "Uint16Array",
	"Int32Array", "Uint32Array", "Float32Array", "Float64Array", "BigInt64Array", "BigUint64Array"}

// jsGuardsFor picks the guards a script gets: those whose built-in the
// script names. Wrapping a built-in costs microseconds per attempt, mostly
// to materialise goja's lazily built prototypes, so a script that never
// mentions repeat does not pay for its guard. (A script that builds the
// name at run time, s["re" + "peat"], gets around the guard: the guards
// catch mistakes, they do not stop a hostile author; see
// docs/javascript.md.)
func jsGuardsFor(src string) jsGuards {
	var g jsGuards
	for _, w := range []struct {
		name string
		g    jsGuards
	}{{"repeat", jsGuardRepeat}, {"pad", jsGuardPad}, {"fill", jsGuardFill}, {"join", jsGuardJoin}, {"from", jsGuardFrom}} {
		if strings.Contains(src, w.name) {
			g |= w.g
		}
	}
	for i, n := range jsBufferCtors {
		if strings.Contains(src, n) {
			// ArrayBuffer too: every typed array leads to it (.buffer.constructor).
			g |= jsGuardBuffer | jsGuardBuffer<<i
		}
	}
	return g
}

// jsInstallGuards puts size checks in front of the built-ins that allocate
// in one uninterruptible call: each refuses, with a RangeError, a result
// larger than limit bytes.
func jsInstallGuards(vm *goja.Runtime, g jsGuards, limit int64) {
	if limit <= 0 || g == 0 {
		return
	}
	lim := float64(limit)
	over := func(what string, n float64) {
		panic(jsRangeError(vm, fmt.Sprintf("%s would need %.0f bytes, more than the script memory bound (%s)", what, n, jsBytes(limit))))
	}
	if g&(jsGuardRepeat|jsGuardPad) != 0 {
		sp := vm.Get("String").ToObject(vm).Get("prototype").ToObject(vm)
		if g&jsGuardRepeat != 0 {
			jsWrapMethod(vm, sp, "repeat", func(call goja.FunctionCall) {
				l := call.This.ToObject(vm).Get("length").ToFloat()
				if n := l * jsNum(call.Argument(0)); n > lim {
					over("repeat", n)
				}
			})
		}
		if g&jsGuardPad != 0 {
			pad := func(name string) func(goja.FunctionCall) {
				return func(call goja.FunctionCall) {
					if n := jsNum(call.Argument(0)); n > lim {
						over(name, n)
					}
				}
			}
			jsWrapMethod(vm, sp, "padStart", pad("padStart"))
			jsWrapMethod(vm, sp, "padEnd", pad("padEnd"))
		}
	}
	if g&(jsGuardFill|jsGuardJoin|jsGuardFrom) != 0 {
		ac := vm.Get("Array").ToObject(vm)
		ap := ac.Get("prototype").ToObject(vm)
		if g&jsGuardFill != 0 {
			jsWrapMethod(vm, ap, "fill", func(call goja.FunctionCall) {
				l := jsNum(call.This.ToObject(vm).Get("length"))
				start := jsRelIndex(call.Argument(1), l, 0)
				end := jsRelIndex(call.Argument(2), l, l)
				if n := (end - start) * 16; n > lim {
					over("fill", n)
				}
			})
		}
		if g&jsGuardJoin != 0 {
			jsWrapMethod(vm, ap, "join", func(call goja.FunctionCall) {
				o := call.This.ToObject(vm)
				l := jsNum(o.Get("length"))
				sep := 1.0
				if s := call.Argument(0); !goja.IsUndefined(s) {
					sep = float64(len(s.String()))
				}
				n := (l - 1) * sep
				if l > lim || n > lim {
					over("join", max(n, l))
				}
				for i := 0; i < int(l); i++ {
					e := o.Get(strconv.Itoa(i))
					if e == nil {
						continue
					}
					if s, ok := e.Export().(string); ok {
						if n += float64(len(s)); n > lim {
							over("join", n)
						}
					}
				}
			})
		}
		if g&jsGuardFrom != 0 {
			jsWrapMethod(vm, ac, "from", func(call goja.FunctionCall) {
				src, ok := call.Argument(0).(*goja.Object)
				if !ok {
					return
				}
				if it := src.GetSymbol(goja.SymIterator); it != nil && !goja.IsUndefined(it) {
					return // iterating runs JavaScript, which interrupts reach
				}
				if n := jsNum(src.Get("length")) * 16; n > lim {
					over("Array.from", n)
				}
			})
		}
	}
	if g >= jsGuardBuffer {
		jsGuardBufferCtors(vm, g, lim, over)
	}
}

// jsWrapMethod replaces obj[name] with a function that runs check, then the
// original.
func jsWrapMethod(vm *goja.Runtime, obj *goja.Object, name string, check func(goja.FunctionCall)) {
	orig, ok := goja.AssertFunction(obj.Get(name))
	if !ok {
		return
	}
	f := vm.ToValue(func(call goja.FunctionCall) goja.Value {
		check(call)
		r, err := orig(call.This, call.Arguments...)
		if err != nil {
			panic(err)
		}
		return r
	}).ToObject(vm)
	jsNameFunc(vm, f, name, obj.Get(name).ToObject(vm).Get("length"))
	_ = obj.DefineDataProperty(name, f, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE)
}

// jsNameFunc gives a native function the name and length a built-in would
// have (goja names it after the Go function).
func jsNameFunc(vm *goja.Runtime, f *goja.Object, name string, length goja.Value) {
	_ = f.DefineDataProperty("name", vm.ToValue(name), goja.FLAG_FALSE, goja.FLAG_TRUE, goja.FLAG_FALSE)
	if length != nil {
		_ = f.DefineDataProperty("length", length, goja.FLAG_FALSE, goja.FLAG_TRUE, goja.FLAG_FALSE)
	}
}

// jsGuardBufferCtors replaces the chosen buffer constructors (the global
// bindings and each prototype's constructor, so that x.constructor and
// x.buffer.constructor find the guard too) with constructors that check
// the size, then construct the original. instanceof, subclassing and the
// static methods keep working. A constructor the script does not name is
// left alone: reaching it takes its name or an instance of it.
func jsGuardBufferCtors(vm *goja.Runtime, sel jsGuards, lim float64, over func(string, float64)) {
	g := vm.GlobalObject()
	refl := vm.Get("Reflect").ToObject(vm)
	construct, _ := goja.AssertFunction(refl.Get("construct"))
	setProto, _ := goja.AssertFunction(refl.Get("setPrototypeOf"))
	for i, name := range jsBufferCtors {
		if sel&(jsGuardBuffer<<i) == 0 {
			continue
		}
		orig, ok := g.Get(name).(*goja.Object)
		if !ok {
			continue
		}
		elem := 1.0
		if b := orig.Get("BYTES_PER_ELEMENT"); b != nil && !goja.IsUndefined(b) {
			elem = b.ToFloat()
		}
		name := name
		var guard *goja.Object
		guard = vm.ToValue(func(call goja.ConstructorCall) *goja.Object {
			if len(call.Arguments) > 0 {
				var n float64
				switch a := call.Arguments[0].(type) {
				case *goja.Object:
					if a.ClassName() != "ArrayBuffer" {
						n = jsNum(a.Get("length"))
					}
				default:
					n = jsNum(a)
				}
				if n*elem > lim {
					over(name, n*elem)
				}
			}
			args := make([]any, len(call.Arguments))
			for i, a := range call.Arguments {
				args[i] = a
			}
			nt := goja.Value(orig)
			if call.NewTarget != nil && call.NewTarget != guard {
				nt = call.NewTarget
			}
			r, err := construct(goja.Undefined(), orig, vm.NewArray(args...), nt)
			if err != nil {
				panic(err)
			}
			return r.ToObject(vm)
		}).ToObject(vm)
		proto := orig.Get("prototype")
		_ = guard.DefineDataProperty("prototype", proto, goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_FALSE)
		jsNameFunc(vm, guard, name, orig.Get("length"))
		_ = proto.ToObject(vm).DefineDataProperty("constructor", guard, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE)
		_, _ = setProto(goja.Undefined(), guard, orig) // statics (from, of, BYTES_PER_ELEMENT) by inheritance
		_ = g.DefineDataProperty(name, guard, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE)
	}
}

// jsNum is ToNumber with NaN as 0.
func jsNum(v goja.Value) float64 {
	if v == nil || goja.IsUndefined(v) {
		return 0
	}
	f := v.ToFloat()
	if math.IsNaN(f) {
		return 0
	}
	return f
}

// jsRelIndex resolves a relative index as Array.prototype.fill does.
func jsRelIndex(v goja.Value, l, def float64) float64 {
	if v == nil || goja.IsUndefined(v) {
		return def
	}
	i := math.Trunc(jsNum(v))
	if i < 0 {
		return max(l+i, 0)
	}
	return min(i, l)
}

func jsRangeError(vm *goja.Runtime, msg string) goja.Value {
	ctor, ok := vm.Get("RangeError").(*goja.Object)
	if !ok {
		return vm.NewTypeError(msg)
	}
	e, err := vm.New(ctor, vm.ToValue(msg))
	if err != nil {
		return vm.NewTypeError(msg)
	}
	return e
}

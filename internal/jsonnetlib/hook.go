package jsonnetlib

import (
	"fmt"
	"reflect"
	"unsafe"

	jsonnet "github.com/google/go-jsonnet"
	"github.com/google/go-jsonnet/ast"
)

// go-jsonnet offers no way to interrupt an evaluation (no context, no step
// or allocation budget) and no bound on its Go recursion: a tailstrict
// call, and the std functions written with tailstrict helpers (std.all,
// std.any, std.setUnion, std.setInter, std.setDiff, std.format, slices with
// a step...), recurse in Go once per element, so a large enough array
// overflows the goroutine stack, which kills the whole process.
//
// Its interpreter does call VM.EvalHook.pre before and VM.EvalHook.post
// after it evaluates each AST node, but the hook's fields are unexported
// (go-jsonnet's debugger is their only user). installHooks stores our own
// functions there, so the evaluating goroutine itself can count the
// nesting of evaluations and notice a cancelled context or an exceeded
// memory budget, and unwind by panicking (go-jsonnet's VM.Evaluate
// recovers panics into an error).
//
// The fields' types are func(*jsonnet.interpreter, ast.Node) and
// func(*jsonnet.interpreter, ast.Node, jsonnet.value, error), where value
// is an unexported interface. Functions taking unsafe.Pointer for the
// pointer and any other non-empty interface type for value have the same
// calling convention and pointer layout (an interface is passed as two
// pointer words whatever its method set), so they can be stored in those
// fields. installHooks checks the fields' shapes with reflection first and
// does nothing when they differ (another go-jsonnet version): evaluations
// then run unguarded, and TestHooksInstalled fails.

type (
	preHook  func(interp unsafe.Pointer, node ast.Node)
	postHook func(interp unsafe.Pointer, node ast.Node, result fmt.Stringer, err error)
)

var (
	nodeType  = reflect.TypeFor[ast.Node]()
	errorType = reflect.TypeFor[error]()
)

// installHooks makes vm call pre before and post after evaluating each
// node. It reports whether it could.
func installHooks(vm *jsonnet.VM, pre preHook, post postHook) bool {
	hooks := reflect.ValueOf(&vm.EvalHook).Elem()
	preField, postField := hooks.FieldByName("pre"), hooks.FieldByName("post")
	if !isFunc(preField, 2) || !isFunc(postField, 4) {
		return false
	}
	pt, qt := preField.Type(), postField.Type()
	if pt.In(0).Kind() != reflect.Pointer || pt.In(1) != nodeType ||
		qt.In(0) != pt.In(0) || qt.In(1) != nodeType ||
		qt.In(2).Kind() != reflect.Interface || qt.In(2).NumMethod() == 0 || qt.In(3) != errorType {
		return false
	}
	*(*preHook)(unsafe.Pointer(preField.UnsafeAddr())) = pre
	*(*postHook)(unsafe.Pointer(postField.UnsafeAddr())) = post
	return true
}

func isFunc(v reflect.Value, in int) bool {
	if !v.IsValid() || v.Kind() != reflect.Func || !v.CanAddr() {
		return false
	}
	t := v.Type()
	return t.NumIn() == in && t.NumOut() == 0 && !t.IsVariadic()
}

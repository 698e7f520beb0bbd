package jsonnetlib

import "testing"

// TestHooksInstalled fails when go-jsonnet's EvalHook no longer has the
// shape installPreHook expects (after an upgrade): without the hook,
// evaluations can be neither cancelled nor stopped by the memory guard.
func TestHooksInstalled(t *testing.T) {
	t.Parallel()
	if m := newMachine(DefaultMaxStack, DefaultMaxDepth); !m.hooked {
		t.Fatal("the evaluation hooks could not be installed on a go-jsonnet VM")
	}
}

package rpc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"testing"
)

func TestFromError(t *testing.T) {
	t.Parallel()
	notFound := Errorf(CodeNotFound, "integration %q not found", "x")
	tests := []struct {
		name     string
		err      error
		wantCode Code
		wantMsg  string
	}{
		{"rpc error", notFound, CodeNotFound, `integration "x" not found`},
		{"wrapped rpc error", fmt.Errorf("get: %w", notFound), CodeNotFound, `integration "x" not found`},
		{"joined rpc error", errors.Join(errors.New("a"), notFound), CodeNotFound, `integration "x" not found`},
		{"deadline", context.DeadlineExceeded, CodeDeadlineExceeded, "context deadline exceeded"},
		{"wrapped deadline", fmt.Errorf("run: %w", context.DeadlineExceeded), CodeDeadlineExceeded, "run: context deadline exceeded"},
		{"canceled", fmt.Errorf("run: %w", context.Canceled), CodeCanceled, "run: context canceled"},
		{"other", errors.New("disk on fire"), CodeInternal, "disk on fire"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := FromError(tt.err)
			if got.Code != tt.wantCode || got.Message != tt.wantMsg {
				t.Errorf("FromError(%v) = %v %q, want %v %q", tt.err, got.Code, got.Message, tt.wantCode, tt.wantMsg)
			}
			if c := CodeOf(tt.err); c != tt.wantCode {
				t.Errorf("CodeOf(%v) = %v, want %v", tt.err, c, tt.wantCode)
			}
		})
	}
	if got := FromError(nil); got != nil {
		t.Errorf("FromError(nil) = %v, want nil", got)
	}
	if got := CodeOf(nil); got != CodeOK {
		t.Errorf("CodeOf(nil) = %v, want OK", got)
	}
}

func TestErrorString(t *testing.T) {
	t.Parallel()
	got := Errorf(CodeNotFound, "no %s", "x").Error()
	if want := "NOT_FOUND: no x"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestInvalidArgument(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		field       string
		wantMsg     string
		wantDetails string
	}{
		{"field", "page_size", "invalid page_size: must not be negative (got -1)",
			`[{"@type":"type.googleapis.com/google.rpc.BadRequest","fieldViolations":[{"field":"page_size","description":"must not be negative (got -1)"}]}]`},
		{"no field", "", "must not be negative (got -1)", `null`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := InvalidArgument(tt.field, "must not be negative (got %d)", -1)
			if e.Code != CodeInvalidArgument {
				t.Errorf("Code = %v, want INVALID_ARGUMENT", e.Code)
			}
			if e.Message != tt.wantMsg {
				t.Errorf("Message = %q, want %q", e.Message, tt.wantMsg)
			}
			if got := mustJSON(t, e.Details); got != tt.wantDetails {
				t.Errorf("Details = %s, want %s", got, tt.wantDetails)
			}
		})
	}
}

func TestWithErrorInfoCopies(t *testing.T) {
	t.Parallel()
	base := InvalidArgument("filter", "bad")
	md := map[string]string{"k": "v"}
	e := base.WithErrorInfo("BAD_FILTER", "integrationd", md)
	md["k"] = "changed"

	if got, want := len(base.Details), 1; got != want {
		t.Errorf("base details = %d, want %d (WithErrorInfo must not modify its receiver)", got, want)
	}
	want := `[{"@type":"type.googleapis.com/google.rpc.BadRequest","fieldViolations":[{"field":"filter","description":"bad"}]},` +
		`{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"BAD_FILTER","domain":"integrationd","metadata":{"k":"v"}}]`
	if got := mustJSON(t, e.Details); got != want {
		t.Errorf("details = %s, want %s", got, want)
	}
	// Two copies from the same base do not share a backing array.
	a := base.WithErrorInfo("A", "d", nil)
	b := base.WithErrorInfo("B", "d", nil)
	if !reflect.DeepEqual(a.Details[1], ErrorInfo{Reason: "A", Domain: "d"}) {
		t.Errorf("a.Details[1] = %#v, want reason A", a.Details[1])
	}
	if !reflect.DeepEqual(b.Details[1], ErrorInfo{Reason: "B", Domain: "d"}) {
		t.Errorf("b.Details[1] = %#v, want reason B", b.Details[1])
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("json.Marshal: %v", err)
	}
	return string(b)
}

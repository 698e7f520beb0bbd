package rpc

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestWriteError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		err        error
		wantStatus int
		wantBody   string
	}{
		{"not found", Errorf(CodeNotFound, "integration <x> not found"), 404,
			`{"error":{"code":404,"message":"integration <x> not found","status":"NOT_FOUND","details":[]}}`},
		{"bad request", InvalidArgument("page_size", "must not be negative"), 400,
			`{"error":{"code":400,"message":"invalid page_size: must not be negative","status":"INVALID_ARGUMENT","details":[` +
				`{"@type":"type.googleapis.com/google.rpc.BadRequest","fieldViolations":[{"field":"page_size","description":"must not be negative"}]}]}}`},
		{"cancelled", Errorf(CodeCanceled, "client went away"), 499,
			`{"error":{"code":499,"message":"client went away","status":"CANCELLED","details":[]}}`},
		{"plain error", errors.New("boom"), 500,
			`{"error":{"code":500,"message":"boom","status":"INTERNAL","details":[]}}`},
		{"unencodable detail", Errorf(CodeAborted, "x").WithDetail(func() {}), 409,
			`{"error":{"code":409,"message":"x","status":"ABORTED","details":[]}}`},
		{"nil", nil, 500,
			`{"error":{"code":500,"message":"internal error: WriteError called with a nil error","status":"INTERNAL","details":[]}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := httptest.NewRecorder()
			WriteError(rec, tt.err)
			if rec.Code != tt.wantStatus {
				t.Errorf("status = %d, want %d", rec.Code, tt.wantStatus)
			}
			if got := rec.Header().Get("Content-Type"); got != "application/json" {
				t.Errorf("Content-Type = %q, want application/json", got)
			}
			if got := rec.Body.String(); got != tt.wantBody+"\n" {
				t.Errorf("body = %s, want %s", got, tt.wantBody)
			}
		})
	}
}

func TestWriteJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		status     int
		v          any
		wantStatus int
		wantBody   string
	}{
		{"object", http.StatusCreated, map[string]string{"name": "a&b"}, 201, `{"name":"a&b"}`},
		{"unencodable", http.StatusOK, make(chan int), 500,
			`{"error":{"code":500,"message":"encode response: json: unsupported type: chan int","status":"INTERNAL","details":[]}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := httptest.NewRecorder()
			WriteJSON(rec, tt.status, tt.v)
			if rec.Code != tt.wantStatus {
				t.Errorf("status = %d, want %d", rec.Code, tt.wantStatus)
			}
			if got := rec.Header().Get("Content-Type"); got != "application/json" {
				t.Errorf("Content-Type = %q, want application/json", got)
			}
			if got := rec.Body.String(); got != tt.wantBody+"\n" {
				t.Errorf("body = %s, want %s", got, tt.wantBody)
			}
		})
	}
}

func TestWriteErrorHTTPOverride(t *testing.T) {
	rec := httptest.NewRecorder()
	WriteError(rec, &Error{Code: CodeUnknown, Message: "teapot", HTTP: 418})
	if rec.Code != 418 || !strings.Contains(rec.Body.String(), `"code":418`) || !strings.Contains(rec.Body.String(), `"status":"UNKNOWN"`) {
		t.Errorf("got %d %s", rec.Code, rec.Body.String())
	}
	rec = httptest.NewRecorder()
	WriteError(rec, &Error{Code: CodeNotFound, Message: "x", HTTP: 200})
	if rec.Code != 404 {
		t.Errorf("a non-error HTTP override must be ignored: got %d", rec.Code)
	}
}

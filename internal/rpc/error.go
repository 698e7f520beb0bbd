package rpc

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
)

// Error is a google.rpc.Status carried as a Go error. Details holds values
// that encode to JSON as google.protobuf.Any, each with its "@type" (see
// BadRequest and ErrorInfo); it may be nil.
//
// An *Error is treated as immutable once created: the With methods return
// copies, so a shared *Error may be used from several goroutines.
type Error struct {
	Code    Code
	Message string
	Details []any
	// HTTP, when non-zero, is the HTTP status to answer with instead of
	// the code's own (a Return task's httpErrorCode such as 418 or 422,
	// which no canonical code maps to).
	HTTP int
}

// Error returns "CODE: message", e.g. "NOT_FOUND: integration x not found".
func (e *Error) Error() string {
	return e.Code.String() + ": " + e.Message
}

// Errorf returns an *Error with code c and the formatted message.
func Errorf(c Code, format string, args ...any) *Error {
	return &Error{Code: c, Message: fmt.Sprintf(format, args...)}
}

// InvalidArgument returns an INVALID_ARGUMENT *Error about one request field
// (named as on the wire, e.g. "page_size" or "filter"). The formatted text
// is the description of a google.rpc.BadRequest field violation, and the
// message is "invalid FIELD: DESCRIPTION". With an empty field the message is
// the description alone and no detail is added.
func InvalidArgument(field, format string, args ...any) *Error {
	desc := fmt.Sprintf(format, args...)
	if field == "" {
		return &Error{Code: CodeInvalidArgument, Message: desc}
	}
	return &Error{
		Code:    CodeInvalidArgument,
		Message: "invalid " + field + ": " + desc,
		Details: []any{BadRequest{FieldViolations: []FieldViolation{{Field: field, Description: desc}}}},
	}
}

// WithDetail returns a copy of e with d appended to its details.
func (e *Error) WithDetail(d any) *Error {
	c := *e
	c.Details = append(slices.Clip(e.Details), d)
	return &c
}

// WithErrorInfo returns a copy of e with a google.rpc.ErrorInfo detail
// appended. metadata is copied and may be nil.
func (e *Error) WithErrorInfo(reason, domain string, metadata map[string]string) *Error {
	return e.WithDetail(ErrorInfo{Reason: reason, Domain: domain, Metadata: maps.Clone(metadata)})
}

// FromError converts any error to an *Error:
//   - nil gives nil;
//   - an *Error found by errors.As (through any wrapping) is returned as is;
//   - an error that is context.DeadlineExceeded gives DEADLINE_EXCEEDED and
//     context.Canceled gives CANCELLED;
//   - anything else gives INTERNAL.
//
// The message of a converted error is err.Error(): operators need it, so
// callers must not wrap secrets into errors that can reach a client.
func FromError(err error) *Error {
	if err == nil {
		return nil
	}
	if e, ok := errors.AsType[*Error](err); ok {
		return e
	}
	code := CodeInternal
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		code = CodeDeadlineExceeded
	case errors.Is(err, context.Canceled):
		code = CodeCanceled
	}
	return &Error{Code: code, Message: err.Error()}
}

// CodeOf returns the code FromError gives err, and OK for nil.
func CodeOf(err error) Code {
	if err == nil {
		return CodeOK
	}
	return FromError(err).Code
}

// Package rpc implements google.rpc.Status errors as Google's REST APIs
// return them: a canonical Code, a message and typed details, written as
//
//	{"error":{"code":404,"message":"...","status":"NOT_FOUND","details":[...]}}
//
// See https://google.aip.dev/193 and
// https://github.com/googleapis/googleapis/blob/master/google/rpc/code.proto.
//
// The package knows nothing of integrationd's stores or services: the API
// layer maps their sentinel errors to codes.
package rpc

import (
	"net/http"
	"strconv"
)

// Code is a canonical google.rpc.Code.
type Code int32

// The 17 canonical codes. The Go names follow Go spelling (CodeCanceled);
// String gives Google's canonical names ("CANCELLED").
const (
	CodeOK                 Code = 0
	CodeCanceled           Code = 1
	CodeUnknown            Code = 2
	CodeInvalidArgument    Code = 3
	CodeDeadlineExceeded   Code = 4
	CodeNotFound           Code = 5
	CodeAlreadyExists      Code = 6
	CodePermissionDenied   Code = 7
	CodeResourceExhausted  Code = 8
	CodeFailedPrecondition Code = 9
	CodeAborted            Code = 10
	CodeOutOfRange         Code = 11
	CodeUnimplemented      Code = 12
	CodeInternal           Code = 13
	CodeUnavailable        Code = 14
	CodeDataLoss           Code = 15
	CodeUnauthenticated    Code = 16
)

// codes holds, for every canonical code, its name and its HTTP status as
// google/rpc/code.proto documents them (CANCELLED is 499, as current
// grpc-gateway versions and Google's front ends return).
var codes = [...]struct {
	name string
	http int
}{
	CodeOK:                 {"OK", http.StatusOK},
	CodeCanceled:           {"CANCELLED", 499},
	CodeUnknown:            {"UNKNOWN", http.StatusInternalServerError},
	CodeInvalidArgument:    {"INVALID_ARGUMENT", http.StatusBadRequest},
	CodeDeadlineExceeded:   {"DEADLINE_EXCEEDED", http.StatusGatewayTimeout},
	CodeNotFound:           {"NOT_FOUND", http.StatusNotFound},
	CodeAlreadyExists:      {"ALREADY_EXISTS", http.StatusConflict},
	CodePermissionDenied:   {"PERMISSION_DENIED", http.StatusForbidden},
	CodeResourceExhausted:  {"RESOURCE_EXHAUSTED", http.StatusTooManyRequests},
	CodeFailedPrecondition: {"FAILED_PRECONDITION", http.StatusBadRequest},
	CodeAborted:            {"ABORTED", http.StatusConflict},
	CodeOutOfRange:         {"OUT_OF_RANGE", http.StatusBadRequest},
	CodeUnimplemented:      {"UNIMPLEMENTED", http.StatusNotImplemented},
	CodeInternal:           {"INTERNAL", http.StatusInternalServerError},
	CodeUnavailable:        {"UNAVAILABLE", http.StatusServiceUnavailable},
	CodeDataLoss:           {"DATA_LOSS", http.StatusInternalServerError},
	CodeUnauthenticated:    {"UNAUTHENTICATED", http.StatusUnauthorized},
}

func (c Code) valid() bool { return c >= 0 && int(c) < len(codes) }

// String returns the canonical name of c ("INVALID_ARGUMENT"), or
// "Code(N)" for a value outside the 17 canonical codes.
func (c Code) String() string {
	if !c.valid() {
		return "Code(" + strconv.Itoa(int(c)) + ")"
	}
	return codes[c].name
}

// ParseCode returns the code whose canonical name is name ("NOT_FOUND").
// The match is exact; ok is false for any other string.
func ParseCode(name string) (c Code, ok bool) {
	for i, e := range codes {
		if e.name == name {
			return Code(i), true
		}
	}
	return CodeUnknown, false
}

// HTTPStatus returns the HTTP status Google's REST front ends use for c:
// OK 200, CANCELLED 499, UNKNOWN 500, INVALID_ARGUMENT 400,
// DEADLINE_EXCEEDED 504, NOT_FOUND 404, ALREADY_EXISTS 409,
// PERMISSION_DENIED 403, RESOURCE_EXHAUSTED 429, FAILED_PRECONDITION 400,
// ABORTED 409, OUT_OF_RANGE 400, UNIMPLEMENTED 501, INTERNAL 500,
// UNAVAILABLE 503, DATA_LOSS 500, UNAUTHENTICATED 401.
// A non-canonical code gives 500.
func HTTPStatus(c Code) int {
	if !c.valid() {
		return http.StatusInternalServerError
	}
	return codes[c].http
}

// CodeFromHTTP maps an HTTP status to the code a client should see, the
// inverse of HTTPStatus where several codes share a status: 400 gives
// INVALID_ARGUMENT, 409 ABORTED and 500 INTERNAL. It also maps 412 to
// FAILED_PRECONDITION, 416 to OUT_OF_RANGE, 502 to UNAVAILABLE and every
// other 2xx to OK. Any other status gives UNKNOWN.
func CodeFromHTTP(status int) Code {
	switch status {
	case http.StatusBadRequest:
		return CodeInvalidArgument
	case http.StatusUnauthorized:
		return CodeUnauthenticated
	case http.StatusForbidden:
		return CodePermissionDenied
	case http.StatusNotFound:
		return CodeNotFound
	case http.StatusConflict:
		return CodeAborted
	case http.StatusPreconditionFailed:
		return CodeFailedPrecondition
	case http.StatusRequestedRangeNotSatisfiable:
		return CodeOutOfRange
	case http.StatusTooManyRequests:
		return CodeResourceExhausted
	case 499:
		return CodeCanceled
	case http.StatusInternalServerError:
		return CodeInternal
	case http.StatusNotImplemented:
		return CodeUnimplemented
	case http.StatusBadGateway, http.StatusServiceUnavailable:
		return CodeUnavailable
	case http.StatusGatewayTimeout:
		return CodeDeadlineExceeded
	}
	if status >= 200 && status < 300 {
		return CodeOK
	}
	return CodeUnknown
}

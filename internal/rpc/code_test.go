package rpc

import "testing"

func TestCodeStringAndHTTPStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		code Code
		name string
		http int
	}{
		{CodeOK, "OK", 200},
		{CodeCanceled, "CANCELLED", 499},
		{CodeUnknown, "UNKNOWN", 500},
		{CodeInvalidArgument, "INVALID_ARGUMENT", 400},
		{CodeDeadlineExceeded, "DEADLINE_EXCEEDED", 504},
		{CodeNotFound, "NOT_FOUND", 404},
		{CodeAlreadyExists, "ALREADY_EXISTS", 409},
		{CodePermissionDenied, "PERMISSION_DENIED", 403},
		{CodeResourceExhausted, "RESOURCE_EXHAUSTED", 429},
		{CodeFailedPrecondition, "FAILED_PRECONDITION", 400},
		{CodeAborted, "ABORTED", 409},
		{CodeOutOfRange, "OUT_OF_RANGE", 400},
		{CodeUnimplemented, "UNIMPLEMENTED", 501},
		{CodeInternal, "INTERNAL", 500},
		{CodeUnavailable, "UNAVAILABLE", 503},
		{CodeDataLoss, "DATA_LOSS", 500},
		{CodeUnauthenticated, "UNAUTHENTICATED", 401},
		{Code(17), "Code(17)", 500},
		{Code(-1), "Code(-1)", 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.code.String(); got != tt.name {
				t.Errorf("Code(%d).String() = %q, want %q", int32(tt.code), got, tt.name)
			}
			if got := HTTPStatus(tt.code); got != tt.http {
				t.Errorf("HTTPStatus(%v) = %d, want %d", tt.code, got, tt.http)
			}
			got, ok := ParseCode(tt.name)
			if wantOK := tt.code.valid(); ok != wantOK || (ok && got != tt.code) {
				t.Errorf("ParseCode(%q) = %v, %v, want %v, %v", tt.name, got, ok, tt.code, wantOK)
			}
		})
	}
}

func TestCodeFromHTTP(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status int
		want   Code
	}{
		{200, CodeOK},
		{204, CodeOK},
		{400, CodeInvalidArgument},
		{401, CodeUnauthenticated},
		{403, CodePermissionDenied},
		{404, CodeNotFound},
		{409, CodeAborted},
		{412, CodeFailedPrecondition},
		{416, CodeOutOfRange},
		{429, CodeResourceExhausted},
		{499, CodeCanceled},
		{500, CodeInternal},
		{501, CodeUnimplemented},
		{502, CodeUnavailable},
		{503, CodeUnavailable},
		{504, CodeDeadlineExceeded},
		{302, CodeUnknown},
		{418, CodeUnknown},
		{0, CodeUnknown},
	}
	for _, tt := range tests {
		if got := CodeFromHTTP(tt.status); got != tt.want {
			t.Errorf("CodeFromHTTP(%d) = %v, want %v", tt.status, got, tt.want)
		}
	}
}

// Every code whose HTTP status no other code shares survives a round trip.
func TestCodeFromHTTPInvertsHTTPStatus(t *testing.T) {
	t.Parallel()
	shared := map[int]int{}
	for c := range Code(len(codes)) {
		shared[HTTPStatus(c)]++
	}
	for c := range Code(len(codes)) {
		if shared[HTTPStatus(c)] > 1 {
			continue
		}
		if got := CodeFromHTTP(HTTPStatus(c)); got != c {
			t.Errorf("CodeFromHTTP(HTTPStatus(%v)) = %v, want %v", c, got, c)
		}
	}
}

package rpc

import (
	"bytes"
	"encoding/json"
	"net/http"
)

// errorBody is the JSON envelope of Google's REST errors.
type errorBody struct {
	Error status `json:"error"`
}

type status struct {
	Code    int    `json:"code"` // the HTTP status, as Google's REST errors carry it
	Message string `json:"message"`
	Status  string `json:"status"`
	Details []any  `json:"details"`
}

// WriteError writes err as Google's REST APIs do, with the HTTP status of its
// code (see FromError and HTTPStatus) and Content-Type application/json:
//
//	{"error":{"code":404,"message":"...","status":"NOT_FOUND","details":[]}}
//
// "details" is always an array, empty when there are none. A nil err, a
// programming error, is written as INTERNAL.
func WriteError(w http.ResponseWriter, err error) {
	e := FromError(err)
	if e == nil {
		e = &Error{Code: CodeInternal, Message: "internal error: WriteError called with a nil error"}
	}
	details := e.Details
	if details == nil {
		details = []any{}
	}
	httpStatus := HTTPStatus(e.Code)
	if e.HTTP >= 400 && e.HTTP <= 599 {
		httpStatus = e.HTTP
	}
	b := errorBody{status{Code: httpStatus, Message: e.Message, Status: e.Code.String(), Details: details}}
	data, merr := encode(b)
	if merr != nil {
		// A detail that does not encode: keep the status, drop the details.
		b.Error.Details = []any{}
		data, _ = encode(b)
	}
	write(w, b.Error.Code, data)
}

// WriteJSON writes v as JSON with the given HTTP status and Content-Type
// application/json. HTML characters are not escaped. If v cannot be
// encoded, it writes an INTERNAL error instead.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	data, err := encode(v)
	if err != nil {
		WriteError(w, Errorf(CodeInternal, "encode response: %v", err))
		return
	}
	write(w, status, data)
}

func encode(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func write(w http.ResponseWriter, status int, data []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(data)
}

package rpc

import "encoding/json"

// Type URLs of the details this package defines.
const (
	TypeBadRequest = "type.googleapis.com/google.rpc.BadRequest"
	TypeErrorInfo  = "type.googleapis.com/google.rpc.ErrorInfo"
)

// BadRequest is a google.rpc.BadRequest detail: the request fields that
// were invalid. It encodes with its "@type".
type BadRequest struct {
	FieldViolations []FieldViolation `json:"fieldViolations"`
}

// FieldViolation is one entry of BadRequest. Field is the path of the
// request field as on the wire ("page_size", "integration.trigger_configs").
type FieldViolation struct {
	Field       string `json:"field"`
	Description string `json:"description"`
}

// MarshalJSON encodes b as a google.protobuf.Any.
func (b BadRequest) MarshalJSON() ([]byte, error) {
	type plain BadRequest
	return json.Marshal(struct {
		Type string `json:"@type"`
		plain
	}{TypeBadRequest, plain(b)})
}

// ErrorInfo is a google.rpc.ErrorInfo detail: a machine-readable reason
// (UPPER_SNAKE_CASE), the domain that defines it and optional metadata.
// It encodes with its "@type".
type ErrorInfo struct {
	Reason   string            `json:"reason"`
	Domain   string            `json:"domain"`
	Metadata map[string]string `json:"metadata,omitempty"`
}

// MarshalJSON encodes i as a google.protobuf.Any.
func (i ErrorInfo) MarshalJSON() ([]byte, error) {
	type plain ErrorInfo
	return json.Marshal(struct {
		Type string `json:"@type"`
		plain
	}{TypeErrorInfo, plain(i)})
}

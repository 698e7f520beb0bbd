// Command rawserver is the baseline of integrationd's load benchmark: a
// plain net/http server that answers the benchmark's :execute call with the
// same JSON work and no engine. It decodes the same ExecuteIntegrationsRequest
// body, computes the five outputs of bench/testdata/five-rows.json by hand
// (GET_PROPERTY, TO_UPPERCASE, CONCAT, an int ADD, SIZE and TO_STRING on the
// "order" JSON input) and encodes a response of the same shape as
// integrationd's (executionId, outputParameters with the system variables,
// eventParameters). It keeps no state and writes nothing to disk.
//
//	rawserver -addr 127.0.0.1:0
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8081", "HTTP listen address")
	flag.Parse()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	mux.HandleFunc("POST /v1/projects/{project}/locations/{location}/integrations/{target}", execute)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintln(os.Stderr, "rawserver serving on", ln.Addr())
	log.Fatal(srv.Serve(ln))
}

// valueType is the subset of ValueType the request uses.
type valueType struct {
	StringValue *string         `json:"stringValue,omitempty"`
	IntValue    json.RawMessage `json:"intValue,omitempty"` // proto3 int64: "2" or 2
	JSONValue   *string         `json:"jsonValue,omitempty"`
}

type request struct {
	TriggerID       string                `json:"triggerId"`
	InputParameters map[string]*valueType `json:"inputParameters"`
}

type errorInfo struct {
	Message string `json:"message"`
	Code    int    `json:"code"`
}

// outputParameters has integrationd's order: the OUT variables in
// declaration order, then the system variables. The system variables' names
// carry backticks, which encoding/json does not accept in struct tags, so
// MarshalJSON writes the object.
type outputParameters struct {
	Customer        string
	Label           string
	Quantity        int64
	Lines           int64
	Tags            string
	ExecutionMode   string
	ErrorInfo       errorInfo
	ExecutionID     string
	IntegrationName string
	Region          string
	ProjectID       string
}

func (o *outputParameters) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 512)
	first := true
	member := func(k string, v any) {
		if !first {
			b = append(b, ',')
		}
		first = false
		kb, _ := json.Marshal(k)
		vb, _ := json.Marshal(v)
		b = append(append(append(b, kb...), ':'), vb...)
	}
	b = append(b, '{')
	member("customer", o.Customer)
	member("label", o.Label)
	member("quantity", o.Quantity)
	member("lines", o.Lines)
	member("tags", o.Tags)
	member("`ExecutionMode`", o.ExecutionMode)
	member("`ErrorInfo`", o.ErrorInfo)
	member("`ExecutionId`", o.ExecutionID)
	member("`IntegrationName`", o.IntegrationName)
	member("`Region`", o.Region)
	member("`ProjectId`", o.ProjectID)
	return append(b, '}'), nil
}

type outValue struct {
	StringValue *string `json:"stringValue,omitempty"`
	IntValue    string  `json:"intValue,omitempty"`
	JSONValue   string  `json:"jsonValue,omitempty"`
}

type eventParameter struct {
	Key   string   `json:"key"`
	Value outValue `json:"value"`
}

type response struct {
	ExecutionID      string            `json:"executionId"`
	OutputParameters *outputParameters `json:"outputParameters"`
	EventParameters  struct {
		Parameters []eventParameter `json:"parameters"`
	} `json:"eventParameters"`
}

func execute(w http.ResponseWriter, r *http.Request) {
	target := r.PathValue("target")
	name, verb, _ := strings.Cut(target, ":")
	if verb != "execute" || name != "bench" {
		fail(w, http.StatusNotFound, "no method matches POST "+r.URL.Path)
		return
	}
	var req request
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 32<<20)).Decode(&req); err != nil {
		fail(w, http.StatusBadRequest, "malformed JSON body: "+err.Error())
		return
	}
	if req.TriggerID != "api_trigger/bench" {
		fail(w, http.StatusNotFound, fmt.Sprintf("the published version of bench has no trigger %q", req.TriggerID))
		return
	}
	out, err := compute(req.InputParameters)
	if err != nil {
		fail(w, http.StatusBadRequest, err.Error())
		return
	}
	id := uuid.NewString()
	out.ExecutionMode, out.ExecutionID = "SYNC", id
	out.IntegrationName, out.Region, out.ProjectID = name, r.PathValue("location"), r.PathValue("project")

	resp := response{ExecutionID: id, OutputParameters: &out}
	str := func(s string) outValue { return outValue{StringValue: &s} }
	num := func(n int64) outValue { return outValue{IntValue: strconv.FormatInt(n, 10)} }
	ei, _ := json.Marshal(out.ErrorInfo)
	resp.EventParameters.Parameters = []eventParameter{
		{"customer", str(out.Customer)},
		{"label", str(out.Label)},
		{"quantity", num(out.Quantity)},
		{"lines", num(out.Lines)},
		{"tags", str(out.Tags)},
		{"`ExecutionMode`", str(out.ExecutionMode)},
		{"`ErrorInfo`", outValue{JSONValue: string(ei)}},
		{"`ExecutionId`", str(id)},
		{"`IntegrationName`", str(out.IntegrationName)},
		{"`Region`", str(out.Region)},
		{"`ProjectId`", str(out.ProjectID)},
	}
	body, err := json.Marshal(&resp)
	if err != nil {
		fail(w, http.StatusInternalServerError, err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_, _ = w.Write(body)
}

// compute does the five mapping rows by hand.
func compute(in map[string]*valueType) (outputParameters, error) {
	var out outputParameters
	orderIn := in["order"]
	if orderIn == nil || orderIn.JSONValue == nil {
		return out, errors.New("input order: a jsonValue is required")
	}
	var order map[string]any
	if err := json.Unmarshal([]byte(*orderIn.JSONValue), &order); err != nil {
		return out, fmt.Errorf("input order: %v", err)
	}
	channel := ""
	if c := in["channel"]; c != nil && c.StringValue != nil {
		channel = *c.StringValue
	}
	var bonus int64
	if b := in["bonus"]; b != nil && len(b.IntValue) > 0 {
		n, err := strconv.ParseInt(strings.Trim(string(b.IntValue), `"`), 10, 64)
		if err != nil {
			return out, fmt.Errorf("input bonus: %v", err)
		}
		bonus = n
	}

	// Row 1: $order$ GET_PROPERTY("customer.name") TO_STRING TO_UPPERCASE.
	customer, _ := order["customer"].(map[string]any)
	out.Customer = strings.ToUpper(toString(customer["name"]))
	// Row 2: $order$ GET_PROPERTY("id") TO_STRING CONCAT("/") CONCAT($channel$).
	out.Label = toString(order["id"]) + "/" + channel
	// Row 3: $order$ GET_PROPERTY("qty") TO_INT ADD($bonus$).
	qty, _ := order["qty"].(float64)
	out.Quantity = int64(qty) + bonus
	// Row 4: $order$ GET_PROPERTY("items") SIZE.
	items, ok := order["items"].([]any)
	if !ok {
		return out, errors.New("SIZE needs a JSON array")
	}
	out.Lines = int64(len(items))
	// Row 5: $order$ GET_PROPERTY("tags") TO_STRING (pretty-printed JSON).
	tags, err := json.MarshalIndent(order["tags"], "", "  ")
	if err != nil {
		return out, err
	}
	out.Tags = string(tags)
	return out, nil
}

func toString(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func fail(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	b, _ := json.Marshal(map[string]any{"error": map[string]any{"code": code, "message": msg}})
	_, _ = w.Write(b)
}

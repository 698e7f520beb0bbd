package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// The benchmark integration (testdata/five-rows.json) and the request both
// targets receive. The raw baseline (rawserver) computes the same five
// outputs by hand; both answers are checked against want.

const (
	project     = "bench"
	location    = "us-central1"
	integration = "bench"
	triggerID   = "api_trigger/bench"
	fixturePath = "bench/testdata/five-rows.json" // relative to the module root
)

// executePath is the :execute path of the benchmark integration.
const executePath = "/v1/projects/" + project + "/locations/" + location + "/integrations/" + integration + ":execute"

// order is the JSON input: a typical small order document (~300 bytes).
const order = `{"id":"o-1042","customer":{"name":"Ada Lovelace","email":"ada@example.com"},"qty":3,` +
	`"items":[{"sku":"A-1","price":12.5,"qty":1},{"sku":"B-7","price":3.25,"qty":2},{"sku":"C-3","price":99.99,"qty":1}],` +
	`"tags":["priority","gift"],"note":"leave at the door"}`

// outputs are the five OUT variables of the integration, as decoded from
// outputParameters.
type outputs struct {
	Customer string `json:"customer"` // order.customer.name, TO_UPPERCASE
	Label    string `json:"label"`    // order.id CONCAT "/" CONCAT $channel$
	Quantity int64  `json:"quantity"` // order.qty TO_INT ADD $bonus$
	Lines    int64  `json:"lines"`    // order.items SIZE
	Tags     string `json:"tags"`     // order.tags TO_STRING (indented JSON text)
}

// want is what both servers must answer to requestBody.
var want = outputs{
	Customer: "ADA LOVELACE",
	Label:    "o-1042/web",
	Quantity: 3 + 2,
	Lines:    3,
	Tags:     "[\n  \"priority\",\n  \"gift\"\n]",
}

// requestBody is the ExecuteIntegrationsRequest sent on every call.
var requestBody = mustJSON(map[string]any{
	"triggerId": triggerID,
	"inputParameters": map[string]any{
		"order":   map[string]string{"jsonValue": order},
		"channel": map[string]string{"stringValue": "web"},
		"bonus":   map[string]string{"intValue": "2"},
	},
})

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// withoutPersistence sets the fixture's databasePersistencePolicy to
// DATABASE_PERSISTENCE_DISABLED.
func withoutPersistence(fixture []byte) ([]byte, error) {
	var doc map[string]any
	if err := json.Unmarshal(fixture, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", fixturePath, err)
	}
	doc["databasePersistencePolicy"] = "DATABASE_PERSISTENCE_DISABLED"
	return json.Marshal(doc)
}

// executeResponse is the part of ExecuteIntegrationsResponse that is checked.
type executeResponse struct {
	ExecutionID      string  `json:"executionId"`
	OutputParameters outputs `json:"outputParameters"`
}

// verify checks an :execute response body: an execution ID and the five
// expected outputs. The fast path matches the compact JSON both servers
// write byte for byte, so that checking costs the load generator (which
// shares the machine's cores with the server) little; anything else is
// decoded and compared by value.
func verify(body []byte) error {
	if fastVerify(body) {
		return nil
	}
	var r executeResponse
	if err := json.Unmarshal(body, &r); err != nil {
		return fmt.Errorf("response is not JSON: %v: %.200s", err, body)
	}
	if r.ExecutionID == "" {
		return fmt.Errorf("no executionId: %.200s", body)
	}
	if r.OutputParameters != want {
		return fmt.Errorf("outputs %+v, want %+v", r.OutputParameters, want)
	}
	return nil
}

// wantFragments are the expected outputs as compact JSON members.
var wantFragments = func() [][]byte {
	var out [][]byte
	add := func(k string, v any) { out = append(out, append(mustJSON(k), append([]byte{':'}, mustJSON(v)...)...)) }
	add("customer", want.Customer)
	add("label", want.Label)
	add("quantity", want.Quantity)
	add("lines", want.Lines)
	add("tags", want.Tags)
	return out
}()

func fastVerify(body []byte) bool {
	const idKey, outKey = `"executionId":"`, `"outputParameters":{`
	i := bytes.Index(body, []byte(idKey))
	if i < 0 || len(body) <= i+len(idKey) || body[i+len(idKey)] == '"' {
		return false
	}
	j := bytes.Index(body, []byte(outKey))
	if j < 0 {
		return false
	}
	outs := body[j:]
	if k := bytes.Index(outs, []byte(`"eventParameters":`)); k > 0 {
		outs = outs[:k]
	}
	for _, f := range wantFragments {
		if !bytes.Contains(outs, f) {
			return false
		}
	}
	return true
}

// oneLine shortens a message for the error samples.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 240 {
		s = s[:240] + "…"
	}
	return s
}

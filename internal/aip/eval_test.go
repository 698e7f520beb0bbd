package aip

import (
	"strings"
	"testing"

	"github.com/integrationd/integrationd/internal/rpc"
)

func TestEval(t *testing.T) {
	t.Parallel()
	record := map[string][]string{
		"trigger_id":            {"api_trigger/orders"},
		"event_execution_state": {"FAILED"},
		"CreateTimestamp":       {"2024-05-01T10:00:00Z"},
		"snapshot_number":       {"12"},
		"score":                 {"2.5"},
		"big":                   {"9007199254740993"},
		"enabled":               {"true"},
		"parameter_type":        {"string", "int_array"},
		"user_label":            {""},
		"none":                  nil,
	}
	get := func(f string) ([]string, bool) { v, ok := record[f]; return v, ok }
	tests := []struct {
		filter string
		want   bool
	}{
		{``, true},
		{`trigger_id = "api_trigger/orders"`, true},
		{`trigger_id = api_trigger/orders`, true},
		{`trigger_id != "api_trigger/orders"`, false},
		{`trigger_id="id1" AND event_execution_state="FAILED"`, false},
		{`trigger_id="id1" OR event_execution_state="FAILED"`, true},
		{`NOT event_execution_state = FAILED`, false},
		{`-event_execution_state = SUCCEEDED`, true},
		// numbers compare as numbers, not strings ("12" < "9" as strings)
		{`snapshot_number > 9`, true},
		{`snapshot_number <= 12.0`, true},
		{`snapshot_number = 12`, true},
		{`snapshot_number < 12`, false},
		{`score >= 2.5`, true},
		{`score < 10`, true},
		{`big > 9007199254740992`, true}, // exact integers beyond float64 precision
		// timestamps compare as times, whatever their zone or precision
		{`CreateTimestamp > "2024-05-01T00:00:00Z"`, true},
		{`CreateTimestamp < 2024-05-01T11:00:00+02:00`, false},
		{`CreateTimestamp = "2024-05-01T12:00:00.000+02:00"`, true},
		{`CreateTimestamp >= "2024-05-01T10:00:00Z" AND CreateTimestamp < "2024-05-02T00:00:00Z"`, true},
		// strings compare byte-wise
		{`event_execution_state > "EXPIRED"`, true},
		{`event_execution_state < "A"`, false},
		// booleans ignore case
		{`enabled = TRUE`, true},
		{`enabled != False`, true},
		// : and HAS: substring or membership in a repeated field
		{`"parameter_type" HAS "string"`, true},
		{`parameter_type:int_array`, true},
		{`parameter_type HAS "int"`, true},
		{`parameter_type HAS "bool"`, false},
		{`trigger_id:orders`, true},
		{`parameter_type = string`, true},
		{`parameter_type != string`, false},
		{`parameter_type != bool`, true},
		// presence
		{`trigger_id:*`, true},
		{`user_label:*`, false},
		{`none:*`, false},
		{`user_label:"*"`, false},
		{`none = ""`, false},
		{`none != ""`, true},
		// precedence: a AND (b OR c)
		{`trigger_id = x AND event_execution_state = FAILED OR snapshot_number = 12`, false},
		{`(trigger_id = x AND event_execution_state = FAILED) OR snapshot_number = 12`, true},
	}
	for _, tt := range tests {
		t.Run(tt.filter, func(t *testing.T) {
			t.Parallel()
			e, err := Parse(tt.filter)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.filter, err)
			}
			got, err := Eval(e, get)
			if err != nil {
				t.Fatalf("Eval(%q): %v", tt.filter, err)
			}
			if got != tt.want {
				t.Errorf("Eval(%q) = %v, want %v", tt.filter, got, tt.want)
			}
		})
	}
}

func TestEvalErrors(t *testing.T) {
	t.Parallel()
	get := func(f string) ([]string, bool) { return []string{"x"}, f == "known" }
	tests := []struct {
		expr    Expr
		wantMsg string
	}{
		{cmpb("nope", "=", "1"), `invalid filter: unknown field "nope"`},
		// reported even where OR could stop early
		{Or{cmpb("known", "=", "x"), cmpb("other", "=", "1")}, `invalid filter: unknown field "other"`},
		{And{cmpb("known", "=", "y"), cmpb("other", "=", "1")}, `invalid filter: unknown field "other"`},
		{Not{cmpb("other", "=", "1")}, `invalid filter: unknown field "other"`},
		{cmpb("known", "~", "1"), `invalid filter: unknown operator "~"`},
	}
	for _, tt := range tests {
		_, err := Eval(tt.expr, get)
		if rpc.CodeOf(err) != rpc.CodeInvalidArgument || !strings.Contains(err.Error(), tt.wantMsg) {
			t.Errorf("Eval(%v) error = %v, want INVALID_ARGUMENT %q", tt.expr, err, tt.wantMsg)
		}
	}
}

func BenchmarkEval(b *testing.B) {
	e, err := Parse(`trigger_id = "api_trigger/orders" AND CreateTimestamp > "2024-01-01T00:00:00Z" AND NOT state = FAILED`)
	if err != nil {
		b.Fatal(err)
	}
	rec := map[string][]string{"trigger_id": {"api_trigger/orders"}, "CreateTimestamp": {"2024-05-01T10:00:00Z"}, "state": {"SUCCEEDED"}}
	get := func(f string) ([]string, bool) { v, ok := rec[f]; return v, ok }
	for b.Loop() {
		if ok, err := Eval(e, get); !ok || err != nil {
			b.Fatalf("Eval = %v, %v", ok, err)
		}
	}
}

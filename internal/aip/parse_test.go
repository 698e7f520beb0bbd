package aip

import (
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/integrationd/integrationd/internal/rpc"
)

func cmpq(f, op, v string) Compare { return Compare{Field: f, Op: op, Value: v, Quoted: true} }
func cmpb(f, op, v string) Compare { return Compare{Field: f, Op: op, Value: v} }

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want Expr
	}{
		{"empty", "", nil},
		{"blank", " \t\n", nil},
		{"equals quoted", `trigger_id="api_trigger/orders"`, cmpq("trigger_id", "=", "api_trigger/orders")},
		{"single quotes", `state = 'ACTIVE'`, cmpq("state", "=", "ACTIVE")},
		{"bare word", `state = ACTIVE`, cmpb("state", "=", "ACTIVE")},
		{"number", `snapshot_number >= 3`, cmpb("snapshot_number", ">=", "3")},
		{"negative number", `snapshot_number>-1.5`, cmpb("snapshot_number", ">", "-1.5")},
		{"boolean", `enabled != false`, cmpb("enabled", "!=", "false")},
		{"bare timestamp", `CreateTimestamp < 2024-05-01T00:00:00Z`, cmpb("CreateTimestamp", "<", "2024-05-01T00:00:00Z")},
		{"all operators", `a=1 b!=2 c<3 d<=4 e>5 f>=6 g:7 h HAS 8`,
			And{And{And{And{And{And{And{cmpb("a", "=", "1"), cmpb("b", "!=", "2")}, cmpb("c", "<", "3")}, cmpb("d", "<=", "4")},
				cmpb("e", ">", "5")}, cmpb("f", ">=", "6")}, cmpb("g", ":", "7")}, cmpb("h", "HAS", "8")}},
		{"quoted field with HAS (Google's doc)", `"parameter_value" HAS "x"`, cmpq("parameter_value", "HAS", "x")},
		{"backslash-quoted value copied from the docs", `"parameter_value" HAS \"parameter1\"`, cmpq("parameter_value", "HAS", "parameter1")},
		{"escapes", `a = "say \"hi\" \\ 'x'"`, cmpq("a", "=", `say "hi" \ 'x'`)},
		{"unicode", `user_label = "größe ✓"`, cmpq("user_label", "=", "größe ✓")},
		{"dotted field", `a.b_c.d = 1`, cmpb("a.b_c.d", "=", "1")},
		{"presence", `user_label:*`, cmpb("user_label", ":", "*")},
		{"AND", `trigger_id="id1" AND event_execution_state="FAILED"`,
			And{cmpq("trigger_id", "=", "id1"), cmpq("event_execution_state", "=", "FAILED")}},
		{"OR binds tighter than AND", `a=1 AND b=2 OR c=3`, And{cmpb("a", "=", "1"), Or{cmpb("b", "=", "2"), cmpb("c", "=", "3")}}},
		{"OR binds tighter than implicit AND", `a=1 b=2 OR c=3`, And{cmpb("a", "=", "1"), Or{cmpb("b", "=", "2"), cmpb("c", "=", "3")}}},
		{"implicit AND binds tighter than AND", `a=1 b=2 AND c=3`, And{And{cmpb("a", "=", "1"), cmpb("b", "=", "2")}, cmpb("c", "=", "3")}},
		{"parentheses", `(a=1 OR b=2) AND c=3`, And{Or{cmpb("a", "=", "1"), cmpb("b", "=", "2")}, cmpb("c", "=", "3")}},
		{"NOT", `NOT state = DRAFT`, Not{cmpb("state", "=", "DRAFT")}},
		{"NOT binds to one term", `NOT a=1 AND b=2`, And{Not{cmpb("a", "=", "1")}, cmpb("b", "=", "2")}},
		{"minus", `-state=DRAFT`, Not{cmpb("state", "=", "DRAFT")}},
		{"minus group", `-(a=1 OR b=2)`, Not{Or{cmpb("a", "=", "1"), cmpb("b", "=", "2")}}},
		{"double negation", `NOT -a=1`, Not{Not{cmpb("a", "=", "1")}}},
		{"nested parentheses", `((a = 1))`, cmpb("a", "=", "1")},
		{"value may contain colons and dashes", `a = b:c-d`, cmpb("a", "=", "b:c-d")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse(%q) error: %v", tt.in, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse(%q) = %#v, want %#v", tt.in, got, tt.want)
			}
			// Printing and parsing again gives the same tree.
			if got == nil {
				return
			}
			s := got.(interface{ String() string }).String()
			again, err := Parse(s)
			if err != nil || !reflect.DeepEqual(again, got) {
				t.Errorf("Parse(%q) (printed from %q) = %#v, %v, want %#v", s, tt.in, again, err, got)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		wantMsg string // description without the text and caret lines
		wantCol int
	}{
		{`state`, "expected an operator (=, !=, <, <=, >, >=, : or HAS) after 'state', found end of filter", 6},
		{`state = `, "expected a value after '=', found end of filter", 9},
		{`state = )`, "expected a value after '=', found ')'", 9},
		{`state = AND`, "expected a value after '=', found 'AND'", 9},
		{`state = HAS`, "expected a value after '=', found 'HAS'", 9},
		{`a = 1 AND`, "expected a field name, found end of filter", 10},
		{`a = 1 OR OR b = 2`, "expected a field name, found 'OR'", 10},
		{`= 1`, "expected a field name, found '='", 1},
		{`(a = 1`, "expected ')' to close the '(' at column 1, found end of filter", 7},
		{`a = 1)`, "unexpected ')'", 6},
		{`a = "open`, "unterminated string", 5},
		{`a = 'x\'`, "unterminated string", 5},
		{`"a = 1`, "unterminated string", 1},
		{`a = \"x`, "unterminated string", 5},
		{`!a = 1`, "unexpected '!' (use NOT, - or !=)", 1},
		{`a ! 1`, "unexpected '!' (use NOT, - or !=)", 3},
		{`"" = 1`, "empty field name", 1},
		{`a and b = 1`, "expected an operator (=, !=, <, <=, >, >=, : or HAS) after 'a', found 'and'", 3},
		{`größe = 1 )`, "unexpected ')'", 11},
		{"a = \xff", "invalid UTF-8", 5},
		{strings.Repeat("(", maxDepth+1) + "a=1" + strings.Repeat(")", maxDepth+1), "nested more than 64 levels deep", maxDepth + 1},
		{strings.Repeat("NOT ", maxDepth+1) + "a=1", "nested more than 64 levels deep", 4*maxDepth + 1},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			e, err := Parse(tt.in)
			if err == nil {
				t.Fatalf("Parse(%q) = %v, want error %q", tt.in, e, tt.wantMsg)
			}
			re, ok := err.(*rpc.Error)
			if !ok || re.Code != rpc.CodeInvalidArgument {
				t.Fatalf("Parse(%q) error = %#v, want *rpc.Error INVALID_ARGUMENT", tt.in, err)
			}
			br, ok := re.Details[0].(rpc.BadRequest)
			if !ok || br.FieldViolations[0].Field != "filter" {
				t.Fatalf("Parse(%q) details = %#v, want a BadRequest on field filter", tt.in, re.Details)
			}
			lines := strings.Split(br.FieldViolations[0].Description, "\n")
			if len(lines) != 3 {
				t.Fatalf("description = %q, want 3 lines", br.FieldViolations[0].Description)
			}
			if want := tt.wantMsg + " at column " + strconv.Itoa(tt.wantCol); lines[0] != want {
				t.Errorf("first line = %q, want %q", lines[0], want)
			}
			if want := strings.Repeat(" ", tt.wantCol-1) + "^"; lines[2] != want {
				t.Errorf("caret line = %q, want %q", lines[2], want)
			}
			if !strings.HasPrefix(re.Message, "invalid filter: ") {
				t.Errorf("message = %q, want it to start with %q", re.Message, "invalid filter: ")
			}
		})
	}
}

func TestCompareString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   Expr
		want string
	}{
		{cmpb("state", "=", "ACTIVE"), `state = ACTIVE`},
		{cmpq("state", "=", "ACTIVE"), `state = "ACTIVE"`},
		{cmpb("a b", ":", "x y"), `"a b":"x y"`},
		{cmpb("AND", "=", "OR"), `"AND" = "OR"`},
		{cmpb("-a", "=", "-1"), `"-a" = -1`},
		{cmpq("a", "HAS", `q"\`), `a HAS "q\"\\"`},
		{cmpb("a", "=", ""), `a = ""`},
		{And{Not{cmpb("a", "=", "1")}, Or{cmpb("b", "<", "2"), cmpb("c", ">", "3")}}, `(NOT a = 1 AND (b < 2 OR c > 3))`},
	}
	for _, tt := range tests {
		got := tt.in.(interface{ String() string }).String()
		if got != tt.want {
			t.Errorf("String(%#v) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestConjunctsAndFields(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in         string
		want       []Compare
		wantOK     bool
		wantFields []string
	}{
		{"", nil, true, nil},
		{`a = 1`, []Compare{cmpb("a", "=", "1")}, true, []string{"a"}},
		{`a = 1 AND b = "x" c > 2`, []Compare{cmpb("a", "=", "1"), cmpq("b", "=", "x"), cmpb("c", ">", "2")}, true, []string{"a", "b", "c"}},
		{`a = 1 AND (b = 2 OR a = 3)`, nil, false, []string{"a", "b"}},
		{`a = 1 AND NOT b = 2`, nil, false, []string{"a", "b"}},
	}
	for _, tt := range tests {
		e, err := Parse(tt.in)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tt.in, err)
		}
		got, ok := Conjuncts(e)
		if ok != tt.wantOK || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Conjuncts(%q) = %v, %v, want %v, %v", tt.in, got, ok, tt.want, tt.wantOK)
		}
		if f := Fields(e); !reflect.DeepEqual(f, tt.wantFields) {
			t.Errorf("Fields(%q) = %v, want %v", tt.in, f, tt.wantFields)
		}
	}
}

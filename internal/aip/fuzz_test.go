package aip

import (
	"errors"
	"reflect"
	"testing"
	"unicode/utf8"

	"github.com/integrationd/integrationd/internal/rpc"
)

// FuzzParse checks that Parse never panics, that its errors are
// INVALID_ARGUMENT *rpc.Errors, that what it accepts prints as text that
// parses back to the same tree, and that Eval never panics on it.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		``, ` `, `a=1`, `a = "x"`, `a = 'x'`, `"parameter_value" HAS \"x\"`, `a:*`,
		`trigger_id="id1" AND event_execution_state="FAILED"`,
		`CreateTimestamp > 2024-05-01T00:00:00Z OR NOT (a != -1 b <= 2.5e3)`,
		`-(a=1)`, `NOT NOT a=1`, `((((a=1))))`, `(a=1`, `a=1)`, `a = "unterminated`, `a = "\\"`, `a = "\"`,
		`"" = 1`, `a !`, `!a`, `a = AND`, `a = b = c`, `a.b.c = "größe ✓"`, "a = \xff", "a\x00=\x01",
		`a = \"x`, `\"a\" = 1`, `AND`, `OR a=1`, `a=1 AND`, `-`, `- a = 1`, `a = --1`, `a<=>b`, `"\u00e9" = 1`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := Parse(s)
		if err != nil {
			var re *rpc.Error
			if !errors.As(err, &re) || re.Code != rpc.CodeInvalidArgument {
				t.Fatalf("Parse(%q) error = %#v, want *rpc.Error INVALID_ARGUMENT", s, err)
			}
			return
		}
		if !utf8.ValidString(s) {
			t.Fatalf("Parse(%q) accepted invalid UTF-8", s)
		}
		_, _ = Eval(e, func(string) ([]string, bool) { return []string{"1", "x", "2024-05-01T00:00:00Z"}, true })
		if e == nil {
			return
		}
		printed := e.(interface{ String() string }).String()
		again, err := Parse(printed)
		if err != nil {
			t.Fatalf("Parse(%q) (printed from %q): %v", printed, s, err)
		}
		if !reflect.DeepEqual(again, e) {
			t.Fatalf("Parse(%q) = %#v, want %#v (printed from %q)", printed, again, e, s)
		}
	})
}

// FuzzDecodeToken checks that DecodeToken never panics, that it returns
// INVALID_ARGUMENT for what it rejects, and that tokens round-trip.
func FuzzDecodeToken(f *testing.F) {
	f.Add("", uint32(0))
	f.Add(EncodeToken("cursor", 7), uint32(7))
	f.Add(EncodeToken("cursor", 7), uint32(8))
	f.Add("eyJjIjoieCIsInMiOjF9", uint32(1))
	f.Add("eyJjIjpudWxsLCJzIjoxfQ", uint32(1))
	f.Add("!!!", uint32(0))
	f.Add("eyJj", uint32(0))
	f.Fuzz(func(t *testing.T, token string, sum uint32) {
		cursor, err := DecodeToken(token, sum)
		if err != nil {
			if rpc.CodeOf(err) != rpc.CodeInvalidArgument {
				t.Fatalf("DecodeToken(%q) error = %v, want INVALID_ARGUMENT", token, err)
			}
			return
		}
		if token == "" {
			return
		}
		if got, err := DecodeToken(EncodeToken(cursor, sum), sum); err != nil || got != cursor {
			t.Fatalf("DecodeToken(EncodeToken(%q)) = %q, %v, want %q, nil", cursor, got, err, cursor)
		}
		if !utf8.ValidString(token) {
			return
		}
		// The same text as a cursor also round-trips.
		if got, err := DecodeToken(EncodeToken(token, sum), sum); err != nil || got != token {
			t.Fatalf("DecodeToken(EncodeToken(%q)) = %q, %v, want the same", token, got, err)
		}
	})
}

package schema_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/integrationd/integrationd/internal/schema"
	"github.com/integrationd/integrationd/internal/value"
)

func TestCompile(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, text string
		draft      string // "" when Compile must fail
		errSubstr  string
	}{
		{"draft-04 by $schema", `{"$schema":"http://json-schema.org/draft-04/schema#","type":"object"}`, "draft-04", ""},
		{"draft-07 by $schema", `{"$schema":"http://json-schema.org/draft-07/schema#","type":"object"}`, "draft-07", ""},
		{"https and no fragment", `{"$schema":"https://json-schema.org/draft-04/schema","type":"object"}`, "draft-04", ""},
		{"2020-12", `{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object"}`, "2020-12", ""},
		{"no $schema: draft-07", `{"type":"object"}`, "draft-07", ""},
		{"unknown $schema: draft-07", `{"$schema":"https://example.com/my-meta","type":"object"}`, "draft-07", ""},
		{"$schema in a subschema (vertex sample)", `{"type":["array"],"items":{"$schema":"http://json-schema.org/draft-07/schema#","type":"object"},"$schema":"http://json-schema.org/draft-07/schema#"}`, "draft-07", ""},
		{"trailing junk after the schema", "{\"type\":\"string\"}\n}\u0000garbage", "draft-07", ""},
		{"Gson-lenient schema", `{'type': 'string', /* comment */ 'minLength': 2,}`, "draft-07", ""},
		{"Gson-lenient schema with trailing junk", `{'type': 'string'} ]]`, "draft-07", ""},
		{"boolean schema", `true`, "draft-07", ""},
		{"lookahead pattern is accepted", `{"type":"string","pattern":"^(?=.*[0-9]).+$"}`, "draft-07", ""},
		{"empty", "  \n", "", "empty JSON schema"},
		{"not JSON", `{"type": `, "", "not JSON"},
		{"unknown type name", `{"type":"strin"}`, "", "meta-schema"},
		{"wrong keyword type", `{"$schema":"http://json-schema.org/draft-04/schema#","required":"a"}`, "", "meta-schema"},
		{"external $ref", `{"$ref":"https://example.com/other.json"}`, "", "does not load external schemas"},
		{"local file $ref", `{"$ref":"file:///etc/passwd"}`, "", "does not load external schemas"},
		{"dangling local $ref", `{"$ref":"#/definitions/nope"}`, "", "invalid JSON schema"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s, err := schema.Compile(c.text)
			if c.draft == "" {
				if err == nil || !strings.Contains(err.Error(), c.errSubstr) {
					t.Fatalf("err = %v, want one containing %q", err, c.errSubstr)
				}
				if strings.Contains(err.Error(), "urn:integrationd") {
					t.Errorf("error leaks the internal location: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Compile: %v", err)
			}
			if s.Draft() != c.draft {
				t.Errorf("draft = %s, want %s", s.Draft(), c.draft)
			}
		})
	}
	if _, err := schema.Compile(""); !errors.Is(err, schema.ErrEmpty) {
		t.Errorf("Compile(\"\") = %v, want ErrEmpty", err)
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	const orders = `{"$schema":"http://json-schema.org/draft-04/schema#","type":"object","required":["id"],
		"properties":{"id":{"type":"string"},"lines":{"type":"array","items":{"type":"object",
		"properties":{"qty":{"type":"integer","minimum":1},"sku":{"type":"string","pattern":"^[A-Z]+$"}}}}}}`
	cases := []struct {
		name, schema, value string
		// want lists "pointer|reason substring" for each violation, in order;
		// empty when the value is valid.
		want []string
	}{
		{"valid object", orders, `{"id":"o1","lines":[{"qty":2,"sku":"AB"}]}`, nil},
		{"whole doubles are integers", orders, `{"id":"o1","lines":[{"qty":2.0}]}`, nil},
		{"wrong type deep inside", orders, `{"id":"o1","lines":[{"qty":1},{"qty":"2"}]}`, []string{"/lines/1/qty|want integer"}},
		{"several violations, ordered by pointer", orders, `{"lines":[{"qty":0,"sku":"ab"}]}`,
			[]string{"|missing property 'id'", "/lines/0/qty|minimum", "/lines/0/sku|does not match pattern"}},
		{"root of the wrong type", orders, `[1,2]`, []string{"|got array, want object"}},
		{"null is not an object", orders, `null`, []string{"|got null, want object"}},
		{"draft-04 boolean exclusiveMaximum", `{"$schema":"http://json-schema.org/draft-04/schema#","maximum":10,"exclusiveMaximum":true}`, `10`, []string{"|"}},
		{"draft-07 numeric exclusiveMaximum", `{"exclusiveMaximum":10}`, `10`, []string{"|"}},
		{"draft-07 const", `{"properties":{"kind":{"const":"order"}}}`, `{"kind":"refund"}`, []string{"/kind|"}},
		{"string-or-null (connector payloads)", `{"type":"object","properties":{"a":{"type":["string","null"]}}}`, `{"a":null}`, nil},
		{"pointer escapes ~ and /", `{"properties":{"a/b":{"properties":{"c~d":{"type":"string"}}}}}`, `{"a/b":{"c~d":5}}`, []string{"/a~1b/c~0d|want string"}},
		{"enum", `{"enum":["A","B"]}`, `"C"`, []string{"|"}},
		{"additionalProperties false", `{"type":"object","properties":{"a":{}},"additionalProperties":false}`, `{"a":1,"b":2}`, []string{"|additional"}},
		{"lenient schema numbers", `{'type': 'array', 'minItems': 2}`, `[1]`, []string{"|minItems"}},
		{"unassertable pattern matches everything", `{"type":"string","pattern":"^(?=.*[0-9]).+$"}`, `"no digits"`, nil},
		{"date-time format asserted in draft-07", `{"type":"string","format":"date-time"}`, `"yesterday"`, []string{"|date-time"}},
		{"unknown format ignored", `{"type":"string","format":"sku"}`, `"x"`, nil},
		{"local $ref", `{"definitions":{"n":{"type":"number"}},"properties":{"a":{"$ref":"#/definitions/n"}}}`, `{"a":"x"}`, []string{"/a|want number"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s, err := schema.Compile(c.schema)
			if err != nil {
				t.Fatalf("Compile: %v", err)
			}
			v, err := value.ParseJSON(c.value)
			if err != nil {
				t.Fatal(err)
			}
			err = s.Validate(v)
			if len(c.want) == 0 {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			var ve *schema.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Validate = %v, want a *ValidationError", err)
			}
			if len(ve.Violations) != len(c.want) {
				t.Fatalf("violations %q, want %d: %q", ve.Violations, len(c.want), c.want)
			}
			for i, w := range c.want {
				ptr, reason, _ := strings.Cut(w, "|")
				got := ve.Violations[i]
				if got.Pointer != ptr || !strings.Contains(got.Reason, reason) {
					t.Errorf("violation %d = %+v, want pointer %q and reason containing %q", i, got, ptr, reason)
				}
				if !strings.Contains(err.Error(), got.String()) {
					t.Errorf("Error() = %q does not name %q", err, got)
				}
			}
		})
	}
}

func TestValidateDoesNotModifyTheValue(t *testing.T) {
	t.Parallel()
	s, err := schema.Compile(`{"type":"array","items":{"type":"object"}}`)
	if err != nil {
		t.Fatal(err)
	}
	v, _ := value.ParseJSON(`[{"a":[{"b":1}]},{"c":2}]`)
	before := value.EncodeJSON(v)
	if err := s.Validate(v); err != nil {
		t.Fatal(err)
	}
	if _, ok := v.([]any)[0].(*value.Object); !ok || value.EncodeJSON(v) != before {
		t.Errorf("value changed: %s", value.EncodeJSON(v))
	}
}

func TestErrorNamesAtMostFiveViolations(t *testing.T) {
	t.Parallel()
	s, _ := schema.Compile(`{"type":"array","items":{"type":"string"}}`)
	v, _ := value.ParseJSON(`[1,2,3,4,5,6,7]`)
	err := s.Validate(v)
	if err == nil || !strings.Contains(err.Error(), "at /4:") || strings.Contains(err.Error(), "at /5:") || !strings.HasSuffix(err.Error(), "and 2 more") {
		t.Errorf("err = %v", err)
	}
}

// TestSampleSchemas compiles every jsonSchema of the exported samples and
// checks the draft read from each, and that each sample's default values
// are valid.
func TestSampleSchemas(t *testing.T) {
	t.Parallel()
	files, _ := filepath.Glob("../../../shared/samples/*.json")
	if len(files) == 0 {
		t.Skip("no shared samples beside this checkout")
	}
	n := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			IntegrationParameters []struct {
				Key          string
				JSONSchema   string `json:"jsonSchema"`
				DefaultValue struct {
					JSONValue *string `json:"jsonValue"`
				} `json:"defaultValue"`
			} `json:"integrationParameters"`
		}
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, p := range doc.IntegrationParameters {
			if p.JSONSchema == "" {
				continue
			}
			n++
			s, err := schema.Compile(p.JSONSchema)
			if err != nil {
				t.Errorf("%s %s: %v", filepath.Base(f), p.Key, err)
				continue
			}
			want := "draft-07"
			if strings.Contains(p.JSONSchema, "draft-04") {
				want = "draft-04"
			}
			if s.Draft() != want {
				t.Errorf("%s %s: draft %s, want %s", filepath.Base(f), p.Key, s.Draft(), want)
			}
			if p.DefaultValue.JSONValue != nil {
				v, err := value.ParseLenientJSON(*p.DefaultValue.JSONValue)
				if err == nil && v != nil {
					if err := s.Validate(v); err != nil {
						t.Logf("%s %s: default does not match its schema: %v", filepath.Base(f), p.Key, err)
					}
				}
			}
		}
	}
	if n < 20 {
		t.Errorf("only %d schemas found in the samples", n)
	}
}

func BenchmarkValidate(b *testing.B) {
	s, err := schema.Compile(`{"$schema":"http://json-schema.org/draft-04/schema#","type":"object","properties":{"lines":{"type":"array","items":{"type":"object","properties":{"qty":{"type":"integer"},"sku":{"type":"string"}}}}}}`)
	if err != nil {
		b.Fatal(err)
	}
	v, _ := value.ParseJSON(`{"lines":[{"qty":1,"sku":"A"},{"qty":2,"sku":"B"},{"qty":3,"sku":"C"}]}`)
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Validate(v); err != nil {
			b.Fatal(err)
		}
	}
}

// Package schema validates integrationd's JSON values against the JSON
// Schemas that variables declare (integrationParameters[].jsonSchema).
//
// A schema is compiled once, when its version is compiled, and validates
// many values. Drafts 04, 06, 07, 2019-09 and 2020-12 are understood; the
// draft is the one the schema's "$schema" names, draft-07 when it names
// none or one this package does not know. Real exports are accepted as
// they come: text after the schema's closing brace is ignored, Gson-lenient
// JSON (single quotes, comments, trailing commas) is accepted, and a
// "pattern" that Go's RE2 syntax cannot express (lookarounds,
// backreferences) is not asserted. Schemas never load anything: a "$ref"
// to another document is a compile error.
//
// The package hides the JSON Schema library: callers see *Schema and
// *ValidationError only.
package schema

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/integrationd/integrationd/internal/value"
)

// Schema is a compiled JSON Schema. It is immutable and safe for
// concurrent use.
type Schema struct {
	s     *jsonschema.Schema
	draft string
}

// Draft names the draft the schema is read as: "draft-04", "draft-06",
// "draft-07", "2019-09" or "2020-12".
func (s *Schema) Draft() string { return s.draft }

// location is where the schema document lives for the library; nothing is
// ever loaded from it.
const location = "urn:integrationd:variable-schema"

// ErrEmpty is returned by Compile for a blank schema text.
var ErrEmpty = errors.New("empty JSON schema")

// Compile parses and compiles a schema text.
func Compile(text string) (*Schema, error) {
	if strings.TrimSpace(text) == "" {
		return nil, ErrEmpty
	}
	doc, err := parse(text)
	if err != nil {
		return nil, fmt.Errorf("JSON schema is not JSON: %w", err)
	}
	draft := jsonschema.Draft7
	name := "draft-07"
	if obj, ok := doc.(map[string]any); ok {
		if uri, ok := obj["$schema"].(string); ok {
			if d, n, known := draftOf(uri); known {
				draft, name = d, n
			} else {
				// A meta-schema we cannot load: read the schema as draft-07.
				delete(obj, "$schema")
			}
		}
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(draft)
	c.UseLoader(noLoader{})
	c.UseRegexpEngine(lenientRegexp)
	if err := c.AddResource(location, doc); err != nil {
		return nil, fmt.Errorf("JSON schema: %w", err)
	}
	s, err := c.Compile(location)
	if err != nil {
		return nil, fmt.Errorf("invalid JSON schema: %s", compileMessage(err))
	}
	return &Schema{s: s, draft: name}, nil
}

// parse reads the first JSON value of text, strictly when it can and
// Gson-leniently otherwise, ignoring whatever follows it.
func parse(text string) (any, error) {
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	var doc any
	strictErr := dec.Decode(&doc)
	if strictErr == nil {
		return doc, nil
	}
	v, err := value.ParseLenientJSON(text)
	if err != nil {
		var se *value.SyntaxError
		if errors.As(err, &se) && strings.HasSuffix(se.Msg, "after the JSON value") {
			// Lenient JSON followed by junk: keep the value before it.
			if v, err2 := value.ParseLenientJSON(text[:se.Offset]); err2 == nil {
				return toLibrary(v), nil
			}
		}
		return nil, strictErr
	}
	return toLibrary(v), nil
}

// draftOf maps a "$schema" URI to its draft.
func draftOf(uri string) (*jsonschema.Draft, string, bool) {
	u := strings.TrimSpace(uri)
	u = strings.TrimSuffix(u, "#")
	u = strings.TrimPrefix(strings.TrimPrefix(u, "http://"), "https://")
	switch u {
	case "json-schema.org/draft-04/schema":
		return jsonschema.Draft4, "draft-04", true
	case "json-schema.org/draft-06/schema":
		return jsonschema.Draft6, "draft-06", true
	case "json-schema.org/draft-07/schema":
		return jsonschema.Draft7, "draft-07", true
	case "json-schema.org/draft/2019-09/schema":
		return jsonschema.Draft2019, "2019-09", true
	case "json-schema.org/draft/2020-12/schema", "json-schema.org/schema":
		return jsonschema.Draft2020, "2020-12", true
	}
	return nil, "", false
}

type noLoader struct{}

func (noLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("integrationd does not load external schemas (%s)", url)
}

// lenientRegexp compiles a pattern with Go's RE2 syntax; a pattern RE2
// cannot express matches everything rather than failing the schema.
func lenientRegexp(s string) (jsonschema.Regexp, error) {
	if re, err := regexp.Compile(s); err == nil {
		return re, nil
	}
	return anything(s), nil
}

type anything string

func (a anything) String() string          { return string(a) }
func (a anything) MatchString(string) bool { return true }

// compileMessage shortens the library's compile errors.
func compileMessage(err error) string {
	var sve *jsonschema.SchemaValidationError
	if errors.As(err, &sve) {
		var ve *jsonschema.ValidationError
		if errors.As(sve.Err, &ve) {
			return "it does not follow its meta-schema: " + violationsOf(ve).String()
		}
	}
	msg := err.Error()
	return strings.ReplaceAll(msg, location, "the schema")
}

// Violation is one way a value fails its schema.
type Violation struct {
	// Pointer is the RFC 6901 JSON pointer of the failing value inside the
	// validated one ("" for the value itself).
	Pointer string
	// Reason says what is wrong ("got string, want number").
	Reason string
}

func (v Violation) String() string {
	p := v.Pointer
	if p == "" {
		p = "the root"
	}
	return "at " + p + ": " + v.Reason
}

// ValidationError lists the violations of one validation, ordered by
// pointer.
type ValidationError struct {
	Violations []Violation
}

var printer = message.NewPrinter(language.English)

// maxShown bounds the violations Error names.
const maxShown = 5

func (e *ValidationError) Error() string { return violations(e.Violations).String() }

type violations []Violation

func (vs violations) String() string {
	var b strings.Builder
	for i, v := range vs {
		if i == maxShown {
			fmt.Fprintf(&b, "; and %d more", len(vs)-maxShown)
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(v.String())
	}
	return b.String()
}

// Validate checks a JSON value in integrationd's representation (nil,
// bool, float64, string, []any, *value.Object). It returns nil or a
// *ValidationError.
func (s *Schema) Validate(v any) error {
	err := s.s.Validate(toLibrary(v))
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if errors.As(err, &ve) {
		return &ValidationError{Violations: violationsOf(ve)}
	}
	return &ValidationError{Violations: []Violation{{Reason: err.Error()}}}
}

// violationsOf flattens the library's error tree to its leaves: the most
// specific reasons.
func violationsOf(ve *jsonschema.ValidationError) violations {
	var out violations
	seen := map[Violation]bool{}
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) > 0 {
			for _, c := range e.Causes {
				walk(c)
			}
			return
		}
		if _, ok := e.ErrorKind.(*kind.Schema); ok {
			return
		}
		v := Violation{Pointer: pointer(e.InstanceLocation), Reason: e.ErrorKind.LocalizedString(printer)}
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	walk(ve)
	if len(out) == 0 {
		out = append(out, Violation{Reason: ve.Error()})
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Pointer != out[j].Pointer {
			return out[i].Pointer < out[j].Pointer
		}
		return out[i].Reason < out[j].Reason
	})
	return out
}

func pointer(tokens []string) string {
	var b strings.Builder
	for _, t := range tokens {
		b.WriteByte('/')
		t = strings.ReplaceAll(t, "~", "~0")
		b.WriteString(strings.ReplaceAll(t, "/", "~1"))
	}
	return b.String()
}

// toLibrary converts integrationd's JSON representation to the one the
// library walks: objects become map[string]any, arrays are copied when they
// hold objects. The argument is not modified.
func toLibrary(v any) any {
	switch x := v.(type) {
	case *value.Object:
		m := make(map[string]any, x.Len())
		for _, k := range x.Keys() {
			e, _ := x.Get(k)
			m[k] = toLibrary(e)
		}
		return m
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = toLibrary(e)
		}
		return out
	}
	return v
}

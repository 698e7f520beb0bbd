package mapping

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/integrationd/integrationd/internal/spec"
	"github.com/integrationd/integrationd/internal/value"
)

// fixture is one testdata/*.json file: a FieldMappingConfig (an object, or
// the jsonValue string as exports store it), the variables before the run
// and the expected variables (or error) after it.
type fixture struct {
	Description string                     `json:"description"`
	Declare     map[string]string          `json:"declare"`
	Vars        map[string]json.RawMessage `json:"vars"`
	Config      json.RawMessage            `json:"config"`
	Want        map[string]json.RawMessage `json:"want"`
	WantError   string                     `json:"wantError"`
}

// configText is the config as the task parameter's jsonValue holds it.
func (f *fixture) configText() string {
	var s string
	if json.Unmarshal(f.Config, &s) == nil {
		return s
	}
	return string(f.Config)
}

func loadFixtures(t testing.TB) map[string]*fixture {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	out := map[string]*fixture{}
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		f := &fixture{}
		if err := json.Unmarshal(data, f); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out[strings.TrimSuffix(filepath.Base(path), ".json")] = f
	}
	return out
}

func decodeVT(t testing.TB, raw json.RawMessage) value.Value {
	t.Helper()
	var vt spec.ValueType
	if err := spec.Unmarshal(raw, &vt); err != nil {
		t.Fatal(err)
	}
	v, err := value.FromSpec(&vt)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func (f *fixture) env(t testing.TB) *testEnv {
	t.Helper()
	decl := map[string]value.Kind{}
	for k, dt := range f.Declare {
		kind, ok := value.KindOfDataType(dt)
		if !ok {
			t.Fatalf("declare %s: unknown data type %s", k, dt)
		}
		decl[k] = kind
	}
	vals := map[string]value.Value{}
	for k, raw := range f.Vars {
		vals[k] = decodeVT(t, raw)
	}
	return newEnv(t, decl, vals)
}

func TestFixtures(t *testing.T) {
	t.Parallel()
	for name, f := range loadFixtures(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p, err := Compile(f.configText())
			if err != nil {
				t.Fatalf("Compile: %v", err)
			}
			env := f.env(t)
			err = p.Run(t.Context(), env)
			if f.WantError != "" {
				if err == nil || err.Error() != f.WantError {
					t.Fatalf("Run() = %v, want %q", err, f.WantError)
				}
				return
			}
			if err != nil {
				t.Fatalf("Run() = %v", err)
			}
			for k, raw := range f.Want {
				want := decodeVT(t, raw)
				got, _ := env.Lookup(k)
				if !sameValue(got, want) {
					t.Errorf("%s = %s, want %s", k, show(got), show(want))
				}
			}
		})
	}
}

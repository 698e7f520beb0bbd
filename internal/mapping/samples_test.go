package mapping

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// samplesDir holds the reference exports shared by the project (outside
// this repository); the test is skipped when they are absent.
const samplesDir = "../../../shared/samples"

// TestSamplesCompile compiles every FieldMappingConfig found in the shared
// reference exports.
func TestSamplesCompile(t *testing.T) {
	t.Parallel()
	files, _ := filepath.Glob(filepath.Join(samplesDir, "*.json"))
	if len(files) == 0 {
		t.Skip("no shared samples")
	}
	n := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var tree any
		if err := json.Unmarshal(data, &tree); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, cfg := range mappingConfigs(tree) {
			n++
			p, err := Compile(cfg)
			if err != nil {
				t.Errorf("%s: Compile: %v", filepath.Base(f), err)
				continue
			}
			t.Logf("%s:\n%s", filepath.Base(f), p)
		}
	}
	if n == 0 {
		t.Fatal("no FieldMappingConfigTaskParameterKey found in the samples")
	}
}

// mappingConfigs finds the jsonValue of every FieldMappingConfigTaskParameterKey.
func mappingConfigs(n any) []string {
	var out []string
	switch x := n.(type) {
	case map[string]any:
		if x["key"] == "FieldMappingConfigTaskParameterKey" {
			if v, ok := x["value"].(map[string]any); ok {
				if s, ok := v["jsonValue"].(string); ok {
					out = append(out, s)
				}
			}
		}
		for _, v := range x {
			out = append(out, mappingConfigs(v)...)
		}
	case []any:
		for _, v := range x {
			out = append(out, mappingConfigs(v)...)
		}
	}
	return out
}

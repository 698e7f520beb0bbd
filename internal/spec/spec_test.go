package spec_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/integrationd/integrationd/internal/spec"
)

func TestLenientDecoding(t *testing.T) {
	t.Parallel()
	v, err := spec.DecodeVersion([]byte(`{
	  "snapshot_number": 3,
	  "trigger_configs": [{"trigger_id": "api_trigger/x", "triggerNumber": 1, "start_tasks": [{"task_id": 2}], "properties": {"Trigger name": "x", "snake_key": "kept"}}],
	  "taskConfigs": [{"task": "T", "taskId": "2", "position": {"x": "140", "y": -3},
	     "parameters": {"my_param": {"key": "my_param", "value": {"int_value": 12}}},
	     "synchronousCallFailurePolicy": {"retryStrategy": "FIXED_INTERVAL", "maxRetries": "3", "intervalTime": 5}}],
	  "integrationParameters": [{"key": "b", "dataType": "BOOLEAN_VALUE", "isTransient": "true", "defaultValue": {"booleanValue": true}},
	                            {"key": "d", "dataType": "DOUBLE_VALUE", "defaultValue": {"doubleValue": "2.5"}}],
	  "cloudLoggingDetails": {"cloudLoggingSeverity": "", "enableCloudLogging": false},
	  "someFutureField": {"x": 1}
	}`))
	if err != nil {
		t.Fatal(err)
	}
	if v.SnapshotNumber != 3 || v.TriggerConfigs[0].TriggerID != "api_trigger/x" || v.TriggerConfigs[0].TriggerNumber != "1" || v.TriggerConfigs[0].StartTasks[0].TaskID != "2" {
		t.Errorf("trigger: %+v", v.TriggerConfigs)
	}
	if v.TriggerConfigs[0].Properties["snake_key"] != "kept" {
		t.Errorf("map keys must not be renamed: %v", v.TriggerConfigs[0].Properties)
	}
	tc := v.TaskConfigs[0]
	if tc.Position.X != 140 || tc.Position.Y != -3 {
		t.Errorf("position %+v", tc.Position)
	}
	if p := tc.Parameters["my_param"]; p.Value == nil || p.Value.IntValue == nil || *p.Value.IntValue != 12 {
		t.Errorf("param %+v", p)
	}
	if fp := tc.SynchronousCallFailurePolicy; fp.MaxRetries != 3 || fp.IntervalTime != "5" {
		t.Errorf("policy %+v", fp)
	}
	if !bool(v.IntegrationParameters[0].IsTransient) || *v.IntegrationParameters[1].DefaultValue.DoubleValue != 2.5 {
		t.Errorf("params %+v", v.IntegrationParameters)
	}
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	_ = json.Unmarshal(out, &back)
	if back["snapshotNumber"] != "3" {
		t.Errorf("int64 must encode as a string: %s", out)
	}
}

func TestDecodeErrors(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{`[]`, `{"taskConfigs": {}}`, `{"snapshotNumber": "1.5"}`, `{"taskConfigs": [{"position": {"x": "far"}}]}`, `{"triggerConfigs": [{"triggerNumber": {}}]}`} {
		if _, err := spec.DecodeVersion([]byte(bad)); err == nil {
			t.Errorf("DecodeVersion(%s) succeeded, want an error", bad)
		}
	}
}

func TestSamplesDecode(t *testing.T) {
	t.Parallel()
	files, _ := filepath.Glob("../../../shared/samples/*.json")
	if len(files) == 0 {
		t.Skip("skipping: ../shared/samples is not beside this checkout")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		v, err := spec.DecodeVersion(b)
		if err != nil {
			t.Errorf("%s: %v", filepath.Base(f), err)
			continue
		}
		if len(v.TriggerConfigs) == 0 || len(v.TaskConfigs) == 0 {
			t.Errorf("%s: no triggers or tasks decoded", filepath.Base(f))
		}
	}
}

func FuzzDecodeVersion(f *testing.F) {
	files, _ := filepath.Glob("../../../shared/samples/*.json")
	for _, file := range files {
		if b, err := os.ReadFile(file); err == nil && len(b) < 20000 {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"trigger_configs":[{"start_tasks":[{"task_id":1}]}],"taskConfigs":[{"position":{"x":"1"}}]}`))
	f.Add([]byte(`{"snapshotNumber":"9223372036854775807","integrationParameters":[{"defaultValue":{"intArray":{"intValues":["1",2]}}}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := spec.DecodeVersion(b)
		if err != nil {
			return
		}
		// What decodes, encodes and decodes again.
		out, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("encode: %v", err)
		}
		if _, err := spec.DecodeVersion(out); err != nil {
			t.Fatalf("re-decode %s: %v", out, err)
		}
	})
}

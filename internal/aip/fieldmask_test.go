package aip

import (
	"reflect"
	"testing"
)

func TestParseMask(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{" , ,", nil},
		{"description", []string{"description"}},
		{"trigger_configs,taskConfigs", []string{"triggerConfigs", "taskConfigs"}},
		{" description , trigger_configs ", []string{"description", "triggerConfigs"}},
		{"trigger_configs,triggerConfigs", []string{"triggerConfigs"}},
		{"integration_parameters.default_value", []string{"integrationParameters.defaultValue"}},
		{"*", []string{"*"}},
		{"snapshot_number_2", []string{"snapshotNumber2"}},
	}
	for _, tt := range tests {
		if got := ParseMask(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseMask(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestLowerCamel(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"trigger_id", "triggerId"},
		{"triggerId", "triggerId"},
		{"event_execution_state", "eventExecutionState"},
		{"a__b", "aB"},
		{"trailing_", "trailing"},
		{"a_.b", "a.b"},
		{"größe_übung", "größeÜbung"},
	}
	for _, tt := range tests {
		if got := LowerCamel(tt.in); got != tt.want {
			t.Errorf("LowerCamel(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

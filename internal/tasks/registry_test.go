package tasks_test

import (
	"errors"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/integrationd/integrationd/internal/engine"
	"github.com/integrationd/integrationd/internal/spec"
	"github.com/integrationd/integrationd/internal/tasks"
)

// TestCoverageTableMatchesRegistry keeps docs/tasks.md honest: the rows
// marked done are exactly the registered task types.
func TestCoverageTableMatchesRegistry(t *testing.T) {
	b, err := os.ReadFile("../../docs/tasks.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| `([^`]+)`[^|]*\\|[^|]*\\| (done|not yet) \\|")
	var done []string
	for _, m := range row.FindAllStringSubmatch(string(b), -1) {
		if m[2] == "done" {
			done = append(done, m[1])
		}
	}
	sort.Strings(done)
	if got, want := strings.Join(done, ","), strings.Join(tasks.Default().Names(), ","); got != want {
		t.Errorf("docs/tasks.md marks %q done, the registry has %q", got, want)
	}
}

func TestCompileTask(t *testing.T) {
	r := tasks.Default()
	if _, err := r.CompileTask(&spec.TaskConfig{Task: "NoSuchTask", TaskID: "1"}); !errors.Is(err, engine.ErrUnsupported) {
		t.Errorf("unknown task: err = %v, want ErrUnsupported", err)
	}
	if _, err := r.CompileTask(&spec.TaskConfig{Task: "FieldMappingTask", TaskID: "1"}); err == nil || !strings.Contains(err.Error(), "FieldMappingConfigTaskParameterKey is required") {
		t.Errorf("missing parameter: err = %v", err)
	}
	n := spec.Int64(3)
	_, err := r.CompileTask(&spec.TaskConfig{Task: "FieldMappingTask", TaskID: "1", Parameters: map[string]spec.EventParameter{
		"FieldMappingConfigTaskParameterKey": {Key: "FieldMappingConfigTaskParameterKey", Value: &spec.ValueType{IntValue: &n}}}})
	if err == nil || !strings.Contains(err.Error(), "must be a JSON (jsonValue), not a int") {
		t.Errorf("wrong parameter type: err = %v", err)
	}
	bad := `{"mappedFields": [{"inputField": {"transformExpression": {"initialValue": {"referenceValue": "$a$"}, "transformationFunctions": [{"functionType": {"stringFunction": {"functionName": "NO_SUCH_FUNCTION"}}}]}}, "outputField": {"referenceKey": "$b$"}}]}`
	_, err = r.CompileTask(&spec.TaskConfig{Task: "FieldMappingTask", TaskID: "1", Parameters: map[string]spec.EventParameter{
		"FieldMappingConfigTaskParameterKey": {Key: "FieldMappingConfigTaskParameterKey", Value: &spec.ValueType{JSONValue: &bad}}}})
	if err == nil || !strings.Contains(err.Error(), "NO_SUCH_FUNCTION") {
		t.Errorf("bad mapping: err = %v", err)
	}
}

func TestDuplicateRegistrationPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("registering a task type twice did not panic")
		}
	}()
	r := tasks.NewRegistry()
	f := func(*spec.TaskConfig) (engine.Task, error) { return nil, nil }
	r.Register("X", tasks.Spec{}, f)
	r.Register("X", tasks.Spec{}, f)
}

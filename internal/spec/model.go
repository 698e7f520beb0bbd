// Package spec is the integration model exactly as Google's JSON has it:
// IntegrationVersion, TriggerConfig, TaskConfig, IntegrationParameter,
// ValueType and their friends, with lenient decoding (ints as strings,
// string positions, snake_case keys) and proto3 JSON encoding.
//
// Field names and enum strings are Google's; see
// https://cloud.google.com/application-integration/docs/reference/rest/v1/projects.locations.integrations.versions
package spec

import "encoding/json"

// IntegrationVersion is one version of an integration.
type IntegrationVersion struct {
	Name                        string                       `json:"name,omitempty"`
	Description                 string                       `json:"description,omitempty"`
	UserLabel                   string                       `json:"userLabel,omitempty"`
	SnapshotNumber              Int64                        `json:"snapshotNumber,omitempty"`
	TriggerConfigs              []TriggerConfig              `json:"triggerConfigs,omitempty"`
	TaskConfigs                 []TaskConfig                 `json:"taskConfigs,omitempty"`
	IntegrationParameters       []IntegrationParameter       `json:"integrationParameters,omitempty"`
	IntegrationConfigParameters []IntegrationConfigParameter `json:"integrationConfigParameters,omitempty"`
	ErrorCatcherConfigs         []ErrorCatcherConfig         `json:"errorCatcherConfigs,omitempty"`
	DatabasePersistencePolicy   string                       `json:"databasePersistencePolicy,omitempty"`
	CloudLoggingDetails         *CloudLoggingDetails         `json:"cloudLoggingDetails,omitempty"`
	EnableVariableMasking       Bool                         `json:"enableVariableMasking,omitempty"`
	RunAsServiceAccount         string                       `json:"runAsServiceAccount,omitempty"`
	ParentTemplateID            string                       `json:"parentTemplateId,omitempty"`
	CreatedFromTemplate         string                       `json:"createdFromTemplate,omitempty"`
	Origin                      string                       `json:"origin,omitempty"`
	State                       string                       `json:"state,omitempty"`
	Status                      string                       `json:"status,omitempty"`
	Teardown                    json.RawMessage              `json:"teardown,omitempty"`
	CreateTime                  string                       `json:"createTime,omitempty"`
	UpdateTime                  string                       `json:"updateTime,omitempty"`
	LastModifierEmail           string                       `json:"lastModifierEmail,omitempty"`
	LockHolder                  string                       `json:"lockHolder,omitempty"`
}

// Enum values used by the engine.
const (
	PersistenceDisabled = "DATABASE_PERSISTENCE_DISABLED"

	RunAllMatch   = "RUN_ALL_MATCH"
	RunFirstMatch = "RUN_FIRST_MATCH"

	WhenAllSucceed                   = "WHEN_ALL_SUCCEED"
	WhenAnySucceed                   = "WHEN_ANY_SUCCEED"
	WhenAllTasksAndConditionsSucceed = "WHEN_ALL_TASKS_AND_CONDITIONS_SUCCEED"

	RetryIgnore                        = "IGNORE"
	RetryNone                          = "NONE"
	RetryFatal                         = "FATAL"
	RetryFixedInterval                 = "FIXED_INTERVAL"
	RetryLinearBackoff                 = "LINEAR_BACKOFF"
	RetryExponentialBackoff            = "EXPONENTIAL_BACKOFF"
	RetryRestartIntegrationWithBackoff = "RESTART_INTEGRATION_WITH_BACKOFF"
	RetryRestartWorkflowWithBackoff    = "RESTART_WORKFLOW_WITH_BACKOFF"

	TaskTypeNormal = "NORMAL_TASK"
	TaskTypeError  = "ERROR_TASK"
)

// TriggerConfig starts an integration.
type TriggerConfig struct {
	Label                    string                `json:"label,omitempty"`
	Description              string                `json:"description,omitempty"`
	TriggerType              string                `json:"triggerType,omitempty"`
	TriggerNumber            String                `json:"triggerNumber,omitempty"`
	TriggerID                string                `json:"triggerId,omitempty"`
	Trigger                  string                `json:"trigger,omitempty"`
	StartTasks               []NextTask            `json:"startTasks,omitempty"`
	NextTasksExecutionPolicy string                `json:"nextTasksExecutionPolicy,omitempty"`
	Properties               map[string]string     `json:"properties,omitempty"`
	CloudSchedulerConfig     *CloudSchedulerConfig `json:"cloudSchedulerConfig,omitempty"`
	ErrorCatcherID           string                `json:"errorCatcherId,omitempty"`
	InputVariables           *VariableNames        `json:"inputVariables,omitempty"`
	OutputVariables          *VariableNames        `json:"outputVariables,omitempty"`
	AlertConfig              json.RawMessage       `json:"alertConfig,omitempty"`
	Position                 *Coordinate           `json:"position,omitempty"`
}

// CloudSchedulerConfig configures CLOUD_SCHEDULER triggers.
type CloudSchedulerConfig struct {
	CronTab             string `json:"cronTab,omitempty"`
	Location            string `json:"location,omitempty"`
	ServiceAccountEmail string `json:"serviceAccountEmail,omitempty"`
	ErrorMessage        string `json:"errorMessage,omitempty"`
}

// VariableNames lists variable names.
type VariableNames struct {
	Names []string `json:"names,omitempty"`
}

// NextTask is an edge to a task, optionally conditional.
type NextTask struct {
	TaskID       String `json:"taskId,omitempty"`
	Condition    string `json:"condition,omitempty"`
	DisplayName  string `json:"displayName,omitempty"`
	Description  string `json:"description,omitempty"`
	TaskConfigID string `json:"taskConfigId,omitempty"`
}

// Coordinate is a UI position; exports carry it as numbers or strings.
type Coordinate struct {
	X Int32 `json:"x,omitempty"`
	Y Int32 `json:"y,omitempty"`
}

// TaskConfig is one task of the graph.
type TaskConfig struct {
	Task                         string                      `json:"task,omitempty"`
	TaskID                       String                      `json:"taskId,omitempty"`
	DisplayName                  string                      `json:"displayName,omitempty"`
	Description                  string                      `json:"description,omitempty"`
	Parameters                   map[string]EventParameter   `json:"parameters,omitempty"`
	NextTasks                    []NextTask                  `json:"nextTasks,omitempty"`
	NextTasksExecutionPolicy     string                      `json:"nextTasksExecutionPolicy,omitempty"`
	TaskExecutionStrategy        string                      `json:"taskExecutionStrategy,omitempty"`
	FailurePolicy                *FailurePolicy              `json:"failurePolicy,omitempty"`
	SynchronousCallFailurePolicy *FailurePolicy              `json:"synchronousCallFailurePolicy,omitempty"`
	ConditionalFailurePolicies   *ConditionalFailurePolicies `json:"conditionalFailurePolicies,omitempty"`
	SuccessPolicy                *SuccessPolicy              `json:"successPolicy,omitempty"`
	JSONValidationOption         string                      `json:"jsonValidationOption,omitempty"`
	ErrorCatcherID               string                      `json:"errorCatcherId,omitempty"`
	ExternalTaskType             string                      `json:"externalTaskType,omitempty"`
	Position                     *Coordinate                 `json:"position,omitempty"`
	TaskTemplate                 string                      `json:"taskTemplate,omitempty"`
}

// EventParameter is a task parameter.
type EventParameter struct {
	Key    string     `json:"key,omitempty"`
	Value  *ValueType `json:"value,omitempty"`
	Masked Bool       `json:"masked,omitempty"`
}

// FailurePolicy says what happens when a task fails.
type FailurePolicy struct {
	RetryStrategy string `json:"retryStrategy,omitempty"`
	MaxRetries    Int32  `json:"maxRetries,omitempty"`
	// IntervalTime is the initial retry interval: "5" (seconds), "5s", or an
	// RFC 3339 timestamp as newer descriptions have it.
	IntervalTime String `json:"intervalTime,omitempty"`
	Condition    string `json:"condition,omitempty"`
}

// ConditionalFailurePolicies are evaluated in order; the first whose
// condition holds applies, else DefaultFailurePolicy.
type ConditionalFailurePolicies struct {
	FailurePolicies      []FailurePolicy `json:"failurePolicies,omitempty"`
	DefaultFailurePolicy *FailurePolicy  `json:"defaultFailurePolicy,omitempty"`
}

// SuccessPolicy sets the state a task ends in when it succeeds.
type SuccessPolicy struct {
	FinalState string `json:"finalState,omitempty"`
}

// IntegrationParameter declares a variable.
type IntegrationParameter struct {
	Key               string     `json:"key,omitempty"`
	DisplayName       string     `json:"displayName,omitempty"`
	DataType          string     `json:"dataType,omitempty"`
	DefaultValue      *ValueType `json:"defaultValue,omitempty"`
	InputOutputType   string     `json:"inputOutputType,omitempty"`
	IsTransient       Bool       `json:"isTransient,omitempty"`
	JSONSchema        string     `json:"jsonSchema,omitempty"`
	Masked            Bool       `json:"masked,omitempty"`
	Producer          string     `json:"producer,omitempty"`
	Searchable        Bool       `json:"searchable,omitempty"`
	ContainsLargeData Bool       `json:"containsLargeData,omitempty"`
	Description       string     `json:"description,omitempty"`
}

// Input/output directions of a variable.
const (
	InOutIn    = "IN"
	InOutOut   = "OUT"
	InOutInOut = "IN_OUT"
)

// IntegrationConfigParameter declares a config variable and its default value.
type IntegrationConfigParameter struct {
	Parameter IntegrationParameter `json:"parameter"`
	Value     *ValueType           `json:"value,omitempty"`
}

// ErrorCatcherConfig is an error-catcher subgraph.
type ErrorCatcherConfig struct {
	ErrorCatcherID     string      `json:"errorCatcherId,omitempty"`
	ErrorCatcherNumber String      `json:"errorCatcherNumber,omitempty"`
	Label              string      `json:"label,omitempty"`
	Description        string      `json:"description,omitempty"`
	Position           *Coordinate `json:"position,omitempty"`
	StartErrorTasks    []NextTask  `json:"startErrorTasks,omitempty"`
}

// CloudLoggingDetails configures Cloud Logging; integrationd accepts it and
// logs locally.
type CloudLoggingDetails struct {
	CloudLoggingSeverity string `json:"cloudLoggingSeverity,omitempty"`
	EnableCloudLogging   Bool   `json:"enableCloudLogging,omitempty"`
}

// ValueType holds one typed value; exactly one field is set (none for an
// empty parameter).
type ValueType struct {
	StringValue  *string       `json:"stringValue,omitempty"`
	IntValue     *Int64        `json:"intValue,omitempty"`
	DoubleValue  *Double       `json:"doubleValue,omitempty"`
	BooleanValue *Bool         `json:"booleanValue,omitempty"`
	JSONValue    *string       `json:"jsonValue,omitempty"`
	StringArray  *StringArray  `json:"stringArray,omitempty"`
	IntArray     *IntArray     `json:"intArray,omitempty"`
	DoubleArray  *DoubleArray  `json:"doubleArray,omitempty"`
	BooleanArray *BooleanArray `json:"booleanArray,omitempty"`
	// ProtoValue appears in Data Mapping literals (a nested
	// TransformExpression used as a lambda).
	ProtoValue json.RawMessage `json:"protoValue,omitempty"`
}

// StringArray is the stringArray member of ValueType.
type StringArray struct {
	StringValues []string `json:"stringValues,omitempty"`
}

// IntArray is the intArray member of ValueType.
type IntArray struct {
	IntValues []Int64 `json:"intValues,omitempty"`
}

// DoubleArray is the doubleArray member of ValueType.
type DoubleArray struct {
	DoubleValues []Double `json:"doubleValues,omitempty"`
}

// BooleanArray is the booleanArray member of ValueType.
type BooleanArray struct {
	BooleanValues []Bool `json:"booleanValues,omitempty"`
}

// Data types of variables (the user-facing subset of Google's enum).
const (
	TypeString       = "STRING_VALUE"
	TypeInt          = "INT_VALUE"
	TypeDouble       = "DOUBLE_VALUE"
	TypeBoolean      = "BOOLEAN_VALUE"
	TypeStringArray  = "STRING_ARRAY"
	TypeIntArray     = "INT_ARRAY"
	TypeDoubleArray  = "DOUBLE_ARRAY"
	TypeBooleanArray = "BOOLEAN_ARRAY"
	TypeJSON         = "JSON_VALUE"
)

// DecodeVersion decodes an integration version leniently.
func DecodeVersion(data []byte) (*IntegrationVersion, error) {
	var v IntegrationVersion
	if err := Unmarshal(data, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

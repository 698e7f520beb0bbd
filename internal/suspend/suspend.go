// Package suspend is the contract between the tasks that suspend an
// execution (Suspend, Approval, Timer) and the service that keeps their
// suspensions: what a task puts in engine.SuspendRequest.Data.
package suspend

import (
	"encoding/json"
	"fmt"
	"time"
)

// Kinds of suspension (engine.SuspendRequest.Kind).
const (
	KindSuspend  = "SUSPEND"  // SuspendTask: lifted by the API or at expiry
	KindApproval = "APPROVAL" // SuspensionTask: approved or rejected
	KindTimer    = "TIMER"    // a Timer task's pause beyond its synchronous range
)

// Output roles in Data.Outputs.
const (
	OutResult     = "suspensionResult" // STRING: the lift's suspensionResult
	OutIsApproved = "isApproved"       // BOOLEAN: approval outcome
)

// Data is a suspension's request.
type Data struct {
	// ID is the suspension's id, chosen by the task (which may have
	// written it to its suspensionId output).
	ID string `json:"id"`
	// Outputs maps an output role to the variable that receives it.
	Outputs map[string]string `json:"outputs,omitempty"`
	// ExpireAfter, when positive, ends the suspension after that long:
	// lifted if LiftWhenExpired, else rejected.
	ExpireAfter     time.Duration `json:"expireAfter,omitempty"`
	LiftWhenExpired bool          `json:"liftWhenExpired,omitempty"`
	// RemindAfter, when positive, sends the approvers a reminder.
	RemindAfter time.Duration `json:"remindAfter,omitempty"`
	// Due is when a timer lifts itself.
	Due time.Time `json:"due,omitzero"`
	// CustomMessage and Emails: the approval request's text and recipients.
	CustomMessage string   `json:"customMessage,omitempty"`
	Emails        []string `json:"emails,omitempty"`
}

// Encode returns d as SuspendRequest.Data.
func (d *Data) Encode() json.RawMessage {
	b, err := json.Marshal(d)
	if err != nil {
		panic(fmt.Sprintf("suspend: encode: %v", err)) // strings, durations and times only
	}
	return b
}

// Decode reads SuspendRequest.Data.
func Decode(raw json.RawMessage) (*Data, error) {
	var d Data
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &d); err != nil {
			return nil, fmt.Errorf("suspension data: %w", err)
		}
	}
	return &d, nil
}

package tasks

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/integrationd/integrationd/internal/engine"
	"github.com/integrationd/integrationd/internal/spec"
	"github.com/integrationd/integrationd/internal/suspend"
	"github.com/integrationd/integrationd/internal/value"
)

// The tasks that suspend an execution: Suspend (SuspendTask), Approval
// (SuspensionTask) and Timer. Each returns an *engine.SuspendRequest whose
// Data (package suspend) tells the service how to keep the suspension.
const (
	suspendTask  = "SuspendTask"
	approvalTask = "SuspensionTask"
	timerTask    = "TimerTask"

	pSuspensionExpiration = "suspensionExpiration"
	pCustomMessage        = "customMessage"
	pNotifications        = "notifications"
	pSuspensionID         = "suspensionId"
	pIsApproved           = "isApproved"
)

// timerSyncLimit: a shorter timer pauses inside the run (Google: "under 60
// seconds the suspend state is consistent with synchronous execution").
const timerSyncLimit = 60 * time.Second

func registerSuspensions(r *Registry) {
	expDoc := "SuspensionExpiration jsonValue: {expireAfterMs, liftWhenExpired, remindAfterMs}."
	r.Register(suspendTask, Spec{
		Summary: "Suspend: suspends the execution until suspensions:lift (its suspensionResult goes to the output) or the expiry.",
		DocURL:  "https://cloud.google.com/application-integration/docs/run-suspend-task",
		Params: []Param{
			{Key: pSuspensionExpiration, Type: value.JSON, Doc: expDoc + " At expiry the suspension is lifted."},
			{Key: pSuspensionID, Type: value.StringArray, Doc: "Output: the suspension id, `Task_N_suspensionId` by default."},
			{Key: suspend.OutResult, Type: value.StringArray, Doc: "Output: the lift's suspensionResult, `Task_N_suspensionResult` by default."},
		},
	}, newSuspend)
	r.Register(approvalTask, Spec{
		Summary: "Approval: suspends the execution until the approvers (emailed) approve or reject it; isApproved holds the outcome.",
		DocURL:  "https://cloud.google.com/application-integration/docs/approval-task",
		Params: []Param{
			{Key: pCustomMessage, Type: value.String, Doc: "Message of the approval request ($var$ templates)."},
			{Key: pNotifications, Type: value.JSON, Doc: "{protoValues: [{emailAddress: {email}}]}: the approvers."},
			{Key: pSuspensionExpiration, Type: value.JSON, Doc: expDoc + " At expiry: rejected, or approved if liftWhenExpired."},
			{Key: pIsApproved, Type: value.StringArray, Doc: "Output (BOOLEAN): the outcome, `Task_N_isApproved` by default."},
		},
	}, newApproval)
	r.Register(timerTask, Spec{
		Summary: "Timer: pauses the execution for a time (under 60 s inside the run, longer as a suspension resumed by the queue).",
		DocURL:  "https://cloud.google.com/application-integration/docs/run-timer-task",
		Params: []Param{
			{Key: "timeoutAfter", Type: value.Null, Doc: "How long to wait (also accepted as `timeout`); default 120."},
			{Key: "timeUnit", Type: value.String, Doc: "SECONDS (default), MINUTES, HOURS or DAYS."},
		},
	}, newTimer)
}

// expiration reads suspensionExpiration.
func expiration(cfg *spec.TaskConfig, d *suspend.Data) error {
	v, err := param(cfg, pSuspensionExpiration)
	if err != nil || v.IsNull() {
		return err
	}
	j := v.ToJSON()
	if v.Kind() == value.String {
		if strings.TrimSpace(v.Str()) == "" {
			return nil
		}
		if j, err = value.ParseLenientJSON(v.Str()); err != nil {
			return fmt.Errorf("parameter %s: %w", pSuspensionExpiration, err)
		}
	}
	num := func(key string) (time.Duration, error) {
		x, ok := value.GetPath(j, value.Path{{Key: key}})
		if !ok || x == nil {
			return 0, nil
		}
		var ms int64
		switch n := x.(type) {
		case float64:
			ms = int64(n)
		case string:
			if ms, err = strconv.ParseInt(strings.TrimSpace(n), 10, 64); err != nil {
				return 0, fmt.Errorf("parameter %s: %s: %q is not milliseconds", pSuspensionExpiration, key, n)
			}
		default:
			return 0, fmt.Errorf("parameter %s: %s is not a number", pSuspensionExpiration, key)
		}
		if ms < 0 {
			return 0, fmt.Errorf("parameter %s: %s must not be negative", pSuspensionExpiration, key)
		}
		return time.Duration(ms) * time.Millisecond, nil
	}
	if d.ExpireAfter, err = num("expireAfterMs"); err != nil {
		return err
	}
	if d.RemindAfter, err = num("remindAfterMs"); err != nil {
		return err
	}
	if b, ok := value.GetPath(j, value.Path{{Key: "liftWhenExpired"}}); ok {
		d.LiftWhenExpired = b == true || b == "true"
	}
	return nil
}

type suspendTaskImpl struct {
	data   suspend.Data // ID set per execution
	idRef  value.Ref
	result value.Ref
}

func newSuspend(cfg *spec.TaskConfig) (engine.Task, error) {
	t := &suspendTaskImpl{}
	if err := expiration(cfg, &t.data); err != nil {
		return nil, err
	}
	var err error
	id := string(cfg.TaskID)
	if t.idRef, err = outputRef(cfg, pSuspensionID, id); err != nil {
		return nil, err
	}
	if t.result, err = outputRef(cfg, suspend.OutResult, id); err != nil {
		return nil, err
	}
	t.data.Outputs = map[string]string{suspend.OutResult: t.result.Name}
	return t, nil
}

func (t *suspendTaskImpl) Execute(_ context.Context, tc *engine.TaskContext) error {
	d := t.data
	d.ID = uuid.NewString()
	if err := setRef(tc.Vars, t.idRef, value.Str(d.ID)); err != nil {
		return err
	}
	return &engine.SuspendRequest{Kind: suspend.KindSuspend, Data: d.Encode()}
}

type approvalTaskImpl struct {
	data    suspend.Data
	message *value.Template
	emails  []string
}

func newApproval(cfg *spec.TaskConfig) (engine.Task, error) {
	t := &approvalTaskImpl{}
	if err := expiration(cfg, &t.data); err != nil {
		return nil, err
	}
	var err error
	if t.message, err = templateParam(cfg, pCustomMessage); err != nil {
		return nil, err
	}
	nv, err := param(cfg, pNotifications)
	if err != nil {
		return nil, err
	}
	if t.emails, err = notificationEmails(nv); err != nil {
		return nil, err
	}
	out, err := outputRef(cfg, pIsApproved, string(cfg.TaskID))
	if err != nil {
		return nil, err
	}
	t.data.Outputs = map[string]string{suspend.OutIsApproved: out.Name}
	return t, nil
}

// notificationEmails reads {protoValues: [{emailAddress: {email}}]}.
func notificationEmails(v value.Value) ([]string, error) {
	if v.IsNull() {
		return nil, nil
	}
	text := v.Text()
	if strings.TrimSpace(text) == "" || strings.TrimSpace(text) == "null" {
		return nil, nil
	}
	var n struct {
		ProtoValues []struct {
			EmailAddress struct {
				Email string `json:"email"`
			} `json:"emailAddress"`
		} `json:"protoValues"`
	}
	if err := json.Unmarshal([]byte(text), &n); err != nil {
		return nil, fmt.Errorf("parameter %s: %w", pNotifications, err)
	}
	var out []string
	for _, p := range n.ProtoValues {
		if e := strings.TrimSpace(p.EmailAddress.Email); e != "" {
			out = append(out, e)
		}
	}
	return out, nil
}

func (t *approvalTaskImpl) Execute(_ context.Context, tc *engine.TaskContext) error {
	d := t.data
	d.ID = uuid.NewString()
	d.CustomMessage = t.message.Render(tc.Vars)
	d.Emails = t.emails
	return &engine.SuspendRequest{Kind: suspend.KindApproval, Data: d.Encode()}
}

type timerTaskImpl struct{ wait time.Duration }

func newTimer(cfg *spec.TaskConfig) (engine.Task, error) {
	n := int64(120)
	for _, k := range []string{"timeoutAfter", "timeout", "Timeout after"} {
		v, err := param(cfg, k)
		if err != nil {
			return nil, err
		}
		if v.IsNull() {
			continue
		}
		switch v.Kind() {
		case value.Int:
			n = v.Int()
		case value.Double:
			n = int64(v.Double())
		default:
			if n, err = strconv.ParseInt(strings.TrimSpace(v.Text()), 10, 64); err != nil {
				return nil, fmt.Errorf("parameter %s: %q is not a whole number", k, v.Text())
			}
		}
		break
	}
	unit := time.Second
	uv, err := param(cfg, "timeUnit")
	if err != nil {
		return nil, err
	}
	switch u := strings.ToUpper(strings.TrimSpace(uv.Str())); u {
	case "", "SECONDS", "SECOND":
	case "MINUTES", "MINUTE":
		unit = time.Minute
	case "HOURS", "HOUR":
		unit = time.Hour
	case "DAYS", "DAY":
		unit = 24 * time.Hour
	default:
		return nil, fmt.Errorf("parameter timeUnit must be SECONDS, MINUTES, HOURS or DAYS, not %q", uv.Str())
	}
	if n < 0 || time.Duration(n)*unit > 31*24*time.Hour {
		return nil, fmt.Errorf("the timer must wait between 0 and 31 days (44640 minutes)")
	}
	return &timerTaskImpl{wait: time.Duration(n) * unit}, nil
}

func (t *timerTaskImpl) Execute(ctx context.Context, tc *engine.TaskContext) error {
	if t.wait < timerSyncLimit {
		timer := time.NewTimer(t.wait)
		defer timer.Stop()
		select {
		case <-timer.C:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	d := suspend.Data{ID: uuid.NewString(), Due: tc.Now().Add(t.wait)}
	return &engine.SuspendRequest{Kind: suspend.KindTimer, Data: d.Encode()}
}

package service

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/google/uuid"

	"github.com/integrationd/integrationd/internal/rpc"
	"github.com/integrationd/integrationd/internal/store"
)

// Replay modes.
const (
	ReplayFromBeginning  = "REPLAY_MODE_FROM_BEGINNING"
	ReplayPointOfFailure = "REPLAY_MODE_POINT_OF_FAILURE"
)

// ReplayResponse is ReplayExecutionResponse.
type ReplayResponse struct {
	ExecutionID         string          `json:"executionId"`
	ReplayedExecutionID string          `json:"replayedExecutionId"`
	OutputParameters    json.RawMessage `json:"outputParameters,omitempty"`
}

// Replay runs an ended execution again, from the beginning, with its
// version, trigger and request parameters, and in its execution strategy:
// an execution that came through :execute runs synchronously and the
// answer carries its outputs; a queued one (scheduled, async, cron) is
// queued again. The new execution records replayInfo.
func (s *Service) Replay(ctx context.Context, k store.IntegrationKey, id, reason, mode string) (*ReplayResponse, error) {
	if strings.TrimSpace(reason) == "" {
		return nil, rpc.InvalidArgument("replay_reason", "replay_reason is required")
	}
	switch mode {
	case "", "REPLAY_MODE_UNSPECIFIED", ReplayFromBeginning:
		mode = ReplayFromBeginning
	case ReplayPointOfFailure:
		return nil, rpc.Errorf(rpc.CodeUnimplemented, "replay from the point of failure is not supported by integrationd: a failed run keeps no saved state to continue from; replay %s", ReplayFromBeginning)
	default:
		return nil, rpc.InvalidArgument("replay_mode", "unknown replay mode %q (%s or %s)", mode, ReplayFromBeginning, ReplayPointOfFailure)
	}
	view, err := s.GetExecution(ctx, k, id)
	if err != nil {
		return nil, err
	}
	e := view.Execution
	if !terminal(e.State) {
		return nil, rpc.Errorf(rpc.CodeFailedPrecondition, "execution %s is %s: only ended executions can be replayed", id, e.State)
	}
	sync := e.ExecutionMethod == "POST"
	p := &runPayload{Mode: "ASYNC"}
	if sync {
		p.Mode = "SYNC"
	}
	es, err := s.specFromRecord(ctx, e, p)
	if err != nil {
		return nil, rpc.Errorf(rpc.CodeFailedPrecondition, "execution %s cannot be replayed: %v", id, err)
	}
	es.id, es.requestID, es.created = uuid.NewString(), "", s.cfg.Now().UTC()
	es.replay = &replayInfo{Original: id, Mode: mode, Reason: reason}
	if !sync {
		if err := s.enqueueRuns(ctx, []*execSpec{es}, es.created); err != nil {
			return nil, err
		}
		return &ReplayResponse{ExecutionID: es.id, ReplayedExecutionID: id}, nil
	}
	r, err := s.runSync(ctx, &ExecuteRequest{Key: k, TriggerID: es.trigger}, es, true).result()
	if err != nil {
		return nil, err
	}
	return &ReplayResponse{ExecutionID: es.id, ReplayedExecutionID: id, OutputParameters: r.OutputParameters}, nil
}

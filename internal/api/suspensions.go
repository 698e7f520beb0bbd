package api

import (
	"net/http"
	"strings"

	"github.com/integrationd/integrationd/internal/auth"
	"github.com/integrationd/integrationd/internal/rpc"
	"github.com/integrationd/integrationd/internal/service"
	"github.com/integrationd/integrationd/internal/value"
)

// GET .../executions/{execution}/suspensions
func (s *Server) listSuspensions(w http.ResponseWriter, r *http.Request) {
	k := key(r, r.PathValue("integration"))
	exec := r.PathValue("execution")
	if !s.allow(w, r, auth.SuspensionsList, service.ExecutionName(k, exec)) {
		return
	}
	vs, err := s.svc.ListSuspensions(r.Context(), k, exec)
	if err != nil {
		rpc.WriteError(w, err)
		return
	}
	arr := make([]any, len(vs))
	for i, v := range vs {
		arr[i] = v.Doc
	}
	resp := value.NewObject(1)
	resp.Set("suspensions", arr)
	writeDoc(w, resp)
}

// POST .../executions/{execution}/suspensions/{suspension}:lift|:resolve
func (s *Server) suspensionVerb(w http.ResponseWriter, r *http.Request) {
	k := key(r, r.PathValue("integration"))
	exec := r.PathValue("execution")
	id, verb := splitVerb(r.PathValue("target"))
	name := service.ExecutionName(k, exec) + "/suspensions/" + id
	switch verb {
	case "lift":
		p, ok := s.allowAs(w, r, auth.SuspensionsLift, name)
		if !ok {
			return
		}
		var b struct {
			SuspensionResult string `json:"suspensionResult"`
		}
		if !s.decode(w, r, &b) {
			return
		}
		if err := s.svc.SettleSuspension(r.Context(), k, exec, id, service.Settle{Lifted: true, Result: b.SuspensionResult, Resolver: p.Name, Via: "lift"}); err != nil {
			rpc.WriteError(w, err)
			return
		}
		rpc.WriteJSON(w, http.StatusOK, map[string]string{"eventExecutionInfoId": exec})
	case "resolve":
		p, ok := s.allowAs(w, r, auth.SuspensionsResolve, name)
		if !ok {
			return
		}
		var b struct {
			Suspension *struct {
				State string `json:"state"`
			} `json:"suspension"`
		}
		if !s.decode(w, r, &b) {
			return
		}
		if b.Suspension == nil {
			rpc.WriteError(w, rpc.InvalidArgument("suspension", "suspension is required, with state LIFTED (approve) or REJECTED"))
			return
		}
		var lifted bool
		switch strings.ToUpper(b.Suspension.State) {
		case "LIFTED":
			lifted = true
		case "REJECTED":
		default:
			rpc.WriteError(w, rpc.InvalidArgument("suspension.state", "state must be LIFTED (approve) or REJECTED, not %q", b.Suspension.State))
			return
		}
		if err := s.svc.SettleSuspension(r.Context(), k, exec, id, service.Settle{Lifted: lifted, Resolver: p.Name, Via: "resolve"}); err != nil {
			rpc.WriteError(w, err)
			return
		}
		rpc.WriteJSON(w, http.StatusOK, map[string]string{})
	default:
		rpc.WriteError(w, rpc.Errorf(rpc.CodeNotFound, "unknown method %q on suspensions (lift, resolve)", verb))
	}
}

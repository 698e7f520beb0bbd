package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/integrationd/integrationd/internal/aip"
	"github.com/integrationd/integrationd/internal/auth"
	"github.com/integrationd/integrationd/internal/rpc"
	"github.com/integrationd/integrationd/internal/service"
	"github.com/integrationd/integrationd/internal/spec"
	"github.com/integrationd/integrationd/internal/store"
	"github.com/integrationd/integrationd/internal/value"
)

// --- integrations ---------------------------------------------------------

func (s *Server) integrationVerb(w http.ResponseWriter, r *http.Request) {
	name, verb := splitVerb(r.PathValue("target"))
	s.dispatchIntegration(w, r, name, verb)
}

// integrationSubVerb serves ".../integrations/{i}/:execute" (integrationcli's
// form) and ".../integrations/{i}/versions:upload".
func (s *Server) integrationSubVerb(w http.ResponseWriter, r *http.Request) {
	target := r.PathValue("target")
	switch {
	case strings.HasPrefix(target, ":"):
		s.dispatchIntegration(w, r, r.PathValue("integration"), target[1:])
	case target == "versions:upload":
		s.uploadVersion(w, r)
	default:
		rpc.WriteError(w, rpc.Errorf(rpc.CodeNotFound, "no method matches POST %s", r.URL.Path))
	}
}

func (s *Server) dispatchIntegration(w http.ResponseWriter, r *http.Request, name, verb string) {
	switch verb {
	case "execute":
		s.execute(w, r, name)
	case "schedule":
		s.schedule(w, r, name)
	case "test", "executeEvent":
		if !s.allow(w, r, auth.IntegrationsInvoke, service.IntegrationName(key(r, name))) {
			return
		}
		rpc.WriteError(w, rpc.Errorf(rpc.CodeUnimplemented, "method %s is not implemented by integrationd yet", verb))
	case "":
		rpc.WriteError(w, rpc.Errorf(rpc.CodeNotFound, "POST %s: a custom method (such as :execute) is required", r.URL.Path))
	default:
		rpc.WriteError(w, rpc.Errorf(rpc.CodeNotFound, "unknown method %q on integration %s", verb, name))
	}
}

func (s *Server) listIntegrations(w http.ResponseWriter, r *http.Request) {
	par := parent(r)
	q, size, ok := s.listRequest(w, r, auth.IntegrationsList, par)
	if !ok {
		return
	}
	iq := store.IntegrationQuery{Project: r.PathValue("project"), Location: r.PathValue("location"), Limit: size + 1}
	filter := q.Get("filter")
	if f, err := aip.Parse(filter); err != nil {
		rpc.WriteError(w, err)
		return
	} else if f != nil {
		cs, ok := aip.Conjuncts(f)
		if !ok {
			rpc.WriteError(w, rpc.InvalidArgument("filter", "only AND of comparisons on name is supported"))
			return
		}
		for _, c := range cs {
			if c.Field != "name" && c.Field != "display_name" {
				rpc.WriteError(w, rpc.InvalidArgument("filter", "cannot filter integrations on %q (supported: name)", c.Field))
				return
			}
			val := c.Value
			if i := strings.LastIndex(val, "/integrations/"); i >= 0 {
				val = val[i+len("/integrations/"):]
			}
			switch c.Op {
			case "=":
				iq.NameEquals = val
			case ":":
				iq.NameContains = strings.Trim(val, "*")
			default:
				rpc.WriteError(w, rpc.InvalidArgument("filter", "operator %s is not supported on name (use = or :)", c.Op))
				return
			}
		}
	}
	sum := aip.Checksum(par, filter, q.Get("orderBy"))
	if tok := q.Get("pageToken"); tok != "" {
		after, err := aip.DecodeToken(tok, sum)
		if err != nil {
			rpc.WriteError(w, err)
			return
		}
		iq.After = after
	}
	is, err := s.svc.ListIntegrations(r.Context(), iq)
	if err != nil {
		rpc.WriteError(w, err)
		return
	}
	type integ struct {
		Name        string `json:"name"`
		Description string `json:"description,omitempty"`
		UpdateTime  string `json:"updateTime,omitempty"`
		Active      bool   `json:"active"`
	}
	resp := struct {
		Integrations  []integ `json:"integrations"`
		NextPageToken string  `json:"nextPageToken,omitempty"`
	}{Integrations: []integ{}}
	if len(is) > size {
		is = is[:size]
		resp.NextPageToken = aip.EncodeToken(is[size-1].Key.Name, sum)
	}
	for _, i := range is {
		resp.Integrations = append(resp.Integrations, integ{Name: service.IntegrationName(i.Key), Description: i.Description,
			UpdateTime: i.UpdateTime.UTC().Format(time.RFC3339Nano), Active: i.ActiveVersion != ""})
	}
	rpc.WriteJSON(w, http.StatusOK, resp)
}

func (s *Server) deleteIntegration(w http.ResponseWriter, r *http.Request) {
	k := key(r, r.PathValue("integration"))
	if !s.allow(w, r, auth.IntegrationsDelete, service.IntegrationName(k)) {
		return
	}
	if err := s.svc.DeleteIntegration(r.Context(), k); err != nil {
		rpc.WriteError(w, err)
		return
	}
	writeEmpty(w)
}

// listRequest checks the permission of a list method and reads its page
// size (default 50, at most 1000, as Google's list methods document).
func (s *Server) listRequest(w http.ResponseWriter, r *http.Request, permission, resource string) (url.Values, int, bool) {
	if !s.allow(w, r, permission, resource) {
		return nil, 0, false
	}
	q := r.URL.Query()
	size, err := aip.PageSize(int32Param(q.Get("pageSize")), 50, 1000)
	if err != nil {
		rpc.WriteError(w, err)
		return nil, 0, false
	}
	return q, size, true
}

func int32Param(s string) int32 {
	if s == "" {
		return 0
	}
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil {
		return -1
	}
	return int32(n)
}

// --- execute --------------------------------------------------------------

// bodyInputs merges the three forms of the inputs of :execute and
// :schedule (see service.Inputs). The fields are repeated in each body
// rather than embedded: the lenient decoder maps snake_case keys through
// the body's own fields.
func bodyInputs(in map[string]*spec.ValueType, p *legacyParams, entries []service.LegacyParam) (map[string]*spec.ValueType, error) {
	var legacy []service.LegacyParam
	if p != nil {
		legacy = p.Parameters
	}
	return service.Inputs(in, legacy, entries)
}

type executeBody struct {
	TriggerID        string                     `json:"triggerId"`
	InputParameters  map[string]*spec.ValueType `json:"inputParameters"`
	Parameters       *legacyParams              `json:"parameters"`
	ParameterEntries []service.LegacyParam      `json:"parameterEntries"`
	RequestID        string                     `json:"requestId"`
	// DoNotPropagateError: see ExecuteIntegrationsRequest.
	DoNotPropagateError spec.Bool `json:"doNotPropagateError"`
	ExecutionID         string    `json:"executionId"`
}

type legacyParams struct {
	Parameters []service.LegacyParam `json:"parameters"`
}

func (s *Server) execute(w http.ResponseWriter, r *http.Request, name string) {
	k := key(r, name)
	if !s.allow(w, r, auth.IntegrationsInvoke, service.IntegrationName(k)) {
		return
	}
	var b executeBody
	if !s.decode(w, r, &b) {
		return
	}
	inputs, err := bodyInputs(b.InputParameters, b.Parameters, b.ParameterEntries)
	if err != nil {
		rpc.WriteError(w, err)
		return
	}
	resp, err := s.svc.Execute(r.Context(), &service.ExecuteRequest{
		Key: k, TriggerID: b.TriggerID, Inputs: inputs, RequestID: b.RequestID,
		DoNotPropagateError: bool(b.DoNotPropagateError), ExecutionID: b.ExecutionID,
		LegacyEntries: len(b.ParameterEntries) > 0,
	})
	if err != nil {
		rpc.WriteError(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_, _ = w.Write(resp.AppendJSON(make([]byte, 0, 1024)))
}

type scheduleBody struct {
	TriggerID                string                     `json:"triggerId"`
	InputParameters          map[string]*spec.ValueType `json:"inputParameters"`
	Parameters               *legacyParams              `json:"parameters"`
	ParameterEntries         []service.LegacyParam      `json:"parameterEntries"`
	RequestID                string                     `json:"requestId"`
	ScheduleTime             string                     `json:"scheduleTime"`
	UserGeneratedExecutionID string                     `json:"userGeneratedExecutionId"`
}

func (s *Server) schedule(w http.ResponseWriter, r *http.Request, name string) {
	k := key(r, name)
	if !s.allow(w, r, auth.IntegrationsInvoke, service.IntegrationName(k)) {
		return
	}
	var b scheduleBody
	if !s.decode(w, r, &b) {
		return
	}
	inputs, err := bodyInputs(b.InputParameters, b.Parameters, b.ParameterEntries)
	if err != nil {
		rpc.WriteError(w, err)
		return
	}
	var at time.Time
	if b.ScheduleTime != "" {
		if at, err = time.Parse(time.RFC3339Nano, b.ScheduleTime); err != nil {
			rpc.WriteError(w, rpc.InvalidArgument("schedule_time", "%q is not an RFC 3339 timestamp such as 2026-01-02T15:04:05Z", b.ScheduleTime))
			return
		}
	}
	ids, err := s.svc.Schedule(r.Context(), &service.ScheduleRequest{Key: k, TriggerID: b.TriggerID, Inputs: inputs,
		RequestID: b.RequestID, ScheduleTime: at, ExecutionID: b.UserGeneratedExecutionID})
	if err != nil {
		rpc.WriteError(w, err)
		return
	}
	rpc.WriteJSON(w, http.StatusOK, map[string][]string{"executionInfoIds": ids})
}

// --- versions -------------------------------------------------------------

func (s *Server) createVersion(w http.ResponseWriter, r *http.Request) {
	k := key(r, r.PathValue("integration"))
	if !s.allow(w, r, auth.IntegrationVersionsCreate, service.IntegrationName(k)) {
		return
	}
	body, ok := s.readBody(w, r)
	if !ok {
		return
	}
	v, err := s.svc.CreateVersion(r.Context(), k, body)
	if err != nil {
		rpc.WriteError(w, err)
		return
	}
	writeDoc(w, v.Doc)
}

func (s *Server) uploadVersion(w http.ResponseWriter, r *http.Request) {
	k := key(r, r.PathValue("integration"))
	if !s.allow(w, r, auth.IntegrationVersionsCreate, service.IntegrationName(k)) {
		return
	}
	var b struct {
		Content    string `json:"content"`
		FileFormat string `json:"fileFormat"`
	}
	if !s.decode(w, r, &b) {
		return
	}
	if b.FileFormat == "YAML" {
		rpc.WriteError(w, rpc.InvalidArgument("file_format", "YAML uploads are not supported; use JSON"))
		return
	}
	v, err := s.svc.UploadVersion(r.Context(), k, b.Content)
	if err != nil {
		rpc.WriteError(w, err)
		return
	}
	resp := value.NewObject(1)
	resp.Set("integrationVersion", v.Doc)
	writeDoc(w, resp)
}

func (s *Server) getVersion(w http.ResponseWriter, r *http.Request) {
	k := key(r, r.PathValue("integration"))
	id, verb := splitVerb(r.PathValue("target"))
	if !s.allow(w, r, auth.IntegrationVersionsGet, service.VersionName(k, id)) {
		return
	}
	switch verb {
	case "":
		v, err := s.svc.GetVersion(r.Context(), k, id)
		if err != nil {
			rpc.WriteError(w, err)
			return
		}
		writeDoc(w, v.Doc)
	case "download":
		if f := r.URL.Query().Get("fileFormat"); f == "YAML" {
			rpc.WriteError(w, rpc.InvalidArgument("file_format", "YAML downloads are not supported; use JSON"))
			return
		}
		content, err := s.svc.DownloadVersion(r.Context(), k, id)
		if err != nil {
			rpc.WriteError(w, err)
			return
		}
		rpc.WriteJSON(w, http.StatusOK, map[string]string{"content": content})
	default:
		rpc.WriteError(w, rpc.Errorf(rpc.CodeNotFound, "unknown method %q on versions", verb))
	}
}

func (s *Server) listVersions(w http.ResponseWriter, r *http.Request) {
	k := key(r, r.PathValue("integration"))
	par := service.IntegrationName(k)
	q, size, ok := s.listRequest(w, r, auth.IntegrationVersionsList, par)
	if !ok {
		return
	}
	vq := store.VersionQuery{Key: k, Limit: size}
	filter, order := q.Get("filter"), q.Get("orderBy")
	if err := versionFilter(filter, &vq); err != nil {
		rpc.WriteError(w, err)
		return
	}
	if err := versionOrder(order, &vq); err != nil {
		rpc.WriteError(w, err)
		return
	}
	sum := aip.Checksum(par, filter, order)
	if tok := q.Get("pageToken"); tok != "" {
		off, err := aip.DecodeToken(tok, sum)
		if err == nil {
			vq.Offset, err = strconv.Atoi(off)
		}
		if err != nil {
			rpc.WriteError(w, rpc.InvalidArgument("page_token", "invalid page token"))
			return
		}
	}
	vs, total, err := s.svc.ListVersions(r.Context(), vq)
	if err != nil {
		rpc.WriteError(w, err)
		return
	}
	resp := value.NewObject(3)
	arr := make([]any, len(vs))
	for i, v := range vs {
		arr[i] = v.Doc
	}
	resp.Set("integrationVersions", arr)
	if next := vq.Offset + len(vs); next < total {
		resp.Set("nextPageToken", aip.EncodeToken(strconv.Itoa(next), sum))
	}
	resp.Set("noPermission", false)
	writeDoc(w, resp)
}

// equalities parses a filter that may only be an AND of "field = value"
// comparisons; an empty filter gives none.
func equalities(filter string) ([]aip.Compare, error) {
	f, err := aip.Parse(filter)
	if err != nil || f == nil {
		return nil, err
	}
	cs, ok := aip.Conjuncts(f)
	if !ok {
		return nil, rpc.InvalidArgument("filter", "only AND of comparisons is supported")
	}
	for _, c := range cs {
		if c.Op != aip.OpEQ {
			return nil, rpc.InvalidArgument("filter", "operator %s is not supported on %s (use =)", c.Op, c.Field)
		}
	}
	return cs, nil
}

func versionFilter(filter string, vq *store.VersionQuery) error {
	cs, err := equalities(filter)
	if err != nil {
		return err
	}
	for _, c := range cs {
		switch c.Field {
		case "state", "status":
			vq.States = append(vq.States, strings.ToUpper(c.Value))
		case "user_label", "userLabel":
			l := c.Value
			vq.UserLabel = &l
		case "snapshot_number", "snapshotNumber":
			n, err := strconv.ParseInt(c.Value, 10, 64)
			if err != nil {
				return rpc.InvalidArgument("filter", "snapshot_number %q is not an integer", c.Value)
			}
			vq.SnapshotNumber = &n
		default:
			return rpc.InvalidArgument("filter", "cannot filter versions on %q (supported: state, user_label, snapshot_number)", c.Field)
		}
	}
	return nil
}

func versionOrder(order string, vq *store.VersionQuery) error {
	o := strings.TrimSpace(order)
	o = strings.TrimSuffix(strings.TrimSuffix(o, " desc"), " DESC")
	switch strings.TrimSpace(o) {
	case "", "snapshot_number", "snapshotNumber":
		vq.OrderBy = "snapshot_number"
	case "create_time", "created_time", "createTime", "last_modified_time", "update_time", "updateTime":
		vq.OrderBy = "create_time"
	default:
		return rpc.InvalidArgument("order_by", "cannot order versions by %q (supported: snapshot_number, create_time)", order)
	}
	return nil
}

func (s *Server) patchVersion(w http.ResponseWriter, r *http.Request) {
	k := key(r, r.PathValue("integration"))
	id := r.PathValue("version")
	if !s.allow(w, r, auth.IntegrationVersionsUpdate, service.VersionName(k, id)) {
		return
	}
	body, ok := s.readBody(w, r)
	if !ok {
		return
	}
	mask := aip.ParseMask(r.URL.Query().Get("updateMask"))
	if len(mask) == 0 {
		mask = aip.ParseMask(r.URL.Query().Get("update_mask"))
	}
	v, err := s.svc.PatchVersion(r.Context(), k, id, body, mask)
	if err != nil {
		rpc.WriteError(w, err)
		return
	}
	writeDoc(w, v.Doc)
}

func (s *Server) deleteVersion(w http.ResponseWriter, r *http.Request) {
	k := key(r, r.PathValue("integration"))
	id := r.PathValue("version")
	if !s.allow(w, r, auth.IntegrationVersionsDelete, service.VersionName(k, id)) {
		return
	}
	if err := s.svc.DeleteVersion(r.Context(), k, id); err != nil {
		rpc.WriteError(w, err)
		return
	}
	writeEmpty(w)
}

func (s *Server) versionVerb(w http.ResponseWriter, r *http.Request) {
	id, verb := splitVerb(r.PathValue("target"))
	s.dispatchVersion(w, r, id, verb)
}

func (s *Server) versionSlashVerb(w http.ResponseWriter, r *http.Request) {
	target := r.PathValue("target")
	if !strings.HasPrefix(target, ":") {
		rpc.WriteError(w, rpc.Errorf(rpc.CodeNotFound, "no method matches POST %s", r.URL.Path))
		return
	}
	s.dispatchVersion(w, r, r.PathValue("version"), target[1:])
}

func (s *Server) dispatchVersion(w http.ResponseWriter, r *http.Request, id, verb string) {
	k := key(r, r.PathValue("integration"))
	name := service.VersionName(k, id)
	ctx := r.Context()
	switch verb {
	case "publish":
		if !s.allow(w, r, auth.IntegrationVersionsDeploy, name) {
			return
		}
		var b struct {
			ConfigParameters map[string]json.RawMessage `json:"configParameters"`
		}
		if !s.decode(w, r, &b) {
			return
		}
		cfg, err := configParams(b.ConfigParameters)
		if err != nil {
			rpc.WriteError(w, err)
			return
		}
		if err := s.svc.PublishVersion(ctx, k, id, cfg); err != nil {
			rpc.WriteError(w, err)
			return
		}
		writeEmpty(w)
	case "unpublish", "deactivate":
		if !s.allow(w, r, auth.IntegrationVersionsDeploy, name) {
			return
		}
		if err := s.svc.UnpublishVersion(ctx, k, id); err != nil {
			rpc.WriteError(w, err)
			return
		}
		writeEmpty(w)
	case "validate":
		if !s.allow(w, r, auth.IntegrationVersionsGet, name) {
			return
		}
		if err := s.svc.ValidateVersion(ctx, k, id); err != nil {
			rpc.WriteError(w, err)
			return
		}
		writeEmpty(w)
	default:
		rpc.WriteError(w, rpc.Errorf(rpc.CodeNotFound, "unknown method %q on versions", verb))
	}
}

// configParams reads publish's configParameters: a map of variable name to
// a ValueType, or to a plain JSON value (Struct form).
func configParams(raw map[string]json.RawMessage) (map[string]*spec.ValueType, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	out := make(map[string]*spec.ValueType, len(raw))
	for k, m := range raw {
		var vt spec.ValueType
		if err := spec.Unmarshal(m, &vt); err == nil && value.KindOfSpec(&vt) != value.Null {
			out[k] = &vt
			continue
		}
		j, err := value.ParseJSON(string(m))
		if err != nil {
			return nil, rpc.InvalidArgument("config_parameters."+k, "%v", err)
		}
		out[k] = value.ToSpec(value.Infer(j))
	}
	return out, nil
}

// --- executions -----------------------------------------------------------

func (s *Server) getExecution(w http.ResponseWriter, r *http.Request) {
	k := key(r, r.PathValue("integration"))
	id, verb := splitVerb(r.PathValue("target"))
	if !s.allow(w, r, auth.ExecutionsGet, service.ExecutionName(k, id)) {
		return
	}
	e, err := s.svc.GetExecution(r.Context(), k, id)
	if err != nil {
		rpc.WriteError(w, err)
		return
	}
	switch verb {
	case "":
		writeDoc(w, e.Doc)
	case "download":
		rpc.WriteJSON(w, http.StatusOK, map[string]string{"content": string(value.AppendJSONIndent(nil, e.Doc))})
	default:
		rpc.WriteError(w, rpc.Errorf(rpc.CodeNotFound, "unknown method %q on executions", verb))
	}
}

func (s *Server) executionVerb(w http.ResponseWriter, r *http.Request) {
	k := key(r, r.PathValue("integration"))
	id, verb := splitVerb(r.PathValue("target"))
	perm := map[string]string{"cancel": auth.ExecutionsCancel, "replay": auth.ExecutionsReplay}[verb]
	if perm == "" {
		rpc.WriteError(w, rpc.Errorf(rpc.CodeNotFound, "unknown method %q on executions", verb))
		return
	}
	if !s.allow(w, r, perm, service.ExecutionName(k, id)) {
		return
	}
	switch verb {
	case "cancel":
		var b struct {
			CancelReason string `json:"cancelReason"`
		}
		if !s.decode(w, r, &b) {
			return
		}
		if err := s.svc.CancelExecution(r.Context(), k, id, b.CancelReason); err != nil {
			rpc.WriteError(w, err)
			return
		}
		rpc.WriteJSON(w, http.StatusOK, map[string]bool{"isCanceled": true})
	default: // replay
		var b struct {
			ReplayReason string `json:"replayReason"`
			ReplayMode   string `json:"replayMode"`
		}
		if !s.decode(w, r, &b) {
			return
		}
		resp, err := s.svc.Replay(r.Context(), k, id, b.ReplayReason, b.ReplayMode)
		if err != nil {
			rpc.WriteError(w, err)
			return
		}
		rpc.WriteJSON(w, http.StatusOK, resp)
	}
}

func (s *Server) listExecutions(w http.ResponseWriter, r *http.Request) {
	k := key(r, r.PathValue("integration"))
	par := service.IntegrationName(k)
	q, size, ok := s.listRequest(w, r, auth.ExecutionsList, par)
	if !ok {
		return
	}
	eq := store.ExecutionQuery{Key: k, Limit: size}
	filter := q.Get("filter")
	if err := executionFilter(filter, &eq); err != nil {
		rpc.WriteError(w, err)
		return
	}
	if err := filterParams(q, &eq); err != nil {
		rpc.WriteError(w, err)
		return
	}
	if o := strings.TrimSpace(q.Get("orderBy")); o != "" && !strings.HasPrefix(o, "create_time") && !strings.HasPrefix(o, "last_modified_time") && !strings.HasPrefix(o, "createTime") {
		rpc.WriteError(w, rpc.InvalidArgument("order_by", "cannot order executions by %q (supported: create_time)", o))
		return
	}
	sum := aip.Checksum(par, filter, q.Get("orderBy"), q.Get("filterParams.triggerId"), strings.Join(q["filterParams.eventStatuses"], ","),
		q.Get("filterParams.startTime"), q.Get("filterParams.endTime"), q.Get("filterParams.executionId"),
		q.Get("filterParams.parameterPairKey"), q.Get("filterParams.parameterPairValue"))
	if tok := q.Get("pageToken"); tok != "" {
		after, err := aip.DecodeToken(tok, sum)
		if err != nil {
			rpc.WriteError(w, err)
			return
		}
		eq.After = after
	}
	es, next, err := s.svc.ListExecutions(r.Context(), eq)
	if err != nil {
		rpc.WriteError(w, err)
		return
	}
	resp := value.NewObject(2)
	arr := make([]any, len(es))
	for i, e := range es {
		arr[i] = e.Doc
	}
	resp.Set("executions", arr)
	if next != "" {
		resp.Set("nextPageToken", aip.EncodeToken(next, sum))
	}
	writeDoc(w, resp)
}

func executionFilter(filter string, eq *store.ExecutionQuery) error {
	f, err := aip.Parse(filter)
	if err != nil || f == nil {
		return err
	}
	cs, ok := aip.Conjuncts(f)
	if !ok {
		return rpc.InvalidArgument("filter", "only AND of comparisons is supported in execution filters")
	}
	for _, c := range cs {
		field := strings.ToLower(strings.ReplaceAll(c.Field, "_", ""))
		switch field {
		case "triggerid":
			eq.TriggerID = c.Value
		case "eventexecutionstate", "executionstate", "state":
			eq.States = append(eq.States, strings.ToUpper(c.Value))
		case "executionid", "eventexecutioninfoid":
			eq.ExecutionID = c.Value
		case "parentexecutionid", "parenteventexecutioninfoid":
			eq.ParentID = c.Value
		case "workflowname", "integrationname":
			if eq.Key.Name != "-" && c.Value != eq.Key.Name {
				eq.ExecutionID = "\x00none" // matches nothing
			}
		case "createtimestamp", "createtime":
			t, err := parseTime(c.Value)
			if err != nil {
				return rpc.InvalidArgument("filter", "%s: %v", c.Field, err)
			}
			switch c.Op {
			case ">", ">=":
				eq.CreatedAfter = t
			case "<", "<=":
				eq.CreatedBefore = t
			default:
				return rpc.InvalidArgument("filter", "%s supports < and > only", c.Field)
			}
		case "parameterkey", "parameterpairkey":
			eq.ParamKey = c.Value
		case "parametervalue", "parameterpairvalue":
			eq.ParamValue = c.Value
		case "parametertype":
			// Types are not indexed; every parameter matches.
		default:
			return rpc.InvalidArgument("filter", "cannot filter executions on %q (supported: trigger_id, event_execution_state, execution_id, parent_execution_id, CreateTimestamp, parameter_key, parameter_value)", c.Field)
		}
	}
	return nil
}

func filterParams(q map[string][]string, eq *store.ExecutionQuery) error {
	get := func(k string) string {
		if v := q["filterParams."+k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	if v := get("triggerId"); v != "" {
		eq.TriggerID = v
	}
	if v := get("executionId"); v != "" {
		eq.ExecutionID = v
	}
	for _, st := range q["filterParams.eventStatuses"] {
		eq.States = append(eq.States, strings.ToUpper(st))
	}
	if v := get("parameterPairKey"); v != "" {
		eq.ParamKey = v
	} else if v := get("parameterKey"); v != "" {
		eq.ParamKey = v
	}
	if v := get("parameterPairValue"); v != "" {
		eq.ParamValue = v
	} else if v := get("parameterValue"); v != "" {
		eq.ParamValue = v
	}
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"startTime", &eq.CreatedAfter}, {"endTime", &eq.CreatedBefore}} {
		if v := get(p.name); v != "" {
			t, err := parseTime(v)
			if err != nil {
				return rpc.InvalidArgument("filterParams."+p.name, "%v", err)
			}
			*p.dst = t
		}
	}
	return nil
}

// parseTime reads RFC 3339 or epoch milliseconds.
func parseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.UnixMilli(n), nil
	}
	return time.Time{}, fmt.Errorf("%q is neither an RFC 3339 time nor epoch milliseconds", s)
}

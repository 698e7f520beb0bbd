package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/integrationd/integrationd/internal/engine"
	"github.com/integrationd/integrationd/internal/rpc"
	"github.com/integrationd/integrationd/internal/spec"
	"github.com/integrationd/integrationd/internal/store"
	"github.com/integrationd/integrationd/internal/value"
)

// outputOnly are the version fields the service owns; a client's values are
// dropped on create, upload and patch.
var outputOnly = []string{"name", "state", "status", "snapshotNumber", "createTime", "updateTime", "lastModifierEmail", "lockHolder"}

// normalize parses a version document, renames snake_case fields to the
// model's lowerCamelCase (keeping key order and map keys), drops
// output-only fields and checks that the model decodes it.
func normalize(content []byte) (*value.Object, *spec.IntegrationVersion, error) {
	j, err := value.ParseJSON(string(content))
	if err != nil {
		return nil, nil, rpc.InvalidArgument("integration_version", "malformed JSON: %v", err)
	}
	obj, ok := j.(*value.Object)
	if !ok {
		return nil, nil, rpc.InvalidArgument("integration_version", "the version must be a JSON object")
	}
	obj = camelize(obj, spec.VersionType).(*value.Object)
	for _, k := range outputOnly {
		obj.Delete(k)
	}
	v, err := spec.DecodeVersion(value.AppendJSON(nil, obj))
	if err != nil {
		return nil, nil, rpc.InvalidArgument("integration_version", "%v", describeDecodeError(err))
	}
	return obj, v, nil
}

func describeDecodeError(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("field %s: cannot use a JSON %s as %s", te.Field, te.Value, te.Type)
	}
	return err.Error()
}

func camelize(j any, t reflect.Type) any {
	switch x := j.(type) {
	case *value.Object:
		out := value.NewObject(x.Len())
		for _, k := range x.Keys() {
			v, _ := x.Get(k)
			name, ft, ok := spec.ResolveKey(t, k)
			if ok {
				v = camelize(v, ft)
			}
			if _, dup := out.Get(name); dup && name != k {
				continue
			}
			out.Set(name, v)
		}
		return out
	case []any:
		et := spec.ElemType(t)
		if et == nil {
			return x
		}
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = camelize(e, et)
		}
		return out
	}
	return j
}

// VersionView is a version as the API returns it.
type VersionView struct {
	Version *store.Version
	Doc     *value.Object // content with the output-only fields set
}

func (s *Service) view(v *store.Version) (*VersionView, error) {
	j, err := value.ParseJSON(string(v.Content))
	if err != nil {
		return nil, fmt.Errorf("stored version %s: %w", v.ID, err)
	}
	content, _ := j.(*value.Object)
	if content == nil {
		content = value.NewObject(0)
	}
	doc := value.NewObject(content.Len() + 6)
	doc.Set("name", VersionName(v.Key, v.ID))
	for _, k := range content.Keys() {
		x, _ := content.Get(k)
		doc.Set(k, x)
	}
	doc.Set("snapshotNumber", strconv.FormatInt(v.SnapshotNumber, 10))
	doc.Set("state", v.State)
	doc.Set("status", v.State)
	doc.Set("createTime", v.CreateTime.UTC().Format(time.RFC3339Nano))
	doc.Set("updateTime", v.UpdateTime.UTC().Format(time.RFC3339Nano))
	if v.UserLabel != "" {
		doc.Set("userLabel", v.UserLabel)
	}
	if v.Description != "" {
		doc.Set("description", v.Description)
	}
	return &VersionView{Version: v, Doc: doc}, nil
}

func (s *Service) checkKey(k store.IntegrationKey) error {
	if k.Name == "" || k.Name == "-" {
		return rpc.InvalidArgument("parent", "an integration name is required")
	}
	if n := len([]rune(k.Name)); n > s.cfg.MaxNameLength {
		return rpc.InvalidArgument("parent", "integration name %q has %d characters, more than the limit of %d", k.Name, n, s.cfg.MaxNameLength)
	}
	for _, r := range k.Name {
		if !(r == '-' || r == '_' || r == '.' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')) {
			return rpc.InvalidArgument("parent", "integration name %q: character %q is not allowed (letters, digits, '-', '_' and '.')", k.Name, r)
		}
	}
	return nil
}

// CreateVersion stores a new DRAFT version, creating the integration on
// first use.
func (s *Service) CreateVersion(ctx context.Context, k store.IntegrationKey, content []byte) (*VersionView, error) {
	if err := s.checkKey(k); err != nil {
		return nil, err
	}
	obj, v, err := normalize(content)
	if err != nil {
		return nil, err
	}
	if n := len(v.TaskConfigs); n > s.cfg.MaxTasks {
		return nil, rpc.InvalidArgument("integration_version.task_configs", "%d tasks exceed the limit of %d tasks per integration", n, s.cfg.MaxTasks)
	}
	now := s.cfg.Now().UTC()
	sv := &store.Version{
		Key: k, ID: uuid.NewString(), State: store.StateDraft,
		UserLabel: v.UserLabel, Description: v.Description,
		Content: value.AppendJSON(nil, obj), CreateTime: now, UpdateTime: now,
	}
	if err := s.st.CreateVersion(ctx, sv); err != nil {
		return nil, storeErr(err, "version")
	}
	return s.view(sv)
}

// GetVersion returns one version.
func (s *Service) GetVersion(ctx context.Context, k store.IntegrationKey, id string) (*VersionView, error) {
	v, err := s.st.GetVersion(ctx, k, id)
	if err != nil {
		return nil, storeErr(err, "version "+VersionName(k, id))
	}
	return s.view(v)
}

// ListVersions returns a page of versions and the total count.
func (s *Service) ListVersions(ctx context.Context, q store.VersionQuery) ([]*VersionView, int, error) {
	vs, total, err := s.st.ListVersions(ctx, q)
	if err != nil {
		return nil, 0, storeErr(err, "versions")
	}
	out := make([]*VersionView, 0, len(vs))
	for _, v := range vs {
		view, err := s.view(v)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, view)
	}
	return out, total, nil
}

// PatchVersion updates the fields of a DRAFT version named by mask
// (lowerCamelCase top-level paths; empty mask: every field present in
// patch; "*": replace the whole content).
func (s *Service) PatchVersion(ctx context.Context, k store.IntegrationKey, id string, patch []byte, mask []string) (*VersionView, error) {
	cur, err := s.st.GetVersion(ctx, k, id)
	if err != nil {
		return nil, storeErr(err, "version "+VersionName(k, id))
	}
	if cur.State != store.StateDraft {
		return nil, rpc.Errorf(rpc.CodeFailedPrecondition, "version %s is %s: only DRAFT versions can be updated; create a new version instead", VersionName(k, id), cur.State)
	}
	pobj, _, err := normalize(patch)
	if err != nil {
		return nil, err
	}
	j, err := value.ParseJSON(string(cur.Content))
	if err != nil {
		return nil, fmt.Errorf("stored version %s: %w", id, err)
	}
	base := j.(*value.Object).Clone()
	switch {
	case len(mask) == 1 && mask[0] == "*":
		base = pobj
	case len(mask) == 0:
		for _, key := range pobj.Keys() {
			x, _ := pobj.Get(key)
			base.Set(key, x)
		}
	default:
		for _, path := range mask {
			top, _, _ := strings.Cut(path, ".")
			name, _, ok := spec.ResolveKey(spec.VersionType, top)
			if !ok {
				return nil, rpc.InvalidArgument("update_mask", "unknown field %q", path)
			}
			if slicesContains(outputOnly, name) {
				return nil, rpc.InvalidArgument("update_mask", "field %q is output only", path)
			}
			if x, ok := pobj.Get(name); ok {
				base.Set(name, x)
			} else {
				base.Delete(name)
			}
		}
	}
	content := value.AppendJSON(nil, base)
	v, err := spec.DecodeVersion(content)
	if err != nil {
		return nil, rpc.InvalidArgument("integration_version", "%v", describeDecodeError(err))
	}
	if n := len(v.TaskConfigs); n > s.cfg.MaxTasks {
		return nil, rpc.InvalidArgument("integration_version.task_configs", "%d tasks exceed the limit of %d tasks per integration", n, s.cfg.MaxTasks)
	}
	cur.Content, cur.UserLabel, cur.Description = content, v.UserLabel, v.Description
	cur.UpdateTime = s.cfg.Now().UTC()
	if err := s.st.UpdateVersion(ctx, cur); err != nil {
		return nil, storeErr(err, "version "+VersionName(k, id))
	}
	s.forgetPlan(id)
	return s.view(cur)
}

func slicesContains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// DeleteVersion deletes a version that is not ACTIVE.
func (s *Service) DeleteVersion(ctx context.Context, k store.IntegrationKey, id string) error {
	err := s.st.DeleteVersion(ctx, k, id)
	if errors.Is(err, store.ErrFailedPrecondition) {
		return rpc.Errorf(rpc.CodeFailedPrecondition, "version %s is ACTIVE: unpublish it before deleting it", VersionName(k, id))
	}
	if err != nil {
		return storeErr(err, "version "+VersionName(k, id))
	}
	s.forgetPlan(id)
	return nil
}

// UploadVersion creates a DRAFT version from a downloaded document.
func (s *Service) UploadVersion(ctx context.Context, k store.IntegrationKey, content string) (*VersionView, error) {
	if strings.TrimSpace(content) == "" {
		return nil, rpc.InvalidArgument("content", "content is empty")
	}
	return s.CreateVersion(ctx, k, []byte(content))
}

// DownloadVersion returns the version document as JSON text.
func (s *Service) DownloadVersion(ctx context.Context, k store.IntegrationKey, id string) (string, error) {
	v, err := s.GetVersion(ctx, k, id)
	if err != nil {
		return "", err
	}
	return string(value.AppendJSONIndent(nil, v.Doc)), nil
}

// plan returns the compiled plan of a version, compiling it on first use.
func (s *Service) plan(v *store.Version) (*compiled, error) {
	s.mu.Lock()
	c, ok := s.plans[v.ID]
	s.mu.Unlock()
	if ok {
		return c, nil
	}
	sv, err := spec.DecodeVersion(v.Content)
	if err != nil {
		return nil, fmt.Errorf("stored version %s: %w", v.ID, err)
	}
	if len(v.ConfigParameters) > 0 {
		if err := bindConfig(sv, v.ConfigParameters); err != nil {
			return nil, err
		}
	}
	p, iss := engine.Compile(sv, s.compiler, engine.Limits{MaxTasks: s.cfg.MaxTasks})
	c = &compiled{plan: p, issues: iss}
	s.mu.Lock()
	s.plans[v.ID] = c
	s.mu.Unlock()
	return c, nil
}

func (s *Service) forgetPlan(id string) {
	s.mu.Lock()
	delete(s.plans, id)
	for k, a := range s.active {
		for _, v := range a.versions {
			if v.ID == id {
				delete(s.active, k)
			}
		}
	}
	s.mu.Unlock()
}

func (s *Service) forgetActive(k store.IntegrationKey) {
	s.mu.Lock()
	delete(s.active, k)
	delete(s.active, store.IntegrationKey{Project: k.Project, Location: k.Location, Name: "-"})
	s.mu.Unlock()
	s.queue.cronDirty.Store(true)
}

// bindConfig sets the values of config variables bound at publish.
func bindConfig(v *spec.IntegrationVersion, raw []byte) error {
	var vals map[string]*spec.ValueType
	if err := json.Unmarshal(raw, &vals); err != nil {
		return fmt.Errorf("config parameters: %w", err)
	}
	for i := range v.IntegrationConfigParameters {
		cp := &v.IntegrationConfigParameters[i]
		if vt, ok := vals[cp.Parameter.Key]; ok {
			cp.Value = vt
		} else if vt, ok := vals[strings.Trim(cp.Parameter.Key, "`")]; ok {
			cp.Value = vt
		}
	}
	for name, vt := range vals {
		found := false
		for i := range v.IntegrationConfigParameters {
			k := v.IntegrationConfigParameters[i].Parameter.Key
			if k == name || strings.Trim(k, "`") == name {
				found = true
				break
			}
		}
		if !found {
			key := name
			if !strings.HasPrefix(key, "`") {
				key = "`" + key + "`"
			}
			v.IntegrationConfigParameters = append(v.IntegrationConfigParameters, spec.IntegrationConfigParameter{
				Parameter: spec.IntegrationParameter{Key: key, DataType: value.KindOfSpec(vt).DataType()}, Value: vt})
		}
	}
	return nil
}

// ValidationIssue is one problem that validate reports.
type ValidationIssue = engine.Issue

// ValidateVersion compiles a version and reports its problems: errors as
// INVALID_ARGUMENT (FAILED_PRECONDITION on Google's service is used for
// state problems only), unsupported tasks as UNIMPLEMENTED.
func (s *Service) ValidateVersion(ctx context.Context, k store.IntegrationKey, id string) error {
	v, err := s.st.GetVersion(ctx, k, id)
	if err != nil {
		return storeErr(err, "version "+VersionName(k, id))
	}
	c, err := s.plan(v)
	if err != nil {
		return err
	}
	return issuesError(c.issues)
}

func issuesError(iss engine.Issues) error {
	if errs := iss.Errors(); len(errs) > 0 {
		e := rpc.Errorf(rpc.CodeInvalidArgument, "the integration version is invalid: %s", errs.Error())
		var br rpc.BadRequest
		for _, i := range errs {
			field := i.Field
			if i.TaskID != "" {
				field = "task " + i.TaskID + ": " + field
			}
			br.FieldViolations = append(br.FieldViolations, rpc.FieldViolation{Field: field, Description: i.Msg})
		}
		return e.WithDetail(br)
	}
	if un := iss.Unsupported(); len(un) > 0 {
		return rpc.Errorf(rpc.CodeUnimplemented, "the integration version uses tasks integrationd does not support: %s", un.Error())
	}
	return nil
}

// PublishVersion validates a version, binds its config variables and makes
// it the integration's only ACTIVE version. Versions with unsupported tasks
// can be published: only executions that reach those tasks fail.
func (s *Service) PublishVersion(ctx context.Context, k store.IntegrationKey, id string, config map[string]*spec.ValueType) error {
	v, err := s.st.GetVersion(ctx, k, id)
	if err != nil {
		return storeErr(err, "version "+VersionName(k, id))
	}
	if v.State == store.StateActive {
		return rpc.Errorf(rpc.CodeFailedPrecondition, "version %s is already published", VersionName(k, id))
	}
	if v.State == store.StateArchived {
		return rpc.Errorf(rpc.CodeFailedPrecondition, "version %s is ARCHIVED and cannot be published", VersionName(k, id))
	}
	var raw []byte
	if len(config) > 0 {
		if raw, err = json.Marshal(config); err != nil {
			return rpc.InvalidArgument("config_parameters", "%v", err)
		}
	}
	trial := *v
	trial.ID = ""
	trial.ConfigParameters = raw
	sv, err := spec.DecodeVersion(v.Content)
	if err != nil {
		return fmt.Errorf("stored version %s: %w", v.ID, err)
	}
	if raw != nil {
		if err := bindConfig(sv, raw); err != nil {
			return rpc.InvalidArgument("config_parameters", "%v", err)
		}
	}
	_, iss := engine.Compile(sv, s.compiler, engine.Limits{MaxTasks: s.cfg.MaxTasks})
	if errs := iss.Errors(); len(errs) > 0 {
		return issuesError(errs)
	}
	if err := s.st.PublishVersion(ctx, k, id, raw); err != nil {
		return storeErr(err, "version "+VersionName(k, id))
	}
	s.forgetPlan(id)
	s.forgetActive(k)
	return nil
}

// UnpublishVersion deactivates the ACTIVE version id.
func (s *Service) UnpublishVersion(ctx context.Context, k store.IntegrationKey, id string) error {
	err := s.st.UnpublishVersion(ctx, k, id)
	if errors.Is(err, store.ErrFailedPrecondition) {
		return rpc.Errorf(rpc.CodeFailedPrecondition, "version %s is not published", VersionName(k, id))
	}
	if err != nil {
		return storeErr(err, "version "+VersionName(k, id))
	}
	s.forgetActive(k)
	return nil
}

// ListIntegrations lists integrations with their active flag.
func (s *Service) ListIntegrations(ctx context.Context, q store.IntegrationQuery) ([]*store.Integration, error) {
	is, err := s.st.ListIntegrations(ctx, q)
	return is, storeErr(err, "integrations")
}

// DeleteIntegration deletes an integration, its versions and executions.
func (s *Service) DeleteIntegration(ctx context.Context, k store.IntegrationKey) error {
	if err := s.st.DeleteIntegration(ctx, k); err != nil {
		return storeErr(err, "integration "+IntegrationName(k))
	}
	s.forgetActive(k)
	return nil
}

// activePlans returns the published plans of k ("-": all integrations).
func (s *Service) activePlans(ctx context.Context, k store.IntegrationKey) (*activeList, error) {
	s.mu.Lock()
	a, ok := s.active[k]
	s.mu.Unlock()
	if ok && time.Since(a.loaded) < s.cfg.ActiveTTL {
		return a, nil
	}
	vs, err := s.st.ActiveVersions(ctx, k)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, storeErr(err, "active versions")
	}
	a = &activeList{loaded: time.Now()}
	for _, v := range vs {
		c, err := s.plan(v)
		if err != nil {
			return nil, err
		}
		a.versions = append(a.versions, v)
		a.plans = append(a.plans, c.plan)
	}
	s.mu.Lock()
	s.active[k] = a
	s.mu.Unlock()
	return a, nil
}

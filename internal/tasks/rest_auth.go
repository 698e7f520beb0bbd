package tasks

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/integrationd/integrationd/internal/credential"
	"github.com/integrationd/integrationd/internal/engine"
	"github.com/integrationd/integrationd/internal/spec"
	"github.com/integrationd/integrationd/internal/value"
)

// AuthConfigResolver finds the credential of the auth config a task names
// (its ID, resource name or display name) in the project and location of
// the running integration. service.AuthConfigs implements it. The error
// explains what is wrong and holds no secret.
type AuthConfigResolver interface {
	Resolve(ctx context.Context, project, location, ref string) (credential.Applier, error)
}

// authRef is a task's compiled reference to an auth config: the
// authConfigId of its authConfig parameter, else its authConfigName.
type authRef struct {
	id, name *value.Template // nil when absent
}

// compileAuthRef reads the authConfig parameter (an AuthConfigTaskParam
// as jsonValue, protoValue or a JSON string; a plain string is an ID) and
// authConfigName.
func compileAuthRef(cfg *spec.TaskConfig) (authRef, error) {
	var a authRef
	if ep, ok := cfg.Parameters[pAuthConfig]; ok && ep.Value != nil {
		var text string
		switch v := ep.Value; {
		case len(v.ProtoValue) > 0:
			text = string(v.ProtoValue)
		case v.JSONValue != nil:
			text = *v.JSONValue
		case v.StringValue != nil:
			text = *v.StringValue
		}
		text = strings.TrimSpace(text)
		id := text
		if strings.HasPrefix(text, "{") {
			j, err := value.ParseLenientJSON(text)
			if err != nil {
				return a, fmt.Errorf("parameter %s: not an AuthConfigTaskParam: %w", pAuthConfig, err)
			}
			id = ""
			if o, ok := j.(*value.Object); ok {
				if v, ok := o.Get("authConfigId"); ok {
					id, _ = v.(string)
				}
			}
		}
		if id = strings.TrimSpace(id); id != "" && id != "null" {
			a.id = value.CompileTemplate(id)
		}
	}
	n, err := param(cfg, pAuthConfigName)
	if err != nil {
		return a, err
	}
	if s := strings.TrimSpace(n.Str()); s != "" {
		a.name = value.CompileTemplate(s)
	}
	return a, nil
}

// render returns the reference for this attempt, "" when the task names no
// auth config.
func (a authRef) render(g value.Getter) string {
	if a.id != nil {
		if s := strings.TrimSpace(a.id.Render(g)); s != "" {
			return s
		}
	}
	if a.name != nil {
		return strings.TrimSpace(a.name.Render(g))
	}
	return ""
}

// authenticate applies the task's auth config, if any, to req and returns
// the client to send it with (one presenting the auth config's client
// certificate when it has one).
func (t *restTaskImpl) authenticate(ctx context.Context, tc *engine.TaskContext, req *http.Request) (*http.Client, error) {
	ref := t.auth.render(tc.Vars)
	if ref == "" {
		return t.client, nil
	}
	fail := func(err error) error {
		return &engine.TaskError{Message: fmt.Sprintf("auth config %q: %v", ref, err), Err: err}
	}
	if t.rt.authConfigs == nil {
		return nil, fail(errors.New("this server resolves no auth configs"))
	}
	a, err := t.rt.authConfigs.Resolve(ctx, tc.Exec.ProjectID, tc.Exec.Region, ref)
	if err != nil {
		// The resolver's errors name the auth config.
		return nil, &engine.TaskError{Message: err.Error(), Err: err}
	}
	client := t.client
	if cert := a.ClientCertificate(); cert != nil {
		c := *t.client
		c.Transport = t.rt.certTransport(cert, t.insecure)
		client = &c
	}
	if err := a.Apply(ctx, req, client); err != nil {
		return nil, fail(err)
	}
	return client, nil
}

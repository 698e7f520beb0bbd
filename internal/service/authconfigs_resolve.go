package service

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/integrationd/integrationd/internal/credential"
	"github.com/integrationd/integrationd/internal/store"
)

// Resolve returns the Applier of the auth config that ref names in
// project and location, for a task of an integration there. ref is the
// auth config's ID (a task's authConfig.authConfigId), its resource name,
// or its display name (a task's authConfigName; it must name one auth
// config). The Applier is compiled once per sealed credential and kept,
// with its cached tokens, until the credential changes.
//
// The error says what is wrong (not found, ambiguous, expired, no
// credential, cannot be decrypted, invalid) and never holds a secret.
func (a *AuthConfigs) Resolve(ctx context.Context, project, location, ref string) (credential.Applier, error) {
	r, err := a.find(ctx, project, location, strings.TrimSpace(ref))
	if err != nil {
		return nil, err
	}
	name := AuthConfigName(r.Key)
	if err := a.checkValid(r, name); err != nil {
		return nil, err
	}
	a.mu.Lock()
	c, ok := a.appliers[r.Key]
	a.mu.Unlock()
	if ok && bytes.Equal(c.sealed, r.Credential) {
		return c.a, nil
	}
	s, err := a.open(r)
	if err != nil {
		return nil, fmt.Errorf("auth config %s: %w", name, err)
	}
	ap, err := credential.New(s.Credential, s.ClientCertificate, credential.Options{Now: a.now})
	if err != nil {
		return nil, fmt.Errorf("auth config %s: invalid credential: %w", name, err)
	}
	a.mu.Lock()
	a.appliers[r.Key] = cachedApplier{sealed: r.Credential, a: ap}
	a.mu.Unlock()
	return ap, nil
}

// find looks ref up by ID or resource name, then by display name.
func (a *AuthConfigs) find(ctx context.Context, project, location, ref string) (*store.AuthConfig, error) {
	where := "projects/" + project + "/locations/" + location
	if ref == "" {
		return nil, errors.New("no auth config named")
	}
	id := ref
	if rest, ok := strings.CutPrefix(ref, "projects/"); ok {
		parts := strings.Split(rest, "/")
		if len(parts) != 5 || parts[1] != "locations" || parts[3] != "authConfigs" {
			return nil, fmt.Errorf("%q is not an auth config name (projects/P/locations/L/authConfigs/ID)", ref)
		}
		if parts[0] != project || parts[2] != location {
			return nil, fmt.Errorf("auth config %s is not in %s, where the integration runs", ref, where)
		}
		id = parts[4]
	}
	r, err := a.st.GetAuthConfig(ctx, store.AuthConfigKey{Project: project, Location: location, ID: id})
	if err == nil {
		return r, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("auth config %q: %w", ref, err)
	}
	rs, err := a.st.ListAuthConfigs(ctx, store.AuthConfigQuery{Project: project, Location: location, DisplayName: ref, Limit: 2})
	switch {
	case err != nil:
		return nil, fmt.Errorf("auth config %q: %w", ref, err)
	case len(rs) == 0:
		return nil, fmt.Errorf("auth config %q not found in %s (neither an ID nor a display name)", ref, where)
	case len(rs) > 1:
		return nil, fmt.Errorf("display name %q names several auth configs in %s: use the auth config's ID", ref, where)
	}
	return rs[0], nil
}

// checkValid refuses an auth config without credential or past its
// validity.
func (a *AuthConfigs) checkValid(r *store.AuthConfig, name string) error {
	if r.Credential == nil {
		return fmt.Errorf("auth config %s has no credential", name)
	}
	var ac AuthConfig
	if err := json.Unmarshal(r.Doc, &ac); err != nil {
		return fmt.Errorf("stored auth config %s: %w", name, err)
	}
	if exp := ac.expiry(); !exp.IsZero() && !a.now().Before(exp) {
		return fmt.Errorf("auth config %s expired at %s", name, exp.UTC().Format(time.RFC3339))
	}
	return nil
}

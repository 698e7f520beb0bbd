package api

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/integrationd/integrationd/internal/aip"
	"github.com/integrationd/integrationd/internal/auth"
	"github.com/integrationd/integrationd/internal/credential"
	"github.com/integrationd/integrationd/internal/rpc"
	"github.com/integrationd/integrationd/internal/service"
	"github.com/integrationd/integrationd/internal/store"
)

// The authConfigs methods (projects.locations.authConfigs and its
// products/ twin). See docs/authconfigs.md.

func (s *Server) authConfigRoutes() {
	m := s.mux
	m.HandleFunc("POST "+loc+"/authConfigs", s.createAuthConfig)
	m.HandleFunc("GET "+loc+"/authConfigs", s.listAuthConfigs)
	m.HandleFunc("GET "+loc+"/authConfigs/{authConfig}", s.getAuthConfig)
	m.HandleFunc("PATCH "+loc+"/authConfigs/{authConfig}", s.patchAuthConfig)
	m.HandleFunc("DELETE "+loc+"/authConfigs/{authConfig}", s.deleteAuthConfig)
}

func authConfigKey(r *http.Request) store.AuthConfigKey {
	return store.AuthConfigKey{Project: r.PathValue("project"), Location: r.PathValue("location"), ID: r.PathValue("authConfig")}
}

// allowAs is allow that also returns the caller.
func (s *Server) allowAs(w http.ResponseWriter, r *http.Request, permission, resource string) (auth.Principal, bool) {
	p, err := s.cfg.Authorizer.Authorize(r, permission, resource)
	if err != nil {
		rpc.WriteError(w, err)
		return auth.Principal{}, false
	}
	return p, true
}

// clientCertificate reads the clientCertificate.* query parameters of
// create and patch (snake_case spellings too); nil when none is set.
func clientCertificate(q url.Values) *credential.ClientCertificate {
	get := func(camel, snake string) string {
		if v := q.Get("clientCertificate." + camel); v != "" {
			return v
		}
		return q.Get("client_certificate." + snake)
	}
	c := &credential.ClientCertificate{
		SSLCertificate:      get("sslCertificate", "ssl_certificate"),
		EncryptedPrivateKey: get("encryptedPrivateKey", "encrypted_private_key"),
		Passphrase:          get("passphrase", "passphrase"),
	}
	if c.IsZero() {
		return nil
	}
	return c
}

func (s *Server) createAuthConfig(w http.ResponseWriter, r *http.Request) {
	p, ok := s.allowAs(w, r, auth.AuthConfigsCreate, parent(r))
	if !ok {
		return
	}
	body, ok := s.readBody(w, r)
	if !ok {
		return
	}
	ac, err := s.svc.AuthConfigs().Create(r.Context(), r.PathValue("project"), r.PathValue("location"), body, clientCertificate(r.URL.Query()), p.Name)
	if err != nil {
		rpc.WriteError(w, err)
		return
	}
	rpc.WriteJSON(w, http.StatusOK, ac)
}

func (s *Server) getAuthConfig(w http.ResponseWriter, r *http.Request) {
	k := authConfigKey(r)
	if !s.allow(w, r, auth.AuthConfigsGet, service.AuthConfigName(k)) {
		return
	}
	ac, err := s.svc.AuthConfigs().Get(r.Context(), k)
	if err != nil {
		rpc.WriteError(w, err)
		return
	}
	rpc.WriteJSON(w, http.StatusOK, ac)
}

func (s *Server) patchAuthConfig(w http.ResponseWriter, r *http.Request) {
	k := authConfigKey(r)
	p, ok := s.allowAs(w, r, auth.AuthConfigsUpdate, service.AuthConfigName(k))
	if !ok {
		return
	}
	body, ok := s.readBody(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	mask := aip.ParseMask(q.Get("updateMask"))
	if len(mask) == 0 {
		mask = aip.ParseMask(q.Get("update_mask"))
	}
	ac, err := s.svc.AuthConfigs().Patch(r.Context(), k, body, mask, clientCertificate(q), p.Name)
	if err != nil {
		rpc.WriteError(w, err)
		return
	}
	rpc.WriteJSON(w, http.StatusOK, ac)
}

func (s *Server) deleteAuthConfig(w http.ResponseWriter, r *http.Request) {
	k := authConfigKey(r)
	if !s.allow(w, r, auth.AuthConfigsDelete, service.AuthConfigName(k)) {
		return
	}
	if err := s.svc.AuthConfigs().Delete(r.Context(), k); err != nil {
		rpc.WriteError(w, err)
		return
	}
	writeEmpty(w)
}

// listAuthConfigs pages by ID (default page size 100, as Google
// documents), filters on display_name and credential_type (AND of =), and
// keeps only the fields of readMask when one is given.
func (s *Server) listAuthConfigs(w http.ResponseWriter, r *http.Request) {
	par := parent(r)
	if !s.allow(w, r, auth.AuthConfigsList, par) {
		return
	}
	q := r.URL.Query()
	size, err := aip.PageSize(int32Param(q.Get("pageSize")), 100, 1000)
	if err != nil {
		rpc.WriteError(w, err)
		return
	}
	aq := store.AuthConfigQuery{Project: r.PathValue("project"), Location: r.PathValue("location"), Limit: size}
	filter := q.Get("filter")
	if err := authConfigFilter(filter, &aq); err != nil {
		rpc.WriteError(w, err)
		return
	}
	sum := aip.Checksum(par, filter)
	if aq.After, err = aip.DecodeToken(q.Get("pageToken"), sum); err != nil {
		rpc.WriteError(w, err)
		return
	}
	page, more, err := s.svc.AuthConfigs().List(r.Context(), aq)
	if err != nil {
		rpc.WriteError(w, err)
		return
	}
	resp := struct {
		AuthConfigs   []any  `json:"authConfigs"`
		NextPageToken string `json:"nextPageToken,omitempty"`
	}{AuthConfigs: make([]any, 0, len(page))}
	readMask := aip.ParseMask(q.Get("readMask"))
	for _, ac := range page {
		resp.AuthConfigs = append(resp.AuthConfigs, masked(ac, readMask))
	}
	if more {
		resp.NextPageToken = aip.EncodeToken(strings.TrimPrefix(page[len(page)-1].Name, par+"/authConfigs/"), sum)
	}
	rpc.WriteJSON(w, http.StatusOK, resp)
}

func authConfigFilter(filter string, aq *store.AuthConfigQuery) error {
	cs, err := equalities(filter)
	if err != nil {
		return err
	}
	for _, c := range cs {
		switch c.Field {
		case "display_name", "displayName":
			aq.DisplayName = c.Value
		case "credential_type", "credentialType":
			aq.CredentialType = strings.ToUpper(c.Value)
		default:
			return rpc.InvalidArgument("filter", "cannot filter auth configs on %q (supported: display_name, credential_type)", c.Field)
		}
	}
	return nil
}

// masked returns ac with only the top-level fields of mask (lowerCamelCase
// paths; a dotted path keeps its top-level field); ac itself when mask is
// empty or "*".
func masked(ac *service.AuthConfig, mask []string) any {
	if len(mask) == 0 || (len(mask) == 1 && mask[0] == "*") {
		return ac
	}
	var all map[string]json.RawMessage
	b, _ := json.Marshal(ac)
	_ = json.Unmarshal(b, &all)
	out := make(map[string]json.RawMessage, len(mask))
	for _, p := range mask {
		top, _, _ := strings.Cut(p, ".")
		if v, ok := all[top]; ok {
			out[top] = v
		}
	}
	return out
}

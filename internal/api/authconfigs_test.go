package api_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/api/googleapi"
	integrations "google.golang.org/api/integrations/v1"

	"github.com/integrationd/integrationd/internal/auth"
	"github.com/integrationd/integrationd/internal/credential/credentialtest"
	"github.com/integrationd/integrationd/internal/secrets"
	"github.com/integrationd/integrationd/internal/service"
	"github.com/integrationd/integrationd/internal/store/sqlite"
	"github.com/integrationd/integrationd/internal/tasks"
)

type authEnv struct {
	*env
	dbPath string
	ac     *service.AuthConfigs
}

// startAuth serves the API like start, with auth configs sealed by keys
// (nil: no key) and resolved by the REST task.
func startAuth(t *testing.T, keys *secrets.Keyring, authz auth.Authorizer) *authEnv {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "test.db")
	st, err := sqlite.Open(ctx, path, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ac := service.NewAuthConfigs(st, keys, nil)
	e := serveStore(t, st, tasks.New(tasks.Options{AuthConfigs: ac}), service.Config{AuthConfigs: ac}, authz)
	return &authEnv{env: e, dbPath: path, ac: ac}
}

func testKeys(t *testing.T) *secrets.Keyring {
	kr, err := secrets.New(bytes.Repeat([]byte{42}, secrets.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

func basicConfig(name, user, pass string) *integrations.GoogleCloudIntegrationsV1alphaAuthConfig {
	return &integrations.GoogleCloudIntegrationsV1alphaAuthConfig{
		DisplayName: name, Description: "basic auth for tests",
		DecryptedCredential: &integrations.GoogleCloudIntegrationsV1alphaCredential{
			CredentialType:      "USERNAME_AND_PASSWORD",
			UsernameAndPassword: &integrations.GoogleCloudIntegrationsV1alphaUsernameAndPassword{Username: user, Password: pass},
		},
	}
}

func googleCode(err error) int {
	if gerr, ok := err.(*googleapi.Error); ok {
		return gerr.Code
	}
	return 0
}

// basicHeader resolves an auth config as the REST task does and returns
// the Authorization header it sets.
func (e *authEnv) basicHeader(t *testing.T, ref string) string {
	t.Helper()
	a, err := e.ac.Resolve(t.Context(), "demo", "us-central1", ref)
	if err != nil {
		t.Fatalf("Resolve(%s): %v", ref, err)
	}
	req, _ := http.NewRequest("GET", "http://example.invalid/", nil)
	if err := a.Apply(t.Context(), req, nil); err != nil {
		t.Fatal(err)
	}
	return req.Header.Get("Authorization")
}

func TestAuthConfigsCRUD(t *testing.T) {
	t.Parallel()
	e := startAuth(t, testKeys(t), nil)
	acs := e.c.Projects.Locations.AuthConfigs
	created, err := acs.Create(parent, basicConfig("billing", "alice", "s3cret-1")).Do()
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	id := strings.TrimPrefix(created.Name, parent+"/authConfigs/")
	if id == created.Name || len(id) != 36 || created.CredentialType != "USERNAME_AND_PASSWORD" || created.State != "VALID" ||
		created.CreateTime == "" || created.DisplayName != "billing" {
		t.Errorf("created = %+v, want a UUID name, the type, VALID, times", created)
	}
	// decryptedCredential is write-only: the password never comes back.
	for what, got := range map[string]*integrations.GoogleCloudIntegrationsV1alphaAuthConfig{"create": created, "get": must(acs.Get(created.Name).Do())} {
		dc := got.DecryptedCredential
		if dc == nil || dc.UsernameAndPassword == nil || dc.UsernameAndPassword.Username != "alice" || dc.UsernameAndPassword.Password != "" || got.EncryptedCredential != "" {
			t.Errorf("%s: decryptedCredential = %+v, encryptedCredential %q, want the username only", what, dc, got.EncryptedCredential)
		}
	}
	code, raw := e.do(t, "GET", "/v1/"+created.Name, nil)
	if code != 200 || strings.Contains(fmt.Sprint(raw), "s3cret") {
		t.Errorf("raw GET = %d %v, want 200 without the password", code, raw)
	}

	for _, n := range []string{"shipping", "crm"} {
		if _, err := acs.Create(parent, basicConfig(n, n, "pw")).Do(); err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	pages := 0
	err = acs.List(parent).PageSize(1).Pages(t.Context(), func(r *integrations.GoogleCloudIntegrationsV1alphaListAuthConfigsResponse) error {
		pages++
		for _, a := range r.AuthConfigs {
			names = append(names, a.DisplayName)
			if a.DecryptedCredential.UsernameAndPassword.Password != "" {
				t.Errorf("list returned a password")
			}
		}
		return nil
	})
	if err != nil || len(names) != 3 || pages != 3 {
		t.Errorf("list by 1: %v in %d pages, %v; want 3 auth configs in 3 pages", names, pages, err)
	}
	l, err := acs.List(parent).Filter(`display_name = "crm"`).Do()
	if err != nil || len(l.AuthConfigs) != 1 || l.AuthConfigs[0].DisplayName != "crm" {
		t.Errorf("filtered list = %+v, %v", l, err)
	}
	if _, err := acs.List(parent).Filter(`state = VALID`).Do(); googleCode(err) != 400 {
		t.Errorf("filter on an unsupported field: %v, want 400", err)
	}
	code, m := e.do(t, "GET", "/v1/"+parent+"/authConfigs?readMask=display_name", nil)
	if first := m["authConfigs"].([]any)[0].(map[string]any); code != 200 || len(first) != 1 || first["displayName"] == nil {
		t.Errorf("readMask: %d %v, want only displayName", code, m)
	}

	// Patch a plain field: the credential is kept.
	if before := e.basicHeader(t, id); before != "Basic YWxpY2U6czNjcmV0LTE=" { // alice:s3cret-1
		t.Fatalf("Authorization before patch = %q", before)
	}
	p, err := acs.Patch(created.Name, &integrations.GoogleCloudIntegrationsV1alphaAuthConfig{DisplayName: "billing-v2", Description: "ignored"}).UpdateMask("display_name").Do()
	if err != nil || p.DisplayName != "billing-v2" || p.Description != "basic auth for tests" {
		t.Fatalf("patch display_name = %+v, %v, want the new name and the old description", p, err)
	}
	if got := e.basicHeader(t, "billing-v2"); got != "Basic YWxpY2U6czNjcmV0LTE=" {
		t.Errorf("after patching the name, by display name: %q", got)
	}
	// Patch the password alone through a path into the credential.
	_, err = acs.Patch(created.Name, &integrations.GoogleCloudIntegrationsV1alphaAuthConfig{
		DecryptedCredential: &integrations.GoogleCloudIntegrationsV1alphaCredential{UsernameAndPassword: &integrations.GoogleCloudIntegrationsV1alphaUsernameAndPassword{Password: "s3cret-2"}},
	}).UpdateMask("decrypted_credential.username_and_password.password").Do()
	if err != nil {
		t.Fatalf("patch password: %v", err)
	}
	if got := e.basicHeader(t, created.Name); got != "Basic YWxpY2U6czNjcmV0LTI=" { // alice:s3cret-2
		t.Errorf("after patching the password: %q, want alice:s3cret-2", got)
	}
	// Replace the whole credential with another type (no mask: the fields set).
	p, err = acs.Patch(created.Name, &integrations.GoogleCloudIntegrationsV1alphaAuthConfig{
		DecryptedCredential: &integrations.GoogleCloudIntegrationsV1alphaCredential{CredentialType: "AUTH_TOKEN",
			AuthToken: &integrations.GoogleCloudIntegrationsV1alphaAuthToken{Type: "Token", Token: "tok-3"}},
	}).Do()
	if err != nil || p.CredentialType != "AUTH_TOKEN" || p.DecryptedCredential.AuthToken.Token != "" {
		t.Fatalf("patch whole credential = %+v, %v", p, err)
	}
	if got := e.basicHeader(t, id); got != "Token tok-3" {
		t.Errorf("after replacing the credential: %q, want Token tok-3", got)
	}
	for _, bad := range []string{"state", "name", "no_such_field", "display_name.x", "decrypted_credential.nope"} {
		if _, err := acs.Patch(created.Name, &integrations.GoogleCloudIntegrationsV1alphaAuthConfig{}).UpdateMask(bad).Do(); googleCode(err) != 400 {
			t.Errorf("patch with mask %q: %v, want 400", bad, err)
		}
	}

	// The products/ form is the same resource.
	if code, m := e.do(t, "GET", "/v1/projects/demo/locations/us-central1/products/apigee/authConfigs/"+id, nil); code != 200 || m["displayName"] != "billing-v2" {
		t.Errorf("GET through products/apigee: %d %v", code, m)
	}
	if _, err := acs.Delete(created.Name).Do(); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if _, err := acs.Get(created.Name).Do(); googleCode(err) != 404 {
		t.Errorf("get after delete: %v, want 404", err)
	}
	if _, err := acs.Delete(created.Name).Do(); googleCode(err) != 404 {
		t.Errorf("delete again: %v, want 404", err)
	}
	if _, err := e.ac.Resolve(t.Context(), "demo", "us-central1", id); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("Resolve after delete: %v, want not found", err)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestAuthConfigSecretAtRest reads the database file and the credential
// column: the password is in neither, while the username is, in the file.
func TestAuthConfigSecretAtRest(t *testing.T) {
	t.Parallel()
	e := startAuth(t, testKeys(t), nil)
	const secret = "pa55-WORD-only-here"
	created, err := e.c.Projects.Locations.AuthConfigs.Create(parent, basicConfig("at-rest", "user-visible-name", secret)).Do()
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+e.dbPath+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var cred, doc []byte
	id := strings.TrimPrefix(created.Name, parent+"/authConfigs/")
	if err := db.QueryRow(`SELECT credential, doc FROM auth_configs WHERE id = ?`, id).Scan(&cred, &doc); err != nil {
		t.Fatal(err)
	}
	if len(cred) == 0 || bytes.Contains(cred, []byte(secret)) || bytes.Contains(doc, []byte(secret)) {
		t.Errorf("credential column %q / doc %s: want a sealed value and no password", cred, doc)
	}
	if kid, ok := secrets.KeyID(cred); !ok || kid == "" {
		t.Errorf("credential column is not a sealed value")
	}
	var files []byte
	for _, f := range []string{e.dbPath, e.dbPath + "-wal"} {
		b, err := os.ReadFile(f)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		files = append(files, b...)
	}
	if !bytes.Contains(files, []byte("user-visible-name")) {
		t.Fatalf("the database files do not hold the username: the scan would prove nothing")
	}
	if bytes.Contains(files, []byte(secret)) {
		t.Errorf("the database files hold the password in plaintext")
	}
}

func TestAuthConfigKeyModes(t *testing.T) {
	t.Parallel()
	t.Run("no key refuses credentials", func(t *testing.T) {
		t.Parallel()
		e := startAuth(t, nil, nil)
		_, err := e.c.Projects.Locations.AuthConfigs.Create(parent, basicConfig("x", "u", "p")).Do()
		gerr, _ := err.(*googleapi.Error)
		if gerr == nil || gerr.Code != 400 || !strings.Contains(gerr.Message, "--secrets-key-file") || !strings.Contains(gerr.Message, secrets.EnvKey) {
			t.Errorf("create with a credential and no key: %v, want FAILED_PRECONDITION explaining the key", err)
		}
		code, m := e.do(t, "POST", "/v1/"+parent+"/authConfigs", `{"displayName":"x","decryptedCredential":{"credentialType":"AUTH_TOKEN","authToken":{"token":"t"}}}`)
		if _, status, _ := errStatus(m); code != 400 || status != "FAILED_PRECONDITION" {
			t.Errorf("raw create: %d %v, want 400 FAILED_PRECONDITION", code, m)
		}
		// Without a credential there is nothing to seal.
		c, err := e.c.Projects.Locations.AuthConfigs.Create(parent, &integrations.GoogleCloudIntegrationsV1alphaAuthConfig{DisplayName: "empty"}).Do()
		if err != nil || c.State != "INVALID" {
			t.Errorf("create without a credential: %+v, %v, want INVALID", c, err)
		}
	})
	t.Run("dev mode", func(t *testing.T) {
		t.Parallel()
		e := startAuth(t, secrets.InsecureDev(), nil)
		c, err := e.c.Projects.Locations.AuthConfigs.Create(parent, basicConfig("x", "u", "p")).Do()
		if err != nil || c.State != "VALID" {
			t.Fatalf("create in dev mode: %+v, %v", c, err)
		}
		if got := e.basicHeader(t, c.Name); got != "Basic dTpw" {
			t.Errorf("dev mode: %q", got)
		}
	})
}

func TestAuthConfigValidation(t *testing.T) {
	t.Parallel()
	e := startAuth(t, testKeys(t), nil)
	cases := []struct{ name, body, field string }{
		{"no username", `{"decryptedCredential":{"credentialType":"USERNAME_AND_PASSWORD","usernameAndPassword":{"password":"p"}}}`,
			"auth_config.decrypted_credential.username_and_password.username"},
		{"snake_case body", `{"decrypted_credential":{"credential_type":"USERNAME_AND_PASSWORD","username_and_password":{"password":"p"}}}`,
			"auth_config.decrypted_credential.username_and_password.username"},
		{"types disagree", `{"credentialType":"JWT","decryptedCredential":{"credentialType":"AUTH_TOKEN","authToken":{"token":"t"}}}`, "auth_config.credential_type"},
		{"type without its message", `{"credentialType":"AUTH_TOKEN"}`, "auth_config.decrypted_credential.auth_token"},
		{"no type", `{"decryptedCredential":{"authToken":{"token":"t"}}}`, "auth_config.decrypted_credential.credential_type"},
		{"implicit", `{"decryptedCredential":{"credentialType":"OAUTH2_IMPLICIT"}}`, "auth_config.decrypted_credential.credential_type"},
		{"jwt alg", `{"decryptedCredential":{"credentialType":"JWT","jwt":{"jwtHeader":"{\"alg\":\"RS256\"}","secret":"s"}}}`, "auth_config.decrypted_credential.jwt.jwt_header"},
		{"kms ciphertext", `{"encryptedCredential":"CiQA..."}`, "auth_config.encrypted_credential"},
		{"valid time", `{"validTime":"next week"}`, "auth_config.valid_time"},
		{"wrong JSON type", `{"displayName":{"a":1}}`, "auth_config"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, m := e.do(t, "POST", "/v1/"+parent+"/authConfigs", c.body)
			d := detail(m, "type.googleapis.com/google.rpc.BadRequest")
			var field string
			if vs, _ := d["fieldViolations"].([]any); len(vs) > 0 {
				field, _ = vs[0].(map[string]any)["field"].(string)
			}
			if code != 400 || field != c.field {
				t.Errorf("create %s: %d, field %q (%v), want 400 on %s", c.body, code, field, m, c.field)
			}
		})
	}
	// The client certificate of the query parameters is checked too.
	cc := credentialtest.NewClientCert(t, "c")
	_, err := e.c.Projects.Locations.AuthConfigs.Create(parent, &integrations.GoogleCloudIntegrationsV1alphaAuthConfig{CredentialType: "CLIENT_CERTIFICATE_ONLY"}).
		ClientCertificateSslCertificate(cc.CertPEM).Do()
	if googleCode(err) != 400 || !strings.Contains(err.Error(), "client_certificate.encrypted_private_key") {
		t.Errorf("certificate without key: %v, want 400 on client_certificate.encrypted_private_key", err)
	}
}

func TestAuthConfigPermissions(t *testing.T) {
	t.Parallel()
	cfg := auth.Config{
		Tokens: []auth.Token{
			{Token: "viewer-token", Principal: "user:view@example.com"},
			{Token: "editor-token", Principal: "user:edit@example.com"},
		},
		Bindings: []auth.Binding{
			{Principal: "user:view@example.com", Roles: []string{"roles/integrations.integrationViewer"}},
			{Principal: "user:edit@example.com", Roles: []string{"roles/integrations.integrationEditor"}},
		},
	}
	authz, err := auth.NewTokenAuthorizer(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	e := startAuth(t, testKeys(t), authz)
	base := "/v1/" + parent + "/authConfigs"
	code, m := e.do(t, "POST", base, `{"displayName":"x","decryptedCredential":{"credentialType":"AUTH_TOKEN","authToken":{"token":"t"}}}`, "Authorization", "Bearer editor-token")
	if code != 200 || m["creatorEmail"] != "edit@example.com" || m["lastModifierEmail"] != "edit@example.com" {
		t.Fatalf("editor create: %d %v, want 200 with the creator's e-mail", code, m)
	}
	name := m["name"].(string)
	cases := []struct {
		name, method, path, body, token string
		code                            int
		perm                            string
	}{
		{"viewer gets", "GET", "/v1/" + name, "", "viewer-token", 200, ""},
		{"viewer lists", "GET", base, "", "viewer-token", 200, ""},
		{"viewer cannot create", "POST", base, `{}`, "viewer-token", 403, "integrations.authConfigs.create"},
		{"viewer cannot patch", "PATCH", "/v1/" + name, `{"displayName":"y"}`, "viewer-token", 403, "integrations.authConfigs.update"},
		{"editor cannot delete", "DELETE", "/v1/" + name, "", "editor-token", 403, "integrations.authConfigs.delete"},
		{"anonymous", "GET", base, "", "", 401, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var hdr []string
			if c.token != "" {
				hdr = []string{"Authorization", "Bearer " + c.token}
			}
			code, m := e.do(t, c.method, c.path, c.body, hdr...)
			_, _, msg := errStatus(m)
			if code != c.code || !strings.Contains(msg, c.perm) {
				t.Errorf("%s %s: %d %q, want %d mentioning %q", c.method, c.path, code, msg, c.code, c.perm)
			}
		})
	}
}

// restIntegration is an integration whose REST task calls url with the
// auth config id and returns the response body.
func restIntegration(url, id string) []byte {
	param := fmt.Sprintf(`{"@type":"type.googleapis.com/enterprise.crm.eventbus.authconfig.AuthConfigTaskParam","authConfigId":%q}`, id)
	return fmt.Appendf(nil, `{
 "triggerConfigs": [{"label": "API Trigger", "triggerType": "API", "triggerNumber": "1", "triggerId": "api_trigger/call", "startTasks": [{"taskId": "1"}]}],
 "taskConfigs": [{"task": "GenericRestV2Task", "taskId": "1", "parameters": {
   "url": {"key": "url", "value": {"stringValue": %q}},
   "disableSSLValidation": {"key": "disableSSLValidation", "value": {"booleanValue": true}},
   "authConfig": {"key": "authConfig", "value": {"jsonValue": %q}},
   "responseBody": {"key": "responseBody", "value": {"stringArray": {"stringValues": ["$`+"`Task_1_responseBody`"+`$"]}}}
 }}],
 "integrationParameters": [{"key": "`+"`Task_1_responseBody`"+`", "dataType": "STRING_VALUE", "inputOutputType": "OUT", "producer": "1_1"}]
}`, url, param)
}

// TestAuthConfigEndToEnd: auth configs created through the API
// authenticate the REST task of a published integration, and a bad one
// fails the execution with a clear message.
func TestAuthConfigEndToEnd(t *testing.T) {
	t.Parallel()
	e := startAuth(t, testKeys(t), nil)
	acs := e.c.Projects.Locations.AuthConfigs
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "svc" || p != "e2e-pass" {
			http.Error(w, "bad credentials", http.StatusUnauthorized)
			return
		}
		fmt.Fprint(w, "hello svc")
	}))
	defer upstream.Close()
	basic := must(acs.Create(parent, basicConfig("upstream", "svc", "e2e-pass")).Do())

	cc := credentialtest.NewClientCert(t, "e2e-client")
	mtls := credentialtest.NewMTLSServer(t, cc.CAs)
	cert := must(acs.Create(parent, &integrations.GoogleCloudIntegrationsV1alphaAuthConfig{DisplayName: "mtls", CredentialType: "CLIENT_CERTIFICATE_ONLY"}).
		ClientCertificateSslCertificate(cc.CertPEM).ClientCertificateEncryptedPrivateKey(cc.KeyPEM).Do())

	run := func(integration, url, authID string) (string, error) {
		t.Helper()
		e.publish(t, integration, restIntegration(url, strings.TrimPrefix(authID, parent+"/authConfigs/")))
		resp, err := e.c.Projects.Locations.Integrations.Execute(parent+"/integrations/"+integration,
			&integrations.GoogleCloudIntegrationsV1alphaExecuteIntegrationsRequest{TriggerId: "api_trigger/call"}).Do()
		if err != nil {
			return "", err
		}
		return string(resp.OutputParameters), nil
	}
	if out, err := run("basic", upstream.URL, basic.Name); err != nil || !strings.Contains(out, "hello svc") {
		t.Errorf("basic: %s, %v, want the upstream's greeting", out, err)
	}
	if out, err := run("mtls", mtls.URL, cert.Name); err != nil || !strings.Contains(out, "client=e2e-client") {
		t.Errorf("client certificate: %s, %v, want the client's common name", out, err)
	}
	_, err := run("missing", upstream.URL, "00000000-0000-4000-8000-000000000000")
	if err == nil || !strings.Contains(err.Error(), `auth config "00000000-0000-4000-8000-000000000000"`) || !strings.Contains(err.Error(), "not found") {
		t.Errorf("unknown auth config: %v, want the execution to fail naming it", err)
	}
}

package auth

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/integrationd/integrationd/internal/rpc"
)

func sha(s string) string {
	d := sha256.Sum256([]byte(s))
	return hex.EncodeToString(d[:])
}

func testAuthorizer(t *testing.T) Authorizer {
	t.Helper()
	a, err := NewTokenAuthorizer(&Config{
		Tokens: []Token{
			{Token: "alice-token", Principal: "user:alice@example.com"},
			{TokenSHA256: sha("ci-token"), Principal: "serviceAccount:ci@example.com"},
			{Token: "bob-token", Principal: "user:bob@example.com"},
		},
		Bindings: []Binding{
			{Principal: "user:alice@example.com", Roles: []string{"roles/integrations.integrationInvoker"}},
			{Principal: "user:alice@example.com", Permissions: []string{SuspensionsLift}},
			{Principal: "serviceAccount:ci@example.com", Roles: []string{"integrations.integrationDeployer"}},
			{Principal: "user:bob@example.com", Roles: []string{RoleIntegrationViewer}},
		},
	})
	if err != nil {
		t.Fatalf("NewTokenAuthorizer: %v", err)
	}
	return a
}

func TestTokenAuthorizer(t *testing.T) {
	t.Parallel()
	a := testAuthorizer(t)
	const res = "projects/p/locations/l/integrations/x"
	tests := []struct {
		name          string
		header        string // Authorization; "" = none
		permission    string
		wantPrincipal string
		wantCode      rpc.Code
		wantMsg       string // substring of the error message
	}{
		{"invoker invokes", "Bearer alice-token", IntegrationsInvoke, "user:alice@example.com", rpc.CodeOK, ""},
		{"scheme is case-insensitive", "bearer  alice-token", IntegrationsInvoke, "user:alice@example.com", rpc.CodeOK, ""},
		{"extra binding permission", "Bearer alice-token", SuspensionsLift, "user:alice@example.com", rpc.CodeOK, ""},
		{"invoker cannot create versions", "Bearer alice-token", IntegrationVersionsCreate, "user:alice@example.com", rpc.CodePermissionDenied,
			"Permission 'integrations.integrationVersions.create' denied on resource 'projects/p/locations/l/integrations/x' (or it may not exist)."},
		{"hashed token deploys", "Bearer ci-token", IntegrationsDeploy, "serviceAccount:ci@example.com", rpc.CodeOK, ""},
		{"deployer cannot invoke", "Bearer ci-token", IntegrationsInvoke, "serviceAccount:ci@example.com", rpc.CodePermissionDenied, "'integrations.integrations.invoke'"},
		{"viewer gets", "Bearer bob-token", ExecutionsGet, "user:bob@example.com", rpc.CodeOK, ""},
		{"viewer cannot invoke", "Bearer bob-token", IntegrationsInvoke, "user:bob@example.com", rpc.CodePermissionDenied, "'integrations.integrations.invoke'"},
		{"unknown permission is denied", "Bearer alice-token", "integrations.nope.get", "user:alice@example.com", rpc.CodePermissionDenied, "'integrations.nope.get'"},
		{"no header", "", IntegrationsGet, "", rpc.CodeUnauthenticated, "missing required authentication credential"},
		{"basic auth", "Basic YWxpY2U6eA==", IntegrationsGet, "", rpc.CodeUnauthenticated, "not of the form 'Bearer <token>'"},
		{"empty bearer", "Bearer ", IntegrationsGet, "", rpc.CodeUnauthenticated, "not of the form 'Bearer <token>'"},
		{"unknown token", "Bearer mallory", IntegrationsGet, "", rpc.CodeUnauthenticated, "Unknown bearer token"},
		{"hash is not a token", "Bearer " + sha("ci-token"), IntegrationsGet, "", rpc.CodeUnauthenticated, "Unknown bearer token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest("POST", "/v1/"+res+":execute", nil)
			if tt.header != "" {
				r.Header.Set("Authorization", tt.header)
			}
			p, err := a.Authorize(r, tt.permission, res)
			if p.Name != tt.wantPrincipal {
				t.Errorf("principal = %q, want %q", p.Name, tt.wantPrincipal)
			}
			if got := rpc.CodeOf(err); got != tt.wantCode {
				t.Fatalf("code = %v (%v), want %v", got, err, tt.wantCode)
			}
			if err == nil {
				return
			}
			if _, ok := errors.AsType[*rpc.Error](err); !ok {
				t.Errorf("error type = %T, want *rpc.Error", err)
			}
			if msg := rpc.FromError(err).Message; !strings.Contains(msg, tt.wantMsg) {
				t.Errorf("message = %q, want it to contain %q", msg, tt.wantMsg)
			}
			rec := httptest.NewRecorder()
			rpc.WriteError(rec, err)
			if want := map[rpc.Code]int{rpc.CodeUnauthenticated: 401, rpc.CodePermissionDenied: 403}[tt.wantCode]; rec.Code != want {
				t.Errorf("HTTP status = %d, want %d", rec.Code, want)
			}
		})
	}
}

func TestPermissionDenied(t *testing.T) {
	t.Parallel()
	tests := []struct {
		resource string
		wantMsg  string
		wantMD   map[string]string
	}{
		{"projects/p/locations/l/integrations/x",
			"Permission 'integrations.integrations.invoke' denied on resource 'projects/p/locations/l/integrations/x' (or it may not exist).",
			map[string]string{"permission": IntegrationsInvoke, "resource": "projects/p/locations/l/integrations/x"}},
		{"", "Permission 'integrations.integrations.invoke' denied.", map[string]string{"permission": IntegrationsInvoke}},
	}
	for _, tt := range tests {
		e := PermissionDenied(IntegrationsInvoke, tt.resource)
		if e.Code != rpc.CodePermissionDenied || e.Message != tt.wantMsg {
			t.Errorf("PermissionDenied(%q) = %v %q, want PERMISSION_DENIED %q", tt.resource, e.Code, e.Message, tt.wantMsg)
		}
		if len(e.Details) != 1 {
			t.Fatalf("details = %v, want one ErrorInfo", e.Details)
		}
		info, ok := e.Details[0].(rpc.ErrorInfo)
		if !ok || info.Reason != "IAM_PERMISSION_DENIED" || info.Domain != "iam.googleapis.com" || !mapsEqual(info.Metadata, tt.wantMD) {
			t.Errorf("detail = %#v, want IAM_PERMISSION_DENIED iam.googleapis.com %v", e.Details[0], tt.wantMD)
		}
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestAllowAll(t *testing.T) {
	t.Parallel()
	p, err := AllowAll().Authorize(httptest.NewRequest("GET", "/", nil), IntegrationsDelete, "projects/p")
	if err != nil || p != Anonymous {
		t.Errorf("AllowAll().Authorize = %v, %v, want %v, nil", p, err, Anonymous)
	}
}

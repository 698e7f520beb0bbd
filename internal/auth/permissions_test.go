package auth

import (
	"slices"
	"testing"
)

// The permissions each role grants, checked for a few representative
// permissions per role (reference.md §8.A.2).
func TestRolePermissions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		role string
		has  []string
		lack []string
	}{
		{"roles/integrations.integrationInvoker",
			[]string{IntegrationsInvoke, IntegrationVersionsInvoke, ExecutionsGet, ExecutionsList, ExecutionsCancel, ExecutionsReplay, TestCasesInvoke},
			[]string{IntegrationVersionsCreate, IntegrationsDeploy, SuspensionsLift, IntegrationsDelete}},
		{"integrations.integrationInvoker", // without "roles/"
			[]string{IntegrationsInvoke},
			[]string{IntegrationVersionsCreate}},
		{"roles/integrations.integrationViewer",
			[]string{IntegrationsGet, IntegrationsList, ExecutionsGet, IntegrationsGenerateOpenAPISpec, SfdcInstancesList},
			[]string{IntegrationsInvoke, IntegrationVersionsInvoke, IntegrationVersionsCreate, SuspensionsList, SfdcInstancesGet}},
		{"roles/integrations.integrationDeployer",
			[]string{IntegrationsDeploy, IntegrationVersionsDeploy, IntegrationVersionsGet},
			[]string{IntegrationsInvoke, IntegrationVersionsCreate, ExecutionsGet}},
		{"roles/integrations.suspensionResolver",
			[]string{SuspensionsLift, SuspensionsList, SuspensionsResolve},
			[]string{IntegrationsGet, ExecutionsGet}},
		{"roles/integrations.integrationEditor",
			[]string{IntegrationsCreate, IntegrationsInvoke, IntegrationVersionsDeploy, AuthConfigsCreate, TestCasesDelete},
			[]string{IntegrationsDelete, IntegrationsDeploy, IntegrationVersionsInvoke, AuthConfigsDelete, SuspensionsLift}},
		{"roles/integrations.integrationAdmin",
			[]string{IntegrationsDelete, IntegrationsDeploy, SuspensionsResolve, AuthConfigsDelete, TemplatesShare},
			[]string{IntegrationVersionsInvoke}},
		{"roles/integrations.admin",
			[]string{IntegrationVersionsInvoke, IntegrationsDelete, SfdcChannelsDelete},
			nil},
		{"roles/integrations.viewer",
			[]string{SuspensionsList, TemplatesShare, SfdcInstancesGet},
			[]string{SuspensionsLift, IntegrationsInvoke, TemplatesCreate}},
		{"roles/integrations.certificateViewer",
			[]string{CertificatesGet},
			[]string{CertificatesList}},
	}
	for _, tt := range tests {
		t.Run(tt.role, func(t *testing.T) {
			t.Parallel()
			perms, ok := RolePermissions(tt.role)
			if !ok {
				t.Fatalf("RolePermissions(%q) ok = false, want true", tt.role)
			}
			for _, p := range tt.has {
				if !slices.Contains(perms, p) {
					t.Errorf("%s has %s = false, want true", tt.role, p)
				}
			}
			for _, p := range tt.lack {
				if slices.Contains(perms, p) {
					t.Errorf("%s has %s = true, want false", tt.role, p)
				}
			}
		})
	}
}

func TestRolesAreWellFormed(t *testing.T) {
	t.Parallel()
	if got, want := len(Roles()), len(roles); got != want {
		t.Errorf("len(Roles()) = %d, want %d", got, want)
	}
	for _, name := range Roles() {
		perms, _ := RolePermissions(name)
		for i, p := range perms {
			if !IsPermission(p) {
				t.Errorf("%s grants unknown permission %q", name, p)
			}
			if i > 0 && perms[i-1] == p {
				t.Errorf("%s lists %q twice", name, p)
			}
		}
	}
	admin, _ := RolePermissions(RoleAdmin)
	if !slices.Equal(admin, Permissions()) {
		t.Errorf("RolePermissions(%s) = %v, want every permission %v", RoleAdmin, admin, Permissions())
	}
	if _, ok := RolePermissions("roles/owner"); ok {
		t.Errorf("RolePermissions(roles/owner) ok = true, want false")
	}
}

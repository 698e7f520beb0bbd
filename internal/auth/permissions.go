package auth

import (
	"slices"
	"strings"
)

// IAM permissions of the plain Application Integration product, named
// exactly as Google names them (reference.md §8.A.1). The Apigee and
// Security product twins (integrations.apigee*, integrations.security*) are
// not modelled.
const (
	IntegrationsCreate              = "integrations.integrations.create"
	IntegrationsDelete              = "integrations.integrations.delete"
	IntegrationsDeploy              = "integrations.integrations.deploy"
	IntegrationsGenerateOpenAPISpec = "integrations.integrations.generateOpenApiSpec"
	IntegrationsGet                 = "integrations.integrations.get"
	IntegrationsInvoke              = "integrations.integrations.invoke"
	IntegrationsList                = "integrations.integrations.list"
	IntegrationsUpdate              = "integrations.integrations.update"

	IntegrationVersionsCreate = "integrations.integrationVersions.create"
	IntegrationVersionsDelete = "integrations.integrationVersions.delete"
	IntegrationVersionsDeploy = "integrations.integrationVersions.deploy"
	IntegrationVersionsGet    = "integrations.integrationVersions.get"
	IntegrationVersionsInvoke = "integrations.integrationVersions.invoke"
	IntegrationVersionsList   = "integrations.integrationVersions.list"
	IntegrationVersionsUpdate = "integrations.integrationVersions.update"

	ExecutionsCancel = "integrations.executions.cancel"
	ExecutionsGet    = "integrations.executions.get"
	ExecutionsList   = "integrations.executions.list"
	ExecutionsReplay = "integrations.executions.replay"

	SuspensionsLift    = "integrations.suspensions.lift"
	SuspensionsList    = "integrations.suspensions.list"
	SuspensionsResolve = "integrations.suspensions.resolve"

	TestCasesCreate = "integrations.testCases.create"
	TestCasesDelete = "integrations.testCases.delete"
	TestCasesGet    = "integrations.testCases.get"
	TestCasesInvoke = "integrations.testCases.invoke"
	TestCasesList   = "integrations.testCases.list"
	TestCasesUpdate = "integrations.testCases.update"

	AuthConfigsCreate = "integrations.authConfigs.create"
	AuthConfigsDelete = "integrations.authConfigs.delete"
	AuthConfigsGet    = "integrations.authConfigs.get"
	AuthConfigsList   = "integrations.authConfigs.list"
	AuthConfigsUpdate = "integrations.authConfigs.update"

	CertificatesCreate = "integrations.certificates.create"
	CertificatesDelete = "integrations.certificates.delete"
	CertificatesGet    = "integrations.certificates.get"
	CertificatesList   = "integrations.certificates.list"
	CertificatesUpdate = "integrations.certificates.update"

	SfdcChannelsCreate = "integrations.sfdcChannels.create"
	SfdcChannelsDelete = "integrations.sfdcChannels.delete"
	SfdcChannelsGet    = "integrations.sfdcChannels.get"
	SfdcChannelsList   = "integrations.sfdcChannels.list"
	SfdcChannelsUpdate = "integrations.sfdcChannels.update"

	SfdcInstancesCreate = "integrations.sfdcInstances.create"
	SfdcInstancesDelete = "integrations.sfdcInstances.delete"
	SfdcInstancesGet    = "integrations.sfdcInstances.get"
	SfdcInstancesList   = "integrations.sfdcInstances.list"
	SfdcInstancesUpdate = "integrations.sfdcInstances.update"

	TemplatesCreate  = "integrations.templates.create"
	TemplatesDelete  = "integrations.templates.delete"
	TemplatesGet     = "integrations.templates.get"
	TemplatesList    = "integrations.templates.list"
	TemplatesShare   = "integrations.templates.share"
	TemplatesUnshare = "integrations.templates.unshare"
	TemplatesUpdate  = "integrations.templates.update"
	TemplatesUse     = "integrations.templates.use"
)

// allPermissions is the whole vocabulary: what roles/integrations.admin grants.
var allPermissions = []string{
	AuthConfigsCreate, AuthConfigsDelete, AuthConfigsGet, AuthConfigsList, AuthConfigsUpdate,
	CertificatesCreate, CertificatesDelete, CertificatesGet, CertificatesList, CertificatesUpdate,
	ExecutionsCancel, ExecutionsGet, ExecutionsList, ExecutionsReplay,
	IntegrationVersionsCreate, IntegrationVersionsDelete, IntegrationVersionsDeploy, IntegrationVersionsGet,
	IntegrationVersionsInvoke, IntegrationVersionsList, IntegrationVersionsUpdate,
	IntegrationsCreate, IntegrationsDelete, IntegrationsDeploy, IntegrationsGenerateOpenAPISpec,
	IntegrationsGet, IntegrationsInvoke, IntegrationsList, IntegrationsUpdate,
	SfdcChannelsCreate, SfdcChannelsDelete, SfdcChannelsGet, SfdcChannelsList, SfdcChannelsUpdate,
	SfdcInstancesCreate, SfdcInstancesDelete, SfdcInstancesGet, SfdcInstancesList, SfdcInstancesUpdate,
	SuspensionsLift, SuspensionsList, SuspensionsResolve,
	TemplatesCreate, TemplatesDelete, TemplatesGet, TemplatesList, TemplatesShare, TemplatesUnshare,
	TemplatesUpdate, TemplatesUse,
	TestCasesCreate, TestCasesDelete, TestCasesGet, TestCasesInvoke, TestCasesList, TestCasesUpdate,
}

// Permissions returns every permission this package knows, sorted. The
// caller may modify the result.
func Permissions() []string {
	p := slices.Clone(allPermissions)
	slices.Sort(p)
	return p
}

// IsPermission reports whether p is a known permission name.
func IsPermission(p string) bool {
	return slices.Contains(allPermissions, p)
}

// Names of the built-in predefined roles (reference.md §8.A.2).
const (
	RoleIntegrationAdmin    = "roles/integrations.integrationAdmin"
	RoleIntegrationEditor   = "roles/integrations.integrationEditor"
	RoleIntegrationInvoker  = "roles/integrations.integrationInvoker"
	RoleIntegrationViewer   = "roles/integrations.integrationViewer"
	RoleIntegrationDeployer = "roles/integrations.integrationDeployer"
	RoleSuspensionResolver  = "roles/integrations.suspensionResolver"
	RoleAdmin               = "roles/integrations.admin"
	RoleViewer              = "roles/integrations.viewer"
	RoleCertificateViewer   = "roles/integrations.certificateViewer"
	RoleSfdcInstanceAdmin   = "roles/integrations.sfdcInstanceAdmin"
	RoleSfdcInstanceEditor  = "roles/integrations.sfdcInstanceEditor"
	RoleSfdcInstanceViewer  = "roles/integrations.sfdcInstanceViewer"
)

// roles lists the plain-product permissions of each predefined role, as the
// table of reference.md §8.A.2 gives them (resourcemanager.projects.* and the
// apigee*/security* twins are left out). Note that only Invoker and
// integrations.admin carry integrationVersions.invoke.
var roles = map[string][]string{
	RoleIntegrationAdmin: {
		AuthConfigsCreate, AuthConfigsDelete, AuthConfigsGet, AuthConfigsList, AuthConfigsUpdate,
		CertificatesCreate, CertificatesDelete, CertificatesGet, CertificatesList, CertificatesUpdate,
		ExecutionsCancel, ExecutionsGet, ExecutionsList, ExecutionsReplay,
		IntegrationVersionsCreate, IntegrationVersionsDelete, IntegrationVersionsDeploy,
		IntegrationVersionsGet, IntegrationVersionsList, IntegrationVersionsUpdate,
		IntegrationsCreate, IntegrationsDelete, IntegrationsDeploy, IntegrationsGenerateOpenAPISpec,
		IntegrationsGet, IntegrationsInvoke, IntegrationsList, IntegrationsUpdate,
		SfdcChannelsCreate, SfdcChannelsDelete, SfdcChannelsGet, SfdcChannelsList, SfdcChannelsUpdate,
		SfdcInstancesCreate, SfdcInstancesDelete, SfdcInstancesGet, SfdcInstancesList, SfdcInstancesUpdate,
		SuspensionsLift, SuspensionsList, SuspensionsResolve,
		TemplatesCreate, TemplatesDelete, TemplatesGet, TemplatesList, TemplatesShare, TemplatesUnshare,
		TemplatesUpdate, TemplatesUse,
		TestCasesCreate, TestCasesDelete, TestCasesGet, TestCasesInvoke, TestCasesList, TestCasesUpdate,
	},
	RoleIntegrationEditor: {
		AuthConfigsCreate, AuthConfigsGet, AuthConfigsList, AuthConfigsUpdate,
		CertificatesGet,
		ExecutionsCancel, ExecutionsGet, ExecutionsList, ExecutionsReplay,
		IntegrationVersionsCreate, IntegrationVersionsDelete, IntegrationVersionsDeploy,
		IntegrationVersionsGet, IntegrationVersionsList, IntegrationVersionsUpdate,
		IntegrationsCreate, IntegrationsGenerateOpenAPISpec, IntegrationsGet, IntegrationsInvoke,
		IntegrationsList, IntegrationsUpdate,
		SfdcChannelsCreate, SfdcChannelsDelete, SfdcChannelsGet, SfdcChannelsList, SfdcChannelsUpdate,
		SfdcInstancesCreate, SfdcInstancesDelete, SfdcInstancesGet, SfdcInstancesList, SfdcInstancesUpdate,
		TemplatesCreate, TemplatesDelete, TemplatesGet, TemplatesList, TemplatesShare, TemplatesUnshare,
		TemplatesUpdate, TemplatesUse,
		TestCasesCreate, TestCasesDelete, TestCasesGet, TestCasesInvoke, TestCasesList, TestCasesUpdate,
	},
	RoleIntegrationInvoker: {
		ExecutionsCancel, ExecutionsGet, ExecutionsList, ExecutionsReplay,
		IntegrationVersionsGet, IntegrationVersionsInvoke, IntegrationVersionsList,
		IntegrationsGet, IntegrationsInvoke, IntegrationsList,
		TestCasesGet, TestCasesInvoke, TestCasesList,
	},
	RoleIntegrationViewer: {
		AuthConfigsGet, AuthConfigsList,
		CertificatesGet, CertificatesList,
		ExecutionsGet, ExecutionsList,
		IntegrationVersionsGet, IntegrationVersionsList,
		IntegrationsGenerateOpenAPISpec, IntegrationsGet, IntegrationsList,
		SfdcChannelsList, SfdcInstancesList,
		TemplatesGet, TemplatesList,
		TestCasesGet, TestCasesList,
	},
	RoleIntegrationDeployer: {
		IntegrationVersionsDeploy, IntegrationVersionsGet, IntegrationVersionsList,
		IntegrationsDeploy, IntegrationsGet, IntegrationsList,
	},
	RoleSuspensionResolver: {
		SuspensionsLift, SuspensionsList, SuspensionsResolve,
	},
	RoleAdmin: allPermissions,
	RoleViewer: {
		AuthConfigsGet, AuthConfigsList,
		CertificatesGet, CertificatesList,
		ExecutionsGet, ExecutionsList,
		IntegrationVersionsGet, IntegrationVersionsList,
		IntegrationsGenerateOpenAPISpec, IntegrationsGet, IntegrationsList,
		SfdcChannelsGet, SfdcChannelsList, SfdcInstancesGet, SfdcInstancesList,
		SuspensionsList,
		TemplatesGet, TemplatesList, TemplatesShare, TemplatesUnshare, TemplatesUse,
		TestCasesGet, TestCasesList,
	},
	RoleCertificateViewer: {CertificatesGet},
	RoleSfdcInstanceAdmin: {
		SfdcChannelsCreate, SfdcChannelsDelete, SfdcChannelsGet, SfdcChannelsList, SfdcChannelsUpdate,
		SfdcInstancesCreate, SfdcInstancesDelete, SfdcInstancesGet, SfdcInstancesList, SfdcInstancesUpdate,
	},
	RoleSfdcInstanceEditor: {
		SfdcChannelsCreate, SfdcChannelsGet, SfdcChannelsList, SfdcChannelsUpdate,
		SfdcInstancesCreate, SfdcInstancesGet, SfdcInstancesList, SfdcInstancesUpdate,
	},
	RoleSfdcInstanceViewer: {
		SfdcChannelsGet, SfdcChannelsList, SfdcInstancesGet, SfdcInstancesList,
	},
}

// Roles returns the names of the built-in roles ("roles/integrations.…"),
// sorted.
func Roles() []string {
	var names []string
	for n := range roles {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// RolePermissions returns the permissions of the built-in role name, sorted.
// name may omit the "roles/" prefix ("integrations.integrationInvoker").
// ok is false for an unknown role.
func RolePermissions(name string) (perms []string, ok bool) {
	p, ok := roles[canonicalRole(name)]
	if !ok {
		return nil, false
	}
	p = slices.Clone(p)
	slices.Sort(p)
	return p, true
}

func canonicalRole(name string) string {
	if strings.HasPrefix(name, "roles/") {
		return name
	}
	return "roles/" + name
}

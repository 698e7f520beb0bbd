// Package auth authenticates API callers and checks that they hold the IAM
// permission a method needs, with Google's permission and predefined role
// names (reference.md §8.A).
//
// Every API method calls one Authorizer with the permission of the audit
// logging table (https://docs.cloud.google.com/application-integration/docs/audit-logging)
// and the resource name it acts on. Two implementations exist: AllowAll,
// the default, and a bearer-token authorizer built from a Config.
package auth

import (
	"net/http"

	"github.com/integrationd/integrationd/internal/rpc"
)

// Principal is an authenticated caller, named as IAM members are
// ("user:alice@example.com", "serviceAccount:ci@p.iam.gserviceaccount.com").
type Principal struct {
	Name string
}

// Anonymous is the principal of requests that AllowAll admits.
var Anonymous = Principal{Name: "anonymous"}

// Authorizer authenticates the caller of r and checks that it holds
// permission on resource (a resource name such as
// "projects/p/locations/l/integrations/x").
//
// The error is an *rpc.Error: UNAUTHENTICATED when the request carries no
// valid credentials, PERMISSION_DENIED (see PermissionDenied) when the
// caller lacks the permission. With PERMISSION_DENIED the caller's
// principal is returned too, for audit logs. Implementations are safe for
// concurrent use.
type Authorizer interface {
	Authorize(r *http.Request, permission, resource string) (Principal, error)
}

// AllowAll returns the Authorizer that needs no credentials and allows
// everything, always as Anonymous. It is the default when no auth config is
// given.
func AllowAll() Authorizer { return allowAll{} }

type allowAll struct{}

var _ Authorizer = allowAll{}

func (allowAll) Authorize(*http.Request, string, string) (Principal, error) {
	return Anonymous, nil
}

// PermissionDenied returns the PERMISSION_DENIED error Google returns when
// the caller lacks permission on resource:
//
//	Permission 'integrations.integrations.invoke' denied on resource 'projects/p/locations/l/integrations/x' (or it may not exist).
//
// with a google.rpc.ErrorInfo detail of reason IAM_PERMISSION_DENIED, domain
// iam.googleapis.com and metadata {"permission", "resource"}. With an empty
// resource the message ends after "denied".
func PermissionDenied(permission, resource string) *rpc.Error {
	var e *rpc.Error
	md := map[string]string{"permission": permission}
	if resource == "" {
		e = rpc.Errorf(rpc.CodePermissionDenied, "Permission '%s' denied.", permission)
	} else {
		e = rpc.Errorf(rpc.CodePermissionDenied, "Permission '%s' denied on resource '%s' (or it may not exist).", permission, resource)
		md["resource"] = resource
	}
	return e.WithErrorInfo("IAM_PERMISSION_DENIED", "iam.googleapis.com", md)
}

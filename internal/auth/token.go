package auth

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/integrationd/integrationd/internal/rpc"
)

// NewTokenAuthorizer returns an Authorizer that authenticates requests by
// their "Authorization: Bearer <token>" header against cfg's tokens and
// grants each principal the permissions of its bindings. cfg is validated
// (see Config.Validate) and may be changed afterwards without effect.
//
// Presented tokens are hashed with SHA-256 and compared with every
// configured digest in constant time.
func NewTokenAuthorizer(cfg *Config) (Authorizer, error) {
	c, err := compile(cfg)
	if err != nil {
		return nil, err
	}
	return &tokenAuthorizer{c}, nil
}

type tokenAuthorizer struct{ c *compiled }

var _ Authorizer = (*tokenAuthorizer)(nil)

// Messages of the UNAUTHENTICATED errors; the first is Google's.
const (
	msgMissing = "Request is missing required authentication credential. Expected an 'Authorization: Bearer <token>' header."
	msgScheme  = "Request had invalid authentication credentials. The Authorization header is not of the form 'Bearer <token>'."
	msgUnknown = "Request had invalid authentication credentials. Unknown bearer token."
)

func (a *tokenAuthorizer) Authorize(r *http.Request, permission, resource string) (Principal, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return Principal{}, rpc.Errorf(rpc.CodeUnauthenticated, msgMissing).
			WithErrorInfo("CREDENTIALS_MISSING", "googleapis.com", nil)
	}
	scheme, token, _ := strings.Cut(h, " ")
	token = strings.TrimSpace(token)
	if !strings.EqualFold(scheme, "Bearer") || token == "" {
		return Principal{}, rpc.Errorf(rpc.CodeUnauthenticated, msgScheme)
	}
	p, ok := a.lookup(token)
	if !ok {
		return Principal{}, rpc.Errorf(rpc.CodeUnauthenticated, msgUnknown)
	}
	if !a.c.grants[p.Name][permission] {
		return p, PermissionDenied(permission, resource)
	}
	return p, nil
}

// lookup finds the principal of token. It compares the token's digest with
// every configured digest, without stopping at a match, so that its timing
// tells nothing about which or how many tokens exist.
func (a *tokenAuthorizer) lookup(token string) (Principal, bool) {
	d := sha256.Sum256([]byte(token))
	found := -1
	for i := range a.c.tokens {
		if subtle.ConstantTimeCompare(d[:], a.c.tokens[i].digest[:]) == 1 {
			found = i
		}
	}
	if found < 0 {
		return Principal{}, false
	}
	return Principal{Name: a.c.tokens[found].principal}, true
}

package credential

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// New validates c and cert (either may be nil, not both) and compiles them
// into an Applier. A malformed credential is a *FieldError naming the
// field. Credentials that are well-formed but cannot be used by
// integrationd (an OIDC token that is missing, a service account without
// its key, an authorization code without a refresh token) compile, and
// their Apply fails with an explanation.
func New(c *Credential, cert *ClientCertificate, opts Options) (Applier, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	a := &applier{}
	if !cert.IsZero() {
		tc, err := parseClientCertificate(cert)
		if err != nil {
			return nil, err
		}
		a.cert = tc
	}
	typ := ""
	if c != nil {
		typ = c.CredentialType
	}
	var err error
	switch typ {
	case TypeUsernameAndPassword:
		a.auth, err = newBasic(c.UsernameAndPassword)
	case TypeAuthToken:
		a.auth, err = newAuthToken(c.AuthToken)
	case TypeAPIKey:
		a.auth, err = newAPIKey(c.AuthToken)
	case TypeOAuth2ClientCredentials:
		a.auth, err = newClientCredentials(c.OAuth2ClientCredentials, opts)
	case TypeOAuth2ResourceOwnerCredentials:
		a.auth, err = newResourceOwner(c.OAuth2ResourceOwnerCredentials, opts)
	case TypeOAuth2AuthorizationCode:
		a.auth, err = newAuthorizationCode(c.OAuth2AuthorizationCode, opts)
	case TypeJWT:
		a.auth, err = newJWT(c.JWT)
	case TypeOIDCToken:
		a.auth, err = newOIDC(c.OIDCToken, opts)
	case TypeServiceAccount:
		a.auth, err = newServiceAccount(c.ServiceAccountCredentials, opts)
	case TypeClientCertificateOnly:
		if a.cert == nil {
			return nil, fieldErr("client_certificate", "credential type %s needs a client certificate (the clientCertificate.sslCertificate and clientCertificate.encryptedPrivateKey parameters)", typ)
		}
		a.auth = noAuth{}
	case "", TypeUnspecified:
		if a.cert == nil {
			return nil, fieldErr("credential_type", "is required: one of %s", strings.Join(Types[1:], ", "))
		}
		a.auth = noAuth{}
	case TypeOAuth2Implicit:
		return nil, fieldErr("credential_type", "%s is not supported: the implicit grant gives tokens to browsers, not to servers", typ)
	default:
		return nil, fieldErr("credential_type", "unknown credential type %q", typ)
	}
	if err != nil {
		return nil, err
	}
	return a, nil
}

// authenticator is the request-side half of an Applier.
type authenticator interface {
	apply(ctx context.Context, req *http.Request, client *http.Client) error
}

type applier struct {
	auth authenticator
	cert *tls.Certificate
}

var _ Applier = (*applier)(nil)

func (a *applier) Apply(ctx context.Context, req *http.Request, client *http.Client) error {
	return a.auth.apply(ctx, req, client)
}

func (a *applier) ClientCertificate() *tls.Certificate { return a.cert }

type noAuth struct{}

func (noAuth) apply(context.Context, *http.Request, *http.Client) error { return nil }

type basicAuth struct{ user, pass string }

func (b basicAuth) apply(_ context.Context, req *http.Request, _ *http.Client) error {
	req.SetBasicAuth(b.user, b.pass)
	return nil
}

func newBasic(u *UsernameAndPassword) (authenticator, error) {
	if u == nil {
		return nil, fieldErr("username_and_password", "is required for credential type %s", TypeUsernameAndPassword)
	}
	if u.Username == "" {
		return nil, fieldErr("username_and_password.username", "is required")
	}
	if strings.Contains(u.Username, ":") {
		return nil, fieldErr("username_and_password.username", "must not contain ':' (HTTP Basic authentication cannot carry it)")
	}
	return basicAuth{u.Username, u.Password}, nil
}

type headerAuth struct{ name, value string }

func (h headerAuth) apply(_ context.Context, req *http.Request, _ *http.Client) error {
	req.Header.Set(h.name, h.value)
	return nil
}

type queryAuth struct{ name, value string }

func (q queryAuth) apply(_ context.Context, req *http.Request, _ *http.Client) error {
	u := *req.URL
	if u.RawQuery != "" {
		u.RawQuery += "&"
	}
	u.RawQuery += url.QueryEscape(q.name) + "=" + url.QueryEscape(q.value)
	req.URL = &u
	return nil
}

// bearer sends a fixed token.
func bearer(token string) authenticator { return headerAuth{"Authorization", "Bearer " + token} }

func newAuthToken(t *AuthToken) (authenticator, error) {
	if t == nil {
		return nil, fieldErr("auth_token", "is required for credential type %s", TypeAuthToken)
	}
	if t.Token == "" {
		return nil, fieldErr("auth_token.token", "is required")
	}
	typ := strings.TrimSpace(t.Type)
	if typ == "" {
		typ = "Bearer"
	}
	if !isToken(typ) {
		return nil, fieldErr("auth_token.type", "%q is not an authentication scheme name (such as Bearer or Basic)", t.Type)
	}
	if !validHeaderValue(t.Token) {
		return nil, fieldErr("auth_token.token", "must not contain control characters")
	}
	return headerAuth{"Authorization", typ + " " + t.Token}, nil
}

// DefaultAPIKeyHeader is the header of an API_KEY credential whose
// authToken.type is empty.
const DefaultAPIKeyHeader = "X-API-Key"

func newAPIKey(t *AuthToken) (authenticator, error) {
	if t == nil {
		return nil, fieldErr("auth_token", "is required for credential type %s: the key in auth_token.token, the header name (default %s) or query:PARAMETER in auth_token.type", TypeAPIKey, DefaultAPIKeyHeader)
	}
	if t.Token == "" {
		return nil, fieldErr("auth_token.token", "is required: the API key")
	}
	if !validHeaderValue(t.Token) {
		return nil, fieldErr("auth_token.token", "must not contain control characters")
	}
	where := strings.TrimSpace(t.Type)
	if p, ok := strings.CutPrefix(where, "query:"); ok {
		if p = strings.TrimSpace(p); p == "" {
			return nil, fieldErr("auth_token.type", "query: needs a parameter name, as in query:key")
		}
		return queryAuth{p, t.Token}, nil
	}
	if where == "" {
		where = DefaultAPIKeyHeader
	}
	if !isToken(where) {
		return nil, fieldErr("auth_token.type", "%q is neither a header name nor query:PARAMETER", t.Type)
	}
	return headerAuth{where, t.Token}, nil
}

// oidcAuth sends a stored ID token while it is valid.
type oidcAuth struct {
	token, audience string
	expire          time.Time
	now             func() time.Time
}

func (o oidcAuth) apply(_ context.Context, req *http.Request, _ *http.Client) error {
	const cannot = "integrationd cannot mint Google ID tokens"
	if o.token == "" {
		return fmt.Errorf("OIDC_TOKEN: no ID token is stored and %s (audience %q): store a current token in oidc_token.token", cannot, o.audience)
	}
	if !o.expire.IsZero() && !o.now().Before(o.expire) {
		return fmt.Errorf("OIDC_TOKEN: the stored ID token expired at %s and %s: store a fresh one in oidc_token.token", o.expire.UTC().Format(time.RFC3339), cannot)
	}
	req.Header.Set("Authorization", "Bearer "+o.token)
	return nil
}

func newOIDC(o *OIDCToken, opts Options) (authenticator, error) {
	if o == nil {
		return nil, fieldErr("oidc_token", "is required for credential type %s", TypeOIDCToken)
	}
	exp, err := parseTime(o.TokenExpireTime, "oidc_token.token_expire_time")
	if err != nil {
		return nil, err
	}
	if !validHeaderValue(o.Token) {
		return nil, fieldErr("oidc_token.token", "must not contain control characters")
	}
	return oidcAuth{token: o.Token, audience: o.Audience, expire: exp, now: opts.Now}, nil
}

// failing compiles a credential that integrationd cannot use: every Apply
// explains why.
type failing struct{ err error }

func (f failing) apply(context.Context, *http.Request, *http.Client) error { return f.err }

func parseTime(s, path string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fieldErr(path, "%q is not an RFC 3339 time", s)
	}
	return t, nil
}

// isToken reports whether s is an RFC 9110 token (a header name or an
// authentication scheme).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0 {
			continue
		}
		return false
	}
	return true
}

func validHeaderValue(s string) bool {
	return !strings.ContainsAny(s, "\r\n\x00")
}

// Package credential turns the credential of an auth config
// (GoogleCloudIntegrationsV1alphaCredential, with an optional TLS client
// certificate) into an Applier that authenticates outbound HTTP requests:
// Basic auth, a token header, an API key, OAuth 2.0 access tokens fetched
// and cached, signed JWTs, stored OIDC tokens, service-account keys and
// client certificates. See docs/authconfigs.md.
//
// New validates and compiles a credential once; the Applier it returns is
// safe for concurrent use and caches fetched tokens until shortly before
// they expire.
package credential

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"time"

	"github.com/integrationd/integrationd/internal/spec"
)

// Credential types, as Google names them (AuthConfig.credentialType).
const (
	TypeUnspecified                    = "CREDENTIAL_TYPE_UNSPECIFIED"
	TypeUsernameAndPassword            = "USERNAME_AND_PASSWORD"
	TypeAPIKey                         = "API_KEY"
	TypeOAuth2AuthorizationCode        = "OAUTH2_AUTHORIZATION_CODE"
	TypeOAuth2Implicit                 = "OAUTH2_IMPLICIT"
	TypeOAuth2ClientCredentials        = "OAUTH2_CLIENT_CREDENTIALS"
	TypeOAuth2ResourceOwnerCredentials = "OAUTH2_RESOURCE_OWNER_CREDENTIALS"
	TypeJWT                            = "JWT"
	TypeAuthToken                      = "AUTH_TOKEN"
	TypeServiceAccount                 = "SERVICE_ACCOUNT"
	TypeClientCertificateOnly          = "CLIENT_CERTIFICATE_ONLY"
	TypeOIDCToken                      = "OIDC_TOKEN"
)

// Types lists the credential types of Google's enum, in its order.
var Types = []string{
	TypeUnspecified, TypeUsernameAndPassword, TypeAPIKey, TypeOAuth2AuthorizationCode, TypeOAuth2Implicit,
	TypeOAuth2ClientCredentials, TypeOAuth2ResourceOwnerCredentials, TypeJWT, TypeAuthToken, TypeServiceAccount,
	TypeClientCertificateOnly, TypeOIDCToken,
}

// OAuth 2.0 token request styles (requestType).
const (
	RequestTypeUnspecified     = "REQUEST_TYPE_UNSPECIFIED"
	RequestTypeRequestBody     = "REQUEST_BODY"
	RequestTypeQueryParameters = "QUERY_PARAMETERS"
	RequestTypeEncodedHeader   = "ENCODED_HEADER"
)

// Credential is GoogleCloudIntegrationsV1alphaCredential: the type and the
// one message of that type.
type Credential struct {
	CredentialType                 string                          `json:"credentialType,omitempty"`
	UsernameAndPassword            *UsernameAndPassword            `json:"usernameAndPassword,omitempty"`
	AuthToken                      *AuthToken                      `json:"authToken,omitempty"`
	OAuth2ClientCredentials        *OAuth2ClientCredentials        `json:"oauth2ClientCredentials,omitempty"`
	OAuth2ResourceOwnerCredentials *OAuth2ResourceOwnerCredentials `json:"oauth2ResourceOwnerCredentials,omitempty"`
	OAuth2AuthorizationCode        *OAuth2AuthorizationCode        `json:"oauth2AuthorizationCode,omitempty"`
	JWT                            *JWT                            `json:"jwt,omitempty"`
	OIDCToken                      *OIDCToken                      `json:"oidcToken,omitempty"`
	ServiceAccountCredentials      *ServiceAccountCredentials      `json:"serviceAccountCredentials,omitempty"`
}

// UsernameAndPassword is sent as HTTP Basic authentication.
type UsernameAndPassword struct {
	Username string `json:"username,omitempty"`
	Password string `json:"password,omitempty"`
}

// AuthToken is sent as "Authorization: <Type> <Token>" (Type defaults to
// Bearer). With credential type API_KEY, Type names the header that
// carries Token (default X-API-Key), or "query:NAME" for a query parameter.
type AuthToken struct {
	Type  string `json:"type,omitempty"`
	Token string `json:"token,omitempty"`
}

// AccessToken is an OAuth 2.0 token obtained earlier. Times are RFC 3339.
type AccessToken struct {
	AccessToken            string `json:"accessToken,omitempty"`
	AccessTokenExpireTime  string `json:"accessTokenExpireTime,omitempty"`
	RefreshToken           string `json:"refreshToken,omitempty"`
	RefreshTokenExpireTime string `json:"refreshTokenExpireTime,omitempty"`
	TokenType              string `json:"tokenType,omitempty"`
}

// ParameterMap is GoogleCloudIntegrationsV1alphaParameterMap: extra
// parameters of a token request.
type ParameterMap struct {
	Entries   []ParameterMapEntry `json:"entries,omitempty"`
	KeyType   string              `json:"keyType,omitempty"`
	ValueType string              `json:"valueType,omitempty"`
}

// ParameterMapEntry is one entry of a ParameterMap. Only literal values are
// meaningful in a credential.
type ParameterMapEntry struct {
	Key   ParameterMapField `json:"key"`
	Value ParameterMapField `json:"value"`
}

// ParameterMapField is a literal value or a reference to a variable.
type ParameterMapField struct {
	LiteralValue *spec.ValueType `json:"literalValue,omitempty"`
	ReferenceKey string          `json:"referenceKey,omitempty"`
}

// OAuth2ClientCredentials is the client credentials grant (RFC 6749 §4.4).
type OAuth2ClientCredentials struct {
	ClientID      string        `json:"clientId,omitempty"`
	ClientSecret  string        `json:"clientSecret,omitempty"`
	TokenEndpoint string        `json:"tokenEndpoint,omitempty"`
	Scope         string        `json:"scope,omitempty"`
	RequestType   string        `json:"requestType,omitempty"`
	TokenParams   *ParameterMap `json:"tokenParams,omitempty"`
	AccessToken   *AccessToken  `json:"accessToken,omitempty"`
}

// OAuth2ResourceOwnerCredentials is the password grant (RFC 6749 §4.3).
type OAuth2ResourceOwnerCredentials struct {
	ClientID      string        `json:"clientId,omitempty"`
	ClientSecret  string        `json:"clientSecret,omitempty"`
	TokenEndpoint string        `json:"tokenEndpoint,omitempty"`
	Scope         string        `json:"scope,omitempty"`
	RequestType   string        `json:"requestType,omitempty"`
	TokenParams   *ParameterMap `json:"tokenParams,omitempty"`
	Username      string        `json:"username,omitempty"`
	Password      string        `json:"password,omitempty"`
	AccessToken   *AccessToken  `json:"accessToken,omitempty"`
}

// OAuth2AuthorizationCode is the authorization code grant; integrationd
// uses its stored access token and refreshes it with the refresh token.
type OAuth2AuthorizationCode struct {
	ClientID          string        `json:"clientId,omitempty"`
	ClientSecret      string        `json:"clientSecret,omitempty"`
	AuthEndpoint      string        `json:"authEndpoint,omitempty"`
	TokenEndpoint     string        `json:"tokenEndpoint,omitempty"`
	Scope             string        `json:"scope,omitempty"`
	RequestType       string        `json:"requestType,omitempty"`
	AuthCode          string        `json:"authCode,omitempty"`
	AuthParams        *ParameterMap `json:"authParams,omitempty"`
	TokenParams       *ParameterMap `json:"tokenParams,omitempty"`
	ApplyReauthPolicy bool          `json:"applyReauthPolicy,omitempty"`
	AccessToken       *AccessToken  `json:"accessToken,omitempty"`
}

// JWT is signed with Secret (HS256 unless JWTHeader names HS384 or HS512)
// over JWTHeader and JWTPayload; a JWT given ready-made is sent as is.
type JWT struct {
	JWTHeader  string `json:"jwtHeader,omitempty"`
	JWTPayload string `json:"jwtPayload,omitempty"`
	Secret     string `json:"secret,omitempty"`
	JWT        string `json:"jwt,omitempty"`
}

// OIDCToken is a Google ID token obtained elsewhere; integrationd cannot
// mint one and sends Token while it is unexpired.
type OIDCToken struct {
	Audience            string `json:"audience,omitempty"`
	ServiceAccountEmail string `json:"serviceAccountEmail,omitempty"`
	Token               string `json:"token,omitempty"`
	TokenExpireTime     string `json:"tokenExpireTime,omitempty"`
}

// ServiceAccountCredentials names a service account. integrationd needs the
// account's JSON key to act as it: ServiceAccount may hold the key file's
// JSON text instead of the account's e-mail (see docs/authconfigs.md).
type ServiceAccountCredentials struct {
	ServiceAccount string `json:"serviceAccount,omitempty"`
	Scope          string `json:"scope,omitempty"`
}

// ClientCertificate is the TLS client certificate of an auth config (the
// clientCertificate.* query parameters of create and patch): PEM
// certificate chain, PEM private key, and the key's passphrase when the key
// is encrypted.
type ClientCertificate struct {
	SSLCertificate      string `json:"sslCertificate,omitempty"`
	EncryptedPrivateKey string `json:"encryptedPrivateKey,omitempty"`
	Passphrase          string `json:"passphrase,omitempty"`
}

// IsZero reports whether c carries nothing.
func (c *ClientCertificate) IsZero() bool {
	return c == nil || (c.SSLCertificate == "" && c.EncryptedPrivateKey == "" && c.Passphrase == "")
}

// Applier authenticates outbound requests with one auth config.
// Implementations are safe for concurrent use.
type Applier interface {
	// Apply adds the credential to req: a header or a query parameter.
	// Token requests, when a token must be fetched or refreshed, go
	// through client (so they pass the same destination checks as req)
	// and are bounded by ctx. Errors never contain secrets.
	Apply(ctx context.Context, req *http.Request, client *http.Client) error
	// ClientCertificate returns the TLS client certificate to present on
	// the connection, nil when there is none.
	ClientCertificate() *tls.Certificate
}

// Options tune the Appliers New returns.
type Options struct {
	// Now is the clock that decides when tokens expire. Default: time.Now.
	Now func() time.Time
}

// FieldError is a problem with one field of the credential. Path is the
// field in snake_case, relative to the credential ("jwt.jwt_header"), or
// "client_certificate.…" for the certificate.
type FieldError struct {
	Path string
	Msg  string
}

func (e *FieldError) Error() string { return e.Path + ": " + e.Msg }

func fieldErr(path, format string, args ...any) *FieldError {
	return &FieldError{Path: path, Msg: fmt.Sprintf(format, args...)}
}

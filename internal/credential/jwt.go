package credential

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"strings"

	jwtlib "github.com/golang-jwt/jwt/v5"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/jwt"
)

// jwtMethods are the algorithms a JWT credential's header may name: a
// shared secret signs, so only the HMAC family applies.
var jwtMethods = map[string]jwtlib.SigningMethod{
	"HS256": jwtlib.SigningMethodHS256,
	"HS384": jwtlib.SigningMethodHS384,
	"HS512": jwtlib.SigningMethodHS512,
}

// jsonObject decodes text as a JSON object, keeping numbers as written.
// Empty text is an empty object.
func jsonObject(text, path string) (map[string]any, error) {
	m := map[string]any{}
	if strings.TrimSpace(text) == "" {
		return m, nil
	}
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return nil, fieldErr(path, "is not a JSON object: %v", err)
	}
	if dec.More() {
		return nil, fieldErr(path, "has text after the JSON object")
	}
	return m, nil
}

// newJWT signs the token once: the header and payload are fixed, so every
// request sends the same JWT (integrationd adds no iat or exp claims).
func newJWT(j *JWT) (authenticator, error) {
	if j == nil {
		return nil, fieldErr("jwt", "is required for credential type %s", TypeJWT)
	}
	if j.Secret == "" {
		if j.JWT != "" {
			if !validHeaderValue(j.JWT) {
				return nil, fieldErr("jwt.jwt", "must not contain control characters")
			}
			return bearer(j.JWT), nil
		}
		return nil, fieldErr("jwt.secret", "is required (or a ready-made token in jwt.jwt)")
	}
	header, err := jsonObject(j.JWTHeader, "jwt.jwt_header")
	if err != nil {
		return nil, err
	}
	alg := "HS256"
	if a, ok := header["alg"]; ok {
		s, _ := a.(string)
		alg = strings.ToUpper(s)
	}
	method, ok := jwtMethods[alg]
	if !ok {
		return nil, fieldErr("jwt.jwt_header", "alg %v is not supported: HS256, HS384 or HS512 (a shared secret signs)", header["alg"])
	}
	payload, err := jsonObject(j.JWTPayload, "jwt.jwt_payload")
	if err != nil {
		return nil, err
	}
	tok := jwtlib.NewWithClaims(method, jwtlib.MapClaims(payload))
	for k, v := range header {
		if k != "alg" {
			tok.Header[k] = v
		}
	}
	signed, err := tok.SignedString([]byte(j.Secret))
	if err != nil {
		return nil, fieldErr("jwt", "cannot sign: %v", err)
	}
	return bearer(signed), nil
}

// DefaultServiceAccountScope is the scope of a SERVICE_ACCOUNT credential
// whose scope is empty.
const DefaultServiceAccountScope = "https://www.googleapis.com/auth/cloud-platform"

// serviceAccountKey is the part of a Google service account JSON key file
// that integrationd uses.
type serviceAccountKey struct {
	Type         string `json:"type"`
	ClientEmail  string `json:"client_email"`
	PrivateKey   string `json:"private_key"`
	PrivateKeyID string `json:"private_key_id"`
	TokenURI     string `json:"token_uri"`
}

func parseServiceAccountKey(text string) (*serviceAccountKey, error) {
	const path = "service_account_credentials.service_account"
	var k serviceAccountKey
	if err := json.Unmarshal([]byte(text), &k); err != nil {
		return nil, fieldErr(path, "looks like a JSON key but does not decode: %v", err)
	}
	if k.Type != "" && k.Type != "service_account" {
		return nil, fieldErr(path, "the JSON key has type %q, want service_account", k.Type)
	}
	if k.ClientEmail == "" || k.PrivateKey == "" {
		return nil, fieldErr(path, "the JSON key needs client_email and private_key")
	}
	block, _ := pem.Decode([]byte(k.PrivateKey))
	if block == nil {
		return nil, fieldErr(path, "the JSON key's private_key is not PEM")
	}
	var key any
	var err error
	if key, err = x509.ParsePKCS8PrivateKey(block.Bytes); err != nil {
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	}
	if err != nil {
		return nil, fieldErr(path, "the JSON key's private_key does not parse: %v", err)
	}
	if _, ok := key.(*rsa.PrivateKey); !ok {
		return nil, fieldErr(path, "the JSON key's private_key is not an RSA key")
	}
	if k.TokenURI == "" {
		k.TokenURI = "https://oauth2.googleapis.com/token"
	}
	return &k, nil
}

// newServiceAccount exchanges a JWT signed with the account's key for an
// access token at the key's token_uri (RFC 7523, Google's service account
// flow), cached like other OAuth 2.0 tokens.
func newServiceAccount(sa *ServiceAccountCredentials, opts Options) (authenticator, error) {
	if sa == nil {
		return nil, fieldErr("service_account_credentials", "is required for credential type %s", TypeServiceAccount)
	}
	s := strings.TrimSpace(sa.ServiceAccount)
	if s == "" {
		return nil, fieldErr("service_account_credentials.service_account", "is required")
	}
	if !strings.HasPrefix(s, "{") {
		return failing{fmt.Errorf("SERVICE_ACCOUNT: integrationd cannot act as %s without the account's key (Google's service does it through its own service agent): put the account's JSON key in service_account_credentials.service_account", s)}, nil
	}
	k, err := parseServiceAccountKey(s)
	if err != nil {
		return nil, err
	}
	scopes := strings.Fields(sa.Scope)
	if len(scopes) == 0 {
		scopes = []string{DefaultServiceAccountScope}
	}
	_, o, err := tokenRequest{path: "service_account_credentials", tokenEndpoint: k.TokenURI}.compile(opts)
	if err != nil {
		return nil, err
	}
	jc := &jwt.Config{Email: k.ClientEmail, PrivateKey: []byte(k.PrivateKey), PrivateKeyID: k.PrivateKeyID,
		Scopes: scopes, TokenURL: k.TokenURI}
	o.fetch = func(ctx context.Context, _ *oauth2.Token) (*oauth2.Token, error) {
		return jc.TokenSource(ctx).Token()
	}
	return o, nil
}

// serviceAccountEmail returns the client_email of a JSON key, or s itself
// when it is not a key.
func serviceAccountEmail(s string) string {
	t := strings.TrimSpace(s)
	if !strings.HasPrefix(t, "{") {
		return s
	}
	var k serviceAccountKey
	if json.Unmarshal([]byte(t), &k) != nil {
		return ""
	}
	return k.ClientEmail
}

package credential_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jwtlib "github.com/golang-jwt/jwt/v5"

	"github.com/integrationd/integrationd/internal/credential"
	"github.com/integrationd/integrationd/internal/credential/credentialtest"
	"github.com/integrationd/integrationd/internal/spec"
)

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// echo is a server that answers with what a request carried.
func echo(t *testing.T) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]string{
			"authorization": r.Header.Get("Authorization"),
			"x-api-key":     r.Header.Get("X-API-Key"),
			"x-custom":      r.Header.Get("X-Custom"),
			"query":         r.URL.RawQuery,
		})
	}))
	t.Cleanup(s.Close)
	return s
}

func mustNew(t *testing.T, c *credential.Credential, cert *credential.ClientCertificate, now func() time.Time) credential.Applier {
	t.Helper()
	a, err := credential.New(c, cert, credential.Options{Now: now})
	if err != nil {
		t.Fatalf("New: got error %v, want nil", err)
	}
	return a
}

// call applies a to a GET of rawURL and returns what the echo server saw.
func call(t *testing.T, a credential.Applier, rawURL string) (map[string]string, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), "GET", rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Apply(t.Context(), req, http.DefaultClient); err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got map[string]string
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	return got, nil
}

func TestStaticCredentials(t *testing.T) {
	t.Parallel()
	s := echo(t)
	basic := "Basic " + "YWxpY2U6czNjcmV0" // alice:s3cret
	tests := []struct {
		name      string
		cred      *credential.Credential
		url       string
		key, want string
	}{
		{"basic", &credential.Credential{CredentialType: credential.TypeUsernameAndPassword,
			UsernameAndPassword: &credential.UsernameAndPassword{Username: "alice", Password: "s3cret"}}, "", "authorization", basic},
		{"auth token default type", &credential.Credential{CredentialType: credential.TypeAuthToken,
			AuthToken: &credential.AuthToken{Token: "t0k"}}, "", "authorization", "Bearer t0k"},
		{"auth token with type", &credential.Credential{CredentialType: credential.TypeAuthToken,
			AuthToken: &credential.AuthToken{Type: "Token", Token: "t0k"}}, "", "authorization", "Token t0k"},
		{"api key default header", &credential.Credential{CredentialType: credential.TypeAPIKey,
			AuthToken: &credential.AuthToken{Token: "k3y"}}, "", "x-api-key", "k3y"},
		{"api key named header", &credential.Credential{CredentialType: credential.TypeAPIKey,
			AuthToken: &credential.AuthToken{Type: "X-Custom", Token: "k3y"}}, "", "x-custom", "k3y"},
		{"api key in the query", &credential.Credential{CredentialType: credential.TypeAPIKey,
			AuthToken: &credential.AuthToken{Type: "query:key", Token: "k 3&y"}}, "?a=1", "query", "a=1&key=k+3%26y"},
		{"oidc token", &credential.Credential{CredentialType: credential.TypeOIDCToken,
			OIDCToken: &credential.OIDCToken{Token: "id-tok", TokenExpireTime: "2025-06-01T13:00:00Z"}}, "", "authorization", "Bearer id-tok"},
		{"ready-made jwt", &credential.Credential{CredentialType: credential.TypeJWT,
			JWT: &credential.JWT{JWT: "a.b.c"}}, "", "authorization", "Bearer a.b.c"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := mustNew(t, tt.cred, nil, newClock().Now)
			got, err := call(t, a, s.URL+"/"+tt.url)
			if err != nil {
				t.Fatalf("Apply: got error %v, want nil", err)
			}
			if got[tt.key] != tt.want {
				t.Errorf("%s = %q, want %q", tt.key, got[tt.key], tt.want)
			}
		})
	}
}

func TestOIDCCannotMint(t *testing.T) {
	t.Parallel()
	s := echo(t)
	clk := newClock()
	for name, o := range map[string]*credential.OIDCToken{
		"no token": {Audience: "https://svc", ServiceAccountEmail: "sa@p.iam.gserviceaccount.com"},
		"expired":  {Token: "old", TokenExpireTime: "2025-06-01T11:59:59Z"},
	} {
		t.Run(name, func(t *testing.T) {
			a := mustNew(t, &credential.Credential{CredentialType: credential.TypeOIDCToken, OIDCToken: o}, nil, clk.Now)
			_, err := call(t, a, s.URL)
			if err == nil || !strings.Contains(err.Error(), "cannot mint Google ID tokens") {
				t.Errorf("Apply: got error %v, want one saying integrationd cannot mint ID tokens", err)
			}
		})
	}
}

func TestJWTSigned(t *testing.T) {
	t.Parallel()
	const secret = "shared-secret"
	for _, alg := range []string{"", "HS256", "HS384", "HS512"} {
		t.Run("alg "+alg, func(t *testing.T) {
			t.Parallel()
			header := `{"typ":"JWT","kid":"k1"}`
			if alg != "" {
				header = `{"alg":"` + alg + `","typ":"JWT","kid":"k1"}`
			}
			// The server verifies the token with the secret.
			var gotClaims jwtlib.MapClaims
			var gotHeader map[string]any
			s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
				if !ok {
					http.Error(w, "no bearer", 401)
					return
				}
				tok, err := jwtlib.Parse(raw, func(tok *jwtlib.Token) (any, error) { return []byte(secret), nil },
					jwtlib.WithValidMethods([]string{"HS256", "HS384", "HS512"}), jwtlib.WithoutClaimsValidation())
				if err != nil {
					http.Error(w, err.Error(), 401)
					return
				}
				gotClaims, gotHeader = tok.Claims.(jwtlib.MapClaims), tok.Header
				fmt.Fprint(w, `{}`)
			}))
			defer s.Close()
			a := mustNew(t, &credential.Credential{CredentialType: credential.TypeJWT, JWT: &credential.JWT{
				JWTHeader: header, JWTPayload: `{"sub":"1234567890","name":"John Doe","iat":1516239022}`, Secret: secret,
			}}, nil, time.Now)
			req, _ := http.NewRequest("GET", s.URL, nil)
			if err := a.Apply(t.Context(), req, nil); err != nil {
				t.Fatal(err)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("the server refused the JWT: %d %s", resp.StatusCode, body)
			}
			wantAlg := alg
			if wantAlg == "" {
				wantAlg = "HS256"
			}
			if gotHeader["alg"] != wantAlg || gotHeader["kid"] != "k1" {
				t.Errorf("header = %v, want alg %s and kid k1", gotHeader, wantAlg)
			}
			// iat keeps its integer form.
			if gotClaims["sub"] != "1234567890" || gotClaims["iat"] != 1516239022.0 {
				t.Errorf("claims = %v", gotClaims)
			}
		})
	}
	// A JWT signed with another secret is refused by the same check.
	a := mustNew(t, &credential.Credential{CredentialType: credential.TypeJWT, JWT: &credential.JWT{JWTPayload: `{}`, Secret: "other"}}, nil, time.Now)
	req, _ := http.NewRequest("GET", "http://x", nil)
	if err := a.Apply(t.Context(), req, nil); err != nil {
		t.Fatal(err)
	}
	raw := strings.TrimPrefix(req.Header.Get("Authorization"), "Bearer ")
	if _, err := jwtlib.Parse(raw, func(*jwtlib.Token) (any, error) { return []byte(secret), nil }); err == nil {
		t.Errorf("a JWT signed with another secret verified")
	}
}

func clientCredentials(te *credentialtest.TokenEndpoint, requestType string) *credential.Credential {
	return &credential.Credential{CredentialType: credential.TypeOAuth2ClientCredentials,
		OAuth2ClientCredentials: &credential.OAuth2ClientCredentials{
			ClientID: "cid", ClientSecret: "csecret", TokenEndpoint: te.URL + "/token", Scope: "read write",
			RequestType: requestType,
			TokenParams: &credential.ParameterMap{Entries: []credential.ParameterMapEntry{{
				Key:   credential.ParameterMapField{LiteralValue: lit("audience")},
				Value: credential.ParameterMapField{LiteralValue: lit("https://api")},
			}}},
		}}
}

func TestClientCredentialsRequestTypes(t *testing.T) {
	t.Parallel()
	s := echo(t)
	for _, rt := range []string{credential.RequestTypeEncodedHeader, credential.RequestTypeRequestBody, credential.RequestTypeQueryParameters, ""} {
		t.Run("requestType "+rt, func(t *testing.T) {
			t.Parallel()
			te := credentialtest.NewTokenEndpoint(t)
			if rt == "" {
				// Auto-detection tries the header first; accept only the body.
				te.Check = func(r credentialtest.TokenRequest) string {
					if r.BasicUser != "" {
						return "invalid_client"
					}
					return ""
				}
			}
			a := mustNew(t, clientCredentials(te, rt), nil, time.Now)
			got, err := call(t, a, s.URL)
			if err != nil {
				t.Fatalf("Apply: %v", err)
			}
			if got["authorization"] != "Bearer token-1" {
				t.Errorf("authorization = %q, want Bearer token-1", got["authorization"])
			}
			reqs := te.Requests()
			r := reqs[len(reqs)-1]
			if r.Param("grant_type") != "client_credentials" || r.Param("scope") != "read write" || r.Param("audience") != "https://api" {
				t.Errorf("token request %+v: want grant_type, scope and the audience token parameter", r)
			}
			var id, secret string
			switch rt {
			case credential.RequestTypeEncodedHeader:
				id, secret = r.BasicUser, r.BasicPass
				if r.Form.Get("client_secret") != "" {
					t.Errorf("ENCODED_HEADER: the secret is in the body too")
				}
			case credential.RequestTypeQueryParameters:
				id, secret = r.Query.Get("client_id"), r.Query.Get("client_secret")
				if len(r.Form) != 0 {
					t.Errorf("QUERY_PARAMETERS: body form %v, want empty", r.Form)
				}
			default:
				id, secret = r.Form.Get("client_id"), r.Form.Get("client_secret")
				if r.BasicUser != "" && rt != "" {
					t.Errorf("REQUEST_BODY: an Authorization header was sent too")
				}
			}
			if id != "cid" || secret != "csecret" {
				t.Errorf("client id/secret = %q/%q, want cid/csecret", id, secret)
			}
		})
	}
}

func TestClientCredentialsCacheAndExpiry(t *testing.T) {
	t.Parallel()
	te := credentialtest.NewTokenEndpoint(t)
	te.Delay = 20 * time.Millisecond
	clk := newClock()
	a := mustNew(t, clientCredentials(te, credential.RequestTypeEncodedHeader), nil, clk.Now)

	authz := func() string {
		req, _ := http.NewRequest("GET", "http://example.invalid/", nil)
		if err := a.Apply(t.Context(), req, nil); err != nil {
			t.Error(err)
		}
		return req.Header.Get("Authorization")
	}
	// Concurrent first uses share one fetch.
	var wg sync.WaitGroup
	var bad atomic.Int32
	for range 20 {
		wg.Go(func() {
			if authz() != "Bearer token-1" {
				bad.Add(1)
			}
		})
	}
	wg.Wait()
	if te.Calls() != 1 || bad.Load() != 0 {
		t.Fatalf("20 concurrent first uses: %d token calls, %d wrong headers, want 1 call, 0 wrong", te.Calls(), bad.Load())
	}
	clk.Advance(59 * time.Minute)
	if got := authz(); got != "Bearer token-1" || te.Calls() != 1 {
		t.Errorf("before expiry: %q after %d calls, want the cached token-1 after 1", got, te.Calls())
	}
	clk.Advance(40 * time.Second) // 20 s before expiry: inside the margin
	if got := authz(); got != "Bearer token-2" || te.Calls() != 2 {
		t.Errorf("near expiry: %q after %d calls, want a new token-2 after 2", got, te.Calls())
	}
	if got := authz(); got != "Bearer token-2" || te.Calls() != 2 {
		t.Errorf("after refresh: %q after %d calls, want token-2 cached", got, te.Calls())
	}
}

func TestTokenFetchWaitHonoursContext(t *testing.T) {
	t.Parallel()
	te := credentialtest.NewTokenEndpoint(t)
	te.Delay = 500 * time.Millisecond
	a := mustNew(t, clientCredentials(te, credential.RequestTypeRequestBody), nil, time.Now)
	go func() {
		req, _ := http.NewRequest("GET", "http://example.invalid/", nil)
		a.Apply(context.Background(), req, nil)
	}()
	time.Sleep(50 * time.Millisecond) // the first caller holds the fetch
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequest("GET", "http://example.invalid/", nil)
	start := time.Now()
	err := a.Apply(ctx, req, nil)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 400*time.Millisecond {
		t.Errorf("Apply while another fetch runs: got %v after %v, want a deadline error after ~50ms", err, time.Since(start))
	}
}

func TestTokenErrorsHideSecrets(t *testing.T) {
	t.Parallel()
	te := credentialtest.NewTokenEndpoint(t)
	te.Check = func(credentialtest.TokenRequest) string { return "invalid_client" }
	a := mustNew(t, clientCredentials(te, credential.RequestTypeQueryParameters), nil, time.Now)
	req, _ := http.NewRequest("GET", "http://example.invalid/", nil)
	err := a.Apply(t.Context(), req, nil)
	if err == nil || !strings.Contains(err.Error(), "invalid_client") || strings.Contains(err.Error(), "csecret") {
		t.Errorf("refused: got error %v, want invalid_client without the secret", err)
	}
	// An unreachable endpoint: url.Error would quote the URL and its query.
	te.Close()
	a = mustNew(t, clientCredentials(te, credential.RequestTypeQueryParameters), nil, time.Now)
	err = a.Apply(t.Context(), req, nil)
	if err == nil || strings.Contains(err.Error(), "csecret") || !strings.Contains(err.Error(), te.URL+"/token") {
		t.Errorf("unreachable: got error %v, want one naming the endpoint without the secret", err)
	}
}

func TestResourceOwnerPasswordThenRefresh(t *testing.T) {
	t.Parallel()
	te := credentialtest.NewTokenEndpoint(t)
	refreshOK := atomic.Bool{}
	refreshOK.Store(true)
	te.Check = func(r credentialtest.TokenRequest) string {
		if r.Param("grant_type") == "refresh_token" && !refreshOK.Load() {
			return "invalid_grant"
		}
		return ""
	}
	clk := newClock()
	a := mustNew(t, &credential.Credential{CredentialType: credential.TypeOAuth2ResourceOwnerCredentials,
		OAuth2ResourceOwnerCredentials: &credential.OAuth2ResourceOwnerCredentials{
			ClientID: "cid", ClientSecret: "cs", TokenEndpoint: te.URL, Username: "bob", Password: "pw", RequestType: credential.RequestTypeRequestBody,
		}}, nil, clk.Now)
	grant := func() (string, string) {
		req, _ := http.NewRequest("GET", "http://example.invalid/", nil)
		if err := a.Apply(t.Context(), req, nil); err != nil {
			t.Fatal(err)
		}
		reqs := te.Requests()
		return req.Header.Get("Authorization"), reqs[len(reqs)-1].Param("grant_type")
	}
	if h, g := grant(); h != "Bearer token-1" || g != "password" {
		t.Fatalf("first use: %q via %s, want token-1 via password", h, g)
	}
	if r := te.Requests()[0]; r.Param("username") != "bob" || r.Param("password") != "pw" {
		t.Errorf("password grant carried %v", r.Form)
	}
	clk.Advance(2 * time.Hour)
	if h, g := grant(); h != "Bearer token-2" || g != "refresh_token" {
		t.Errorf("after expiry: %q via %s, want token-2 via refresh_token", h, g)
	}
	if r := te.Requests()[1]; r.Param("refresh_token") != "refresh-1" {
		t.Errorf("refresh grant used %q, want refresh-1", r.Param("refresh_token"))
	}
	refreshOK.Store(false)
	clk.Advance(2 * time.Hour)
	if h, g := grant(); h != "Bearer token-3" || g != "password" {
		t.Errorf("refused refresh: %q via %s, want token-3 via password", h, g)
	}
}

func TestAuthorizationCode(t *testing.T) {
	t.Parallel()
	te := credentialtest.NewTokenEndpoint(t)
	clk := newClock()
	code := func(at *credential.AccessToken) credential.Applier {
		return mustNew(t, &credential.Credential{CredentialType: credential.TypeOAuth2AuthorizationCode,
			OAuth2AuthorizationCode: &credential.OAuth2AuthorizationCode{
				ClientID: "cid", ClientSecret: "cs", TokenEndpoint: te.URL, RequestType: credential.RequestTypeEncodedHeader, AccessToken: at,
			}}, nil, clk.Now)
	}
	apply := func(a credential.Applier) (string, error) {
		req, _ := http.NewRequest("GET", "http://example.invalid/", nil)
		err := a.Apply(t.Context(), req, nil)
		return req.Header.Get("Authorization"), err
	}
	// A stored, unexpired access token is used as is.
	a := code(&credential.AccessToken{AccessToken: "stored", AccessTokenExpireTime: "2025-06-01T13:00:00Z", RefreshToken: "r0"})
	if h, err := apply(a); h != "Bearer stored" || err != nil || te.Calls() != 0 {
		t.Errorf("stored token: %q, %v after %d calls, want Bearer stored without a call", h, err, te.Calls())
	}
	clk.Advance(time.Hour)
	if h, err := apply(a); h != "Bearer token-1" || err != nil {
		t.Errorf("after expiry: %q, %v, want token-1 from the refresh token", h, err)
	}
	if r := te.Requests()[0]; r.Param("grant_type") != "refresh_token" || r.Param("refresh_token") != "r0" {
		t.Errorf("refresh request %+v", r)
	}
	// Nothing to refresh with: a clear error.
	_, err := apply(code(nil))
	if err == nil || !strings.Contains(err.Error(), "no refresh token") {
		t.Errorf("no tokens: got %v, want an error about the missing refresh token", err)
	}
}

// serviceAccountKey returns a JSON key whose token_uri is tokenURL, and
// its public key.
func serviceAccountKey(t *testing.T, tokenURL string) (string, *rsa.PublicKey) {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(k)
	key, _ := json.Marshal(map[string]string{
		"type": "service_account", "client_email": "robot@p.iam.gserviceaccount.com", "private_key_id": "kid-1",
		"private_key": string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), "token_uri": tokenURL,
	})
	return string(key), &k.PublicKey
}

func TestServiceAccountKey(t *testing.T) {
	t.Parallel()
	te := credentialtest.NewTokenEndpoint(t)
	key, pub := serviceAccountKey(t, te.URL+"/token")
	var verified atomic.Bool
	te.Check = func(r credentialtest.TokenRequest) string {
		if r.Param("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
			return "unsupported_grant_type"
		}
		tok, err := jwtlib.Parse(r.Param("assertion"), func(*jwtlib.Token) (any, error) { return pub, nil },
			jwtlib.WithValidMethods([]string{"RS256"}), jwtlib.WithAudience(te.URL+"/token"), jwtlib.WithIssuer("robot@p.iam.gserviceaccount.com"))
		if err != nil {
			return "invalid_grant"
		}
		if c := tok.Claims.(jwtlib.MapClaims); c["scope"] != "https://a https://b" || tok.Header["kid"] != "kid-1" {
			return "invalid_scope"
		}
		verified.Store(true)
		return ""
	}
	a := mustNew(t, &credential.Credential{CredentialType: credential.TypeServiceAccount,
		ServiceAccountCredentials: &credential.ServiceAccountCredentials{ServiceAccount: key, Scope: "https://a https://b"}}, nil, time.Now)
	req, _ := http.NewRequest("GET", "http://example.invalid/", nil)
	if err := a.Apply(t.Context(), req, nil); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if req.Header.Get("Authorization") != "Bearer token-1" || !verified.Load() {
		t.Errorf("Authorization = %q, verified %v, want Bearer token-1 from a verified assertion", req.Header.Get("Authorization"), verified.Load())
	}
	// The redacted form shows the account, not the key.
	red := (&credential.Credential{ServiceAccountCredentials: &credential.ServiceAccountCredentials{ServiceAccount: key}}).Redacted()
	if red.ServiceAccountCredentials.ServiceAccount != "robot@p.iam.gserviceaccount.com" {
		t.Errorf("Redacted service account = %q", red.ServiceAccountCredentials.ServiceAccount)
	}

	// An e-mail alone compiles, and fails clearly when used.
	a = mustNew(t, &credential.Credential{CredentialType: credential.TypeServiceAccount,
		ServiceAccountCredentials: &credential.ServiceAccountCredentials{ServiceAccount: "robot@p.iam.gserviceaccount.com"}}, nil, time.Now)
	if err := a.Apply(t.Context(), req, nil); err == nil || !strings.Contains(err.Error(), "JSON key") {
		t.Errorf("Apply without a key: got %v, want an error asking for the JSON key", err)
	}
}

func TestClientCertificate(t *testing.T) {
	t.Parallel()
	cc := credentialtest.NewClientCert(t, "integrationd-client")
	s := credentialtest.NewMTLSServer(t, cc.CAs)
	get := func(cert *tls.Certificate) (string, error) {
		tr := s.Client().Transport.(*http.Transport).Clone()
		if cert != nil {
			tr.TLSClientConfig.Certificates = []tls.Certificate{*cert}
		}
		resp, err := (&http.Client{Transport: tr}).Get(s.URL)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b), nil
	}
	a := mustNew(t, &credential.Credential{CredentialType: credential.TypeClientCertificateOnly},
		&credential.ClientCertificate{SSLCertificate: cc.CertPEM, EncryptedPrivateKey: cc.KeyPEM}, time.Now)
	if body, err := get(a.ClientCertificate()); err != nil || body != "client=integrationd-client" {
		t.Errorf("with the certificate: %q, %v, want client=integrationd-client", body, err)
	}
	if _, err := get(nil); err == nil {
		t.Errorf("without a certificate: the server accepted the connection")
	}
	// A certificate also goes with any other credential type.
	a = mustNew(t, &credential.Credential{CredentialType: credential.TypeAuthToken, AuthToken: &credential.AuthToken{Token: "x"}},
		&credential.ClientCertificate{SSLCertificate: cc.CertPEM, EncryptedPrivateKey: cc.KeyPEM}, time.Now)
	if a.ClientCertificate() == nil {
		t.Errorf("AUTH_TOKEN with a certificate: ClientCertificate() = nil")
	}
}

func lit(s string) *spec.ValueType { return &spec.ValueType{StringValue: &s} }

func TestValidation(t *testing.T) {
	t.Parallel()
	cc := credentialtest.NewClientCert(t, "c")
	other := credentialtest.NewClientCert(t, "d")
	encrypted := strings.Replace(cc.KeyPEM, "PRIVATE KEY", "ENCRYPTED PRIVATE KEY", -1)
	cred := func(typ string) *credential.Credential { return &credential.Credential{CredentialType: typ} }
	tests := []struct {
		name string
		c    *credential.Credential
		cert *credential.ClientCertificate
		path string
	}{
		{"nothing", nil, nil, "credential_type"},
		{"no type", &credential.Credential{}, nil, "credential_type"},
		{"unknown type", cred("PIGEON"), nil, "credential_type"},
		{"implicit", cred(credential.TypeOAuth2Implicit), nil, "credential_type"},
		{"basic without message", cred(credential.TypeUsernameAndPassword), nil, "username_and_password"},
		{"basic without username", &credential.Credential{CredentialType: credential.TypeUsernameAndPassword,
			UsernameAndPassword: &credential.UsernameAndPassword{Password: "p"}}, nil, "username_and_password.username"},
		{"token without token", &credential.Credential{CredentialType: credential.TypeAuthToken, AuthToken: &credential.AuthToken{Type: "Bearer"}}, nil, "auth_token.token"},
		{"token with a bad type", &credential.Credential{CredentialType: credential.TypeAuthToken, AuthToken: &credential.AuthToken{Type: "Bear er", Token: "t"}}, nil, "auth_token.type"},
		{"token with a newline", &credential.Credential{CredentialType: credential.TypeAuthToken, AuthToken: &credential.AuthToken{Token: "t\r\nX: y"}}, nil, "auth_token.token"},
		{"api key without key", &credential.Credential{CredentialType: credential.TypeAPIKey, AuthToken: &credential.AuthToken{}}, nil, "auth_token.token"},
		{"api key bad header", &credential.Credential{CredentialType: credential.TypeAPIKey, AuthToken: &credential.AuthToken{Type: "a b", Token: "k"}}, nil, "auth_token.type"},
		{"client credentials without endpoint", &credential.Credential{CredentialType: credential.TypeOAuth2ClientCredentials,
			OAuth2ClientCredentials: &credential.OAuth2ClientCredentials{ClientID: "c"}}, nil, "oauth2_client_credentials.token_endpoint"},
		{"client credentials with a bad endpoint", &credential.Credential{CredentialType: credential.TypeOAuth2ClientCredentials,
			OAuth2ClientCredentials: &credential.OAuth2ClientCredentials{ClientID: "c", TokenEndpoint: "ftp://x"}}, nil, "oauth2_client_credentials.token_endpoint"},
		{"client credentials without id", &credential.Credential{CredentialType: credential.TypeOAuth2ClientCredentials,
			OAuth2ClientCredentials: &credential.OAuth2ClientCredentials{TokenEndpoint: "https://x"}}, nil, "oauth2_client_credentials.client_id"},
		{"bad request type", &credential.Credential{CredentialType: credential.TypeOAuth2ClientCredentials,
			OAuth2ClientCredentials: &credential.OAuth2ClientCredentials{ClientID: "c", TokenEndpoint: "https://x", RequestType: "SMOKE"}}, nil, "oauth2_client_credentials.request_type"},
		{"token param reference", &credential.Credential{CredentialType: credential.TypeOAuth2ClientCredentials,
			OAuth2ClientCredentials: &credential.OAuth2ClientCredentials{ClientID: "c", TokenEndpoint: "https://x",
				TokenParams: &credential.ParameterMap{Entries: []credential.ParameterMapEntry{{Key: credential.ParameterMapField{LiteralValue: lit("k")}, Value: credential.ParameterMapField{ReferenceKey: "$v$"}}}}}},
			nil, "oauth2_client_credentials.token_params.entries[0]"},
		{"bad expire time", &credential.Credential{CredentialType: credential.TypeOAuth2ClientCredentials,
			OAuth2ClientCredentials: &credential.OAuth2ClientCredentials{ClientID: "c", TokenEndpoint: "https://x",
				AccessToken: &credential.AccessToken{AccessToken: "a", AccessTokenExpireTime: "tomorrow"}}}, nil, "oauth2_client_credentials.access_token.access_token_expire_time"},
		{"resource owner without username", &credential.Credential{CredentialType: credential.TypeOAuth2ResourceOwnerCredentials,
			OAuth2ResourceOwnerCredentials: &credential.OAuth2ResourceOwnerCredentials{TokenEndpoint: "https://x"}}, nil, "oauth2_resource_owner_credentials.username"},
		{"auth code without anything", &credential.Credential{CredentialType: credential.TypeOAuth2AuthorizationCode,
			OAuth2AuthorizationCode: &credential.OAuth2AuthorizationCode{}}, nil, "oauth2_authorization_code.token_endpoint"},
		{"jwt without secret", &credential.Credential{CredentialType: credential.TypeJWT, JWT: &credential.JWT{JWTPayload: "{}"}}, nil, "jwt.secret"},
		{"jwt RS256", &credential.Credential{CredentialType: credential.TypeJWT, JWT: &credential.JWT{JWTHeader: `{"alg":"RS256"}`, Secret: "s"}}, nil, "jwt.jwt_header"},
		{"jwt none", &credential.Credential{CredentialType: credential.TypeJWT, JWT: &credential.JWT{JWTHeader: `{"alg":"none"}`, Secret: "s"}}, nil, "jwt.jwt_header"},
		{"jwt bad payload", &credential.Credential{CredentialType: credential.TypeJWT, JWT: &credential.JWT{JWTPayload: `[1]`, Secret: "s"}}, nil, "jwt.jwt_payload"},
		{"oidc without message", cred(credential.TypeOIDCToken), nil, "oidc_token"},
		{"service account empty", &credential.Credential{CredentialType: credential.TypeServiceAccount, ServiceAccountCredentials: &credential.ServiceAccountCredentials{}}, nil, "service_account_credentials.service_account"},
		{"service account bad key", &credential.Credential{CredentialType: credential.TypeServiceAccount,
			ServiceAccountCredentials: &credential.ServiceAccountCredentials{ServiceAccount: `{"type":"service_account","client_email":"a@b","private_key":"nope"}`}}, nil, "service_account_credentials.service_account"},
		{"certificate only without certificate", cred(credential.TypeClientCertificateOnly), nil, "client_certificate"},
		{"certificate without key", nil, &credential.ClientCertificate{SSLCertificate: cc.CertPEM}, "client_certificate.encrypted_private_key"},
		{"key without certificate", nil, &credential.ClientCertificate{EncryptedPrivateKey: cc.KeyPEM}, "client_certificate.ssl_certificate"},
		{"mismatched key", nil, &credential.ClientCertificate{SSLCertificate: cc.CertPEM, EncryptedPrivateKey: other.KeyPEM}, "client_certificate.ssl_certificate"},
		{"passphrase", nil, &credential.ClientCertificate{SSLCertificate: cc.CertPEM, EncryptedPrivateKey: cc.KeyPEM, Passphrase: "x"}, "client_certificate.passphrase"},
		{"encrypted key", nil, &credential.ClientCertificate{SSLCertificate: cc.CertPEM, EncryptedPrivateKey: encrypted}, "client_certificate.passphrase"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := credential.New(tt.c, tt.cert, credential.Options{})
			var fe *credential.FieldError
			if !errors.As(err, &fe) || fe.Path != tt.path {
				t.Errorf("New: got error %v, want a FieldError on %s", err, tt.path)
			}
		})
	}
	// A certificate alone is a credential.
	if _, err := credential.New(nil, &credential.ClientCertificate{SSLCertificate: cc.CertPEM, EncryptedPrivateKey: cc.KeyPEM}, credential.Options{}); err != nil {
		t.Errorf("New(certificate alone): %v", err)
	}
}

func TestRedactedHasNoSecret(t *testing.T) {
	t.Parallel()
	key, _ := serviceAccountKey(t, "https://oauth2.example/token")
	secret := func(s string) string { return "SECRET-" + s }
	all := &credential.Credential{
		CredentialType:      credential.TypeJWT,
		UsernameAndPassword: &credential.UsernameAndPassword{Username: "u", Password: secret("pw")},
		AuthToken:           &credential.AuthToken{Type: "Bearer", Token: secret("tok")},
		OAuth2ClientCredentials: &credential.OAuth2ClientCredentials{ClientID: "c", ClientSecret: secret("cs"), TokenEndpoint: "https://t",
			AccessToken: &credential.AccessToken{AccessToken: secret("at"), RefreshToken: secret("rt")},
			TokenParams: &credential.ParameterMap{Entries: []credential.ParameterMapEntry{{Key: credential.ParameterMapField{LiteralValue: lit("k")}, Value: credential.ParameterMapField{LiteralValue: lit(secret("tp"))}}}}},
		OAuth2ResourceOwnerCredentials: &credential.OAuth2ResourceOwnerCredentials{ClientID: "c", ClientSecret: secret("cs2"), Username: "u", Password: secret("pw2"),
			AccessToken: &credential.AccessToken{AccessToken: secret("at2")}},
		OAuth2AuthorizationCode: &credential.OAuth2AuthorizationCode{ClientID: "c", ClientSecret: secret("cs3"), AuthCode: secret("code"),
			AccessToken: &credential.AccessToken{RefreshToken: secret("rt3")}},
		JWT:                       &credential.JWT{JWTHeader: "{}", JWTPayload: "{}", Secret: secret("js"), JWT: secret("jwt")},
		OIDCToken:                 &credential.OIDCToken{Audience: "a", Token: secret("id")},
		ServiceAccountCredentials: &credential.ServiceAccountCredentials{ServiceAccount: key},
	}
	b, _ := json.Marshal(all.Redacted())
	if strings.Contains(string(b), "SECRET-") || strings.Contains(string(b), "PRIVATE KEY") {
		t.Errorf("Redacted() = %s, want no secret", b)
	}
	for _, keep := range []string{`"username":"u"`, `"clientId":"c"`, `"audience":"a"`, `"type":"Bearer"`, `"credentialType":"JWT"`} {
		if !strings.Contains(string(b), keep) {
			t.Errorf("Redacted() = %s, want %s kept", b, keep)
		}
	}
	if (*credential.Credential)(nil).Redacted() != nil {
		t.Errorf("nil.Redacted() != nil")
	}
}

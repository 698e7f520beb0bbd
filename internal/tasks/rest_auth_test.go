package tasks

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/integrationd/integrationd/internal/credential"
	"github.com/integrationd/integrationd/internal/credential/credentialtest"
	"github.com/integrationd/integrationd/internal/engine"
)

// fakeAuthConfigs resolves references from a map, compiling each
// credential once, and records the lookups.
type fakeAuthConfigs struct {
	mu      sync.Mutex
	creds   map[string]credential.Applier
	lookups []string
}

func (f *fakeAuthConfigs) add(t *testing.T, ref string, c *credential.Credential, cert *credential.ClientCertificate) {
	t.Helper()
	a, err := credential.New(c, cert, credential.Options{})
	if err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.creds == nil {
		f.creds = map[string]credential.Applier{}
	}
	f.creds[ref] = a
}

func (f *fakeAuthConfigs) Resolve(_ context.Context, project, location, ref string) (credential.Applier, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lookups = append(f.lookups, project+"/"+location+"/"+ref)
	if a, ok := f.creds[ref]; ok {
		return a, nil
	}
	return nil, fmt.Errorf("auth config %q not found in projects/%s/locations/%s", ref, project, location)
}

// authServer answers 200 with the Authorization header it got, 401 when
// there is none.
func authServer(t *testing.T) *httptest.Server {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Get("Authorization")
		if h == "" {
			http.Error(w, "no credentials", http.StatusUnauthorized)
			return
		}
		fmt.Fprint(w, h)
	}))
	t.Cleanup(s.Close)
	return s
}

func authParam(id string) string {
	j := `{"@type":"type.googleapis.com/enterprise.crm.eventbus.authconfig.AuthConfigTaskParam","authConfigId":"` + id + `"}`
	return fmt.Sprintf(`{"jsonValue":%q}`, j)
}

// runREST compiles a REST task with params on r and runs one attempt in
// project demo, region us-central1.
func runREST(t *testing.T, r *Registry, params map[string]string) (body string, err error) {
	t.Helper()
	p := outs()
	for k, v := range params {
		p[k] = v
	}
	task, err := compileREST(t, r, p)
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	vars := restVars()
	err = task.Execute(t.Context(), &engine.TaskContext{Vars: vars, TaskID: "1", Task: restTask, Now: time.Now,
		Exec: engine.ExecInfo{ProjectID: "demo", Region: "us-central1"}})
	b, _ := vars.Lookup("`Task_1_responseBody`")
	return b.Str(), err
}

func TestRESTAuthConfigs(t *testing.T) {
	t.Parallel()
	s := authServer(t)
	te := credentialtest.NewTokenEndpoint(t)
	f := &fakeAuthConfigs{}
	f.add(t, "basic-id", &credential.Credential{CredentialType: credential.TypeUsernameAndPassword,
		UsernameAndPassword: &credential.UsernameAndPassword{Username: "alice", Password: "pw"}}, nil)
	f.add(t, "token-name", &credential.Credential{CredentialType: credential.TypeAuthToken,
		AuthToken: &credential.AuthToken{Type: "Token", Token: "t0k"}}, nil)
	f.add(t, "oauth", &credential.Credential{CredentialType: credential.TypeOAuth2ClientCredentials,
		OAuth2ClientCredentials: &credential.OAuth2ClientCredentials{ClientID: "c", ClientSecret: "s", TokenEndpoint: te.URL, RequestType: credential.RequestTypeRequestBody}}, nil)
	f.add(t, "expired-oidc", &credential.Credential{CredentialType: credential.TypeOIDCToken,
		OIDCToken: &credential.OIDCToken{Token: "x", TokenExpireTime: "2001-01-01T00:00:00Z"}}, nil)
	f.add(t, "denied-token-endpoint", &credential.Credential{CredentialType: credential.TypeOAuth2ClientCredentials,
		OAuth2ClientCredentials: &credential.OAuth2ClientCredentials{ClientID: "c", TokenEndpoint: "http://169.254.169.254/token", RequestType: credential.RequestTypeRequestBody}}, nil)
	r := NewRegistry()
	registerREST(r, Options{AuthConfigs: f})

	cases := []struct {
		name   string
		params map[string]string
		body   string // the Authorization header the server saw
		errSub string
	}{
		{"authConfigId in a jsonValue", map[string]string{"authConfig": authParam("basic-id")}, "Basic YWxpY2U6cHc=", ""},
		{"authConfigId in a protoValue", map[string]string{"authConfig": `{"protoValue":{"@type":"type.googleapis.com/enterprise.crm.eventbus.authconfig.AuthConfigTaskParam","authConfigId":"basic-id"}}`},
			"Basic YWxpY2U6cHc=", ""},
		{"authConfigName", map[string]string{"authConfigName": sv("token-name")}, "Token t0k", ""},
		{"authConfigName templated", map[string]string{"authConfigName": sv("$id$"), "url": sv(s.URL)}, "", `auth config "o 17"`},
		{"authConfigId wins over authConfigName", map[string]string{"authConfig": authParam("basic-id"), "authConfigName": sv("token-name")}, "Basic YWxpY2U6cHc=", ""},
		{"auth config overrides a header", map[string]string{"authConfigName": sv("token-name"), "additionalHeaders": pmap("Authorization", "Bearer user")}, "Token t0k", ""},
		{"oauth client credentials", map[string]string{"authConfig": authParam("oauth")}, "Bearer token-1", ""},
		{"unknown auth config", map[string]string{"authConfig": authParam("nope")}, "", `auth config "nope" not found in projects/demo/locations/us-central1`},
		{"unusable credential", map[string]string{"authConfigName": sv("expired-oidc")}, "", "cannot mint Google ID tokens"},
		{"token endpoint denied", map[string]string{"authConfigName": sv("denied-token-endpoint")}, "", "destination address not allowed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := map[string]string{"url": sv(s.URL)}
			for k, v := range c.params {
				p[k] = v
			}
			body, err := runREST(t, r, p)
			if c.errSub != "" {
				var te *engine.TaskError
				if !errors.As(err, &te) || !strings.Contains(te.Message, c.errSub) {
					t.Fatalf("Execute = %v, want a task error containing %q", err, c.errSub)
				}
				if body != "" {
					t.Errorf("the request was sent (body %q), want no request", body)
				}
				return
			}
			if err != nil || body != c.body {
				t.Errorf("Execute = %v, server saw %q, want nil and %q", err, body, c.body)
			}
		})
	}
	// The token of the oauth auth config is cached across attempts.
	if _, err := runREST(t, r, map[string]string{"url": sv(s.URL), "authConfig": authParam("oauth")}); err != nil {
		t.Fatal(err)
	}
	if te.Calls() != 1 {
		t.Errorf("token endpoint calls = %d, want 1 for two attempts", te.Calls())
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !slices.Contains(f.lookups, "demo/us-central1/basic-id") {
		t.Errorf("lookups = %v, want them in the execution's project and region", f.lookups)
	}
}

func TestRESTClientCertificate(t *testing.T) {
	t.Parallel()
	cc := credentialtest.NewClientCert(t, "rest-task")
	s := credentialtest.NewMTLSServer(t, cc.CAs)
	f := &fakeAuthConfigs{}
	f.add(t, "mtls", &credential.Credential{CredentialType: credential.TypeClientCertificateOnly},
		&credential.ClientCertificate{SSLCertificate: cc.CertPEM, EncryptedPrivateKey: cc.KeyPEM})
	r := NewRegistry()
	registerREST(r, Options{AuthConfigs: f})
	// httptest's server certificate is self-signed: disableSSLValidation.
	params := map[string]string{"url": sv(s.URL), "disableSSLValidation": `{"booleanValue":true}`}
	if _, err := runREST(t, r, params); err == nil {
		t.Fatalf("without the auth config: the server accepted the connection")
	}
	params["authConfigName"] = sv("mtls")
	for i := range 2 { // the second call reuses the certificate's transport
		body, err := runREST(t, r, params)
		if err != nil || body != "client=rest-task" {
			t.Fatalf("call %d with the client certificate: %q, %v, want client=rest-task", i+1, body, err)
		}
	}
}

func TestRESTDestinationsAndCap(t *testing.T) {
	t.Parallel()
	s := restServer(t)
	loopback := netip.MustParsePrefix("127.0.0.0/8")
	cases := []struct {
		name   string
		opts   Options
		url    string
		errSub string
	}{
		{"default allows loopback", Options{}, s.URL + "/echo", ""},
		{"deny loopback", Options{RESTDenyCIDRs: []netip.Prefix{loopback}}, s.URL + "/echo", "is in the denied range 127.0.0.0/8"},
		{"allow list without loopback", Options{RESTAllowCIDRs: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}}, s.URL + "/echo", "is not in the allowed ranges"},
		{"allow list with loopback", Options{RESTAllowCIDRs: []netip.Prefix{loopback}}, s.URL + "/echo", ""},
		{"deny wins over allow", Options{RESTAllowCIDRs: []netip.Prefix{loopback}, RESTDenyCIDRs: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}, s.URL + "/echo", "denied range"},
		{"response cap", Options{RESTMaxResponseBytes: 999}, s.URL + "/big", "exceeds the 999-byte limit"},
		{"response under the cap", Options{RESTMaxResponseBytes: 1000}, s.URL + "/big", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := NewRegistry()
			registerREST(r, c.opts)
			_, err := runREST(t, r, map[string]string{"url": sv(c.url)})
			if c.errSub == "" {
				if err != nil {
					t.Errorf("Execute = %v, want success", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.errSub) {
				t.Errorf("Execute = %v, want an error containing %q", err, c.errSub)
			}
		})
	}
}

// TestRESTRedirectHopDenied: an allowed first hop (127.0.0.2) redirecting
// to an address outside the allow list (127.0.0.1) fails on the redirect.
func TestRESTRedirectHopDenied(t *testing.T) {
	t.Parallel()
	denied := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "reached") }))
	defer denied.Close()
	first := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, denied.URL, http.StatusFound)
	}))
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Skipf("cannot listen on 127.0.0.2: %v", err)
	}
	first.Listener = ln
	first.Start()
	defer first.Close()
	r := NewRegistry()
	registerREST(r, Options{RESTAllowCIDRs: []netip.Prefix{netip.MustParsePrefix("127.0.0.2/32")}})
	body, err := runREST(t, r, map[string]string{"url": sv(first.URL)})
	if err == nil || !strings.Contains(err.Error(), "127.0.0.1 is not in the allowed ranges") || body == "reached" {
		t.Errorf("Execute = %v (body %q), want the redirect to 127.0.0.1 refused", err, body)
	}
}

func TestParseCIDRs(t *testing.T) {
	t.Parallel()
	got, err := ParseCIDRs(" 10.0.0.0/8, 169.254.169.254 ,fd00:ec2::254,::ffff:192.168.0.0/112,, 192.168.1.7/16")
	want := []string{"10.0.0.0/8", "169.254.169.254/32", "fd00:ec2::254/128", "192.168.0.0/16", "192.168.0.0/16"}
	var gs []string
	for _, p := range got {
		gs = append(gs, p.String())
	}
	if err != nil || !slices.Equal(gs, want) {
		t.Errorf("ParseCIDRs = %v, %v, want %v", gs, err, want)
	}
	if got, err := ParseCIDRs(""); err != nil || got == nil || len(got) != 0 {
		t.Errorf("ParseCIDRs(\"\") = %v, %v, want an empty non-nil list", got, err)
	}
	for _, bad := range []string{"10.0.0.0/33", "example.com", "::ffff:1.2.3.4/64"} {
		if _, err := ParseCIDRs(bad); err == nil {
			t.Errorf("ParseCIDRs(%q): got nil error, want one", bad)
		}
	}
}

// Package credentialtest provides real local servers for tests of
// outbound authentication: an OAuth 2.0 token endpoint that counts its
// calls, and a TLS server that requires a client certificate signed by a
// throwaway CA.
package credentialtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TokenRequest is what the token endpoint received in one call.
type TokenRequest struct {
	// Form is the request body's form; Query the URL's query.
	Form, Query url.Values
	// BasicUser and BasicPass are the client id and secret of an
	// Authorization: Basic header ("" when none).
	BasicUser, BasicPass string
}

// Param returns the value of key from the form, else from the query.
func (r TokenRequest) Param(key string) string {
	if v := r.Form.Get(key); v != "" {
		return v
	}
	return r.Query.Get(key)
}

// TokenEndpoint is an OAuth 2.0 token endpoint. It issues "token-N" for
// the Nth call, with ExpiresIn seconds and a refresh token "refresh-N".
// Check, when set, may refuse a request by returning an OAuth error code
// such as "invalid_client".
type TokenEndpoint struct {
	*httptest.Server
	// ExpiresIn is the lifetime of issued tokens, seconds (0: no expires_in).
	ExpiresIn atomic.Int64
	// Check may refuse a request: a non-empty result is the error code of
	// a 400 (401 for invalid_client) answer.
	Check func(TokenRequest) string
	// Delay, when set, is waited before answering (to make concurrent
	// callers overlap).
	Delay time.Duration

	calls atomic.Int64
	mu    sync.Mutex
	reqs  []TokenRequest
}

// NewTokenEndpoint starts a token endpoint, closed at the end of the test.
func NewTokenEndpoint(t testing.TB) *TokenEndpoint {
	te := &TokenEndpoint{}
	te.ExpiresIn.Store(3600)
	te.Server = httptest.NewServer(http.HandlerFunc(te.serve))
	t.Cleanup(te.Close)
	return te
}

func (te *TokenEndpoint) serve(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	tr := TokenRequest{Form: r.PostForm, Query: r.URL.Query()}
	tr.BasicUser, tr.BasicPass, _ = r.BasicAuth()
	te.mu.Lock()
	te.reqs = append(te.reqs, tr)
	te.mu.Unlock()
	if te.Delay > 0 {
		time.Sleep(te.Delay)
	}
	w.Header().Set("Content-Type", "application/json")
	if te.Check != nil {
		if code := te.Check(tr); code != "" {
			status := http.StatusBadRequest
			if code == "invalid_client" {
				status = http.StatusUnauthorized
			}
			w.WriteHeader(status)
			json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": "refused by the test"})
			return
		}
	}
	n := te.calls.Add(1)
	resp := map[string]any{
		"access_token":  "token-" + itoa(n),
		"token_type":    "bearer",
		"refresh_token": "refresh-" + itoa(n),
	}
	if e := te.ExpiresIn.Load(); e > 0 {
		resp["expires_in"] = e
	}
	json.NewEncoder(w).Encode(resp)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// Calls returns how many tokens the endpoint issued.
func (te *TokenEndpoint) Calls() int { return int(te.calls.Load()) }

// Requests returns every request received, refused ones included.
func (te *TokenEndpoint) Requests() []TokenRequest {
	te.mu.Lock()
	defer te.mu.Unlock()
	return append([]TokenRequest(nil), te.reqs...)
}

// ClientCert is a client certificate with its key, and the pool of the CA
// that signed it.
type ClientCert struct {
	CertPEM, KeyPEM string
	CAs             *x509.CertPool
}

// NewClientCert makes a throwaway CA and a client certificate it signs,
// for the common name cn.
func NewClientCert(t testing.TB, cn string) ClientCert {
	t.Helper()
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "integrationd test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	ca, caKey := issue(t, caTmpl, nil, nil)
	leaf, key := issue(t, &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: cn},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}, ca, caKey)
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return ClientCert{
		CertPEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leaf.Raw})),
		KeyPEM:  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})),
		CAs:     pool,
	}
}

// issue makes a key and a certificate of tmpl for it, signed by parent's
// key (self-signed when parent is nil).
func issue(t testing.TB, tmpl, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

// NewMTLSServer starts a TLS server that requires and verifies a client
// certificate signed by one of cas, and answers with the common name of the
// client certificate it got. It is closed at the end of the test.
func NewMTLSServer(t testing.TB, cas *x509.CertPool) *httptest.Server {
	s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
			http.Error(w, "no client certificate", http.StatusUnauthorized)
			return
		}
		w.Write([]byte("client=" + r.TLS.PeerCertificates[0].Subject.CommonName))
	}))
	s.TLS = &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: cas}
	s.StartTLS()
	t.Cleanup(s.Close)
	return s
}

package service_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/integrationd/integrationd/internal/credential"
	"github.com/integrationd/integrationd/internal/credential/credentialtest"
	"github.com/integrationd/integrationd/internal/rpc"
	"github.com/integrationd/integrationd/internal/secrets"
	"github.com/integrationd/integrationd/internal/service"
	"github.com/integrationd/integrationd/internal/store"
	"github.com/integrationd/integrationd/internal/store/sqlite"
)

func openStore(t *testing.T) store.Store {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "s.db"), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func keyring(t *testing.T, b byte) *secrets.Keyring {
	kr, err := secrets.New(bytes.Repeat([]byte{b}, secrets.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

func create(t *testing.T, a *service.AuthConfigs, body string) (*service.AuthConfig, store.AuthConfigKey) {
	t.Helper()
	ac, err := a.Create(t.Context(), "p", "l", []byte(body), nil, "user:me@example.com")
	if err != nil {
		t.Fatalf("Create(%s): %v", body, err)
	}
	return ac, store.AuthConfigKey{Project: "p", Location: "l", ID: ac.Name[strings.LastIndex(ac.Name, "/")+1:]}
}

// header resolves ref and returns the Authorization (or X-API-Key) header
// it sets, or the error.
func header(ctx context.Context, a *service.AuthConfigs, ref string) (string, error) {
	ap, err := a.Resolve(ctx, "p", "l", ref)
	if err != nil {
		return "", err
	}
	req, _ := http.NewRequest("GET", "http://example.invalid/", nil)
	if err := ap.Apply(ctx, req, nil); err != nil {
		return "", err
	}
	return req.Header.Get("Authorization") + req.Header.Get("X-API-Key"), nil
}

const tokenBody = `{"displayName":"%s","decryptedCredential":{"credentialType":"AUTH_TOKEN","authToken":{"token":"t"}}}`

func TestResolve(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	a := service.NewAuthConfigs(st, keyring(t, 1), nil)
	ctx := t.Context()
	_, k := create(t, a, strings.Replace(tokenBody, "%s", "alpha", 1))
	create(t, a, strings.Replace(tokenBody, "%s", "twin", 1))
	create(t, a, strings.Replace(tokenBody, "%s", "twin", 1))
	for _, tc := range []struct{ ref, want, errSub string }{
		{k.ID, "Bearer t", ""},
		{service.AuthConfigName(k), "Bearer t", ""},
		{"alpha", "Bearer t", ""},
		{"twin", "", "names several auth configs"},
		{"nope", "", `auth config "nope" not found in projects/p/locations/l`},
		{"projects/other/locations/l/authConfigs/" + k.ID, "", "is not in projects/p/locations/l"},
		{"projects/p/locations/l/integrations/x", "", "is not an auth config name"},
		{"", "", "no auth config named"},
	} {
		got, err := header(ctx, a, tc.ref)
		if tc.errSub == "" && (err != nil || got != tc.want) || tc.errSub != "" && (err == nil || !strings.Contains(err.Error(), tc.errSub)) {
			t.Errorf("Resolve(%q) = %q, %v; want %q or an error containing %q", tc.ref, got, err, tc.want, tc.errSub)
		}
	}
	// The compiled Applier is kept until the auth config changes.
	a1, _ := a.Resolve(ctx, "p", "l", k.ID)
	a2, _ := a.Resolve(ctx, "p", "l", k.ID)
	if a1 != a2 {
		t.Errorf("two Resolves of an unchanged auth config gave two Appliers")
	}
	// credentialType alone: AUTH_TOKEN becomes API_KEY on the same authToken.
	if _, err := a.Patch(ctx, k, []byte(`{"credentialType":"API_KEY"}`), []string{"credentialType"}, nil, ""); err != nil {
		t.Fatal(err)
	}
	if got, err := header(ctx, a, k.ID); err != nil || got != "t" {
		t.Errorf("after switching to API_KEY: %q, %v, want the key in X-API-Key", got, err)
	}
	if a3, _ := a.Resolve(ctx, "p", "l", k.ID); a3 == a1 {
		t.Errorf("Resolve after a patch gave the old Applier")
	}
}

func TestResolveExpired(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	a := service.NewAuthConfigs(openStore(t), keyring(t, 1), func() time.Time { return now })
	ac, k := create(t, a, `{"validTime":"2024-12-31T00:00:00Z","decryptedCredential":{"credentialType":"AUTH_TOKEN","authToken":{"token":"t"}}}`)
	if ac.State != service.AuthConfigExpired {
		t.Errorf("state = %s, want EXPIRED", ac.State)
	}
	if _, err := header(t.Context(), a, k.ID); err == nil || !strings.Contains(err.Error(), "expired at 2024-12-31T00:00:00Z") {
		t.Errorf("Resolve: %v, want an expiry error", err)
	}
	// overrideValidTime wins over validTime.
	if _, err := a.Patch(t.Context(), k, []byte(`{"overrideValidTime":"2030-01-01T00:00:00Z"}`), nil, nil, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := header(t.Context(), a, k.ID); err != nil {
		t.Errorf("Resolve after overriding the validity: %v", err)
	}
}

func TestWrongKeyAndTampering(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	ctx := t.Context()
	a := service.NewAuthConfigs(st, keyring(t, 1), nil)
	_, k := create(t, a, strings.Replace(tokenBody, "%s", "x", 1))

	other := service.NewAuthConfigs(st, keyring(t, 2), nil)
	if _, err := header(ctx, other, k.ID); err == nil || !strings.Contains(err.Error(), "another secrets key") {
		t.Errorf("Resolve with another key: %v", err)
	}
	if _, err := header(ctx, service.NewAuthConfigs(st, nil, nil), k.ID); err == nil || !strings.Contains(err.Error(), "without a secrets key") {
		t.Errorf("Resolve without a key: %v", err)
	}
	// Plain fields can still change; the credential cannot.
	if _, err := other.Patch(ctx, k, []byte(`{"description":"d"}`), nil, nil, ""); err != nil {
		t.Errorf("Patch(description) with another key: %v", err)
	}
	_, err := other.Patch(ctx, k, []byte(`{"decryptedCredential":{"authToken":{"token":"u"}}}`), []string{"decryptedCredential.authToken.token"}, nil, "")
	if rpc.CodeOf(err) != rpc.CodeFailedPrecondition {
		t.Errorf("Patch(credential) with another key: %v, want FAILED_PRECONDITION", err)
	}
	if got, err := header(ctx, a, k.ID); err != nil || got != "Bearer t" {
		t.Errorf("the original key still opens it: %q, %v", got, err)
	}

	// A flipped byte in the sealed column.
	r, err := st.GetAuthConfig(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	r.Credential[len(r.Credential)-3] ^= 1
	if err := st.UpdateAuthConfig(ctx, r); err != nil {
		t.Fatal(err)
	}
	if _, err := header(ctx, a, k.ID); err == nil || !strings.Contains(err.Error(), "does not decrypt") || !errors.Is(err, secrets.ErrTampered) {
		t.Errorf("Resolve of a tampered credential: %v", err)
	}
	// The sealed value of one auth config does not open as another's.
	_, k2 := create(t, a, strings.Replace(tokenBody, "%s", "y", 1))
	r2, _ := st.GetAuthConfig(ctx, k2)
	r2.Credential = mustCredential(t, a, st, "z")
	if err := st.UpdateAuthConfig(ctx, r2); err != nil {
		t.Fatal(err)
	}
	if _, err := header(ctx, a, k2.ID); !errors.Is(err, secrets.ErrTampered) {
		t.Errorf("Resolve of another record's credential: %v, want %v", err, secrets.ErrTampered)
	}
}

// mustCredential creates an auth config and returns its sealed column.
func mustCredential(t *testing.T, a *service.AuthConfigs, st store.Store, name string) []byte {
	_, k := create(t, a, strings.Replace(tokenBody, "%s", name, 1))
	r, err := st.GetAuthConfig(t.Context(), k)
	if err != nil {
		t.Fatal(err)
	}
	return r.Credential
}

func TestPatchClientCertificate(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	a := service.NewAuthConfigs(openStore(t), keyring(t, 1), nil)
	cc := credentialtest.NewClientCert(t, "c")
	_, k := create(t, a, strings.Replace(tokenBody, "%s", "x", 1))
	cert := func() bool {
		ap, err := a.Resolve(ctx, "p", "l", k.ID)
		if err != nil {
			t.Fatal(err)
		}
		return ap.ClientCertificate() != nil
	}
	if cert() {
		t.Fatalf("a certificate before any was set")
	}
	if _, err := a.Patch(ctx, k, nil, []string{"displayName"}, &credential.ClientCertificate{SSLCertificate: cc.CertPEM, EncryptedPrivateKey: cc.KeyPEM}, ""); err != nil {
		t.Fatal(err)
	}
	if !cert() {
		t.Errorf("the query parameters' certificate was not stored")
	}
	// Another patch keeps it; the clientCertificate path without
	// parameters removes it.
	if _, err := a.Patch(ctx, k, []byte(`{"decryptedCredential":{"authToken":{"token":"u"}}}`), []string{"decryptedCredential.authToken.token"}, nil, ""); err != nil {
		t.Fatal(err)
	}
	if got, _ := header(ctx, a, k.ID); !cert() || got != "Bearer u" {
		t.Errorf("after patching the token: certificate %v, header %q", cert(), got)
	}
	if _, err := a.Patch(ctx, k, nil, []string{"clientCertificate"}, nil, ""); err != nil {
		t.Fatal(err)
	}
	if cert() {
		t.Errorf("the certificate survived its removal")
	}
	// A certificate alone makes a CLIENT_CERTIFICATE_ONLY auth config.
	only, err := a.Create(ctx, "p", "l", []byte(`{"displayName":"only"}`),
		&credential.ClientCertificate{SSLCertificate: cc.CertPEM, EncryptedPrivateKey: cc.KeyPEM}, "")
	if err != nil || only.CredentialType != "CLIENT_CERTIFICATE_ONLY" || only.State != service.AuthConfigValid {
		t.Errorf("Create(certificate alone) = %+v, %v, want CLIENT_CERTIFICATE_ONLY and VALID", only, err)
	}
}

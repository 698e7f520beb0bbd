package tasks

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net"
	"net/smtp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"

	"github.com/integrationd/integrationd/internal/engine"
)

// testCert is a self-signed certificate for 127.0.0.1 and localhost, made
// once per test binary, and a pool that trusts it.
var testCert = sync.OnceValues(func() (tls.Certificate, *x509.CertPool) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "integrationd test SMTP"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		panic(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		panic(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
})

func serverTLS() *tls.Config {
	cert, _ := testCert()
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
}

// sendOne compiles an EmailTask to ada@example.com and runs it with cfg.
func sendOne(ctx context.Context, t *testing.T, cfg SMTPConfig) error {
	t.Helper()
	if cfg.From == "" {
		cfg.From = "noreply@example.org"
	}
	task, err := compileEmail(t, cfg, emailParams(map[string]string{"To": strArr("$who$"), "Subject": `{"stringValue":"hi"}`}))
	if err != nil {
		t.Fatal(err)
	}
	return task.Execute(ctx, &engine.TaskContext{Vars: emailVars(), TaskID: "1", Now: time.Now})
}

// TestEmailSMTPTLSAndAuth runs whole SMTP exchanges: the STARTTLS and
// implicit TLS modes, certificate checks, AUTH PLAIN and LOGIN, refused
// credentials, and every case where the client must not send them.
func TestEmailSMTPTLSAndAuth(t *testing.T) {
	t.Parallel()
	_, pool := testCert()
	users := map[string]string{"ada": "s3cret"}
	cases := []struct {
		name     string
		server   smtpServer
		cfg      SMTPConfig
		errSub   string
		code     int    // the TaskError code, when errSub is set
		wantTLS  bool   // the message went over TLS
		wantUser string // the session authenticated as
		noAuth   bool   // the client must not even try AUTH
	}{
		{
			name:    "STARTTLS trusting the server's CA",
			server:  smtpServer{tls: serverTLS()},
			cfg:     SMTPConfig{TLS: SMTPTLSStartTLS, RootCAs: pool},
			wantTLS: true,
		},
		{
			name:    "STARTTLS is the default mode",
			server:  smtpServer{tls: serverTLS()},
			cfg:     SMTPConfig{RootCAs: pool},
			wantTLS: true,
		},
		{
			name:     "STARTTLS then AUTH PLAIN",
			server:   smtpServer{tls: serverTLS(), users: users},
			cfg:      SMTPConfig{TLS: SMTPTLSStartTLS, RootCAs: pool, Username: "ada", Password: "s3cret"},
			wantTLS:  true,
			wantUser: "ada",
		},
		{
			name:   "STARTTLS with an untrusted certificate",
			server: smtpServer{tls: serverTLS(), users: users},
			cfg:    SMTPConfig{TLS: SMTPTLSStartTLS, Username: "ada", Password: "s3cret"},
			errSub: "EmailTask: STARTTLS: tls: failed to verify certificate: x509: certificate signed by unknown authority",
			noAuth: true,
		},
		{
			name:    "STARTTLS with an untrusted certificate, verification off",
			server:  smtpServer{tls: serverTLS()},
			cfg:     SMTPConfig{TLS: SMTPTLSStartTLS, InsecureSkipVerify: true},
			wantTLS: true,
		},
		{
			name:   "STARTTLS required but not offered: credentials never sent",
			server: smtpServer{users: users},
			cfg:    SMTPConfig{TLS: SMTPTLSStartTLS, Username: "ada", Password: "s3cret"},
			errSub: "does not offer STARTTLS, which TLS mode starttls requires; nothing was sent",
			noAuth: true,
		},
		{
			name:     "implicit TLS then AUTH PLAIN",
			server:   smtpServer{tls: serverTLS(), implicit: true, users: users},
			cfg:      SMTPConfig{TLS: SMTPTLSImplicit, RootCAs: pool, Username: "ada", Password: "s3cret"},
			wantTLS:  true,
			wantUser: "ada",
		},
		{
			name:   "implicit TLS with an untrusted certificate",
			server: smtpServer{tls: serverTLS(), implicit: true},
			cfg:    SMTPConfig{TLS: SMTPTLSImplicit},
			errSub: "TLS handshake with 127.0.0.1:",
		},
		{
			name:   "implicit TLS against a plain server",
			server: smtpServer{},
			cfg:    SMTPConfig{TLS: SMTPTLSImplicit, RootCAs: pool, Timeout: 2 * time.Second},
			errSub: "TLS handshake with 127.0.0.1:",
		},
		{
			name:   "wrong password",
			server: smtpServer{tls: serverTLS(), users: users},
			cfg:    SMTPConfig{TLS: SMTPTLSStartTLS, RootCAs: pool, Username: "ada", Password: "wrong"},
			errSub: `EmailTask: AUTH PLAIN as "ada": 535 "5.7.8 Authentication failed"`,
			code:   535,
		},
		{
			name:     "AUTH LOGIN when PLAIN is not offered",
			server:   smtpServer{tls: serverTLS(), users: users, mechs: []string{sasl.Login}},
			cfg:      SMTPConfig{TLS: SMTPTLSStartTLS, RootCAs: pool, Username: "ada", Password: "s3cret"},
			wantTLS:  true,
			wantUser: "ada",
		},
		{
			name:   "AUTH LOGIN refused",
			server: smtpServer{tls: serverTLS(), users: users, mechs: []string{sasl.Login}},
			cfg:    SMTPConfig{TLS: SMTPTLSStartTLS, RootCAs: pool, Username: "ada", Password: "nope"},
			errSub: `EmailTask: AUTH LOGIN as "ada": 535`,
			code:   535,
		},
		{
			name:   "only unsupported mechanisms offered",
			server: smtpServer{tls: serverTLS(), users: users, mechs: []string{"CRAM-MD5"}},
			cfg:    SMTPConfig{TLS: SMTPTLSStartTLS, RootCAs: pool, Username: "ada", Password: "s3cret"},
			errSub: "offers AUTH CRAM-MD5; integrationd supports PLAIN and LOGIN",
			noAuth: true,
		},
		{
			name:   "username configured, server offers no AUTH",
			server: smtpServer{tls: serverTLS()},
			cfg:    SMTPConfig{TLS: SMTPTLSStartTLS, RootCAs: pool, Username: "ada", Password: "s3cret"},
			errSub: "does not offer AUTH, but a username is configured",
		},
		{
			name:   "server requires AUTH, none configured",
			server: smtpServer{tls: serverTLS(), users: users},
			cfg:    SMTPConfig{TLS: SMTPTLSStartTLS, RootCAs: pool},
			errSub: "EmailTask: MAIL FROM: 502",
			code:   502,
		},
		{
			name:     "no TLS, AUTH PLAIN to a loopback host",
			server:   smtpServer{users: users},
			cfg:      SMTPConfig{TLS: SMTPTLSNone, Username: "ada", Password: "s3cret"},
			wantUser: "ada",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			be, addr := startSMTPWith(t, c.server)
			c.cfg.Addr = addr
			err := sendOne(t.Context(), t, c.cfg)
			if c.noAuth && be.authAttempts() != 0 {
				t.Errorf("%d AUTH attempts, want none", be.authAttempts())
			}
			if c.errSub != "" {
				if err == nil || !strings.Contains(err.Error(), c.errSub) {
					t.Fatalf("Execute err = %v, want %q", err, c.errSub)
				}
				wantFailure(t, err, c.code, be)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			msgs := be.delivered()
			if len(msgs) != 1 {
				t.Fatalf("%d messages delivered, want 1", len(msgs))
			}
			if m := msgs[0]; m.tls != c.wantTLS || m.user != c.wantUser || strings.Join(m.rcpts, ",") != "ada@example.com" {
				t.Errorf("delivered over TLS %v as %q to %v, want TLS %v as %q to ada@example.com", m.tls, m.user, m.rcpts, c.wantTLS, c.wantUser)
			}
		})
	}
}

func TestEmailSMTPConnectionRefused(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	err = sendOne(t.Context(), t, SMTPConfig{Addr: addr, TLS: SMTPTLSNone})
	if err == nil || !strings.Contains(err.Error(), "EmailTask: dial "+addr) || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("err = %v, want a refused dial of %s", err, addr)
	}
}

// TestEmailSMTPTimeout: a server that accepts and never greets is given up
// on at the configured timeout, or at the execution's deadline if sooner.
func TestEmailSMTPTimeout(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { _ = c.Close() })
		}
	}()
	for _, c := range []struct {
		name    string
		timeout time.Duration // SMTPConfig.Timeout
		ctx     time.Duration // the execution's deadline; 0: none
	}{
		{"config timeout", 200 * time.Millisecond, 0},
		{"context deadline", time.Minute, 200 * time.Millisecond},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			if c.ctx > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, c.ctx)
				defer cancel()
			}
			start := time.Now()
			err := sendOne(ctx, t, SMTPConfig{Addr: l.Addr().String(), TLS: SMTPTLSNone, Timeout: c.timeout})
			if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "EmailTask: greeting") {
				t.Fatalf("err = %v, want DeadlineExceeded at the greeting", err)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

func TestSMTPConfigValidate(t *testing.T) {
	t.Parallel()
	cases := []struct {
		cfg  SMTPConfig
		want []string // substrings of the error; none: valid
	}{
		{SMTPConfig{}, nil},
		{SMTPConfig{Addr: "smtp.example.com:587", From: "Ops <ops@example.com>", Username: "u", Password: "p"}, nil},
		{SMTPConfig{Addr: "127.0.0.1:25", From: "a@example.com", TLS: "NONE", Username: "u", Password: "p"}, nil},
		{SMTPConfig{Addr: "smtp.example.com:465", From: "a@example.com", TLS: "tls"}, nil},
		{SMTPConfig{TLS: "ssl"}, []string{`TLS mode "ssl" is not none, starttls or tls`}},
		{SMTPConfig{Addr: "smtp.example.com"}, []string{`"smtp.example.com" is not host:port`, "sender (From) is required"}},
		{SMTPConfig{Addr: "smtp.example.com:25", From: "a@example.com", TLS: "none", Username: "u"},
			[]string{"credentials would cross the network in clear text to smtp.example.com"}},
		{SMTPConfig{From: "not an address", Password: "p", Timeout: -time.Second},
			[]string{`sender "not an address"`, "password is set without a username", "timeout -1s is negative"}},
	}
	for _, c := range cases {
		err := c.cfg.Validate()
		if len(c.want) == 0 {
			if err != nil {
				t.Errorf("Validate(%+v) = %v, want nil", c.cfg, err)
			}
			continue
		}
		for _, w := range c.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("Validate(%+v) = %v, want %q", c.cfg, err, w)
			}
		}
	}
}

func TestLoginAuthRefusesCleartext(t *testing.T) {
	t.Parallel()
	a := &loginAuth{user: "u", pass: "p", host: "mail.example.com"}
	if _, _, err := a.Start(&smtp.ServerInfo{Name: "mail.example.com", TLS: false}); err == nil {
		t.Error("Start over plain text to a remote host succeeded")
	}
	if _, _, err := a.Start(&smtp.ServerInfo{Name: "other.example.com", TLS: true}); err == nil {
		t.Error("Start for another host succeeded")
	}
	if mech, _, err := a.Start(&smtp.ServerInfo{Name: "mail.example.com", TLS: true}); err != nil || mech != "LOGIN" {
		t.Errorf("Start over TLS = %q, %v", mech, err)
	}
	for ch, want := range map[string]string{"Username:": "u", "Password:": "p"} {
		if got, err := a.Next([]byte(ch), true); err != nil || string(got) != want {
			t.Errorf("Next(%q) = %q, %v, want %q", ch, got, err, want)
		}
	}
	if _, err := a.Next([]byte("Token:"), true); err == nil {
		t.Error("Next(Token:) succeeded")
	}
}

package tasks

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/integrationd/integrationd/internal/engine"
)

// TLS modes of SMTPConfig.TLS.
const (
	SMTPTLSNone     = "none"     // plain text, never TLS
	SMTPTLSStartTLS = "starttls" // STARTTLS required; fail when not offered
	SMTPTLSImplicit = "tls"      // TLS from the first byte (usually port 465)
)

// SMTPConfig is the SMTP relay the Send Email task delivers through. The
// zero value sends nothing: an EmailTask that has a recipient fails.
type SMTPConfig struct {
	// Addr is host:port of the relay. Default: none; an EmailTask that has
	// a recipient then fails.
	Addr string
	// From is the sender address (envelope MAIL FROM and From header),
	// "Name <addr>" allowed. Required when Addr is set.
	From string
	// Username, when set, authenticates with Password: AUTH PLAIN when the
	// server offers it, else AUTH LOGIN. Credentials are sent only over TLS
	// or to a loopback host.
	Username, Password string
	// TLS is SMTPTLSNone, SMTPTLSStartTLS or SMTPTLSImplicit. Default:
	// SMTPTLSStartTLS.
	TLS string
	// RootCAs verifies the server's certificate. Default (nil): the system
	// roots.
	RootCAs *x509.CertPool
	// InsecureSkipVerify accepts any server certificate. For development
	// only.
	InsecureSkipVerify bool
	// Timeout bounds one send, from dial to QUIT, within the execution's
	// own deadline. Default: 60 s.
	Timeout time.Duration
	// AttachmentDir, when set, lets AttachmentPath name files in this
	// directory (or below). Default: none; local files are refused.
	AttachmentDir string
}

func (c *SMTPConfig) provision() {
	if c.TLS == "" {
		c.TLS = SMTPTLSStartTLS
	}
	c.TLS = strings.ToLower(c.TLS)
	if c.Timeout == 0 {
		c.Timeout = 60 * time.Second
	}
}

// Validate reports every problem of c with its defaults applied; it does
// no I/O. The zero config is valid (email is then off).
func (c SMTPConfig) Validate() error {
	c.provision()
	var errs []error
	switch c.TLS {
	case SMTPTLSNone, SMTPTLSStartTLS, SMTPTLSImplicit:
	default:
		errs = append(errs, fmt.Errorf("SMTP TLS mode %q is not none, starttls or tls", c.TLS))
	}
	if c.Timeout < 0 {
		errs = append(errs, fmt.Errorf("SMTP timeout %v is negative", c.Timeout))
	}
	if c.Addr != "" {
		if host, port, err := net.SplitHostPort(c.Addr); err != nil || host == "" || port == "" {
			errs = append(errs, fmt.Errorf("SMTP address %q is not host:port", c.Addr))
		} else if c.Username != "" && c.TLS == SMTPTLSNone && !isLoopback(host) {
			errs = append(errs, fmt.Errorf("SMTP credentials would cross the network in clear text to %s: use TLS mode starttls or tls", host))
		}
		if c.From == "" {
			errs = append(errs, errors.New("an SMTP sender (From) is required with an SMTP address"))
		}
	}
	if c.From != "" {
		if _, err := mail.ParseAddress(c.From); err != nil {
			errs = append(errs, fmt.Errorf("SMTP sender %q: %v", c.From, err))
		}
	}
	if c.Password != "" && c.Username == "" {
		errs = append(errs, errors.New("an SMTP password is set without a username"))
	}
	return errors.Join(errs...)
}

// isLoopback reports whether host names this machine, as net/smtp decides
// when it allows credentials without TLS.
func isLoopback(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

// smtpError wraps an SMTP failure; a server reply's code becomes the
// task error's code (`ErrorInfo`.code).
func smtpError(ctx context.Context, step string, err error) error {
	switch {
	case ctx.Err() != nil:
		err = fmt.Errorf("%w (%v)", ctx.Err(), err)
	case errors.Is(err, os.ErrDeadlineExceeded):
		// The connection deadline is ctx's; it may fire just before ctx does.
		err = fmt.Errorf("%w (%v)", context.DeadlineExceeded, err)
	}
	code := 0
	var te *textproto.Error
	if errors.As(err, &te) {
		code = te.Code
	}
	return &engine.TaskError{Code: code, Message: fmt.Sprintf("EmailTask: %s: %v", step, err), Err: err}
}

// sendEmail delivers msg through cfg (provisioned), honouring ctx: the
// dial uses it, and its cancellation or deadline (or cfg.Timeout, whichever
// comes first) aborts the session. Credentials are never sent before the
// TLS the mode requires is up.
func sendEmail(ctx context.Context, cfg SMTPConfig, from string, rcpts []string, msg []byte) error {
	host, _, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return fmt.Errorf("EmailTask: SMTP address %q: %v", cfg.Addr, err)
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	deadline, _ := ctx.Deadline()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", cfg.Addr)
	if err != nil {
		return smtpError(ctx, "dial "+cfg.Addr, err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	tlsConf := &tls.Config{
		ServerName:         host,
		RootCAs:            cfg.RootCAs,
		InsecureSkipVerify: cfg.InsecureSkipVerify, //nolint:gosec // opt-in, documented as development only
		MinVersion:         tls.VersionTLS12,
	}
	if cfg.TLS == SMTPTLSImplicit {
		tc := tls.Client(conn, tlsConf)
		if err := tc.HandshakeContext(ctx); err != nil {
			return smtpError(ctx, "TLS handshake with "+cfg.Addr, err)
		}
		conn = tc
	}
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		return smtpError(ctx, "greeting", err)
	}
	defer c.Close()
	if err := c.Hello("localhost"); err != nil {
		return smtpError(ctx, "EHLO", err)
	}
	if cfg.TLS == SMTPTLSStartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return fmt.Errorf("EmailTask: SMTP server %s does not offer STARTTLS, which TLS mode starttls requires; nothing was sent", cfg.Addr)
		}
		if err := c.StartTLS(tlsConf); err != nil {
			return smtpError(ctx, "STARTTLS", err)
		}
	}
	if cfg.Username != "" {
		a, mech, err := smtpAuth(c, cfg, host)
		if err != nil {
			return err
		}
		if err := c.Auth(a); err != nil {
			return smtpError(ctx, fmt.Sprintf("AUTH %s as %q", mech, cfg.Username), err)
		}
	}
	if err := c.Mail(from); err != nil {
		return smtpError(ctx, "MAIL FROM", err)
	}
	for _, r := range rcpts {
		if err := c.Rcpt(r); err != nil {
			return smtpError(ctx, "RCPT TO "+r, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return smtpError(ctx, "DATA", err)
	}
	if _, err := w.Write(msg); err != nil {
		return smtpError(ctx, "DATA", err)
	}
	if err := w.Close(); err != nil {
		return smtpError(ctx, "DATA", err)
	}
	if err := c.Quit(); err != nil {
		return smtpError(ctx, "QUIT", err)
	}
	return nil
}

// smtpAuth picks the mechanism: PLAIN when offered, else LOGIN.
func smtpAuth(c *smtp.Client, cfg SMTPConfig, host string) (smtp.Auth, string, error) {
	ok, list := c.Extension("AUTH")
	if !ok {
		return nil, "", fmt.Errorf("EmailTask: SMTP server %s does not offer AUTH, but a username is configured; nothing was sent", cfg.Addr)
	}
	mechs := strings.Fields(strings.ToUpper(list))
	switch {
	case slices.Contains(mechs, "PLAIN"):
		return smtp.PlainAuth("", cfg.Username, cfg.Password, host), "PLAIN", nil
	case slices.Contains(mechs, "LOGIN"):
		return &loginAuth{user: cfg.Username, pass: cfg.Password, host: host}, "LOGIN", nil
	}
	return nil, "", fmt.Errorf("EmailTask: SMTP server %s offers AUTH %s; integrationd supports PLAIN and LOGIN; nothing was sent", cfg.Addr, list)
}

// loginAuth is the AUTH LOGIN mechanism (draft-murchison-sasl-login), which
// net/smtp lacks. Like smtp.PlainAuth it refuses a connection that is
// neither TLS nor to a loopback host.
type loginAuth struct{ user, pass, host string }

var _ smtp.Auth = (*loginAuth)(nil)

func (a *loginAuth) Start(server *smtp.ServerInfo) (string, []byte, error) {
	if !server.TLS && !isLoopback(server.Name) {
		return "", nil, errors.New("unencrypted connection")
	}
	if server.Name != a.host {
		return "", nil, errors.New("wrong host name")
	}
	return "LOGIN", nil, nil
}

func (a *loginAuth) Next(challenge []byte, more bool) ([]byte, error) {
	if !more {
		return nil, nil
	}
	switch strings.ToLower(strings.TrimSpace(string(challenge))) {
	case "username:":
		return []byte(a.user), nil
	case "password:":
		return []byte(a.pass), nil
	}
	return nil, fmt.Errorf("unexpected AUTH LOGIN challenge %q", challenge)
}

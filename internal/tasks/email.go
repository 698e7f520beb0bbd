package tasks

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"os"
	"strings"
	"time"

	"github.com/integrationd/integrationd/internal/engine"
	"github.com/integrationd/integrationd/internal/spec"
	"github.com/integrationd/integrationd/internal/value"
)

// The Send Email task, as exported integrations declare it:
// {"task": "EmailTask", "parameters": {"To": {"stringArray": ...},
// "Subject": {"stringValue": "..."}, "TextBody": {"stringValue": "..."},
// "BodyFormat": {"stringValue": "text"}, ...}}. See docs/email.md.
const (
	emailTask        = "EmailTask"
	pEmailTo         = "To"
	pEmailCc         = "Cc"
	pEmailBcc        = "Bcc"
	pEmailSubject    = "Subject"
	pEmailTextBody   = "TextBody"
	pEmailBodyFormat = "BodyFormat"
	pEmailAttachment = "AttachmentPath"
	pEmailConfig     = "EmailConfigInput"
	pEmailThrow      = "ThrowNoRequiredInputException"

	// emailMaxRecipients is Google's limit on To, Cc and Bcc together.
	emailMaxRecipients = 30
	// emailDefaultTimeout bounds one send when ctx has no deadline.
	emailDefaultTimeout = 60 * time.Second
)

// SMTPConfig is the SMTP relay the Send Email task delivers through.
type SMTPConfig struct {
	// Addr is host:port of the relay. Empty: the task fails when it has
	// something to send.
	Addr string
	// From is the sender address (envelope MAIL FROM and From header).
	From string
	// Username and Password, when Username is set, authenticate with
	// AUTH PLAIN (which net/smtp only allows over TLS or to localhost).
	Username, Password string
	// TLS is "none" (never), "starttls" (required STARTTLS), "tls"
	// (implicit TLS, usually port 465) or "" (STARTTLS when offered).
	TLS string
}

// SMTP configuration environment variables (to become flags).
const (
	envSMTPAddr     = "INTEGRATIOND_SMTP_ADDR"
	envSMTPFrom     = "INTEGRATIOND_SMTP_FROM"
	envSMTPUsername = "INTEGRATIOND_SMTP_USERNAME"
	envSMTPPassword = "INTEGRATIOND_SMTP_PASSWORD"
	envSMTPTLS      = "INTEGRATIOND_SMTP_TLS"
)

// SMTPConfigFromEnv reads the INTEGRATIOND_SMTP_* environment variables.
func SMTPConfigFromEnv() SMTPConfig {
	return SMTPConfig{
		Addr:     os.Getenv(envSMTPAddr),
		From:     os.Getenv(envSMTPFrom),
		Username: os.Getenv(envSMTPUsername),
		Password: os.Getenv(envSMTPPassword),
		TLS:      os.Getenv(envSMTPTLS),
	}
}

func registerEmail(r *Registry, _ Options) {
	registerEmailWith(r, SMTPConfigFromEnv())
}

func registerEmailWith(r *Registry, cfg SMTPConfig) {
	r.Register(emailTask, Spec{
		Summary: "Send Email: sends one email through the configured SMTP relay (INTEGRATIOND_SMTP_*). " +
			"To, Cc, Bcc, Subject and TextBody take $var$ references; at most 30 recipients in all.",
		DocURL: "https://cloud.google.com/application-integration/docs/configure-send-email-task",
		Params: []Param{
			{Key: pEmailTo, Type: value.StringArray, Doc: "Recipients; each element is templated and may hold several comma-separated addresses."},
			{Key: pEmailCc, Type: value.StringArray, Doc: "Cc recipients, as To."},
			{Key: pEmailBcc, Type: value.StringArray, Doc: "Bcc recipients, as To; they get the mail but appear in no header."},
			{Key: pEmailSubject, Type: value.String, Doc: "Subject; $var$ references are rendered when the task runs."},
			{Key: pEmailTextBody, Type: value.String, Doc: "Body; $var$ references are rendered when the task runs."},
			{Key: pEmailBodyFormat, Type: value.String, Doc: "text (default) or html."},
			{Key: pEmailAttachment, Type: value.StringArray, Doc: "Not supported: the task fails if an element renders non-empty."},
			{Key: pEmailConfig, Type: value.JSON, Doc: "Accepted and ignored."},
			{Key: pEmailThrow, Type: value.Bool, Doc: "When true, the task fails if it has no recipient; when false (default) it then succeeds without sending."},
		},
	}, func(tc *spec.TaskConfig) (engine.Task, error) { return newEmail(tc, cfg) })
}

type emailTaskImpl struct {
	smtp          SMTPConfig
	to, cc, bcc   []*value.Template
	attachments   []*value.Template
	subject, body *value.Template
	html          bool
	throw         bool
}

func newEmail(cfg *spec.TaskConfig, smtpCfg SMTPConfig) (engine.Task, error) {
	t := &emailTaskImpl{smtp: smtpCfg}
	for _, a := range []struct {
		key string
		dst *[]*value.Template
	}{{pEmailTo, &t.to}, {pEmailCc, &t.cc}, {pEmailBcc, &t.bcc}, {pEmailAttachment, &t.attachments}} {
		v, err := param(cfg, a.key)
		if err != nil {
			return nil, err
		}
		for _, s := range v.Strings() {
			*a.dst = append(*a.dst, value.CompileTemplate(s))
		}
	}
	var err error
	if t.subject, err = templateParam(cfg, pEmailSubject); err != nil {
		return nil, err
	}
	if t.body, err = templateParam(cfg, pEmailTextBody); err != nil {
		return nil, err
	}
	f, err := param(cfg, pEmailBodyFormat)
	if err != nil {
		return nil, err
	}
	switch strings.ToLower(strings.TrimSpace(f.Str())) {
	case "", "text":
	case "html":
		t.html = true
	default:
		return nil, fmt.Errorf("parameter %s: %q is neither text nor html", pEmailBodyFormat, f.Str())
	}
	th, err := param(cfg, pEmailThrow)
	if err != nil {
		return nil, err
	}
	t.throw = !th.IsNull() && th.Bool()
	switch strings.ToLower(smtpCfg.TLS) {
	case "", "none", "starttls", "tls":
	default:
		return nil, fmt.Errorf("EmailTask: SMTP TLS mode %q is not none, starttls or tls (%s)", smtpCfg.TLS, envSMTPTLS)
	}
	return t, nil
}

// recipients renders a recipient list: an element that is a single
// reference to a string array contributes each of its elements; any other
// element is rendered and parsed as a comma-separated address list.
func recipients(ts []*value.Template, g value.Getter, field string) ([]*mail.Address, error) {
	var out []*mail.Address
	add := func(s string) error {
		s = strings.TrimSpace(s)
		if s == "" {
			return nil
		}
		as, err := mail.ParseAddressList(s)
		if err != nil {
			return fmt.Errorf("EmailTask: %s: invalid address %q: %v", field, s, err)
		}
		out = append(out, as...)
		return nil
	}
	for _, t := range ts {
		v := t.Eval(g)
		if v.Kind() == value.StringArray {
			for _, s := range v.Strings() {
				if err := add(s); err != nil {
					return nil, err
				}
			}
			continue
		}
		if err := add(t.Render(g)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (t *emailTaskImpl) Execute(ctx context.Context, tc *engine.TaskContext) error {
	for _, a := range t.attachments {
		if p := strings.TrimSpace(a.Render(tc.Vars)); p != "" {
			return fmt.Errorf("EmailTask: %s is not supported (got %q)", pEmailAttachment, p)
		}
	}
	to, err := recipients(t.to, tc.Vars, pEmailTo)
	if err != nil {
		return err
	}
	cc, err := recipients(t.cc, tc.Vars, pEmailCc)
	if err != nil {
		return err
	}
	bcc, err := recipients(t.bcc, tc.Vars, pEmailBcc)
	if err != nil {
		return err
	}
	n := len(to) + len(cc) + len(bcc)
	if n == 0 {
		if t.throw {
			return errors.New("EmailTask: no recipients (To, Cc and Bcc are all empty)")
		}
		tc.Log("EmailTask: no recipients, nothing sent")
		return nil
	}
	if n > emailMaxRecipients {
		return fmt.Errorf("EmailTask: %d recipients, at most %d are allowed (To, Cc and Bcc together)", n, emailMaxRecipients)
	}
	if t.smtp.Addr == "" {
		return fmt.Errorf("EmailTask: no SMTP server configured (set %s)", envSMTPAddr)
	}
	if t.smtp.From == "" {
		return fmt.Errorf("EmailTask: no sender configured (set %s)", envSMTPFrom)
	}
	from, err := mail.ParseAddress(t.smtp.From)
	if err != nil {
		return fmt.Errorf("EmailTask: invalid sender %q (%s): %v", t.smtp.From, envSMTPFrom, err)
	}
	now := time.Now
	if tc.Now != nil {
		now = tc.Now
	}
	msg := buildEmail(from, to, cc, t.subject.Render(tc.Vars), t.body.Render(tc.Vars), t.html, now())
	var rcpts []string
	seen := map[string]bool{}
	for _, l := range [][]*mail.Address{to, cc, bcc} {
		for _, a := range l {
			if k := strings.ToLower(a.Address); !seen[k] {
				seen[k] = true
				rcpts = append(rcpts, a.Address)
			}
		}
	}
	if err := sendEmail(ctx, t.smtp, from.Address, rcpts, msg); err != nil {
		return err
	}
	tc.Log(fmt.Sprintf("EmailTask: sent to %d recipient(s)", len(rcpts)))
	return nil
}

// headerText removes line breaks so a rendered value cannot add headers.
func headerText(s string) string {
	return strings.Join(strings.Fields(strings.NewReplacer("\r", " ", "\n", " ").Replace(s)), " ")
}

func joinAddrs(as []*mail.Address) string {
	ss := make([]string, len(as))
	for i, a := range as {
		ss[i] = a.String()
	}
	return strings.Join(ss, ", ")
}

// buildEmail returns an RFC 5322 message with a quoted-printable UTF-8
// body. Bcc recipients appear in no header.
func buildEmail(from *mail.Address, to, cc []*mail.Address, subject, body string, html bool, date time.Time) []byte {
	var b strings.Builder
	h := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	h("Date", date.Format(time.RFC1123Z))
	h("From", from.String())
	if len(to) > 0 {
		h("To", joinAddrs(to))
	}
	if len(cc) > 0 {
		h("Cc", joinAddrs(cc))
	}
	h("Subject", mime.QEncoding.Encode("utf-8", headerText(subject)))
	h("Message-ID", messageID(from.Address))
	h("MIME-Version", "1.0")
	ct := "text/plain"
	if html {
		ct = "text/html"
	}
	h("Content-Type", ct+"; charset=utf-8")
	h("Content-Transfer-Encoding", "quoted-printable")
	b.WriteString("\r\n")
	w := quotedprintable.NewWriter(&b)
	_, _ = w.Write([]byte(body))
	_ = w.Close()
	return []byte(b.String())
}

func messageID(from string) string {
	domain := "integrationd.localhost"
	if i := strings.LastIndexByte(from, '@'); i >= 0 && i < len(from)-1 {
		domain = from[i+1:]
	}
	var r [16]byte
	_, _ = rand.Read(r[:])
	return "<" + hex.EncodeToString(r[:]) + "@" + domain + ">"
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

// sendEmail delivers msg, honouring ctx: the dial uses it, and its
// cancellation or deadline (else a default timeout) aborts the session.
func sendEmail(ctx context.Context, cfg SMTPConfig, from string, rcpts []string, msg []byte) error {
	host, _, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return fmt.Errorf("EmailTask: SMTP address %q (%s): %v", cfg.Addr, envSMTPAddr, err)
	}
	ctx, cancel := context.WithTimeout(ctx, emailDefaultTimeout)
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
	mode := strings.ToLower(cfg.TLS)
	tlsConf := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	if mode == "tls" {
		tc := tls.Client(conn, tlsConf)
		if err := tc.HandshakeContext(ctx); err != nil {
			return smtpError(ctx, "TLS handshake", err)
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
	if mode == "starttls" || mode == "" {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(tlsConf); err != nil {
				return smtpError(ctx, "STARTTLS", err)
			}
		} else if mode == "starttls" {
			return fmt.Errorf("EmailTask: SMTP server %s does not offer STARTTLS (%s=starttls)", cfg.Addr, envSMTPTLS)
		}
	}
	if cfg.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", cfg.Username, cfg.Password, host)); err != nil {
			return smtpError(ctx, "AUTH", err)
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

package tasks

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	gosmtp "github.com/emersion/go-smtp"

	"github.com/integrationd/integrationd/internal/engine"
	"github.com/integrationd/integrationd/internal/spec"
	"github.com/integrationd/integrationd/internal/value"
)

type smtpMsg struct {
	from  string
	rcpts []string
	data  []byte
	tls   bool   // the session ran over TLS (STARTTLS or implicit)
	user  string // the authenticated user, "" when none
}

// smtpServer configures the loopback test server.
type smtpServer struct {
	stall    chan struct{}     // when set, DATA waits for it to close
	tls      *tls.Config       // when set, STARTTLS is offered (or, with implicit, TLS from the start)
	implicit bool              // TLS from the first byte
	users    map[string]string // when set, AUTH is offered (after TLS if tls is set) and required
	mechs    []string          // AUTH mechanisms offered; default PLAIN
}

// smtpBackend records delivered messages and AUTH attempts; it refuses
// RCPT to any address containing "reject" and DATA whose message contains
// "REJECT-DATA".
type smtpBackend struct {
	opts  smtpServer
	mu    sync.Mutex
	msgs  []smtpMsg
	auths int
}

func (b *smtpBackend) NewSession(c *gosmtp.Conn) (gosmtp.Session, error) {
	return &smtpSession{b: b, c: c}, nil
}

func (b *smtpBackend) delivered() []smtpMsg {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]smtpMsg(nil), b.msgs...)
}

func (b *smtpBackend) authAttempts() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.auths
}

type smtpSession struct {
	b    *smtpBackend
	c    *gosmtp.Conn
	user string
	cur  smtpMsg
}

var _ gosmtp.AuthSession = (*smtpSession)(nil)

func (s *smtpSession) Reset()        { s.cur = smtpMsg{} }
func (s *smtpSession) Logout() error { return nil }

func (s *smtpSession) AuthMechanisms() []string {
	if s.b.opts.users == nil {
		return nil
	}
	if s.b.opts.mechs != nil {
		return s.b.opts.mechs
	}
	return []string{sasl.Plain}
}

func (s *smtpSession) Auth(mech string) (sasl.Server, error) {
	s.b.mu.Lock()
	s.b.auths++
	s.b.mu.Unlock()
	check := func(user, pass string) error {
		if want, ok := s.b.opts.users[user]; !ok || want != pass {
			return gosmtp.ErrAuthFailed
		}
		s.user = user
		return nil
	}
	switch mech {
	case sasl.Plain:
		return sasl.NewPlainServer(func(_, user, pass string) error { return check(user, pass) }), nil
	case sasl.Login:
		return &loginServer{check: check}, nil
	}
	return nil, gosmtp.ErrAuthUnknownMechanism
}

// loginServer is the server side of AUTH LOGIN (go-sasl has only the
// client): it asks for the username, then the password.
type loginServer struct {
	check func(user, pass string) error
	step  int
	user  string
}

func (l *loginServer) Next(resp []byte) ([]byte, bool, error) {
	l.step++
	switch l.step {
	case 1:
		if resp != nil { // an initial response is the username
			l.user = string(resp)
			l.step++
			return []byte("Password:"), false, nil
		}
		return []byte("Username:"), false, nil
	case 2:
		l.user = string(resp)
		return []byte("Password:"), false, nil
	}
	return nil, true, l.check(l.user, string(resp))
}

func (s *smtpSession) Mail(from string, _ *gosmtp.MailOptions) error {
	if s.b.opts.users != nil && s.user == "" {
		return gosmtp.ErrAuthRequired
	}
	s.cur.from = from
	return nil
}

func (s *smtpSession) Rcpt(to string, _ *gosmtp.RcptOptions) error {
	if strings.Contains(to, "reject") {
		return &gosmtp.SMTPError{Code: 550, EnhancedCode: gosmtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
	}
	s.cur.rcpts = append(s.cur.rcpts, to)
	return nil
}

func (s *smtpSession) Data(r io.Reader) error {
	if s.b.opts.stall != nil {
		<-s.b.opts.stall
	}
	d, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if bytes.Contains(d, []byte("REJECT-DATA")) {
		return &gosmtp.SMTPError{Code: 554, EnhancedCode: gosmtp.EnhancedCode{5, 6, 0}, Message: "content refused"}
	}
	s.cur.data = d
	_, s.cur.tls = s.c.TLSConnectionState()
	s.cur.user = s.user
	s.b.mu.Lock()
	s.b.msgs = append(s.b.msgs, s.cur)
	s.b.mu.Unlock()
	return nil
}

// startSMTP starts a plain loopback SMTP server.
func startSMTP(t *testing.T, stall chan struct{}) (*smtpBackend, string) {
	return startSMTPWith(t, smtpServer{stall: stall})
}

// startSMTPWith starts a loopback SMTP server configured by opts.
func startSMTPWith(t *testing.T, opts smtpServer) (*smtpBackend, string) {
	t.Helper()
	be := &smtpBackend{opts: opts}
	srv := gosmtp.NewServer(be)
	srv.Domain = "localhost"
	srv.ErrorLog = log.New(io.Discard, "", 0)
	// Without TLS, AUTH is allowed in clear text (the client still only
	// sends credentials to a loopback host).
	srv.AllowInsecureAuth = opts.tls == nil
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case opts.implicit:
		l = tls.NewListener(l, opts.tls)
	case opts.tls != nil:
		srv.TLSConfig = opts.tls
	}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() {
		if opts.stall != nil {
			select {
			case <-opts.stall:
			default:
				close(opts.stall)
			}
		}
		_ = srv.Close()
	})
	return be, l.Addr().String()
}

// wantFailure checks a failed send: err's code (`ErrorInfo`.code, 0 when
// err is no TaskError) and that nothing was delivered.
func wantFailure(t *testing.T, err error, code int, be *smtpBackend) {
	t.Helper()
	got := 0
	if te := (*engine.TaskError)(nil); errors.As(err, &te) {
		got = te.Code
	}
	if got != code {
		t.Errorf("error code = %d, want %d (%v)", got, code, err)
	}
	if n := len(be.delivered()); n != 0 {
		t.Errorf("%d messages delivered, want none", n)
	}
}

func emailVars() *value.Vars {
	vars := value.NewVars(map[string]value.Kind{"who": value.String, "list": value.StringArray, "order": value.JSON, "many": value.String, "empty": value.String})
	_ = vars.Set("who", value.Str("ada@example.com"))
	_ = vars.Set("list", value.Strings([]string{"l1@example.com", "l2@example.com"}))
	o, _ := value.ParseJSON(`{"id":"o-17","total":42}`)
	_ = vars.Set("order", value.FromJSON(o))
	var many []string
	for i := range 31 {
		many = append(many, fmt.Sprintf("u%d@example.com", i))
	}
	_ = vars.Set("many", value.Str(strings.Join(many, ", ")))
	return vars
}

func strArr(ss ...string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return `{"stringArray":{"stringValues":[` + strings.Join(q, ",") + `]}}`
}

func emailParams(kv map[string]string) string {
	var parts []string
	for k, v := range kv {
		parts = append(parts, fmt.Sprintf("%q:{\"key\":%q,\"value\":%s}", k, k, v))
	}
	return "{" + strings.Join(parts, ",") + "}"
}

func compileEmail(t *testing.T, cfg SMTPConfig, params string) (engine.Task, error) {
	t.Helper()
	r := NewRegistry()
	registerEmailWith(r, cfg)
	v, err := spec.DecodeVersion([]byte(`{"taskConfigs":[{"task":"EmailTask","taskId":"1","parameters":` + params + `}]}`))
	if err != nil {
		t.Fatal(err)
	}
	return r.CompileTask(&v.TaskConfigs[0])
}

func TestEmailTask(t *testing.T) {
	t.Parallel()
	type want struct {
		errSub   string // run error
		sent     bool
		rcpts    []string
		to, cc   string
		subject  string
		body     string
		ctype    string
		smtpCode int
	}
	cases := []struct {
		name    string
		noAddr  bool
		params  map[string]string
		compile string // compile error
		want    want
	}{
		{
			name: "text mail with templating and bcc in the envelope only",
			params: map[string]string{
				"To":         strArr("$who$", "Bob <bob@example.com>"),
				"Cc":         strArr("cc@example.com"),
				"Bcc":        strArr("hidden@example.com"),
				"Subject":    `{"stringValue":"Order $order.id$ confirmed"}`,
				"TextBody":   `{"stringValue":"Total: $order.total$\nThanks, $who$ = caf\u00e9"}`,
				"BodyFormat": `{"stringValue":"text"}`,
			},
			want: want{sent: true, rcpts: []string{"ada@example.com", "bob@example.com", "cc@example.com", "hidden@example.com"},
				to: "<ada@example.com>, \"Bob\" <bob@example.com>", cc: "<cc@example.com>", subject: "Order o-17 confirmed",
				body: "Total: 42\r\nThanks, ada@example.com = café", ctype: "text/plain"},
		},
		{
			name: "html body, non-ASCII subject, string array variable expands",
			params: map[string]string{
				"To":                            strArr("$list$"),
				"Subject":                       `{"stringValue":"Grüße $order.id$"}`,
				"TextBody":                      `{"stringValue":"<p>Hello <b>$order.id$</b></p>"}`,
				"BodyFormat":                    `{"stringValue":"html"}`,
				"ThrowNoRequiredInputException": `{"booleanValue":true}`,
			},
			want: want{sent: true, rcpts: []string{"l1@example.com", "l2@example.com"}, to: "<l1@example.com>, <l2@example.com>",
				subject: "Grüße o-17", body: "<p>Hello <b>o-17</b></p>", ctype: "text/html"},
		},
		{
			name:   "31 recipients are refused",
			params: map[string]string{"To": strArr("$many$")},
			want:   want{errSub: "31 recipients, at most 30"},
		},
		{
			name:   "no SMTP server",
			noAddr: true,
			params: map[string]string{"To": strArr("$who$")},
			want:   want{errSub: "EmailTask: no SMTP server configured (start integrationd with --smtp-addr and --smtp-from)"},
		},
		{
			name:   "no recipients, default: succeeds without sending (samples)",
			params: map[string]string{"To": `{"stringArray":{}}`, "Cc": `{"stringArray":{}}`, "AttachmentPath": `{"stringArray":{}}`, "EmailConfigInput": `{"jsonValue":"{\"@type\":\"type.googleapis.com/enterprise.crm.eventbus.proto.EmailConfig\"}"}`},
			want:   want{},
		},
		{
			name:   "no recipients, ThrowNoRequiredInputException",
			params: map[string]string{"To": `{"stringArray":{}}`, "ThrowNoRequiredInputException": `{"booleanValue":true}`},
			want:   want{errSub: "no recipients"},
		},
		{
			name:   "server rejects RCPT",
			params: map[string]string{"To": strArr("ok@example.com", "reject@example.com")},
			want:   want{errSub: "RCPT TO reject@example.com", smtpCode: 550},
		},
		{
			name:   "attachment file without an attachment directory",
			params: map[string]string{"To": strArr("$who$"), "AttachmentPath": strArr("/tmp/x")},
			want:   want{errSub: `AttachmentPath "/tmp/x": local files are off`},
		},
		{
			name:   "no To parameter at all, ThrowNoRequiredInputException",
			params: map[string]string{"Subject": `{"stringValue":"s"}`, "ThrowNoRequiredInputException": `{"booleanValue":true}`},
			want:   want{errSub: "no recipients (To, Cc and Bcc are all empty) and ThrowNoRequiredInputException is true"},
		},
		{
			name:   "To renders empty, ThrowNoRequiredInputException",
			params: map[string]string{"To": strArr("$empty$", " "), "ThrowNoRequiredInputException": `{"booleanValue":true}`},
			want:   want{errSub: "no recipients"},
		},
		{
			name:   "no To parameter at all, default: nothing sent",
			params: map[string]string{"Subject": `{"stringValue":"s"}`},
			want:   want{},
		},
		{
			name:   "empty subject and body are not missing inputs",
			params: map[string]string{"To": strArr("$who$"), "ThrowNoRequiredInputException": `{"booleanValue":true}`},
			want:   want{sent: true, rcpts: []string{"ada@example.com"}, to: "<ada@example.com>", ctype: "text/plain"},
		},
		{
			name:   "server refuses DATA",
			params: map[string]string{"To": strArr("$who$"), "TextBody": `{"stringValue":"REJECT-DATA"}`},
			want:   want{errSub: "EmailTask: DATA: 554", smtpCode: 554},
		},
		{
			name:   "invalid address",
			params: map[string]string{"To": strArr("not an address")},
			want:   want{errSub: "invalid address"},
		},
		{
			name:    "bad body format",
			params:  map[string]string{"BodyFormat": `{"stringValue":"markdown"}`},
			compile: "neither text nor html",
		},
		{
			name:    "To given as a string",
			params:  map[string]string{"To": `{"stringValue":"a@example.com"}`},
			compile: "To must be a",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			be, addr := startSMTP(t, nil)
			cfg := SMTPConfig{Addr: addr, From: "Integrationd <noreply@example.org>", TLS: "none"}
			if c.noAddr {
				cfg.Addr = ""
			}
			task, err := compileEmail(t, cfg, emailParams(c.params))
			if c.compile != "" {
				if err == nil || !strings.Contains(err.Error(), c.compile) {
					t.Fatalf("compile err = %v, want %q", err, c.compile)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			err = task.Execute(context.Background(), &engine.TaskContext{Vars: emailVars(), TaskID: "1", Now: time.Now})
			if c.want.errSub != "" {
				if err == nil || !strings.Contains(err.Error(), c.want.errSub) {
					t.Fatalf("Execute err = %v, want %q", err, c.want.errSub)
				}
				wantFailure(t, err, c.want.smtpCode, be)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			msgs := be.delivered()
			if !c.want.sent {
				if len(msgs) != 0 {
					t.Fatalf("%d messages delivered, want none", len(msgs))
				}
				return
			}
			if len(msgs) != 1 {
				t.Fatalf("%d messages delivered, want 1", len(msgs))
			}
			m := msgs[0]
			if m.from != "noreply@example.org" {
				t.Errorf("MAIL FROM = %q", m.from)
			}
			if strings.Join(m.rcpts, " ") != strings.Join(c.want.rcpts, " ") {
				t.Errorf("RCPT TO = %v, want %v", m.rcpts, c.want.rcpts)
			}
			pm, err := mail.ReadMessage(strings.NewReader(string(m.data)))
			if err != nil {
				t.Fatal(err)
			}
			h := pm.Header
			if got := h.Get("To"); got != c.want.to {
				t.Errorf("To = %q, want %q", got, c.want.to)
			}
			if got := h.Get("Cc"); got != c.want.cc {
				t.Errorf("Cc = %q, want %q", got, c.want.cc)
			}
			if h.Get("Bcc") != "" || strings.Contains(string(m.data), "hidden@") {
				t.Error("Bcc leaked into the message")
			}
			if got := h.Get("From"); got != `"Integrationd" <noreply@example.org>` {
				t.Errorf("From = %q", got)
			}
			subj, err := new(mime.WordDecoder).DecodeHeader(h.Get("Subject"))
			if err != nil || subj != c.want.subject {
				t.Errorf("Subject = %q (%v), want %q", subj, err, c.want.subject)
			}
			if _, err := h.Date(); err != nil {
				t.Errorf("Date: %v", err)
			}
			if id := h.Get("Message-ID"); !strings.HasPrefix(id, "<") || !strings.HasSuffix(id, "@example.org>") {
				t.Errorf("Message-ID = %q", id)
			}
			if h.Get("MIME-Version") != "1.0" || h.Get("Content-Transfer-Encoding") != "quoted-printable" {
				t.Errorf("MIME headers: %v", h)
			}
			mt, ps, err := mime.ParseMediaType(h.Get("Content-Type"))
			if err != nil || mt != c.want.ctype || ps["charset"] != "utf-8" {
				t.Errorf("Content-Type = %q, want %s; charset=utf-8", h.Get("Content-Type"), c.want.ctype)
			}
			body, err := io.ReadAll(quotedprintable.NewReader(pm.Body))
			// DATA ends the message with a line break.
			if err != nil || strings.TrimSuffix(string(body), "\r\n") != c.want.body {
				t.Errorf("body = %q (%v), want %q", body, err, c.want.body)
			}
		})
	}
}

func TestEmailTaskNonASCIISubjectIsEncoded(t *testing.T) {
	t.Parallel()
	from, _ := mail.ParseAddress("a@example.org")
	msg := string(buildEmail(emailContent{from: from, to: []*mail.Address{{Address: "b@example.org"}},
		subject: "Grüße\r\nBcc: evil@example.org", body: "x", date: time.Now()}))
	if !strings.Contains(msg, "Subject: =?utf-8?q?") {
		t.Errorf("subject not Q-encoded:\n%s", msg)
	}
	if strings.Contains(msg, "\r\nBcc:") {
		t.Errorf("header injection:\n%s", msg)
	}
}

func TestEmailTaskContextCancel(t *testing.T) {
	t.Parallel()
	for _, deadline := range []bool{true, false} {
		t.Run(fmt.Sprintf("deadline=%v", deadline), func(t *testing.T) {
			t.Parallel()
			testEmailCancel(t, deadline)
		})
	}
}

func testEmailCancel(t *testing.T, deadline bool) {
	stall := make(chan struct{})
	be, addr := startSMTP(t, stall)
	task, err := compileEmail(t, SMTPConfig{Addr: addr, From: "noreply@example.org", TLS: "none"}, emailParams(map[string]string{"To": strArr("$who$")}))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	want := context.DeadlineExceeded
	if !deadline {
		ctx, cancel = context.WithCancel(context.Background())
		time.AfterFunc(300*time.Millisecond, cancel)
		want = context.Canceled
	}
	defer cancel()
	start := time.Now()
	err = task.Execute(ctx, &engine.TaskContext{Vars: emailVars(), TaskID: "1", Now: time.Now})
	if !errors.Is(err, want) {
		t.Fatalf("err = %v, want %v", err, want)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
	close(stall)
	_ = be
}

func TestEmailRegistered(t *testing.T) {
	t.Parallel()
	r := New(Options{SMTP: SMTPConfig{Addr: "127.0.0.1:1", From: "x@example.org"}})
	if _, ok := r.Spec("EmailTask"); !ok {
		t.Fatal("EmailTask not registered")
	}
	// An invalid relay configuration fails every EmailTask's compilation.
	bad := NewRegistry()
	registerEmailWith(bad, SMTPConfig{Addr: "127.0.0.1:1", From: "x@example.org", TLS: "ssl"})
	v, err := spec.DecodeVersion([]byte(`{"taskConfigs":[{"task":"EmailTask","taskId":"1"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bad.CompileTask(&v.TaskConfigs[0]); err == nil || !strings.Contains(err.Error(), `TLS mode "ssl"`) {
		t.Errorf("compile with TLS ssl: err = %v", err)
	}
}

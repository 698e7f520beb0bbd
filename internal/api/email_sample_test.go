package api_test

import (
	"io"
	"log"
	"net"
	"net/mail"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	gosmtp "github.com/emersion/go-smtp"

	"github.com/integrationd/integrationd/internal/service"
	"github.com/integrationd/integrationd/internal/tasks"
)

// mailbox is a plain SMTP server on loopback that keeps what it is sent.
type mailbox struct {
	mu   sync.Mutex
	msgs []*mail.Message
	to   [][]string
}

func (m *mailbox) NewSession(*gosmtp.Conn) (gosmtp.Session, error) { return &mailSession{box: m}, nil }

type mailSession struct {
	box *mailbox
	to  []string
}

func (s *mailSession) Reset()                                 { s.to = nil }
func (s *mailSession) Logout() error                          { return nil }
func (s *mailSession) Mail(string, *gosmtp.MailOptions) error { return nil }
func (s *mailSession) Rcpt(to string, _ *gosmtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}

func (s *mailSession) Data(r io.Reader) error {
	msg, err := mail.ReadMessage(r)
	if err != nil {
		return err
	}
	s.box.mu.Lock()
	defer s.box.mu.Unlock()
	s.box.msgs = append(s.box.msgs, msg)
	s.box.to = append(s.box.to, s.to)
	return nil
}

func startMailbox(t *testing.T) (*mailbox, string) {
	t.Helper()
	box := &mailbox{}
	srv := gosmtp.NewServer(box)
	srv.Domain = "localhost"
	srv.ErrorLog = log.New(io.Discard, "", 0)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return box, l.Addr().String()
}

// TestSampleForEachLoopSendEmail runs foreach-loop-send-email: a For Each
// Loop over ListOfEmailContent calls SubIntegrationSendEmailDemo, whose
// Send Email task mails each element, over a real SMTP exchange.
func TestSampleForEachLoopSendEmail(t *testing.T) {
	t.Parallel()
	sampleFiles(t)
	box, addr := startMailbox(t)
	reg := tasks.New(tasks.Options{SMTP: tasks.SMTPConfig{Addr: addr, From: "integrationd@example.com", TLS: "none"}})
	e := startWith(t, reg, service.Config{})
	e.publish(t, "SubIntegrationSendEmailDemo", readFile(t, filepath.Join(samplesDir, "foreach-loop-send-email_foreach-loop-send-email-sub.json")))
	e.publish(t, "ForEachLoopDemo", readFile(t, filepath.Join(samplesDir, "foreach-loop-send-email_foreach-loop-send-email.json")))
	code, m := e.execute(t, "ForEachLoopDemo", `{"triggerId":"api_trigger/ForEachLoopDemo_API_1","inputParameters":{
		"Recipients":{"stringValue":"ops@example.com"},"Email_Subject":{"stringValue":"Weekly digest"},
		"ListOfEmailContent":{"stringArray":{"stringValues":["first body","second body","third body"]}}}}`)
	if code != 200 {
		t.Fatalf("execute: %d %v", code, m)
	}
	box.mu.Lock()
	defer box.mu.Unlock()
	if len(box.msgs) != 3 {
		t.Fatalf("delivered %d messages, want 3", len(box.msgs))
	}
	for i, want := range []string{"first body", "second body", "third body"} {
		msg := box.msgs[i]
		body, _ := io.ReadAll(msg.Body)
		if msg.Header.Get("Subject") != "Weekly digest" || !strings.Contains(string(body), want) || !slices.Equal(box.to[i], []string{"ops@example.com"}) {
			t.Errorf("message %d: subject %q, to %v, body %q", i, msg.Header.Get("Subject"), box.to[i], body)
		}
	}
}

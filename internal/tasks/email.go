package tasks

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
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
)

func registerEmail(r *Registry, opts Options) {
	registerEmailWith(r, opts.SMTP)
}

func registerEmailWith(r *Registry, cfg SMTPConfig) {
	cfg.provision()
	r.Register(emailTask, Spec{
		Summary: "Send Email: sends one email through the configured SMTP relay (--smtp-* flags, see docs/email.md). " +
			"To, Cc, Bcc, Subject, TextBody and AttachmentPath take $var$ references; at most 30 recipients in all.",
		DocURL: "https://cloud.google.com/application-integration/docs/configure-send-email-task",
		Params: []Param{
			{Key: pEmailTo, Type: value.StringArray, Doc: "Recipients; each element is templated and may hold several comma-separated addresses."},
			{Key: pEmailCc, Type: value.StringArray, Doc: "Cc recipients, as To."},
			{Key: pEmailBcc, Type: value.StringArray, Doc: "Bcc recipients, as To; they get the mail but appear in no header."},
			{Key: pEmailSubject, Type: value.String, Doc: "Subject; $var$ references are rendered when the task runs."},
			{Key: pEmailTextBody, Type: value.String, Doc: "Body; $var$ references are rendered when the task runs."},
			{Key: pEmailBodyFormat, Type: value.String, Doc: "text (default) or html."},
			{Key: pEmailAttachment, Type: value.StringArray, Doc: "Attachments; each element is templated and renders to " +
				`an object {"fileName","contentType","content" (base64)}, an array of them, or a file name under --email-attachment-dir (off by default).`},
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
	if err := smtpCfg.Validate(); err != nil {
		return nil, fmt.Errorf("EmailTask: %w", err)
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
			return fmt.Errorf("EmailTask: no recipients (To, Cc and Bcc are all empty) and %s is true", pEmailThrow)
		}
		tc.Log("EmailTask: no recipients, nothing sent")
		return nil
	}
	if n > emailMaxRecipients {
		return fmt.Errorf("EmailTask: %d recipients, at most %d are allowed (To, Cc and Bcc together)", n, emailMaxRecipients)
	}
	if t.smtp.Addr == "" {
		return errors.New("EmailTask: no SMTP server configured (start integrationd with --smtp-addr and --smtp-from)")
	}
	from, err := mail.ParseAddress(t.smtp.From)
	if err != nil {
		return fmt.Errorf("EmailTask: invalid sender %q (--smtp-from): %v", t.smtp.From, err)
	}
	atts, err := loadAttachments(t.attachments, tc.Vars, t.smtp.AttachmentDir)
	if err != nil {
		return err
	}
	now := time.Now
	if tc.Now != nil {
		now = tc.Now
	}
	msg := buildEmail(emailContent{
		from: from, to: to, cc: cc,
		subject: t.subject.Render(tc.Vars), body: t.body.Render(tc.Vars), html: t.html,
		attachments: atts, date: now(),
	})
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
	tc.Log(fmt.Sprintf("EmailTask: sent to %d recipient(s) with %d attachment(s)", len(rcpts), len(atts)))
	return nil
}

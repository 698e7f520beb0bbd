package tasks

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"time"
)

// Notify sends a plain-text email to addrs through the relay c: the
// approval requests and reminders of the Approval task. It satisfies the
// service's notifier.
func (c SMTPConfig) Notify(ctx context.Context, addrs []string, subject, body string) error {
	if c.Addr == "" {
		return errors.New("no SMTP server configured (start integrationd with --smtp-addr and --smtp-from)")
	}
	from, err := mail.ParseAddress(c.From)
	if err != nil {
		return fmt.Errorf("invalid sender %q (--smtp-from): %v", c.From, err)
	}
	var to []*mail.Address
	var rcpts []string
	for _, a := range addrs {
		p, err := mail.ParseAddress(a)
		if err != nil {
			return fmt.Errorf("invalid recipient %q: %v", a, err)
		}
		to = append(to, p)
		rcpts = append(rcpts, p.Address)
	}
	if len(rcpts) == 0 {
		return nil
	}
	c.provision()
	msg := buildEmail(emailContent{from: from, to: to, subject: subject, body: body, date: time.Now()})
	return sendEmail(ctx, c, from.Address, rcpts, msg)
}

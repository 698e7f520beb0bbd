package main

import (
	"bytes"
	"flag"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/integrationd/integrationd/internal/tasks"
)

func TestSMTPFlags(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	passFile := filepath.Join(dir, "pass")
	if err := os.WriteFile(passFile, []byte("from-file\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const ca = "testdata/smtp-ca.pem"
	cases := []struct {
		name string
		env  map[string]string
		args []string
		want tasks.SMTPConfig // compared without RootCAs
		ca   bool             // RootCAs set
		err  string
		log  string
	}{
		{
			name: "nothing: email off",
			want: tasks.SMTPConfig{TLS: "starttls", Timeout: time.Minute},
			log:  "email off",
		},
		{
			name: "environment only",
			env: map[string]string{envSMTPAddr: "smtp.example.com:587", envSMTPFrom: "ops@example.com",
				envSMTPUsername: "ops", envSMTPPassword: "from-env", envSMTPTimeout: "5s"},
			want: tasks.SMTPConfig{Addr: "smtp.example.com:587", From: "ops@example.com", Username: "ops",
				Password: "from-env", TLS: "starttls", Timeout: 5 * time.Second},
			log: "email on",
		},
		{
			name: "flags win over the environment; the password file over the password variable",
			env: map[string]string{envSMTPAddr: "smtp.example.com:587", envSMTPFrom: "ops@example.com",
				envSMTPPassword: "from-env", envSMTPTLS: "none"},
			args: []string{"--smtp-addr", "mail.example.com:465", "--smtp-tls", "TLS", "--smtp-username", "u",
				"--smtp-password-file", passFile, "--smtp-ca-file", ca, "--email-attachment-dir", dir},
			want: tasks.SMTPConfig{Addr: "mail.example.com:465", From: "ops@example.com", Username: "u",
				Password: "from-file", TLS: "tls", Timeout: time.Minute, AttachmentDir: dir},
			ca: true,
		},
		{
			name: "CA and verification switch from the environment",
			env: map[string]string{envSMTPAddr: "127.0.0.1:2525", envSMTPFrom: "a@example.com",
				envSMTPCAFile: ca, envSMTPInsecure: "true"},
			want: tasks.SMTPConfig{Addr: "127.0.0.1:2525", From: "a@example.com", TLS: "starttls",
				InsecureSkipVerify: true, Timeout: time.Minute},
			ca:  true,
			log: "certificate verification off",
		},
		{
			name: "every problem at once",
			env:  map[string]string{envSMTPInsecure: "maybe", envSMTPTimeout: "soon"},
			args: []string{"--smtp-addr", "smtp.example.com", "--smtp-tls", "ssl", "--smtp-password-file", filepath.Join(dir, "none"),
				"--smtp-ca-file", passFile, "--email-attachment-dir", passFile},
			err: `INTEGRATIOND_SMTP_INSECURE_SKIP_VERIFY="maybe" (for --smtp-insecure-skip-verify): parse error` + "|" +
				`INTEGRATIOND_SMTP_TIMEOUT="soon" (for --smtp-timeout): parse error` + "|" +
				"--smtp-password-file: open " + "|" +
				"--smtp-ca-file: no PEM certificate in " + "|" +
				"--email-attachment-dir: " + passFile + " is not a directory" + "|" +
				`TLS mode "ssl"` + "|" + `"smtp.example.com" is not host:port` + "|" + "sender (From) is required",
		},
		{
			name: "credentials in clear text to a remote relay",
			args: []string{"--smtp-addr", "smtp.example.com:25", "--smtp-from", "a@example.com", "--smtp-tls", "none",
				"--smtp-username", "u", "--smtp-password-file", passFile},
			err: "credentials would cross the network in clear text",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			fs := flag.NewFlagSet("serve", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			build := smtpFlags(fs, func(k string) string { return c.env[k] })
			if err := fs.Parse(c.args); err != nil {
				t.Fatal(err)
			}
			var logs bytes.Buffer
			cfg, err := build(slog.New(slog.NewTextHandler(&logs, nil)))
			if c.err != "" {
				for _, w := range strings.Split(c.err, "|") {
					if err == nil || !strings.Contains(err.Error(), w) {
						t.Errorf("err = %v, want %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (cfg.RootCAs != nil) != c.ca {
				t.Errorf("RootCAs set = %v, want %v", cfg.RootCAs != nil, c.ca)
			}
			cfg.RootCAs = nil
			if cfg != c.want {
				t.Errorf("config = %+v, want %+v", cfg, c.want)
			}
			if !strings.Contains(logs.String(), c.log) {
				t.Errorf("log %q does not say %q", logs.String(), c.log)
			}
			if strings.Contains(logs.String(), "from-") {
				t.Errorf("the password is logged: %s", logs.String())
			}
		})
	}
}

// TestSMTPNoPasswordFlag: a password is never a flag, whose value any
// local user could read in the process list.
func TestSMTPNoPasswordFlag(t *testing.T) {
	t.Parallel()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	smtpFlags(fs, func(string) string { return "" })
	fs.VisitAll(func(f *flag.Flag) {
		if strings.Contains(f.Name, "password") && f.Name != "smtp-password-file" {
			t.Errorf("flag --%s takes a password", f.Name)
		}
	})
}

// TestServeRefusesBadSMTPConfig: serve stops before opening anything when
// the email configuration is wrong.
func TestServeRefusesBadSMTPConfig(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "x.db")
	err := run(t.Context(), []string{"serve", "--addr", "127.0.0.1:0", "--db", db, "--smtp-tls", "ssl"}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), `email configuration: SMTP TLS mode "ssl"`) {
		t.Fatalf("serve err = %v", err)
	}
	if _, err := os.Stat(db); !os.IsNotExist(err) {
		t.Errorf("the database was created (%v)", err)
	}
}

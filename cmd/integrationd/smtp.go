package main

import (
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/integrationd/integrationd/internal/tasks"
)

// Environment variables that give the SMTP flags their defaults
// (docs/email.md). The password has no flag: a flag's value shows in ps.
const (
	envSMTPAddr         = "INTEGRATIOND_SMTP_ADDR"
	envSMTPFrom         = "INTEGRATIOND_SMTP_FROM"
	envSMTPUsername     = "INTEGRATIOND_SMTP_USERNAME"
	envSMTPPassword     = "INTEGRATIOND_SMTP_PASSWORD"
	envSMTPPasswordFile = "INTEGRATIOND_SMTP_PASSWORD_FILE"
	envSMTPTLS          = "INTEGRATIOND_SMTP_TLS"
	envSMTPCAFile       = "INTEGRATIOND_SMTP_CA_FILE"
	envSMTPInsecure     = "INTEGRATIOND_SMTP_INSECURE_SKIP_VERIFY"
	envSMTPTimeout      = "INTEGRATIOND_SMTP_TIMEOUT"
	envEmailAttachDir   = "INTEGRATIOND_EMAIL_ATTACHMENT_DIR"
)

// smtpFlags declares the Send Email flags of serve on fs. A set
// environment variable (read with getenv) replaces its flag's default, so a
// flag on the command line wins over the environment. The returned
// function, called after fs.Parse, reads the password and CA files, checks
// the whole configuration and logs what email will do.
func smtpFlags(fs *flag.FlagSet, getenv func(string) string) func(*slog.Logger) (tasks.SMTPConfig, error) {
	env := map[string]string{} // flag name → environment variable
	str := func(name, envName, def, usage string) *string {
		env[name] = envName
		return fs.String(name, def, usage+" (env "+envName+")")
	}
	addr := str("smtp-addr", envSMTPAddr, "", "host:port of the SMTP relay of the Send Email task; empty: email is off")
	from := str("smtp-from", envSMTPFrom, "", `sender address, "Name <addr>" allowed; required with --smtp-addr`)
	user := str("smtp-username", envSMTPUsername, "", "SMTP AUTH username (PLAIN, else LOGIN); empty: no AUTH")
	passFile := str("smtp-password-file", envSMTPPasswordFile, "", "file holding the SMTP password (one trailing newline is dropped); else the password is read from "+envSMTPPassword)
	mode := str("smtp-tls", envSMTPTLS, tasks.SMTPTLSStartTLS, "none, starttls (required STARTTLS) or tls (implicit TLS, usually port 465)")
	caFile := str("smtp-ca-file", envSMTPCAFile, "", "PEM file of CA certificates trusted for the relay, in addition to the system roots")
	attachDir := str("email-attachment-dir", envEmailAttachDir, "", "directory whose files AttachmentPath may name; empty: local files are refused")
	env["smtp-insecure-skip-verify"] = envSMTPInsecure
	insecure := fs.Bool("smtp-insecure-skip-verify", false, "accept any certificate from the relay; development only (env "+envSMTPInsecure+")")
	env["smtp-timeout"] = envSMTPTimeout
	timeout := fs.Duration("smtp-timeout", 60*time.Second, "time limit of one send, from connection to QUIT (env "+envSMTPTimeout+")")
	var envErrs []error
	for _, name := range slices.Sorted(maps.Keys(env)) {
		if v := getenv(env[name]); v != "" {
			// Parse, which runs after, overrides what is set here.
			if err := fs.Set(name, v); err != nil {
				envErrs = append(envErrs, fmt.Errorf("%s=%q (for --%s): %v", env[name], v, name, err))
			}
		}
	}

	return func(logger *slog.Logger) (tasks.SMTPConfig, error) {
		cfg := tasks.SMTPConfig{
			Addr: *addr, From: *from, Username: *user, Password: getenv(envSMTPPassword),
			TLS: strings.ToLower(*mode), InsecureSkipVerify: *insecure, Timeout: *timeout,
		}
		errs := envErrs
		if *passFile != "" {
			b, err := os.ReadFile(*passFile)
			if err != nil {
				errs = append(errs, fmt.Errorf("--smtp-password-file: %w", err))
			}
			cfg.Password = strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
		}
		if *caFile != "" {
			pool, err := caPool(*caFile)
			if err != nil {
				errs = append(errs, fmt.Errorf("--smtp-ca-file: %w", err))
			}
			cfg.RootCAs = pool
		}
		if *attachDir != "" {
			dir, err := filepath.Abs(*attachDir)
			if err == nil {
				var fi os.FileInfo
				if fi, err = os.Stat(dir); err == nil && !fi.IsDir() {
					err = fmt.Errorf("%s is not a directory", dir)
				}
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("--email-attachment-dir: %w", err))
			}
			cfg.AttachmentDir = dir
		}
		if err := cfg.Validate(); err != nil {
			errs = append(errs, err)
		}
		if err := errors.Join(errs...); err != nil {
			return tasks.SMTPConfig{}, fmt.Errorf("email configuration: %w", err)
		}
		if cfg.Addr == "" {
			logger.Info("email off: EmailTasks that have a recipient fail (pass --smtp-addr and --smtp-from to send)")
			return cfg, nil
		}
		logger.Info("email on", "smtp_addr", cfg.Addr, "smtp_tls", cfg.TLS, "smtp_username", cfg.Username,
			"smtp_ca_file", *caFile, "attachment_dir", cfg.AttachmentDir)
		if cfg.InsecureSkipVerify && cfg.TLS != tasks.SMTPTLSNone {
			logger.Warn("SMTP certificate verification off (--smtp-insecure-skip-verify): for development only")
		}
		if host, _, _ := net.SplitHostPort(cfg.Addr); cfg.TLS == tasks.SMTPTLSNone && !isLoopbackHost(host) {
			logger.Warn("SMTP without TLS (--smtp-tls none): mail crosses the network in clear text")
		}
		return cfg, nil
	}
}

func isLoopbackHost(host string) bool {
	ip := net.ParseIP(host)
	return host == "localhost" || (ip != nil && ip.IsLoopback())
}

// caPool returns the system roots plus the certificates of a PEM file.
func caPool(file string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("no PEM certificate in %s", file)
	}
	return pool, nil
}

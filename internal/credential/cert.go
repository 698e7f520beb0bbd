package credential

import (
	"crypto/tls"
	"encoding/pem"
	"strings"
)

// parseClientCertificate loads a certificate chain and its private key.
// Encrypted private keys are refused: integrationd seals the whole
// credential at rest, so a passphrase would add nothing, and Go's standard
// library decrypts neither encrypted PKCS #8 nor (securely) legacy PEM.
func parseClientCertificate(c *ClientCertificate) (*tls.Certificate, error) {
	if c.SSLCertificate == "" {
		return nil, fieldErr("client_certificate.ssl_certificate", "is required with a private key")
	}
	if c.EncryptedPrivateKey == "" {
		return nil, fieldErr("client_certificate.encrypted_private_key", "is required with a certificate: the PEM private key")
	}
	if c.Passphrase != "" || isEncryptedKey(c.EncryptedPrivateKey) {
		return nil, fieldErr("client_certificate.passphrase", "encrypted private keys are not supported: store the key decrypted (openssl pkey -in key.pem -out plain.pem); integrationd seals it at rest")
	}
	cert, err := tls.X509KeyPair([]byte(c.SSLCertificate), []byte(c.EncryptedPrivateKey))
	if err != nil {
		return nil, fieldErr("client_certificate.ssl_certificate", "the certificate and private key do not load: %v", err)
	}
	return &cert, nil
}

// isEncryptedKey reports whether the PEM text holds an encrypted private
// key, PKCS #8 or legacy (Proc-Type: 4,ENCRYPTED).
func isEncryptedKey(text string) bool {
	rest := []byte(text)
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return false
		}
		if b.Type == "ENCRYPTED PRIVATE KEY" || strings.Contains(b.Headers["Proc-Type"], "ENCRYPTED") {
			return true
		}
	}
}

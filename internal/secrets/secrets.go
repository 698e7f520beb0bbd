// Package secrets seals credentials at rest with AES-256-GCM.
//
// A sealed value is
//
//	0x01 | key id (4 bytes) | nonce (12 bytes) | ciphertext and GCM tag
//
// The leading byte is the format version. The key id is derived from the
// key itself (the first 4 bytes of a SHA-256 over a label and the key), so a
// Keyring holding several keys knows which one opens a value: keys can be
// rotated by sealing with a new primary key while the old ones stay in the
// ring to open what they sealed. The caller's additional data (the auth
// config's resource name) is authenticated, so a sealed value copied to
// another record does not open.
package secrets

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
)

// KeySize is the length of a key in bytes (AES-256).
const KeySize = 32

// EnvKey is the environment variable that may hold the key, base64 or hex.
const EnvKey = "INTEGRATIOND_SECRETS_KEY"

const (
	formatV1  = 0x01
	idSize    = 4
	nonceSize = 12
	headerLen = 1 + idSize + nonceSize
)

// Errors of Open. Callers compare with errors.Is.
var (
	// ErrNoKey: the keyring holds no key with the value's key id (the value
	// was sealed with another key, or with the insecure development key
	// by a server that now runs without --insecure-dev-secrets).
	ErrNoKey = errors.New("no key for this sealed value")
	// ErrTampered: the value does not authenticate: it was changed, cut,
	// or sealed for another record.
	ErrTampered = errors.New("sealed value does not authenticate (tampered, truncated or sealed for another record)")
	// ErrFormat: the value is not a sealed value of a known format.
	ErrFormat = errors.New("not a sealed value of a known format")
)

// devKeySeed derives the insecure development key. It is public: values
// sealed with it are as good as plaintext to anyone who reads this file.
const devKeySeed = "integrationd insecure development key: never use it for real secrets"

type key struct {
	id   [idSize]byte
	aead cipher.AEAD
	dev  bool
}

// Keyring seals with its primary key and opens with any of its keys. It is
// safe for concurrent use. A nil *Keyring holds no key: Seal fails and
// Open returns ErrNoKey.
type Keyring struct {
	primary *key
	keys    map[[idSize]byte]*key
}

func newKey(k []byte, dev bool) (*key, error) {
	if len(k) != KeySize {
		return nil, fmt.Errorf("secrets: a key has %d bytes, want %d", len(k), KeySize)
	}
	block, err := aes.NewCipher(k)
	if err != nil {
		return nil, fmt.Errorf("secrets: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("secrets: %w", err)
	}
	h := sha256.New()
	h.Write([]byte("integrationd secrets key id\x00"))
	h.Write(k)
	kk := &key{aead: aead, dev: dev}
	copy(kk.id[:], h.Sum(nil))
	return kk, nil
}

// New returns a keyring that seals with primary and opens values sealed by
// primary or by any of older (previous keys kept for rotation). Each key
// must be KeySize bytes.
func New(primary []byte, older ...[]byte) (*Keyring, error) {
	p, err := newKey(primary, false)
	if err != nil {
		return nil, err
	}
	kr := &Keyring{primary: p, keys: map[[idSize]byte]*key{p.id: p}}
	for _, o := range older {
		k, err := newKey(o, false)
		if err != nil {
			return nil, err
		}
		if _, dup := kr.keys[k.id]; !dup {
			kr.keys[k.id] = k
		}
	}
	return kr, nil
}

func devKey() *key {
	sum := sha256.Sum256([]byte(devKeySeed))
	k, err := newKey(sum[:], true)
	if err != nil {
		panic(err) // a constant 32-byte key cannot fail
	}
	return k
}

// InsecureDev returns a keyring whose only key is the fixed, public
// development key. For development only: it keeps secrets out of plain
// sight in the database file, nothing more.
func InsecureDev() *Keyring {
	k := devKey()
	return &Keyring{primary: k, keys: map[[idSize]byte]*key{k.id: k}}
}

// WithInsecureDev returns a copy of kr that also opens values sealed with
// the development key (to migrate them after a real key is set). A nil kr
// gives InsecureDev().
func (kr *Keyring) WithInsecureDev() *Keyring {
	if kr == nil {
		return InsecureDev()
	}
	c := &Keyring{primary: kr.primary, keys: make(map[[idSize]byte]*key, len(kr.keys)+1)}
	for id, k := range kr.keys {
		c.keys[id] = k
	}
	d := devKey()
	c.keys[d.id] = d
	return c
}

// Insecure reports whether kr seals with the development key.
func (kr *Keyring) Insecure() bool { return kr != nil && kr.primary.dev }

// Seal encrypts plaintext bound to aad (which is authenticated, not
// encrypted) with the primary key.
func (kr *Keyring) Seal(plaintext, aad []byte) ([]byte, error) {
	if kr == nil || kr.primary == nil {
		return nil, fmt.Errorf("secrets: seal: %w", ErrNoKey)
	}
	k := kr.primary
	out := make([]byte, headerLen, headerLen+len(plaintext)+k.aead.Overhead())
	out[0] = formatV1
	copy(out[1:], k.id[:])
	if _, err := rand.Read(out[1+idSize : headerLen]); err != nil {
		return nil, fmt.Errorf("secrets: seal: %w", err)
	}
	return k.aead.Seal(out, out[1+idSize:headerLen], plaintext, sealAAD(out[:1+idSize], aad)), nil
}

// Open decrypts a value Seal returned for the same aad. Errors wrap
// ErrFormat, ErrNoKey or ErrTampered.
func (kr *Keyring) Open(sealed, aad []byte) ([]byte, error) {
	if len(sealed) < headerLen || sealed[0] != formatV1 {
		return nil, fmt.Errorf("secrets: open: %w", ErrFormat)
	}
	var id [idSize]byte
	copy(id[:], sealed[1:])
	var k *key
	if kr != nil {
		k = kr.keys[id]
	}
	if k == nil {
		if id == devKey().id {
			return nil, fmt.Errorf("secrets: open: %w: sealed with the insecure development key (start with --insecure-dev-secrets to read it)", ErrNoKey)
		}
		return nil, fmt.Errorf("secrets: open: %w: sealed with key id %x", ErrNoKey, id)
	}
	pt, err := k.aead.Open(nil, sealed[1+idSize:headerLen], sealed[headerLen:], sealAAD(sealed[:1+idSize], aad))
	if err != nil {
		return nil, fmt.Errorf("secrets: open: %w", ErrTampered)
	}
	return pt, nil
}

// KeyID returns the key id that sealed a value, and whether the value has a
// known format.
func KeyID(sealed []byte) (string, bool) {
	if len(sealed) < headerLen || sealed[0] != formatV1 {
		return "", false
	}
	return hex.EncodeToString(sealed[1 : 1+idSize]), true
}

// sealAAD authenticates the header (format and key id) with the caller's
// additional data, length-prefixed so that the split cannot shift.
func sealAAD(header, aad []byte) []byte {
	b := make([]byte, 0, len(header)+8+len(aad))
	b = append(b, header...)
	b = binary.BigEndian.AppendUint64(b, uint64(len(aad)))
	return append(b, aad...)
}

// ParseKey decodes a key written as text: 64 hex digits or the base64
// (standard or URL alphabet, padded or not) of 32 bytes. Surrounding space
// is ignored.
func ParseKey(text string) ([]byte, error) {
	s := strings.TrimSpace(text)
	if s == "" {
		return nil, errors.New("secrets: empty key")
	}
	if len(s) == 2*KeySize {
		if b, err := hex.DecodeString(s); err == nil {
			return b, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			if len(b) != KeySize {
				return nil, fmt.Errorf("secrets: the key decodes to %d bytes, want %d", len(b), KeySize)
			}
			return b, nil
		}
	}
	return nil, fmt.Errorf("secrets: the key is neither 64 hex digits nor base64 of %d bytes", KeySize)
}

// ParseKeyFile reads the keys of a key file's content: exactly 32 bytes are
// one raw key; otherwise each non-empty line not starting with '#' is a key
// in ParseKey's text form. The first key is the primary (it seals); the
// others only open values sealed before a rotation.
func ParseKeyFile(data []byte) (primary []byte, older [][]byte, err error) {
	if len(data) == KeySize {
		// No text form of a key is 32 characters long (hex takes 64,
		// base64 43 or 44).
		return bytes.Clone(data), nil, nil
	}
	var keys [][]byte
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, err := ParseKey(line)
		if err != nil {
			return nil, nil, fmt.Errorf("line %d: %w", i+1, err)
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil, nil, errors.New("secrets: the key file holds no key")
	}
	return keys[0], keys[1:], nil
}

// Load builds the keyring of the server's settings: the key file when path
// is not empty, else the key in the environment variable EnvKey (read with
// getenv), else none. dev adds the insecure development key: alone it seals
// with it; with a real key it only opens values sealed with it. The result
// is nil (no key) when there is neither key nor dev. The returned warning,
// when not empty, is for the log (a key file readable by others).
func Load(path string, getenv func(string) string, dev bool) (kr *Keyring, warning string, err error) {
	var primary []byte
	var older [][]byte
	switch {
	case path != "":
		fi, err := os.Stat(path)
		if err != nil {
			return nil, "", fmt.Errorf("secrets key file: %w", err)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			warning = fmt.Sprintf("secrets key file %s is readable by others (mode %v); chmod 600 it", path, fi.Mode().Perm())
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, "", fmt.Errorf("secrets key file: %w", err)
		}
		if primary, older, err = ParseKeyFile(data); err != nil {
			return nil, "", fmt.Errorf("secrets key file %s: %w", path, err)
		}
	case getenv != nil && getenv(EnvKey) != "":
		if primary, err = ParseKey(getenv(EnvKey)); err != nil {
			return nil, "", fmt.Errorf("%s: %w", EnvKey, err)
		}
	}
	if primary != nil {
		if kr, err = New(primary, older...); err != nil {
			return nil, "", err
		}
	}
	if dev {
		kr = kr.WithInsecureDev()
	}
	return kr, warning, nil
}

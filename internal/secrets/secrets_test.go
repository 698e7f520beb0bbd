package secrets

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func testKey(b byte) []byte { return bytes.Repeat([]byte{b}, KeySize) }

func mustKeyring(t *testing.T, primary []byte, older ...[]byte) *Keyring {
	t.Helper()
	kr, err := New(primary, older...)
	if err != nil {
		t.Fatalf("New: got error %v, want nil", err)
	}
	return kr
}

func TestSealOpen(t *testing.T) {
	t.Parallel()
	k1, k2 := mustKeyring(t, testKey(1)), mustKeyring(t, testKey(2))
	rotated := mustKeyring(t, testKey(2), testKey(1)) // seals with 2, still opens 1
	aad := []byte("projects/p/locations/l/authConfigs/a")
	secret := []byte(`{"password":"hunter2"}`)

	sealed1, err := k1.Seal(secret, aad)
	if err != nil {
		t.Fatalf("Seal: got error %v, want nil", err)
	}
	if bytes.Contains(sealed1, []byte("hunter2")) {
		t.Fatalf("Seal: the sealed value contains the plaintext")
	}
	again, _ := k1.Seal(secret, aad)
	if bytes.Equal(again, sealed1) {
		t.Errorf("Seal twice: got equal values, want a fresh nonce each time")
	}
	dev, err := InsecureDev().Seal(secret, aad)
	if err != nil {
		t.Fatalf("InsecureDev().Seal: got error %v, want nil", err)
	}

	flip := func(i int) []byte {
		b := bytes.Clone(sealed1)
		b[i] ^= 0x40
		return b
	}
	tests := []struct {
		name   string
		kr     *Keyring
		sealed []byte
		aad    []byte
		want   error
	}{
		{"same key", k1, sealed1, aad, nil},
		{"rotated ring opens the old key's value", rotated, sealed1, aad, nil},
		{"wrong key", k2, sealed1, aad, ErrNoKey},
		{"nil keyring", nil, sealed1, aad, ErrNoKey},
		{"other record", k1, sealed1, []byte("projects/p/locations/l/authConfigs/b"), ErrTampered},
		{"ciphertext bit flipped", k1, flip(len(sealed1) - 20), aad, ErrTampered},
		{"tag bit flipped", k1, flip(len(sealed1) - 1), aad, ErrTampered},
		{"nonce bit flipped", k1, flip(1 + idSize), aad, ErrTampered},
		{"key id changed", k1, flip(1), aad, ErrNoKey},
		{"truncated", k1, sealed1[:len(sealed1)-1], aad, ErrTampered},
		{"header only", k1, sealed1[:headerLen], aad, ErrTampered},
		{"too short", k1, sealed1[:5], aad, ErrFormat},
		{"unknown format", k1, append([]byte{9}, sealed1[1:]...), aad, ErrFormat},
		{"plaintext", k1, secret, aad, ErrFormat},
		{"dev value without dev key", k1, dev, aad, ErrNoKey},
		{"dev value with dev key", k1.WithInsecureDev(), dev, aad, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := tt.kr.Open(tt.sealed, tt.aad)
			if tt.want == nil {
				if err != nil || !bytes.Equal(got, secret) {
					t.Errorf("Open = %q, %v, want %q, nil", got, err, secret)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Errorf("Open: got error %v, want %v", err, tt.want)
			}
			if got != nil {
				t.Errorf("Open: got plaintext %q with an error, want nil", got)
			}
		})
	}
}

func TestRotationSealsWithPrimary(t *testing.T) {
	t.Parallel()
	rotated := mustKeyring(t, testKey(2), testKey(1))
	sealed, err := rotated.Seal([]byte("x"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mustKeyring(t, testKey(2)).Open(sealed, nil); err != nil {
		t.Errorf("Open with the new primary alone: got error %v, want nil", err)
	}
	if _, err := mustKeyring(t, testKey(1)).Open(sealed, nil); !errors.Is(err, ErrNoKey) {
		t.Errorf("Open with the old key alone: got error %v, want %v", err, ErrNoKey)
	}
	id1, _ := KeyID(sealed)
	id2, _ := KeyID(must(mustKeyring(t, testKey(2)).Seal([]byte("y"), nil)))
	if id1 != id2 || len(id1) != 2*idSize {
		t.Errorf("KeyID = %q and %q, want equal ids of %d hex digits", id1, id2, 2*idSize)
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

func TestNilKeyringSeal(t *testing.T) {
	t.Parallel()
	var kr *Keyring
	if _, err := kr.Seal([]byte("x"), nil); !errors.Is(err, ErrNoKey) {
		t.Errorf("nil Seal: got error %v, want %v", err, ErrNoKey)
	}
	if kr.Insecure() || !InsecureDev().Insecure() || mustKeyring(t, testKey(1)).WithInsecureDev().Insecure() {
		t.Errorf("Insecure: want true only for a keyring that seals with the development key")
	}
}

func TestParseKey(t *testing.T) {
	t.Parallel()
	k := testKey(7)
	k[0] = 0xfb // makes the standard and URL base64 alphabets differ
	tests := []struct {
		name, text string
		ok         bool
	}{
		{"hex", hex.EncodeToString(k), true},
		{"hex with newline", hex.EncodeToString(k) + "\n", true},
		{"base64", base64.StdEncoding.EncodeToString(k), true},
		{"raw base64", base64.RawStdEncoding.EncodeToString(k), true},
		{"base64url", base64.URLEncoding.EncodeToString(k), true},
		{"short base64", base64.StdEncoding.EncodeToString(k[:16]), false},
		{"short hex", hex.EncodeToString(k[:31]), false},
		{"garbage", "not a key!", false},
		{"empty", "  ", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseKey(tt.text)
			if tt.ok && (err != nil || !bytes.Equal(got, k)) {
				t.Errorf("ParseKey(%q) = %x, %v, want %x, nil", tt.text, got, err, k)
			}
			if !tt.ok && err == nil {
				t.Errorf("ParseKey(%q): got nil error, want one", tt.text)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name string, data []byte, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	raw := write("raw", testKey(3), 0o600)
	text := write("text", []byte("# rotated 2025-01\n"+hex.EncodeToString(testKey(4))+"\n\n"+base64.StdEncoding.EncodeToString(testKey(3))+"\n"), 0o644)
	bad := write("bad", []byte("abc\n"), 0o600)
	empty := write("empty", []byte("# nothing\n"), 0o600)
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == EnvKey {
				return v
			}
			return ""
		}
	}
	sealedBy3 := must(mustKeyring(t, testKey(3)).Seal([]byte("s"), nil))

	t.Run("raw file", func(t *testing.T) {
		kr, warn, err := Load(raw, nil, false)
		if err != nil || warn != "" || kr == nil {
			t.Fatalf("Load = %v, %q, %v, want a keyring, no warning", kr, warn, err)
		}
		if _, err := kr.Open(sealedBy3, nil); err != nil {
			t.Errorf("Open: %v", err)
		}
	})
	t.Run("text file with an older key and loose mode", func(t *testing.T) {
		kr, warn, err := Load(text, nil, false)
		if err != nil || kr == nil {
			t.Fatalf("Load: %v", err)
		}
		if !strings.Contains(warn, "readable by others") {
			t.Errorf("warning = %q, want one about the file mode", warn)
		}
		if _, err := kr.Open(sealedBy3, nil); err != nil {
			t.Errorf("Open of a value sealed by the older key: %v", err)
		}
		s, _ := kr.Seal([]byte("x"), nil)
		if _, err := mustKeyring(t, testKey(4)).Open(s, nil); err != nil {
			t.Errorf("the first key must seal: %v", err)
		}
	})
	t.Run("env", func(t *testing.T) {
		kr, _, err := Load("", env(base64.StdEncoding.EncodeToString(testKey(3))), false)
		if err != nil || kr == nil {
			t.Fatalf("Load: %v", err)
		}
		if _, err := kr.Open(sealedBy3, nil); err != nil {
			t.Errorf("Open: %v", err)
		}
	})
	t.Run("file wins over env", func(t *testing.T) {
		kr, _, err := Load(raw, env("garbage"), false)
		if err != nil || kr == nil {
			t.Fatalf("Load: %v", err)
		}
	})
	t.Run("nothing", func(t *testing.T) {
		kr, _, err := Load("", env(""), false)
		if err != nil || kr != nil {
			t.Errorf("Load = %v, %v, want nil, nil", kr, err)
		}
	})
	t.Run("dev only", func(t *testing.T) {
		kr, _, err := Load("", env(""), true)
		if err != nil || !kr.Insecure() {
			t.Errorf("Load = %v, %v, want the insecure keyring", kr, err)
		}
	})
	for _, tt := range []struct{ name, path, env string }{
		{"bad file", bad, ""}, {"empty file", empty, ""}, {"missing file", filepath.Join(dir, "none"), ""}, {"bad env", "", "zz"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := Load(tt.path, env(tt.env), false); err == nil {
				t.Errorf("Load: got nil error, want one")
			}
		})
	}
}

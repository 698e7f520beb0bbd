package auth

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode"
)

// Config is the bearer-token auth configuration, read from a JSON file:
//
//	{
//	  "tokens": [
//	    {"token": "s3cret", "principal": "user:alice@example.com"},
//	    {"tokenSha256": "<64 hex digits>", "principal": "serviceAccount:ci@example.com"}
//	  ],
//	  "bindings": [
//	    {"principal": "user:alice@example.com",
//	     "roles": ["roles/integrations.integrationInvoker"],
//	     "permissions": ["integrations.executions.get"]}
//	  ]
//	}
//
// A principal holds the union of the permissions of all its bindings.
// Bindings apply to every resource.
type Config struct {
	Tokens   []Token   `json:"tokens"`
	Bindings []Binding `json:"bindings"`
}

// Token maps one bearer token to a principal. Exactly one of Token (the
// token in clear) and TokenSHA256 (the hex SHA-256 of the token, so that the
// file need not hold the secret; `printf %s TOKEN | sha256sum`) is set.
// Several tokens may map to the same principal.
type Token struct {
	Token       string `json:"token,omitempty"`
	TokenSHA256 string `json:"tokenSha256,omitempty"`
	Principal   string `json:"principal"`
}

// Binding grants a principal the permissions of built-in roles (names with
// or without "roles/") and individual permissions.
type Binding struct {
	Principal   string   `json:"principal"`
	Roles       []string `json:"roles,omitempty"`
	Permissions []string `json:"permissions,omitempty"`
}

// LoadConfig reads and validates the JSON config at path. Unknown fields are
// errors, so that a misspelt key is not silently ignored. The error lists
// every problem found (see Config.Validate).
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load auth config: %w", err)
	}
	cfg, err := parseConfig(data)
	if err != nil {
		return nil, fmt.Errorf("load auth config %s: %w", path, err)
	}
	return cfg, nil
}

func parseConfig(data []byte) (*Config, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var cfg Config
	if err := dec.Decode(&cfg); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("unexpected data after the JSON object")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &cfg, nil
}

// Validate reports every problem of c, joined: no tokens; a token entry
// without a principal, with neither or both of token and tokenSha256, with
// whitespace in the token or a tokenSha256 that is not 64 hex digits; the
// same token twice; a binding without a principal, for a principal that has
// no token, that grants nothing, or that names an unknown role or
// permission. Token values never appear in the errors.
func (c *Config) Validate() error {
	_, err := compile(c)
	return err
}

// compiled is a validated Config in the form the authorizer uses.
type compiled struct {
	tokens []tokenEntry
	grants map[string]map[string]bool // principal → permission → true
}

type tokenEntry struct {
	digest    [sha256.Size]byte
	principal string
}

func compile(c *Config) (*compiled, error) {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	out := &compiled{grants: map[string]map[string]bool{}}
	if len(c.Tokens) == 0 {
		bad("no tokens: every request would be rejected")
	}
	first := map[[sha256.Size]byte]int{} // digest → index of its first entry
	hasToken := map[string]bool{}
	for i, t := range c.Tokens {
		if t.Principal == "" {
			bad("tokens[%d]: missing principal", i)
		}
		hasToken[t.Principal] = true
		var d [sha256.Size]byte
		switch {
		case t.Token != "" && t.TokenSHA256 != "":
			bad("tokens[%d]: set only one of token and tokenSha256", i)
			continue
		case t.Token != "":
			if strings.ContainsFunc(t.Token, isSpaceOrControl) {
				bad("tokens[%d]: token contains whitespace or control characters", i)
				continue
			}
			d = sha256.Sum256([]byte(t.Token))
		case t.TokenSHA256 != "":
			b, err := hex.DecodeString(t.TokenSHA256)
			if err != nil || len(b) != sha256.Size {
				bad("tokens[%d]: tokenSha256 must be %d hex digits", i, 2*sha256.Size)
				continue
			}
			d = [sha256.Size]byte(b)
		default:
			bad("tokens[%d]: missing token or tokenSha256", i)
			continue
		}
		if j, dup := first[d]; dup {
			bad("tokens[%d]: duplicate token (same as tokens[%d])", i, j)
			continue
		}
		first[d] = i
		out.tokens = append(out.tokens, tokenEntry{digest: d, principal: t.Principal})
	}

	for i, b := range c.Bindings {
		switch {
		case b.Principal == "":
			bad("bindings[%d]: missing principal", i)
		case !hasToken[b.Principal]:
			bad("bindings[%d]: principal %q has no token", i, b.Principal)
		}
		if len(b.Roles) == 0 && len(b.Permissions) == 0 {
			bad("bindings[%d]: no roles and no permissions", i)
		}
		g := out.grants[b.Principal]
		if g == nil {
			g = map[string]bool{}
			out.grants[b.Principal] = g
		}
		for _, r := range b.Roles {
			perms, ok := roles[canonicalRole(r)]
			if !ok {
				bad("bindings[%d]: unknown role %q", i, r)
				continue
			}
			for _, p := range perms {
				g[p] = true
			}
		}
		for _, p := range b.Permissions {
			if !IsPermission(p) {
				bad("bindings[%d]: unknown permission %q", i, p)
				continue
			}
			g[p] = true
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

func isSpaceOrControl(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }

package auth

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadConfig(t *testing.T) {
	t.Parallel()
	okTokens := `"tokens":[{"token":"s3cret","principal":"user:alice@example.com"}]`
	tests := []struct {
		name    string
		json    string
		wantErr []string // substrings of the error; none = valid
	}{
		{"valid", `{` + okTokens + `,"bindings":[{"principal":"user:alice@example.com",` +
			`"roles":["roles/integrations.integrationInvoker"],"permissions":["integrations.executions.get"]}]}`, nil},
		{"valid sha and no bindings", `{"tokens":[{"tokenSha256":"` + sha("x") + `","principal":"user:a"}]}`, nil},
		{"unknown role", `{` + okTokens + `,"bindings":[{"principal":"user:alice@example.com","roles":["roles/integrations.nope","roles/owner"]}]}`,
			[]string{`bindings[0]: unknown role "roles/integrations.nope"`, `bindings[0]: unknown role "roles/owner"`}},
		{"unknown permission", `{` + okTokens + `,"bindings":[{"principal":"user:alice@example.com","permissions":["integrations.executions.create"]}]}`,
			[]string{`bindings[0]: unknown permission "integrations.executions.create"`}},
		{"duplicate token", `{"tokens":[{"token":"s3cret","principal":"user:a"},{"token":"s3cret","principal":"user:b"}]}`,
			[]string{"tokens[1]: duplicate token (same as tokens[0])"}},
		{"duplicate token in clear and hashed", `{"tokens":[{"token":"s3cret","principal":"user:a"},{"tokenSha256":"` + strings.ToUpper(sha("s3cret")) + `","principal":"user:b"}]}`,
			[]string{"tokens[1]: duplicate token (same as tokens[0])"}},
		{"both token forms", `{"tokens":[{"token":"a","tokenSha256":"` + sha("a") + `","principal":"user:a"}]}`,
			[]string{"tokens[0]: set only one of token and tokenSha256"}},
		{"no token", `{"tokens":[{"principal":"user:a"}]}`, []string{"tokens[0]: missing token or tokenSha256"}},
		{"bad sha", `{"tokens":[{"tokenSha256":"abc","principal":"user:a"}]}`, []string{"tokens[0]: tokenSha256 must be 64 hex digits"}},
		{"space in token", `{"tokens":[{"token":"a b","principal":"user:a"}]}`, []string{"tokens[0]: token contains whitespace"}},
		{"missing principal", `{"tokens":[{"token":"a"}],"bindings":[{"roles":["roles/integrations.viewer"]}]}`,
			[]string{"tokens[0]: missing principal", "bindings[0]: missing principal"}},
		{"binding without token", `{` + okTokens + `,"bindings":[{"principal":"user:bob","roles":["integrations.viewer"]}]}`,
			[]string{`bindings[0]: principal "user:bob" has no token`}},
		{"empty binding", `{` + okTokens + `,"bindings":[{"principal":"user:alice@example.com"}]}`,
			[]string{"bindings[0]: no roles and no permissions"}},
		{"no tokens", `{}`, []string{"no tokens"}},
		{"unknown field", `{"tokens":[{"token_sha256":"x","principal":"user:a"}]}`, []string{`unknown field "token_sha256"`}},
		{"trailing data", `{` + okTokens + `} {}`, []string{"unexpected data after the JSON object"}},
		{"not json", `tokens: []`, []string{"invalid character"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "auth.json")
			if err := os.WriteFile(path, []byte(tt.json), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg, err := LoadConfig(path)
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatalf("LoadConfig: %v, want no error", err)
				}
				if _, err := NewTokenAuthorizer(cfg); err != nil {
					t.Errorf("NewTokenAuthorizer: %v, want no error", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("LoadConfig error = nil, want %q", tt.wantErr)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("LoadConfig error = %q, want it to contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("LoadConfig error = %q, must not contain the token", err)
			}
		})
	}
}

func TestLoadConfigMissingFile(t *testing.T) {
	t.Parallel()
	_, err := LoadConfig(filepath.Join(t.TempDir(), "nope.json"))
	if err == nil || !strings.Contains(err.Error(), "load auth config") {
		t.Errorf("LoadConfig(missing) = %v, want a load auth config error", err)
	}
}

func TestNewTokenAuthorizerValidates(t *testing.T) {
	t.Parallel()
	_, err := NewTokenAuthorizer(&Config{Tokens: []Token{{Token: "t", Principal: "user:a"}},
		Bindings: []Binding{{Principal: "user:a", Roles: []string{"roles/editor"}}}})
	if err == nil || !strings.Contains(err.Error(), `unknown role "roles/editor"`) {
		t.Errorf("NewTokenAuthorizer error = %v, want unknown role", err)
	}
}

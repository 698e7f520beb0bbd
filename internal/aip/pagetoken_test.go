package aip

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/integrationd/integrationd/internal/rpc"
)

func TestPageToken(t *testing.T) {
	t.Parallel()
	sum := Checksum("projects/p/locations/l/integrations/x", `state = "FAILED"`, "createTime desc")
	other := Checksum("projects/p/locations/l/integrations/x", `state = "SUCCEEDED"`, "createTime desc")
	tests := []struct {
		name       string
		token      string
		wantCursor string
		wantErr    string // substring; "" = no error
	}{
		{"first page", "", "", ""},
		{"round trip", EncodeToken("2024-05-01T10:00:00Z/e-123", sum), "2024-05-01T10:00:00Z/e-123", ""},
		{"empty cursor", EncodeToken("", sum), "", ""},
		{"unicode cursor", EncodeToken("größe|✓", sum), "größe|✓", ""},
		{"other filter", EncodeToken("c", other), "", "invalid page_token: does not match the request"},
		{"not base64", "!!!", "", "invalid page_token: not a page token"},
		{"padded", EncodeToken("c", sum) + "==", "", "invalid page_token: not a page token"},
		{"not json", base64.RawURLEncoding.EncodeToString([]byte("hello")), "", "invalid page_token: not a page token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := DecodeToken(tt.token, sum)
			if tt.wantErr == "" {
				if err != nil || got != tt.wantCursor {
					t.Errorf("DecodeToken(%q) = %q, %v, want %q, nil", tt.token, got, err, tt.wantCursor)
				}
				return
			}
			if rpc.CodeOf(err) != rpc.CodeInvalidArgument || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("DecodeToken(%q) error = %v, want INVALID_ARGUMENT %q", tt.token, err, tt.wantErr)
			}
		})
	}
}

func TestTokenIsURLSafe(t *testing.T) {
	t.Parallel()
	tok := EncodeToken(strings.Repeat("\xff?&/+=", 10), 0xffffffff)
	if strings.ContainsAny(tok, "+/=?&") {
		t.Errorf("EncodeToken = %q, want only URL-safe characters", tok)
	}
}

func TestChecksum(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b []string
		same bool
	}{
		{[]string{"p", "f", "o"}, []string{"p", "f", "o"}, true},
		{[]string{"p", "f", "o"}, []string{"p", "g", "o"}, false},
		{[]string{"a|b", "c"}, []string{"a", "b|c"}, false},
		{[]string{"ab", "c"}, []string{"a", "bc"}, false},
		{[]string{"", ""}, []string{""}, false},
	}
	for _, tt := range tests {
		if got := Checksum(tt.a...) == Checksum(tt.b...); got != tt.same {
			t.Errorf("Checksum(%q) == Checksum(%q) = %v, want %v", tt.a, tt.b, got, tt.same)
		}
	}
}

func TestPageSize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		n       int32
		want    int
		wantErr bool
	}{
		{0, 50, false},
		{1, 1, false},
		{50, 50, false},
		{1000, 1000, false},
		{1001, 1000, false},
		{1<<31 - 1, 1000, false},
		{-1, 0, true},
		{-1 << 31, 0, true},
	}
	for _, tt := range tests {
		got, err := PageSize(tt.n, 50, 1000)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("PageSize(%d, 50, 1000) = %d, %v, want %d, error %v", tt.n, got, err, tt.want, tt.wantErr)
		}
		if err != nil && !strings.Contains(err.Error(), "invalid page_size: must not be negative") {
			t.Errorf("PageSize(%d) error = %v, want invalid page_size", tt.n, err)
		}
	}
}

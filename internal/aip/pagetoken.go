package aip

import (
	"encoding/base64"
	"encoding/json"
	"hash/crc32"

	"github.com/integrationd/integrationd/internal/rpc"
)

// pageToken is what a page token encodes.
type pageToken struct {
	Cursor string `json:"c"` // the position after the last item returned, defined by the list method
	Sum    uint32 `json:"s"` // Checksum of the request the token was issued for
}

// EncodeToken returns the opaque next_page_token for cursor (whatever the
// list method needs to resume, typically the key of the last item
// returned) issued for a request whose Checksum is checksum. cursor should
// be valid UTF-8: invalid bytes come back as U+FFFD.
//
// The token is base64url JSON, not encrypted or signed: a client can read
// and forge the cursor, so it must not carry secrets and the list method
// must validate it like any other input.
func EncodeToken(cursor string, checksum uint32) string {
	b, _ := json.Marshal(pageToken{Cursor: cursor, Sum: checksum}) // cannot fail
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeToken returns the cursor of token, which must have been issued for a
// request with the same checksum. An empty token (the first page) gives ""
// and no error. A malformed token, or one issued for another request (say
// with another filter), is an INVALID_ARGUMENT error on "page_token".
func DecodeToken(token string, checksum uint32) (cursor string, err error) {
	if token == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(token)
	var t pageToken
	if err != nil || json.Unmarshal(b, &t) != nil {
		return "", rpc.InvalidArgument("page_token", "not a page token returned by this method")
	}
	if t.Sum != checksum {
		return "", rpc.InvalidArgument("page_token", "does not match the request: parent, filter and order_by must be those of the request that returned the token")
	}
	return t.Cursor, nil
}

// Checksum returns the CRC-32 (IEEE) of the request parameters that a page
// token is bound to, conventionally Checksum(parent, filter, orderBy). Each
// part is terminated by a NUL byte, so ("a", "bc") and ("ab", "c") differ.
func Checksum(parts ...string) uint32 {
	h := crc32.NewIEEE()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return h.Sum32()
}

// PageSize returns the number of items to return for the requested page
// size n: def when n is 0, max when n is above max, n otherwise. A negative
// n is an INVALID_ARGUMENT error on "page_size".
func PageSize(n int32, def, max int) (int, error) {
	switch {
	case n < 0:
		return 0, rpc.InvalidArgument("page_size", "must not be negative (got %d)", n)
	case n == 0:
		return def, nil
	case int(n) > max:
		return max, nil
	}
	return int(n), nil
}

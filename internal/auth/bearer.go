package auth

import (
	"fmt"
	"strings"
)

// MaxTokenBytes is the longest bearer token accepted. Real access tokens
// are a few hundred bytes to a few KiB; a longer one is refused before it
// is decoded, so a huge header costs no parsing.
const MaxTokenBytes = 8 << 10

// BearerToken returns the token of the one Authorization header a request
// sent, as RFC 6750 section 2.1 defines it (the scheme is case-insensitive).
// No header, or one of another scheme, is ErrNoCredentials; two headers are
// ErrBadRequest; an empty, oversized or malformed token is ErrInvalidToken.
// A token elsewhere (the query string, a form field) is never read. The
// errors never include the header's value.
func BearerToken(authorization []string) (string, error) {
	token, err := bearer(authorization)
	if err == nil && !isToken68(token) {
		return "", errMalformed
	}
	return token, err
}

var errMalformed = fmt.Errorf("%w: not a bearer token (RFC 6750 b64token)", ErrInvalidToken)

// bearer is BearerToken without the check of the token's characters, for a
// caller that looks the token up among those it verified before checking.
func bearer(authorization []string) (string, error) {
	switch len(authorization) {
	case 0:
		return "", ErrNoCredentials
	case 1:
	default:
		return "", fmt.Errorf("%w: more than one Authorization header", ErrBadRequest)
	}
	v := authorization[0]
	if len(v) > MaxTokenBytes+64 { // room for the scheme and spaces
		return "", fmt.Errorf("%w: longer than %d bytes", ErrInvalidToken, MaxTokenBytes)
	}
	v = strings.Trim(v, " \t")
	scheme, token, _ := strings.Cut(v, " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", ErrNoCredentials // Basic, Digest...: not a bearer token
	}
	token = strings.TrimLeft(token, " ")
	switch {
	case token == "":
		return "", fmt.Errorf("%w: empty bearer token", ErrInvalidToken)
	case len(token) > MaxTokenBytes:
		return "", fmt.Errorf("%w: longer than %d bytes", ErrInvalidToken, MaxTokenBytes)
	}
	return token, nil
}

// isToken68 reports whether s is a b64token: 1*( ALPHA / DIGIT / "-" / "."
// / "_" / "~" / "+" / "/" ) *"=".
func isToken68(s string) bool {
	i := 0
	for ; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/') {
			break
		}
	}
	if i == 0 {
		return false
	}
	for ; i < len(s); i++ {
		if s[i] != '=' {
			return false
		}
	}
	return true
}

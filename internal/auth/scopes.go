package auth

import (
	"fmt"
	"slices"
	"strings"
)

// callerOf is the Caller a set of verified claims describes: its "sub",
// and its scopes from "scope" (space separated, RFC 8693 / RFC 9068) and
// "scp" (an array or a string, as Entra ID and Okta write it). A caller
// without a subject cannot own anything, so such a token is refused.
func callerOf(claims map[string]any, subjectKeys ...string) (Caller, error) {
	var sub string
	for _, k := range subjectKeys {
		if s, ok := claims[k].(string); ok && s != "" {
			sub = s
			break
		}
	}
	if sub == "" {
		return Caller{}, fmt.Errorf("%w: no subject", ErrInvalidToken)
	}
	return Caller{Subject: sub, Scopes: scopesOf(claims, false), Claims: claims}, nil
}

// scopesOf reads "scope" and "scp". flattened also reads "[a b]", the form
// an API Gateway HTTP API gives an array claim in its JWT authorizer's
// claims (every value there is a string).
func scopesOf(claims map[string]any, flattened bool) []string {
	var out []string
	add := func(s string) {
		if flattened && strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
			s = s[1 : len(s)-1]
		}
		for _, f := range strings.Fields(s) {
			if !slices.Contains(out, f) {
				out = append(out, f)
			}
		}
	}
	for _, k := range [...]string{"scope", "scp"} {
		switch v := claims[k].(type) {
		case string:
			add(v)
		case []any:
			for _, e := range v {
				if s, ok := e.(string); ok && !strings.ContainsAny(s, " \t") {
					add(s)
				}
			}
		case []string:
			for _, s := range v {
				if !strings.ContainsAny(s, " \t") {
					add(s)
				}
			}
		}
	}
	return out
}

package auth

import (
	"context"
	"strings"
)

// ScopePrefix takes Prefix off the scopes of the callers Next verifies:
// some issuers name an API's scopes after the API (Cognito writes
// "typedapi/items:write" for a resource server "typedapi"), while the
// operations check the API's own names. A scope without the prefix is
// dropped: it was granted for another resource server.
type ScopePrefix struct {
	Prefix string
	Next   Authenticator
}

// Authenticate verifies with Next and returns the caller with its scopes
// renamed. The caller is a copy: Next may share it between requests.
func (p ScopePrefix) Authenticate(ctx context.Context, authorization []string) (Caller, error) {
	c, err := p.Next.Authenticate(ctx, authorization)
	if err != nil {
		return c, err
	}
	scopes := make([]string, 0, len(c.Scopes))
	for _, s := range c.Scopes {
		if name, ok := strings.CutPrefix(s, p.Prefix); ok && name != "" {
			scopes = append(scopes, name)
		}
	}
	c.Scopes = scopes
	return c, nil
}

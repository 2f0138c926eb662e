package auth_test

import (
	"context"
	"slices"
	"testing"

	"github.com/typedapi/typedapi/internal/auth"
)

// TestScopePrefix: the issuer's "typedapi/items:write" is the API's
// "items:write"; a scope of another resource server is dropped; the
// caller the next authenticator returns (which it may cache) is untouched.
func TestScopePrefix(t *testing.T) {
	shared := auth.Caller{Subject: "alice", Scopes: []string{"typedapi/items:write", "billing/read", "typedapi/", "openid"}}
	p := auth.ScopePrefix{Prefix: "typedapi/", Next: auth.Off{Caller: shared}}
	c, err := p.Authenticate(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"items:write"}; !slices.Equal(c.Scopes, want) || c.Subject != "alice" {
		t.Errorf("caller %q %v, want alice %v", c.Subject, c.Scopes, want)
	}
	if shared.Scopes[0] != "typedapi/items:write" {
		t.Errorf("the shared caller was changed: %v", shared.Scopes)
	}
}

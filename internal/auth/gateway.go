package auth

import (
	"context"
	"fmt"
	"slices"

	"github.com/typedapi/typedapi/internal/requestinfo"
)

// Gateway trusts the claims an API Gateway authorizer put in the Lambda
// event (requestinfo.Info.Claims and Scopes): an HTTP API JWT authorizer,
// a Lambda authorizer's context, or a REST API Cognito authorizer has
// already verified the token, so it is not verified again. It is chosen by
// configuration (auth_mode=gateway), never because an event carries claims:
// only a function that no other front door reaches may trust them.
//
// A request without claims (a front door without an authorizer) goes to
// Fallback, which verifies the token itself; with no Fallback it has no
// credentials.
type Gateway struct {
	Fallback Authenticator
}

// Authenticate returns the caller the authorizer described: its subject
// from "sub" (or a Lambda authorizer's principalId), its scopes from the
// JWT authorizer's scopes and the "scope"/"scp" claims.
func (g Gateway) Authenticate(ctx context.Context, authorization []string) (Caller, error) {
	info := requestinfo.FromContext(ctx)
	if len(info.Claims) == 0 {
		if g.Fallback != nil {
			return g.Fallback.Authenticate(ctx, authorization)
		}
		return Caller{}, ErrNoCredentials
	}
	c, err := callerOf(info.Claims, "sub", "principalId")
	if err != nil {
		return Caller{}, fmt.Errorf("%w (the gateway authorizer passed no sub or principalId)", err)
	}
	c.Scopes = scopesOf(info.Claims, true)
	for _, s := range info.Scopes {
		if !slices.Contains(c.Scopes, s) {
			c.Scopes = append(c.Scopes, s)
		}
	}
	return c, nil
}

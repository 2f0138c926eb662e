// Package auth is who is calling: the verified Caller an operation reads
// with CallerFrom, whichever runtime verified it, and the Authenticator that
// turns a request's credentials into one.
package auth

import (
	"context"
	"errors"
	"slices"
)

// Caller is a verified caller: the token's subject, its scopes and every
// claim, as the issuer signed them (or as a gateway authorizer passed them).
type Caller struct {
	Subject string
	Scopes  []string
	Claims  map[string]any
}

// HasScope reports whether the caller was granted scope.
func (c Caller) HasScope(scope string) bool { return slices.Contains(c.Scopes, scope) }

type callerKey struct{}

// WithCaller returns ctx carrying c.
func WithCaller(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// CallerFrom returns the verified caller of the request ctx belongs to; ok
// is false when the request carried no verified credentials.
func CallerFrom(ctx context.Context) (c Caller, ok bool) {
	c, ok = ctx.Value(callerKey{}).(Caller)
	return c, ok
}

// Authenticator verifies the credentials of one request. authorization
// holds every Authorization header value the request sent (on Lambda behind
// a verifying gateway it may be empty: the claims come from the event, in
// ctx's requestinfo).
type Authenticator interface {
	Authenticate(ctx context.Context, authorization []string) (Caller, error)
}

// The ways authentication fails; an Authenticator wraps one of them so the
// caller of Authenticate can pick the answer with errors.Is.
var (
	// ErrNoCredentials: no bearer token was sent (401, no error code).
	ErrNoCredentials = errors.New("no bearer token")
	// ErrInvalidToken: a token was sent and is not acceptable (401,
	// error="invalid_token").
	ErrInvalidToken = errors.New("invalid token")
	// ErrBadRequest: the credentials are not one well-formed header, such
	// as two Authorization headers (400, error="invalid_request").
	ErrBadRequest = errors.New("malformed authorization")
	// ErrUnavailable: the token cannot be checked now, e.g. its key is not
	// cached and the JWKS cannot be fetched (503).
	ErrUnavailable = errors.New("token keys unavailable")
)

// Off is the Authenticator of a server whose auth is switched off (local
// development): every request is made by Caller, whatever it sends.
type Off struct{ Caller Caller }

// Authenticate returns o.Caller.
func (o Off) Authenticate(context.Context, []string) (Caller, error) { return o.Caller, nil }

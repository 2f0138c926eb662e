package operations

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"github.com/typedapi/typedapi/internal/auth"
)

// Every operation declares its security in its huma.Operation (routes.go),
// and register enforces exactly what is declared (authenticate): the
// document and the server cannot disagree.

// public is the security of an operation anyone may call: an explicit
// empty list (`security: []`), which Huma writes because it omits only nil.
func public() []map[string][]string { return []map[string][]string{} }

// bearer is the security of an operation that needs a bearer token granting
// every one of scopes (none: any signed-in caller).
func bearer(scopes ...string) []map[string][]string {
	return []map[string][]string{{securityScheme: append([]string{}, scopes...)}}
}

// protected reports whether op needs a caller.
func protected(op *huma.Operation) bool { return len(op.Security) > 0 }

// declaredScopes are the scopes op declares for the bearer scheme. An
// operation declares one requirement (bearer makes one), so every scope
// listed is needed; alternatives (OpenAPI's OR of requirements) are not
// used here.
func declaredScopes(op *huma.Operation) []string {
	var scopes []string
	for _, req := range op.Security {
		scopes = append(scopes, req[securityScheme]...)
	}
	return scopes
}

// realm names this API in WWW-Authenticate.
const realm = "typedapi"

// addSecurityScheme declares the bearer scheme the operations name.
func addSecurityScheme(api huma.API) {
	c := api.OpenAPI().Components
	if c.SecuritySchemes == nil {
		c.SecuritySchemes = map[string]*huma.SecurityScheme{}
	}
	c.SecuritySchemes[securityScheme] = &huma.SecurityScheme{
		Type:         "http",
		Scheme:       "bearer",
		BearerFormat: "JWT",
		Description: "An access token (a JWT) from the API's issuer, sent as `Authorization: Bearer <token>`. " +
			"Reading items and the service's own operations need none. Scopes: `" + ScopeItemsWrite + "` creates, replaces, " +
			"changes and deletes items; every order operation needs a signed-in caller, who sees and changes only their own orders; `" +
			ScopeOrdersFulfil + "` marks the shop's staff, who see and change every order, mark orders paid and shipped, " +
			"and cancel paid ones (a refund). A missing or unacceptable token is 401, a missing scope 403, both with " +
			"`WWW-Authenticate` as RFC 6750 describes.",
	}
}

// authErrors are the statuses authentication adds to a protected
// operation: a malformed Authorization (400), no or a bad token (401), the
// issuer's keys out of reach (503); 403 when the operation declares scopes.
func authErrors(op *huma.Operation) []int {
	codes := []int{http.StatusBadRequest, http.StatusUnauthorized, http.StatusServiceUnavailable}
	if len(declaredScopes(op)) > 0 {
		codes = append(codes, http.StatusForbidden)
	}
	return codes
}

// addErrors adds codes to op's errors, each once (in a copy: the lists in
// routes.go are shared).
func addErrors(op *huma.Operation, codes ...int) {
	op.Errors = slices.Clone(op.Errors)
	for _, c := range codes {
		if !slices.Contains(op.Errors, c) {
			op.Errors = append(op.Errors, c)
		}
	}
}

// authenticate is the middleware of an operation that declares security,
// which needs scopes: it verifies the caller with a (nil refuses everyone)
// before anything of the request is read, puts the caller in the context
// (auth.CallerFrom), and checks the scopes. Refusals are problems that
// never repeat the token or the Authorization header.
//
// A caller without a subject is refused as an invalid token: what a caller
// owns (orders, idempotency keys, cursors) is bound to the subject, and an
// empty one would own nothing and, unfiltered, see everything.
func authenticate(api huma.API, a auth.Authenticator, scopes []string) func(huma.Context, func(huma.Context)) {
	return func(ctx huma.Context, next func(huma.Context)) {
		if a == nil {
			writeProblem(api, ctx, errNoCredentials())
			return
		}
		r, _ := humago.Unwrap(ctx)
		caller, err := a.Authenticate(ctx.Context(), r.Header.Values("Authorization"))
		if err == nil && caller.Subject == "" {
			err = auth.ErrInvalidToken
		}
		if err != nil {
			writeProblem(api, ctx, authError(err))
			return
		}
		for _, scope := range scopes {
			if !caller.HasScope(scope) {
				writeProblem(api, ctx, errInsufficientScope(scope))
				return
			}
		}
		next(huma.WithContext(ctx, auth.WithCaller(ctx.Context(), caller)))
	}
}

// authError is the answer to what Authenticate reported. An error of no
// known kind is a refusal too: a verifier that cannot say why must not let
// the request through.
func authError(err error) error {
	switch {
	case errors.Is(err, auth.ErrNoCredentials):
		return errNoCredentials()
	case errors.Is(err, auth.ErrBadRequest):
		return errBadCredentials()
	case errors.Is(err, auth.ErrUnavailable):
		return errKeysUnavailable()
	}
	return errInvalidToken()
}

// writeProblem writes err (a huma.StatusError, with its headers) from a
// middleware, as Huma writes a handler's error.
func writeProblem(api huma.API, ctx huma.Context, err error) {
	var he huma.HeadersError
	if errors.As(err, &he) {
		for name, values := range he.GetHeaders() {
			for i, v := range values {
				if i == 0 {
					ctx.SetHeader(name, v)
				} else {
					ctx.AppendHeader(name, v)
				}
			}
		}
	}
	var em *huma.ErrorModel
	if !errors.As(err, &em) {
		panic("operations: writeProblem needs a huma.ErrorModel")
	}
	errs := make([]error, len(em.Errors))
	for i, d := range em.Errors {
		errs[i] = d
	}
	_ = huma.WriteErr(api, ctx, em.Status, em.Detail, errs...)
}

// callerOf is the verified caller of a protected operation's request:
// authenticate put it in ctx before the handler ran. Without one (a
// handler registered around register) the answer is 401, never an
// anonymous pass.
func callerOf(ctx context.Context) (auth.Caller, error) {
	c, ok := auth.CallerFrom(ctx)
	if !ok {
		return auth.Caller{}, errNoCredentials()
	}
	return c, nil
}

// ---- the problems of authentication (RFC 6750 §3) --------------------------

// challenge is a WWW-Authenticate value of the Bearer scheme with params
// (name, value pairs; the values are ours, never the client's).
func challenge(params ...string) http.Header {
	var b strings.Builder
	b.WriteString(`Bearer realm="` + realm + `"`)
	for i := 0; i+1 < len(params); i += 2 {
		b.WriteString(", " + params[i] + `="` + params[i+1] + `"`)
	}
	h := http.Header{}
	h.Set("WWW-Authenticate", b.String())
	return h
}

func errNoCredentials() error {
	return huma.ErrorWithHeaders(
		huma.Error401Unauthorized("This operation needs a bearer token: send Authorization: Bearer <token>."),
		challenge())
}

// invalidTokenDescription is all a client learns of why its token was
// refused: the verifier's reason could repeat parts of the token.
const invalidTokenDescription = "The access token is malformed, expired, not yet valid, not signed by the issuer, or not meant for this API"

func errInvalidToken() error {
	return huma.ErrorWithHeaders(
		huma.Error401Unauthorized(invalidTokenDescription+"; get a new one from the issuer."),
		challenge("error", "invalid_token", "error_description", invalidTokenDescription))
}

func errBadCredentials() error {
	const why = "Send one Authorization header holding one bearer token"
	return huma.ErrorWithHeaders(
		huma.Error400BadRequest("The credentials are malformed. "+why+"."),
		challenge("error", "invalid_request", "error_description", why))
}

// errInsufficientScope answers a caller whose token does not grant scope,
// which the request needs (the operation declares it, or the change asked
// for is the staff's).
func errInsufficientScope(scope string) error {
	return huma.ErrorWithHeaders(
		huma.Error403Forbidden("This request needs the scope "+scope+", which the token does not grant."),
		challenge("error", "insufficient_scope", "scope", scope))
}

// errKeysUnavailable answers a token that cannot be checked now: its
// signing key is not cached and the issuer's keys cannot be fetched.
func errKeysUnavailable() error {
	return huma.ErrorWithHeaders(
		huma.Error503ServiceUnavailable("The token's signing keys cannot be fetched now; retry after the number of seconds in Retry-After."),
		http.Header{"Retry-After": {"5"}})
}

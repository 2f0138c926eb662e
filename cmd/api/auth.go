package main

import (
	"errors"
	"log/slog"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/typedapi/typedapi/config"
	"github.com/typedapi/typedapi/internal/auth"
	"github.com/typedapi/typedapi/operations"
)

// localDeveloper is the caller of every request when auth is off: it may
// do everything, so /docs can try every operation.
var localDeveloper = auth.Caller{Subject: "local-developer", Scopes: operations.Scopes}

// errInsecure is the one line a server that would be open refuses to start
// with; it names the keys that fix it.
var errInsecure = errors.New("auth: refusing to start without authentication: no token issuer is configured " +
	"and this server is reachable beyond this machine (on AWS Lambda, or host is not a loopback address). " +
	"Set TYPEDAPI_AUTH_ISSUER and TYPEDAPI_AUTH_AUDIENCE to verify bearer tokens; " +
	"or TYPEDAPI_AUTH_MODE=gateway on Lambda behind an API Gateway authorizer; " +
	"or TYPEDAPI_AUTH_MODE=off to serve every operation to anyone")

// newAuthenticator picks how callers are verified (README "Authentication"):
//
//   - jwt: bearer tokens are verified against auth_issuer's keys;
//   - gateway (Lambda only): the claims of an API Gateway authorizer in the
//     event are trusted; requests without them are verified as jwt when an
//     issuer is set;
//   - off: every request is localDeveloper, with a warning;
//   - auto: jwt when an issuer is set; otherwise off (with the warning) if
//     nothing but this machine can connect: not on Lambda and listening on
//     a loopback address only. Anything else refuses to start.
//
// local says the process serves this machine only (the server on a
// loopback listener, or the local Lambda tools); it is never learned from
// a request's peer address, which a proxy makes meaningless.
func newAuthenticator(cfg config.Config, onLambda, local bool, logger *slog.Logger) (auth.Authenticator, error) {
	a, err := chooseAuthenticator(cfg, onLambda, local, logger)
	if err != nil || cfg.AuthScopePrefix == "" {
		return a, err
	}
	if _, off := a.(auth.Off); off {
		return a, nil
	}
	return auth.ScopePrefix{Prefix: cfg.AuthScopePrefix, Next: a}, nil
}

// newVerifier verifies bearer tokens of auth_issuer made for auth_audience.
func newVerifier(cfg config.Config, logger *slog.Logger) (*auth.JWT, error) {
	return auth.NewJWT(auth.JWTOptions{
		Issuer:          cfg.AuthIssuer,
		Audience:        cfg.AuthAudience,
		JWKSURL:         cfg.AuthJWKSURL,
		RefreshInterval: cfg.AuthJWKSRefresh,
		Logger:          logger,
	})
}

// runAuthorizer answers a REST API's TOKEN authorizer requests until the
// runtime ends the process (lambda_handler=authorizer). Scopes go to the
// API function as the issuer wrote them: it takes auth_scope_prefix off.
func runAuthorizer(cfg config.Config, getenv func(string) string, logger *slog.Logger) error {
	if getenv("AWS_LAMBDA_RUNTIME_API") == "" {
		return errors.New("lambda_handler=authorizer answers API Gateway authorizer requests on AWS Lambda only")
	}
	v, err := newVerifier(cfg, logger)
	if err != nil {
		return err
	}
	lambda.Start(auth.LambdaAuthorizer{Verifier: v, Logger: logger}.Handle)
	return nil
}

// chooseAuthenticator is newAuthenticator before auth_scope_prefix.
func chooseAuthenticator(cfg config.Config, onLambda, local bool, logger *slog.Logger) (auth.Authenticator, error) {
	jwtAuth := func() (auth.Authenticator, error) { return newVerifier(cfg, logger) }
	off := func(why string) auth.Authenticator {
		logger.Warn("authentication is off: every request acts as "+localDeveloper.Subject+" with every scope; "+
			"set TYPEDAPI_AUTH_ISSUER and TYPEDAPI_AUTH_AUDIENCE before this server is reachable by anyone else",
			"auth_mode", cfg.AuthMode, "why", why, "host", cfg.Host)
		return auth.Off{Caller: localDeveloper}
	}
	switch cfg.AuthMode {
	case "off":
		return off("auth_mode is off"), nil
	case "jwt":
		return jwtAuth()
	case "gateway":
		if !onLambda && !local {
			return nil, errors.New("auth: auth_mode=gateway trusts the claims an API Gateway authorizer puts in a Lambda event; " +
				"this server is not on AWS Lambda: set TYPEDAPI_AUTH_MODE=jwt with TYPEDAPI_AUTH_ISSUER and TYPEDAPI_AUTH_AUDIENCE")
		}
		g := auth.Gateway{}
		if cfg.AuthIssuer != "" {
			v, err := jwtAuth()
			if err != nil {
				return nil, err
			}
			g.Fallback = v
		}
		return g, nil
	}
	// auto
	if cfg.AuthIssuer != "" {
		return jwtAuth()
	}
	if !onLambda && local {
		return off("no auth_issuer, and only this machine can connect"), nil
	}
	return nil, errInsecure
}

package auth

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"time"
	"unsafe"

	"github.com/golang-jwt/jwt/v5"
)

// JWTOptions configure a JWT verifier; zero values get the defaults noted.
type JWTOptions struct {
	Issuer string // required: the exact "iss" of accepted tokens (an https URL; http on loopback)
	// Audience is required: a value "aud" must contain, or, in a token
	// without "aud", its "client_id" (Cognito access tokens carry no aud).
	// That is API Gateway's JWT authorizer rule, so a token is accepted
	// the same way behind the gateway and by the service itself.
	Audience string
	// JWKSURL is where the issuer's keys are; "" discovers it from
	// {Issuer}/.well-known/openid-configuration on first use.
	JWKSURL string
	// RefreshInterval is the least time between two fetches of the JWKS
	// (and of the discovery document): a flood of tokens with unknown kids
	// causes at most one fetch per interval. Default 5m.
	RefreshInterval time.Duration
	// MaxKeyAge is how long fetched keys are used before they are fetched
	// again on use (keys kept if that fails). Default 1h.
	MaxKeyAge time.Duration
	// Leeway is the clock skew allowed on exp and nbf. Default 30s.
	Leeway time.Duration
	// Algorithms allowed; default RS*, PS*, ES* and EdDSA. Never none or HS*.
	Algorithms []string
	// HTTPClient fetches discovery and keys (default http.DefaultClient).
	// FetchTimeout bounds one refresh, discovery included (default 5s), and
	// FetchLimit each response (default 1 MiB).
	HTTPClient   *http.Client
	FetchTimeout time.Duration
	FetchLimit   int64
	// CacheSize is how many verified tokens are remembered (until their
	// exp, at most CacheTTL); default 10000 and 5m.
	CacheSize int
	CacheTTL  time.Duration
	Logger    *slog.Logger
	Now       func() time.Time // clock, for tests
}

// asymmetric are the algorithms a JWT verifier may accept: signatures
// that a public key checks. HS* would let anyone who has the public key
// (everyone) sign, if it were ever accepted with it as the secret.
var asymmetric = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

// JWT verifies bearer tokens an OpenID Connect / OAuth 2 issuer signed:
// signature with a key of the issuer's JWKS named by kid, algorithm,
// iss, aud, exp (required) and nbf. It is an Authenticator.
type JWT struct {
	parser   *jwt.Parser
	audience string
	keys     *keySet
	cache    *tokenCache
	ttl      time.Duration
	now      func() time.Time
}

// NewJWT checks opts and returns a verifier. It touches no network: the
// discovery document and the keys are fetched when a token first needs them.
func NewJWT(opts JWTOptions) (*JWT, error) {
	if err := checkURL(opts.Issuer); err != nil {
		return nil, fmt.Errorf("auth: issuer: %w", err)
	}
	if opts.Audience == "" {
		return nil, errors.New("auth: an audience is required: tokens the issuer made for other APIs must not be accepted")
	}
	if opts.JWKSURL != "" {
		if err := checkURL(opts.JWKSURL); err != nil {
			return nil, fmt.Errorf("auth: JWKS URL: %w", err)
		}
	}
	for _, a := range opts.Algorithms {
		if !slices.Contains(asymmetric, a) {
			return nil, fmt.Errorf("auth: algorithm %q is not allowed (only %v)", a, asymmetric)
		}
	}
	if len(opts.Algorithms) == 0 {
		opts.Algorithms = asymmetric
	}
	if opts.RefreshInterval <= 0 {
		opts.RefreshInterval = 5 * time.Minute
	}
	if opts.MaxKeyAge <= 0 {
		opts.MaxKeyAge = time.Hour
	}
	if opts.Leeway <= 0 {
		opts.Leeway = 30 * time.Second
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = http.DefaultClient
	}
	if opts.FetchTimeout <= 0 {
		opts.FetchTimeout = 5 * time.Second
	}
	if opts.FetchLimit <= 0 {
		opts.FetchLimit = 1 << 20
	}
	if opts.CacheSize <= 0 {
		opts.CacheSize = 10000
	}
	if opts.CacheTTL <= 0 {
		opts.CacheTTL = 5 * time.Minute
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &JWT{
		parser: jwt.NewParser(
			jwt.WithValidMethods(opts.Algorithms),
			jwt.WithIssuer(opts.Issuer),
			jwt.WithExpirationRequired(),
			jwt.WithLeeway(opts.Leeway),
			jwt.WithTimeFunc(opts.Now),
			jwt.WithStrictDecoding(),
		),
		keys: &keySet{
			issuer: opts.Issuer, jwksURL: opts.JWKSURL, client: opts.HTTPClient, timeout: opts.FetchTimeout, maxBytes: opts.FetchLimit,
			minInterval: opts.RefreshInterval, maxAge: opts.MaxKeyAge, now: opts.Now, logger: opts.Logger,
		},
		audience: opts.Audience,
		cache:    newTokenCache(opts.CacheSize),
		ttl:      opts.CacheTTL,
		now:      opts.Now,
	}, nil
}

// Authenticate verifies the request's bearer token. A token verified
// before is answered from a cache keyed by its SHA-256, until its exp: the
// Caller returned then is shared, and must be treated as read-only.
func (j *JWT) Authenticate(ctx context.Context, authorization []string) (Caller, error) {
	token, err := bearer(authorization)
	if err != nil {
		return Caller{}, err
	}
	// Hashed in place: the token is read, never copied or kept (Sum256
	// neither writes nor retains its input).
	sum := sha256.Sum256(unsafe.Slice(unsafe.StringData(token), len(token))) //nolint:gosec // G103: read-only view of the string

	now := j.now()
	if c, ok := j.cache.get(sum, now); ok {
		return c, nil // verified before: its characters were checked then
	}
	if !isToken68(token) {
		return Caller{}, errMalformed
	}
	var keyErr error
	claims := jwt.MapClaims{}
	t, err := j.parser.ParseWithClaims(token, claims, func(t *jwt.Token) (any, error) {
		if _, crit := t.Header["crit"]; crit {
			keyErr = fmt.Errorf("%w: critical header extensions are not supported", ErrInvalidToken)
			return nil, keyErr
		}
		key, err := j.keys.key(ctx, t)
		keyErr = err
		return key, err
	})
	switch {
	case keyErr != nil:
		return Caller{}, keyErr // ours: no text of the token in it
	case err != nil:
		return Caller{}, fmt.Errorf("%w: %s", ErrInvalidToken, reason(err))
	case !t.Valid:
		return Caller{}, fmt.Errorf("%w: not valid", ErrInvalidToken)
	case !j.forUs(claims):
		return Caller{}, fmt.Errorf("%w: wrong audience", ErrInvalidToken)
	}
	c, err := callerOf(claims, "sub")
	if err != nil {
		return Caller{}, err
	}
	until := now.Add(j.ttl)
	if exp, _ := claims.GetExpirationTime(); exp != nil && exp.Before(until) {
		until = exp.Time
	}
	j.cache.put(sum, c, until, now)
	return c, nil
}

// forUs reports whether the token was made for this API: "aud" contains
// the audience or, when the token has no "aud" at all, "client_id" is it.
func (j *JWT) forUs(claims jwt.MapClaims) bool {
	if _, has := claims["aud"]; has {
		aud, err := claims.GetAudience()
		return err == nil && slices.Contains(aud, j.audience)
	}
	id, ok := claims["client_id"].(string)
	return ok && id == j.audience
}

// reason names what the library found wrong, in words of ours: its own
// messages can quote bytes of the token.
func reason(err error) string {
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return "malformed"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return "signature or algorithm not accepted"
	case errors.Is(err, jwt.ErrTokenExpired):
		return "expired"
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return "not valid yet"
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return "wrong issuer"
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return "wrong audience"
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return "a required claim is missing"
	case errors.Is(err, jwt.ErrTokenInvalidClaims):
		return "invalid claims"
	default:
		return "not accepted"
	}
}

// checkURL accepts an https URL, or an http one whose host is a loopback
// address (a local issuer in development and tests).
func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("%q is not an absolute URL without query or credentials", s)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if IsLoopbackHost(u.Hostname()) {
			return nil
		}
	}
	return fmt.Errorf("%q must be https (http only on a loopback host)", s)
}

// IsLoopbackHost reports whether host is "localhost" or a loopback IP
// literal (127.0.0.0/8, ::1).
func IsLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

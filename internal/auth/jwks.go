package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
)

// keySet is the issuer's JWKS as last fetched. Nothing is fetched until a
// token needs a key (a cold start that serves public operations fetches
// nothing). A kid that is not cached fetches the set again, at most once per
// minInterval however many unknown kids arrive; a fetch that fails keeps the
// keys already cached, so an outage of the issuer only affects tokens whose
// key was never seen (ErrUnavailable). Keys older than maxAge are fetched
// again on use, so a key the issuer withdrew stops verifying.
type keySet struct {
	issuer      string
	jwksURL     string // "" until discovered from the issuer
	client      *http.Client
	timeout     time.Duration // of one refresh, discovery included
	maxBytes    int64
	minInterval time.Duration
	maxAge      time.Duration
	now         func() time.Time
	logger      *slog.Logger

	cur atomic.Pointer[keys] // the last successful fetch; nil before it

	mu       sync.Mutex
	lastTry  time.Time     // start of the last fetch
	lastErr  error         // its failure, nil if it succeeded
	inflight chan struct{} // closed when the running fetch ends; nil if none
}

// keys is one fetched JWKS.
type keys struct {
	byKID   map[string]jwkset.JWK
	keyfunc keyfunc.Keyfunc
	fetched time.Time
}

// failedRetry bounds the wait after a failed fetch, so a blip at a cold
// start costs seconds of 503s, not a whole minInterval.
const failedRetry = 10 * time.Second

// key returns the verification key for t: its kid must name a key of the
// JWKS whose type fits t's algorithm.
func (s *keySet) key(ctx context.Context, t *jwt.Token) (any, error) {
	kid, _ := t.Header["kid"].(string)
	if kid == "" {
		return nil, fmt.Errorf("%w: no key id (kid)", ErrInvalidToken)
	}
	if len(kid) > 256 {
		return nil, fmt.Errorf("%w: key id too long", ErrInvalidToken)
	}
	k := s.cur.Load()
	if k != nil && s.now().Sub(k.fetched) >= s.maxAge {
		if fresh, err := s.refresh(ctx); err == nil {
			k = fresh
		} // else: keep verifying with what is cached
	}
	if k == nil || !k.has(kid) {
		var err error
		if k, err = s.refresh(ctx); err != nil {
			return nil, err
		}
	}
	jwk, ok := k.byKID[kid]
	if !ok {
		return nil, fmt.Errorf("%w: unknown key id", ErrInvalidToken)
	}
	if err := fits(jwk.Marshal(), t.Method.Alg()); err != nil {
		return nil, err
	}
	key, err := k.keyfunc.KeyfuncCtx(ctx)(t)
	if err != nil {
		return nil, fmt.Errorf("%w: key does not fit the token", ErrInvalidToken)
	}
	return key, nil
}

func (k *keys) has(kid string) bool {
	_, ok := k.byKID[kid]
	return ok
}

// fits checks that a key's type (and curve) is the one alg signs with, and
// that the key is published for signatures.
func fits(m jwkset.JWKMarshal, alg string) error {
	var ok bool
	switch alg {
	case "RS256", "RS384", "RS512", "PS256", "PS384", "PS512":
		ok = m.KTY == jwkset.KtyRSA
	case "ES256":
		ok = m.KTY == jwkset.KtyEC && m.CRV == jwkset.CrvP256
	case "ES384":
		ok = m.KTY == jwkset.KtyEC && m.CRV == jwkset.CrvP384
	case "ES512":
		ok = m.KTY == jwkset.KtyEC && m.CRV == jwkset.CrvP521
	case "EdDSA":
		ok = m.KTY == jwkset.KtyOKP && m.CRV == jwkset.CrvEd25519
	}
	if !ok || (m.USE != "" && m.USE != jwkset.UseSig) || (m.ALG != "" && string(m.ALG) != alg) {
		return fmt.Errorf("%w: key does not fit the token's algorithm", ErrInvalidToken)
	}
	return nil
}

// refresh fetches the JWKS unless a fetch ran too recently, and returns the
// keys cached afterwards. Callers arriving during a fetch wait for it.
// Rate-limited, it answers from the cache: ErrUnavailable if the last fetch
// failed or none ever succeeded.
func (s *keySet) refresh(ctx context.Context) (*keys, error) {
	s.mu.Lock()
	if wait := s.inflight; wait != nil {
		s.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: %w", ErrUnavailable, ctx.Err())
		}
		return s.result()
	}
	interval := s.minInterval
	if s.lastErr != nil {
		interval = min(interval, failedRetry)
	}
	if !s.lastTry.IsZero() && s.now().Sub(s.lastTry) < interval {
		s.mu.Unlock()
		return s.result()
	}
	done := make(chan struct{})
	s.inflight, s.lastTry = done, s.now()
	s.mu.Unlock()

	// The fetch outlives a caller that gives up: its result serves the
	// callers waiting for it and the next ones. It has its own deadline.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.timeout)
	k, err := s.fetch(fctx)
	cancel()
	if err != nil {
		s.logger.WarnContext(ctx, "auth: cannot fetch the issuer's keys; tokens signed with cached keys still verify",
			"error", err.Error(), "issuer", s.issuer)
	} else {
		s.cur.Store(k)
	}
	s.mu.Lock()
	s.lastErr, s.inflight = err, nil
	s.mu.Unlock()
	close(done)
	return s.result()
}

// result is the outcome of the last fetch as a caller sees it.
func (s *keySet) result() (*keys, error) {
	s.mu.Lock()
	err := s.lastErr
	s.mu.Unlock()
	k := s.cur.Load()
	if k == nil || err != nil {
		if err == nil {
			err = errors.New("not fetched yet")
		}
		return k, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return k, nil
}

// fetch reads the JWKS, discovering its URL first if it is not known.
func (s *keySet) fetch(ctx context.Context) (*keys, error) {
	s.mu.Lock()
	u := s.jwksURL
	s.mu.Unlock()
	if u == "" {
		var err error
		if u, err = s.discover(ctx); err != nil {
			return nil, err
		}
		s.mu.Lock()
		s.jwksURL = u
		s.mu.Unlock()
	}
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := s.getJSON(ctx, u, &doc); err != nil {
		return nil, err
	}
	store := jwkset.NewMemoryStorage()
	k := &keys{byKID: make(map[string]jwkset.JWK, len(doc.Keys)), fetched: s.now()}
	skipped := 0
	for _, raw := range doc.Keys {
		jwk, err := jwkset.NewJWKFromRawJSON(raw, jwkset.JWKMarshalOptions{}, jwkset.JWKValidateOptions{})
		m := jwk.Marshal()
		if err != nil || m.KID == "" || m.KTY == jwkset.KtyOct || (m.USE != "" && m.USE != jwkset.UseSig) {
			skipped++ // unusable here (no kid, symmetric, encryption): ignored, not fatal
			continue
		}
		k.byKID[m.KID] = jwk
		if err := store.KeyWrite(ctx, jwk); err != nil {
			return nil, err
		}
	}
	if len(k.byKID) == 0 {
		return nil, fmt.Errorf("the JWKS at %s has no usable signing key (%d skipped)", u, skipped)
	}
	kf, err := keyfunc.New(keyfunc.Options{Ctx: ctx, Storage: store})
	if err != nil {
		return nil, err
	}
	k.keyfunc = kf
	return k, nil
}

// discover reads the issuer's OpenID configuration for its jwks_uri. The
// document must name the same issuer (OpenID Connect Discovery 1.0, 4.3).
func (s *keySet) discover(ctx context.Context) (string, error) {
	var doc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	u := strings.TrimSuffix(s.issuer, "/") + "/.well-known/openid-configuration"
	if err := s.getJSON(ctx, u, &doc); err != nil {
		return "", err
	}
	if doc.Issuer != s.issuer {
		return "", fmt.Errorf("discovery at %s names issuer %q, not the configured %q", u, doc.Issuer, s.issuer)
	}
	if err := checkURL(doc.JWKSURI); err != nil {
		return "", fmt.Errorf("discovery at %s: jwks_uri: %w", u, err)
	}
	return doc.JWKSURI, nil
}

// getJSON GETs u into v, within the client's timeout and s.maxBytes.
func (s *keySet) getJSON(ctx context.Context, u string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, s.maxBytes+1))
	if err != nil {
		return fmt.Errorf("GET %s: %w", u, err)
	}
	if int64(len(body)) > s.maxBytes {
		return fmt.Errorf("GET %s: larger than %d bytes", u, s.maxBytes)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("GET %s: not the JSON expected: %w", u, err)
	}
	return nil
}

package auth_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/typedapi/typedapi/internal/auth"
	"github.com/typedapi/typedapi/internal/auth/authtest"
)

// issuerProxy stands between the verifier and the real issuer: it counts
// the JWKS fetches and can fail them all, as an issuer outage would.
type issuerProxy struct {
	*httptest.Server
	jwksFetches atomic.Int64
	requests    atomic.Int64
	down        atomic.Bool
}

func newIssuerProxy(t *testing.T, issuer string) *issuerProxy {
	t.Helper()
	target, err := url.Parse(issuer)
	if err != nil {
		t.Fatal(err)
	}
	p := &issuerProxy{}
	rp := httputil.NewSingleHostReverseProxy(target)
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.requests.Add(1)
		if r.URL.Path == "/jwks" {
			p.jwksFetches.Add(1)
		}
		if p.down.Load() {
			http.Error(w, "issuer down", http.StatusServiceUnavailable)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(p.Close)
	return p
}

// clock is a settable clock the verifier and its key cache read.
type clock struct{ ns atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.ns.Store(time.Now().UnixNano())
	return c
}
func (c *clock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *clock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newVerifier(t testing.TB, opts auth.JWTOptions) *auth.JWT {
	t.Helper()
	if opts.Audience == "" {
		opts.Audience = authtest.Audience
	}
	if opts.Logger == nil {
		opts.Logger = quietLogger()
	}
	v, err := auth.NewJWT(opts)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func bearer(token string) []string { return []string{"Bearer " + token} }

func TestJWTAcceptsTheIssuersToken(t *testing.T) {
	issuer, ok := authtest.Issuer(t)
	if !ok {
		t.Skip("no test issuer")
	}
	// No JWKS URL: the verifier discovers it from the issuer.
	v := newVerifier(t, auth.JWTOptions{Issuer: issuer})
	cases := []struct {
		name string
		req  authtest.Request
		want []string
	}{
		{"scope claim", authtest.Request{Subject: "alice", Scope: "items:write orders:fulfil"}, []string{"items:write", "orders:fulfil"}},
		{"scp array claim", authtest.Request{Subject: "bob", SCP: "orders:fulfil"}, []string{"orders:fulfil"}},
		{"no scopes", authtest.Request{Subject: "carol"}, nil},
		// Cognito's access tokens: no aud, the app client in client_id.
		{"client_id, no aud", authtest.Request{Subject: "dave", Audience: "-", ClientID: authtest.Audience, Scope: "orders:fulfil"}, []string{"orders:fulfil"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			token := authtest.Token(t, issuer, c.req)
			for _, header := range []string{"Bearer " + token, "bearer " + token, "BEARER  " + token} {
				got, err := v.Authenticate(context.Background(), []string{header})
				if err != nil {
					t.Fatalf("Authenticate: %v", err)
				}
				if got.Subject != c.req.Subject || fmt.Sprint(got.Scopes) != fmt.Sprint(c.want) {
					t.Errorf("caller = %q %v, want %q %v", got.Subject, got.Scopes, c.req.Subject, c.want)
				}
				if got.Claims["iss"] != issuer || got.Claims["sub"] != c.req.Subject {
					t.Errorf("claims = %v", got.Claims)
				}
			}
		})
	}
}

func TestJWTRefusesBadTokens(t *testing.T) {
	issuer, ok := authtest.Issuer(t)
	if !ok {
		t.Skip("no test issuer")
	}
	v := newVerifier(t, auth.JWTOptions{Issuer: issuer, JWKSURL: issuer + "/jwks"})
	cases := authtest.BadTokens(t, issuer)
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			_, err := v.Authenticate(context.Background(), bearer(c.Token))
			if !errors.Is(err, auth.ErrInvalidToken) {
				t.Fatalf("err = %v, want ErrInvalidToken", err)
			}
			t.Log(err) // the reason, for a reader of -v
			if strings.Contains(err.Error(), c.Token) || (len(c.Token) > 20 && strings.Contains(err.Error(), c.Token[:20])) {
				t.Errorf("the error quotes the token: %v", err)
			}
		})
	}
}

func TestBearerHeader(t *testing.T) {
	issuer, ok := authtest.Issuer(t)
	if !ok {
		t.Skip("no test issuer")
	}
	v := newVerifier(t, auth.JWTOptions{Issuer: issuer})
	token := authtest.Token(t, issuer, authtest.Request{Subject: "alice"})
	cases := []struct {
		name   string
		header []string
		want   error
	}{
		{"no header", nil, auth.ErrNoCredentials},
		{"another scheme", []string{"Basic YWxpY2U6c2VjcmV0"}, auth.ErrNoCredentials},
		{"two headers", []string{"Bearer " + token, "Bearer " + token}, auth.ErrBadRequest},
		{"scheme only", []string{"Bearer"}, auth.ErrInvalidToken},
		{"two tokens in one header", []string{"Bearer " + token + ", Bearer " + token}, auth.ErrInvalidToken},
		{"oversized header", []string{"Bearer " + strings.Repeat("a", 64<<10)}, auth.ErrInvalidToken},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := v.Authenticate(context.Background(), c.header)
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			if len(c.header) > 0 && strings.Contains(err.Error(), token[:20]) {
				t.Errorf("the error quotes the token: %v", err)
			}
		})
	}
}

func TestJWTFetchesNothingUntilATokenNeedsAKey(t *testing.T) {
	issuer, ok := authtest.Issuer(t)
	if !ok {
		t.Skip("no test issuer")
	}
	proxy := newIssuerProxy(t, issuer)
	// Discovery through the proxy would name the issuer's own jwks_uri;
	// the proxy is the JWKS URL so every fetch is counted.
	v := newVerifier(t, auth.JWTOptions{Issuer: issuer, JWKSURL: proxy.URL + "/jwks"})
	for _, h := range [][]string{nil, {"Basic YWxpY2U6c2VjcmV0"}, {"Bearer a", "Bearer b"}, {"Bearer not-a-jwt"}} {
		_, _ = v.Authenticate(context.Background(), h)
	}
	if n := proxy.requests.Load(); n != 0 {
		t.Fatalf("%d requests to the issuer before any token needed a key, want 0", n)
	}
	if _, err := v.Authenticate(context.Background(), bearer(authtest.Token(t, issuer, authtest.Request{Subject: "alice"}))); err != nil {
		t.Fatal(err)
	}
	if n := proxy.jwksFetches.Load(); n != 1 {
		t.Fatalf("%d JWKS fetches for the first token, want 1", n)
	}
}

func TestJWKSFloodOfUnknownKidsFetchesOncePerInterval(t *testing.T) {
	issuer, ok := authtest.Issuer(t)
	if !ok {
		t.Skip("no test issuer")
	}
	proxy := newIssuerProxy(t, issuer)
	clk := newClock()
	const interval = time.Minute
	v := newVerifier(t, auth.JWTOptions{Issuer: issuer, JWKSURL: proxy.URL + "/jwks", RefreshInterval: interval, Now: clk.Now})
	if _, err := v.Authenticate(context.Background(), bearer(authtest.Token(t, issuer, authtest.Request{Subject: "alice"}))); err != nil {
		t.Fatal(err)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tokens := make([]string, 300)
	for i := range tokens {
		tokens[i] = authtest.SignedLocally(t, key, fmt.Sprintf("random-kid-%d-%x", i, time.Now().UnixNano()), authtest.ValidClaims(issuer))
	}
	flood := func() {
		var wg sync.WaitGroup
		for _, tok := range tokens {
			wg.Go(func() {
				if _, err := v.Authenticate(context.Background(), bearer(tok)); !errors.Is(err, auth.ErrInvalidToken) {
					t.Errorf("random kid: err = %v, want ErrInvalidToken", err)
				}
			})
		}
		wg.Wait()
	}
	flood() // within the interval of the first fetch: no fetch at all
	if n := proxy.jwksFetches.Load(); n != 1 {
		t.Fatalf("after a flood within the interval: %d JWKS fetches, want 1", n)
	}
	clk.Advance(interval + time.Second)
	flood() // a new interval: one fetch for the whole flood
	flood()
	if n := proxy.jwksFetches.Load(); n != 2 {
		t.Fatalf("after floods in the next interval: %d JWKS fetches, want 2", n)
	}
}

func TestJWKSOutage(t *testing.T) {
	issuer, ok := authtest.Issuer(t)
	if !ok {
		t.Skip("no test issuer")
	}
	proxy := newIssuerProxy(t, issuer)
	clk := newClock()
	v := newVerifier(t, auth.JWTOptions{Issuer: issuer, JWKSURL: proxy.URL + "/jwks",
		RefreshInterval: time.Minute, MaxKeyAge: 2 * time.Minute, Now: clk.Now})
	if _, err := v.Authenticate(context.Background(), bearer(authtest.Token(t, issuer, authtest.Request{Subject: "alice"}))); err != nil {
		t.Fatal(err)
	}
	cachedKey := authtest.Token(t, issuer, authtest.Request{Subject: "bob"}) // not verified yet: not in the token cache
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	needsFetch := authtest.SignedLocally(t, key, "a-key-not-cached", authtest.ValidClaims(issuer))

	proxy.down.Store(true)
	clk.Advance(3 * time.Minute) // past the interval and the keys' max age: both would fetch
	if c, err := v.Authenticate(context.Background(), bearer(cachedKey)); err != nil || c.Subject != "bob" {
		t.Fatalf("token signed with a cached key during an outage: %v, %v; want it verified", c.Subject, err)
	}
	if _, err := v.Authenticate(context.Background(), bearer(needsFetch)); !errors.Is(err, auth.ErrUnavailable) {
		t.Fatalf("token whose key is not cached during an outage: err = %v, want ErrUnavailable", err)
	}
	if strings.Contains(fmt.Sprint(err), needsFetch[:20]) {
		t.Errorf("the error quotes the token: %v", err)
	}

	// A verifier whose very first fetch fails: unavailable, not invalid;
	// it recovers once the issuer is back.
	fresh := newVerifier(t, auth.JWTOptions{Issuer: issuer, JWKSURL: proxy.URL + "/jwks", Now: clk.Now})
	if _, err := fresh.Authenticate(context.Background(), bearer(cachedKey)); !errors.Is(err, auth.ErrUnavailable) {
		t.Fatalf("first fetch failing: err = %v, want ErrUnavailable", err)
	}
	proxy.down.Store(false)
	clk.Advance(time.Minute)
	if _, err := fresh.Authenticate(context.Background(), bearer(cachedKey)); err != nil {
		t.Fatalf("after the issuer is back: %v", err)
	}
}

func TestNewJWTRefusesUnsafeOptions(t *testing.T) {
	cases := []struct {
		name string
		opts auth.JWTOptions
	}{
		{"no issuer", auth.JWTOptions{Audience: "a"}},
		{"http issuer on a public host", auth.JWTOptions{Issuer: "http://issuer.example.com", Audience: "a"}},
		{"no audience", auth.JWTOptions{Issuer: "https://issuer.example.com"}},
		{"http JWKS on a public host", auth.JWTOptions{Issuer: "https://issuer.example.com", Audience: "a", JWKSURL: "http://issuer.example.com/jwks"}},
		{"HS256 allowed", auth.JWTOptions{Issuer: "https://issuer.example.com", Audience: "a", Algorithms: []string{"HS256"}}},
		{"none allowed", auth.JWTOptions{Issuer: "https://issuer.example.com", Audience: "a", Algorithms: []string{"none"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := auth.NewJWT(c.opts); err == nil {
				t.Fatal("NewJWT accepted it")
			}
		})
	}
	if _, err := auth.NewJWT(auth.JWTOptions{Issuer: "http://127.0.0.1:9", Audience: "a"}); err != nil {
		t.Fatalf("a loopback http issuer: %v", err)
	}
}

// BenchmarkAuthenticate measures one request's verification: "cached" is
// a client sending the same token again (the common case), "verify" the
// signature and claims checks of a token seen for the first time.
func BenchmarkAuthenticate(b *testing.B) {
	issuer, ok := authtest.Issuer(b)
	if !ok {
		b.Skip("no test issuer")
	}
	header := bearer(authtest.Token(b, issuer, authtest.Request{Subject: "alice", Scope: "items:write orders:fulfil"}))
	for _, bc := range []struct {
		name string
		ttl  time.Duration
	}{{"cached", 0}, {"verify", time.Nanosecond}} {
		b.Run(bc.name, func(b *testing.B) {
			v := newVerifier(b, auth.JWTOptions{Issuer: issuer, JWKSURL: issuer + "/jwks", CacheTTL: bc.ttl})
			if _, err := v.Authenticate(context.Background(), header); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Authenticate(context.Background(), header); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestJWKSFetchesAreBounded: an issuer that answers too much, too slowly
// or in someone else's name makes its tokens unverifiable now (503), not
// a hung or exhausted server, and not a 401 for a token that may be fine.
func TestJWKSFetchesAreBounded(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	defer close(release)
	var base string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/huge/jwks":
			_, _ = w.Write([]byte(`{"keys":[` + strings.Repeat(" ", 2<<20) + `]}`))
		case "/slow/jwks":
			select {
			case <-release:
			case <-r.Context().Done():
			}
		case "/impostor/.well-known/openid-configuration":
			_ = json.NewEncoder(w).Encode(map[string]string{"issuer": "https://someone-else.example.com", "jwks_uri": base + "/impostor/jwks"})
		case "/no-keys/jwks":
			_, _ = w.Write([]byte(`{"keys":[{"kty":"oct","kid":"k","k":"c2VjcmV0"}]}`))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	base = srv.URL
	cases := []struct {
		name string
		opts auth.JWTOptions
	}{
		{"JWKS over the size limit", auth.JWTOptions{Issuer: srv.URL + "/huge", JWKSURL: srv.URL + "/huge/jwks"}},
		{"JWKS that never answers", auth.JWTOptions{Issuer: srv.URL + "/slow", JWKSURL: srv.URL + "/slow/jwks", FetchTimeout: 300 * time.Millisecond}},
		{"discovery naming another issuer", auth.JWTOptions{Issuer: srv.URL + "/impostor"}},
		{"JWKS with only a symmetric key", auth.JWTOptions{Issuer: srv.URL + "/no-keys", JWKSURL: srv.URL + "/no-keys/jwks"}},
		{"no such issuer", auth.JWTOptions{Issuer: srv.URL + "/missing"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := newVerifier(t, c.opts)
			token := authtest.SignedLocally(t, key, "k", authtest.ValidClaims(c.opts.Issuer))
			start := time.Now()
			_, err := v.Authenticate(context.Background(), bearer(token))
			if !errors.Is(err, auth.ErrUnavailable) {
				t.Fatalf("err = %v, want ErrUnavailable", err)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("took %v", d)
			}
			if strings.Contains(err.Error(), token[:20]) {
				t.Errorf("the error quotes the token: %v", err)
			}
		})
	}
}

package authtest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"

	"github.com/typedapi/typedapi/internal/auth"
)

// BadToken is a token a verifier must refuse, and what is wrong with it.
type BadToken struct {
	Name, Token string
}

// BadTokens are the tokens issue 16 lists as refused, made against the
// issuer at issuer: each would be accepted but for what its name says.
// The forgeries are signed here; the rest the issuer signs itself.
func BadTokens(t testing.TB, issuer string) []BadToken {
	t.Helper()
	kid, pub := IssuerKey(t, issuer)
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	good := ValidClaims(issuer)

	// Algorithm confusion: HS256 keyed with the issuer's public key, which
	// everyone has, in the forms a confused verifier would use.
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	hs := func(secret []byte) string {
		tok := jwt.NewWithClaims(jwt.SigningMethodHS256, good)
		tok.Header["kid"] = kid
		s, err := tok.SignedString(secret)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	return []BadToken{
		{"alg none", b64(map[string]any{"alg": "none", "typ": "JWT", "kid": kid}) + "." + b64(good) + "."},
		{"alg none, no kid", b64(map[string]any{"alg": "none"}) + "." + b64(good) + "."},
		{"HS256 keyed with the issuer's PEM public key", hs(pemKey)},
		{"HS256 keyed with the issuer's DER public key", hs(der)},
		{"expired", Token(t, issuer, Request{Subject: "alice", ExpiresIn: -5 * time.Minute})},
		{"not yet valid", Token(t, issuer, Request{Subject: "alice", NotBeforeIn: 5 * time.Minute})},
		{"wrong iss", Token(t, issuer, Request{Subject: "alice", Issuer: "http://127.0.0.1:1/someone-else"})},
		{"wrong aud", Token(t, issuer, Request{Subject: "alice", Audience: "another-api"})},
		{"no aud", Token(t, issuer, Request{Subject: "alice", Audience: "-"})},
		{"no aud, another client's client_id", Token(t, issuer, Request{Subject: "alice", Audience: "-", ClientID: "another-client"})},
		{"wrong aud, our client_id", Token(t, issuer, Request{Subject: "alice", Audience: "another-api", ClientID: Audience})},
		{"no sub", Token(t, issuer, Request{Scope: "items:write"})},
		{"kid the issuer does not have", Token(t, issuer, Request{Subject: "alice", KeyID: "not-a-key-of-the-issuer"})},
		{"signed by an unknown key", SignedLocally(t, other, "unknown-key", good)},
		{"signed by another key under a known kid", SignedLocally(t, other, kid, good)},
		{"no kid", SignedLocally(t, other, "", good)},
		{"malformed: one segment", "abcdef"},
		{"malformed: garbage segments", "eyJhbGciOi.bm90IGpzb24.c2ln"},
		{"malformed: payload not JSON", b64(map[string]any{"alg": "RS256", "kid": kid}) + ".bm90IGpzb24." + strings.Repeat("A", 342)},
		{"over 8 KiB", Token(t, issuer, Request{Subject: "alice", Scope: strings.Repeat("s", auth.MaxTokenBytes)})},
	}
}

// IssuerKey is the issuer's published signing key: its kid and RSA key.
func IssuerKey(t testing.TB, issuer string) (string, *rsa.PublicKey) {
	t.Helper()
	resp, err := http.Get(issuer + "/jwks") //nolint:gosec // G107: the tests' own issuer on 127.0.0.1
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set jwkset.JWKSMarshal
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil || len(set.Keys) == 0 {
		t.Fatalf("issuer JWKS: %v", err)
	}
	jwk, err := jwkset.NewJWKFromMarshal(set.Keys[0], jwkset.JWKMarshalOptions{}, jwkset.JWKValidateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pub, ok := jwk.Key().(*rsa.PublicKey)
	if !ok {
		t.Fatalf("issuer key is %T, want RSA", jwk.Key())
	}
	return jwk.Marshal().KID, pub
}

// ValidClaims are claims a verifier would accept from the issuer.
func ValidClaims(issuer string) jwt.MapClaims {
	now := time.Now()
	return jwt.MapClaims{
		"iss": issuer, "aud": Audience, "sub": "mallory", "scope": "items:write orders:fulfil",
		"iat": now.Unix(), "nbf": now.Add(-time.Minute).Unix(), "exp": now.Add(time.Hour).Unix(),
	}
}

// SignedLocally is a token signed by a key the issuer never published,
// under header kid.
func SignedLocally(t testing.TB, key *rsa.PrivateKey, kid string, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	tok.Header["kid"] = kid
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func b64(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

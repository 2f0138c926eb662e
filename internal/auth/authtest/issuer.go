// Package authtest takes real tokens from the OpenID Connect issuer the
// test command starts (scripts/oidc-issuer: oauth2-mock-server on
// 127.0.0.1, in TYPEDAPI_TEST_ISSUER), for the tests of internal/auth and
// of the running API.
package authtest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Audience is the audience the tests' tokens are made for.
const Audience = "typedapi-test"

// Issuer returns the test issuer's URL and true. Without one it returns
// false and the caller skips; under CI it fails the test instead, since
// there a test that quietly did not run would hide what it exists to show.
func Issuer(t testing.TB) (string, bool) {
	t.Helper()
	if u := os.Getenv("TYPEDAPI_TEST_ISSUER"); u != "" {
		return u, true
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("TYPEDAPI_TEST_ISSUER is not set under CI: scripts/test starts the issuer (scripts/oidc-issuer)")
	}
	t.Log("the test issuer is not running (TYPEDAPI_TEST_ISSUER unset); run: eval \"$(scripts/oidc-issuer start)\"")
	return "", false
}

// Request says what the token should claim. Zero fields keep the issuer's
// defaults (its own iss, exp in an hour, nbf ten seconds ago, no sub).
type Request struct {
	Subject  string
	Audience string // default Audience; "-" for none
	ClientID string // "client_id", as Cognito access tokens carry it
	Scope    string // "scope", space separated
	SCP      string // space separated, sent as an "scp" array (and no "scope")
	Issuer   string // overrides "iss"
	KeyID    string // overrides the header's kid (the issuer's key still signs)
	// ExpiresIn and NotBeforeIn set exp and nbf relative to now (either may
	// be negative); zero keeps the default.
	ExpiresIn   time.Duration
	NotBeforeIn time.Duration
}

// Token asks the issuer at issuer for a token (a client_credentials grant
// whose extra fields the issuer script turns into claims).
func Token(t testing.TB, issuer string, r Request) string {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}}
	set := func(k, v string) {
		if v != "" {
			form.Set(k, v)
		}
	}
	switch r.Audience {
	case "":
		form.Set("aud", Audience)
	case "-":
	default:
		form.Set("aud", r.Audience)
	}
	set("sub", r.Subject)
	set("client_id", r.ClientID)
	set("scope", r.Scope)
	set("scp", r.SCP)
	set("iss", r.Issuer)
	set("kid", r.KeyID)
	if r.ExpiresIn != 0 {
		form.Set("exp_in", strconv.Itoa(int(r.ExpiresIn/time.Second)))
	}
	if r.NotBeforeIn != 0 {
		form.Set("nbf_in", strconv.Itoa(int(r.NotBeforeIn/time.Second)))
	}
	client := &http.Client{Timeout: 30 * time.Second}
	// The URL is the test issuer's (TYPEDAPI_TEST_ISSUER), on 127.0.0.1.
	resp, err := client.Post(strings.TrimSuffix(issuer, "/")+"/token", "application/x-www-form-urlencoded", strings.NewReader(form.Encode())) //nolint:gosec // G107: the tests' own issuer

	if err != nil {
		t.Fatalf("test issuer: %v", err)
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != http.StatusOK || body.AccessToken == "" {
		t.Fatalf("test issuer: %s, %v", resp.Status, err)
	}
	return body.AccessToken
}

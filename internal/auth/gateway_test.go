package auth_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/typedapi/typedapi/internal/auth"
	"github.com/typedapi/typedapi/internal/auth/authtest"
	"github.com/typedapi/typedapi/internal/lambdalocal"
	"github.com/typedapi/typedapi/internal/serve"
)

// gatewayEvent is a realistic event of source with authorizer set as the
// requestContext's "authorizer" (nil: none).
func gatewayEvent(t *testing.T, source string, authorizer any, header http.Header) []byte {
	t.Helper()
	raw, err := lambdalocal.Build(lambdalocal.Request{Source: source, Method: "GET", Target: "/whoami", Header: header})
	if err != nil {
		t.Fatal(err)
	}
	var ev map[string]any
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	if authorizer != nil {
		ev["requestContext"].(map[string]any)["authorizer"] = authorizer
	}
	out, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// whoami runs a through the real Lambda glue: it answers with the caller,
// or with the error, as JSON.
func whoami(t *testing.T, a auth.Authenticator, ev []byte) (auth.Caller, string) {
	t.Helper()
	var got auth.Caller
	var gotErr string
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := a.Authenticate(r.Context(), r.Header.Values("Authorization"))
		if err != nil {
			gotErr = err.Error()
			switch {
			case errors.Is(err, auth.ErrNoCredentials):
				gotErr = "no credentials"
			case errors.Is(err, auth.ErrInvalidToken):
				gotErr = "invalid token"
			}
		}
		got = c
		w.WriteHeader(http.StatusNoContent)
	})
	if _, err := serve.NewLambdaHandler(h, serve.LambdaOptions{Logger: quietLogger()}).Invoke(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	return got, gotErr
}

func TestGatewayTrustsTheAuthorizersClaims(t *testing.T) {
	cases := []struct {
		name       string
		source     string
		authorizer any
		sub        string
		scopes     string
		err        string
	}{
		{"HTTP API JWT authorizer", "http", map[string]any{"jwt": map[string]any{
			"claims": map[string]any{"sub": "alice", "iss": "https://issuer.example.com", "scope": "items:write"},
			"scopes": []string{"orders:fulfil"},
		}}, "alice", "[items:write orders:fulfil]", ""},
		{"HTTP API JWT authorizer, scp array flattened", "http", map[string]any{"jwt": map[string]any{
			"claims": map[string]any{"sub": "bob", "scp": "[items:write orders:fulfil]"},
		}}, "bob", "[items:write orders:fulfil]", ""},
		{"HTTP API Lambda authorizer", "http", map[string]any{"lambda": map[string]any{"sub": "carol", "scope": "items:write"}},
			"carol", "[items:write]", ""},
		{"REST Lambda authorizer", "rest", map[string]any{"principalId": "dave", "scope": "orders:fulfil", "integrationLatency": 12},
			"dave", "[orders:fulfil]", ""},
		{"REST Cognito authorizer", "rest", map[string]any{"claims": map[string]any{"sub": "erin", "scope": "items:write", "token_use": "access"}},
			"erin", "[items:write]", ""},
		{"HTTP API JWT authorizer without sub", "http", map[string]any{"jwt": map[string]any{"claims": map[string]any{"iss": "x"}}},
			"", "[]", "invalid token"},
		{"HTTP API without authorizer", "http", nil, "", "[]", "no credentials"},
		{"Function URL", "url", nil, "", "[]", "no credentials"},
		{"ALB", "alb", nil, "", "[]", "no credentials"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// A bearer token is sent too: the gateway's claims win, the
			// token is not read.
			ev := gatewayEvent(t, c.source, c.authorizer, http.Header{"Authorization": {"Bearer not-verified-again"}})
			got, err := whoami(t, auth.Gateway{}, ev)
			if got.Subject != c.sub || fmt.Sprint(got.Scopes) != c.scopes || err != c.err {
				t.Errorf("caller %q %v, error %q; want %q %s, %q", got.Subject, got.Scopes, err, c.sub, c.scopes, c.err)
			}
		})
	}
}

// TestGatewayFallsBackToVerifying: a request no authorizer saw (a second
// front door such as a Function URL) has its token verified.
func TestGatewayFallsBackToVerifying(t *testing.T) {
	issuer, ok := authtest.Issuer(t)
	if !ok {
		t.Skip("no test issuer")
	}
	g := auth.Gateway{Fallback: newVerifier(t, auth.JWTOptions{Issuer: issuer})}
	token := authtest.Token(t, issuer, authtest.Request{Subject: "frank", Scope: "items:write"})
	got, err := whoami(t, g, gatewayEvent(t, "url", nil, http.Header{"Authorization": {"Bearer " + token}}))
	if got.Subject != "frank" || err != "" {
		t.Fatalf("caller %q, error %q; want frank verified", got.Subject, err)
	}
	_, err = whoami(t, g, gatewayEvent(t, "url", nil, http.Header{"Authorization": {"Bearer " + token + "x"}}))
	if err != "invalid token" {
		t.Fatalf("a tampered token: error %q, want invalid token", err)
	}
}

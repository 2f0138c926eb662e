package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/typedapi/typedapi/config"
	"github.com/typedapi/typedapi/internal/auth"
	"github.com/typedapi/typedapi/internal/auth/authtest"
	"github.com/typedapi/typedapi/internal/lambdalocal"
	"github.com/typedapi/typedapi/internal/logsink"
)

// TestAuthModes: which Authenticator each configuration and place gets,
// and what it logs. Only a server no other machine can reach may default
// to off; everything else verifies, or refuses to start.
func TestAuthModes(t *testing.T) {
	issuer := map[string]string{"TYPEDAPI_AUTH_ISSUER": "https://issuer.example.com", "TYPEDAPI_AUTH_AUDIENCE": "shop"}
	with := func(base map[string]string, kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	cases := []struct {
		name     string
		env      map[string]string
		onLambda bool
		want     string // the Authenticator's type, or "refuse"
		warns    bool
	}{
		{"auto, default host (loopback)", nil, false, "auth.Off", true},
		{"auto, ::1", with(nil, "TYPEDAPI_HOST", "::1"), false, "auth.Off", true},
		{"auto, all interfaces", with(nil, "TYPEDAPI_HOST", "0.0.0.0"), false, "refuse", false},
		{"auto, a LAN address", with(nil, "TYPEDAPI_HOST", "192.168.1.10"), false, "refuse", false},
		{"auto, on Lambda", nil, true, "refuse", false},
		{"auto with an issuer", with(issuer, "TYPEDAPI_HOST", "0.0.0.0"), false, "*auth.JWT", false},
		{"auto with an issuer, loopback", issuer, false, "*auth.JWT", false},
		{"auto with an issuer, on Lambda", issuer, true, "*auth.JWT", false},
		{"jwt", with(issuer, "TYPEDAPI_AUTH_MODE", "jwt"), true, "*auth.JWT", false},
		{"off, all interfaces", with(nil, "TYPEDAPI_AUTH_MODE", "off", "TYPEDAPI_HOST", "0.0.0.0"), false, "auth.Off", true},
		{"off, on Lambda", with(nil, "TYPEDAPI_AUTH_MODE", "off"), true, "auth.Off", true},
		{"gateway on Lambda", with(nil, "TYPEDAPI_AUTH_MODE", "gateway"), true, "auth.Gateway", false},
		{"gateway on Lambda with an issuer", with(issuer, "TYPEDAPI_AUTH_MODE", "gateway"), true, "auth.Gateway+jwt", false},
		{"gateway off Lambda", with(nil, "TYPEDAPI_AUTH_MODE", "gateway", "TYPEDAPI_HOST", "0.0.0.0"), false, "refuse", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := config.Load("", func(k string) string { return c.env[k] })
			if err != nil {
				t.Fatal(err)
			}
			var logs bytes.Buffer
			a, err := newAuthenticator(cfg, c.onLambda, cfg.ListensOnLoopbackOnly(), slog.New(slog.NewTextHandler(&logs, nil)))
			got := "refuse"
			switch v := a.(type) {
			case auth.Off:
				got = "auth.Off"
				if v.Caller.Subject != "local-developer" || len(v.Caller.Scopes) == 0 {
					t.Errorf("local caller = %+v, want local-developer with every scope", v.Caller)
				}
			case *auth.JWT:
				got = "*auth.JWT"
			case auth.Gateway:
				got = "auth.Gateway"
				if _, ok := v.Fallback.(*auth.JWT); ok {
					got += "+jwt"
				}
			}
			if got != c.want {
				t.Fatalf("got %s (err %v), want %s", got, err, c.want)
			}
			if c.want == "refuse" && (err == nil || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "TYPEDAPI_AUTH_")) {
				t.Errorf("refusal %q: want one line naming the keys to set", err)
			}
			warned := strings.Contains(logs.String(), "level=WARN") && strings.Contains(logs.String(), "authentication is off")
			if warned != c.warns {
				t.Errorf("warned = %v, want %v; logs:\n%s", warned, c.warns, logs.String())
			}
		})
	}
}

// TestStartRefusesAnOpenServer runs the program: listening on every
// interface with no issuer, it exits with the one line, and never listens.
func TestStartRefusesAnOpenServer(t *testing.T) {
	for name, env := range map[string]map[string]string{
		"container":                      {"TYPEDAPI_HOST": "0.0.0.0", "TYPEDAPI_PORT": "0"},
		"lambda":                         {"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9"},
		"gateway tool on all interfaces": {"_ARGS": "gateway --addr 0.0.0.0:0"},
	} {
		t.Run(name, func(t *testing.T) {
			listened := false
			ctx := context.WithValue(context.Background(), readyHookKey{}, func(net.Addr) { listened = true })
			var args []string
			if a := env["_ARGS"]; a != "" {
				args = strings.Fields(a)
			}
			var stderr bytes.Buffer
			err := run(ctx, args, func(k string) string { return env[k] }, strings.NewReader(""), io.Discard, &stderr)
			if err == nil || !strings.Contains(err.Error(), "TYPEDAPI_AUTH_ISSUER") || listened {
				t.Fatalf("run = %v (listened %v), want a refusal naming TYPEDAPI_AUTH_ISSUER", err, listened)
			}
		})
	}
}

// TestLocalOffWarnsAtStart: the newcomer's `go run ./cmd/api` serves with
// auth off on 127.0.0.1 and says so in its log at start-up.
func TestLocalOffWarnsAtStart(t *testing.T) {
	var logs logsink.Buffer
	addrs := make(chan string, 1)
	ctx, cancel := context.WithCancel(context.WithValue(context.Background(), readyHookKey{}, func(net.Addr) { addrs <- "ready" }))
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, nil, func(k string) string {
			return map[string]string{"TYPEDAPI_PORT": "0", "TYPEDAPI_LOG_FORMAT": "text"}[k]
		}, strings.NewReader(""), &logs, io.Discard)
	}()
	select {
	case <-addrs:
	case err := <-done:
		t.Fatalf("run returned: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("did not start")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if s := logs.String(); !strings.Contains(s, "level=WARN") || !strings.Contains(s, "authentication is off") || !strings.Contains(s, "host=127.0.0.1") {
		t.Fatalf("no start-up warning that auth is off:\n%s", s)
	}
}

// TestPublicOperationsFetchNoKeys: with an issuer configured, serving
// public operations (and the docs) fetches neither discovery nor keys, as
// a Lambda cold start must not.
func TestPublicOperationsFetchNoKeys(t *testing.T) {
	var fetches atomic.Int64
	issuer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		http.NotFound(w, r)
	}))
	defer issuer.Close()
	h := newLambda(t, io.Discard, map[string]string{
		"TYPEDAPI_AUTH_MODE": "auto", "TYPEDAPI_AUTH_ISSUER": issuer.URL, "TYPEDAPI_AUTH_AUDIENCE": authtest.Audience,
	})
	for _, path := range []string{"/healthz", "/readyz", "/v1/items", "/openapi.json", "/docs"} {
		resp := invokeRaw(t, h, mustEvent(t, lambdalocal.Request{Source: "http", Method: "GET", Target: path}))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d", path, resp.StatusCode)
		}
	}
	if n := fetches.Load(); n != 0 {
		t.Fatalf("%d requests to the issuer while serving public operations, want 0", n)
	}
}

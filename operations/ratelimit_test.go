package operations_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/typedapi/typedapi/internal/auth"
	"github.com/typedapi/typedapi/operations"
	"github.com/typedapi/typedapi/store/memory"
)

// clock is a settable time for the limiter.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// from sends a request as the client at addr, with the verified caller
// subject when it is not "".
func from(h http.Handler, method, target, body, addr, subject string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	req.RemoteAddr = addr
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if subject != "" {
		req = req.WithContext(auth.WithCaller(req.Context(), auth.Caller{Subject: subject}))
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// TestRateLimit: each client gets its burst, then a 429 problem with
// Retry-After and the RateLimit fields, until its bucket refills; other
// clients and the health checks are not affected, and a refused write
// writes nothing.
func TestRateLimit(t *testing.T) {
	clk := &clock{t: time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC)}
	store := memory.New()
	h, _ := newHandler(t, operations.Options{RateLimit: 0.5, RateBurst: 3, Now: clk.now}, store)
	const a, b = "198.51.100.1:1000", "198.51.100.2:1000"

	for i := range 3 {
		rec := from(h, "GET", "/v1/items", "", a, "")
		if rec.Code != 200 {
			t.Fatalf("request %d of the burst: %d %s", i+1, rec.Code, rec.Body)
		}
		if got, want := rec.Header().Get("RateLimit"), fmt.Sprintf(`"per-client";r=%d`, 2-i); got != want {
			t.Errorf("request %d: RateLimit %q, want %q", i+1, got, want)
		}
	}
	rec := from(h, "POST", "/v1/items", validBody, a, "")
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Content-Type") != "application/problem+json" {
		t.Fatalf("over the burst: %d %s", rec.Code, rec.Body)
	}
	for name, want := range map[string]string{
		"Retry-After":      "2",
		"RateLimit":        `"per-client";r=0;t=2`,
		"RateLimit-Policy": `"per-client";q=3;w=6`,
	} {
		if got := rec.Header().Get(name); got != want {
			t.Errorf("%s %q, want %q", name, got, want)
		}
	}
	var p struct {
		Status int
		Detail string
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || p.Status != 429 || !strings.Contains(p.Detail, "Retry-After") {
		t.Errorf("problem %s", rec.Body)
	}
	if list := from(h, "GET", "/v1/items", "", b, ""); list.Code != 200 || strings.Contains(list.Body.String(), `"id"`) {
		t.Errorf("another client: %d %s (the refused create must write nothing)", list.Code, list.Body)
	}
	for range 20 {
		for _, path := range []string{"/healthz", "/readyz"} {
			if rec := from(h, "GET", path, "", a, ""); rec.Code != 200 || rec.Header().Get("RateLimit") != "" {
				t.Fatalf("%s was limited: %d %v", path, rec.Code, rec.Header())
			}
		}
	}
	// A client error after the limiter carries the fields too.
	if rec := from(h, "GET", "/v1/items/NOT-AN-ID", "", b, ""); rec.Code != 422 || rec.Header().Get("RateLimit") != `"per-client";r=1` {
		t.Errorf("422: %d RateLimit %q", rec.Code, rec.Header().Get("RateLimit"))
	}
	clk.add(1900 * time.Millisecond)
	if rec := from(h, "GET", "/v1/items", "", a, ""); rec.Code != 429 || rec.Header().Get("Retry-After") != "1" {
		t.Errorf("before a token is back: %d Retry-After %q", rec.Code, rec.Header().Get("Retry-After"))
	}
	clk.add(100 * time.Millisecond)
	if rec := from(h, "HEAD", "/v1/items", "", a, ""); rec.Code != 200 {
		t.Errorf("once a token is back: %d", rec.Code)
	}
	if rec := from(h, "GET", "/v1/items", "", a, ""); rec.Code != 429 {
		t.Errorf("the token was spent: %d", rec.Code)
	}
}

// TestRateLimitKeys: a verified caller is limited by subject wherever it
// calls from; requests without one by IP (an IPv6 client by its /64); with
// auth switched off, by IP whatever the caller.
func TestRateLimitKeys(t *testing.T) {
	cases := []struct {
		name       string
		opts       operations.Options
		first      [2]string // addr, subject of the request that spends the bucket
		second     [2]string // the next request
		sameBucket bool
	}{
		{"same IP", operations.Options{}, [2]string{"198.51.100.1:1", ""}, [2]string{"198.51.100.1:2", ""}, true},
		{"other IP", operations.Options{}, [2]string{"198.51.100.1:1", ""}, [2]string{"198.51.100.9:1", ""}, false},
		{"IPv6 same /64", operations.Options{}, [2]string{"[2001:db8:1:2::1]:1", ""}, [2]string{"[2001:db8:1:2:ffff::9]:1", ""}, true},
		{"IPv6 other /64", operations.Options{}, [2]string{"[2001:db8:1:2::1]:1", ""}, [2]string{"[2001:db8:1:3::1]:1", ""}, false},
		{"same caller, other IPs", operations.Options{}, [2]string{"198.51.100.1:1", "alice"}, [2]string{"198.51.100.9:1", "alice"}, true},
		{"other callers, same IP", operations.Options{}, [2]string{"198.51.100.1:1", "alice"}, [2]string{"198.51.100.1:1", "bob"}, false},
		{"caller, then anonymous on the same IP", operations.Options{}, [2]string{"198.51.100.1:1", "alice"}, [2]string{"198.51.100.1:1", ""}, false},
		{"auth off: by IP", operations.Options{Auth: auth.Off{Caller: auth.Caller{Subject: "local"}}}, [2]string{"198.51.100.1:1", "local"}, [2]string{"198.51.100.9:1", "local"}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			opts := c.opts
			if opts.Auth == nil {
				opts.Auth = newFakeAuth() // verifies: its callers are keyed by subject
			}
			opts.RateLimit, opts.RateBurst = 0.001, 1
			h, _ := newHandler(t, opts, nil)
			if rec := from(h, "GET", "/v1/items", "", c.first[0], c.first[1]); rec.Code != 200 {
				t.Fatalf("first: %d", rec.Code)
			}
			rec := from(h, "GET", "/v1/items", "", c.second[0], c.second[1])
			if limited := rec.Code == http.StatusTooManyRequests; limited != c.sameBucket {
				t.Errorf("second answered %d; same bucket: %v", rec.Code, c.sameBucket)
			}
		})
	}
}

// TestRateLimitOff: with no rate_limit (the default) nobody is limited.
func TestRateLimitOff(t *testing.T) {
	h, _ := newHandler(t, operations.Options{}, nil)
	for range 200 {
		if rec := from(h, "GET", "/v1/items", "", "198.51.100.1:1", ""); rec.Code != 200 {
			t.Fatalf("limited with no limit: %d", rec.Code)
		}
	}
}

// TestRateLimitDeclared: every operation but the health checks declares
// 429 with Retry-After and the RateLimit fields, whether or not the server
// limits.
func TestRateLimitDeclared(t *testing.T) {
	_, api := operations.New(operations.Options{}, operations.StoresOf(memory.New()))
	n := 0
	for path, item := range api.OpenAPI().Paths {
		for method, op := range map[string]*huma.Operation{"GET": item.Get, "HEAD": item.Head, "POST": item.Post, "PUT": item.Put, "PATCH": item.Patch, "DELETE": item.Delete} {
			if op == nil {
				continue
			}
			resp := op.Responses["429"]
			if path == "/healthz" || path == "/readyz" {
				if resp != nil {
					t.Errorf("%s %s: a health check declares 429", method, path)
				}
				continue
			}
			n++
			if resp == nil {
				t.Errorf("%s %s: no 429", method, path)
				continue
			}
			for _, h := range []string{"Retry-After", "RateLimit", "RateLimit-Policy"} {
				if resp.Headers[h] == nil {
					t.Errorf("%s %s: 429 lacks %s", method, path, h)
				}
			}
			for code, resp := range op.Responses {
				if code[0] == '2' || code[0] == '4' {
					if resp.Headers["RateLimit"] == nil {
						t.Errorf("%s %s: %s lacks the RateLimit fields", method, path, code)
					}
				}
			}
		}
	}
	if n < 10 {
		t.Errorf("only %d limited operations", n)
	}
}

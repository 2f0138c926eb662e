package middleware

import (
	"context"
	"net/http"
	"slices"
	"strings"
)

// SecurityHeaders sets the headers every answer carries unless the handler
// replaces them. For a JSON answer three matter: nosniff stops a browser
// from reading it as HTML or script; the Content-Security-Policy forbids
// everything should it be rendered anyway, and forbids framing
// (frame-ancestors supersedes X-Frame-Options, which the /docs page still
// sends for older browsers); no-store keeps answers out of shared caches.
// Referrer-Policy governs the requests a document makes: a JSON answer
// makes none, and the /docs page states its own. (Every header here is
// paid for on every answer: net/http copies the header map when the status
// is written.) The docs assets set their own Cache-Control and
// Content-Security-Policy.
func SecurityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The keys are already canonical, so they are set directly rather
		// than through Header.Set, and the values share one array (each
		// slice is capped, so an Add elsewhere copies instead of writing
		// into its neighbour).
		h := w.Header()
		v := &[...]string{"nosniff", "default-src 'none'; frame-ancestors 'none'", "no-store"}
		h["X-Content-Type-Options"] = v[0:1:1]
		h["Content-Security-Policy"] = v[1:2:2]
		h["Cache-Control"] = v[2:3:3]
		next.ServeHTTP(w, r)
	})
}

// CORS allows cross-origin calls from an exact list of origins and answers
// their preflight requests. With no origins it adds nothing: browsers then
// refuse cross-origin reads, the safe default.
func CORS(origins []string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		if len(origins) == 0 {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			h.Add("Vary", "Origin")
			origin := r.Header.Get("Origin")
			if origin == "" || !slices.Contains(origins, origin) {
				next.ServeHTTP(w, r)
				return
			}
			h.Set("Access-Control-Allow-Origin", origin)
			// WWW-Authenticate: a page must be able to tell an expired token
			// from a missing scope (RFC 6750).
			h.Set("Access-Control-Expose-Headers", "ETag, Location, Link, X-Request-Id, Retry-After, Idempotent-Replayed, WWW-Authenticate, RateLimit, RateLimit-Policy")
			if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
				h.Add("Vary", "Access-Control-Request-Method, Access-Control-Request-Headers")
				h.Set("Access-Control-Allow-Methods", "GET, HEAD, POST, PUT, PATCH, DELETE")
				// Authorization carries the bearer token; no credentials mode
				// (cookies) is allowed, only the explicit header. A fetch-based
				// event stream client resumes with Last-Event-ID.
				h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, If-Match, If-None-Match, Idempotency-Key, Last-Event-ID, X-Request-Id")
				h.Set("Access-Control-Max-Age", "600")
				w.WriteHeader(http.StatusNoContent)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

const mountPrefixKey ctxKey = 100

// MountPrefix is the part of the request path in front of the API's own
// routes (a configured base path, a gateway stage): links the API hands out
// must start with it to work for the client.
func MountPrefix(ctx context.Context) string {
	p, _ := ctx.Value(mountPrefixKey).(string)
	return p
}

// WithMountPrefix returns ctx with prefix appended to its mount prefix.
func WithMountPrefix(ctx context.Context, prefix string) context.Context {
	return context.WithValue(ctx, mountPrefixKey, MountPrefix(ctx)+prefix)
}

// StripPrefix removes base (e.g. "/shop") from the front of request paths
// and remembers it as the mount prefix. Requests without it pass unchanged,
// so a load balancer's health check on /healthz still reaches the API.
func StripPrefix(base string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		if base == "" {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rest, ok := strings.CutPrefix(r.URL.Path, base)
			if !ok || (rest != "" && rest[0] != '/') {
				next.ServeHTTP(w, r)
				return
			}
			if rest == "" {
				rest = "/"
			}
			r2 := r.WithContext(WithMountPrefix(r.Context(), base))
			u := *r.URL
			u.Path = rest
			if raw, ok := strings.CutPrefix(u.RawPath, base); ok {
				u.RawPath = raw
			} else {
				u.RawPath = ""
			}
			r2.URL = &u
			next.ServeHTTP(w, r2)
		})
	}
}

// HeadWithoutBody answers HEAD with the headers GET would send and no body.
// net/http's server drops such a body itself, but the Lambda adapter
// records whatever is written.
func HeadWithoutBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead {
			w = headWriter{w}
		}
		next.ServeHTTP(w, r)
	})
}

type headWriter struct{ http.ResponseWriter }

func (headWriter) Write(b []byte) (int, error) { return len(b), nil }

// Unwrap lets http.ResponseController reach the real writer.
func (h headWriter) Unwrap() http.ResponseWriter { return h.ResponseWriter }

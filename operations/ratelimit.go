package operations

import (
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"github.com/typedapi/typedapi/internal/auth"
	"github.com/typedapi/typedapi/internal/middleware"
	"github.com/typedapi/typedapi/internal/ratelimit"
)

// The per-client rate limit (Options.RateLimit, RateBurst): a token bucket
// per client, checked by an operation middleware before the handler runs,
// so a 429 never hides a write that was made. It runs after authentication
// and keys a request by its verified caller's subject; a request without
// one (a public operation, auth switched off) by its client IP, which only
// a trusted proxy can forward (middleware.Forwarding). IPv6 clients are
// keyed by their /64, which one host can rotate addresses within.
//
// It is an operation middleware rather than HTTP middleware so that it can
// key by caller; what is not an operation (the document, /docs, schemas,
// unknown paths) is not limited. The health checks are exempt: a load
// balancer polls them from a few addresses.

// rateLimitExempt are the operations never limited.
var rateLimitExempt = map[string]bool{"get-liveness": true, readinessOperation: true}

// rateLimitPolicy names the one policy in the RateLimit fields.
const rateLimitPolicy = `"per-client"`

// tooManyDetail is the detail of every 429.
const tooManyDetail = "This client sent more requests than the rate limit allows; retry after the seconds in Retry-After."

// rateLimiter is the limit of one API, nil when it has none.
type rateLimiter struct {
	lim    *ratelimit.Limiter
	policy string // the RateLimit-Policy value
	// remaining holds the RateLimit field for each quota left, made once
	// (for bursts up to maxPremade) so that an answer costs no formatting;
	// each is capped, so an Add elsewhere copies it instead of writing into it.
	remaining [][]string
	byIP      bool // auth is switched off: every request has the same caller
	now       func() time.Time
}

// maxPremade bounds the premade RateLimit fields (about 40 bytes each).
const maxPremade = 4096

func newRateLimiter(opts Options) *rateLimiter {
	if opts.RateLimit <= 0 {
		return nil
	}
	burst := max(opts.RateBurst, 1)
	window := max(int64(math.Ceil(float64(burst)/opts.RateLimit)), 1)
	_, off := opts.Auth.(auth.Off)
	policy := rateLimitPolicy + ";q=" + strconv.Itoa(burst) + ";w=" + strconv.FormatInt(window, 10)
	rl := &rateLimiter{
		lim:    ratelimit.New(ratelimit.Options{Rate: opts.RateLimit, Burst: burst}),
		policy: policy,
		byIP:   off,
		now:    opts.Now,
	}
	rl.remaining = make([][]string, min(burst, maxPremade)+1)
	for r := range rl.remaining {
		rl.remaining[r] = []string{rateLimitField(r)}[:1:1]
	}
	return rl
}

func rateLimitField(remaining int) string {
	return rateLimitPolicy + ";r=" + strconv.Itoa(remaining)
}

// middleware answers 429 to a client over its limit, or passes the request
// on with the quota it has left in RateLimit, so a client can slow down
// before it is refused. RateLimit-Policy, which does not change, comes
// with the 429 (and the document).
func (rl *rateLimiter) middleware(api huma.API) func(huma.Context, func(huma.Context)) {
	return func(ctx huma.Context, next func(huma.Context)) {
		r, w := humago.Unwrap(ctx)
		d := rl.lim.Allow(rl.key(ctx, r), rl.now())
		if d.Allowed {
			// The canonical key, set directly: this runs on every request.
			if d.Remaining < len(rl.remaining) {
				w.Header()["Ratelimit"] = rl.remaining[d.Remaining]
			} else {
				w.Header()["Ratelimit"] = []string{rateLimitField(d.Remaining)}
			}
			next(ctx)
			return
		}
		wait := strconv.FormatInt(max(int64(math.Ceil(d.RetryAfter.Seconds())), 1), 10)
		ctx.SetHeader("Retry-After", wait)
		ctx.SetHeader("RateLimit", rateLimitPolicy+";r=0;t="+wait)
		ctx.SetHeader("RateLimit-Policy", rl.policy)
		_ = huma.WriteErr(api, ctx, http.StatusTooManyRequests, tooManyDetail)
	}
}

// key is the verified caller's subject, or the client's IP (its /64 for
// IPv6). The two cannot collide: no IP starts with "sub:".
func (rl *rateLimiter) key(ctx huma.Context, r *http.Request) string {
	if !rl.byIP {
		if c, ok := auth.CallerFrom(ctx.Context()); ok && c.Subject != "" {
			return "sub:" + c.Subject
		}
	}
	ip := middleware.ClientIP(r)
	if a, err := netip.ParseAddr(ip); err == nil && a.Is6() && !a.Is4In6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return ip
}

// rateLimited says whether op is limited (and so declares 429).
func rateLimited(op *huma.Operation) bool { return !rateLimitExempt[op.OperationID] }

// declareRateLimitFields documents RateLimit on every success and
// client-error response of a limited operation: what the limiter adds to
// every answer it lets through (its 429, which problemDocs describes, has
// the policy too).
func declareRateLimitFields(api huma.API) {
	for _, item := range api.OpenAPI().Paths {
		for _, op := range []*huma.Operation{item.Get, item.Put, item.Post, item.Delete, item.Patch} {
			if op == nil || !rateLimited(op) {
				continue
			}
			for code, resp := range op.Responses {
				if code == "429" || !(strings.HasPrefix(code, "2") || strings.HasPrefix(code, "4")) {
					continue
				}
				if resp.Headers == nil {
					resp.Headers = map[string]*huma.Param{}
				}
				resp.Headers["RateLimit"] = rateLimitHeader
			}
		}
	}
}

var rateLimitHeader = responseHeader("With rate_limit on: the requests (r) this client may still make at once; the policy is in the 429's RateLimit-Policy.", rateLimitPolicy+";r=17")

var rateLimitPolicyHeader = responseHeader("With rate_limit on: a quota of q requests at once, restored in full over w seconds.", rateLimitPolicy+";q=20;w=2")

// Package operations is the API surface: it builds the huma.API (config,
// docs, error model, middleware), maps every route in routes.go, and holds
// one file per resource. It depends only on models and on the store
// interfaces each resource declares (ItemStore, OrderStore); runtimes (HTTP server, Lambda) take the
// http.Handler it returns.
package operations

import (
	"log/slog"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"github.com/typedapi/typedapi/internal/auth"
	"github.com/typedapi/typedapi/internal/middleware"
)

// Options are the settings the API needs; zero values get sane defaults.
type Options struct {
	Title          string        // service name shown in /docs and at /
	Version        string        // build version shown in /docs and at /
	BodyLimit      int64         // largest request body in bytes (default 1 MiB)
	IdempotencyTTL time.Duration // how long an Idempotency-Key is remembered (default 24h)
	CursorSecret   string        // key that signs list cursors
	CORSOrigins    []string      // exact origins allowed cross-origin
	BasePath       string        // mount prefix stripped from request paths
	Logger         *slog.Logger

	// TrustedProxies are the peers whose X-Forwarded-For and
	// X-Forwarded-Proto (or Forwarded) are believed; none by default.
	TrustedProxies []netip.Prefix
	// PublicBaseURL, when set, starts every URL the API hands out
	// (`$schema`, the spec's servers) instead of the request's own Host.
	PublicBaseURL string
	// RateLimit is the requests per second each client may make (0: no
	// limit), after a burst of RateBurst (ratelimit.go).
	RateLimit float64
	RateBurst int
	Now       func() time.Time // clock, for tests

	// ExportConcurrency caps the exports running at once (default 4);
	// beyond it an export is refused with 503 and Retry-After (export.go).
	ExportConcurrency int
	// StreamWriteTimeout is how long writing one page of an export or one
	// event may take (default 30s); each moves the server's write deadline
	// that far ahead, so a long stream outlives the server's WriteTimeout
	// and a client that stops reading does not.
	StreamWriteTimeout time.Duration
	// EventsMaxDuration ends an event stream (default 5m): the client
	// reconnects with Last-Event-ID. On Lambda, which is not told when a
	// client goes away, it and the invocation's deadline end the work.
	EventsMaxDuration time.Duration
	// EventsHeartbeat is how often a quiet event stream sends a comment
	// (default 15s), so that proxies keep it open.
	EventsHeartbeat time.Duration
	// EventsPollInterval is how often an event stream reads the store
	// (default 2s): it sees the changes any instance made.
	EventsPollInterval time.Duration

	exports exportSlots // made by New from ExportConcurrency

	// Auth verifies the callers of operations that declare security. Nil
	// refuses them all (401): a server is never open by omission.
	Auth auth.Authenticator

	limiter *rateLimiter // made by New from RateLimit and RateBurst

	// Lazy registers each operation with Huma on its first request rather
	// than in New (a shorter Lambda cold start; lazy.go). Off, a mistake
	// in an operation's types panics in New, where tests and start-up see it.
	Lazy bool
}

func (o *Options) setDefaults() {
	if o.Title == "" {
		o.Title = "typedapi"
	}
	if o.Version == "" {
		o.Version = "dev"
	}
	if o.BodyLimit <= 0 {
		o.BodyLimit = 1 << 20
	}
	if o.IdempotencyTTL <= 0 {
		o.IdempotencyTTL = 24 * time.Hour
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.ExportConcurrency <= 0 {
		o.ExportConcurrency = 4
	}
	if o.StreamWriteTimeout <= 0 {
		o.StreamWriteTimeout = 30 * time.Second
	}
	if o.EventsMaxDuration <= 0 {
		o.EventsMaxDuration = 5 * time.Minute
	}
	if o.EventsHeartbeat <= 0 {
		o.EventsHeartbeat = 15 * time.Second
	}
	if o.EventsPollInterval <= 0 {
		o.EventsPollInterval = 2 * time.Second
	}
}

// strictFieldNames sets Huma's case-sensitive validation once (see New).
var strictFieldNames sync.Once

// New builds the API on stores and returns the complete http.Handler
// (middleware included) and the huma.API (for printing the spec; with
// Options.Lazy its document holds only what has been registered so far).
func New(opts Options, stores Stores) (http.Handler, huma.API) {
	if stores.Orders != nil && stores.Items == nil {
		panic("operations: orders need the item store (Stores.Items) to read the item they name")
	}
	opts.setDefaults()
	opts.limiter = newRateLimiter(opts)
	opts.exports = make(exportSlots, opts.ExportConcurrency)
	mux := newRouter(opts.Lazy)
	fw := middleware.NewForwarding(opts.TrustedProxies, opts.PublicBaseURL)
	api := humago.New(mux, apiConfig(opts, fw))
	installErrorModel()
	strictFieldNames.Do(func() {
		// Huma matches body members to schema properties ignoring case
		// unless told not to, while the JSON format (jsonbody.go) reads
		// names exactly: {"NAME":…} would pass validation and then be
		// dropped, and {"name":…,"Name":…} be one name to the validator
		// and two to the decoder. (A process-wide Huma setting.)
		huma.ValidateStrictCasing = true
	})
	addRoutes(api, mux, opts, stores, fw)

	handler := middleware.Chain(mux,
		fw.Handler, // outside the access log, which names the client it finds
		middleware.AccessLog(opts.Logger),
		middleware.RequestIDs,
		middleware.Recover(opts.Logger),
		middleware.StripPrefix(opts.BasePath),
		middleware.HeadWithoutBody,
		middleware.SecurityHeaders,
		middleware.CORS(opts.CORSOrigins),
		middleware.RefuseBadRequestID,
	)
	return handler, api
}

// apiConfig is Huma's configuration: OpenAPI 3.1 at /openapi.json (and
// .yaml, -3.0.json for older tools), JSON Schemas at /schemas, and no
// built-in docs page — ours is served from embedded assets (swaggerui).
func apiConfig(opts Options, fw *middleware.Forwarding) huma.Config {
	cfg := huma.DefaultConfig(opts.Title, opts.Version)
	cfg.Info.Description = "A typed API of items and their orders. Every operation's input and output are Go structs: " +
		"they drive routing, validation (422 with the location and reason of each failing field), " +
		"RFC 9457 problem+json errors and this document.\n\n" +
		"Conditional requests: `GET /v1/items/{id}` and `GET /v1/orders/{id}` return an `ETag`; send it back in `If-None-Match` " +
		"to get 304, or in `If-Match` on PUT, PATCH and DELETE to fail with 412 if someone else changed the resource."
	cfg.Formats = jsonFormats(cfg.Formats)
	cfg.DocsPath = ""    // ours: swaggerui, from embedded assets
	cfg.OpenAPIPath = "" // ours: specHandler, with per-request servers
	cfg.CreateHooks = []func(huma.Config) huma.Config{schemaLinks(fw)}
	// Each resource adds its own tag with its routes (routes.go).
	cfg.Tags = []*huma.Tag{
		{Name: "Service", Description: "What this service is and whether it is healthy."},
	}
	return cfg
}

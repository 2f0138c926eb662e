// Package tracing makes the OpenTelemetry traces: a server span per request
// (otelhttp), W3C traceparent read and written, on Lambda the invocation id
// and a link to X-Ray's trace, and an OTLP exporter configured by the
// standard OTEL_* variables. Off (the default) it makes no spans: a valid
// incoming traceparent is still read, so its trace id is logged and passed on.
// The SDK's part is in sdk.go; a build with the notracing tag (the CDK app's
// default Lambda bootstrap) has nosdk.go instead, links no SDK and stays off;
// there the trace id is logged but not sent on to DynamoDB.
// docs/OBSERVABILITY.md says what is emitted and what it costs.
package tracing

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Propagator reads and writes W3C trace context (traceparent, tracestate).
var Propagator propagation.TextMapPropagator = propagation.TraceContext{}

// Enabled reports whether the environment asks for traces: an OTLP
// endpoint (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)
// or OTEL_TRACES_EXPORTER=otlp, unless OTEL_SDK_DISABLED=true or
// OTEL_TRACES_EXPORTER=none.
func Enabled(getenv func(string) string) bool {
	if strings.EqualFold(getenv("OTEL_SDK_DISABLED"), "true") {
		return false
	}
	switch strings.ToLower(strings.TrimSpace(getenv("OTEL_TRACES_EXPORTER"))) {
	case "none":
		return false
	case "otlp":
		return true
	}
	return getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
}

// Tracing is the process's tracer provider: the SDK's with an OTLP
// exporter when on, a no-op one when off.
type Tracing struct {
	provider trace.TracerProvider
	sdk      sdk // the SDK's state (sdk.go), or nothing in a notracing build (nosdk.go)
	drops    *dropLog

	// On Lambda: after a flush that failed or timed out, flushes are
	// skipped for a minute, so a collector that hangs costs one bounded
	// wait, not one per invocation.
	skipFlushUntil atomic.Int64
	flushTimeout   time.Duration
}

// Options are what Setup needs besides the environment.
type Options struct {
	ServiceVersion string
	Logger         *slog.Logger
	// FlushTimeout bounds Flush (Lambda, per invocation); default 500ms.
	FlushTimeout time.Duration
	// MaxQueue bounds the spans waiting for export; beyond it spans are
	// dropped and counted. Default 2048 (OTEL_BSP_MAX_QUEUE_SIZE).
	MaxQueue int
}

// Setup builds the tracer provider the environment asks for, and makes it
// OpenTelemetry's global one. The exporter (OTLP/HTTP JSON, otlpjson.go and
// otlphttp.go) reads OTEL_EXPORTER_OTLP_*; the sampler reads
// OTEL_TRACES_SAMPLER(_ARG) and the batch processor OTEL_BSP_*. Nothing
// touches the network here: the exporter connects on its first export. A
// build with the notracing tag has no SDK: it says so once and stays off.
func Setup(ctx context.Context, getenv func(string) string, opts Options) (*Tracing, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.FlushTimeout <= 0 {
		opts.FlushTimeout = 500 * time.Millisecond
	}
	t := &Tracing{provider: noop.NewTracerProvider(), drops: &dropLog{logger: opts.Logger, every: time.Minute}, flushTimeout: opts.FlushTimeout}
	if Enabled(getenv) {
		if err := t.start(ctx, getenv, opts); err != nil {
			return nil, err
		}
	}
	installGlobal(t.provider)
	return t, nil
}

// On reports whether spans are made.
func (t *Tracing) On() bool { return t.sdk.on() }

// TracerProvider is the SDK's provider, or a no-op one when off.
func (t *Tracing) TracerProvider() trace.TracerProvider { return t.provider }

// Shutdown exports what is queued (within ctx) and stops the exporter.
func (t *Tracing) Shutdown(ctx context.Context) error {
	defer t.drops.flush()
	if !t.On() {
		return nil
	}
	return t.shutdown(ctx)
}

// Flush exports the finished spans within FlushTimeout (Lambda freezes the
// process once an invocation's answer is returned, so spans left queued
// would wait for the next invocation, or be lost with the environment).
func (t *Tracing) Flush(ctx context.Context) {
	if !t.On() || time.Now().UnixNano() < t.skipFlushUntil.Load() {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), t.flushTimeout)
	defer cancel()
	if err := t.forceFlush(ctx); err != nil {
		t.skipFlushUntil.Store(time.Now().Add(time.Minute).UnixNano())
		t.drops.note(fmt.Errorf("flush after the invocation: %w (flushes skipped for a minute)", err))
	}
}

// Handler makes the server span of each sampled request (otelhttp, which
// also reads traceparent), adds the Lambda invocation to it, and links it
// to X-Ray's trace; requests the sampler drops get a trace id and no span
// (sampleFirst). Off, it only reads a valid traceparent into the context.
// The span is named "METHOD" here; the access log renames it "METHOD
// route" once the router has matched (middleware.AccessLog).
func (t *Tracing) Handler(next http.Handler) http.Handler {
	if !t.On() {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if ctx := extract(r.Context(), r.Header); ctx != r.Context() {
				r = r.WithContext(ctx)
			}
			next.ServeHTTP(w, r)
		})
	}
	return t.sdkHandler(next)
}

// extract reads the W3C trace context a request sent, if any: ctx itself
// when it sent none, or none that is valid.
func extract(ctx context.Context, h http.Header) context.Context {
	if _, ok := h["Traceparent"]; !ok {
		return ctx
	}
	return Propagator.Extract(ctx, headerCarrier(h))
}

// headerCarrier is propagation.HeaderCarrier, but for the two W3C headers
// it looks up their canonical names itself: http.Header.Get canonicalises
// the propagator's lowercase names, a new string on each call, and that was
// a fifth of what reading a traceparent cost (docs/PERFORMANCE.md).
type headerCarrier http.Header

func (c headerCarrier) Get(key string) string {
	var vs []string
	switch key {
	case "traceparent":
		vs = c["Traceparent"]
	case "tracestate":
		vs = c["Tracestate"]
	default:
		return http.Header(c).Get(key)
	}
	if len(vs) == 0 {
		return ""
	}
	return vs[0]
}

func (c headerCarrier) Set(key, value string) { http.Header(c).Set(key, value) }
func (c headerCarrier) Keys() []string        { return propagation.HeaderCarrier(c).Keys() }

// dropLog counts dropped spans and says so at most once per period, with
// the count since its previous line and the latest error.
type dropLog struct {
	logger *slog.Logger
	every  time.Duration

	mu      sync.Mutex
	last    time.Time
	pending int
	total   int
	lastErr error
}

// Dropped is how many spans were dropped since the process started.
func (t *Tracing) Dropped() int {
	t.drops.mu.Lock()
	defer t.drops.mu.Unlock()
	return t.drops.total
}

// note records an error that is not itself a drop (the SDK's reports).
func (d *dropLog) note(err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.lastErr = err
	d.maybeLog(false)
}

func (d *dropLog) flush() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.maybeLog(true)
}

func (d *dropLog) maybeLog(force bool) {
	if d.lastErr == nil && d.pending == 0 {
		return
	}
	now := time.Now()
	if !force && !d.last.IsZero() && now.Sub(d.last) < d.every {
		return
	}
	msg := ""
	if d.lastErr != nil {
		msg = d.lastErr.Error()
	}
	d.logger.Warn("trace export failing; spans dropped", "dropped", d.pending, "dropped_total", d.total, "error", msg)
	d.last, d.pending, d.lastErr = now, 0, nil
}

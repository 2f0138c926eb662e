// Package tracing makes the OpenTelemetry traces: a server span per request
// (otelhttp), W3C traceparent read and written, on Lambda the invocation id
// and a link to X-Ray's trace, and an OTLP exporter configured by the
// standard OTEL_* variables. Off (the default) it makes no spans: a valid
// incoming traceparent is still read, so its trace id is logged and passed on.
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

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/contrib/propagators/aws/xray"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/typedapi/typedapi/internal/requestinfo"
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
	sdk      *sdktrace.TracerProvider // nil when off
	gate     *gate
	drops    *dropLog
	sampler  sdktrace.Sampler

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

// Setup builds the tracer provider the environment asks for. The exporter
// (OTLP/HTTP JSON, otlpjson.go and otlphttp.go) reads OTEL_EXPORTER_OTLP_*; the sampler reads
// OTEL_TRACES_SAMPLER(_ARG) and the batch processor OTEL_BSP_*. Nothing
// touches the network here: the exporter connects on its first export.
func Setup(ctx context.Context, getenv func(string) string, opts Options) (*Tracing, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.FlushTimeout <= 0 {
		opts.FlushTimeout = 500 * time.Millisecond
	}
	t := &Tracing{provider: noop.NewTracerProvider(), drops: &dropLog{logger: opts.Logger, every: time.Minute}, flushTimeout: opts.FlushTimeout}
	if !Enabled(getenv) {
		return t, nil
	}
	client, err := newOTLPHTTP(getenv)
	if err != nil {
		return nil, err
	}
	exp := &jsonExporter{client: client}
	res, err := resource.New(ctx,
		resource.WithFromEnv(), // OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES
		resource.WithTelemetrySDK(),
		resource.WithAttributes(runtimeAttributes(getenv, opts.ServiceVersion)...),
	)
	if err != nil {
		return nil, fmt.Errorf("tracing: resource: %w", err)
	}
	if getenv("OTEL_SERVICE_NAME") == "" && !strings.Contains(getenv("OTEL_RESOURCE_ATTRIBUTES"), "service.name=") {
		res, _ = resource.Merge(res, resource.NewSchemaless(attribute.String("service.name", "typedapi")))
	}
	maxQueue := opts.MaxQueue
	if maxQueue <= 0 {
		maxQueue = envInt(getenv, "OTEL_BSP_MAX_QUEUE_SIZE", 2048)
	}
	g := &gate{limit: int64(maxQueue), drops: t.drops}
	t.gate = g
	g.SpanProcessor = sdktrace.NewBatchSpanProcessor(&countingExporter{SpanExporter: exp, gate: g},
		sdktrace.WithMaxQueueSize(maxQueue+envInt(getenv, "OTEL_BSP_MAX_EXPORT_BATCH_SIZE", 512)))
	t.sampler = samplerFromEnv(getenv, opts.Logger)
	t.sdk = sdktrace.NewTracerProvider(sdktrace.WithResource(res), sdktrace.WithSpanProcessor(g),
		sdktrace.WithSampler(t.sampler), sdktrace.WithIDGenerator(ids{}))
	t.provider = t.sdk
	// The SDK reports export errors here; they are counted as drops by
	// countingExporter, so this only keeps them off stderr, once a minute.
	otel.SetErrorHandler(otel.ErrorHandlerFunc(t.drops.note))
	return t, nil
}

// On reports whether spans are made.
func (t *Tracing) On() bool { return t.sdk != nil }

// TracerProvider is the SDK's provider, or a no-op one when off.
func (t *Tracing) TracerProvider() trace.TracerProvider { return t.provider }

// Shutdown exports what is queued (within ctx) and stops the exporter.
func (t *Tracing) Shutdown(ctx context.Context) error {
	defer t.drops.flush()
	if t.sdk == nil {
		return nil
	}
	err := t.sdk.Shutdown(ctx)
	if err != nil && t.gate != nil {
		// What did not leave in time is lost with the process.
		if n := t.gate.pending.Swap(0); n > 0 {
			t.drops.add(int(n), fmt.Errorf("shutdown: %w", err))
		}
	}
	return err
}

// Flush exports the finished spans within FlushTimeout (Lambda freezes the
// process once an invocation's answer is returned, so spans left queued
// would wait for the next invocation, or be lost with the environment).
func (t *Tracing) Flush(ctx context.Context) {
	if t.sdk == nil || time.Now().UnixNano() < t.skipFlushUntil.Load() {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), t.flushTimeout)
	defer cancel()
	if err := t.sdk.ForceFlush(ctx); err != nil {
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
	if t.sdk == nil {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if _, ok := r.Header["Traceparent"]; ok {
				r = r.WithContext(Propagator.Extract(r.Context(), propagation.HeaderCarrier(r.Header)))
			}
			next.ServeHTTP(w, r)
		})
	}
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		annotateLambda(r)
		next.ServeHTTP(w, r)
	})
	return sampleFirst(t.sampler, otelhttp.NewHandler(inner, "",
		otelhttp.WithTracerProvider(t.provider),
		otelhttp.WithPropagators(Propagator),
		// Request metrics are EMF's job (internal/emf): no OTel meter.
		otelhttp.WithMeterProvider(metricnoop.NewMeterProvider()),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return r.Method }),
	), next)
}

// annotateLambda puts the invocation's ids on the server span: the AWS
// request id as faas.invocation_id, and X-Ray's trace (the invocation's,
// else the front door's X-Amzn-Trace-Id header) as a link. A link, not the
// parent: the caller's traceparent stays the parent, and X-Ray's sampling
// decision (made by Lambda or the gateway, for X-Ray) does not decide ours.
func annotateLambda(r *http.Request) {
	span := trace.SpanFromContext(r.Context())
	if !span.IsRecording() {
		return
	}
	info := requestinfo.FromContext(r.Context())
	if !info.OnLambda {
		return
	}
	span.SetAttributes(attribute.String("faas.invocation_id", info.LambdaRequestID), attribute.String("faas.trigger", "http"))
	if sc := XRay(r.Context(), r.Header); sc.IsValid() {
		span.AddLink(trace.Link{SpanContext: sc, Attributes: []attribute.KeyValue{attribute.String("link.kind", "aws.xray")}})
	}
}

// XRay is the X-Ray trace context of a Lambda invocation: the runtime's
// (aws-lambda-go puts it in the context, as _X_AMZN_TRACE_ID), else the
// request's X-Amzn-Trace-Id header; invalid when neither parses.
func XRay(ctx context.Context, h http.Header) trace.SpanContext {
	header, _ := ctx.Value("x-amzn-trace-id").(string)
	if header == "" {
		header = h.Get("X-Amzn-Trace-Id")
	}
	if header == "" {
		return trace.SpanContext{}
	}
	c := xray.Propagator{}.Extract(context.Background(), propagation.MapCarrier{"X-Amzn-Trace-Id": header})
	return trace.SpanContextFromContext(c)
}

// runtimeAttributes describe where the process runs (semantic conventions'
// cloud.* and faas.* resource attributes), read from what Lambda sets.
func runtimeAttributes(getenv func(string) string, version string) []attribute.KeyValue {
	attrs := []attribute.KeyValue{attribute.String("service.version", version)}
	if fn := getenv("AWS_LAMBDA_FUNCTION_NAME"); fn != "" {
		attrs = append(attrs,
			attribute.String("cloud.provider", "aws"),
			attribute.String("cloud.platform", "aws_lambda"),
			attribute.String("cloud.region", getenv("AWS_REGION")),
			attribute.String("faas.name", fn),
			attribute.String("faas.version", getenv("AWS_LAMBDA_FUNCTION_VERSION")),
			attribute.String("faas.instance", getenv("AWS_LAMBDA_LOG_STREAM_NAME")),
		)
	}
	return attrs
}

func envInt(getenv func(string) string, key string, def int) int {
	var n int
	if _, err := fmt.Sscan(getenv(key), &n); err != nil || n <= 0 {
		return def
	}
	return n
}

// gate bounds the spans between ending and export: past the limit a span
// is dropped and counted here, before the batch processor's own queue
// (which drops silently) can fill.
type gate struct {
	sdktrace.SpanProcessor
	pending atomic.Int64
	limit   int64
	drops   *dropLog
}

func (g *gate) OnEnd(s sdktrace.ReadOnlySpan) {
	if !s.SpanContext().IsSampled() {
		return // the batch processor exports only sampled spans
	}
	if g.pending.Add(1) > g.limit {
		g.pending.Add(-1)
		g.drops.add(1, errQueueFull)
		return
	}
	g.SpanProcessor.OnEnd(s)
}

var errQueueFull = fmt.Errorf("the export queue is full")

// countingExporter counts what left the queue, and what failed to export.
type countingExporter struct {
	sdktrace.SpanExporter
	gate *gate
}

func (e *countingExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	err := e.SpanExporter.ExportSpans(ctx, spans)
	e.gate.pending.Add(-int64(len(spans)))
	if err != nil {
		e.gate.drops.add(len(spans), err)
	}
	return err
}

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

func (d *dropLog) add(n int, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.pending += n
	d.total += n
	d.lastErr = err
	d.maybeLog(false)
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

//go:build !notracing

package tracing

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/contrib/propagators/aws/xray"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/typedapi/typedapi/internal/requestinfo"
)

// sdk is the OpenTelemetry SDK's part of Tracing, linked unless the build
// says notracing (nosdk.go).
type sdk struct {
	tp      *sdktrace.TracerProvider // nil when off
	gate    *gate
	sampler sdktrace.Sampler
}

func (s *sdk) on() bool { return s.tp != nil }

// installGlobal makes tp OpenTelemetry's global provider, which the
// DynamoDB store's instrumentation takes when it is built.
func installGlobal(tp trace.TracerProvider) { otel.SetTracerProvider(tp) }

// start builds the SDK's provider with the OTLP exporter (OTLP/HTTP JSON,
// otlpjson.go and otlphttp.go), the sampler and the bounded batch queue.
func (t *Tracing) start(ctx context.Context, getenv func(string) string, opts Options) error {
	client, err := newOTLPHTTP(getenv)
	if err != nil {
		return err
	}
	exp := &jsonExporter{client: client}
	res, err := resource.New(ctx,
		resource.WithFromEnv(), // OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES
		resource.WithTelemetrySDK(),
		resource.WithAttributes(runtimeAttributes(getenv, opts.ServiceVersion)...),
	)
	if err != nil {
		return fmt.Errorf("tracing: resource: %w", err)
	}
	if getenv("OTEL_SERVICE_NAME") == "" && !strings.Contains(getenv("OTEL_RESOURCE_ATTRIBUTES"), "service.name=") {
		res, _ = resource.Merge(res, resource.NewSchemaless(attribute.String("service.name", "typedapi")))
	}
	maxQueue := opts.MaxQueue
	if maxQueue <= 0 {
		maxQueue = envInt(getenv, "OTEL_BSP_MAX_QUEUE_SIZE", 2048)
	}
	g := &gate{limit: int64(maxQueue), drops: t.drops}
	t.sdk.gate = g
	g.SpanProcessor = sdktrace.NewBatchSpanProcessor(&countingExporter{SpanExporter: exp, gate: g},
		sdktrace.WithMaxQueueSize(maxQueue+envInt(getenv, "OTEL_BSP_MAX_EXPORT_BATCH_SIZE", 512)))
	t.sdk.sampler = samplerFromEnv(getenv, opts.Logger)
	t.sdk.tp = sdktrace.NewTracerProvider(sdktrace.WithResource(res), sdktrace.WithSpanProcessor(g),
		sdktrace.WithSampler(t.sdk.sampler), sdktrace.WithIDGenerator(ids{}))
	t.provider = t.sdk.tp
	// The SDK reports export errors here; they are counted as drops by
	// countingExporter, so this only keeps them off stderr, once a minute.
	otel.SetErrorHandler(otel.ErrorHandlerFunc(t.drops.note))
	return nil
}

// shutdown exports what is queued (within ctx) and stops the exporter.
func (t *Tracing) shutdown(ctx context.Context) error {
	err := t.sdk.tp.Shutdown(ctx)
	if err != nil && t.sdk.gate != nil {
		// What did not leave in time is lost with the process.
		if n := t.sdk.gate.pending.Swap(0); n > 0 {
			t.drops.add(int(n), fmt.Errorf("shutdown: %w", err))
		}
	}
	return err
}

func (t *Tracing) forceFlush(ctx context.Context) error { return t.sdk.tp.ForceFlush(ctx) }

// sdkHandler is Handler when on: otelhttp's server span for each request
// the sampler keeps (sampleFirst).
func (t *Tracing) sdkHandler(next http.Handler) http.Handler {
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		annotateLambda(r)
		next.ServeHTTP(w, r)
	})
	return sampleFirst(t.sdk.sampler, otelhttp.NewHandler(inner, "",
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

func envInt(getenv func(string) string, key string, def int) int {
	var n int
	if _, err := fmt.Sscan(getenv(key), &n); err != nil || n <= 0 {
		return def
	}
	return n
}

// add counts n dropped spans and the error that dropped them.
func (d *dropLog) add(n int, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.pending += n
	d.total += n
	d.lastErr = err
	d.maybeLog(false)
}

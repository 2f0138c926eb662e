//go:build !notracing

package dynamodb

import (
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// traced wraps the SDK's HTTP client in OpenTelemetry's HTTP client
// instrumentation (otelhttp): a client span per attempt, so a retry shows
// as a second span, named by the DynamoDB operation ("DynamoDB.GetItem"),
// with the semantic conventions' rpc.* attributes, and a traceparent on
// the request. Not otelaws: contrib has deprecated it, and it links the
// SNS and SQS clients, whose endpoint tables cost about 1,400 allocations
// of every cold start (docs/OBSERVABILITY.md).
func traced(c aws.HTTPClient, tp trace.TracerProvider) aws.HTTPClient {
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	rt := otelhttp.NewTransport(roundTripper{c},
		otelhttp.WithTracerProvider(tp),
		otelhttp.WithPropagators(propagation.TraceContext{}),
		otelhttp.WithMeterProvider(metricnoop.NewMeterProvider()),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return "DynamoDB." + operation(r) }),
	)
	return doer{rt}
}

// operation is the DynamoDB API the request calls, from its X-Amz-Target
// header ("DynamoDB_20120810.GetItem").
func operation(r *http.Request) string {
	_, op, _ := strings.Cut(r.Header.Get("X-Amz-Target"), ".")
	if op == "" {
		return "Unknown"
	}
	return op
}

type doer struct{ rt http.RoundTripper }

func (d doer) Do(r *http.Request) (*http.Response, error) { return d.rt.RoundTrip(r) }

// roundTripper is the SDK's client under otelhttp; it names the call on
// the span otelhttp started.
type roundTripper struct{ c aws.HTTPClient }

func (t roundTripper) RoundTrip(r *http.Request) (*http.Response, error) {
	if span := trace.SpanFromContext(r.Context()); span.IsRecording() {
		span.SetAttributes(attribute.String("rpc.system", "aws-api"), attribute.String("rpc.service", "DynamoDB"),
			attribute.String("rpc.method", operation(r)))
	}
	return t.c.Do(r)
}

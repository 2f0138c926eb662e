//go:build notracing

package tracing

import (
	"context"
	"net/http"

	"go.opentelemetry.io/otel/trace"
)

// sdk is empty in a build with the notracing tag: the OpenTelemetry SDK,
// otelhttp and the exporter are not linked, which keeps a Lambda bootstrap
// that does not trace 2.4 MB smaller and about 1 MiB lighter in memory
// (docs/PERFORMANCE.md). A valid traceparent is still read and its trace id
// logged; unlike the full build with tracing off, DynamoDB requests carry
// no traceparent (store/dynamodb/untraced.go).
type sdk struct{}

func (sdk) on() bool { return false }

func installGlobal(trace.TracerProvider) {}

// start leaves tracing off, and says why: the environment asks for traces
// that this build cannot make.
func (t *Tracing) start(_ context.Context, _ func(string) string, opts Options) error {
	opts.Logger.Warn("tracing: OTEL_* asks for traces, but this binary was built with the notracing tag and makes none; " +
		"build it without the tag (the CDK app: -c tracing=true)")
	return nil
}

func (t *Tracing) shutdown(context.Context) error            { return nil }
func (t *Tracing) forceFlush(context.Context) error          { return nil }
func (t *Tracing) sdkHandler(next http.Handler) http.Handler { return next }

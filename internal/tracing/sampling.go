//go:build !notracing

package tracing

import (
	"context"
	"encoding/binary"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// samplerFromEnv is the sampler OTEL_TRACES_SAMPLER and _ARG name, as the
// SDK would read them (it keeps its own private): the handler asks it
// before a request gets a span, and the SDK is given the same one, so both
// decide alike. Unknown names are the SDK's default, parentbased_always_on.
func samplerFromEnv(getenv func(string) string, logger *slog.Logger) sdktrace.Sampler {
	ratio := func() sdktrace.Sampler {
		arg := strings.TrimSpace(getenv("OTEL_TRACES_SAMPLER_ARG"))
		if arg == "" {
			return sdktrace.TraceIDRatioBased(1)
		}
		f, err := strconv.ParseFloat(arg, 64)
		if err != nil || f < 0 || f > 1 {
			logger.Warn("tracing: OTEL_TRACES_SAMPLER_ARG is not a ratio from 0 to 1; sampling every trace", "value", arg)
			f = 1
		}
		return sdktrace.TraceIDRatioBased(f)
	}
	switch name := strings.ToLower(strings.TrimSpace(getenv("OTEL_TRACES_SAMPLER"))); name {
	case "always_on":
		return sdktrace.AlwaysSample()
	case "always_off":
		return sdktrace.NeverSample()
	case "traceidratio":
		return ratio()
	case "parentbased_always_off":
		return sdktrace.ParentBased(sdktrace.NeverSample())
	case "parentbased_traceidratio":
		return sdktrace.ParentBased(ratio())
	case "", "parentbased_always_on":
	default:
		logger.Warn("tracing: unknown OTEL_TRACES_SAMPLER; using parentbased_always_on", "value", name)
	}
	return sdktrace.ParentBased(sdktrace.AlwaysSample())
}

// presetTraceID carries the trace id the sampler judged a new trace by, so
// the SDK's root span gets that id and the SDK's own decision is the same.
type presetTraceID struct{}

// ids makes random trace and span ids, or takes a preset trace id.
type ids struct{}

func (ids) NewIDs(ctx context.Context) (trace.TraceID, trace.SpanID) {
	if tid, ok := ctx.Value(presetTraceID{}).(trace.TraceID); ok {
		return tid, newSpanID()
	}
	return newTraceID(), newSpanID()
}

func (ids) NewSpanID(context.Context, trace.TraceID) trace.SpanID { return newSpanID() }

func newTraceID() (id trace.TraceID) {
	for !id.IsValid() {
		binary.BigEndian.PutUint64(id[:8], rand.Uint64()) //nolint:gosec // G404: ids need to be unique, not secret (as the SDK's own)
		binary.BigEndian.PutUint64(id[8:], rand.Uint64()) //nolint:gosec // G404: as above
	}
	return id
}

func newSpanID() (id trace.SpanID) {
	for !id.IsValid() {
		binary.BigEndian.PutUint64(id[:], rand.Uint64()) //nolint:gosec // G404: as above
	}
	return id
}

// sampleFirst decides before any span exists: a request the sampler drops
// skips otelhttp (its attributes, wrappers and non-recording span, the
// bulk of tracing's cost per request) and carries only a span context,
// with the caller's trace id or a new one, so the access line and the
// DynamoDB calls (which the same sampler then drops) still name its trace.
func sampleFirst(sampler sdktrace.Sampler, traced, untraced http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := extract(r.Context(), r.Header)
		parent := trace.SpanContextFromContext(ctx)
		tid := parent.TraceID()
		if !parent.IsValid() {
			tid = newTraceID()
		}
		res := sampler.ShouldSample(sdktrace.SamplingParameters{ParentContext: ctx, TraceID: tid, Name: r.Method, Kind: trace.SpanKindServer})
		if res.Decision == sdktrace.Drop {
			sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: newSpanID(), TraceState: parent.TraceState()})
			untraced.ServeHTTP(w, r.WithContext(trace.ContextWithSpanContext(ctx, sc)))
			return
		}
		if !parent.IsValid() {
			r = r.WithContext(context.WithValue(r.Context(), presetTraceID{}, tid))
		}
		traced.ServeHTTP(w, r)
	})
}

package tracing

import (
	"context"
	"net/http"
	"testing"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// extract reads what the SDK's own header carrier reads: the same span
// context, trace state included, for headers as net/http and algnhsa
// store them (canonical names), and nothing from a request without a
// valid traceparent.
func TestExtract(t *testing.T) {
	cases := map[string]http.Header{
		"traceparent and tracestate": {
			"Traceparent": {"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
			"Tracestate":  {"vendor=opaque,other=x"},
		},
		"traceparent alone":    {"Traceparent": {"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"}},
		"two traceparents":     {"Traceparent": {"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "00-11111111111111111111111111111111-2222222222222222-01"}},
		"malformed":            {"Traceparent": {"00-not-hex-01"}, "Tracestate": {"vendor=opaque"}},
		"tracestate alone":     {"Tracestate": {"vendor=opaque"}},
		"empty traceparent":    {"Traceparent": {""}},
		"no trace headers":     {"Accept": {"*/*"}},
		"invalid trace state":  {"Traceparent": {"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}, "Tracestate": {"=bad=,,"}},
		"unknown version kept": {"Traceparent": {"01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra"}},
	}
	for name, h := range cases {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			want := trace.SpanContextFromContext(Propagator.Extract(ctx, propagation.HeaderCarrier(h)))
			got := extract(ctx, h)
			if sc := trace.SpanContextFromContext(got); !sc.Equal(want) {
				t.Errorf("span context %+v, want %+v", sc, want)
			}
			if !want.IsValid() && got != ctx {
				t.Error("a new context for a request without a valid traceparent")
			}
		})
	}
	if got := headerCarrier(http.Header{"X-Other": {"v"}}).Get("x-other"); got != "v" {
		t.Errorf("other keys: %q, want the canonical header's value", got)
	}
}

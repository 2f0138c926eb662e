//go:build notracing

package tracing

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/trace"
)

// In a notracing build, an environment that asks for traces gets none and
// one warning that names the build; the off path still reads traceparent,
// so the caller's trace id reaches the request's context (and from there
// the access line).
func TestNoSDKBuild(t *testing.T) {
	var logs bytes.Buffer
	env := map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}
	tr, err := Setup(context.Background(), func(k string) string { return env[k] }, Options{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if tr.On() {
		t.Fatal("On() = true in a notracing build")
	}
	if got := logs.String(); strings.Count(got, `"level":"WARN"`) != 1 || !strings.Contains(got, "notracing") {
		t.Errorf("want one warning naming the notracing build, got %q", got)
	}
	if s := tr.TracerProvider().Tracer("t"); s == nil {
		t.Fatal("no tracer")
	}

	const parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	var got trace.SpanContext
	h := tr.Handler(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		got = trace.SpanContextFromContext(r.Context())
	}))
	req := httptest.NewRequest(http.MethodGet, "/v1/items", nil)
	req.Header.Set("Traceparent", parent)
	h.ServeHTTP(httptest.NewRecorder(), req)
	if got.TraceID().String() != "4bf92f3577b34da6a3ce929d0e0e4736" {
		t.Errorf("trace id from traceparent = %q", got.TraceID())
	}
	req = httptest.NewRequest(http.MethodGet, "/v1/items", nil)
	req.Header.Set("Traceparent", "00-zz-bad-01")
	h.ServeHTTP(httptest.NewRecorder(), req)
	if got.IsValid() {
		t.Errorf("a malformed traceparent gave span context %v", got)
	}
	tr.Flush(context.Background())
	if err := tr.Shutdown(context.Background()); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
}

//go:build !notracing

package tracing

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// serverSpans are n spans shaped as otelhttp's server spans for a GET.
func serverSpans(n int, userAgent string) []sdktrace.ReadOnlySpan {
	res := resource.NewSchemaless(attribute.String("service.name", "typedapi"), attribute.String("service.version", "dev"))
	start := time.Unix(1_796_500_000, 0)
	stubs := make(tracetest.SpanStubs, n)
	for i := range stubs {
		tid := trace.TraceID{0x4b, 0xf9, 0x2f, byte(i)}
		stubs[i] = tracetest.SpanStub{
			Name: "GET /v1/items/{id}",
			SpanContext: trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: trace.SpanID{1, byte(i)},
				TraceFlags: trace.FlagsSampled}),
			SpanKind:  trace.SpanKindServer,
			StartTime: start, EndTime: start.Add(time.Millisecond),
			Attributes: []attribute.KeyValue{
				attribute.String("http.request.method", "GET"), attribute.String("url.scheme", "http"),
				attribute.String("server.address", "127.0.0.1"), attribute.Int("server.port", 8080),
				attribute.String("network.peer.address", "127.0.0.1"), attribute.Int("network.peer.port", 51234),
				attribute.String("user_agent.original", userAgent), attribute.String("client.address", "127.0.0.1"),
				attribute.String("url.path", "/v1/items/01M94TGH66XY8J9BY11M5A72ME"), attribute.String("network.protocol.version", "1.1"),
				attribute.Int("http.response.status_code", 200), attribute.String("http.route", "/v1/items/{id}"),
				attribute.String("typedapi.operation", "get-item"), attribute.Int64("http.response.body.size", 201),
			},
			Status:               sdktrace.Status{Code: codes.Unset},
			Resource:             res,
			InstrumentationScope: instrumentation.Scope{Name: "go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp", Version: "0.72.0"},
		}
	}
	return stubs.Snapshots()
}

// TestExportJSON: the OTLP/JSON body as the protocol spells it, and text
// that is not UTF-8 (a client's header) mangled to U+FFFD rather than
// failing the batch.
func TestExportJSON(t *testing.T) {
	body := marshalExport(serverSpans(2, "curl/8.\xff"))
	var req struct {
		ResourceSpans []struct {
			Resource   struct{ Attributes []map[string]any }
			ScopeSpans []struct {
				Scope map[string]string
				Spans []map[string]any
			}
		}
	}
	if err := json.Unmarshal(body, &req); err != nil {
		t.Fatalf("%v\n%s", err, body)
	}
	if len(req.ResourceSpans) != 1 || len(req.ResourceSpans[0].ScopeSpans) != 1 || len(req.ResourceSpans[0].ScopeSpans[0].Spans) != 2 {
		t.Fatalf("not grouped by resource and scope: %s", body)
	}
	s := req.ResourceSpans[0].ScopeSpans[0].Spans[0]
	if s["traceId"] != "4bf92f00000000000000000000000000" || s["spanId"] != "0100000000000000" || s["kind"] != float64(2) ||
		s["startTimeUnixNano"] != "1796500000000000000" || s["flags"] != float64(1) {
		t.Errorf("span fields: %v", s)
	}
	if _, ok := s["droppedAttributesCount"]; ok {
		t.Errorf("zero counts are left out: %v", s)
	}
	if !strings.Contains(string(body), `{"key":"server.port","value":{"intValue":"8080"}}`) {
		t.Errorf("64-bit integers are strings in OTLP/JSON: %s", body)
	}
	if !strings.Contains(string(body), `{"key":"user_agent.original","value":{"stringValue":"curl/8.`+"\uFFFD"+`"}}`) {
		t.Errorf("invalid UTF-8 not replaced: %s", body)
	}
}

// BenchmarkExportJSON is the exporter's encoding of one batch of 100 server
// spans.
func BenchmarkExportJSON(b *testing.B) {
	spans := serverSpans(100, "Mozilla/5.0 (X11; Linux x86_64)")
	b.ReportAllocs()
	for b.Loop() {
		_ = marshalExport(spans)
	}
}

// TestExportJSONNonFinite: a float attribute JSON has no number for is
// written as the protobuf JSON mapping spells it, and the batch stays
// valid (encoding/json refused the whole batch for one NaN).
func TestExportJSONNonFinite(t *testing.T) {
	stub := tracetest.SpanStub{Name: "x", Attributes: []attribute.KeyValue{
		attribute.Float64("nan", math.NaN()), attribute.Float64("inf", math.Inf(1)),
		attribute.Float64Slice("fs", []float64{math.Inf(-1), 0.5}),
	}}
	body := marshalExport(tracetest.SpanStubs{stub}.Snapshots())
	if !json.Valid(body) {
		t.Fatalf("not JSON: %s", body)
	}
	for _, want := range []string{`{"doubleValue":"NaN"}`, `{"doubleValue":"Infinity"}`, `{"doubleValue":"-Infinity"}`, `{"doubleValue":0.5}`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("no %s in %s", want, body)
		}
	}
}

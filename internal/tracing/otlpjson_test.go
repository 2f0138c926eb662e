//go:build !notracing

package tracing

import (
	"encoding/json"
	"math"
	"os"
	"reflect"
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

// richSpans use every part of the protocol the exporter writes: each
// attribute type (an empty slice, a string that is not UTF-8), events,
// links, a parent, trace state, both status codes, two resources and three
// scopes.
func richSpans() []sdktrace.ReadOnlySpan {
	r1 := resource.NewWithAttributes("https://opentelemetry.io/schemas/1.26.0", attribute.String("service.name", "a<b>&\"c"))
	r2 := resource.NewSchemaless()
	t0 := time.Unix(1_796_500_000, 123)
	ts, _ := trace.ParseTraceState("k1=v1,k2=v2")
	sc := func(i byte) trace.SpanContext {
		return trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{i, 2}, SpanID: trace.SpanID{i, 3}, TraceFlags: trace.FlagsSampled, TraceState: ts})
	}
	all := []attribute.KeyValue{attribute.Bool("b", true), attribute.Int64("i", -9007199254740993), attribute.Float64("f", 1.5e-7),
		attribute.String("s", "x\x00y\xffz\u2028"), attribute.BoolSlice("bs", []bool{true, false}), attribute.Int64Slice("is", []int64{1, 2}),
		attribute.Float64Slice("fs", []float64{0.1, 2}), attribute.StringSlice("ss", []string{"p", ""}), attribute.StringSlice("empty", nil)}
	stubs := tracetest.SpanStubs{
		{Name: "one", SpanContext: sc(1), Parent: sc(9), SpanKind: trace.SpanKindClient, StartTime: t0, EndTime: t0.Add(time.Second),
			Attributes: all, DroppedAttributes: 3,
			Events: []sdktrace.Event{{Name: "ev", Time: t0, Attributes: all[:2]}, {Name: "ev2", Time: t0}},
			Links:  []sdktrace.Link{{SpanContext: sc(7), Attributes: all[3:4]}, {SpanContext: sc(8)}},
			Status: sdktrace.Status{Code: codes.Error, Description: "boom"}, Resource: r1,
			InstrumentationScope: instrumentation.Scope{Name: "x", Version: "1", SchemaURL: "https://s"}},
		{Name: "two", SpanContext: sc(2), SpanKind: trace.SpanKindServer, StartTime: t0, EndTime: t0,
			Status: sdktrace.Status{Code: codes.Ok}, Resource: r2, InstrumentationScope: instrumentation.Scope{Name: "y"}},
		{Name: "three", SpanContext: sc(3), StartTime: t0, EndTime: t0, Resource: r1, InstrumentationScope: instrumentation.Scope{Name: "x", Version: "1", SchemaURL: "https://s"}},
		{Name: "four", SpanContext: sc(4), StartTime: t0, EndTime: t0, Resource: r1, InstrumentationScope: instrumentation.Scope{Name: "z"}},
	}
	return stubs.Snapshots()
}

// TestExportJSONGolden: the body for richSpans decodes to testdata/export.json,
// member by member (its invalid UTF-8 as U+FFFD).
func TestExportJSONGolden(t *testing.T) {
	want, err := os.ReadFile("testdata/export.json")
	if err != nil {
		t.Fatal(err)
	}
	var got, exp any
	if err := json.Unmarshal(marshalExport(richSpans()), &got); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(want, &exp); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, exp) {
		g, _ := json.MarshalIndent(got, "", " ")
		t.Errorf("export body differs from testdata/export.json:\n%s", g)
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

//go:build !notracing

package tracing

import (
	"context"
	"encoding/json"
	"strconv"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// jsonExporter writes spans as OTLP/HTTP JSON (the protocol's JSON
// encoding: ids in hex, 64-bit integers as strings, enums as numbers).
// Not otlptrace's protobuf: the OTLP protobuf packages' initialisers alone
// took about 1 ms of every Lambda cold start, and the protobuf runtime
// most of the 4 MB the exporter added to the bootstrap
// (docs/PERFORMANCE.md). Collectors and backends that speak OTLP/HTTP
// accept JSON.
type jsonExporter struct{ client *otlpHTTP }

func (e *jsonExporter) Shutdown(ctx context.Context) error { return e.client.Stop(ctx) }

func (e *jsonExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	if len(spans) == 0 {
		return nil
	}
	body, err := json.Marshal(exportRequestJSON(spans))
	if err != nil {
		return err
	}
	return e.client.post(ctx, body)
}

type (
	jExport struct {
		ResourceSpans []jResourceSpans `json:"resourceSpans"`
	}
	jResourceSpans struct {
		Resource   jResource     `json:"resource"`
		ScopeSpans []jScopeSpans `json:"scopeSpans"`
		SchemaURL  string        `json:"schemaUrl,omitempty"`
	}
	jResource struct {
		Attributes []jKV `json:"attributes"`
	}
	jScopeSpans struct {
		Scope     jScope  `json:"scope"`
		Spans     []jSpan `json:"spans"`
		SchemaURL string  `json:"schemaUrl,omitempty"`
	}
	jScope struct {
		Name    string `json:"name"`
		Version string `json:"version,omitempty"`
	}
	jSpan struct {
		TraceID                string   `json:"traceId"`
		SpanID                 string   `json:"spanId"`
		TraceState             string   `json:"traceState,omitempty"`
		ParentSpanID           string   `json:"parentSpanId,omitempty"`
		Flags                  uint32   `json:"flags,omitempty"`
		Name                   string   `json:"name"`
		Kind                   int      `json:"kind"`
		StartTimeUnixNano      string   `json:"startTimeUnixNano"`
		EndTimeUnixNano        string   `json:"endTimeUnixNano"`
		Attributes             []jKV    `json:"attributes,omitempty"`
		DroppedAttributesCount int      `json:"droppedAttributesCount,omitempty"`
		Events                 []jEvent `json:"events,omitempty"`
		Links                  []jLink  `json:"links,omitempty"`
		Status                 jStatus  `json:"status"`
	}
	jEvent struct {
		TimeUnixNano string `json:"timeUnixNano"`
		Name         string `json:"name"`
		Attributes   []jKV  `json:"attributes,omitempty"`
	}
	jLink struct {
		TraceID    string `json:"traceId"`
		SpanID     string `json:"spanId"`
		TraceState string `json:"traceState,omitempty"`
		Attributes []jKV  `json:"attributes,omitempty"`
	}
	jStatus struct {
		Code    int    `json:"code,omitempty"`
		Message string `json:"message,omitempty"`
	}
	jKV struct {
		Key   string `json:"key"`
		Value jValue `json:"value"`
	}
	jValue struct {
		StringValue *string  `json:"stringValue,omitempty"`
		BoolValue   *bool    `json:"boolValue,omitempty"`
		IntValue    *string  `json:"intValue,omitempty"`
		DoubleValue *float64 `json:"doubleValue,omitempty"`
		ArrayValue  *jArray  `json:"arrayValue,omitempty"`
	}
	jArray struct {
		Values []jValue `json:"values"`
	}
)

// exportRequestJSON groups spans by resource and scope, as OTLP nests them.
func exportRequestJSON(spans []sdktrace.ReadOnlySpan) jExport {
	type scopeKey struct {
		res   *resource.Resource
		scope instrumentation.Scope
	}
	var out jExport
	resIdx := map[*resource.Resource]int{}
	scopeIdx := map[scopeKey]int{}
	for _, s := range spans {
		res := s.Resource()
		ri, ok := resIdx[res]
		if !ok {
			ri = len(out.ResourceSpans)
			resIdx[res] = ri
			out.ResourceSpans = append(out.ResourceSpans, jResourceSpans{Resource: jResource{Attributes: kvs(res.Attributes())}, SchemaURL: res.SchemaURL()})
		}
		sc := s.InstrumentationScope()
		k := scopeKey{res, instrumentation.Scope{Name: sc.Name, Version: sc.Version, SchemaURL: sc.SchemaURL}}
		si, ok := scopeIdx[k]
		if !ok {
			si = len(out.ResourceSpans[ri].ScopeSpans)
			scopeIdx[k] = si
			out.ResourceSpans[ri].ScopeSpans = append(out.ResourceSpans[ri].ScopeSpans, jScopeSpans{Scope: jScope{Name: sc.Name, Version: sc.Version}, SchemaURL: sc.SchemaURL})
		}
		ss := &out.ResourceSpans[ri].ScopeSpans[si]
		ss.Spans = append(ss.Spans, span(s))
	}
	return out
}

func span(s sdktrace.ReadOnlySpan) jSpan {
	sc := s.SpanContext()
	js := jSpan{
		TraceID:                sc.TraceID().String(),
		SpanID:                 sc.SpanID().String(),
		TraceState:             sc.TraceState().String(),
		Flags:                  uint32(sc.TraceFlags()),
		Name:                   s.Name(),
		Kind:                   int(s.SpanKind()), // the API's kinds share OTLP's numbers
		StartTimeUnixNano:      nanos(s.StartTime().UnixNano()),
		EndTimeUnixNano:        nanos(s.EndTime().UnixNano()),
		Attributes:             kvs(s.Attributes()),
		DroppedAttributesCount: s.DroppedAttributes(),
		Status:                 jStatus{Code: statusCode(s.Status().Code), Message: s.Status().Description},
	}
	if p := s.Parent(); p.HasSpanID() {
		js.ParentSpanID = p.SpanID().String()
	}
	for _, e := range s.Events() {
		js.Events = append(js.Events, jEvent{TimeUnixNano: nanos(e.Time.UnixNano()), Name: e.Name, Attributes: kvs(e.Attributes)})
	}
	for _, l := range s.Links() {
		js.Links = append(js.Links, jLink{TraceID: l.SpanContext.TraceID().String(), SpanID: l.SpanContext.SpanID().String(),
			TraceState: l.SpanContext.TraceState().String(), Attributes: kvs(l.Attributes)})
	}
	return js
}

// statusCode maps the API's codes (Unset 0, Error 1, Ok 2) to OTLP's
// (UNSET 0, OK 1, ERROR 2).
func statusCode(c codes.Code) int {
	switch c {
	case codes.Ok:
		return 1
	case codes.Error:
		return 2
	default:
		return 0
	}
}

func nanos(n int64) string { return strconv.FormatInt(n, 10) }

func kvs(as []attribute.KeyValue) []jKV {
	if len(as) == 0 {
		return nil
	}
	out := make([]jKV, 0, len(as))
	for _, a := range as {
		out = append(out, jKV{Key: string(a.Key), Value: value(a.Value)})
	}
	return out
}

func value(v attribute.Value) jValue {
	switch v.Type() {
	case attribute.BOOL:
		b := v.AsBool()
		return jValue{BoolValue: &b}
	case attribute.INT64:
		s := strconv.FormatInt(v.AsInt64(), 10)
		return jValue{IntValue: &s}
	case attribute.FLOAT64:
		f := v.AsFloat64()
		return jValue{DoubleValue: &f}
	case attribute.BOOLSLICE:
		var vs []jValue
		for _, b := range v.AsBoolSlice() {
			vs = append(vs, value(attribute.BoolValue(b)))
		}
		return jValue{ArrayValue: &jArray{Values: vs}}
	case attribute.INT64SLICE:
		var vs []jValue
		for _, n := range v.AsInt64Slice() {
			vs = append(vs, value(attribute.Int64Value(n)))
		}
		return jValue{ArrayValue: &jArray{Values: vs}}
	case attribute.FLOAT64SLICE:
		var vs []jValue
		for _, f := range v.AsFloat64Slice() {
			vs = append(vs, value(attribute.Float64Value(f)))
		}
		return jValue{ArrayValue: &jArray{Values: vs}}
	case attribute.STRINGSLICE:
		var vs []jValue
		for _, s := range v.AsStringSlice() {
			vs = append(vs, value(attribute.StringValue(s)))
		}
		return jValue{ArrayValue: &jArray{Values: vs}}
	case attribute.STRING:
		s := v.AsString()
		return jValue{StringValue: &s}
	default:
		s := v.String()
		return jValue{StringValue: &s}
	}
}

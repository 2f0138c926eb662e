//go:build !notracing

package tracing

import (
	"context"
	"encoding/hex"
	"math"
	"slices"
	"strconv"

	"github.com/go-json-experiment/json/jsontext"

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
	return e.client.post(ctx, marshalExport(spans))
}

// marshalExport is the request body for spans, grouped by resource and
// scope as OTLP nests them. It is appended directly: encoding/json's
// reflection over a mirror of the protocol's structs, and jsontext's
// checked tokens, each cost several times as much per span
// (docs/PERFORMANCE.md). Strings go through jsontext.AppendQuote, so
// text that is not UTF-8 (a header a client sent) is written with U+FFFD
// rather than failing the batch.
func marshalExport(spans []sdktrace.ReadOnlySpan) []byte {
	type scope struct {
		scope instrumentation.Scope
		spans []sdktrace.ReadOnlySpan
	}
	type group struct {
		res    *resource.Resource
		scopes []scope
	}
	var groups []group
	for _, s := range spans {
		gi := slices.IndexFunc(groups, func(g group) bool { return g.res == s.Resource() })
		if gi < 0 {
			gi, groups = len(groups), append(groups, group{res: s.Resource()})
		}
		g := &groups[gi]
		sc := s.InstrumentationScope()
		si := slices.IndexFunc(g.scopes, func(x scope) bool {
			return x.scope.Name == sc.Name && x.scope.Version == sc.Version && x.scope.SchemaURL == sc.SchemaURL
		})
		if si < 0 {
			si, g.scopes = len(g.scopes), append(g.scopes, scope{scope: sc})
		}
		g.scopes[si].spans = append(g.scopes[si].spans, s)
	}

	w := otlpWriter{b: make([]byte, 0, 1024*len(spans))}
	w.open("")
	w.openArray("resourceSpans")
	for _, g := range groups {
		w.open("")
		w.open("resource")
		w.attributes("attributes", g.res.Attributes(), true)
		w.close()
		w.openArray("scopeSpans")
		for _, sc := range g.scopes {
			w.open("")
			w.open("scope")
			w.str("name", sc.scope.Name, true)
			w.str("version", sc.scope.Version, false)
			w.close()
			w.openArray("spans")
			for _, s := range sc.spans {
				w.span(s)
			}
			w.closeArray()
			w.str("schemaUrl", sc.scope.SchemaURL, false)
			w.close()
		}
		w.closeArray()
		w.str("schemaUrl", g.res.SchemaURL(), false)
		w.close()
	}
	w.closeArray()
	w.close()
	return w.b
}

// otlpWriter appends OTLP/JSON: ids in hex, 64-bit integers as strings,
// enums as numbers. Keys are the protocol's names, which need no escape.
type otlpWriter struct{ b []byte }

// sep writes the comma before a member or an element, unless it is the
// first of its object or array, or the value of the key just written.
func (w *otlpWriter) sep() {
	if n := len(w.b); n > 0 && w.b[n-1] != '{' && w.b[n-1] != '[' && w.b[n-1] != ':' {
		w.b = append(w.b, ',')
	}
}

func (w *otlpWriter) key(k string) {
	w.sep()
	w.b = append(w.b, '"')
	w.b = append(w.b, k...)
	w.b = append(w.b, '"', ':')
}

// open begins an object: the value of key, or an element when key is "".
func (w *otlpWriter) open(key string) {
	if key != "" {
		w.key(key)
	} else {
		w.sep()
	}
	w.b = append(w.b, '{')
}

func (w *otlpWriter) close() { w.b = append(w.b, '}') }

func (w *otlpWriter) openArray(key string) {
	w.key(key)
	w.b = append(w.b, '[')
}

func (w *otlpWriter) closeArray() { w.b = append(w.b, ']') }

// str writes a string member; an empty one only when always.
func (w *otlpWriter) str(key, v string, always bool) {
	if v != "" || always {
		w.key(key)
		w.b, _ = jsontext.AppendQuote(w.b, v) // the error only reports a U+FFFD written
	}
}

// int writes a number member unless it is 0.
func (w *otlpWriter) int(key string, n int64) {
	if n != 0 {
		w.key(key)
		w.b = strconv.AppendInt(w.b, n, 10)
	}
}

// quotedInt writes a 64-bit integer member as OTLP/JSON does, a string.
func (w *otlpWriter) quotedInt(key string, n int64) {
	w.key(key)
	w.b = append(w.b, '"')
	w.b = strconv.AppendInt(w.b, n, 10)
	w.b = append(w.b, '"')
}

func (w *otlpWriter) hex(key string, id []byte) {
	w.key(key)
	w.b = append(w.b, '"')
	w.b = hex.AppendEncode(w.b, id)
	w.b = append(w.b, '"')
}

func (w *otlpWriter) span(s sdktrace.ReadOnlySpan) {
	sc := s.SpanContext()
	tid, sid := sc.TraceID(), sc.SpanID()
	w.open("")
	w.hex("traceId", tid[:])
	w.hex("spanId", sid[:])
	w.str("traceState", sc.TraceState().String(), false)
	if p := s.Parent(); p.HasSpanID() {
		psid := p.SpanID()
		w.hex("parentSpanId", psid[:])
	}
	w.int("flags", int64(sc.TraceFlags()))
	w.str("name", s.Name(), true)
	w.key("kind")
	w.b = strconv.AppendInt(w.b, int64(s.SpanKind()), 10) // the API's kinds share OTLP's numbers
	w.quotedInt("startTimeUnixNano", s.StartTime().UnixNano())
	w.quotedInt("endTimeUnixNano", s.EndTime().UnixNano())
	w.attributes("attributes", s.Attributes(), false)
	w.int("droppedAttributesCount", int64(s.DroppedAttributes()))
	if events := s.Events(); len(events) > 0 {
		w.openArray("events")
		for _, e := range events {
			w.open("")
			w.quotedInt("timeUnixNano", e.Time.UnixNano())
			w.str("name", e.Name, true)
			w.attributes("attributes", e.Attributes, false)
			w.close()
		}
		w.closeArray()
	}
	if links := s.Links(); len(links) > 0 {
		w.openArray("links")
		for _, l := range links {
			ltid, lsid := l.SpanContext.TraceID(), l.SpanContext.SpanID()
			w.open("")
			w.hex("traceId", ltid[:])
			w.hex("spanId", lsid[:])
			w.str("traceState", l.SpanContext.TraceState().String(), false)
			w.attributes("attributes", l.Attributes, false)
			w.close()
		}
		w.closeArray()
	}
	w.open("status")
	w.int("code", statusCode(s.Status().Code))
	w.str("message", s.Status().Description, false)
	w.close()
	w.close()
}

// attributes writes the key/value list; an empty one only when always.
func (w *otlpWriter) attributes(key string, as []attribute.KeyValue, always bool) {
	if len(as) == 0 && !always {
		return
	}
	w.openArray(key)
	for _, a := range as {
		w.open("")
		w.str("key", string(a.Key), true)
		w.key("value")
		w.value(a.Value)
		w.close()
	}
	w.closeArray()
}

// value writes an AnyValue object.
func (w *otlpWriter) value(v attribute.Value) {
	w.open("")
	switch v.Type() {
	case attribute.BOOL:
		w.key("boolValue")
		w.b = strconv.AppendBool(w.b, v.AsBool())
	case attribute.INT64:
		w.quotedInt("intValue", v.AsInt64())
	case attribute.FLOAT64:
		w.double(v.AsFloat64())
	case attribute.BOOLSLICE:
		bs := v.AsBoolSlice() // each call copies the slice
		w.array(len(bs), func(i int) attribute.Value { return attribute.BoolValue(bs[i]) })
	case attribute.INT64SLICE:
		ns := v.AsInt64Slice()
		w.array(len(ns), func(i int) attribute.Value { return attribute.Int64Value(ns[i]) })
	case attribute.FLOAT64SLICE:
		fs := v.AsFloat64Slice()
		w.array(len(fs), func(i int) attribute.Value { return attribute.Float64Value(fs[i]) })
	case attribute.STRINGSLICE:
		ss := v.AsStringSlice()
		w.array(len(ss), func(i int) attribute.Value { return attribute.StringValue(ss[i]) })
	default: // STRING; the attribute kinds without an OTLP counterpart here (none
		// that otelhttp or the SDK's resource sets) are written as their text
		w.str("stringValue", v.String(), true)
	}
	w.close()
}

// double writes a doubleValue member: a number, or for what JSON has no
// number for, the protobuf JSON mapping's "NaN", "Infinity", "-Infinity".
func (w *otlpWriter) double(f float64) {
	switch {
	case math.IsNaN(f):
		w.str("doubleValue", "NaN", true)
	case math.IsInf(f, 1):
		w.str("doubleValue", "Infinity", true)
	case math.IsInf(f, -1):
		w.str("doubleValue", "-Infinity", true)
	default:
		w.key("doubleValue")
		w.b = strconv.AppendFloat(w.b, f, 'g', -1, 64)
	}
}

// array writes an arrayValue member of n values.
func (w *otlpWriter) array(n int, at func(int) attribute.Value) {
	w.open("arrayValue")
	w.openArray("values")
	for i := range n {
		w.value(at(i))
	}
	w.closeArray()
	w.close()
}

// statusCode maps the API's codes (Unset 0, Error 1, Ok 2) to OTLP's
// (UNSET 0, OK 1, ERROR 2).
func statusCode(c codes.Code) int64 {
	switch c {
	case codes.Ok:
		return 1
	case codes.Error:
		return 2
	default:
		return 0
	}
}

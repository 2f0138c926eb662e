// Package tracingtest is an in-process OTLP/HTTP receiver for tests of the
// span exporter: it decodes what arrives into flat spans to assert on. The
// end-to-end tests send to a real OpenTelemetry Collector instead.
package tracingtest

import (
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// Span is one received span, flattened.
type Span struct {
	Name         string
	Kind         tracepb.Span_SpanKind
	TraceID      string
	SpanID       string
	ParentSpanID string
	Attributes   map[string]string // every value as text
	Links        []Link
	Resource     map[string]string
	Status       tracepb.Status_StatusCode
}

// Link is a span link, flattened.
type Link struct {
	TraceID, SpanID string
	Attributes      map[string]string
}

// Receiver collects the spans posted to URL + "/v1/traces".
type Receiver struct {
	URL string

	mu       sync.Mutex
	spans    []Span
	requests int
	raw      [][]byte
}

// NewReceiver starts a receiver on 127.0.0.1, closed when t ends.
func NewReceiver(t *testing.T) *Receiver {
	t.Helper()
	r := &Receiver{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, err := io.ReadAll(req.Body)
		if err != nil || req.URL.Path != "/v1/traces" || req.Header.Get("Content-Type") != "application/x-protobuf" {
			http.Error(w, "want a protobuf POST to /v1/traces", http.StatusBadRequest)
			return
		}
		spans, err := Decode(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.mu.Lock()
		r.spans = append(r.spans, spans...)
		r.requests++
		r.raw = append(r.raw, body)
		r.mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	t.Cleanup(srv.Close)
	r.URL = srv.URL
	return r
}

// Spans is what has arrived so far.
func (r *Receiver) Spans() []Span {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Span(nil), r.spans...)
}

// Requests is how many export requests arrived.
func (r *Receiver) Requests() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.requests
}

// Raw is every request body as received (to search for what must never
// be sent).
func (r *Receiver) Raw() [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][]byte(nil), r.raw...)
}

// Decode reads an ExportTraceServiceRequest (resource_spans = 1).
func Decode(b []byte) ([]Span, error) {
	var out []Span
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, protowire.ParseError(n)
		}
		b = b[n:]
		if num != 1 || typ != protowire.BytesType {
			n = protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return nil, protowire.ParseError(n)
			}
			b = b[n:]
			continue
		}
		v, n := protowire.ConsumeBytes(b)
		if n < 0 {
			return nil, protowire.ParseError(n)
		}
		b = b[n:]
		var rs tracepb.ResourceSpans
		if err := proto.Unmarshal(v, &rs); err != nil {
			return nil, fmt.Errorf("resource spans: %w", err)
		}
		res := map[string]string{}
		for _, a := range rs.GetResource().GetAttributes() {
			res[a.Key] = text(a.Value)
		}
		for _, ss := range rs.ScopeSpans {
			for _, s := range ss.Spans {
				sp := Span{Name: s.Name, Kind: s.Kind, TraceID: hex.EncodeToString(s.TraceId), SpanID: hex.EncodeToString(s.SpanId),
					ParentSpanID: hex.EncodeToString(s.ParentSpanId), Attributes: map[string]string{}, Resource: res,
					Status: s.GetStatus().GetCode()}
				for _, a := range s.Attributes {
					sp.Attributes[a.Key] = text(a.Value)
				}
				for _, l := range s.Links {
					la := map[string]string{}
					for _, a := range l.Attributes {
						la[a.Key] = text(a.Value)
					}
					sp.Links = append(sp.Links, Link{TraceID: hex.EncodeToString(l.TraceId), SpanID: hex.EncodeToString(l.SpanId), Attributes: la})
				}
				out = append(out, sp)
			}
		}
	}
	return out, nil
}

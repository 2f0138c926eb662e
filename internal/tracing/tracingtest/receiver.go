// Package tracingtest is what the tracing tests receive spans with: an
// in-process OTLP/HTTP JSON receiver (Receiver), and a real OpenTelemetry
// Collector (StartCollector) for the end-to-end tests; both decode what
// arrives into flat spans to assert on.
package tracingtest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// Span is one received span, flattened.
type Span struct {
	Name         string
	Kind         int32 // OTLP's: 2 server, 3 client
	TraceID      string
	SpanID       string
	ParentSpanID string
	Attributes   map[string]string // every value as text
	Links        []Link
	Resource     map[string]string
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
		if err != nil || req.URL.Path != "/v1/traces" || req.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "want an OTLP JSON POST to /v1/traces", http.StatusBadRequest)
			return
		}
		spans, err := decodeJSON(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.mu.Lock()
		r.spans = append(r.spans, spans...)
		r.requests++
		r.raw = append(r.raw, body)
		r.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte("{}"))
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

// Package emf writes CloudWatch Embedded Metric Format metrics on the
// access line the middleware already writes: per operation a request
// count, latency, 4xx and 5xx, and a cold start on the process's first
// line. No second line, no API call: CloudWatch Logs extracts them.
// docs/OBSERVABILITY.md is the contract (names, units, dimensions).
package emf

import (
	"context"
	"io"
	"log/slog"
	"math"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/typedapi/typedapi/internal/middleware"
)

// Namespace holds every metric the service writes.
const Namespace = "typedapi"

// The metric and dimension names: docs/OBSERVABILITY.md's contract, and
// what the CDK dashboards and alarms read (cdk/stacks/emf.go, whose test
// finds each of these literals here).
const (
	requests    = "Requests"
	latencyName = "Latency"
	errors4xx   = "Errors4xx"
	errors5xx   = "Errors5xx"
	coldStartN  = "ColdStart"
	dimService  = "Service"
	dimOp       = "Operation"
	dimStatus   = "StatusClass"
)

// Unmatched is the Operation of a request no route matched: every bad path
// is this one dimension value, so a burst of them cannot add dimensions.
const Unmatched = "unmatched"

// The directives never change, so they are written out here rather than
// encoded at start-up (encoding/json's reflection cost 0.3 ms and 137
// allocations of every cold start). TestAccessLineMetrics reads them back
// as CloudWatch does. docs/OBSERVABILITY.md is the contract.
const perRequest = `{"Namespace":"` + Namespace + `","Dimensions":[["` + dimService + `","` + dimOp + `"],["` + dimService + `"]],` +
	`"Metrics":[{"Name":"` + requests + `","Unit":"Count"},{"Name":"` + latencyName + `","Unit":"Milliseconds"},` +
	`{"Name":"` + errors4xx + `","Unit":"Count"},{"Name":"` + errors5xx + `","Unit":"Count"}]},` +
	`{"Namespace":"` + Namespace + `","Dimensions":[["` + dimService + `","` + dimStatus + `"]],"Metrics":[{"Name":"` + requests + `","Unit":"Count"}]}`

const coldStart = `{"Namespace":"` + Namespace + `","Dimensions":[["` + dimService + `"]],"Metrics":[{"Name":"` + coldStartN + `","Unit":"Count"}]}`

const (
	warmDirectives = "[" + perRequest + "]"
	coldDirectives = "[" + perRequest + "," + coldStart + "]"
)

// New is a JSON log handler writing to w (as slog.NewJSONHandler) that
// adds the metrics to access lines and leaves every other record as it
// is. service is the Service dimension's value.
//
// The metric members are written here as bytes, not as slog attributes:
// an access line is formatted by a JSON handler of its own into a buffer
// (the two come from a pool), and the trace id (middleware.TraceIDs, which
// wraps every other record), the members and the constant _aws directives
// are appended before its closing brace. docs/PERFORMANCE.md
// has what that saves.
func New(w io.Writer, service string, opts *slog.HandlerOptions) slog.Handler {
	out := &lockedWriter{w: w}
	build := func(w io.Writer) slog.Handler { return slog.NewJSONHandler(w, opts) }
	return &handler{next: middleware.TraceIDs(build(out)), out: out, build: build, lines: newLines(build),
		service: appendString(appendKey(nil, dimService), service), started: new(atomic.Bool)}
}

type handler struct {
	next    slog.Handler  // every record but access lines, straight to out
	out     *lockedWriter // shared by the handlers WithAttrs makes
	build   func(io.Writer) slog.Handler
	lines   *sync.Pool   // of *line, each with a handler from build
	service []byte       // the Service member, encoded once
	started *atomic.Bool // shared, as out is
	grouped bool         // under WithGroup members would not be top level
}

func (h *handler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

// WithAttrs makes a pool of its own, whose handlers carry as: a logger made
// with With once, as cmd/api's are, not one per request.
func (h *handler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.next = h.next.WithAttrs(as)
	c.build = func(w io.Writer) slog.Handler { return h.build(w).WithAttrs(as) }
	c.lines = newLines(c.build)
	return &c
}

func (h *handler) WithGroup(name string) slog.Handler {
	c := *h
	c.next = h.next.WithGroup(name)
	c.grouped = c.grouped || name != ""
	return &c
}

func (h *handler) Handle(ctx context.Context, r slog.Record) error {
	if r.Message != middleware.AccessMessage || h.grouped {
		return h.next.Handle(ctx, r)
	}
	var route, operation string
	var latency float64
	status := -1
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "route":
			route = a.Value.String()
		case "operation":
			operation = a.Value.String()
		case "status":
			status = int(a.Value.Int64())
		case "duration_ms":
			latency = a.Value.Float64()
		}
		return true
	})
	if status < 0 {
		return h.next.Handle(ctx, r) // not an access line after all
	}
	l := h.lines.Get().(*line)
	defer l.release(h.lines)
	l.b = l.b[:0]
	if err := l.h.Handle(ctx, r); err != nil {
		return err
	}
	// The JSON handler ends each line with "}\n": the members go before it.
	if end := len(l.b) - 2; end > 0 && l.b[end] == '}' && l.b[end+1] == '\n' {
		cold := h.started.CompareAndSwap(false, true)
		l.b = appendMembers(middleware.AppendTraceID(l.b[:end], ctx), h.service, Operation(route, operation), status, latency, cold, r.Time.UnixMilli())
		if l.b[end-1] == '{' { // an empty object (a ReplaceAttr dropped all): no comma first
			l.b = append(l.b[:end], l.b[end+1:]...)
		}
		l.b = append(l.b, '}', '\n')
	}
	_, err := h.out.Write(l.b)
	return err
}

// line is a buffer and a JSON handler that writes into it.
type line struct {
	b []byte
	h slog.Handler
}

func (l *line) Write(p []byte) (int, error) {
	l.b = append(l.b, p...)
	return len(p), nil
}

// release returns l to pool, unless one huge line grew it.
func (l *line) release(pool *sync.Pool) {
	if cap(l.b) <= 8<<10 {
		pool.Put(l)
	}
}

func newLines(build func(io.Writer) slog.Handler) *sync.Pool {
	return &sync.Pool{New: func() any {
		l := &line{b: make([]byte, 0, 2048)}
		l.h = build(l)
		return l
	}}
}

// lockedWriter keeps lines whole on the shared writer: each pooled
// handler holds a lock of its own, which orders nothing between them.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(p)
}

// appendMembers writes the metric members and the _aws member that names
// them, as the JSON handler would have: bytes rather than nine attributes
// through slog, and the constant directives as they are.
func appendMembers(b []byte, service []byte, op string, status int, latency float64, cold bool, ms int64) []byte {
	b = append(b, service...)
	b = appendString(appendKey(b, dimOp), op)
	b = appendString(appendKey(b, dimStatus), StatusClass(status))
	b = append(appendKey(b, requests), '1')
	if math.IsNaN(latency) || math.IsInf(latency, 0) {
		latency = 0
	}
	b = strconv.AppendFloat(appendKey(b, latencyName), latency, 'g', -1, 64)
	b = append(appendKey(b, errors4xx), digit(status >= 400 && status < 500))
	b = append(appendKey(b, errors5xx), digit(status >= 500))
	directives := warmDirectives
	if cold {
		b = append(appendKey(b, coldStartN), '1')
		directives = coldDirectives
	}
	b = append(b, `,"_aws":{"Timestamp":`...)
	b = strconv.AppendInt(b, ms, 10)
	b = append(b, `,"CloudWatchMetrics":`...)
	b = append(b, directives...)
	return append(b, '}')
}

// appendKey appends a member's key (a name above: nothing to escape).
func appendKey(b []byte, name string) []byte {
	b = append(b, ',', '"')
	b = append(b, name...)
	return append(b, '"', ':')
}

// appendString appends s as a JSON string, by the same quoting the trace
// exporter uses (invalid UTF-8 as U+FFFD, which the error only reports).
func appendString(b []byte, s string) []byte {
	b, _ = jsontext.AppendQuote(b, s)
	return b
}

// Operation is the Operation dimension: the operation id, else the route
// template (pages such as /docs), else Unmatched. Each comes from the route
// table, never from the request's path.
func Operation(route, operation string) string {
	switch {
	case operation != "":
		return operation
	case route != "":
		return route
	default:
		return Unmatched
	}
}

// StatusClass is "2xx" for 200–299 and so on; anything outside 100–599
// (never written by net/http) is "5xx", as a fault.
func StatusClass(status int) string {
	switch {
	case status >= 100 && status < 200:
		return "1xx"
	case status < 300 && status >= 200:
		return "2xx"
	case status < 400 && status >= 300:
		return "3xx"
	case status < 500 && status >= 400:
		return "4xx"
	default:
		return "5xx"
	}
}

// digit is a Count of 1 or 0.
func digit(b bool) byte {
	if b {
		return '1'
	}
	return '0'
}

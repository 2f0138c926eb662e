// Package emf writes CloudWatch Embedded Metric Format metrics on the
// access line the middleware already writes: per operation a request
// count, latency, 4xx and 5xx, and a cold start on the process's first
// line. No second line, no API call: CloudWatch Logs extracts them.
// docs/OBSERVABILITY.md is the contract (names, units, dimensions).
package emf

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"math"
	"strconv"
	"sync"
	"sync/atomic"

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
// the record carries one short placeholder as its last member, and the
// writer below puts the members (and the constant _aws directives) in its
// place. docs/PERFORMANCE.md has what that saves.
func New(w io.Writer, service string, opts *slog.HandlerOptions) slog.Handler {
	pending := new(sync.Map)
	return &handler{next: slog.NewJSONHandler(&splicer{w: w, pending: pending}, opts), service: service,
		started: new(atomic.Bool), seq: new(atomic.Uint64), pending: pending}
}

type handler struct {
	next    slog.Handler
	service string
	started *atomic.Bool // shared by the handlers WithAttrs makes
	grouped bool         // under WithGroup members would not be top level
	// seq numbers the records whose metric members wait in pending for
	// the splicer; shared, as started is.
	seq     *atomic.Uint64
	pending *sync.Map
}

func (h *handler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

func (h *handler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.next = h.next.WithAttrs(as)
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
	cold := h.started.CompareAndSwap(false, true)
	tail := tails.Get().(*[]byte)
	*tail = appendMembers((*tail)[:0], h.service, Operation(route, operation), status, latency, cold, r.Time.UnixMilli())
	seq := h.seq.Add(1)
	h.pending.Store(seq, tail)
	r.AddAttrs(slog.Uint64(placeholderKey, seq)) // last, so the writer finds it at the line's end
	err := h.next.Handle(ctx, r)
	h.pending.Delete(seq)
	if cap(*tail) <= 4<<10 {
		tails.Put(tail)
	}
	return err
}

// tails keeps the buffers the metric members are written into.
var tails = sync.Pool{New: func() any { b := make([]byte, 0, 1536); return &b }}

// appendMembers writes the metric members and the _aws member that names
// them, as the JSON handler would have: one attribute through slog (the
// placeholder) instead of nine, and the constant directives as bytes.
func appendMembers(b []byte, service, op string, status int, latency float64, cold bool, ms int64) []byte {
	b = appendString(appendKey(b, dimService), service)
	b = appendString(appendKey(b, dimOp), op)
	b = appendString(appendKey(b, dimStatus), StatusClass(status))
	b = append(appendKey(b, requests), '1')
	if math.IsNaN(latency) || math.IsInf(latency, 0) {
		latency = 0
	}
	b = strconv.AppendFloat(appendKey(b, latencyName), latency, 'g', -1, 64)
	b = strconv.AppendInt(appendKey(b, errors4xx), int64(b2i(status >= 400 && status < 500)), 10)
	b = strconv.AppendInt(appendKey(b, errors5xx), int64(b2i(status >= 500)), 10)
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

// appendString appends s as a JSON string: as is when it needs no escape
// (operation ids, route templates, service names), else by encoding/json.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// The placeholder member: its key is one no other member has, its value
// the sequence number under which the record's members wait in pending.
const placeholderKey = "_aws"

var placeholder = []byte(`,"` + placeholderKey + `":`)

// splicer replaces the placeholder at the end of an access line with the
// members waiting under its number. Lines without one pass unchanged. The
// JSON handler writes each line with one Write, under its lock.
type splicer struct {
	w       io.Writer
	pending *sync.Map // uint64 -> *[]byte, shared with the handlers
	mu      sync.Mutex
	buf     []byte
}

func (s *splicer) Write(p []byte) (int, error) {
	// A line ends `,"_aws":123}` + "\n" when it has one. A string cannot
	// fake it: inside a JSON string every quote is escaped.
	i := bytes.LastIndex(p, placeholder)
	if i < 0 || !bytes.HasSuffix(p, []byte("}\n")) {
		return s.w.Write(p)
	}
	seq, err := strconv.ParseUint(string(p[i+len(placeholder):len(p)-2]), 10, 64)
	if err != nil {
		return s.w.Write(p)
	}
	v, ok := s.pending.Load(seq)
	if !ok {
		return s.w.Write(p)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b := append(s.buf[:0], p[:i]...)
	b = append(b, *v.(*[]byte)...)
	b = append(b, "}\n"...)
	s.buf = b
	if _, err := s.w.Write(b); err != nil {
		return 0, err
	}
	return len(p), nil
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

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Package emf writes CloudWatch Embedded Metric Format metrics on the
// access line the middleware already writes: per operation a request
// count, latency, 4xx and 5xx, and a cold start on the process's first
// line. No second line, no API call: CloudWatch Logs extracts them.
// docs/OBSERVABILITY.md is the contract (names, units, dimensions).
package emf

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/typedapi/typedapi/internal/middleware"
)

// Namespace holds every metric the service writes.
const Namespace = "typedapi"

// Unmatched is the Operation of a request no route matched: every bad path
// is this one dimension value, so a burst of them cannot add dimensions.
const Unmatched = "unmatched"

// The directives never change, so they are written out here rather than
// encoded at start-up (encoding/json's reflection cost 0.3 ms and 137
// allocations of every cold start). TestAccessLineMetrics reads them back
// as CloudWatch does. docs/OBSERVABILITY.md is the contract.
const perRequest = `{"Namespace":"` + Namespace + `","Dimensions":[["Service","Operation"],["Service"]],` +
	`"Metrics":[{"Name":"Requests","Unit":"Count"},{"Name":"Latency","Unit":"Milliseconds"},` +
	`{"Name":"Errors4xx","Unit":"Count"},{"Name":"Errors5xx","Unit":"Count"}]},` +
	`{"Namespace":"` + Namespace + `","Dimensions":[["Service","StatusClass"]],"Metrics":[{"Name":"Requests","Unit":"Count"}]}`

const coldStart = `{"Namespace":"` + Namespace + `","Dimensions":[["Service"]],"Metrics":[{"Name":"ColdStart","Unit":"Count"}]}`

const (
	warmDirectives = "[" + perRequest + "]"
	coldDirectives = "[" + perRequest + "," + coldStart + "]"
)

// New is a JSON log handler writing to w (as slog.NewJSONHandler) that
// adds the metrics to access lines and leaves every other record as it
// is. service is the Service dimension's value.
//
// The _aws member's directives never change, and encoding them as a JSON
// value through slog (encoding/json, then compaction) cost a tenth of a
// request: instead the record carries a short placeholder as its last
// member, and the writer below puts the encoded member in its place.
func New(w io.Writer, service string, opts *slog.HandlerOptions) slog.Handler {
	return &handler{next: slog.NewJSONHandler(&splicer{w: w}, opts), service: service, started: new(atomic.Bool)}
}

type handler struct {
	next    slog.Handler
	service string
	started *atomic.Bool // shared by the handlers WithAttrs makes
	grouped bool         // under WithGroup members would not be top level
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
	mark := placeholderWarm
	if cold {
		mark = placeholderCold
	}
	attrs := [...]slog.Attr{
		slog.String("Service", h.service),
		slog.String("Operation", Operation(route, operation)),
		slog.String("StatusClass", StatusClass(status)),
		slog.Int("Requests", 1),
		slog.Float64("Latency", latency),
		slog.Int("Errors4xx", b2i(status >= 400 && status < 500)),
		slog.Int("Errors5xx", b2i(status >= 500)),
		slog.Int("ColdStart", 1),
		// Last, so the writer finds it at the line's end.
		slog.Int64(placeholderKey, r.Time.UnixMilli()*10+mark),
	}
	all := attrs[:]
	if !cold {
		all = append(attrs[:7:7], attrs[8])
	}
	r.AddAttrs(all...)
	return h.next.Handle(ctx, r)
}

// The placeholder member: its key is one no other member has, its value
// the record's time in epoch milliseconds times ten, plus 1 on the cold
// line.
const (
	placeholderKey        = "_aws"
	placeholderWarm int64 = 0
	placeholderCold int64 = 1
)

var placeholder = []byte(`,"` + placeholderKey + `":`)

// splicer replaces the placeholder at the end of an access line with the
// _aws member. Lines without one pass unchanged. The JSON handler writes
// each line with one Write, under its lock.
type splicer struct {
	w   io.Writer
	mu  sync.Mutex
	buf []byte
}

func (s *splicer) Write(p []byte) (int, error) {
	// A line ends `,"_aws":1234567890123}` + "\n" when it has one. A string
	// cannot fake it: inside a JSON string every quote is escaped.
	i := bytes.LastIndex(p, placeholder)
	if i < 0 || !bytes.HasSuffix(p, []byte("}\n")) {
		return s.w.Write(p)
	}
	v, err := strconv.ParseInt(string(p[i+len(placeholder):len(p)-2]), 10, 64)
	if err != nil {
		return s.w.Write(p)
	}
	directives := warmDirectives
	if v%10 == placeholderCold {
		directives = coldDirectives
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b := append(s.buf[:0], p[:i+len(placeholder)]...)
	b = append(b, `{"Timestamp":`...)
	b = strconv.AppendInt(b, v/10, 10)
	b = append(b, `,"CloudWatchMetrics":`...)
	b = append(b, directives...)
	b = append(b, "}}\n"...)
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

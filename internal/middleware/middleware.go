// Package middleware holds the net/http middleware every runtime shares:
// request ids, the one access line per request, panic recovery and the
// problem+json body used for errors that happen outside an operation.
// Each is a func(http.Handler) http.Handler.
package middleware

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// RequestIDHeader carries the request id in and out.
const RequestIDHeader = "X-Request-Id"

type ctxKey int

const (
	requestIDKey ctxKey = iota
	stateKey
	logAttrsKey
)

// RequestID returns the request id middleware put into ctx, or "".
func RequestID(ctx context.Context) string {
	if st := stateOf(ctx); st != nil {
		st.mu.Lock()
		defer st.mu.Unlock()
		if st.id != "" {
			return st.id
		}
	}
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// WithRequestID returns ctx carrying id (used by tests and the Lambda glue).
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey, id)
}

// MaxRequestIDLength bounds a client-sent X-Request-Id.
const MaxRequestIDLength = 128

// RequestIDPattern is what a client-sent X-Request-Id may hold, for the
// spec (empty is as if not sent).
const RequestIDPattern = `^[A-Za-z0-9._:/+=-]*$`

// SaneRequestID reports whether a client-sent id may be reused: 1 to 128
// characters of letters, digits and -_.:/+= (no spaces or control bytes, so
// it cannot split a header or forge a log line).
func SaneRequestID(id string) bool {
	if id == "" || len(id) > MaxRequestIDLength {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-_.:/+=", c) >= 0) {
			return false
		}
	}
	return true
}

// NewRequestID makes a random 128-bit id in hex.
func NewRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// RequestIDs honours a sane X-Request-Id, makes one otherwise, stores it in
// the request context and echoes it on the response. Inside AccessLog the
// id joins the request's state, so the request is not copied again. (An
// id that is not sane is then refused by RefuseBadRequestID, under the new
// id.)
func RequestIDs(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(RequestIDHeader)
		if !SaneRequestID(id) {
			id = NewRequestID()
		}
		w.Header().Set(RequestIDHeader, id)
		if st := stateOf(r.Context()); st != nil {
			st.mu.Lock()
			st.id = id
			st.mu.Unlock()
		} else {
			r = r.WithContext(WithRequestID(r.Context(), id))
		}
		next.ServeHTTP(w, r)
	})
}

// BadRequestIDDetail and BadRequestIDMessage are what the 400 of
// RefuseBadRequestID says.
const (
	BadRequestIDDetail  = "X-Request-Id must be one value of 1 to 128 characters of letters, digits and -_.:/+= (or left out: the server then makes one)."
	BadRequestIDMessage = "expected one value of length <= 128 matching " + RequestIDPattern
)

// RefuseBadRequestID answers 400 to a request whose X-Request-Id is sent
// more than once, or is longer than MaxRequestIDLength or holds other
// characters: one the server silently replaced would break the client's
// tracing without telling it. It goes inside SecurityHeaders and CORS, so
// the problem carries their headers; an empty value is as if not sent.
func RefuseBadRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ids := r.Header[RequestIDHeader]
		if len(ids) == 0 || len(ids) == 1 && (ids[0] == "" || SaneRequestID(ids[0])) {
			next.ServeHTTP(w, r)
			return
		}
		WriteProblem(w, r, http.StatusBadRequest, BadRequestIDDetail,
			ProblemError{Location: "header." + RequestIDHeader, Message: BadRequestIDMessage})
	})
}

// state is what the layers below AccessLog learn about a request (its id,
// the route and operation that matched) for the access line, in one
// context value.
type state struct {
	mu        sync.Mutex
	id        string
	route     string
	operation string
}

func stateOf(ctx context.Context) *state {
	st, _ := ctx.Value(stateKey).(*state)
	return st
}

// Annotate records the matched route pattern and operation id for the
// access line. It is a no-op outside AccessLog.
func Annotate(ctx context.Context, route, operation string) {
	if st := stateOf(ctx); st != nil {
		st.mu.Lock()
		st.route, st.operation = route, operation
		st.mu.Unlock()
	}
}

// WithLogAttrs returns ctx carrying fields for the access line of the
// request it belongs to (the Lambda glue adds the AWS request ids).
func WithLogAttrs(ctx context.Context, attrs ...slog.Attr) context.Context {
	if len(attrs) == 0 {
		return ctx
	}
	prev, _ := ctx.Value(logAttrsKey).([]slog.Attr)
	return context.WithValue(ctx, logAttrsKey, append(slices.Clip(prev), attrs...))
}

// recorder remembers the status and size of a response for the access log
// and tells Recover whether a response was already started.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (rec *recorder) WriteHeader(code int) {
	if rec.status == 0 {
		rec.status = code
	}
	rec.ResponseWriter.WriteHeader(code)
}

func (rec *recorder) Write(b []byte) (int, error) {
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	n, err := rec.ResponseWriter.Write(b)
	rec.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer (Huma
// sets read deadlines through it).
func (rec *recorder) Unwrap() http.ResponseWriter { return rec.ResponseWriter }

func (rec *recorder) Flush() {
	if f, ok := rec.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// AccessMessage is the message of the access line, by which log handlers
// (the EMF metrics) know it.
const AccessMessage = "request"

// AccessLog writes one line per request with stable keys: method, path,
// route, operation, status, duration_ms, request_id, remote_ip, bytes, and
// whatever the runtime added with AddLogAttrs. The line is logged with the
// request's context, so a handler wrapped by TraceIDs (or the EMF one)
// adds trace_id when the request has a trace.
func AccessLog(logger *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			extra, _ := r.Context().Value(logAttrsKey).([]slog.Attr)
			// One allocation for both: this runs on every request.
			both := &struct {
				st  state
				rec recorder
			}{rec: recorder{ResponseWriter: w}}
			st, rec := &both.st, &both.rec
			r = r.WithContext(context.WithValue(r.Context(), stateKey, st))
			defer func() {
				status := rec.status
				if status == 0 {
					status = http.StatusOK
				}
				level := slog.LevelInfo
				if status >= 500 {
					level = slog.LevelError
				}
				ctx := r.Context()
				if !logger.Enabled(ctx, level) {
					return
				}
				// A record made here, with no caller PC: Logger.LogAttrs
				// would walk the stack for a source position that the
				// access line never shows.
				line := slog.NewRecord(time.Now(), level, AccessMessage, 0)
				// One AddAttrs call, so the record grows its storage once.
				attrs := make([]slog.Attr, 0, 12)
				client := ClientIP(r)
				st.mu.Lock()
				nameSpan(ctx, r.Method, st.route, st.operation, client)
				attrs = append(attrs,
					slog.String("method", r.Method),
					slog.String("path", r.URL.Path),
					slog.String("route", st.route),
					slog.String("operation", st.operation),
					slog.Int("status", status),
					slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
					slog.String("request_id", st.id),
					slog.String("remote_ip", client),
					slog.Int64("bytes", rec.bytes),
				)
				st.mu.Unlock()
				line.AddAttrs(append(attrs, extra...)...)
				_ = logger.Handler().Handle(ctx, line)
			}()
			next.ServeHTTP(rec, r)
		})
	}
}

// nameSpan names the request's server span (internal/tracing) by its
// route template, never the raw path, once the router has matched it:
// "GET /v1/items/{id}", or "GET" when no route matched. It also sets the
// span's client.address to the client the access line names (Forwarding):
// otelhttp takes the first X-Forwarded-For entry, which any client writes.
func nameSpan(ctx context.Context, method, route, operation, client string) {
	span := trace.SpanFromContext(ctx)
	if !span.IsRecording() {
		return
	}
	span.SetAttributes(attribute.String("client.address", client))
	if route != "" {
		span.SetName(method + " " + route)
		span.SetAttributes(attribute.String("http.route", route))
	}
	if operation != "" {
		span.SetAttributes(attribute.String("typedapi.operation", operation))
	}
}

// remoteIP is the host of a "host:port" address, or addr itself: on
// Lambda it is the source IP without a port, where SplitHostPort would
// make an error to say so on every request.
func remoteIP(addr string) string {
	if strings.IndexByte(addr, ':') < 0 {
		return addr
	}
	if host, _, err := net.SplitHostPort(addr); err == nil {
		return host
	}
	return addr
}

// Recover turns a panic below it into a logged stack trace (with the
// request id) and a 500 problem that says nothing of the cause.
func Recover(logger *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rec, ok := w.(*recorder)
			if !ok {
				rec = &recorder{ResponseWriter: w}
			}
			defer func() {
				v := recover()
				if v == nil {
					return
				}
				if v == http.ErrAbortHandler {
					panic(v) // net/http's way to abort a response; not a bug
				}
				logger.ErrorContext(r.Context(), "panic in handler",
					"request_id", RequestID(r.Context()), "panic", v, "stack", string(debug.Stack()))
				if rec.status == 0 {
					WriteProblem(rec, r, http.StatusInternalServerError, "The server hit an unexpected condition; the request id identifies it in the logs.")
				}
			}()
			next.ServeHTTP(rec, r)
		})
	}
}

// Problem is an RFC 9457 problem body, the same shape Huma writes.
type Problem struct {
	Title    string         `json:"title"`
	Status   int            `json:"status"`
	Detail   string         `json:"detail,omitempty"`
	Instance string         `json:"instance,omitempty"`
	Errors   []ProblemError `json:"errors,omitempty"`
}

// ProblemError is one thing wrong with a request, as Huma's ErrorDetail
// names it.
type ProblemError struct {
	Message  string `json:"message,omitempty"`
	Location string `json:"location,omitempty"`
}

// WriteProblem answers with an application/problem+json body for errors
// that happen outside an operation (unknown path, wrong method, panics, a
// bad request id).
func WriteProblem(w http.ResponseWriter, r *http.Request, status int, detail string, errs ...ProblemError) {
	h := w.Header()
	h.Del("Content-Length")
	h.Set("Content-Type", "application/problem+json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if r.Method == http.MethodHead {
		return
	}
	_ = json.NewEncoder(w).Encode(Problem{
		Title:  http.StatusText(status),
		Status: status,
		Detail: detail,
		Errors: errs,
	})
}

// Chain applies middleware so that the first one listed is outermost.
func Chain(h http.Handler, mws ...func(http.Handler) http.Handler) http.Handler {
	for i := len(mws) - 1; i >= 0; i-- {
		h = mws[i](h)
	}
	return h
}

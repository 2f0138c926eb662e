package middleware

import (
	"context"
	"encoding/hex"
	"log/slog"

	"go.opentelemetry.io/otel/trace"
)

// TraceIDKey names the member that carries a line's W3C trace id (32 hex
// digits): the access line's, and any other line logged with a request's
// context (slog.InfoContext and the like).
const TraceIDKey = "trace_id"

// TraceIDs wraps a log handler so that each line logged with a context
// that carries a trace (internal/tracing puts one there) names it under
// TraceIDKey: the handler, not AccessLog, adds it, so the EMF handler can
// write it as bytes (AppendTraceID) where slog would escape it digit by
// digit.
func TraceIDs(h slog.Handler) slog.Handler { return traceIDs{h} }

type traceIDs struct{ slog.Handler }

func (h traceIDs) Handle(ctx context.Context, r slog.Record) error {
	if sc := trace.SpanContextFromContext(ctx); sc.HasTraceID() {
		r = r.Clone() // the caller's record is not ours to grow
		r.AddAttrs(slog.String(TraceIDKey, sc.TraceID().String()))
	}
	return h.Handler.Handle(ctx, r)
}

func (h traceIDs) WithAttrs(as []slog.Attr) slog.Handler { return traceIDs{h.Handler.WithAttrs(as)} }
func (h traceIDs) WithGroup(name string) slog.Handler    { return traceIDs{h.Handler.WithGroup(name)} }

// AppendTraceID appends the TraceIDKey member of ctx's trace to a JSON
// object being written, preceded by a comma; b as it is when ctx carries
// no trace. Hex digits need no escaping.
func AppendTraceID(b []byte, ctx context.Context) []byte {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.HasTraceID() {
		return b
	}
	id := sc.TraceID()
	b = append(b, `,"`+TraceIDKey+`":"`...)
	b = hex.AppendEncode(b, id[:])
	return append(b, '"')
}

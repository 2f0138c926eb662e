// Package jsonlog is the service's slog.Handler for JSON lines. It writes
// exactly what slog.JSONHandler writes, byte for byte, and writes a flat
// record itself at a fraction of the cost: no groups, no WithAttrs, no
// ReplaceAttr or AddSource, and values that are strings, integers, finite
// floats, booleans or durations. The access line is such a record, once per
// request, and slog's general path (with a json.Marshal for each float) was
// most of what the line cost. Every other record goes to a
// slog.JSONHandler that shares the writer and its lock, so lines never
// interleave.
package jsonlog

import (
	"context"
	"io"
	"log/slog"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/typedapi/typedapi/internal/jsonbytes"
)

// Handler is a slog.Handler; see the package comment.
type Handler struct {
	w    *lockedWriter
	json slog.Handler
	flat bool // records may take the fast path
}

// New returns a Handler writing to w with opts, as slog.NewJSONHandler would.
func New(w io.Writer, opts *slog.HandlerOptions) *Handler {
	if opts == nil {
		opts = &slog.HandlerOptions{}
	}
	lw := &lockedWriter{w: w}
	return &Handler{w: lw, json: slog.NewJSONHandler(lw, opts), flat: !opts.AddSource && opts.ReplaceAttr == nil}
}

// Enabled reports whether the level is on, as the options say.
func (h *Handler) Enabled(ctx context.Context, l slog.Level) bool { return h.json.Enabled(ctx, l) }

// WithAttrs returns a handler whose records all go through slog.JSONHandler.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &Handler{w: h.w, json: h.json.WithAttrs(attrs)}
}

// WithGroup returns a handler whose records all go through slog.JSONHandler.
func (h *Handler) WithGroup(name string) slog.Handler {
	return &Handler{w: h.w, json: h.json.WithGroup(name)}
}

var buffers = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// Handle writes r as one JSON line.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	if !h.flat {
		return h.json.Handle(ctx, r)
	}
	bp := buffers.Get().(*[]byte)
	defer func() {
		if cap(*bp) <= 64<<10 { // a huge line's buffer is not worth keeping
			buffers.Put(bp)
		}
	}()
	line, ok := appendRecord((*bp)[:0], r)
	*bp = line
	if !ok {
		return h.json.Handle(ctx, r)
	}
	_, err := h.w.Write(line)
	return err
}

// appendRecord appends r as slog.JSONHandler writes it, or reports false
// when r holds something only slog's general path writes.
func appendRecord(b []byte, r slog.Record) ([]byte, bool) {
	b = append(b, '{')
	if !r.Time.IsZero() {
		t := r.Time.Round(0)
		if y := t.Year(); y < 0 || y >= 10000 {
			return b, false // slog writes an error for these
		}
		b = append(b, `"time":"`...)
		b = t.AppendFormat(b, time.RFC3339Nano)
		b = append(b, `",`...)
	}
	b = append(b, `"level":`...)
	b = jsonbytes.SlogString(b, r.Level.String())
	b = append(b, `,"msg":`...)
	b = jsonbytes.SlogString(b, r.Message)
	ok := true
	r.Attrs(func(a slog.Attr) bool {
		b, ok = appendAttr(b, a)
		return ok
	})
	return append(b, "}\n"...), ok
}

func appendAttr(b []byte, a slog.Attr) ([]byte, bool) {
	if a.Key == "" {
		return b, false // elided or written as "" by slog's rules
	}
	b = append(b, ',')
	b = jsonbytes.SlogString(b, a.Key)
	b = append(b, ':')
	v := a.Value
	switch v.Kind() {
	case slog.KindString:
		b = jsonbytes.SlogString(b, v.String())
	case slog.KindInt64:
		b = strconv.AppendInt(b, v.Int64(), 10)
	case slog.KindUint64:
		b = strconv.AppendUint(b, v.Uint64(), 10)
	case slog.KindFloat64:
		f := v.Float64()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return b, false
		}
		b = jsonbytes.Float(b, f)
	case slog.KindBool:
		b = strconv.AppendBool(b, v.Bool())
	case slog.KindDuration:
		b = strconv.AppendInt(b, int64(v.Duration()), 10)
	default:
		return b, false
	}
	return b, true
}

// lockedWriter serialises the fast path's writes with slog.JSONHandler's.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

var _ slog.Handler = (*Handler)(nil)

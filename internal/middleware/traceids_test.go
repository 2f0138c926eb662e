package middleware

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/trace"
)

const traceHex = "4bf92f3577b34da6a3ce929d0e0e4736"

func tracedContext(t *testing.T) context.Context {
	t.Helper()
	tid, err := trace.TraceIDFromHex(traceHex)
	if err != nil {
		t.Fatal(err)
	}
	sid, _ := trace.SpanIDFromHex("00f067aa0ba902b7")
	return trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid}))
}

// TestAccessLineTraceID: the access line of a request with a trace names
// it once through a TraceIDs handler, and one without names none.
func TestAccessLineTraceID(t *testing.T) {
	var buf bytes.Buffer
	h := AccessLog(slog.New(TraceIDs(slog.NewJSONHandler(&buf, nil))))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	for _, ctx := range []context.Context{tracedContext(t), context.Background()} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/x", nil).WithContext(ctx))
	}
	ls := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(ls) != 2 {
		t.Fatalf("%d lines: %s", len(ls), buf.String())
	}
	for i, want := range []string{traceHex, ""} {
		var m map[string]any
		if err := json.Unmarshal([]byte(ls[i]), &m); err != nil {
			t.Fatal(err)
		}
		if got, _ := m[TraceIDKey].(string); got != want || strings.Count(ls[i], TraceIDKey) > 1 || m["msg"] != AccessMessage {
			t.Errorf("line %d: trace_id %q, want %q: %s", i, got, want, ls[i])
		}
	}
}

// TestTraceIDs: any line logged with a traced context gets the id, in text
// too, and loggers made With and WithGroup keep the wrapper (the id then
// sits in the group, as every attribute the handler adds does).
func TestTraceIDs(t *testing.T) {
	ctx := tracedContext(t)
	var buf bytes.Buffer
	l := slog.New(TraceIDs(slog.NewTextHandler(&buf, nil)))
	l.With("a", 1).InfoContext(ctx, "with")
	l.WithGroup("g").InfoContext(ctx, "grouped")
	l.Info("no context")
	ls := strings.Split(strings.TrimSpace(buf.String()), "\n")
	for i, want := range []string{"trace_id=" + traceHex, "g.trace_id=" + traceHex, ""} {
		if want == "" {
			if strings.Contains(ls[i], "trace_id") {
				t.Errorf("line %d names a trace: %s", i, ls[i])
			}
		} else if !strings.Contains(ls[i], want) {
			t.Errorf("line %d lacks %s: %s", i, want, ls[i])
		}
	}
	if !strings.Contains(ls[0], "a=1") {
		t.Errorf("With's attribute lost: %s", ls[0])
	}
	if got := string(AppendTraceID([]byte("{"), context.Background())); got != "{" {
		t.Errorf("AppendTraceID without a trace: %q", got)
	}
}

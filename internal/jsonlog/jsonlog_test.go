package jsonlog

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math"
	"strings"
	"sync"
	"testing"
	"time"
)

// same writes r through our handler and through slog.JSONHandler and
// fails unless the bytes are identical.
func same(t *testing.T, opts *slog.HandlerOptions, r slog.Record, with func(slog.Handler) slog.Handler) {
	t.Helper()
	var ours, theirs bytes.Buffer
	var h, s slog.Handler = New(&ours, opts), slog.NewJSONHandler(&theirs, opts)
	if with != nil {
		h, s = with(h), with(s)
	}
	if err := h.Handle(context.Background(), r.Clone()); err != nil {
		t.Fatal(err)
	}
	_ = s.Handle(context.Background(), r.Clone())
	if ours.String() != theirs.String() {
		t.Errorf("differs from slog.JSONHandler:\n ours %q\nslog's %q", ours.String(), theirs.String())
	}
}

func record(msg string, attrs ...slog.Attr) slog.Record {
	r := slog.NewRecord(time.Date(2026, 11, 25, 20, 36, 2, 123456789, time.UTC), slog.LevelInfo, msg, 0)
	r.AddAttrs(attrs...)
	return r
}

// TestSameAsSlog: the access line and the awkward values come out as
// slog.JSONHandler writes them, whichever path writes them.
func TestSameAsSlog(t *testing.T) {
	access := []slog.Attr{
		slog.String("method", "GET"), slog.String("path", "/v1/items/01JDQ8Z6M3N4P5Q6R7S8T9V0WX"),
		slog.String("route", "GET /v1/items/{id}"), slog.String("operation", "get-item"), slog.Int("status", 200),
		slog.Float64("duration_ms", 0.042), slog.String("request_id", "c0ffee"), slog.String("remote_ip", "192.0.2.1"),
		slog.Int64("bytes", 312), slog.String("aws_request_id", "8476a536-e9f4-11e8-9739-2dfe598c3fcd"),
	}
	cases := map[string]slog.Record{
		"access line": record("request", access...),
		"escapes":     record("a\"b\\c\n\r\t\x00\x1f<>&\u2028\u2029\xff\xfeé😀", slog.String("k\"\x01", "\xc3\x28 \u2029")),
		"numbers": record("n", slog.Int64("min", math.MinInt64), slog.Uint64("max", math.MaxUint64),
			slog.Float64("tiny", 1e-7), slog.Float64("small", 1e-6), slog.Float64("big", 1e21), slog.Float64("neg", -123.456e30),
			slog.Float64("zero", 0), slog.Float64("negzero", math.Copysign(0, -1)), slog.Float64("max", math.MaxFloat64),
			slog.Float64("sub", 5e-324), slog.Bool("t", true), slog.Bool("f", false), slog.Duration("d", -1500*time.Millisecond)),
		"level and no time": func() slog.Record {
			r := slog.NewRecord(time.Time{}, slog.LevelError+2, "", 0)
			r.AddAttrs(slog.String("x", ""))
			return r
		}(),
		"time with zone and monotonic": func() slog.Record {
			r := slog.NewRecord(time.Now().In(time.FixedZone("", -3*3600-30*60)), slog.LevelDebug-1, "m", 0)
			return r
		}(),
		// Only slog's general path writes these: the handler must hand them over.
		"empty key":       record("m", slog.String("", "v"), slog.Attr{}),
		"group":           record("m", slog.Group("g", slog.Int("a", 1)), slog.Group("", slog.Int("b", 2))),
		"any values":      record("m", slog.Any("err", errors.New("boom")), slog.Any("list", []int{1}), slog.Time("at", time.Unix(0, 0).UTC())),
		"not finite":      record("m", slog.Float64("nan", math.NaN()), slog.Float64("inf", math.Inf(-1))),
		"year out of RFC": slog.NewRecord(time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), slog.LevelInfo, "m", 0),
		"log valuer":      record("m", slog.Any("v", valuer{})),
	}
	for name, r := range cases {
		t.Run(name, func(t *testing.T) {
			same(t, nil, r, nil)
			same(t, &slog.HandlerOptions{AddSource: true}, r, nil)
			same(t, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
				if a.Key == "method" {
					a.Key = "verb"
				}
				return a
			}}, r, nil)
			same(t, nil, r, func(h slog.Handler) slog.Handler { return h.WithAttrs([]slog.Attr{slog.String("svc", "api")}) })
			same(t, nil, r, func(h slog.Handler) slog.Handler { return h.WithGroup("g") })
		})
	}
}

type valuer struct{}

func (valuer) LogValue() slog.Value { return slog.StringValue("resolved") }

// TestLevel: records below the level are not enabled, as with slog.
func TestLevel(t *testing.T) {
	h := New(io.Discard, &slog.HandlerOptions{Level: slog.LevelWarn})
	if h.Enabled(context.Background(), slog.LevelInfo) || !h.Enabled(context.Background(), slog.LevelWarn) {
		t.Error("levels not honoured")
	}
}

// TestLinesDoNotInterleave: fast-path and slog-path lines written at once
// from many goroutines each arrive whole.
func TestLinesDoNotInterleave(t *testing.T) {
	var out bytes.Buffer
	logger := slog.New(New(&out, nil))
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				if (g+i)%2 == 0 {
					logger.Info("fast", "i", i, "pad", strings.Repeat("x", 300))
				} else {
					logger.Info("slow", "err", errors.New("e"), "pad", strings.Repeat("y", 300))
				}
			}
		}()
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 1600 {
		t.Fatalf("%d lines, want 1600", len(lines))
	}
	for _, l := range lines {
		if !json.Valid([]byte(l)) {
			t.Fatalf("broken line %q", l)
		}
	}
}

// FuzzSameAsSlog: any message, key and values come out as slog writes them.
func FuzzSameAsSlog(f *testing.F) {
	f.Add("request", "path", "/v1/items", int64(-1), uint64(1), 0.042, true, int64(1500), int64(1764102962123456789))
	f.Add("\xff\u2028", "k\"", "\x00<>&", int64(0), uint64(0), 1e-7, false, int64(0), int64(0))
	f.Fuzz(func(t *testing.T, msg, key, s string, i int64, u uint64, fl float64, b bool, d, at int64) {
		r := slog.NewRecord(time.Unix(0, at).UTC(), slog.Level(i%16), msg, 0)
		r.AddAttrs(slog.String(key, s), slog.Int64("i", i), slog.Uint64("u", u), slog.Float64("f", fl),
			slog.Bool("b", b), slog.Duration("d", time.Duration(d)), slog.String("s", s))
		same(t, nil, r, nil)
	})
}

// BenchmarkAccessLine: the access line through our handler and slog's.
func BenchmarkAccessLine(b *testing.B) {
	for _, impl := range []struct {
		name string
		h    slog.Handler
	}{{"jsonlog", New(io.Discard, nil)}, {"slog", slog.NewJSONHandler(io.Discard, nil)}} {
		b.Run("impl="+impl.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				r := slog.NewRecord(time.Now(), slog.LevelInfo, "request", 0)
				r.AddAttrs(slog.String("method", "GET"), slog.String("path", "/v1/items/01JDQ8Z6M3N4P5Q6R7S8T9V0WX"),
					slog.String("route", "GET /v1/items/{id}"), slog.String("operation", "get-item"), slog.Int("status", 200),
					slog.Float64("duration_ms", 0.042), slog.String("request_id", "c0ffee"), slog.String("remote_ip", "192.0.2.1"),
					slog.Int64("bytes", 312), slog.String("aws_request_id", "8476a536-e9f4-11e8-9739-2dfe598c3fcd"),
					slog.String("apigw_request_id", "JiKGgj5CoAMEJQA="))
				_ = impl.h.Handle(context.Background(), r)
			}
		})
	}
}

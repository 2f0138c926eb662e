package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/typedapi/typedapi/config"
	"github.com/typedapi/typedapi/internal/tracing"
)

// BenchmarkObservability is issue 18's cost, side by side in one run (the
// sub-benchmarks alternate with -count): a container GET of one item with
// no metrics and no tracing layer (as before), with EMF on, with the
// tracing layer off (without and with a traceparent, which is then read
// and logged), and with tracing on,
// sampling 10% of new traces, exporting over OTLP/HTTP to a local endpoint
// that discards. docs/PERFORMANCE.md has the numbers.
//
//	go test -run '^$' -bench Observability -benchmem -count 6 ./cmd/api | tee obs.txt && benchstat -col /variant obs.txt
func BenchmarkObservability(b *testing.B) {
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.Copy(io.Discard, r.Body) }))
	defer sink.Close()
	variants := []struct {
		name        string
		metrics     bool
		env         map[string]string // nil: no tracing layer at all
		traceparent bool
	}{
		{"before", false, nil, true},
		{"emf", true, nil, true},
		{"emf-traces-off-no-traceparent", true, map[string]string{}, false},
		{"emf-traces-off", true, map[string]string{}, true},
		// No traceparent: each request starts a trace, and the sampler
		// keeps one in ten (a fixed caller's trace id would be all or none).
		{"emf-traces-10pct", true, map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": sink.URL,
			"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.1"}, false},
	}
	for _, v := range variants {
		b.Run("variant="+v.name, func(b *testing.B) {
			b.Setenv("OTEL_TRACES_SAMPLER", "traceidratio")
			b.Setenv("OTEL_TRACES_SAMPLER_ARG", "0.1")
			getenv := func(k string) string { return v.env[k] }
			cfg, err := config.Load("", getenv)
			if err != nil {
				b.Fatal(err)
			}
			cfg.Metrics = v.metrics
			logger := newLogger(cfg, io.Discard)
			h, _, err := newAPI(cfg, getenv, logger)
			if err != nil {
				b.Fatal(err)
			}
			if v.env != nil {
				tr, err := tracing.Setup(context.Background(), getenv, tracing.Options{Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
				if err != nil {
					b.Fatal(err)
				}
				defer tr.Shutdown(context.Background())
				h = tr.Handler(h)
			}
			path := "/v1/items/" + seed(b, h)
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest("GET", path, nil)
				if v.traceparent {
					req.Header.Set("Traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00")
				}
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != 200 {
					b.Fatal(rec.Code, rec.Body.String())
				}
			}
		})
	}
}

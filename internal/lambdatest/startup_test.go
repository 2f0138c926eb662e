package lambdatest

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/typedapi/typedapi/config"
	"github.com/typedapi/typedapi/internal/serve"
	"github.com/typedapi/typedapi/operations"
	"github.com/typedapi/typedapi/store/dynamodb"
	"github.com/typedapi/typedapi/store/memory"
)

// BenchmarkStartup times, in process, each piece of work the bootstrap
// does between exec and asking for its first event, so the cold path's
// cost can be attributed (lambdatest/coldstart measures the whole):
//
//	go test -run '^$' -bench Startup -benchmem -count 6 ./lambdatest
func BenchmarkStartup(b *testing.B) {
	noenv := func(string) string { return "" }
	logger := slog.New(slog.NewJSONHandler(io.Discard, nil))
	b.Run("step=config.Load", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := config.Load("", noenv); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("step=operations.New", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			operations.New(operations.Options{Logger: logger}, operations.StoresOf(memory.New()))
		}
	})
	b.Run("step=dynamodb.New", func(b *testing.B) {
		// Configures the SDK client (environment, shared config files);
		// it makes no network call. Lambda sets no AWS_CA_BUNDLE; a
		// developer machine may, and parsing it costs milliseconds.
		b.Setenv("AWS_CA_BUNDLE", "")
		b.ReportAllocs()
		for b.Loop() {
			if _, err := dynamodb.New(context.Background(), dynamodb.Options{Table: "t", Region: "us-east-1", Getenv: noenv}); err != nil {
				b.Fatal(err)
			}
		}
	})
	// Kept off the cold path: the OpenAPI document is rendered on its first
	// request, not at start. This is what that first request costs.
	b.Run("lazy=first-openapi.json", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			h, _ := operations.New(operations.Options{Logger: logger}, operations.StoresOf(memory.New()))
			rec := httptest.NewRecorder()
			b.StartTimer()
			h.ServeHTTP(rec, httptest.NewRequest("GET", "/openapi.json", nil))
			if rec.Code != 200 {
				b.Fatal(rec.Code)
			}
		}
	})
	h, _ := operations.New(operations.Options{Logger: logger}, operations.StoresOf(memory.New()))
	b.Run("step=serve.NewLambdaHandler", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			serve.NewLambdaHandler(h, serve.LambdaOptions{Logger: logger})
		}
	})
}

package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/typedapi/typedapi/config"
	"github.com/typedapi/typedapi/internal/httpbench"
	"github.com/typedapi/typedapi/internal/lambdalocal"
	"github.com/typedapi/typedapi/internal/serve"
	"github.com/typedapi/typedapi/store/memory"
)

// Benchmarks of one request through the complete handler (middleware,
// routing, validation, memory store, encoding): over net/http in process,
// and through the Lambda handler from event bytes to response bytes.
//
//	go test -run '^$' -bench . -benchmem -count 10 ./cmd/api | tee new.txt && benchstat new.txt

const benchBody = `{"name":"Espresso cup","description":"80 ml","price":1250,"currency":"EUR","tags":["kitchen","porcelain"]}`

// benchHandler is the API on the default (memory) store.
func benchHandler(b *testing.B) http.Handler {
	b.Helper()
	return storeHandler(b, nil)
}

// lambdaBenchHandler is the API as a Lambda function builds it: operations
// registered on their first request (lazyOperations), so until all have
// been, each request takes the registration lock for reading.
func lambdaBenchHandler(b *testing.B) http.Handler {
	b.Helper()
	// On Lambda auth is never off by default: it is switched off
	// explicitly, so these numbers stay comparable with the HTTP ones.
	return storeHandler(b, map[string]string{"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001", "TYPEDAPI_AUTH_MODE": "off"})
}

// seed creates one item and returns its id.
func seed(b *testing.B, h http.Handler) string {
	req := httptest.NewRequest("POST", "/v1/items", strings.NewReader(benchBody))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 201 {
		b.Fatalf("seed: %d", rec.Code)
	}
	return strings.TrimPrefix(rec.Header().Get("Location"), "/v1/items/")
}

func BenchmarkHTTPGetItem(b *testing.B) { benchGet(b, benchHandler(b)) }

func BenchmarkHTTPCreateItem(b *testing.B) { benchCreate(b, benchHandler(b)) }

// BenchmarkHTTPGetItemRateLimited is BenchmarkHTTPGetItem with the
// per-client rate limit on, at a rate no run reaches (every request is
// checked, none refused), behind a trusted proxy as the container deploy
// runs: compare it with BenchmarkHTTPGetItem (scripts/bench-http measures
// the same over TCP).
func BenchmarkHTTPGetItemRateLimited(b *testing.B) {
	benchGet(b, storeHandler(b, map[string]string{
		"TYPEDAPI_RATE_LIMIT": "1000000", "TYPEDAPI_RATE_BURST": "1000000", "TYPEDAPI_TRUSTED_PROXIES": "192.0.2.0/24",
	}))
}

// benchGet times GET of one seeded item through h.
func benchGet(b *testing.B, h http.Handler) {
	path := "/v1/items/" + seed(b, h)
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != 200 {
			b.Fatal(rec.Code, rec.Body.String())
		}
	}
}

// benchCreate times POST of benchBody through h.
func benchCreate(b *testing.B, h http.Handler) {
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest("POST", "/v1/items", strings.NewReader(benchBody))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 201 {
			b.Fatal(rec.Code, rec.Body.String())
		}
	}
}

func benchInvoke(b *testing.B, req lambdalocal.Request, want int) {
	h := lambdaBenchHandler(b)
	if strings.Contains(req.Target, "{id}") {
		req.Target = strings.Replace(req.Target, "{id}", seed(b, h), 1)
	}
	lh := serve.NewLambdaHandler(h, serve.LambdaOptions{Logger: benchLogger()})
	ev, err := lambdalocal.Build(req)
	if err != nil {
		b.Fatal(err)
	}
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "bench"})
	wantPrefix := `{"statusCode":` + strconv.Itoa(want)
	b.ReportAllocs()
	for b.Loop() {
		out, err := lh.Invoke(ctx, ev)
		if err != nil || !strings.HasPrefix(string(out), wantPrefix) {
			b.Fatalf("%v %.100s", err, out)
		}
	}
}

func BenchmarkLambdaV2GetItem(b *testing.B) {
	benchInvoke(b, lambdalocal.Request{Source: "http", Method: "GET", Target: "/v1/items/{id}"}, 200)
}

func BenchmarkLambdaV2CreateItem(b *testing.B) {
	benchInvoke(b, lambdalocal.Request{Source: "http", Method: "POST", Target: "/v1/items", Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(benchBody)}, 201)
}

func BenchmarkLambdaV2CreateItemInvalid(b *testing.B) {
	benchInvoke(b, lambdalocal.Request{Source: "http", Method: "POST", Target: "/v1/items", Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(`{"name":"","price":-1,"currency":"EUR"}`)}, 422)
}

func BenchmarkLambdaV1GetItem(b *testing.B) {
	benchInvoke(b, lambdalocal.Request{Source: "rest", Method: "GET", Target: "/v1/items/{id}"}, 200)
}

func BenchmarkLambdaV1CreateItem(b *testing.B) {
	benchInvoke(b, lambdalocal.Request{Source: "rest", Method: "POST", Target: "/v1/items", Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(benchBody)}, 201)
}

// benchLogger is the service's own JSON logger, as newLogger makes it,
// writing nowhere: the access line costs what it costs in production.
func benchLogger() *slog.Logger {
	return newLogger(config.Config{LogLevel: slog.LevelInfo, LogFormat: "json"}, io.Discard)
}

// The container floor in process (scripts/bench-http measures it over
// real connections): the same GET and create on bare Huma, to compare with
// BenchmarkHTTPGetItem and BenchmarkHTTPCreateItem in one run.
func BenchmarkHTTPGetItemBareHuma(b *testing.B) { benchGet(b, httpbench.BareHuma(memory.New())) }

func BenchmarkHTTPCreateItemBareHuma(b *testing.B) {
	benchCreate(b, httpbench.BareHuma(memory.New()))
}

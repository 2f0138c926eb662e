package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/typedapi/typedapi/config"
	"github.com/typedapi/typedapi/internal/lambdalocal"
	"github.com/typedapi/typedapi/internal/serve"
	"github.com/typedapi/typedapi/internal/tracing"
	"github.com/typedapi/typedapi/internal/tracing/tracingtest"
)

// TestLambdaTraces: on Lambda each invocation's spans reach the collector
// before Invoke returns (the runtime freezes the process then), the server
// span carries faas.invocation_id, and it links to X-Ray's trace from the
// invocation, or from the front door's header; a malformed X-Ray header is
// ignored and the request served.
func TestLambdaTraces(t *testing.T) {
	rcv := tracingtest.NewReceiver(t)
	// On Lambda auth must be configured: off here, as the requests are
	// public ones and what is under test is the span.
	env := map[string]string{"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001", "OTEL_EXPORTER_OTLP_ENDPOINT": rcv.URL, "TYPEDAPI_AUTH_MODE": "off"}
	getenv := func(k string) string { return env[k] }
	tr, err := tracing.Setup(context.Background(), getenv, tracing.Options{Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tr.Shutdown(context.Background()) })
	cfg, err := config.Load("", getenv)
	if err != nil {
		t.Fatal(err)
	}
	h, _, err := newAPI(cfg, getenv, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	l := serve.NewLambdaHandler(tr.Handler(h), serve.LambdaOptions{AfterInvoke: tr.Flush})

	const xrayTrace = "5759e988bd862e3fe1be46a994272793"
	cases := []struct {
		name        string
		ctxHeader   string // what the runtime passes (Lambda-Runtime-Trace-Id)
		frontHeader string // X-Amzn-Trace-Id on the request
		link        string // the linked trace id, or ""
	}{
		{"runtime's X-Ray trace", "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1", "", xrayTrace},
		{"front door's header", "", "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0", xrayTrace},
		{"malformed", "Root=1-nothex;Parent=zz", "garbage;;;", ""},
		{"none", "", "", ""},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			reqID := "lambda-req-" + c.name
			ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: reqID})
			if c.ctxHeader != "" {
				ctx = context.WithValue(ctx, "x-amzn-trace-id", c.ctxHeader) //nolint:staticcheck // the key aws-lambda-go uses
			}
			hdr := http.Header{}
			if c.frontHeader != "" {
				hdr.Set("X-Amzn-Trace-Id", c.frontHeader)
			}
			ev, err := lambdalocal.Build(lambdalocal.Request{Source: "http", Method: "GET", Target: "/v1/items", Header: hdr})
			if err != nil {
				t.Fatal(err)
			}
			out, err := l.Invoke(ctx, ev)
			if err != nil {
				t.Fatalf("invoke: %v", err)
			}
			if !contains(out, `"statusCode":200`) {
				t.Fatalf("response %s", out)
			}
			// No shutdown, no wait: Invoke's flush has already sent it.
			var span *tracingtest.Span
			for _, s := range rcv.Spans() {
				if s.Attributes["faas.invocation_id"] == reqID {
					span = &s
				}
			}
			if span == nil {
				t.Fatalf("invocation %d: its span had not reached the collector when Invoke returned", i)
			}
			if span.Name != "GET /v1/items" || span.Attributes["faas.trigger"] != "http" {
				t.Errorf("span %q attributes %v", span.Name, span.Attributes)
			}
			var linked string
			for _, ln := range span.Links {
				if ln.Attributes["link.kind"] == "aws.xray" {
					linked = ln.TraceID
				}
			}
			if linked != c.link {
				t.Errorf("X-Ray link to trace %q, want %q", linked, c.link)
			}
			if span.TraceID == xrayTrace {
				t.Errorf("the X-Ray trace became the parent; it is linked, not followed")
			}
		})
	}
}

func contains(b []byte, s string) bool { return strings.Contains(string(b), s) }

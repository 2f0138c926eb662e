package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/typedapi/typedapi/internal/emf"
	"github.com/typedapi/typedapi/internal/lambdalocal"
	"github.com/typedapi/typedapi/internal/lambdatest"
	"github.com/typedapi/typedapi/internal/logsink"
	"github.com/typedapi/typedapi/internal/tracing/tracingtest"
)

// storeEnvForCollector is DynamoDB Local's configuration when it runs (so
// the store's calls show as child spans), else the memory store's.
func storeEnvForCollector(t *testing.T) (map[string]string, bool) {
	envs := storeEnvs(t)
	if env, ok := envs["dynamodb"]; ok {
		return env, true
	}
	return nil, false
}

// checkCollected asserts on what the real collector received for one
// request: a server span named by its route, parented by the caller's
// traceparent, with its HTTP attributes; DynamoDB calls as its children;
// no Authorization header or token anywhere in the export.
func checkCollected(t *testing.T, col *tracingtest.Collector, route string, dynamo bool, extra func(tracingtest.Span)) {
	t.Helper()
	var server tracingtest.Span
	spans := col.WaitSpans(t, func(spans []tracingtest.Span) bool {
		found := false
		for _, s := range spans {
			if s.TraceID == parentTrace && s.Kind == 2 {
				server, found = s, true
			}
		}
		if !found || !dynamo {
			return found
		}
		for _, s := range spans {
			if s.ParentSpanID == server.SpanID {
				return true
			}
		}
		return false
	})
	if server.ParentSpanID != parentSpan || server.Name != "GET "+route || server.Attributes["http.route"] != route ||
		server.Attributes["http.request.method"] != "GET" || server.Attributes["http.response.status_code"] != "200" {
		t.Errorf("server span %q parent %q attributes %v", server.Name, server.ParentSpanID, server.Attributes)
	}
	if extra != nil {
		extra(server)
	}
	if dynamo {
		n := 0
		for _, s := range spans {
			if s.ParentSpanID == server.SpanID {
				n++
				if !strings.HasPrefix(s.Name, "DynamoDB.") || s.TraceID != parentTrace || s.Attributes["rpc.method"] == "" {
					t.Errorf("child span %q trace %s attributes %v", s.Name, s.TraceID, s.Attributes)
				}
			}
		}
		if n == 0 {
			t.Error("no DynamoDB child span")
		}
	}
	raw := col.Raw()
	if bytes.Contains(raw, []byte(token)) || bytes.Contains(bytes.ToLower(raw), []byte("authorization")) {
		t.Error("the collector received the Authorization header or its token")
	}
}

// checkLogged asserts the request's access line carries the trace id and
// metrics CloudWatch would extract.
func checkLogged(t *testing.T, out []byte, operation string) map[string]any {
	t.Helper()
	for _, line := range bytes.Split(out, []byte("\n")) {
		var m map[string]any
		if json.Unmarshal(line, &m) != nil || m["msg"] != "request" || m["operation"] != operation {
			continue
		}
		if m["trace_id"] != parentTrace {
			t.Errorf("access line trace_id %v, want %s", m["trace_id"], parentTrace)
		}
		data, err := emf.Extract(line)
		if err != nil || len(data) == 0 {
			t.Errorf("EMF on the access line: %v (%d data)\n%s", err, len(data), line)
		}
		return m
	}
	t.Fatalf("no access line for %s in:\n%.3000s", operation, out)
	return nil
}

// TestCollectorServer: the built binary, as an HTTP server, sends its
// spans to a real OpenTelemetry Collector.
func TestCollectorServer(t *testing.T) {
	col := tracingtest.StartCollector(t)
	storeEnv, dynamo := storeEnvForCollector(t)
	bin := buildBinary(t)
	port := freePort(t)
	cmd := exec.Command(bin)
	cmd.Env = append(lambdatest.HostEnv(), "TYPEDAPI_HOST=127.0.0.1", "TYPEDAPI_PORT="+port,
		"OTEL_EXPORTER_OTLP_ENDPOINT="+col.Endpoint, "OTEL_BSP_SCHEDULE_DELAY=100")
	for k, v := range storeEnv {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	if dynamo {
		cmd.Env = append(cmd.Env, "AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local")
	}
	var out logsink.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill() //nolint:errcheck // after a clean exit it is a no-op
	base := "http://127.0.0.1:" + port
	waitHealthy(t, base)
	client{t, base}.expect(200, "GET", "/v1/items", "", "Traceparent", "00-"+parentTrace+"-"+parentSpan+"-01",
		"Authorization", "Bearer "+token)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit: %v\n%s", err, out.String())
	}
	checkLogged(t, []byte(out.String()), "list-items")
	checkCollected(t, col, "/v1/items", dynamo, nil)
}

// TestCollectorLambda: the built bootstrap, under the Lambda Runtime
// Interface Emulator, sends each invocation's spans to the collector
// (flushed before the answer, as the runtime freezes the process after it)
// with the invocation's request id on the server span.
func TestCollectorLambda(t *testing.T) {
	col := tracingtest.StartCollector(t)
	rie, err := lambdatest.FindEmulator()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	storeEnv, dynamo := storeEnvForCollector(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	bootstrap := filepath.Join(t.TempDir(), "bootstrap")
	if err := lambdatest.BuildBootstrap(ctx, "../..", "./cmd/api", bootstrap, lambdatest.TracingTags); err != nil {
		t.Fatal(err)
	}
	// A Lambda bootstrap refuses to start without auth configured: off,
	// as the request is a public one and what is under test is the span.
	env := []string{"OTEL_EXPORTER_OTLP_ENDPOINT=" + col.Endpoint, "TYPEDAPI_AUTH_MODE=off"}
	for k, v := range storeEnv {
		env = append(env, k+"="+v)
	}
	if dynamo {
		env = append(env, "AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local")
	}
	em, err := lambdatest.Start(ctx, lambdatest.Options{Emulator: rie, Bootstrap: bootstrap, Env: env})
	if err != nil {
		t.Fatal(err)
	}
	defer em.Close()
	ev, err := lambdalocal.Build(lambdalocal.Request{Source: "http", Method: "GET", Target: "/v1/items", Header: http.Header{
		"Traceparent": {"00-" + parentTrace + "-" + parentSpan + "-01"}, "Authorization": {"Bearer " + token}}})
	if err != nil {
		t.Fatal(err)
	}
	status, body, err := em.Invoke(ctx, ev)
	if err != nil || status != 200 || !strings.Contains(string(body), `"statusCode":200`) {
		t.Fatalf("invoke: %d %s %v\n%s", status, body, err, em.Output())
	}
	line := checkLogged(t, []byte(em.Output()), "list-items")
	checkCollected(t, col, "/v1/items", dynamo, func(s tracingtest.Span) {
		if id := s.Attributes["faas.invocation_id"]; id == "" || id != line["aws_request_id"] {
			t.Errorf("faas.invocation_id %q, access line aws_request_id %v", id, line["aws_request_id"])
		}
		if s.Resource["cloud.platform"] != "aws_lambda" || s.Resource["faas.name"] == "" {
			t.Errorf("resource %v", s.Resource)
		}
	})
}

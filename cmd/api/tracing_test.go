package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/typedapi/typedapi/internal/auth/authtest"
	"github.com/typedapi/typedapi/internal/emf"
	"github.com/typedapi/typedapi/internal/tracing/tracingtest"
)

const (
	parentTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
	parentSpan  = "00f067aa0ba902b7"
	token       = "secret-token-7c1f0e"
)

// accessLines are the access lines in logs, decoded.
func accessLines(t *testing.T, logs []byte) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range bytes.Split(bytes.TrimSpace(logs), []byte("\n")) {
		var m map[string]any
		if json.Unmarshal(line, &m) == nil && m["msg"] == "request" {
			out = append(out, m)
		}
	}
	return out
}

// lineFor is the one access line of a request id.
func lineFor(t *testing.T, lines []map[string]any, requestID string) map[string]any {
	t.Helper()
	for _, l := range lines {
		if l["request_id"] == requestID {
			return l
		}
	}
	t.Fatalf("no access line with request_id %s", requestID)
	return nil
}

func tracingEnv(endpoint string, extra map[string]string) map[string]string {
	env := map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint}
	for k, v := range extra {
		env[k] = v
	}
	return env
}

// TestTraces sends requests through the real program, on each store, with
// tracing on, and checks what reached an OTLP receiver: one server span per
// request named by its route, the HTTP attributes, the caller's traceparent
// as parent, a malformed one ignored, DynamoDB calls as child spans, no
// Authorization anywhere, and each access line's trace_id.
func TestTraces(t *testing.T) {
	for name, storeEnv := range storeEnvs(t) {
		t.Run(name, func(t *testing.T) {
			rcv := tracingtest.NewReceiver(t)
			env := tracingEnv(rcv.URL, storeEnv)
			base, logs, stop := serveLogged(t, env)
			c := client{t, base}
			cases := []struct {
				id, path, traceparent string
				status                int
				spanName, route       string
				parented              bool
			}{
				{"r-list", "/v1/items?limit=5", "00-" + parentTrace + "-" + parentSpan + "-01", 200, "GET /v1/items", "/v1/items", true},
				{"r-get", "/v1/items/01ARZ3NDEKTSV4RRFFQ69G5FAV", "", 404, "GET /v1/items/{id}", "/v1/items/{id}", false},
				{"r-bad-tp", "/v1/items", "00-zzzz-not-a-trace-01", 200, "GET /v1/items", "/v1/items", false},
				{"r-zero-tp", "/v1/items", "00-00000000000000000000000000000000-" + parentSpan + "-01", 200, "GET /v1/items", "/v1/items", false},
				{"r-unmatched", "/no/such/path/42", "", 404, "GET", "", false},
			}
			for _, tc := range cases {
				h := []string{"X-Request-Id", tc.id, "Authorization", "Bearer " + token}
				if tc.traceparent != "" {
					h = append(h, "Traceparent", tc.traceparent)
				}
				c.expect(tc.status, "GET", tc.path, "", h...)
			}
			stop() // exports what is queued
			spans := rcv.Spans()
			lines := accessLines(t, []byte(logs.String()))
			for _, raw := range rcv.Raw() {
				if bytes.Contains(raw, []byte(token)) || bytes.Contains(bytes.ToLower(raw), []byte("authorization")) {
					t.Errorf("an export carries the Authorization header or its token")
				}
			}
			for _, tc := range cases {
				line := lineFor(t, lines, tc.id)
				traceID, _ := line["trace_id"].(string)
				var server []tracingtest.Span
				for _, s := range spans {
					if s.TraceID == traceID && s.Kind == 2 { // SPAN_KIND_SERVER
						server = append(server, s)
					}
				}
				if len(server) != 1 {
					t.Fatalf("%s: %d server spans with the access line's trace_id %q, want 1", tc.id, len(server), traceID)
				}
				s := server[0]
				if s.Name != tc.spanName {
					t.Errorf("%s: span name %q, want %q (never the raw path)", tc.id, s.Name, tc.spanName)
				}
				if got := s.Attributes["http.route"]; got != tc.route {
					t.Errorf("%s: http.route %q, want %q", tc.id, got, tc.route)
				}
				if s.Attributes["http.request.method"] != "GET" || s.Attributes["http.response.status_code"] != fmt.Sprint(tc.status) || s.Attributes["url.path"] == "" {
					t.Errorf("%s: HTTP attributes %v", tc.id, s.Attributes)
				}
				if tc.parented != (s.TraceID == parentTrace && s.ParentSpanID == parentSpan) {
					t.Errorf("%s: trace %s parent %q; parented by the caller's traceparent: %v", tc.id, s.TraceID, s.ParentSpanID, tc.parented)
				}
				if !tc.parented && s.ParentSpanID != "" {
					t.Errorf("%s: a new trace must start with a root span, got parent %s", tc.id, s.ParentSpanID)
				}
				if s.Resource["service.name"] != "typedapi" {
					t.Errorf("resource %v", s.Resource)
				}
				if name == "dynamodb" && tc.route != "" {
					var children []tracingtest.Span
					for _, d := range spans {
						if d.ParentSpanID == s.SpanID {
							children = append(children, d)
						}
					}
					if len(children) == 0 {
						t.Fatalf("%s: no child spans for the DynamoDB calls", tc.id)
					}
					for _, d := range children {
						if !strings.HasPrefix(d.Name, "DynamoDB.") || d.Kind != 3 || d.Attributes["rpc.service"] != "DynamoDB" || d.Attributes["rpc.method"] == "" {
							t.Errorf("%s: child span %q kind %v attributes %v", tc.id, d.Name, d.Kind, d.Attributes)
						}
					}
				}
			}
		})
	}
}

// TestTracingOff: with no OTLP endpoint no span is made or sent, and a
// valid traceparent's trace id is still logged; a malformed one is not.
func TestTracingOff(t *testing.T) {
	rcv := tracingtest.NewReceiver(t)
	// An endpoint, but the exporter switched off: nothing may arrive.
	base, logs, stop := serveLogged(t, tracingEnv(rcv.URL, map[string]string{"OTEL_TRACES_EXPORTER": "none"}))
	c := client{t, base}
	c.expect(200, "GET", "/v1/items", "", "X-Request-Id", "r-valid", "Traceparent", "00-"+parentTrace+"-"+parentSpan+"-01")
	c.expect(200, "GET", "/v1/items", "", "X-Request-Id", "r-bad", "Traceparent", "00-"+parentTrace+"-xyz-01")
	c.expect(200, "GET", "/v1/items", "", "X-Request-Id", "r-none")
	stop()
	lines := accessLines(t, []byte(logs.String()))
	if got := lineFor(t, lines, "r-valid")["trace_id"]; got != parentTrace {
		t.Errorf("trace_id %v, want the traceparent's %s", got, parentTrace)
	}
	for _, id := range []string{"r-bad", "r-none"} {
		if got, ok := lineFor(t, lines, id)["trace_id"]; ok {
			t.Errorf("%s: trace_id %v with tracing off and no valid traceparent", id, got)
		}
	}
	if n := rcv.Requests(); n != 0 {
		t.Errorf("%d exports with tracing off", n)
	}
}

// TestUnreachableCollector: a collector that refuses connections, or that
// accepts and never answers, neither fails nor holds up a request; the
// drops are counted and said in one line, not one per batch.
func TestUnreachableCollector(t *testing.T) {
	refused, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refusedAddr := refused.Addr().String()
	refused.Close()

	hanging, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { hanging.Close() })
	accepted := make(chan net.Conn, 16)
	go func() {
		for {
			conn, err := hanging.Accept()
			if err != nil {
				return
			}
			accepted <- conn // held open, never answered
		}
	}()
	t.Cleanup(func() {
		for len(accepted) > 0 {
			(<-accepted).Close()
		}
	})

	for name, addr := range map[string]string{"refused": refusedAddr, "hanging": hanging.Addr().String()} {
		t.Run(name, func(t *testing.T) {
			// The SDK's batch processor reads the process environment.
			t.Setenv("OTEL_BSP_SCHEDULE_DELAY", "10")
			t.Setenv("OTEL_BSP_MAX_QUEUE_SIZE", "64")
			base, logs, stop := serveLogged(t, tracingEnv("http://"+addr, map[string]string{
				"OTEL_BSP_MAX_QUEUE_SIZE": "64",
				// Far longer than the test: if a request waited for the
				// export, it would time out below.
				"OTEL_EXPORTER_OTLP_TIMEOUT": "120000",
			}))
			c := &http.Client{Timeout: 30 * time.Second}
			if name == "hanging" {
				first, err := c.Get(base + "/v1/items")
				if err != nil {
					t.Fatal(err)
				}
				first.Body.Close()
				select {
				case conn := <-accepted: // an export is now stuck on it
					accepted <- conn
				case <-time.After(30 * time.Second):
					t.Fatal("the exporter never connected")
				}
			}
			for i := range 300 {
				resp, err := c.Get(base + "/v1/items")
				if err != nil {
					t.Fatalf("request %d: %v", i, err)
				}
				resp.Body.Close()
				if resp.StatusCode != 200 {
					t.Fatalf("request %d: %s", i, resp.Status)
				}
			}
			stop()
			var warnings []map[string]any
			for _, line := range bytes.Split([]byte(logs.String()), []byte("\n")) {
				var m map[string]any
				if json.Unmarshal(line, &m) == nil && m["msg"] == "trace export failing; spans dropped" {
					warnings = append(warnings, m)
				}
			}
			// One line when the first drop happens, one at shutdown with
			// the rest: the run is far shorter than a minute.
			if len(warnings) == 0 || len(warnings) > 2 {
				t.Fatalf("%d drop warnings, want 1 or 2: %v", len(warnings), warnings)
			}
			total, _ := warnings[len(warnings)-1]["dropped_total"].(float64)
			if total < 1 {
				t.Errorf("dropped_total %v after 300 requests to an unreachable collector", total)
			}
		})
	}
}

// TestTracesWithAuthAndLimits runs the program as deployed behind a proxy:
// tokens verified against the test issuer, 127.0.0.1 trusted to forward
// the client, a rate limit. Each answer (201, 403 without the scope, 401
// for a bad token, 429 over the limit) has one server span named by its
// route, with the access line's trace_id, and client.address the client
// the access line names, not the first X-Forwarded-For entry (which any
// client writes); its metrics count it by its status; and no bearer token
// nor the word authorization reaches an export.
func TestTracesWithAuthAndLimits(t *testing.T) {
	issuer, ok := authtest.Issuer(t)
	if !ok {
		t.Skip("no test issuer")
	}
	writer := authtest.Token(t, issuer, authtest.Request{Subject: "alice", Scope: "items:write"})
	reader := authtest.Token(t, issuer, authtest.Request{Subject: "bob"})
	rcv := tracingtest.NewReceiver(t)
	base, logs, stop := serveLogged(t, tracingEnv(rcv.URL, map[string]string{
		"TYPEDAPI_AUTH_ISSUER":     issuer,
		"TYPEDAPI_AUTH_AUDIENCE":   authtest.Audience,
		"TYPEDAPI_TRUSTED_PROXIES": "127.0.0.1/32",
		"TYPEDAPI_RATE_LIMIT":      "0.001", // no token comes back during the test
		"TYPEDAPI_RATE_BURST":      "2",
	}))
	c := client{t, base}
	const body = `{"name":"Cup","price":100,"currency":"EUR","tags":["kitchen"]}`
	cases := []struct {
		id, forwarded, bearer string
		status                int
		client                string
	}{
		// The limiter keys a verified caller by subject: alice's third
		// request is over her burst.
		{"r-created", "203.0.113.7", writer, 201, "203.0.113.7"},
		{"r-created-again", "203.0.113.7", writer, 201, "203.0.113.7"},
		{"r-limited", "203.0.113.7", writer, 429, "203.0.113.7"},
		{"r-forbidden", "203.0.113.7", reader, 403, "203.0.113.7"},
		// The client wrote 192.0.2.1; the trusted proxy appended the
		// address it saw.
		{"r-bad-token", "192.0.2.1, 198.51.100.9", "not-a-jwt", 401, "198.51.100.9"},
	}
	for _, tc := range cases {
		c.expect(tc.status, "POST", "/v1/items", body, "X-Request-Id", tc.id,
			"X-Forwarded-For", tc.forwarded, "Authorization", "Bearer "+tc.bearer)
	}
	stop()
	out := []byte(logs.String())
	for _, secret := range []string{writer, reader, "not-a-jwt"} {
		for _, raw := range rcv.Raw() {
			if bytes.Contains(raw, []byte(secret)) {
				t.Errorf("an export carries a bearer token")
			}
		}
		if bytes.Contains(out, []byte(secret)) {
			t.Errorf("a log line carries a bearer token")
		}
	}
	for _, raw := range rcv.Raw() {
		if bytes.Contains(bytes.ToLower(raw), []byte("authorization")) {
			t.Errorf("an export carries the Authorization header")
		}
	}
	spans := rcv.Spans()
	lines := accessLines(t, out)
	for _, tc := range cases {
		line := lineFor(t, lines, tc.id)
		if line["remote_ip"] != tc.client {
			t.Errorf("%s: access line remote_ip %v, want %s", tc.id, line["remote_ip"], tc.client)
		}
		traceID, _ := line["trace_id"].(string)
		var server []tracingtest.Span
		for _, s := range spans {
			if s.TraceID == traceID && s.Kind == 2 {
				server = append(server, s)
			}
		}
		if len(server) != 1 {
			t.Fatalf("%s: %d server spans with the access line's trace_id %q, want 1", tc.id, len(server), traceID)
		}
		s := server[0]
		if s.Name != "POST /v1/items" || s.Attributes["http.route"] != "/v1/items" || s.Attributes["typedapi.operation"] != "create-item" ||
			s.Attributes["http.response.status_code"] != fmt.Sprint(tc.status) {
			t.Errorf("%s: span %q attributes %v", tc.id, s.Name, s.Attributes)
		}
		if got := s.Attributes["client.address"]; got != tc.client {
			t.Errorf("%s: span client.address %q, want %s as on the access line", tc.id, got, tc.client)
		}
		raw, _ := json.Marshal(line)
		data, err := emf.Extract(raw)
		if err != nil {
			t.Fatalf("%s: %v", tc.id, err)
		}
		counted := map[string]float64{}
		for _, d := range data {
			if d.Dimensions["Operation"] == "create-item" {
				counted[d.Name] = d.Value
			}
			if d.Name == "Requests" && d.Dimensions["StatusClass"] != "" {
				counted["class "+d.Dimensions["StatusClass"]] = d.Value
			}
		}
		want4xx := 0.0
		if tc.status >= 400 {
			want4xx = 1
		}
		if counted["Requests"] != 1 || counted["Errors4xx"] != want4xx || counted["Errors5xx"] != 0 ||
			counted["class "+emf.StatusClass(tc.status)] != 1 {
			t.Errorf("%s: metrics %v for status %d", tc.id, counted, tc.status)
		}
	}
}

// TestSampledTraces: with a ratio sampler, a request is traced exactly when
// the sampler accepts its trace id (decided before any span exists, and the
// SDK agrees), every access line names its trace either way, and a caller's
// sampled flag decides under parentbased_traceidratio.
func TestSampledTraces(t *testing.T) {
	rcv := tracingtest.NewReceiver(t)
	const ratio = 0.5
	base, logs, stop := serveLogged(t, tracingEnv(rcv.URL, map[string]string{
		"OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": fmt.Sprint(ratio)}))
	c := client{t, base}
	const n = 40
	for i := range n {
		c.expect(200, "GET", "/v1/items", "", "X-Request-Id", fmt.Sprintf("r-%d", i))
	}
	unsampledParent := "4bf92f3577b34da6a3ce929d0e0e4737"
	c.expect(200, "GET", "/v1/items", "", "X-Request-Id", "r-parent-sampled", "Traceparent", "00-"+parentTrace+"-"+parentSpan+"-01")
	c.expect(200, "GET", "/v1/items", "", "X-Request-Id", "r-parent-unsampled", "Traceparent", "00-"+unsampledParent+"-"+parentSpan+"-00")
	stop()

	traced := map[string]bool{}
	for _, s := range rcv.Spans() {
		if s.Kind == 2 { // SPAN_KIND_SERVER
			traced[s.TraceID] = true
		}
	}
	lines := accessLines(t, []byte(logs.String()))
	sampler := sdktrace.TraceIDRatioBased(ratio)
	var sampled int
	for i := range n {
		id, _ := lineFor(t, lines, fmt.Sprintf("r-%d", i))["trace_id"].(string)
		tid, err := trace.TraceIDFromHex(id)
		if err != nil {
			t.Fatalf("r-%d: trace_id %q: %v", i, id, err)
		}
		want := sampler.ShouldSample(sdktrace.SamplingParameters{TraceID: tid}).Decision == sdktrace.RecordAndSample
		if traced[id] != want {
			t.Errorf("r-%d: trace %s traced %v, the sampler says %v", i, id, traced[id], want)
		}
		if want {
			sampled++
		}
	}
	if sampled == 0 || sampled == n {
		t.Errorf("%d of %d sampled at %v: the test shows nothing", sampled, n, ratio)
	}
	if id := lineFor(t, lines, "r-parent-sampled")["trace_id"]; id != parentTrace || !traced[parentTrace] {
		t.Errorf("a sampled caller's trace: logged %v, traced %v", id, traced[parentTrace])
	}
	if id := lineFor(t, lines, "r-parent-unsampled")["trace_id"]; id != unsampledParent || traced[unsampledParent] {
		t.Errorf("an unsampled caller's trace: logged %v, traced %v", id, traced[unsampledParent])
	}
}

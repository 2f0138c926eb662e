package serve

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/typedapi/typedapi/internal/lambdalocal"
	"github.com/typedapi/typedapi/internal/middleware"
	"github.com/typedapi/typedapi/internal/requestinfo"
)

// seen is what the echo handler observed of the request.
type seen struct {
	Method, Path, Host string
	Query              url.Values
	Header             http.Header
	Cookies            []string
	Body               string
	Info               requestinfo.Info
	Prefix             string
	Deadline           time.Time
}

// echo records the request and answers with what a test asks for in the
// X-Answer-* request headers.
func echo(got *seen) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		*got = seen{Method: r.Method, Path: r.URL.Path, Host: r.Host, Query: r.URL.Query(), Header: r.Header.Clone(), Body: string(b),
			Info: requestinfo.FromContext(r.Context()), Prefix: middleware.MountPrefix(r.Context())}
		for _, c := range r.Cookies() {
			got.Cookies = append(got.Cookies, c.Name+"="+c.Value)
		}
		got.Deadline, _ = r.Context().Deadline()
		if r.Header.Get("X-Answer-Cookies") != "" {
			w.Header().Add("Set-Cookie", "a=1; Path=/")
			w.Header().Add("Set-Cookie", "b=2; HttpOnly")
		}
		w.Header().Add("X-Multi", "one")
		w.Header().Add("X-Multi", "two")
		if ct := r.Header.Get("X-Answer-Type"); ct != "" {
			w.Header().Set("Content-Type", ct)
		}
		if enc := r.Header.Get("X-Answer-Encoding"); enc != "" {
			w.Header().Set("Content-Encoding", enc)
		}
		w.WriteHeader(http.StatusTeapot)
		if n := r.Header.Get("X-Answer-Bytes"); n != "" {
			_, _ = w.Write(bytes.Repeat([]byte{0xff, 0x00}, len(n)*1000))
			return
		}
		_, _ = w.Write([]byte("\x89PNG\x00\xffbinary"))
	})
}

type out struct {
	StatusCode        int                 `json:"statusCode"`
	StatusDescription string              `json:"statusDescription"`
	Headers           map[string]string   `json:"headers"`
	MultiValueHeaders map[string][]string `json:"multiValueHeaders"`
	Cookies           []string            `json:"cookies"`
	Body              string              `json:"body"`
	IsBase64Encoded   bool                `json:"isBase64Encoded"`
}

func run(t *testing.T, h *LambdaHandler, ev []byte) out {
	t.Helper()
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "aws-1"})
	b, err := h.Invoke(ctx, ev)
	if err != nil {
		t.Fatalf("invoke: %v", err)
	}
	var o out
	if err := json.Unmarshal(b, &o); err != nil {
		t.Fatal(err)
	}
	return o
}

func build(t *testing.T, r lambdalocal.Request) []byte {
	t.Helper()
	b, err := lambdalocal.Build(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func quiet() LambdaOptions {
	return LambdaOptions{Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))}
}

func TestSniff(t *testing.T) {
	for _, c := range []struct {
		source string
		multi  bool
		want   kind
	}{
		{"rest", false, kindREST}, {"http", false, kindV2}, {"url", false, kindV2},
		{"alb", false, kindALBSingle}, {"alb", true, kindALB},
	} {
		ev := build(t, lambdalocal.Request{Source: c.source, MultiValue: c.multi, Method: "POST", Target: "/x",
			Body: []byte(`{"rawPath": "/fooled", "httpMethod": "GET", "targetGroupArn": "x"}`)})
		if got := sniff(ev); got != c.want {
			t.Errorf("%s multi=%v: sniffed %d, want %d", c.source, c.multi, got, c.want)
		}
	}
	for _, ev := range []string{`{}`, `[]`, `{"Records":[]}`, `{"headers":{"x":"rawPath"}}`,
		`{"headers":{"rawPath":"/x","version":"2.0","routeKey":"x"}}`, `{"body":{"requestContext":{"elb":{}}},"httpMethod":"GET"}`,
		`{"multiValueHeaders":{"resource":["x"]},"httpMethod":"GET"}`, `{"rawPath"`} {
		if got := sniff([]byte(ev)); got != kindUnknown {
			t.Errorf("%s sniffed as %d", ev, got)
		}
	}
	// API Gateway authorizer requests (AWS's samples) want a policy back.
	for _, name := range []string{"apigw-custom-auth-request-type-request.json", "apigw-custom-auth-request.json",
		"apigw-v2-custom-authorizer-v1-request.json", "apigw-v2-custom-authorizer-v2-request.json"} {
		ev, err := os.ReadFile(filepath.Join(awsTestdata(t), name))
		if err != nil {
			t.Fatal(err)
		}
		if got := sniff(ev); got != kindUnknown {
			t.Errorf("authorizer request %s sniffed as %d", name, got)
		}
	}
	// Only top-level keys count: a header or query parameter named like
	// another kind's key does not change the kind.
	for _, source := range lambdalocal.Sources {
		want := map[string]kind{"rest": kindREST, "http": kindV2, "url": kindV2, "alb": kindALBSingle}[source]
		for _, name := range []string{"rawPath", "elb", "resource", "multiValueHeaders", "targetGroupArn", "version", "routeKey"} {
			ev := build(t, lambdalocal.Request{Source: source, Method: "GET", Target: "/x?" + name + "=1",
				Header: http.Header{name: {"1"}}})
			if got := sniff(ev); got != want {
				t.Errorf("%s with a header and parameter %q: sniffed %d, want %d", source, name, got, want)
			}
		}
	}
	// Whitespace anywhere JSON allows it, and keys in any order.
	for ev, want := range map[string]kind{
		" {\n \"version\" : \"2.0\" ,\r\n\t\"routeKey\":\"$default\" } ":                                                kindV2,
		`{"requestContext":{"x":[1,{"y":"]"}],"elb":{"targetGroupArn":"a"}},"httpMethod":"GET","multiValueHeaders":{}}`: kindALB,
		`{"httpMethod":"GET","requestContext":{"stage":"prod"},"resource":"/{proxy+}"}`:                                 kindREST,
		`{"requestContext":{"elb":{}}, "httpMethod":"GET", "headers":{}}`:                                               kindALBSingle,
		`{"a":{"b":[true,null,-1.5e3,{"c":"\"\\}"}]},"rawPath":"/x"}`:                                                   kindV2,
	} {
		if got := sniff([]byte(ev)); got != want {
			t.Errorf("%s sniffed as %d, want %d", ev, got, want)
		}
	}
}

// TestRequestFidelity: method, path, multi-value query and headers, cookies
// and body arrive as sent, from every source.
func TestRequestFidelity(t *testing.T) {
	var got seen
	h := NewLambdaHandler(echo(&got), quiet())
	for _, c := range []struct {
		source     string
		multiValue bool
		lastOnly   bool // ALB single-value mode keeps only the last value
	}{{"rest", false, false}, {"http", false, false}, {"url", false, false}, {"alb", true, false}, {"alb", false, true}} {
		name := c.source
		if c.multiValue {
			name += "-multi"
		}
		t.Run(name, func(t *testing.T) {
			hdr := http.Header{"X-Tag": {"a", "b"}, "Content-Type": {"text/plain"}}
			run(t, h, build(t, lambdalocal.Request{Source: c.source, MultiValue: c.multiValue, Method: "PUT",
				Target: "/v1/items/x?tag=a&tag=b&q=caf%C3%A9&d=50%25%2Boff", Header: hdr, Body: []byte("héllo"), Cookies: []string{"session=s1", "theme=dark"}}))
			if got.Method != "PUT" || got.Path != "/v1/items/x" || got.Body != "héllo" {
				t.Errorf("request %+v", got)
			}
			wantTags := []string{"a", "b"}
			if c.lastOnly {
				wantTags = []string{"b"}
			}
			if strings.Join(got.Query["tag"], ",") != strings.Join(wantTags, ",") || got.Query.Get("q") != "café" || got.Query.Get("d") != "50%+off" {
				t.Errorf("query %v", got.Query)
			}
			if h := strings.Join(got.Header.Values("X-Tag"), ","); h != "a,b" && !(c.lastOnly && h == "b") {
				t.Errorf("multi-value header X-Tag = %q", h)
			}
			if strings.Join(got.Cookies, ";") != "session=s1;theme=dark" {
				t.Errorf("cookies %v", got.Cookies)
			}
			if !got.Info.OnLambda || got.Info.LambdaRequestID != "aws-1" || got.Info.SourceIP == "" {
				t.Errorf("request info %+v", got.Info)
			}
		})
	}
}

// TestResponseFidelity: several Set-Cookie, multi-value headers in the
// request's form, and binary bodies of any type base64-encoded.
func TestResponseFidelity(t *testing.T) {
	var got seen
	h := NewLambdaHandler(echo(&got), quiet())
	answer := http.Header{"X-Answer-Cookies": {"yes"}, "X-Answer-Type": {"image/png"}}

	v2 := run(t, h, build(t, lambdalocal.Request{Source: "http", Method: "GET", Target: "/", Header: answer}))
	if strings.Join(v2.Cookies, "|") != "a=1; Path=/|b=2; HttpOnly" || v2.Headers["X-Multi"] != "one,two" || v2.StatusCode != 418 {
		t.Errorf("v2: %+v", v2)
	}
	for _, src := range []lambdalocal.Request{{Source: "rest"}, {Source: "alb", MultiValue: true}} {
		src.Method, src.Target, src.Header = "GET", "/", answer
		o := run(t, h, build(t, src))
		if strings.Join(o.MultiValueHeaders["Set-Cookie"], "|") != "a=1; Path=/|b=2; HttpOnly" || len(o.MultiValueHeaders["X-Multi"]) != 2 || len(o.Headers) != 0 {
			t.Errorf("%s: %+v", src.Source, o)
		}
	}
	single := run(t, h, build(t, lambdalocal.Request{Source: "alb", Method: "GET", Target: "/", Header: answer}))
	if single.Headers["Set-Cookie"] != "b=2; HttpOnly" || single.Headers["X-Multi"] != "one,two" || len(single.MultiValueHeaders) != 0 || single.StatusDescription != "418 I'm a teapot" {
		t.Errorf("alb single: %+v", single)
	}

	// Binary detection by type family, parameters and content coding.
	for _, c := range []struct {
		ctype, encoding string
		binary          bool
	}{
		{"image/png", "", true},
		{"application/pdf; x=y", "", true},
		{"application/x-unlisted", "", true},
		{"", "", false},
		{"application/json", "", false},
		{"application/problem+json", "", false},
		{"text/html; charset=utf-8", "", false},
		{"text/css", "gzip", true},
		{"application/json", "identity", false},
	} {
		hdr := http.Header{"X-Answer-Encoding": {c.encoding}}
		if c.ctype != "" {
			hdr.Set("X-Answer-Type", c.ctype)
		}
		o := run(t, h, build(t, lambdalocal.Request{Source: "http", Method: "GET", Target: "/", Header: hdr}))
		if o.IsBase64Encoded != c.binary {
			t.Errorf("%q/%q: base64 %v, want %v", c.ctype, c.encoding, o.IsBase64Encoded, c.binary)
		}
		if c.binary {
			if b, _ := base64.StdEncoding.DecodeString(o.Body); string(b) != "\x89PNG\x00\xffbinary" {
				t.Errorf("%q: binary body corrupted", c.ctype)
			}
		}
	}
}

// TestStagesAndMounts: the path the API routes on and the prefix the
// client used, for stages, base path mappings and proxy routes.
func TestStagesAndMounts(t *testing.T) {
	var got seen
	h := NewLambdaHandler(echo(&got), quiet())
	for _, c := range []struct {
		name   string
		req    lambdalocal.Request
		prefix string
	}{
		{"rest stage", lambdalocal.Request{Source: "rest", Stage: "prod"}, "/prod"},
		{"rest custom domain", lambdalocal.Request{Source: "rest", Domain: "api.example.com", BasePath: "/shop"}, "/shop"},
		{"http $default", lambdalocal.Request{Source: "http"}, ""},
		{"http named stage", lambdalocal.Request{Source: "http", Stage: "beta"}, "/beta"},
		{"http stage + proxy route", lambdalocal.Request{Source: "http", Stage: "beta", ProxyRoute: true}, "/beta"},
		{"http custom domain + proxy route", lambdalocal.Request{Source: "http", Domain: "api.example.com", BasePath: "/shop", ProxyRoute: true}, "/shop"},
		{"function url", lambdalocal.Request{Source: "url"}, ""},
		{"alb", lambdalocal.Request{Source: "alb"}, ""},
	} {
		for _, target := range []string{"/v1/items", "/"} {
			r := c.req
			r.Method, r.Target = "GET", target
			run(t, h, build(t, r))
			if got.Path != target || got.Prefix != c.prefix {
				t.Errorf("%s %s: routed %q prefix %q, want %q %q", c.name, target, got.Path, got.Prefix, target, c.prefix)
			}
			if got.Host == "" {
				t.Errorf("%s: no Host", c.name)
			}
		}
	}
	// A stage name that is only the start of the first segment is not a stage.
	run(t, h, build(t, lambdalocal.Request{Source: "http", Method: "GET", Target: "/v1/items"}))
	ev := bytes.Replace(build(t, lambdalocal.Request{Source: "http", Stage: "v", Method: "GET", Target: "/x"}), []byte(`"/v/x"`), []byte(`"/v1/items"`), -1)
	run(t, h, ev)
	if got.Path != "/v1/items" || got.Prefix != "" {
		t.Errorf("stage v with path /v1/items: %q %q", got.Path, got.Prefix)
	}
}

func TestAuthorizerClaims(t *testing.T) {
	var got seen
	h := NewLambdaHandler(echo(&got), quiet())
	for file, want := range map[string]map[string]any{
		"apigw-v2-request-jwt-authorizer.json":    {"claim1": "value1", "claim2": "value2"},
		"apigw-v2-request-lambda-authorizer.json": {"key": "value"},
		"apigw-request.json":                      {"principalId": "admin", "clientName": "Exata"},
	} {
		ev, err := os.ReadFile("testdata/" + file)
		if err != nil {
			t.Fatal(err)
		}
		run(t, h, ev)
		for k, v := range want {
			if got.Info.Claims[k] != v {
				t.Errorf("%s: claim %s = %v, want %v (all: %v)", file, k, got.Info.Claims[k], v, got.Info.Claims)
			}
		}
		if got.Info.GatewayRequestID == "" || got.Info.Source == "" {
			t.Errorf("%s: info %+v", file, got.Info)
		}
	}
}

// TestResponseTooLarge: an answer Lambda would refuse becomes a problem
// that says why, and the log explains it.
func TestResponseTooLarge(t *testing.T) {
	var got seen
	var logs bytes.Buffer
	h := NewLambdaHandler(echo(&got), LambdaOptions{MaxResponseBytes: 4096, Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	o := run(t, h, build(t, lambdalocal.Request{Source: "http", Method: "GET", Target: "/", Header: http.Header{"X-Answer-Bytes": {"xxxx"}, "X-Answer-Type": {"application/octet-stream"}}}))
	if o.StatusCode != 500 || o.Headers["Content-Type"] != "application/problem+json" || !strings.Contains(o.Body, "4096 bytes") {
		t.Errorf("too large: %+v", o)
	}
	if !strings.Contains(logs.String(), "response exceeds the Lambda payload limit") || !strings.Contains(logs.String(), `"response_bytes"`) {
		t.Errorf("log does not explain: %s", logs.String())
	}
}

// TestDeadlineMargin: the operation sees a deadline earlier than Lambda's,
// by the margin, so it can still answer.
func TestDeadlineMargin(t *testing.T) {
	var got seen
	h := NewLambdaHandler(echo(&got), LambdaOptions{DeadlineMargin: time.Second, Logger: quiet().Logger})
	deadline := time.Now().Add(10 * time.Second)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	if _, err := h.Invoke(ctx, build(t, lambdalocal.Request{Source: "http", Method: "GET", Target: "/"})); err != nil {
		t.Fatal(err)
	}
	if !got.Deadline.Equal(deadline.Add(-time.Second)) {
		t.Errorf("handler deadline %v, want %v", got.Deadline, deadline.Add(-time.Second))
	}
}

// TestNothingCarriesOver: captures are reused between invocations; no
// status, header, cookie or body of one answer shows in the next, on any
// source, nor after an answer too large for Lambda.
func TestNothingCarriesOver(t *testing.T) {
	calls := 0
	h := NewLambdaHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		if calls%2 == 1 {
			w.Header().Set("X-First", "1")
			http.SetCookie(w, &http.Cookie{Name: "first", Value: "1"})
			w.WriteHeader(http.StatusTeapot)
			_, _ = w.Write([]byte(strings.Repeat("first ", 1000)))
			return
		}
		_, _ = w.Write([]byte("second"))
	}), LambdaOptions{MaxResponseBytes: 5000, Logger: quiet().Logger})
	for _, source := range lambdalocal.Sources {
		for range 3 {
			run(t, h, build(t, lambdalocal.Request{Source: source, Method: "GET", Target: "/"}))
			o := run(t, h, build(t, lambdalocal.Request{Source: source, Method: "GET", Target: "/"}))
			if o.StatusCode != 200 || o.Body != "second" || len(o.Cookies) > 0 || o.Headers["X-First"] != "" ||
				len(o.MultiValueHeaders["X-First"]) > 0 || len(o.MultiValueHeaders["Set-Cookie"]) > 0 || o.Headers["Set-Cookie"] != "" {
				t.Fatalf("%s: the second answer carries the first's: %+v", source, o)
			}
		}
	}
}

// An event with no Host header (a Function URL's may have none) and a path
// starting with "//": the first segment stays in the path and never
// becomes the host.
func TestHostlessDoubleSlashPath(t *testing.T) {
	var got seen
	h := NewLambdaHandler(echo(&got), quiet())
	for _, source := range lambdalocal.Sources {
		r := lambdalocal.Request{Source: source, Method: "GET", Target: "//evil.example/openapi.json", MultiValue: source == "alb"}
		ev := build(t, r)
		var m map[string]any
		if err := json.Unmarshal(ev, &m); err != nil {
			t.Fatal(err)
		}
		for _, key := range []string{"headers", "multiValueHeaders"} {
			if hs, ok := m[key].(map[string]any); ok {
				for k := range hs {
					if strings.EqualFold(k, "host") {
						delete(hs, k)
					}
				}
			}
		}
		if ev, err := json.Marshal(m); err != nil {
			t.Fatal(err)
		} else {
			run(t, h, ev)
		}
		if got.Path != "//evil.example/openapi.json" || strings.Contains(got.Host, "evil") {
			t.Errorf("%s without Host: path %q, host %q", source, got.Path, got.Host)
		}
	}
}

// awsTestdata is aws-lambda-go's events/testdata in the module cache: the
// samples of every event AWS sends.
func awsTestdata(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/aws/aws-lambda-go").Output()
	if err != nil {
		t.Fatalf("go list aws-lambda-go: %v", err)
	}
	return filepath.Join(strings.TrimSpace(string(out)), "events", "testdata")
}

// TestEventPrefixHidesCredentials: the start of an unreadable event is
// logged, but never the credentials a REST event's headers carry early.
func TestEventPrefixHidesCredentials(t *testing.T) {
	for _, ev := range []string{
		`{"resource":"/","path":"/","httpMethod":"GET","headers":{"Authorization":"Bearer eyJhbGciOiJSUzI1NiJ9.secret"}}`,
		`{"resource":"/","path":"/","httpMethod":"GET","headers":{"AUTHORIZATION":"Bearer eyJhbGciOiJSUzI1NiJ9.secret"}}`,
		`{"resource":"/","headers":{"Cookie":"session=eyJhbGciOiJSUzI1NiJ9.secret"}}`,
		`{"resource":"/","queryStringParameters":{"access_token":"eyJhbGciOiJSUzI1NiJ9.secret"}}`,
	} {
		got := eventPrefix([]byte(ev))
		if strings.Contains(got, "eyJ") || strings.Contains(got, "secret") {
			t.Errorf("eventPrefix(%.60s…) = %q: it shows the credentials", ev, got)
		}
		if !strings.HasPrefix(got, `{"resource":"/"`) {
			t.Errorf("eventPrefix = %q: want the start of the event", got)
		}
	}
}

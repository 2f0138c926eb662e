package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/typedapi/typedapi/config"
	"github.com/typedapi/typedapi/internal/lambdalocal"
	"github.com/typedapi/typedapi/internal/serve"
)

// lambdaResponse covers the response shapes of payload v1 (REST, ALB) and
// v2 (HTTP API, Function URL).
type lambdaResponse struct {
	StatusCode        int                 `json:"statusCode"`
	StatusDescription string              `json:"statusDescription"`
	Headers           map[string]string   `json:"headers"`
	MultiValueHeaders map[string][]string `json:"multiValueHeaders"`
	Cookies           []string            `json:"cookies"`
	Body              string              `json:"body"`
	IsBase64Encoded   bool                `json:"isBase64Encoded"`
}

func (r lambdaResponse) header(name string) string {
	for k, v := range r.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	for k, v := range r.MultiValueHeaders {
		if strings.EqualFold(k, name) && len(v) > 0 {
			return strings.Join(v, ",")
		}
	}
	return ""
}

func (r lambdaResponse) body(t *testing.T) []byte {
	t.Helper()
	if !r.IsBase64Encoded {
		return []byte(r.Body)
	}
	b, err := base64.StdEncoding.DecodeString(r.Body)
	if err != nil {
		t.Fatalf("body is not base64: %v", err)
	}
	return b
}

// newLambda builds the real API behind the Lambda handler; env sets config.
// The environment says Lambda, as the runtime does: operations are
// registered on their first request (lazyOperations).
func newLambda(t testing.TB, logs io.Writer, env map[string]string) *serve.LambdaHandler {
	t.Helper()
	env = maps.Clone(env)
	if env == nil {
		env = map[string]string{}
	}
	if _, ok := env["AWS_LAMBDA_RUNTIME_API"]; !ok {
		env["AWS_LAMBDA_RUNTIME_API"] = "127.0.0.1:9001"
	}
	if _, ok := env["TYPEDAPI_AUTH_MODE"]; !ok {
		// On Lambda nothing defaults to off: these tests of the event
		// path switch auth off explicitly (auth_test.go tests it on).
		env["TYPEDAPI_AUTH_MODE"] = "off"
	}
	cfg, err := config.Load("", func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewJSONHandler(logs, nil))
	h, _, err := newAPI(cfg, func(k string) string { return env[k] }, logger)
	if err != nil {
		t.Fatal(err)
	}
	return serve.NewLambdaHandler(h, serve.LambdaOptions{Logger: logger})
}

func invokeRaw(t *testing.T, h *serve.LambdaHandler, ev []byte) lambdaResponse {
	t.Helper()
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "lambda-req-1"})
	out, err := h.Invoke(ctx, ev)
	if err != nil {
		t.Fatalf("invoke: %v\n%s", err, ev)
	}
	var resp lambdaResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatalf("response %s: %v", out, err)
	}
	return resp
}

func invoke(t *testing.T, h *serve.LambdaHandler, req lambdalocal.Request) lambdaResponse {
	t.Helper()
	ev, err := lambdalocal.Build(req)
	if err != nil {
		t.Fatal(err)
	}
	return invokeRaw(t, h, ev)
}

func jsonHeader() http.Header { return http.Header{"Content-Type": {"application/json"}} }

// frontDoor is one way AWS puts a request in front of the function, and
// the prefix a client sees in front of the API's own paths.
type frontDoor struct {
	name   string
	req    lambdalocal.Request // Source and front-door fields; the test fills in the request
	prefix string
	multi  bool // response must use multiValueHeaders
	single bool // response must use headers (not multiValueHeaders)
}

var frontDoors = []frontDoor{
	{name: "rest named stage", req: lambdalocal.Request{Source: "rest", Stage: "prod"}, prefix: "/prod", multi: true},
	{name: "rest custom domain base path", req: lambdalocal.Request{Source: "rest", Domain: "api.example.com", BasePath: "/shop"}, prefix: "/shop", multi: true},
	{name: "http $default", req: lambdalocal.Request{Source: "http"}, single: true},
	{name: "http named stage", req: lambdalocal.Request{Source: "http", Stage: "beta"}, prefix: "/beta", single: true},
	{name: "http named stage proxy route", req: lambdalocal.Request{Source: "http", Stage: "beta", ProxyRoute: true}, prefix: "/beta", single: true},
	{name: "http custom domain proxy route", req: lambdalocal.Request{Source: "http", Domain: "api.example.com", BasePath: "/shop", ProxyRoute: true}, prefix: "/shop", single: true},
	{name: "alb multi-value", req: lambdalocal.Request{Source: "alb", MultiValue: true}, multi: true},
	{name: "alb single-value", req: lambdalocal.Request{Source: "alb"}, single: true},
	{name: "function url", req: lambdalocal.Request{Source: "url"}, single: true},
}

func (fd frontDoor) with(method, target string, header http.Header, body string) lambdalocal.Request {
	r := fd.req
	r.Method, r.Target, r.Header = method, target, header
	if body != "" {
		r.Body = []byte(body)
	}
	return r
}

// TestLambdaFrontDoors runs the same conversation through every front
// door: status, headers in the request's form, body, and every URL the
// API hands out carrying the prefix the client used.
func TestLambdaFrontDoors(t *testing.T) {
	for store, env := range storeEnvs(t) {
		t.Run(store, func(t *testing.T) { lambdaFrontDoors(t, env, frontDoors) })
	}
}

func lambdaFrontDoors(t *testing.T, env map[string]string, doors []frontDoor) {
	for _, fd := range doors {
		t.Run(fd.name, func(t *testing.T) {
			var logs bytes.Buffer
			h := newLambda(t, &logs, env)
			tag := sanitize(fd.name) // the DynamoDB table is shared by the subtests

			resp := invoke(t, h, fd.with("POST", "/v1/items", jsonHeader(), `{"name":"Cup","price":100,"currency":"EUR","tags":["`+tag+`"]}`))
			if resp.StatusCode != 201 || resp.IsBase64Encoded || resp.header("Content-Type") != "application/json" {
				t.Fatalf("create: %+v", resp)
			}
			if fd.multi && (len(resp.MultiValueHeaders) == 0 || len(resp.Headers) != 0) {
				t.Errorf("response must use multiValueHeaders like the request: %+v", resp)
			}
			if fd.single && (len(resp.Headers) == 0 || len(resp.MultiValueHeaders) != 0) {
				t.Errorf("response must use headers like the request: %+v", resp)
			}
			if fd.req.Source == "alb" && resp.StatusDescription != "201 Created" {
				t.Errorf("ALB statusDescription %q", resp.StatusDescription)
			}
			var item struct{ ID, Name, Schema string }
			var raw map[string]any
			_ = json.Unmarshal(resp.body(t), &item)
			_ = json.Unmarshal(resp.body(t), &raw)
			if item.Name != "Cup" {
				t.Fatalf("create body %s", resp.Body)
			}
			if got, want := resp.header("Location"), fd.prefix+"/v1/items/"+item.ID; got != want {
				t.Errorf("Location %q, want %q", got, want)
			}
			if link := resp.header("Link"); !strings.Contains(link, "<"+fd.prefix+"/schemas/Item.json>") {
				t.Errorf("describedBy Link %q lacks the prefix", link)
			}
			if s, _ := raw["$schema"].(string); !strings.HasSuffix(s, fd.prefix+"/schemas/Item.json") || !strings.HasPrefix(s, "http") || strings.Contains(s, "localhost") {
				t.Errorf("$schema %q lacks the prefix", s)
			}

			resp = invoke(t, h, fd.with("GET", "/v1/items/"+item.ID, nil, ""))
			if resp.StatusCode != 200 || resp.header("ETag") != `"`+item.ID+`.1"` || !strings.Contains(resp.Body, `"name":"Cup"`) {
				t.Errorf("get: %+v", resp)
			}
			invoke(t, h, fd.with("POST", "/v1/items", jsonHeader(), `{"name":"Cup 2","price":100,"currency":"EUR","tags":["`+tag+`"]}`))
			resp = invoke(t, h, fd.with("GET", "/v1/items?limit=1&tag="+tag, nil, ""))
			if resp.StatusCode != 200 || !strings.Contains(resp.Body, item.ID) || !strings.Contains(resp.header("Link"), "<"+fd.prefix+"/v1/items?") {
				t.Errorf("list: %d Link %q", resp.StatusCode, resp.header("Link"))
			}

			resp = invoke(t, h, fd.with("POST", "/v1/items", jsonHeader(), `{"name":"","price":1,"currency":"EUR"}`))
			if resp.StatusCode != 422 || resp.header("Content-Type") != "application/problem+json" || !strings.Contains(resp.Body, "body.name") {
				t.Errorf("422: %+v", resp)
			}
			resp = invoke(t, h, fd.with("GET", "/v1/items/01ARZ3NDEKTSV4RRFFQ69G5FAV", nil, ""))
			if resp.StatusCode != 404 || resp.header("Content-Type") != "application/problem+json" {
				t.Errorf("404: %+v", resp)
			}

			// /docs behind the prefix: the page's relative URLs resolve under
			// it, and the spec's servers entry is the URL the client used.
			resp = invoke(t, h, fd.with("GET", "/docs", nil, ""))
			if resp.StatusCode != 200 || !strings.Contains(resp.Body, `src="docs/swagger-ui-bundle.js"`) || !strings.Contains(resp.Body, `data-spec="openapi.json"`) {
				t.Errorf("docs page: %d", resp.StatusCode)
			}
			resp = invoke(t, h, fd.with("GET", "/openapi.json", nil, ""))
			var spec struct {
				Servers []struct{ URL string } `json:"servers"`
			}
			_ = json.Unmarshal(resp.body(t), &spec)
			scheme := "https://"
			if fd.req.Source == "alb" {
				scheme = "http://" // the ALB samples come from an http listener (x-forwarded-proto: http)
			}
			if len(spec.Servers) != 1 || !strings.HasPrefix(spec.Servers[0].URL, scheme) || !strings.HasSuffix(spec.Servers[0].URL, fd.prefix) || strings.HasSuffix(spec.Servers[0].URL, "//") {
				t.Errorf("spec servers %+v, want https://<host>%s", spec.Servers, fd.prefix)
			}

			// The access line carries the Lambda ids and the operation.
			if !strings.Contains(logs.String(), `"aws_request_id":"lambda-req-1"`) || !strings.Contains(logs.String(), `"operation":"create-item"`) {
				t.Errorf("access log lacks Lambda fields: %s", logs.String())
			}
			if (fd.req.Source == "rest" || fd.req.Source == "http") && !strings.Contains(logs.String(), `"apigw_request_id"`) {
				t.Errorf("access log lacks the gateway request id")
			}
		})
	}
}

// TestLambdaBinary: binary in both directions on every front door, through
// the real API. (Multi-value parameters, headers and cookies are checked
// against an echo handler in serve's tests.)
func TestLambdaBinary(t *testing.T) {
	h := newLambda(t, io.Discard, nil)
	for _, fd := range frontDoors {
		t.Run(fd.name, func(t *testing.T) {
			// A base64-encoded request body is decoded.
			r := fd.with("POST", "/v1/items", jsonHeader(), `{"name":"Encoded","price":1,"currency":"EUR","tags":["a","b"]}`)
			r.Binary = true
			if resp := invoke(t, h, r); resp.StatusCode != 201 || !strings.Contains(resp.Body, `"name":"Encoded"`) {
				t.Fatalf("base64 request body: %+v", resp)
			}
			// Binary responses are base64 (image/png, gzip-encoded CSS);
			// text responses are not.
			identity := http.Header{"Accept-Encoding": {"identity"}}
			resp := invoke(t, h, fd.with("GET", "/docs/favicon-32x32.png", identity, ""))
			if resp.StatusCode != 200 || !resp.IsBase64Encoded || !bytes.HasPrefix(resp.body(t), []byte("\x89PNG")) {
				t.Errorf("png: status %d base64 %v", resp.StatusCode, resp.IsBase64Encoded)
			}
			resp = invoke(t, h, fd.with("GET", "/docs/swagger-ui.css", http.Header{"Accept-Encoding": {"gzip"}}, ""))
			if fd.req.Source == "rest" {
				// A REST API without binary media types would pass base64
				// on as text: the asset comes uncompressed, as text.
				if resp.StatusCode != 200 || resp.IsBase64Encoded || resp.header("Content-Encoding") != "" || !strings.Contains(resp.Body, ".swagger-ui") {
					t.Errorf("css asked for gzip through REST: status %d base64 %v encoding %q", resp.StatusCode, resp.IsBase64Encoded, resp.header("Content-Encoding"))
				}
			} else if resp.StatusCode != 200 || !resp.IsBase64Encoded || resp.header("Content-Encoding") != "gzip" || !bytes.HasPrefix(resp.body(t), []byte{0x1f, 0x8b}) {
				t.Errorf("gzip css: status %d base64 %v encoding %q", resp.StatusCode, resp.IsBase64Encoded, resp.header("Content-Encoding"))
			}
			resp = invoke(t, h, fd.with("GET", "/docs/swagger-ui.css", identity, ""))
			if resp.IsBase64Encoded || !strings.Contains(resp.Body, ".swagger-ui") {
				t.Errorf("plain css should be text: base64 %v", resp.IsBase64Encoded)
			}
		})
	}
}

// TestLambdaBadEvents: an event that is not an HTTP request is an error to
// the runtime with a log line naming the problem, and the handler answers
// the next event normally.
// (An event of a known HTTP kind that cannot be decoded, such as a
// truncated HTTP API event, is answered 400: see TestBadLambdaEvents.)
func TestLambdaBadEvents(t *testing.T) {
	var logs bytes.Buffer
	h := newLambda(t, &logs, nil)
	bad := map[string]string{
		"empty object": `{}`,
		"garbage":      `not json at all`,
		"binary":       "\x00\x01\x02\xff",
		"sqs":          `{"Records":[{"eventSource":"aws:sqs","body":"x"}]}`,
		"s3":           `{"Records":[{"eventSource":"aws:s3","s3":{"bucket":{"name":"b"}}}]}`,
		"null":         `null`,
	}
	for name, ev := range bad {
		logs.Reset()
		if _, err := h.Invoke(context.Background(), []byte(ev)); err == nil {
			t.Errorf("%s: accepted", name)
		}
		if !strings.Contains(logs.String(), "Lambda event") {
			t.Errorf("%s: no log line: %q", name, logs.String())
		}
		if resp := invoke(t, h, lambdalocal.Request{Source: "http", Method: "GET", Target: "/healthz"}); resp.StatusCode != 200 {
			t.Errorf("after %s: %d", name, resp.StatusCode)
		}
	}
}

// TestLambdaBasePathConfig: the base_path key strips a mount prefix on
// Lambda too (an API mounted under /v2 of an existing API).
func TestLambdaBasePathConfig(t *testing.T) {
	h := newLambda(t, io.Discard, map[string]string{"TYPEDAPI_BASE_PATH": "/v2"})
	resp := invoke(t, h, lambdalocal.Request{Source: "http", Method: "POST", Target: "/v2/v1/items", Header: jsonHeader(), Body: []byte(`{"name":"Cup","price":1,"currency":"EUR"}`)})
	if resp.StatusCode != 201 || !strings.HasPrefix(resp.header("Location"), "/v2/v1/items/") {
		t.Errorf("create under /v2: %d Location %q", resp.StatusCode, resp.header("Location"))
	}
	resp = invoke(t, h, lambdalocal.Request{Source: "rest", Stage: "prod", Method: "GET", Target: "/v2/healthz"})
	if resp.StatusCode != 200 {
		t.Errorf("rest stage + base path: %d", resp.StatusCode)
	}
}

// TestLambdaDeadline: the invocation's deadline reaches the operation, and
// a request that outlives it answers 504 before Lambda would time out.
func TestLambdaDeadline(t *testing.T) {
	h := newLambda(t, io.Discard, nil)
	ev, _ := lambdalocal.Build(lambdalocal.Request{Source: "http", Method: "GET", Target: "/v1/items"})
	ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond) // margin 500ms: already past
	defer cancel()
	out, err := h.Invoke(ctx, ev)
	if err != nil {
		t.Fatal(err)
	}
	var resp lambdaResponse
	_ = json.Unmarshal(out, &resp)
	if resp.StatusCode != 504 || resp.header("Content-Type") != "application/problem+json" {
		t.Errorf("past deadline: %d %s", resp.StatusCode, resp.Body)
	}
}

func TestLazyOperations(t *testing.T) {
	for _, c := range []struct {
		env  map[string]string
		want bool
	}{
		{map[string]string{}, false}, // the HTTP server: a mistake in an operation shows at start-up
		{map[string]string{"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001"}, true},
		{map[string]string{"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001", "AWS_LAMBDA_MAX_CONCURRENCY": "1"}, true},
		{map[string]string{"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001", "AWS_LAMBDA_MAX_CONCURRENCY": "8"}, false},
		{map[string]string{"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001", "AWS_LAMBDA_MAX_CONCURRENCY": "x"}, true}, // as aws-lambda-go reads it: 1
		{map[string]string{"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001", "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand"}, true},
		{map[string]string{"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001", "AWS_LAMBDA_INITIALIZATION_TYPE": "provisioned-concurrency"}, false}, // init runs before traffic
	} {
		if got := lazyOperations(func(k string) string { return c.env[k] }); got != c.want {
			t.Errorf("%v: lazy %v, want %v", c.env, got, c.want)
		}
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/typedapi/typedapi/config"
	"github.com/typedapi/typedapi/lambdaevent"
	"github.com/typedapi/typedapi/serve"
)

// lambdaResponse covers the response shapes of payload v1 (REST, ALB) and
// v2 (HTTP API, Function URL).
type lambdaResponse struct {
	StatusCode        int                 `json:"statusCode"`
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

func newLambda(t *testing.T, logs *bytes.Buffer) lambda.Handler {
	t.Helper()
	cfg, err := config.Load("", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewJSONHandler(logs, nil))
	h, _, err := newAPI(cfg, logger)
	if err != nil {
		t.Fatal(err)
	}
	return serve.NewLambdaHandler(h)
}

func invoke(t *testing.T, h lambda.Handler, req lambdaevent.Request) lambdaResponse {
	t.Helper()
	ev, err := lambdaevent.Build(req)
	if err != nil {
		t.Fatal(err)
	}
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "lambda-req-1"})
	out, err := h.Invoke(ctx, ev)
	if err != nil {
		t.Fatalf("invoke %s %s: %v", req.Method, req.Target, err)
	}
	var resp lambdaResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatalf("response %s: %v", out, err)
	}
	return resp
}

func jsonHeader() http.Header { return http.Header{"Content-Type": {"application/json"}} }

// TestLambdaEvents feeds real-shaped API Gateway v1 and v2 (and Function
// URL) events through the Lambda handler and checks status, headers, body.
func TestLambdaEvents(t *testing.T) {
	for _, source := range []string{"rest", "http", "url"} {
		t.Run(source, func(t *testing.T) {
			var logs bytes.Buffer
			h := newLambda(t, &logs)

			resp := invoke(t, h, lambdaevent.Request{Source: source, Method: "POST", Target: "/v1/items", Header: jsonHeader(),
				Body: []byte(`{"name":"Cup","price":100,"currency":"EUR","tags":["k"]}`)})
			if resp.StatusCode != 201 || !strings.HasPrefix(resp.header("Location"), "/v1/items/") || resp.header("Content-Type") != "application/json" || resp.IsBase64Encoded {
				t.Fatalf("create: %+v", resp)
			}
			var item struct{ ID, Name string }
			_ = json.Unmarshal(resp.body(t), &item)
			if item.Name != "Cup" || item.ID == "" {
				t.Fatalf("create body %s", resp.Body)
			}

			resp = invoke(t, h, lambdaevent.Request{Source: source, Method: "GET", Target: "/v1/items/" + item.ID})
			if resp.StatusCode != 200 || resp.header("ETag") != `"`+item.ID+`.1"` || !strings.Contains(resp.Body, `"name":"Cup"`) {
				t.Errorf("get: %+v", resp)
			}

			resp = invoke(t, h, lambdaevent.Request{Source: source, Method: "GET", Target: "/v1/items?tag=k&limit=1"})
			if resp.StatusCode != 200 || !strings.Contains(resp.Body, item.ID) {
				t.Errorf("list with query: %+v", resp)
			}

			resp = invoke(t, h, lambdaevent.Request{Source: source, Method: "POST", Target: "/v1/items", Header: jsonHeader(), Body: []byte(`{"name":"","price":1,"currency":"EUR"}`)})
			if resp.StatusCode != 422 || resp.header("Content-Type") != "application/problem+json" || !strings.Contains(resp.Body, "body.name") {
				t.Errorf("422: %+v", resp)
			}

			resp = invoke(t, h, lambdaevent.Request{Source: source, Method: "GET", Target: "/v1/items/01ARZ3NDEKTSV4RRFFQ69G5FAV"})
			if resp.StatusCode != 404 || resp.header("Content-Type") != "application/problem+json" {
				t.Errorf("404: %+v", resp)
			}

			// A base64-encoded request body is decoded.
			resp = invoke(t, h, lambdaevent.Request{Source: source, Method: "POST", Target: "/v1/items", Header: jsonHeader(), Binary: true,
				Body: []byte(`{"name":"Encoded","price":1,"currency":"EUR"}`)})
			if resp.StatusCode != 201 || !strings.Contains(resp.Body, `"name":"Encoded"`) {
				t.Errorf("base64 request body: %+v", resp)
			}

			// A binary response (the docs favicon) is base64-encoded; text is not.
			resp = invoke(t, h, lambdaevent.Request{Source: source, Method: "GET", Target: "/docs/favicon-32x32.png"})
			if resp.StatusCode != 200 || !resp.IsBase64Encoded || !bytes.HasPrefix(resp.body(t), []byte("\x89PNG")) {
				t.Errorf("binary response: status %d base64 %v", resp.StatusCode, resp.IsBase64Encoded)
			}
			resp = invoke(t, h, lambdaevent.Request{Source: source, Method: "GET", Target: "/docs/swagger-ui.css", Header: http.Header{"Accept-Encoding": {"gzip"}}})
			if resp.StatusCode != 200 || resp.IsBase64Encoded || resp.header("Content-Encoding") != "" || !strings.Contains(resp.Body, ".swagger-ui") {
				t.Errorf("docs stylesheet: status %d base64 %v encoding %q", resp.StatusCode, resp.IsBase64Encoded, resp.header("Content-Encoding"))
			}

			// The access line carries the Lambda request id and the operation.
			if !strings.Contains(logs.String(), `"aws_request_id":"lambda-req-1"`) || !strings.Contains(logs.String(), `"operation":"create-item"`) {
				t.Errorf("access log lacks Lambda fields: %s", logs.String())
			}
			if source != "url" && !strings.Contains(logs.String(), `"apigw_request_id"`) {
				t.Errorf("access log lacks the gateway request id")
			}
		})
	}
}

// TestLambdaBadEventThenGood: an event that is not an HTTP event is an
// error to the runtime, and the handler answers the next event normally.
func TestLambdaBadEventThenGood(t *testing.T) {
	var logs bytes.Buffer
	h := newLambda(t, &logs)
	for _, bad := range []string{`{}`, `not json`, `{"Records":[{"eventSource":"aws:sqs","body":"x"}]}`} {
		if _, err := h.Invoke(context.Background(), []byte(bad)); err == nil {
			t.Errorf("event %q accepted", bad)
		}
		resp := invoke(t, h, lambdaevent.Request{Source: "http", Method: "GET", Target: "/healthz"})
		if resp.StatusCode != 200 {
			t.Errorf("after bad event %q: %d", bad, resp.StatusCode)
		}
	}
}

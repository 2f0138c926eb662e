// A local stand-in for the AWS front doors: an HTTP
// handler that turns each request into the Lambda event API Gateway (REST
// or HTTP API), an ALB, a Function URL or VPC Lattice would send, invokes a Lambda
// handler in process, and turns its response back into HTTP. With it the
// Lambda path — event decoding, stage prefixes, binary encoding — can be
// tried from a browser or curl, like `sam local start-api` without Docker.
package lambdalocal

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
)

// GatewayOptions choose the front door to imitate.
type GatewayOptions struct {
	Source     string // rest | http | alb | url | lattice | lattice-v2
	Stage      string // API Gateway stage; the client's paths start with /{stage} when it is named
	BasePath   string // a custom-domain base path mapping such as /shop (instead of a stage)
	MultiValue bool   // ALB target group with multi-value headers on
	ProxyRoute bool   // HTTP API route "ANY /{proxy+}" instead of "$default"
	MaxBody    int64  // largest request body (API Gateway's limit is 10 MB)
	Logger     *slog.Logger
}

// Invoke is a Lambda handler's entry point (lambda.Handler's Invoke).
type Invoke func(ctx context.Context, payload []byte) ([]byte, error)

// WithDefaults is o as Gateway uses it: a REST API without a stage or base
// path has the stage prod, the body limit is API Gateway's 10 MB.
func (o GatewayOptions) WithDefaults() GatewayOptions {
	if o.MaxBody == 0 {
		o.MaxBody = 10 << 20
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Source == "rest" && o.Stage == "" && o.BasePath == "" {
		o.Stage = "prod"
	}
	return o
}

// Gateway serves HTTP by invoking fn with events.
func Gateway(fn Invoke, opts GatewayOptions) http.Handler {
	opts = opts.WithDefaults()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ev, ok := opts.event(w, r)
		if !ok {
			return
		}
		out, err := fn(r.Context(), ev)
		if err != nil {
			// API Gateway's answer when the function fails.
			opts.Logger.ErrorContext(r.Context(), "lambda invocation failed", "error", err.Error())
			writeJSON(w, http.StatusBadGateway, `{"message":"Internal server error"}`)
			return
		}
		if err := writeResponse(w, out); err != nil {
			opts.Logger.ErrorContext(r.Context(), "lambda response not understood", "error", err.Error())
			writeJSON(w, http.StatusBadGateway, `{"message":"Internal server error"}`)
		}
	})
}

// StreamingGateway serves HTTP as a Function URL whose invoke mode is
// RESPONSE_STREAM: each request goes as an event through api, the Runtime
// API stand-in a function streams its answers to, and the body is written
// to the client as it arrives, so `curl -N` shows it before the function
// ends. A stream the function ends with the error trailers is cut off (the
// connection closes without the last chunk), not passed off as complete.
func StreamingGateway(api *RuntimeAPI, opts GatewayOptions) http.Handler {
	opts.Source = "url"
	opts = opts.WithDefaults()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ev, ok := opts.event(w, r)
		if !ok {
			return
		}
		ans, err := api.Invoke(r.Context(), ev)
		switch {
		case err != nil:
			opts.Logger.ErrorContext(r.Context(), "lambda invocation failed", "error", err.Error())
			writeJSON(w, http.StatusBadGateway, `{"Message":"Internal Server Error"}`)
			return
		case ans.Err != nil:
			opts.Logger.ErrorContext(r.Context(), "lambda function failed", "error_type", ans.Err.Type, "error", ans.Err.Message)
			writeJSON(w, http.StatusBadGateway, `{"Message":"Internal Server Error"}`)
			return
		}
		defer ans.Body.Close()
		if !ans.Streamed {
			out, err := io.ReadAll(ans.Body)
			if err == nil {
				err = writeResponse(w, out)
			}
			if err != nil {
				opts.Logger.ErrorContext(r.Context(), "lambda response not understood", "error", err.Error())
				writeJSON(w, http.StatusBadGateway, `{"Message":"Internal Server Error"}`)
			}
			return
		}
		br := bufio.NewReaderSize(ans.Body, 32<<10)
		status, header, err := ReadPrelude(br)
		if err != nil {
			opts.Logger.ErrorContext(r.Context(), "lambda response not understood", "error", err.Error())
			writeJSON(w, http.StatusBadGateway, `{"Message":"Internal Server Error"}`)
			return
		}
		for k, vs := range header {
			w.Header()[k] = vs
		}
		w.WriteHeader(status)
		rc := http.NewResponseController(w)
		_ = rc.Flush()
		buf := make([]byte, 32<<10)
		for {
			n, err := br.Read(buf)
			if n > 0 {
				if _, werr := w.Write(buf[:n]); werr != nil {
					return // the client left; closing the body drains the function's stream
				}
				_ = rc.Flush()
			}
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				opts.Logger.ErrorContext(r.Context(), "lambda stream ended with an error", "error", err.Error())
				panic(http.ErrAbortHandler)
			}
		}
	})
}

// event turns r into the front door's event, or answers the client as
// the front door would when it cannot.
func (o GatewayOptions) event(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	target, ok := o.strip(r.URL.Path)
	if !ok {
		// What API Gateway answers for a path outside the stage.
		writeJSON(w, http.StatusForbidden, `{"message":"Missing Authentication Token"}`)
		return nil, false
	}
	if r.URL.RawQuery != "" {
		target += "?" + r.URL.RawQuery
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, o.MaxBody))
	if err != nil {
		writeJSON(w, http.StatusRequestEntityTooLarge, `{"message":"Request Too Long"}`)
		return nil, false
	}
	header := r.Header.Clone()
	header.Set("Host", r.Host)
	header.Set("X-Forwarded-Proto", "http")
	if ip, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		header.Set("X-Forwarded-For", ip)
	}
	var cookies []string
	if o.Source == "http" || o.Source == "url" {
		for _, c := range r.Cookies() {
			cookies = append(cookies, c.Name+"="+c.Value)
		}
		header.Del("Cookie")
	}
	stage := o.Stage
	if o.BasePath != "" {
		stage = ""
	}
	ev, err := Build(Request{
		Source: o.Source, Method: r.Method, Target: target, Header: header, Body: body, Cookies: cookies,
		Stage: stage, BasePath: o.BasePath, Domain: domainIf(o.BasePath, r.Host),
		MultiValue: o.MultiValue, ProxyRoute: o.ProxyRoute,
	})
	if err != nil {
		writeJSON(w, http.StatusBadRequest, fmt.Sprintf(`{"message":%q}`, err.Error()))
		return nil, false
	}
	return ev, true
}

// strip removes the stage or base path the client's path must start with.
// VPC Lattice passes the whole path on (the app's base_path strips it).
func (o GatewayOptions) strip(path string) (string, bool) {
	if strings.HasPrefix(o.Source, "lattice") {
		return path, true
	}
	prefix := o.BasePath
	if prefix == "" && o.Stage != "" && o.Stage != "$default" {
		prefix = "/" + o.Stage
	}
	if prefix == "" {
		return path, true
	}
	rest, ok := strings.CutPrefix(path, prefix)
	if !ok || (rest != "" && rest[0] != '/') {
		return "", false
	}
	if rest == "" {
		rest = "/"
	}
	return rest, true
}

func domainIf(basePath, host string) string {
	if basePath == "" {
		return ""
	}
	return host
}

// lambdaResponse is the union of the response shapes.
type lambdaResponse struct {
	StatusCode        int                 `json:"statusCode"`
	Headers           map[string]string   `json:"headers"`
	MultiValueHeaders map[string][]string `json:"multiValueHeaders"`
	Cookies           []string            `json:"cookies"`
	Body              string              `json:"body"`
	IsBase64Encoded   bool                `json:"isBase64Encoded"`
}

// Decode reads a Lambda HTTP response: status, headers (both forms,
// cookies as Set-Cookie) and the body, base64-decoded when marked so.
func Decode(out []byte) (status int, header http.Header, body []byte, err error) {
	var resp lambdaResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		return 0, nil, nil, err
	}
	if resp.StatusCode < 100 || resp.StatusCode > 599 {
		return 0, nil, nil, fmt.Errorf("status code %d", resp.StatusCode)
	}
	header = http.Header{}
	for k, v := range resp.Headers {
		header.Set(k, v)
	}
	for k, vs := range resp.MultiValueHeaders {
		header[http.CanonicalHeaderKey(k)] = vs
	}
	for _, c := range resp.Cookies {
		header.Add("Set-Cookie", c)
	}
	body = []byte(resp.Body)
	if resp.IsBase64Encoded {
		if body, err = base64.StdEncoding.DecodeString(resp.Body); err != nil {
			return 0, nil, nil, fmt.Errorf("body marked base64 is not: %w", err)
		}
	}
	return resp.StatusCode, header, body, nil
}

func writeResponse(w http.ResponseWriter, out []byte) error {
	status, header, body, err := Decode(out)
	if err != nil {
		return err
	}
	for k, vs := range header {
		w.Header()[k] = vs
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
	return nil
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

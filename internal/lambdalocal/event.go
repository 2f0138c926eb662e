// Package lambdalocal is the Lambda path on a laptop: it builds realistic
// Lambda events for an HTTP request, as API Gateway (REST and HTTP APIs), an
// Application Load Balancer, a Function URL or VPC Lattice would send them (Build; the
// `api event` and `api invoke` commands), and serves HTTP through a Lambda
// handler as those front doors would (Gateway; `api gateway`). Nobody has
// to know an event's shape to try the Lambda path.
//
// Each event starts from an AWS sample (see templates/README.md); only the
// request's method, path, query, headers and body, and the per-request ids
// and times, are changed.
package lambdalocal

import (
	"crypto/rand"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"
)

//go:embed templates/*.json
var templates embed.FS

// Sources are the event kinds Build makes for API Gateway, ALBs and
// Function URLs.
var Sources = []string{"rest", "http", "alb", "url"}

// LatticeSources are the VPC Lattice event kinds Build makes: event
// structure version 1 and version 2.
var LatticeSources = []string{"lattice", "lattice-v2"}

// Request is the HTTP request to wrap in an event.
type Request struct {
	Source  string      // rest | http | alb | url | lattice | lattice-v2
	Method  string      // GET, POST, ...
	Target  string      // path with optional query, e.g. /v1/items?limit=2
	Header  http.Header // request headers
	Body    []byte      // sent base64-encoded when it is not UTF-8 text
	Binary  bool        // force base64 for the body
	Cookies []string    // "name=value" pairs

	// Stage is the API Gateway stage: for rest, default "prod" (the path
	// the client used is /prod/...); for http, default "$default" (no
	// prefix); a named one appears in front of rawPath.
	Stage string
	// Domain and BasePath describe a custom domain with a base path
	// (API) mapping, e.g. api.example.com and /shop: the client asked for
	// /shop/v1/items and the stage does not appear.
	Domain, BasePath string
	// ProxyRoute makes an HTTP API event come from an "ANY /{proxy+}" route
	// instead of "$default" (REST events always use /{proxy+}).
	ProxyRoute bool
	// MultiValue makes an ALB event come from a target group with
	// multi-value headers on.
	MultiValue bool
}

// Build returns the event JSON for r.
func Build(r Request) ([]byte, error) {
	template := r.Source
	if r.Source == "alb" && r.MultiValue {
		template = "alb-multivalue"
	}
	raw, err := templates.ReadFile("templates/" + template + ".json")
	if err != nil {
		return nil, fmt.Errorf("lambdaevent: unknown source %q (want one of %s)", r.Source, strings.Join(append(Sources, LatticeSources...), ", "))
	}
	var ev map[string]any
	if err := json.Unmarshal(raw, &ev); err != nil {
		return nil, err
	}
	// As an HTTP server reads a request target: "//x/items" is a path
	// (with an empty segment), not the host x and /items.
	u, err := url.ParseRequestURI(r.Target)
	if err != nil || !strings.HasPrefix(u.Path, "/") || u.Host != "" {
		return nil, fmt.Errorf("lambdaevent: %q is not a path such as /v1/items", r.Target)
	}
	method := strings.ToUpper(r.Method)
	if method == "" {
		method = http.MethodGet
	}
	body, isBase64 := encodeBody(r.Body, r.Binary)
	ev["body"] = body
	ev["isBase64Encoded"] = isBase64
	rc, _ := ev["requestContext"].(map[string]any)

	switch r.Source {
	case "lattice", "lattice-v2":
		setLattice(ev, r.Source == "lattice-v2", method, u, r.Header, r.Cookies)
		if r.Source == "lattice" {
			delete(ev, "isBase64Encoded")
			ev["is_base64_encoded"] = isBase64
		}
		if len(r.Body) > 0 {
			setHeader(ev["headers"].(map[string]any), "content-length", fmt.Sprint(len(r.Body)), r.Source == "lattice-v2")
		}
	case "rest":
		stage := or(r.Stage, "prod")
		setV1(ev, method, u, r.Header, r.Cookies, true, false)
		ev["resource"] = "/{proxy+}"
		ev["pathParameters"] = map[string]any{"proxy": strings.TrimPrefix(u.Path, "/")}
		rc["httpMethod"] = method
		rc["stage"] = stage
		rc["path"] = "/" + stage + u.Path
		if r.Domain != "" || r.BasePath != "" {
			// On a custom domain the path carries the base path mapping
			// and no stage.
			ev["path"] = r.BasePath + u.Path
			rc["path"] = r.BasePath + u.Path
			setHost(ev, or(r.Domain, "api.example.com"))
			rc["domainName"] = or(r.Domain, "api.example.com")
		}
		rc["resourcePath"] = "/{proxy+}"
		rc["requestId"] = newID()
		rc["requestTimeEpoch"] = time.Now().UnixMilli()
		rc["extendedRequestId"] = newID()
	case "alb":
		setV1(ev, method, u, r.Header, r.Cookies, r.MultiValue, true)
		if r.MultiValue {
			delete(ev, "headers")
			delete(ev, "queryStringParameters")
		}
	case "http", "url":
		stage := or(r.Stage, "$default")
		rawPath := u.Path
		if r.Source == "http" && stage != "$default" {
			rawPath = "/" + stage + u.Path // a named stage shows in rawPath
		}
		if r.Source == "http" && (r.Domain != "" || r.BasePath != "") {
			rawPath = r.BasePath + u.Path
		}
		if r.Source == "http" && r.ProxyRoute {
			ev["routeKey"] = "ANY /{proxy+}"
			rc["routeKey"] = "ANY /{proxy+}"
			ev["pathParameters"] = map[string]any{"proxy": strings.TrimPrefix(u.Path, "/")}
		}
		if r.Source == "url" {
			delete(rc, "stage") // a Function URL has no stage
		} else {
			rc["stage"] = stage
		}
		ev["rawPath"] = rawPath
		ev["rawQueryString"] = u.RawQuery
		ev["queryStringParameters"] = joinedQuery(u.Query())
		headers := sampleHeaders(ev)
		for k, vs := range r.Header {
			if strings.EqualFold(k, "Cookie") {
				continue
			}
			dropKey(headers, k)
			headers[strings.ToLower(k)] = strings.Join(vs, ",")
		}
		ev["headers"] = headers
		if r.Source == "http" && r.Domain != "" {
			headers["host"] = r.Domain
			rc["domainName"] = r.Domain
		}
		if len(r.Cookies) > 0 {
			ev["cookies"] = r.Cookies
		} else {
			delete(ev, "cookies")
		}
		h, _ := rc["http"].(map[string]any)
		h["method"] = method
		h["path"] = rawPath
		rc["requestId"] = newID()
		rc["timeEpoch"] = time.Now().UnixMilli()
		if len(r.Body) > 0 {
			headers["content-length"] = fmt.Sprint(len(r.Body))
		} else {
			delete(headers, "content-length")
		}
	}
	return inTemplateOrder(ev, template, raw)
}

// setV1 fills the payload-v1 fields shared by REST APIs and ALBs. An ALB
// sends either single- or multi-value maps (a target group setting); the
// sample has single-value ones and so does the event.
func setV1(ev map[string]any, method string, u *url.URL, header http.Header, cookies []string, multi, escape bool) {
	ev["httpMethod"] = method
	ev["path"] = u.Path
	header = header.Clone()
	if header == nil {
		header = http.Header{}
	}
	if len(cookies) > 0 {
		header.Set("Cookie", strings.Join(cookies, "; "))
	}
	headers := sampleHeaders(ev)
	for k, vs := range header {
		dropKey(headers, k)
		headers[k] = vs[len(vs)-1]
	}
	mvHeaders := map[string]any{}
	for k, v := range headers {
		mvHeaders[k] = header.Values(k)
		if len(header.Values(k)) == 0 {
			mvHeaders[k] = []string{v.(string)}
		}
	}
	ev["headers"] = headers
	q := u.Query()
	single, mv := map[string]any{}, map[string]any{}
	for k, vs := range q {
		if escape {
			// An ALB passes query strings on as the client encoded them.
			k = url.QueryEscape(k)
			vs = escapeAll(vs)
		}
		single[k] = vs[len(vs)-1]
		mv[k] = vs
	}
	ev["queryStringParameters"] = single
	if multi {
		ev["multiValueHeaders"] = mvHeaders
		ev["multiValueQueryStringParameters"] = mv
	}
}

// setLattice fills a VPC Lattice event. Lattice passes the path as the
// client sent it, with no stage or base path taken off; version 1 holds
// one string per header (values joined with commas) and per query
// parameter (the last), version 2 arrays of them and the time in
// microseconds.
func setLattice(ev map[string]any, v2 bool, method string, u *url.URL, header http.Header, cookies []string) {
	ev["method"] = method
	header = header.Clone()
	if header == nil {
		header = http.Header{}
	}
	if len(cookies) > 0 {
		header.Set("Cookie", strings.Join(cookies, "; "))
	}
	headers := map[string]any{}
	for k, v := range sampleHeaders(ev) {
		if vs, ok := v.([]any); ok && len(vs) > 0 {
			v = vs[0]
		}
		setHeader(headers, k, v.(string), v2)
	}
	for k, vs := range header {
		dropKey(headers, k)
		if v2 {
			headers[strings.ToLower(k)] = vs
		} else {
			headers[strings.ToLower(k)] = strings.Join(vs, ",")
		}
	}
	ev["headers"] = headers
	query := map[string]any{}
	for k, vs := range u.Query() {
		if v2 {
			query[k] = vs
		} else {
			query[k] = vs[len(vs)-1]
		}
	}
	if v2 {
		ev["path"] = u.EscapedPath()
		ev["queryStringParameters"] = query
		if rc, ok := ev["requestContext"].(map[string]any); ok {
			rc["timeEpoch"] = fmt.Sprint(time.Now().UnixMicro())
		}
	} else {
		ev["raw_path"] = u.EscapedPath()
		ev["query_string_parameters"] = query
	}
}

// setHeader sets one header of a Lattice event in its version's form.
func setHeader(headers map[string]any, name, value string, v2 bool) {
	if v2 {
		headers[name] = []string{value}
	} else {
		headers[name] = value
	}
}

// setHost replaces the Host header of a payload-v1 event.
func setHost(ev map[string]any, host string) {
	for _, field := range []string{"headers", "multiValueHeaders"} {
		h, _ := ev[field].(map[string]any)
		for k := range h {
			if strings.EqualFold(k, "host") {
				delete(h, k)
			}
		}
		if h != nil {
			if field == "headers" {
				h["Host"] = host
			} else {
				h["Host"] = []string{host}
			}
		}
	}
}

// sampleHeaders are the template's headers as a single-value map, less the
// ones that describe the sample's own body; the request's headers go on top.
func sampleHeaders(ev map[string]any) map[string]any {
	out := map[string]any{}
	if h, ok := ev["headers"].(map[string]any); ok {
		for k, v := range h {
			out[k] = v
		}
	} else if mv, ok := ev["multiValueHeaders"].(map[string]any); ok {
		for k, v := range mv {
			if vs, ok := v.([]any); ok && len(vs) > 0 {
				out[k] = vs[0]
			}
		}
	}
	for _, k := range []string{"content-type", "content-length", "postman-token", "header1", "header2", "headername", "x-myheader", "cache-control"} {
		dropKey(out, k)
	}
	return out
}

// dropKey deletes name from h whatever its case.
func dropKey(h map[string]any, name string) {
	for k := range h {
		if strings.EqualFold(k, name) {
			delete(h, k)
		}
	}
}

func escapeAll(vs []string) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = url.QueryEscape(v)
	}
	return out
}

func joinedQuery(q url.Values) map[string]any {
	out := map[string]any{}
	for k, vs := range q {
		out[k] = strings.Join(vs, ",")
	}
	return out
}

func encodeBody(b []byte, binary bool) (string, bool) {
	if binary || !utf8.Valid(b) {
		return base64.StdEncoding.EncodeToString(b), true
	}
	return string(b), false
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func newID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

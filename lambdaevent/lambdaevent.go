// Package lambdaevent builds realistic Lambda events for an HTTP request,
// as API Gateway (REST and HTTP APIs), an Application Load Balancer or a
// Function URL would send them. Tests and the `api event` command use it so
// nobody has to know an event's shape to try the Lambda path.
//
// Each event starts from an AWS sample (see templates/README.md); only the
// request's method, path, query, headers and body, and the per-request ids
// and times, are changed.
package lambdaevent

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

// Sources are the event kinds Build makes.
var Sources = []string{"rest", "http", "alb", "url"}

// Request is the HTTP request to wrap in an event.
type Request struct {
	Source  string      // rest | http | alb | url
	Method  string      // GET, POST, ...
	Target  string      // path with optional query, e.g. /v1/items?limit=2
	Header  http.Header // request headers
	Body    []byte      // sent base64-encoded when it is not UTF-8 text
	Stage   string      // API Gateway stage; "" means the source's default
	Binary  bool        // force base64 for the body
	Cookies []string    // "name=value" pairs
}

// Build returns the event JSON for r.
func Build(r Request) ([]byte, error) {
	raw, err := templates.ReadFile("templates/" + r.Source + ".json")
	if err != nil {
		return nil, fmt.Errorf("lambdaevent: unknown source %q (want one of %s)", r.Source, strings.Join(Sources, ", "))
	}
	var ev map[string]any
	if err := json.Unmarshal(raw, &ev); err != nil {
		return nil, err
	}
	u, err := url.Parse(r.Target)
	if err != nil || !strings.HasPrefix(u.Path, "/") {
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
	case "rest":
		stage := or(r.Stage, "prod")
		setV1(ev, method, u, r.Header, true)
		ev["resource"] = "/{proxy+}"
		ev["pathParameters"] = map[string]any{"proxy": strings.TrimPrefix(u.Path, "/")}
		rc["httpMethod"] = method
		rc["stage"] = stage
		rc["path"] = "/" + stage + u.Path
		rc["resourcePath"] = "/{proxy+}"
		rc["requestId"] = newID()
		rc["requestTimeEpoch"] = time.Now().UnixMilli()
		rc["extendedRequestId"] = newID()
	case "alb":
		setV1(ev, method, u, r.Header, false)
	case "http", "url":
		stage := or(r.Stage, "$default")
		rawPath := u.Path
		if r.Source == "http" && stage != "$default" {
			rawPath = "/" + stage + u.Path // a named stage shows in rawPath
		}
		if r.Source == "url" {
			delete(rc, "stage") // a Function URL has no stage
		} else {
			rc["stage"] = stage
		}
		ev["rawPath"] = rawPath
		ev["rawQueryString"] = u.RawQuery
		ev["queryStringParameters"] = joinedQuery(u.Query())
		headers := map[string]any{}
		for k, vs := range r.Header {
			if strings.EqualFold(k, "Cookie") {
				continue
			}
			headers[strings.ToLower(k)] = strings.Join(vs, ",")
		}
		keepHost(ev, headers)
		ev["headers"] = headers
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
	return json.MarshalIndent(ev, "", "  ")
}

// setV1 fills the payload-v1 fields shared by REST APIs and ALBs. An ALB
// sends either single- or multi-value maps (a target group setting); the
// sample has single-value ones and so does the event.
func setV1(ev map[string]any, method string, u *url.URL, header http.Header, multi bool) {
	ev["httpMethod"] = method
	ev["path"] = u.Path
	headers, mvHeaders := map[string]any{}, map[string]any{}
	for k, vs := range header {
		headers[k] = vs[len(vs)-1]
		mvHeaders[k] = vs
	}
	keepHost(ev, headers)
	ev["headers"] = headers
	q := u.Query()
	single, mv := map[string]any{}, map[string]any{}
	for k, vs := range q {
		single[k] = vs[len(vs)-1]
		mv[k] = vs
	}
	ev["queryStringParameters"] = single
	if multi {
		if h, ok := headers["Host"]; ok {
			mvHeaders["Host"] = []string{h.(string)}
		}
		ev["multiValueHeaders"] = mvHeaders
		ev["multiValueQueryStringParameters"] = mv
	}
}

// keepHost carries the sample's Host header over unless the request sets one.
func keepHost(ev, headers map[string]any) {
	old, _ := ev["headers"].(map[string]any)
	for k, v := range old {
		if strings.EqualFold(k, "host") {
			for hk := range headers {
				if strings.EqualFold(hk, "host") {
					return
				}
			}
			headers[k] = v
		}
	}
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

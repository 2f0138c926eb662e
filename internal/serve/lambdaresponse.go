package serve

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// kind is the shape of an event, which also decides the response's shape.
type kind int

const (
	kindUnknown   kind = iota
	kindREST           // API Gateway REST API, payload v1
	kindV2             // API Gateway HTTP API or Function URL, payload v2
	kindALB            // ALB target group with multi-value headers on
	kindALBSingle      // ALB target group with multi-value headers off
	kindLattice        // VPC Lattice target group, event structure v1 or v2
)

// albToMultiValue rewrites an ALB event from a target group with
// multi-value headers off into the multi-value form algnhsa reads.
func albToMultiValue(payload []byte) ([]byte, error) {
	var ev events.ALBTargetGroupRequest
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, err
	}
	ev.MultiValueHeaders = make(map[string][]string, len(ev.Headers))
	for k, v := range ev.Headers {
		ev.MultiValueHeaders[k] = []string{v}
	}
	ev.MultiValueQueryStringParameters = make(map[string][]string, len(ev.QueryStringParameters))
	for k, v := range ev.QueryStringParameters {
		ev.MultiValueQueryStringParameters[k] = []string{v}
	}
	if len(ev.MultiValueHeaders) == 0 {
		// algnhsa insists on at least one header.
		ev.MultiValueHeaders["x-forwarded-proto"] = []string{"https"}
	}
	ev.Headers, ev.QueryStringParameters = nil, nil
	return json.Marshal(ev)
}

// response is the union of the response events of every kind; each kind
// fills the fields its front door reads, and the empty ones are left out.
type response struct {
	StatusCode        int                 `json:"statusCode"`
	StatusDescription string              `json:"statusDescription,omitempty"` // ALB, VPC Lattice
	Headers           map[string]string   `json:"headers,omitempty"`           // HTTP API, Function URL, single-value ALB, VPC Lattice
	MultiValueHeaders map[string][]string `json:"multiValueHeaders,omitempty"` // REST, multi-value ALB
	Cookies           []string            `json:"cookies,omitempty"`           // HTTP API, Function URL
	Body              string              `json:"body"`
	IsBase64Encoded   bool                `json:"isBase64Encoded"`
}

// encode builds the response event for the kind of event that asked.
// REST and ALB use multiValueHeaders (ALB in single-value mode uses
// headers), HTTP APIs and Function URLs use headers plus cookies, VPC
// Lattice (both event versions) uses headers and a status description as
// an ALB does.
func (c *capture) encode() ([]byte, error) {
	status := c.status
	if status == 0 {
		status = http.StatusOK
	}
	r := response{StatusCode: status}
	if c.kind == kindALB || c.kind == kindALBSingle || c.kind == kindLattice {
		r.StatusDescription = strconv.Itoa(status) + " " + http.StatusText(status)
	}
	switch c.kind {
	case kindV2:
		r.Headers = c.singleValueHeaders()
		r.Cookies = c.header["Set-Cookie"]
	case kindALBSingle, kindLattice:
		r.Headers = c.singleValueHeaders()
	default:
		r.MultiValueHeaders = c.header
	}
	if isText(c.header) {
		r.Body = c.body.String()
	} else {
		r.Body = base64.StdEncoding.EncodeToString(c.body.Bytes())
		r.IsBase64Encoded = true
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	// The body is the API's bytes: escaped for HTML, every <, > and & of
	// the /docs page would grow to six bytes, against Lambda's size limit.
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil // Encode ends the value with a newline
}

// singleValueHeaders is the "headers" object of an HTTP API, single-value
// ALB or VPC Lattice response: several values of one header joined with
// commas. Set-Cookie cannot be joined: an HTTP API takes cookies apart (in
// "cookies"), and a single-value ALB or Lattice carries only one, so the
// last one wins there (turn an ALB's multi-value headers on to send several).
func (c *capture) singleValueHeaders() map[string]string {
	var h map[string]string
	for k, vs := range c.header {
		if k == "Set-Cookie" {
			if c.kind == kindV2 || len(vs) == 0 {
				continue
			}
			vs = vs[len(vs)-1:]
		}
		if h == nil {
			h = make(map[string]string, len(c.header))
		}
		h[k] = strings.Join(vs, ",")
	}
	return h
}

// isText reports whether a body can travel as a JSON string unchanged:
// text media types (and JSON, XML, JavaScript, YAML, forms) with no
// content coding. Everything else — images, PDFs, gzip-encoded text, any
// type we do not know — is sent base64-encoded, so nothing is corrupted.
func isText(h http.Header) bool {
	// Direct reads: the keys are canonical, and Header.Get would
	// canonicalise them again on every call.
	if enc := firstValue(h["Content-Encoding"]); enc != "" && !strings.EqualFold(enc, "identity") {
		return false
	}
	ct := firstValue(h["Content-Type"])
	if ct == "" {
		return true // no body, or a status-only answer
	}
	switch ct {
	case "application/json", "application/problem+json", "text/html; charset=utf-8":
		return true // what the API writes; skips parsing the type
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	if strings.HasPrefix(mt, "text/") || strings.HasSuffix(mt, "+json") || strings.HasSuffix(mt, "+xml") || strings.HasSuffix(mt, "+yaml") {
		return true
	}
	switch mt {
	case "application/json", "application/xml", "application/javascript", "application/ecmascript",
		"application/x-www-form-urlencoded", "application/yaml", "application/x-yaml", "application/graphql":
		return true
	}
	return false
}

func firstValue(vs []string) string {
	if len(vs) == 0 {
		return ""
	}
	return vs[0]
}

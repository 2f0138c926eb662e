package serve

import (
	"encoding/base64"
	"encoding/json"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/typedapi/typedapi/internal/jsonbytes"
)

// kind is the shape of an event, which also decides the response's shape.
type kind int

const (
	kindUnknown   kind = iota
	kindREST           // API Gateway REST API, payload v1
	kindV2             // API Gateway HTTP API or Function URL, payload v2
	kindALB            // ALB target group with multi-value headers on
	kindALBSingle      // ALB target group with multi-value headers off
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

// encode builds the response event for the kind of event that asked. The
// JSON is appended by hand, as encoding/json would write the union of the
// response shapes (same keys in the same order, empty maps and lists left
// out, map keys sorted) but without its reflection, the per-kind header
// maps and their sorting allocations: this runs once per invocation.
//
// REST and ALB use multiValueHeaders (ALB in single-value mode uses
// headers), HTTP APIs and Function URLs use headers plus cookies.
func (c *capture) encode() ([]byte, error) {
	status := c.status
	if status == 0 {
		status = http.StatusOK
	}
	keys := sortedKeys(c.header)
	b := make([]byte, 0, c.body.Len()*4/3+128+64*len(keys))
	b = append(b, `{"statusCode":`...)
	b = strconv.AppendInt(b, int64(status), 10)
	if c.kind == kindALB || c.kind == kindALBSingle {
		b = append(b, `,"statusDescription":"`...)
		b = strconv.AppendInt(b, int64(status), 10)
		b = append(b, ' ')
		b = append(b, http.StatusText(status)...)
		b = append(b, '"')
	}
	switch c.kind {
	case kindV2, kindALBSingle:
		b = c.appendSingleValueHeaders(b, keys)
		if cookies := c.header["Set-Cookie"]; c.kind == kindV2 && len(cookies) > 0 {
			b = append(b, `,"cookies":`...)
			b = appendJSONStrings(b, cookies)
		}
	default:
		if len(keys) > 0 {
			b = append(b, `,"multiValueHeaders":{`...)
			for i, k := range keys {
				if i > 0 {
					b = append(b, ',')
				}
				b = jsonbytes.String(b, k)
				b = append(b, ':')
				b = appendJSONStrings(b, c.header[k])
			}
			b = append(b, '}')
		}
	}
	b = append(b, `,"body":`...)
	if isText(c.header) {
		b = jsonbytes.String(b, c.body.String())
		b = append(b, `,"isBase64Encoded":false}`...)
	} else {
		b = append(b, '"')
		b = base64.StdEncoding.AppendEncode(b, c.body.Bytes())
		b = append(b, `","isBase64Encoded":true}`...)
	}
	return b, nil
}

// appendSingleValueHeaders writes the "headers" object of an HTTP API or
// single-value ALB response: several values of one header joined with
// commas. Set-Cookie cannot be joined: an HTTP API takes cookies apart (in
// "cookies"), and a single-value ALB carries only one, so the last one
// wins there (turn multi-value headers on to send several).
func (c *capture) appendSingleValueHeaders(b []byte, keys []string) []byte {
	n := 0
	for _, k := range keys {
		vs := c.header[k]
		if k == "Set-Cookie" {
			if c.kind == kindV2 || len(vs) == 0 {
				continue
			}
			vs = vs[len(vs)-1:]
		}
		if n == 0 {
			b = append(b, `,"headers":{`...)
		} else {
			b = append(b, ',')
		}
		n++
		b = jsonbytes.String(b, k)
		b = append(b, ':', '"')
		for i, v := range vs {
			if i > 0 {
				b = append(b, ',')
			}
			b = jsonbytes.Escape(b, v)
		}
		b = append(b, '"')
	}
	if n > 0 {
		b = append(b, '}')
	}
	return b
}

// sortedKeys is m's keys in order, in one allocation (slices.Sorted grows
// its slice step by step).
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func appendJSONStrings(b []byte, ss []string) []byte {
	if ss == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonbytes.String(b, s)
	}
	return append(b, ']')
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

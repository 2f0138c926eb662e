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
)

// sniff tells the event's kind from its top-level keys without decoding
// it. A key is a quoted name followed by a colon, which a JSON string value
// (where quotes are escaped) cannot contain, so a body never fools it; a
// header named like a key can, and Invoke falls back to algnhsa's own
// detection then.
func sniff(payload []byte) kind {
	switch {
	case hasKey(payload, "targetGroupArn"):
		if hasKey(payload, "multiValueHeaders") {
			return kindALB
		}
		return kindALBSingle
	case hasKey(payload, "rawPath") || hasKey(payload, "routeKey") && hasKey(payload, "version"):
		return kindV2
	case hasKey(payload, "httpMethod") && hasKey(payload, "requestContext"):
		return kindREST
	}
	return kindUnknown
}

func hasKey(payload []byte, key string) bool {
	quoted := `"` + key + `"`
	for rest := payload; ; {
		i := bytes.Index(rest, []byte(quoted))
		if i < 0 {
			return false
		}
		rest = rest[i+len(quoted):]
		trimmed := bytes.TrimLeft(rest, " \t\r\n")
		if len(trimmed) > 0 && trimmed[0] == ':' {
			return true
		}
	}
}

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

// response is the union of the response shapes: REST and ALB use
// multiValueHeaders (ALB single-value mode uses headers), HTTP APIs and
// Function URLs use headers plus cookies.
type response struct {
	StatusCode        int                 `json:"statusCode"`
	StatusDescription string              `json:"statusDescription,omitempty"`
	Headers           map[string]string   `json:"headers,omitempty"`
	MultiValueHeaders map[string][]string `json:"multiValueHeaders,omitempty"`
	Cookies           []string            `json:"cookies,omitempty"`
	Body              string              `json:"body"`
	IsBase64Encoded   bool                `json:"isBase64Encoded"`
}

// encode builds the response event for the kind of event that asked.
func (c *capture) encode() ([]byte, error) {
	status := c.status
	if status == 0 {
		status = http.StatusOK
	}
	resp := response{StatusCode: status}
	if isText(c.header) {
		resp.Body = c.body.String()
	} else {
		resp.Body = base64.StdEncoding.EncodeToString(c.body.Bytes())
		resp.IsBase64Encoded = true
	}
	switch c.kind {
	case kindV2:
		resp.Headers = make(map[string]string, len(c.header))
		for k, vs := range c.header {
			if k == "Set-Cookie" {
				resp.Cookies = vs
				continue
			}
			resp.Headers[k] = strings.Join(vs, ",")
		}
	case kindALBSingle:
		resp.StatusDescription = strconv.Itoa(status) + " " + http.StatusText(status)
		resp.Headers = make(map[string]string, len(c.header))
		for k, vs := range c.header {
			if k == "Set-Cookie" {
				// One cookie is all this mode carries: the last one wins
				// (turn multi-value headers on to send several).
				resp.Headers[k] = vs[len(vs)-1]
				continue
			}
			resp.Headers[k] = strings.Join(vs, ",")
		}
	case kindALB:
		resp.StatusDescription = strconv.Itoa(status) + " " + http.StatusText(status)
		resp.MultiValueHeaders = c.header
	default:
		resp.MultiValueHeaders = c.header
	}
	return json.Marshal(resp)
}

// isText reports whether a body can travel as a JSON string unchanged:
// text media types (and JSON, XML, JavaScript, YAML, forms) with no
// content coding. Everything else — images, PDFs, gzip-encoded text, any
// type we do not know — is sent base64-encoded, so nothing is corrupted.
func isText(h http.Header) bool {
	if enc := h.Get("Content-Encoding"); enc != "" && !strings.EqualFold(enc, "identity") {
		return false
	}
	ct := h.Get("Content-Type")
	if ct == "" {
		return true // no body, or a status-only answer
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

package serve

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

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

// sniff tells the event's kind from its keys without decoding it, in one
// pass over the payload. A key is a quoted name followed by a colon; the
// pass steps over whole strings, so a name inside a string value (a body,
// where quotes are escaped) never counts. A header named like a key can
// fool it, and Invoke falls back to algnhsa's own detection then.
func sniff(payload []byte) kind {
	var seen keySet
	for i := 0; i < len(payload); {
		// Jump from quote to quote (bytes.IndexByte is vectorised): most
		// of an event is long string values.
		q := bytes.IndexByte(payload[i:], '"')
		if q < 0 {
			break
		}
		start := i + q + 1
		end := closingQuote(payload, start)
		if end < 0 {
			break // unterminated string: not JSON
		}
		j := end + 1
		for j < len(payload) && (payload[j] == ' ' || payload[j] == '\t' || payload[j] == '\r' || payload[j] == '\n') {
			j++
		}
		if j < len(payload) && payload[j] == ':' {
			seen.add(payload[start:end])
		}
		i = end + 1
	}
	switch {
	case seen.has(keyTargetGroupArn):
		if seen.has(keyMultiValueHeaders) {
			return kindALB
		}
		return kindALBSingle
	case seen.has(keyRawPath) || seen.has(keyRouteKey) && seen.has(keyVersion):
		return kindV2
	case seen.has(keyHTTPMethod) && seen.has(keyRequestContext):
		return kindREST
	}
	return kindUnknown
}

// closingQuote is the index of the quote that ends the string starting at
// start, or -1. A quote preceded by an odd run of backslashes is escaped.
func closingQuote(payload []byte, start int) int {
	for i := start; i < len(payload); {
		q := bytes.IndexByte(payload[i:], '"')
		if q < 0 {
			return -1
		}
		end := i + q
		n := 0
		for k := end - 1; k >= start && payload[k] == '\\'; k-- {
			n++
		}
		if n%2 == 0 {
			return end
		}
		i = end + 1
	}
	return -1
}

// keySet records which of the keys sniff looks for an event has.
type keySet uint8

const (
	keyTargetGroupArn keySet = 1 << iota
	keyMultiValueHeaders
	keyRawPath
	keyRouteKey
	keyVersion
	keyHTTPMethod
	keyRequestContext
)

func (s *keySet) add(name []byte) {
	switch string(name) { // no allocation: the compiler compares in place
	case "targetGroupArn":
		*s |= keyTargetGroupArn
	case "multiValueHeaders":
		*s |= keyMultiValueHeaders
	case "rawPath":
		*s |= keyRawPath
	case "routeKey":
		*s |= keyRouteKey
	case "version":
		*s |= keyVersion
	case "httpMethod":
		*s |= keyHTTPMethod
	case "requestContext":
		*s |= keyRequestContext
	}
}

func (s keySet) has(k keySet) bool { return s&k != 0 }

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
// Function URLs use headers plus cookies. It is written by appendJSON.
type response struct {
	StatusCode        int
	StatusDescription string
	Headers           map[string]string
	MultiValueHeaders map[string][]string
	Cookies           []string
	Body              string
	IsBase64Encoded   bool
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
	return resp.appendJSON(make([]byte, 0, len(resp.Body)+128+64*len(c.header))), nil
}

// appendJSON writes the response as encoding/json would (same keys, empty
// maps and lists left out, map keys sorted), without its reflection and
// per-map sorting allocations: this runs once per invocation.
func (r *response) appendJSON(b []byte) []byte {
	b = append(b, `{"statusCode":`...)
	b = strconv.AppendInt(b, int64(r.StatusCode), 10)
	if r.StatusDescription != "" {
		b = append(b, `,"statusDescription":`...)
		b = appendJSONString(b, r.StatusDescription)
	}
	if len(r.Headers) > 0 {
		b = append(b, `,"headers":`...)
		b = appendJSONObject(b, r.Headers, appendJSONString)
	}
	if len(r.MultiValueHeaders) > 0 {
		b = append(b, `,"multiValueHeaders":`...)
		b = appendJSONObject(b, r.MultiValueHeaders, appendJSONStrings)
	}
	if len(r.Cookies) > 0 {
		b = append(b, `,"cookies":`...)
		b = appendJSONStrings(b, r.Cookies)
	}
	b = append(b, `,"body":`...)
	b = appendJSONString(b, r.Body)
	b = append(b, `,"isBase64Encoded":`...)
	b = strconv.AppendBool(b, r.IsBase64Encoded)
	return append(b, '}')
}

// appendJSONObject writes m as a JSON object, keys sorted, each value
// written by value.
func appendJSONObject[V any](b []byte, m map[string]V, value func([]byte, V) []byte) []byte {
	b = append(b, '{')
	for i, k := range sortedKeys(m) {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, k)
		b = append(b, ':')
		b = value(b, m[k])
	}
	return append(b, '}')
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
		b = appendJSONString(b, s)
	}
	return append(b, ']')
}

// appendJSONString quotes s as a JSON string: quote, backslash and control
// characters escaped, invalid UTF-8 replaced by U+FFFD, and U+2028/U+2029
// escaped as encoding/json does (JavaScript reads them as line ends).
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
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

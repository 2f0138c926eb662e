package serve

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/typedapi/typedapi/internal/requestinfo"
)

// VPC Lattice sends its own event shapes, which neither aws-lambda-go nor
// algnhsa know, so the request is built here from small types of our own.
// Version 1 has snake_case keys and one string per header and query
// parameter (several values of a header joined with commas); version 2 has
// camelCase keys, arrays of values and a requestContext saying who called.
// The response is the same for both (see capture.encode).
//
// Shapes: https://docs.aws.amazon.com/vpc-lattice/latest/ug/lambda-functions.html#receive-event-from-service

// LatticeEventError is the invocation error for a VPC Lattice event that
// cannot be read as a request: a field of the wrong type, no method or
// path, a body that is not the base64 it claims. Lattice never builds such
// an event, so whatever invoked the function gets the error (the runtime
// reports "errorType": "LatticeEventError") and the process serves the next
// invocation as usual.
type LatticeEventError struct {
	Reason string // what is wrong, naming the event's field
}

func (e LatticeEventError) Error() string {
	return "malformed VPC Lattice event: " + e.Reason
}

// latticeEvent reads both versions: the keys of one never appear in the
// other, so each event fills only its own version's fields.
type latticeEvent struct {
	Version        string                   `json:"version"`                 // v2: "2.0"
	RawPath        string                   `json:"raw_path"`                // v1
	Path           string                   `json:"path"`                    // v2
	Method         string                   `json:"method"`                  // both
	Headers        map[string]latticeValues `json:"headers"`                 // both
	QueryV1        map[string]latticeValues `json:"query_string_parameters"` // v1
	QueryV2        map[string]latticeValues `json:"queryStringParameters"`   // v2
	Body           string                   `json:"body"`                    // both
	Base64V1       bool                     `json:"is_base64_encoded"`       // v1
	Base64V2       bool                     `json:"isBase64Encoded"`         // v2
	RequestContext *latticeContext          `json:"requestContext"`          // v2
}

type latticeContext struct {
	ServiceNetworkARN string          `json:"serviceNetworkArn"`
	ServiceARN        string          `json:"serviceArn"`
	TargetGroupARN    string          `json:"targetGroupArn"`
	Region            string          `json:"region"`
	TimeEpoch         string          `json:"timeEpoch"` // microseconds since 1970, as a string
	Identity          latticeIdentity `json:"identity"`
}

// latticeIdentity's keys match case-insensitively (encoding/json does), so
// both spellings seen in the wild ("principalOrgID" and "principalOrgId",
// "X509SanUri" and "x509SanUri") are read.
type latticeIdentity struct {
	SourceVPCARN   string `json:"sourceVpcArn"`
	Type           string `json:"type"`
	Principal      string `json:"principal"`
	PrincipalOrgID string `json:"principalOrgId"`
	SessionName    string `json:"sessionName"`
	X509SubjectCN  string `json:"x509SubjectCn"`
	X509IssuerOU   string `json:"x509IssuerOu"`
	X509SANDNS     string `json:"x509SanDns"`
	X509SANURI     string `json:"x509SanUri"`
	X509SANNameCN  string `json:"x509SanNameCn"`
}

// latticeValues are a header's or query parameter's values: a string in
// version 1, an array of strings in version 2. Either form is read in
// either version.
type latticeValues []string

func (v *latticeValues) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*v = latticeValues{s}
		return nil
	case len(b) > 0 && b[0] == '[':
		var vs []string
		if err := json.Unmarshal(b, &vs); err == nil {
			*v = vs
			return nil
		}
		return &json.UnmarshalTypeError{Value: "array of other than strings", Type: reflect.TypeFor[latticeValues]()}
	case string(b) == "null":
		*v = nil
		return nil
	}
	return &json.UnmarshalTypeError{Value: jsonKind(b), Type: reflect.TypeFor[latticeValues]()}
}

// latticeKey marks a request built from a Lattice event, for describe.
type latticeKey struct{}

// latticeRequest builds the request a Lattice event describes. A
// LatticeEventError means the event is malformed; any other error, that the
// event is well formed but its request is not (a path with a broken
// percent-escape), which the client is answered 400 for.
func latticeRequest(ctx context.Context, payload []byte) (*http.Request, error) {
	var ev latticeEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, LatticeEventError{Reason: decodeReason(err)}
	}
	rawPath := ev.RawPath
	if rawPath == "" {
		rawPath = ev.Path
	}
	switch {
	case ev.Method == "":
		return nil, LatticeEventError{Reason: "it has no method"}
	case rawPath == "":
		return nil, LatticeEventError{Reason: "it has no path (raw_path in version 1, path in version 2)"}
	case rawPath[0] != '/':
		return nil, LatticeEventError{Reason: fmt.Sprintf("its path %.40q does not start with /", rawPath)}
	}
	body := []byte(ev.Body)
	if ev.Base64V1 || ev.Base64V2 {
		var err error
		if body, err = base64.StdEncoding.DecodeString(ev.Body); err != nil {
			return nil, LatticeEventError{Reason: "its body is marked base64 but is not: " + err.Error()}
		}
	}
	// The path arrives as the client sent it, percent-escapes and all; a
	// query string may ride along on it.
	rawPath, rawQuery, _ := strings.Cut(rawPath, "?")
	path, err := url.PathUnescape(rawPath)
	if err != nil {
		return nil, fmt.Errorf("path %.40q: %w", rawPath, err)
	}
	if rawQuery == "" {
		rawQuery = latticeQuery(ev.QueryV1, ev.QueryV2)
	}

	info := &latticeInfo{}
	if rc := ev.RequestContext; rc != nil {
		info.Lattice = &requestinfo.Lattice{
			ServiceNetworkARN: rc.ServiceNetworkARN, ServiceARN: rc.ServiceARN, TargetGroupARN: rc.TargetGroupARN,
			Region: rc.Region, Identity: requestinfo.LatticeIdentity(rc.Identity),
		}
		if us, err := strconv.ParseInt(rc.TimeEpoch, 10, 64); err == nil {
			info.Lattice.Time = time.UnixMicro(us).UTC()
		}
	}
	r, err := http.NewRequestWithContext(context.WithValue(ctx, latticeKey{}, info), ev.Method, "/", bytes.NewReader(body))
	if err != nil {
		return nil, LatticeEventError{Reason: fmt.Sprintf("its method %.20q is not an HTTP method", ev.Method)}
	}
	// Set by hand, not parsed: a path starting with "//" stays a path.
	r.URL = &url.URL{Path: path, RawPath: rawPath, RawQuery: rawQuery}
	r.RequestURI = r.URL.RequestURI()
	r.Header = make(http.Header, len(ev.Headers))
	for k, vs := range ev.Headers {
		if len(vs) > 0 {
			r.Header[http.CanonicalHeaderKey(k)] = vs
		}
	}
	if hosts := r.Header["Host"]; len(hosts) > 0 {
		r.Host = hosts[0]
		delete(r.Header, "Host") // as net/http's server keeps it: in r.Host only
	}
	r.RemoteAddr = albClientIP(r) // Lattice appends the client's address to X-Forwarded-For
	return r, nil
}

// latticeInfo is what describe needs of a Lattice event.
type latticeInfo struct {
	Lattice *requestinfo.Lattice // nil for version 1
}

// latticeQuery is the query string of the event's parameters: one value
// each in version 1, every value in version 2. The values are taken as
// decoded, as API Gateway sends them, and encoded again here.
func latticeQuery(maps ...map[string]latticeValues) string {
	q := url.Values{}
	for _, m := range maps {
		for k, vs := range m {
			q[k] = append(q[k], vs...)
		}
	}
	return q.Encode()
}

// decodeReason says which field of the event is wrong, in the event's own
// names and without Go's type names.
func decodeReason(err error) string {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		field := typeErr.Field
		if field == "" {
			field = "the event"
		}
		if typeErr.Type == reflect.TypeFor[latticeValues]() {
			field = "a value in " + field // the map's key is not known here
		}
		return fmt.Sprintf("%s is a JSON %s, want %s", field, typeErr.Value, wantKind(typeErr.Type))
	}
	var syntaxErr *json.SyntaxError
	if errors.As(err, &syntaxErr) {
		return "it is not valid JSON: " + syntaxErr.Error()
	}
	return err.Error()
}

func wantKind(t reflect.Type) string {
	switch {
	case t == nil:
		return "another type"
	case t == reflect.TypeFor[latticeValues]():
		return "a string or an array of strings"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Map, reflect.Struct, reflect.Pointer:
		return "an object"
	case reflect.Slice:
		return "an array"
	}
	return t.Kind().String()
}

// jsonKind names the JSON type of the value b starts with.
func jsonKind(b []byte) string {
	if len(b) == 0 {
		return "nothing"
	}
	switch b[0] {
	case '{':
		return "object"
	case 't', 'f':
		return "bool"
	case 'n':
		return "null"
	}
	return "number"
}

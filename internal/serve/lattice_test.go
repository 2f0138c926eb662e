package serve

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/typedapi/typedapi/internal/lambdalocal"
	"github.com/typedapi/typedapi/internal/requestinfo"
)

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestLatticeSniff: both Lattice event versions are told apart from every
// other kind, whatever their headers or query parameters are named, and
// AWS's samples of the other kinds sniff as before.
func TestLatticeSniff(t *testing.T) {
	for _, name := range []string{"lattice-v1.json", "lattice-v2.json"} {
		if got := sniff(readTestdata(t, name)); got != kindLattice {
			t.Errorf("%s sniffed as %d", name, got)
		}
	}
	for _, source := range lambdalocal.LatticeSources {
		for _, name := range []string{"rawPath", "httpMethod", "resource", "elb", "multiValueHeaders", "routeKey", "version", "requestContext"} {
			ev := build(t, lambdalocal.Request{Source: source, Method: "GET", Target: "/x?" + name + "=1",
				Header: http.Header{name: {"1"}}, Body: []byte(`{"` + name + `":"x","httpMethod":"GET"}`)})
			if got := sniff(ev); got != kindLattice {
				t.Errorf("%s with a header, parameter and body key %q: sniffed %d", source, name, got)
			}
		}
	}
	// The other kinds do not become Lattice for a header, parameter or
	// body named like a Lattice key.
	for _, source := range lambdalocal.Sources {
		want := map[string]kind{"rest": kindREST, "http": kindV2, "url": kindV2, "alb": kindALBSingle}[source]
		for _, name := range []string{"raw_path", "method", "query_string_parameters", "is_base64_encoded"} {
			ev := build(t, lambdalocal.Request{Source: source, Method: "GET", Target: "/x?" + name + "=1",
				Header: http.Header{name: {"1"}}, Body: []byte(`{"` + name + `":"x","version":"2.0"}`)})
			if got := sniff(ev); got != want {
				t.Errorf("%s with a header, parameter and body key %q: sniffed %d, want %d", source, name, got, want)
			}
		}
	}
	for file, want := range map[string]kind{
		"apigw-request.json":                                kindREST,
		"apigw-v2-request-no-authorizer.json":               kindV2,
		"apigw-v2-request-iam.json":                         kindV2,
		"lambda-urls-request.json":                          kindV2,
		"alb-lambda-target-request-headers-only.json":       kindALBSingle,
		"alb-lambda-target-request-multivalue-headers.json": kindALB,
		"s3-event.json":                                     kindUnknown,
		"sqs-event.json":                                    kindUnknown,
		"apigw-custom-auth-request-type-request.json":       kindUnknown,
	} {
		ev, err := os.ReadFile(filepath.Join(awsTestdata(t), file))
		if err != nil {
			t.Fatal(err)
		}
		if got := sniff(ev); got != want {
			t.Errorf("aws-lambda-go sample %s sniffed as %d, want %d", file, got, want)
		}
	}
	// Keys in any order, and a v2 event whose version follows its method.
	for ev, want := range map[string]kind{
		`{"method":"GET","headers":{},"raw_path":"/"}`:                                              kindLattice,
		`{"path":"/","method":"GET","requestContext":{},"version":"2.0"}`:                           kindLattice,
		`{"version":"2.0","requestContext":{"identity":{},"serviceNetworkArn":"arn:x"},"path":"/"}`: kindLattice,
		`{"method":"GET"}`: kindUnknown, // neither version's shape
		`{"version":"2.0","requestContext":{"identity":{"serviceNetworkArn":"arn:x"}}}`: kindUnknown,
		`{"headers":{"raw_path":"/"},"method":"GET"}`:                                   kindUnknown,
	} {
		if got := sniff([]byte(ev)); got != want {
			t.Errorf("%s sniffed as %d, want %d", ev, got, want)
		}
	}
}

// TestLatticeDocumentedEvents: the documented event shapes reach the
// handler as the request they describe, and the request-context accessor
// returns what the event carries.
func TestLatticeDocumentedEvents(t *testing.T) {
	var got seen
	h := NewLambdaHandler(echo(&got), quiet())

	o := run(t, h, readTestdata(t, "lattice-v1.json"))
	if o.StatusCode != 418 || got.Method != "GET" || got.Path != "/testpath" || got.Body != `{"test": "event"}` {
		t.Errorf("v1: response %+v, request %+v", o, got)
	}
	if got.Query.Get("order-id") != "1" || got.Header.Get("Header2") != "value1,value2" || got.Header.Get("User-Agent") != "curl/7.64.1" {
		t.Errorf("v1 query %v, headers %v", got.Query, got.Header)
	}
	if got.Host != "test-lambda-service-3908sdf9u3u.dkfjd93.vpc-lattice-svcs.us-east-2.on.aws" || got.Header.Get("Host") != "" {
		t.Errorf("v1 host %q (and in the header map: %q)", got.Host, got.Header.Get("Host"))
	}
	want := requestinfo.Info{OnLambda: true, Source: "lattice", SourceIP: "10.213.229.10", LambdaRequestID: "aws-1"}
	if got.Info.OnLambda != want.OnLambda || got.Info.Source != want.Source || got.Info.SourceIP != want.SourceIP ||
		got.Info.LambdaRequestID != want.LambdaRequestID || got.Info.Lattice != nil || got.Prefix != "" {
		t.Errorf("v1 info %+v prefix %q", got.Info, got.Prefix)
	}

	run(t, h, readTestdata(t, "lattice-v2.json"))
	if got.Method != "POST" || got.Path != "/todos" || got.Body != `{"message": "Hello from Lambda!"}` {
		t.Errorf("v2 request %+v", got)
	}
	if strings.Join(got.Query["parameter1"], "|") != "value1|value2" || got.Query.Get("parameter2") != "value" {
		t.Errorf("v2 query %v", got.Query)
	}
	if strings.Join(got.Header.Values("Header2"), "|") != "value1|value2" || got.Header.Get("Content-Type") != "application/json" {
		t.Errorf("v2 headers %v", got.Header)
	}
	lattice := &requestinfo.Lattice{
		ServiceNetworkARN: "arn:aws:vpc-lattice:us-east-1:123456789012:servicenetwork/sn-0bf3f2882e9cc805a",
		ServiceARN:        "arn:aws:vpc-lattice:us-east-1:123456789012:service/svc-0a40eebed65f8d69c",
		TargetGroupARN:    "arn:aws:vpc-lattice:us-east-1:123456789012:targetgroup/tg-6d0ecf831eec9f09",
		Region:            "us-east-1",
		Time:              time.UnixMicro(1690497599177430).UTC(),
		Identity: requestinfo.LatticeIdentity{
			SourceVPCARN:   "arn:aws:ec2:us-east-1:123456789012:vpc/vpc-0b8276c84697e7339",
			Type:           "AWS_IAM",
			Principal:      "arn:aws:iam::123456789012:assumed-role/example-role/057d00f8b51257ba3c853a0f248943cf",
			PrincipalOrgID: "o-50dc6c495c0c9188",
			SessionName:    "i-0c7de02a688bde9f7",
			X509SANDNS:     "example.com",
		},
	}
	if got.Info.Lattice == nil || *got.Info.Lattice != *lattice {
		t.Errorf("v2 lattice context\n got %+v\nwant %+v", got.Info.Lattice, lattice)
	}
	if got.Info.Source != "lattice" || got.Info.SourceIP != "172.31.40.143" || got.Host != "lattice-svc-027b423199122da5f.7d67968.vpc-lattice-svcs.us-east-1.on.aws" {
		t.Errorf("v2 info %+v host %q", got.Info, got.Host)
	}
}

// TestLatticeRequestFidelity: method, escaped path, multi-value headers and
// query, cookies and body arrive as sent, in what each version can carry.
func TestLatticeRequestFidelity(t *testing.T) {
	var got seen
	h := NewLambdaHandler(echo(&got), quiet())
	for _, source := range lambdalocal.LatticeSources {
		t.Run(source, func(t *testing.T) {
			hdr := http.Header{"X-Tag": {"a", "b"}, "Content-Type": {"text/plain"}, "X-Amzn-Trace-Id": {"Root=1-abc"},
				"X-Forwarded-For": {"203.0.113.9, 10.0.0.7"}}
			run(t, h, build(t, lambdalocal.Request{Source: source, Method: "PUT",
				Target: "/v1/items/a%2Fb?tag=a&tag=b&q=caf%C3%A9&d=50%25%2Boff", Header: hdr, Body: []byte("héllo"),
				Cookies: []string{"session=s1", "theme=dark"}}))
			if got.Method != "PUT" || got.Path != "/v1/items/a/b" || got.Body != "héllo" || got.Header.Get("X-Forwarded-Proto") != "https" {
				t.Errorf("request %+v", got)
			}
			// Version 1 carries one value per query parameter (the last)
			// and joins a header's values with commas.
			wantTags, wantHeader := "a|b", "a|b"
			if source == "lattice" {
				wantTags, wantHeader = "b", "a,b"
			}
			if strings.Join(got.Query["tag"], "|") != wantTags || got.Query.Get("q") != "café" || got.Query.Get("d") != "50%+off" {
				t.Errorf("query %v", got.Query)
			}
			if strings.Join(got.Header.Values("X-Tag"), "|") != wantHeader {
				t.Errorf("X-Tag %q", got.Header.Values("X-Tag"))
			}
			if strings.Join(got.Cookies, ";") != "session=s1;theme=dark" {
				t.Errorf("cookies %v", got.Cookies)
			}
			if got.Info.SourceIP != "10.0.0.7" || got.Info.GatewayRequestID != "Root=1-abc" || got.Info.LambdaRequestID != "aws-1" {
				t.Errorf("info %+v", got.Info)
			}
		})
	}
	// A query string on the path itself keeps its repeated values.
	run(t, h, []byte(`{"raw_path":"/x?tag=a&tag=b","method":"GET","headers":{},"query_string_parameters":{},"body":"","is_base64_encoded":false}`))
	if got.Path != "/x" || strings.Join(got.Query["tag"], "|") != "a|b" {
		t.Errorf("query on raw_path: %q %v", got.Path, got.Query)
	}
}

// TestLatticeBinaryAndResponse: binary bodies round trip base64-encoded,
// and the response has the form Lattice reads: single-value headers, a
// status description, one Set-Cookie.
func TestLatticeBinaryAndResponse(t *testing.T) {
	var got seen
	h := NewLambdaHandler(echo(&got), quiet())
	payload := []byte("\x89PNG\x00\xff\xfebinary")
	for _, source := range lambdalocal.LatticeSources {
		o := run(t, h, build(t, lambdalocal.Request{Source: source, Method: "POST", Target: "/upload", Body: payload,
			Header: http.Header{"Content-Type": {"image/png"}, "X-Answer-Type": {"image/png"}, "X-Answer-Cookies": {"yes"}}}))
		if got.Body != string(payload) {
			t.Errorf("%s: binary request body %q", source, got.Body)
		}
		b, err := base64.StdEncoding.DecodeString(o.Body)
		if !o.IsBase64Encoded || err != nil || string(b) != "\x89PNG\x00\xffbinary" {
			t.Errorf("%s: binary response base64 %v body %q", source, o.IsBase64Encoded, o.Body)
		}
		if o.StatusCode != 418 || o.StatusDescription != "418 I'm a teapot" || o.Headers["X-Multi"] != "one,two" ||
			o.Headers["Content-Type"] != "image/png" || o.Headers["Set-Cookie"] != "b=2; HttpOnly" || len(o.MultiValueHeaders) != 0 || len(o.Cookies) != 0 {
			t.Errorf("%s: response %+v", source, o)
		}
		o = run(t, h, build(t, lambdalocal.Request{Source: source, Method: "GET", Target: "/", Header: http.Header{"X-Answer-Type": {"application/json"}}}))
		if o.IsBase64Encoded {
			t.Errorf("%s: a JSON answer went base64", source)
		}
	}
	// The encoded response, as a whole: only the fields Lattice reads.
	c := &capture{status: 201, header: http.Header{"Content-Type": {"application/json"}, "X-Multi": {"x", "y"}}, kind: kindLattice}
	c.body.WriteString(`{"a":1}`)
	out, err := c.encode()
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	_ = json.Unmarshal(out, &m)
	want := map[string]any{"statusCode": 201.0, "statusDescription": "201 Created", "body": `{"a":1}`, "isBase64Encoded": false,
		"headers": map[string]any{"Content-Type": "application/json", "X-Multi": "x,y"}}
	if gotJSON, wantJSON := mustJSON(t, m), mustJSON(t, want); gotJSON != wantJSON {
		t.Errorf("response\n got %s\nwant %s", gotJSON, wantJSON)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v) // maps marshal with sorted keys
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestLatticeBadEvents: a Lattice event of the wrong shape is an invocation
// error of its own type naming the fault, the handler is not called, and
// the next invocation is answered as usual. A well-formed event whose path
// cannot be decoded is the client's fault: 400.
func TestLatticeBadEvents(t *testing.T) {
	calls := 0
	var logs bytes.Buffer
	h := NewLambdaHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		_, _ = w.Write([]byte("ok"))
	}), LambdaOptions{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	v2 := `"version":"2.0","path":"/x","requestContext":{"identity":{}}`
	for name, c := range map[string]struct{ event, reason string }{
		"v1 method a number":         {`{"raw_path":"/x","method":5}`, "method is a JSON number, want a string"},
		"v1 headers a string":        {`{"raw_path":"/x","method":"GET","headers":"x"}`, "headers is a JSON string, want an object"},
		"v1 header value an object":  {`{"raw_path":"/x","method":"GET","headers":{"a":{}}}`, "a value in headers is a JSON object, want a string or an array of strings"},
		"v1 query value a number":    {`{"raw_path":"/x","method":"GET","query_string_parameters":{"a":1}}`, "a value in query_string_parameters is a JSON number"},
		"v1 base64 flag a string":    {`{"raw_path":"/x","method":"GET","is_base64_encoded":"yes"}`, "is_base64_encoded is a JSON string, want true or false"},
		"v1 raw_path an array":       {`{"raw_path":["/x"],"method":"GET"}`, "raw_path is a JSON array, want a string"},
		"v1 no method":               {`{"raw_path":"/x","headers":{}}`, "it has no method"},
		"v1 bad base64 body":         {`{"raw_path":"/x","method":"POST","body":"not base64!","is_base64_encoded":true}`, "its body is marked base64 but is not"},
		"v1 path without slash":      {`{"raw_path":"x","method":"GET"}`, "does not start with /"},
		"v1 invalid method":          {`{"raw_path":"/x","method":"GE T"}`, "is not an HTTP method"},
		"v1 truncated":               {`{"raw_path":"/x","method":"GET","headers":{`, "not valid JSON"},
		"v2 no method key":           {`{"version":"2.0","path":"/x","requestContext":{"serviceNetworkArn":"arn:x"}}`, "it has no method"},
		"v2 no path":                 {`{"version":"2.0","method":"GET","requestContext":{}}`, "it has no path"},
		"v2 no method":               {`{"version":"2.0","path":"/x","requestContext":{},"method":""}`, "it has no method"},
		"v2 header values numbers":   {`{` + v2 + `,"method":"GET","headers":{"a":[1,2]}}`, "a value in headers is a JSON array of other than strings"},
		"v2 query an array":          {`{` + v2 + `,"method":"GET","queryStringParameters":[]}`, "queryStringParameters is a JSON array, want an object"},
		"v2 requestContext an array": {`{"version":"2.0","path":"/x","method":"GET","requestContext":[]}`, "requestContext is a JSON array, want an object"},
		"v2 principal a number":      {`{"version":"2.0","path":"/x","method":"GET","requestContext":{"identity":{"principal":1}}}`, "requestContext.identity.principal is a JSON number, want a string"},
		"v2 bad base64 body":         {`{` + v2 + `,"method":"PUT","body":"%%%","isBase64Encoded":true}`, "its body is marked base64 but is not"},
	} {
		logs.Reset()
		if got := sniff([]byte(c.event)); got != kindLattice {
			t.Errorf("%s: sniffed %d, not as Lattice", name, got)
			continue
		}
		out, err := h.Invoke(context.Background(), []byte(c.event))
		var shape LatticeEventError
		if !errors.As(err, &shape) || out != nil {
			t.Errorf("%s: got %s, %v; want a LatticeEventError", name, out, err)
			continue
		}
		if !strings.Contains(err.Error(), c.reason) || !strings.HasPrefix(err.Error(), "malformed VPC Lattice event: ") {
			t.Errorf("%s: error %q does not say %q", name, err, c.reason)
		}
		if !strings.Contains(logs.String(), "malformed VPC Lattice event") {
			t.Errorf("%s: no log line: %s", name, logs.String())
		}
		o := run(t, h, build(t, lambdalocal.Request{Source: "lattice-v2", Method: "GET", Target: "/next"}))
		if o.StatusCode != 200 || o.Body != "ok" {
			t.Errorf("after %s: %+v", name, o)
		}
	}
	if calls != 19 {
		t.Errorf("the handler ran %d times, want once per good invocation (19)", calls)
	}
	o := run(t, h, []byte(`{"raw_path":"/x%zz","method":"GET","headers":{},"body":"","is_base64_encoded":false}`))
	if o.StatusCode != 400 || o.Headers["Content-Type"] != "application/problem+json" || o.Headers["X-Request-Id"] == "" || strings.Contains(o.Body, "%zz") {
		t.Errorf("undecodable path: %+v", o)
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/typedapi/typedapi/internal/lambdalocal"
	"github.com/typedapi/typedapi/internal/serve"
)

// latticeDoors are VPC Lattice target groups of either event structure
// version. Lattice has no stage and passes the whole path on.
var latticeDoors = []frontDoor{
	{name: "vpc lattice v1", req: lambdalocal.Request{Source: "lattice"}, single: true},
	{name: "vpc lattice v2", req: lambdalocal.Request{Source: "lattice-v2"}, single: true},
}

// TestLambdaLatticeFrontDoors: the conversation every front door has
// (create, get, list, 422, 404, /docs and the spec) through VPC Lattice.
func TestLambdaLatticeFrontDoors(t *testing.T) {
	for store, env := range storeEnvs(t) {
		t.Run(store, func(t *testing.T) { lambdaFrontDoors(t, env, latticeDoors) })
	}
}

// TestLambdaLatticeBinary: a base64 request body is decoded, binary
// responses (an image, gzip-encoded CSS) go out base64, text does not.
func TestLambdaLatticeBinary(t *testing.T) {
	h := newLambda(t, io.Discard, nil)
	for _, fd := range latticeDoors {
		t.Run(fd.name, func(t *testing.T) {
			r := fd.with("POST", "/v1/items", jsonHeader(), `{"name":"Encoded","price":1,"currency":"EUR"}`)
			r.Binary = true
			if resp := invoke(t, h, r); resp.StatusCode != 201 || !strings.Contains(resp.Body, `"name":"Encoded"`) {
				t.Fatalf("base64 request body: %+v", resp)
			}
			resp := invoke(t, h, fd.with("GET", "/docs/favicon-32x32.png", http.Header{"Accept-Encoding": {"identity"}}, ""))
			if resp.StatusCode != 200 || !resp.IsBase64Encoded || !bytes.HasPrefix(resp.body(t), []byte("\x89PNG")) || resp.StatusDescription != "200 OK" {
				t.Errorf("png: status %d base64 %v description %q", resp.StatusCode, resp.IsBase64Encoded, resp.StatusDescription)
			}
			resp = invoke(t, h, fd.with("GET", "/docs/swagger-ui.css", http.Header{"Accept-Encoding": {"gzip"}}, ""))
			if resp.StatusCode != 200 || !resp.IsBase64Encoded || resp.header("Content-Encoding") != "gzip" || !bytes.HasPrefix(resp.body(t), []byte{0x1f, 0x8b}) {
				t.Errorf("gzip css: status %d base64 %v encoding %q", resp.StatusCode, resp.IsBase64Encoded, resp.header("Content-Encoding"))
			}
			resp = invoke(t, h, fd.with("GET", "/openapi.json", nil, ""))
			if resp.StatusCode != 200 || resp.IsBase64Encoded || !strings.Contains(resp.Body, `"openapi"`) {
				t.Errorf("spec should be text: %d base64 %v", resp.StatusCode, resp.IsBase64Encoded)
			}
		})
	}
}

// TestLambdaLatticeBasePath: Lattice passes a listener rule's path prefix
// on, and base_path strips it; links carry it.
func TestLambdaLatticeBasePath(t *testing.T) {
	h := newLambda(t, io.Discard, map[string]string{"TYPEDAPI_BASE_PATH": "/shop"})
	for _, source := range lambdalocal.LatticeSources {
		resp := invoke(t, h, lambdalocal.Request{Source: source, Method: "POST", Target: "/shop/v1/items", Header: jsonHeader(), Body: []byte(`{"name":"Cup","price":1,"currency":"EUR"}`)})
		if resp.StatusCode != 201 || !strings.HasPrefix(resp.header("Location"), "/shop/v1/items/") || !strings.Contains(resp.header("Link"), "</shop/schemas/Item.json>") {
			t.Errorf("%s create under /shop: %d Location %q Link %q", source, resp.StatusCode, resp.header("Location"), resp.header("Link"))
		}
		if resp := invoke(t, h, lambdalocal.Request{Source: source, Method: "GET", Target: "/shop/healthz"}); resp.StatusCode != 200 {
			t.Errorf("%s healthz under /shop: %d", source, resp.StatusCode)
		}
	}
}

// TestBadInputLattice runs the hostile-input suite through VPC Lattice v2
// events, which carry repeated headers and query parameters as sent. (A
// v1 event keeps one value of a query parameter and joins a header's
// values, so a request that repeats one reaches the API changed, as
// through a single-value ALB.)
func TestBadInputLattice(t *testing.T) {
	h := newLambda(t, io.Discard, nil)
	runBadInputs(t, "lambda", func(t *testing.T, method, target string, header http.Header, body []byte, _ bool) answer {
		t.Helper()
		ev, err := lambdalocal.Build(lambdalocal.Request{Source: "lattice-v2", Method: method, Target: target, Header: header, Body: body})
		if err != nil {
			t.Fatal(err)
		}
		ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "bad-input"})
		out, err := h.Invoke(ctx, ev)
		if err != nil {
			t.Fatalf("invoke: %v", err)
		}
		var resp lambdaResponse
		if err := json.Unmarshal(out, &resp); err != nil {
			t.Fatalf("response %.300s: %v", out, err)
		}
		if len(resp.MultiValueHeaders) != 0 || len(resp.Cookies) != 0 {
			t.Errorf("response not in Lattice's form: %.300s", out)
		}
		hdr := http.Header{}
		for k, v := range resp.Headers {
			hdr.Set(k, v)
		}
		return answer{resp.StatusCode, hdr, resp.body(t)}
	})
}

// TestBadLatticeEvents: a Lattice event of the wrong shape is an
// invocation error of type LatticeEventError; a well-formed one whose path
// cannot be decoded is answered 400. Neither touches the store, and the
// next event is answered.
func TestBadLatticeEvents(t *testing.T) {
	h := newLambda(t, io.Discard, nil)
	invokeRaw(t, h, mustEvent(t, lambdalocal.Request{Source: "lattice-v2", Method: "POST", Target: "/v1/items", Header: jsonHeader(), Body: []byte(okBody)}))
	list := func() string {
		return invokeRaw(t, h, mustEvent(t, lambdalocal.Request{Source: "lattice-v2", Method: "GET", Target: "/v1/items?limit=100"})).Body
	}
	before := list()
	v1Post := string(mustEvent(t, lambdalocal.Request{Source: "lattice", Method: "POST", Target: "/v1/items", Header: jsonHeader(), Body: []byte(okBody)}))
	v2Post := string(mustEvent(t, lambdalocal.Request{Source: "lattice-v2", Method: "POST", Target: "/v1/items", Header: jsonHeader(), Body: []byte(okBody)}))
	for _, c := range []struct{ name, event, says string }{
		{"v1 body not base64", strings.Replace(v1Post, `"is_base64_encoded": false`, `"is_base64_encoded": true`, 1), "its body is marked base64 but is not"},
		{"v2 body not base64", strings.Replace(v2Post, `"isBase64Encoded": false`, `"isBase64Encoded": true`, 1), "its body is marked base64 but is not"},
		{"v1 method a number", strings.Replace(v1Post, `"method": "POST"`, `"method": 1`, 1), "method is a JSON number"},
		{"v2 no method", strings.Replace(v2Post, `"method": "POST",`, ``, 1), "it has no method"},
		{"v2 headers an array", strings.Replace(v2Post, `"headers": {`, `"headers": [], "h": {`, 1), "headers is a JSON array"},
		{"v2 identity a string", strings.Replace(v2Post, `"identity": {`, `"identity": "x", "i": {`, 1), "requestContext.identity is a JSON string"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.event == v1Post || c.event == v2Post {
				t.Fatal("the event template changed; the case no longer corrupts it")
			}
			out, err := h.Invoke(context.Background(), []byte(c.event))
			var shape serve.LatticeEventError
			if !errors.As(err, &shape) || !strings.Contains(err.Error(), c.says) {
				t.Errorf("got %v (%.200s), want a LatticeEventError saying %q", err, out, c.says)
			}
			if resp := invokeRaw(t, h, mustEvent(t, lambdalocal.Request{Source: "lattice", Method: "GET", Target: "/healthz"})); resp.StatusCode != 200 {
				t.Errorf("next event: %+v", resp)
			}
		})
	}
	resp := invokeRaw(t, h, []byte(strings.Replace(v1Post, `"raw_path": "/v1/items"`, `"raw_path": "/v1/items%zz"`, 1)))
	if resp.StatusCode != 400 || resp.header("Content-Type") != problemCT || !strings.Contains(resp.Body, "could not be read") {
		t.Errorf("undecodable path: %+v", resp)
	}
	if after := list(); after != before {
		t.Fatalf("the store changed:\nbefore %s\nafter  %s", before, after)
	}
}

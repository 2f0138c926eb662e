package serve

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/typedapi/typedapi/internal/lambdalocal"
)

// TestResponseEncodingMatchesEncodingJSON: each kind of event gets the
// fields its front door reads, in the shape it reads them.
func TestResponseEncodingMatchesEncodingJSON(t *testing.T) {
	header := http.Header{
		"Content-Type": {"application/json"},
		"Set-Cookie":   {"a=1; Path=/", "b=2"},
		"X-Multi":      {"x", "y \"z\""},
	}
	for _, k := range []kind{kindREST, kindV2, kindALB, kindALBSingle} {
		for _, body := range []string{"", `{"name":"café\n"}`} {
			c := &capture{status: 201, header: header.Clone(), kind: k}
			c.body.WriteString(body)
			got, err := c.encode()
			if err != nil {
				t.Fatal(err)
			}
			// What encoding/json makes of the same response.
			type stdResponse struct {
				StatusCode        int                 `json:"statusCode"`
				StatusDescription string              `json:"statusDescription,omitempty"`
				Headers           map[string]string   `json:"headers,omitempty"`
				MultiValueHeaders map[string][]string `json:"multiValueHeaders,omitempty"`
				Cookies           []string            `json:"cookies,omitempty"`
				Body              string              `json:"body"`
				IsBase64Encoded   bool                `json:"isBase64Encoded"`
			}
			want := stdResponse{StatusCode: 201, Body: body}
			switch k {
			case kindV2:
				want.Headers = map[string]string{"Content-Type": "application/json", "X-Multi": `x,y "z"`}
				want.Cookies = header["Set-Cookie"]
			case kindALBSingle:
				want.StatusDescription = "201 Created"
				want.Headers = map[string]string{"Content-Type": "application/json", "X-Multi": `x,y "z"`, "Set-Cookie": "b=2"}
			case kindALB:
				want.StatusDescription = "201 Created"
				want.MultiValueHeaders = header
			default:
				want.MultiValueHeaders = header
			}
			wantJSON, _ := json.Marshal(want)
			var g, w any
			if err := json.Unmarshal(got, &g); err != nil {
				t.Fatalf("kind %d: invalid JSON %s", k, got)
			}
			_ = json.Unmarshal(wantJSON, &w)
			if !reflect.DeepEqual(g, w) {
				t.Errorf("kind %d:\n got %s\nwant %s", k, got, wantJSON)
			}
			if !strings.HasPrefix(string(got), `{"statusCode":201`) {
				t.Errorf("statusCode is not first: %s", got)
			}
		}
	}
}

// FuzzSniff: whatever the bytes, sniff never panics, and an event's kind
// does not change when its body, a header or a parameter holds another
// kind's keys.
func FuzzSniff(f *testing.F) {
	for _, s := range []string{`{}`, `{"rawPath":"/x"}`, `rawPath`, `elb`, `{"a":"\"rawPath\":1"}`, `"unterminated`, `{"x\\":1}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		sniff([]byte(body))
		ev, _ := json.Marshal(map[string]any{"httpMethod": "GET", "requestContext": map[string]any{"stage": body},
			"headers": map[string]any{body: body}, "multiValueQueryStringParameters": map[string]any{body: []string{body}}, "body": body})
		if k := sniff(ev); k != kindREST {
			t.Errorf("body %q changed the kind to %d", body, k)
		}
	})
}

// TestResponseEncodingEdges: header sets that leave an object empty, and a
// binary body, still encode as encoding/json would.
func TestResponseEncodingEdges(t *testing.T) {
	cases := []struct {
		name   string
		kind   kind
		header http.Header
		body   []byte
		want   string
	}{
		{"v2, only cookies: no headers object", kindV2, http.Header{"Set-Cookie": {"a=1", "b=2"}}, nil,
			`{"statusCode":200,"cookies":["a=1","b=2"],"body":"","isBase64Encoded":false}`},
		{"v2, no headers at all", kindV2, http.Header{}, nil,
			`{"statusCode":200,"body":"","isBase64Encoded":false}`},
		{"rest, no headers at all", kindREST, http.Header{}, nil,
			`{"statusCode":200,"body":"","isBase64Encoded":false}`},
		{"alb single, empty cookie list", kindALBSingle, http.Header{"Set-Cookie": {}}, nil,
			`{"statusCode":200,"statusDescription":"200 OK","body":"","isBase64Encoded":false}`},
		{"alb single, value needing escapes", kindALBSingle, http.Header{"X-A": {"q\"", "\\"}}, nil,
			`{"statusCode":200,"statusDescription":"200 OK","headers":{"X-A":"q\",\\"},"body":"","isBase64Encoded":false}`},
		{"v2, binary body", kindV2, http.Header{"Content-Type": {"image/png"}}, []byte{0x89, 'P', 'N', 'G', 0, 0xff},
			`{"statusCode":200,"headers":{"Content-Type":"image/png"},"body":"iVBORwD/","isBase64Encoded":true}`},
		{"text body: HTML characters as they are, U+2028, control bytes and invalid UTF-8 escaped", kindV2,
			http.Header{"Content-Type": {"text/html; charset=utf-8"}}, []byte("<a href=\"/x?a=1&b=2\">\u2028\x01\t\xff</a>"),
			`{"statusCode":200,"headers":{"Content-Type":"text/html; charset=utf-8"},"body":"<a href=\"/x?a=1&b=2\">\u2028\u0001\t\ufffd</a>","isBase64Encoded":false}`},
		{"rest, parameterised json stays text", kindREST, http.Header{"Content-Type": {"application/json; charset=utf-8"}}, []byte(`{}`),
			`{"statusCode":200,"multiValueHeaders":{"Content-Type":["application/json; charset=utf-8"]},"body":"{}","isBase64Encoded":false}`},
	}
	for _, tc := range cases {
		c := &capture{header: tc.header, kind: tc.kind}
		c.body.Write(tc.body)
		got, err := c.encode()
		if err != nil || string(got) != tc.want {
			t.Errorf("%s:\n got %s, %v\nwant %s", tc.name, got, err, tc.want)
		}
		if !json.Valid(got) {
			t.Errorf("%s: invalid JSON", tc.name)
		}
	}
}

// BenchmarkSniff: the kind of a real-shaped event, one per front door.
func BenchmarkSniff(b *testing.B) {
	for _, source := range []string{"rest", "http", "alb", "url"} {
		ev, err := lambdalocal.Build(lambdalocal.Request{Source: source, Method: "GET", Target: "/v1/items?limit=5"})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(source, func(b *testing.B) {
			b.SetBytes(int64(len(ev)))
			for b.Loop() {
				if sniff(ev) == kindUnknown {
					b.Fatal("unknown")
				}
			}
		})
	}
}

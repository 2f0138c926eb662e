package serve

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// The hand-written response encoder must say exactly what encoding/json
// would: same document, same string values.

var jsonStrings = []string{
	"", "plain", `quote " and backslash \`, "new\nline\r\ttab", "\x00\x01\x1f\x7f",
	"<b>&amp;</b>", "café ☕ 𝄞", "line\u2028sep\u2029para", "bad \xff\xfe utf-8", "\xc3", "ends in \\",
}

func TestAppendJSONString(t *testing.T) {
	for _, s := range jsonStrings {
		checkJSONString(t, s)
	}
}

func FuzzAppendJSONString(f *testing.F) {
	for _, s := range jsonStrings {
		f.Add(s)
	}
	f.Fuzz(checkJSONString)
}

func checkJSONString(t *testing.T, s string) {
	got := appendJSONString(nil, s)
	var back string
	if err := json.Unmarshal(got, &back); err != nil {
		t.Fatalf("%q encoded as invalid JSON %s: %v", s, got, err)
	}
	var want string
	std, _ := json.Marshal(s)
	_ = json.Unmarshal(std, &want)
	if back != want {
		t.Errorf("%q: decodes to %q, encoding/json's to %q", s, back, want)
	}
}

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
// does not change when its body holds another kind's keys.
func FuzzSniff(f *testing.F) {
	for _, s := range []string{`{}`, `{"rawPath":"/x"}`, `{"a":"\"rawPath\":1"}`, `"unterminated`, `{"x\\":1}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		sniff([]byte(body))
		ev, _ := json.Marshal(map[string]any{"httpMethod": "GET", "requestContext": map[string]any{}, "body": body})
		if k := sniff(ev); k != kindREST {
			t.Errorf("body %q changed the kind to %d", body, k)
		}
	})
}

package lambdalocal

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// TestBuildLattice: VPC Lattice events in each version's own shape, keys
// in the order of AWS's example, the whole path kept.
func TestBuildLattice(t *testing.T) {
	r := Request{Method: "post", Target: "/shop/v1/a%20b?tag=a&tag=b", Header: http.Header{"X-Tag": {"1", "2"}},
		Body: []byte("\xff\x00"), Cookies: []string{"s=1"}, Stage: "prod", BasePath: "/ignored"}

	r.Source = "lattice"
	ev, err := Build(r)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(ev), "{\n  \"raw_path\": \"/shop/v1/a%20b\",\n  \"method\": \"POST\",") {
		t.Errorf("v1 event does not start as AWS's does:\n%s", ev)
	}
	var v1 map[string]any
	_ = json.Unmarshal(ev, &v1)
	h, _ := v1["headers"].(map[string]any)
	want := map[string]any{"raw_path": "/shop/v1/a%20b", "method": "POST", "body": "/wA=", "is_base64_encoded": true,
		"query_string_parameters": map[string]any{"tag": "b"}}
	for k, v := range want {
		if !reflect.DeepEqual(v1[k], v) {
			t.Errorf("v1 %s = %#v, want %#v", k, v1[k], v)
		}
	}
	if h["x-tag"] != "1,2" || h["cookie"] != "s=1" || h["content-length"] != "2" || v1["isBase64Encoded"] != nil {
		t.Errorf("v1 event %s", ev)
	}

	r.Source = "lattice-v2"
	if ev, err = Build(r); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(ev), "{\n  \"version\": \"2.0\",\n  \"path\": \"/shop/v1/a%20b\",\n  \"method\": \"POST\",") {
		t.Errorf("v2 event does not start as AWS's does:\n%s", ev)
	}
	var v2 struct {
		Headers        map[string][]string `json:"headers"`
		Query          map[string][]string `json:"queryStringParameters"`
		IsBase64       bool                `json:"isBase64Encoded"`
		RequestContext struct {
			ServiceNetworkArn, TimeEpoch string
		} `json:"requestContext"`
	}
	if err := json.Unmarshal(ev, &v2); err != nil {
		t.Fatalf("v2 event %s: %v", ev, err)
	}
	if strings.Join(v2.Headers["x-tag"], "|") != "1|2" || strings.Join(v2.Query["tag"], "|") != "a|b" || !v2.IsBase64 ||
		v2.RequestContext.ServiceNetworkArn == "" || len(v2.RequestContext.TimeEpoch) != 16 || len(v2.Headers["host"]) != 1 {
		t.Errorf("v2 event %s", ev)
	}
}

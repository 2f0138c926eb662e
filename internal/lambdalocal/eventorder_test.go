package lambdalocal

import (
	"slices"
	"strings"
	"testing"
)

// TestBuildKeepsAWSOrder: every object in a built event lists its keys in
// the order of the AWS sample it came from; only keys the sample lacks
// come after, sorted.
func TestBuildKeepsAWSOrder(t *testing.T) {
	for _, r := range []Request{
		{Source: "rest", Method: "POST", Target: "/v1/items?a=1", Body: []byte(`{"x":1}`), Cookies: []string{"c=1"}},
		{Source: "http", Method: "GET", Target: "/v1/items", Stage: "prod", ProxyRoute: true},
		{Source: "alb", Method: "GET", Target: "/v1/items"},
		{Source: "alb", Method: "GET", Target: "/v1/items", MultiValue: true},
		{Source: "url", Method: "DELETE", Target: "/v1/items/x", Cookies: []string{"c=1"}},
	} {
		name := r.Source
		if r.MultiValue {
			name = "alb-multivalue"
		}
		template, err := templates.ReadFile("templates/" + name + ".json")
		if err != nil {
			t.Fatal(err)
		}
		want, err := keyOrder(template)
		if err != nil {
			t.Fatal(err)
		}
		ev, err := Build(r)
		if err != nil {
			t.Fatal(err)
		}
		got, err := keyOrder(ev)
		if err != nil {
			t.Fatal(err)
		}
		for path, keys := range got {
			var fromTemplate, extra []string
			for _, k := range keys {
				if slices.Contains(want[path], k) {
					fromTemplate = append(fromTemplate, k)
				} else {
					extra = append(extra, k)
				}
			}
			var inTemplate []string
			for _, k := range want[path] {
				if slices.Contains(fromTemplate, k) && !slices.Contains(inTemplate, k) {
					inTemplate = append(inTemplate, k)
				}
			}
			if !slices.Equal(fromTemplate, inTemplate) || !slices.IsSorted(extra) ||
				len(extra) > 0 && len(fromTemplate) > 0 && !slices.Contains(keys[len(fromTemplate):], extra[0]) {
				t.Errorf("%s %q: keys %v, want the sample's order %v then the rest sorted", name, path, keys, want[path])
			}
		}
		if first := got[""][0]; first != want[""][0] {
			t.Errorf("%s: first key %q, want %q as AWS sends it", name, first, want[""][0])
		}
	}
}

// A target is read as an HTTP server reads one: "//x/..." is a path with
// an empty segment, which the API answers 404, not the host x.
func TestBuildTargetIsAPath(t *testing.T) {
	for _, source := range Sources {
		b, err := Build(Request{Source: source, Method: "GET", Target: "//x/v1/items?limit=1"})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), `"//x/v1/items"`) {
			t.Errorf("%s: the path lost its empty segment:\n%s", source, b)
		}
	}
	if _, err := Build(Request{Source: "http", Method: "GET", Target: "https://h/v1/items"}); err == nil {
		t.Error("an absolute URL was taken as a target")
	}
}

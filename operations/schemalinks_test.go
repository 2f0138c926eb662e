package operations_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/typedapi/typedapi/models"
	"github.com/typedapi/typedapi/operations"
	"github.com/typedapi/typedapi/store/memory"
)

// TestItemBodyEveryOperation: every operation that answers an item (create,
// replace, merge-patch) writes the bytes and the Link header its next GET
// writes, `$schema` included.
func TestItemBodyEveryOperation(t *testing.T) {
	h, _ := newHandler(t, operations.Options{}, nil)
	created := serve(h, http.MethodPost, "/v1/items", `{"name":"Cup","price":1,"currency":"EUR","tags":["x"]}`)
	loc := created.Header().Get("Location")
	check := func(name string, answer string, link string) {
		t.Helper()
		get := serve(h, http.MethodGet, loc, "")
		if !strings.Contains(answer, `"$schema":"http://example.com/schemas/Item.json"`) || link != `</schemas/Item.json>; rel="describedBy"` {
			t.Errorf("%s answered %s (Link %q): want the item's $schema and Link", name, answer, link)
		}
		if answer != get.Body.String() || link != get.Header().Get("Link") {
			t.Errorf("%s answered\n %s (Link %q)\nthe next GET\n %s (Link %q)", name, answer, link, get.Body, get.Header().Get("Link"))
		}
	}
	check("create", created.Body.String(), created.Header().Get("Link"))
	put := serve(h, http.MethodPut, loc, `{"name":"Mug","price":2,"currency":"USD"}`)
	check("put", put.Body.String(), put.Header().Get("Link"))
	patch := serve(h, http.MethodPatch, loc, `{"description":"tall"}`, "Content-Type", "application/merge-patch+json")
	check("patch", patch.Body.String(), patch.Header().Get("Link"))
}

// TestSchemaLinksAgreeWithServers: `$schema` (in an item, a list and a
// problem) starts with the base URL the spec's servers give for the same
// request: the scheme the client used, however it is told, and the host of
// public_base_url or the request's own Host. Forwarding headers count only
// from a trusted proxy, and never for the host.
func TestSchemaLinksAgreeWithServers(t *testing.T) {
	store := memory.New()
	it := storeItem(t, store)
	const proxy, direct = "10.0.0.5:40000", "203.0.113.9:50000"
	trusting, _ := newHandler(t, operations.Options{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/16")}}, store)
	public, _ := newHandler(t, operations.Options{PublicBaseURL: "https://api.example.com/edge"}, store)
	send := func(h http.Handler, target, peer, host string, viaTLS bool, header []string) []byte {
		req := httptest.NewRequest(http.MethodGet, target, nil)
		req.Host, req.RemoteAddr = host, peer
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Add(header[i], header[i+1])
		}
		req.TLS = nil
		if viaTLS {
			req.TLS = &tls.ConnectionState{}
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Body.Bytes()
	}
	for _, c := range []struct {
		name   string
		h      http.Handler
		peer   string
		host   string
		tls    bool
		header []string
		want   string
	}{
		{"plain", trusting, direct, "api.example.com", false, nil, "http://api.example.com"},
		{"TLS", trusting, direct, "api.example.com", true, nil, "https://api.example.com"},
		{"proxy says https", trusting, proxy, "api.example.com", false, []string{"X-Forwarded-Proto", "https"}, "https://api.example.com"},
		{"http ALB listener in front", trusting, proxy, "lb.example.com", true, []string{"X-Forwarded-Proto", "http"}, "http://lb.example.com"},
		{"localhost", trusting, direct, "localhost:8080", false, nil, "http://localhost:8080"},
		{"client says https", trusting, direct, "api.example.com", false, []string{"X-Forwarded-Proto", "https"}, "http://api.example.com"},
		{"client names another host", trusting, direct, "api.example.com", false, []string{"X-Forwarded-Host", "evil.example", "Forwarded", "host=evil.example;proto=https"}, "http://api.example.com"},
		{"proxy passes on another host", trusting, proxy, "api.example.com", false, []string{"X-Forwarded-Host", "evil.example", "X-Forwarded-Proto", "https"}, "https://api.example.com"},
		{"proxy, scheme not http(s)", trusting, proxy, "api.example.com", false, []string{"X-Forwarded-Proto", "javascript"}, "http://api.example.com"},
		{"public base URL", public, direct, "evil.example", false, []string{"X-Forwarded-Host", "evil2.example", "X-Forwarded-Proto", "http"}, "https://api.example.com/edge"},
	} {
		var spec struct {
			Servers []struct{ URL string } `json:"servers"`
		}
		_ = json.Unmarshal(send(c.h, "/openapi.json", c.peer, c.host, c.tls, c.header), &spec)
		if len(spec.Servers) != 1 || spec.Servers[0].URL != c.want {
			t.Errorf("%s: servers %+v, want %s", c.name, spec.Servers, c.want)
		}
		for _, target := range []string{"/v1/items/" + it.ID, "/v1/items", "/v1/items/NOT-AN-ID"} {
			raw := send(c.h, target, c.peer, c.host, c.tls, c.header)
			var body struct {
				Schema string `json:"$schema"`
			}
			_ = json.Unmarshal(raw, &body)
			if !strings.HasPrefix(body.Schema, c.want+"/schemas/") {
				t.Errorf("%s %s: $schema %q, want it under %s", c.name, target, body.Schema, c.want)
			}
			if strings.Contains(string(raw), "evil") {
				t.Errorf("%s %s: a forwarded host is reflected: %s", c.name, target, raw)
			}
		}
	}
}

// storeItem puts one item in store.
func storeItem(t *testing.T, store *memory.Store) models.Item {
	t.Helper()
	at := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	it, _, err := store.Create(context.Background(), models.Item{ID: "01JDQ8Z6M3N4P5Q6R7S8T9V0WX",
		ItemFields: models.ItemFields{Name: "x", Currency: "EUR"}, CreatedAt: at, UpdatedAt: at, Version: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return it
}

// TestSchemaLinksUnderBasePath: behind a base path, an item's and a
// problem's `$schema` and `Link: rel="describedBy"` carry the prefix, after
// the public base URL (not the forwarded host).
func TestSchemaLinksUnderBasePath(t *testing.T) {
	h, _ := newHandler(t, operations.Options{BasePath: "/shop", PublicBaseURL: "https://api.example.com"}, nil)
	loc := serve(h, http.MethodPost, "/shop/v1/items", validBody).Header().Get("Location")
	for _, c := range []struct{ target, schema string }{
		{loc, "Item"},
		{"/shop/v1/items/01JDQ8Z6M3N4P5Q6R7S8T9V0WX", "ErrorModel"},
	} {
		got := serve(h, http.MethodGet, c.target, "", "X-Forwarded-Proto", "http", "X-Forwarded-Host", "evil.example")
		var body struct {
			Schema string `json:"$schema"`
		}
		_ = json.Unmarshal(got.Body.Bytes(), &body)
		if want := "https://api.example.com/shop/schemas/" + c.schema + ".json"; body.Schema != want {
			t.Errorf("GET %s: $schema %q, want %q", c.target, body.Schema, want)
		}
		if want := "</shop/schemas/" + c.schema + `.json>; rel="describedBy"`; got.Header().Get("Link") != want {
			t.Errorf("GET %s: Link %q, want %q", c.target, got.Header().Get("Link"), want)
		}
	}
}

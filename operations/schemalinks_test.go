package operations_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"net/http"
	"net/http/httptest"
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
// request: the scheme the client used, however it is told.
func TestSchemaLinksAgreeWithServers(t *testing.T) {
	h, it := handlerWithItem(t)
	send := func(target, host, proto string, viaTLS bool) []byte {
		req := httptest.NewRequest(http.MethodGet, target, nil)
		req.Host = host
		if proto != "" {
			req.Header.Set("X-Forwarded-Proto", proto)
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
		host, proto string
		tls         bool
		want        string
	}{
		{"api.example.com", "", false, "http://api.example.com"},
		{"api.example.com", "", true, "https://api.example.com"},
		{"api.example.com", "https", false, "https://api.example.com"},
		{"lb.example.com", "http", true, "http://lb.example.com"}, // an http ALB listener in front
		{"localhost:8080", "", false, "http://localhost:8080"},
	} {
		var spec struct {
			Servers []struct{ URL string } `json:"servers"`
		}
		_ = json.Unmarshal(send("/openapi.json", c.host, c.proto, c.tls), &spec)
		if len(spec.Servers) != 1 || spec.Servers[0].URL != c.want {
			t.Errorf("%+v: servers %+v, want %s", c, spec.Servers, c.want)
		}
		for _, target := range []string{"/v1/items/" + it.ID, "/v1/items", "/v1/items/NOT-AN-ID"} {
			var body struct {
				Schema string `json:"$schema"`
			}
			_ = json.Unmarshal(send(target, c.host, c.proto, c.tls), &body)
			if !strings.HasPrefix(body.Schema, c.want+"/schemas/") {
				t.Errorf("%+v %s: $schema %q, want it under %s", c, target, body.Schema, c.want)
			}
		}
	}
}

// handlerWithItem is the API on a memory store that holds one item.
func handlerWithItem(t *testing.T) (http.Handler, models.Item) {
	t.Helper()
	store := memory.New()
	at := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	it, _, err := store.Create(context.Background(), models.Item{ID: "01JDQ8Z6M3N4P5Q6R7S8T9V0WX",
		ItemFields: models.ItemFields{Name: "x", Currency: "EUR"}, CreatedAt: at, UpdatedAt: at, Version: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	h, _ := newHandler(t, operations.Options{}, store)
	return h, it
}

// TestSchemaLinksUnderBasePath: behind a base path, an item's and a
// problem's `$schema` and `Link: rel="describedBy"` carry the prefix.
func TestSchemaLinksUnderBasePath(t *testing.T) {
	h, _ := newHandler(t, operations.Options{BasePath: "/shop"}, nil)
	loc := serve(h, http.MethodPost, "/shop/v1/items", validBody).Header().Get("Location")
	for _, c := range []struct{ target, schema string }{
		{loc, "Item"},
		{"/shop/v1/items/01JDQ8Z6M3N4P5Q6R7S8T9V0WX", "ErrorModel"},
	} {
		got := serve(h, http.MethodGet, c.target, "", "X-Forwarded-Proto", "https", "X-Forwarded-Host", "api.example.com")
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

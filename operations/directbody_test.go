package operations_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/typedapi/typedapi/internal/middleware"
	"github.com/typedapi/typedapi/models"
	"github.com/typedapi/typedapi/operations"
	"github.com/typedapi/typedapi/store/memory"
)

// sameBothWays requests target with fast item bodies and with Huma's
// generic path, and fails unless status, headers and body are identical.
func sameBothWays(t *testing.T, h http.Handler, target string, headers ...string) {
	t.Helper()
	restore := operations.FastBodies(false)
	generic := serve(h, http.MethodGet, target, "", headers...)
	restore()
	serve(h, http.MethodGet, target, "", headers...) // the second fast one meets remembered $schema URLs
	fast := serve(h, http.MethodGet, target, "", headers...)
	if generic.Code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", target, generic.Code, generic.Body)
	}
	if fast.Code != generic.Code || fast.Body.String() != generic.Body.String() {
		t.Errorf("GET %s %q:\n fast    %d %s\n generic %d %s", target, headers, fast.Code, fast.Body, generic.Code, generic.Body)
	}
	for _, k := range []string{"Link", "Content-Type", "Content-Length", "ETag"} {
		if f, g := fast.Header().Values(k), generic.Header().Values(k); strings.Join(f, "|") != strings.Join(g, "|") {
			t.Errorf("GET %s %q: %s %q, generic path %q", target, headers, k, f, g)
		}
	}
}

// TestItemBodyAsHuma: the direct item body is what Huma's schema-link
// transformer and encoding/json write, for every way a client reaches the
// API (hosts, forwarding headers, TLS via a proxy, a base path) and for
// text that needs escaping.
func TestItemBodyAsHuma(t *testing.T) {
	store := memory.New()
	it, _, err := store.Create(context.Background(), models.Item{
		ID: "01JDQ8Z6M3N4P5Q6R7S8T9V0WX",
		ItemFields: models.ItemFields{Name: "<b>Cup</b> & \"saucer\" \u2028\u2029 ☕ \x01\b\f\t\\", Price: 1250, Currency: "EUR",
			Tags: []string{"a&b", "é", "\x01\u2028\"\\"}},
		CreatedAt: time.Date(2026, 11, 25, 10, 0, 0, 123456789, time.UTC), UpdatedAt: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC), Version: 3,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	bare, _, _ := store.Create(context.Background(), models.Item{ID: "01JDQ8Z6M3N4P5Q6R7S8T9V0WY",
		ItemFields: models.ItemFields{Name: "x", Currency: "EUR", Description: "d"}, CreatedAt: time.Unix(0, 0).UTC(), UpdatedAt: time.Unix(0, 0).UTC(), Version: 1}, nil)
	// Zones time.Time.MarshalJSON writes (23:59) and refuses (24:00): a row
	// the service never writes, but a store could hold.
	var zoned []string
	for i, offset := range []int{23*3600 + 59*60, 24 * 3600, -24 * 3600} {
		at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("", offset))
		z, _, err := store.Create(context.Background(), models.Item{ID: "01JDQ8Z6M3N4P5Q6R7S8T9V0X" + string(rune('0'+i)),
			ItemFields: models.ItemFields{Name: "z", Currency: "EUR"}, CreatedAt: at, UpdatedAt: at, Version: 1}, nil)
		if err != nil {
			t.Fatal(err)
		}
		zoned = append(zoned, z.ID)
	}
	headerSets := [][]string{
		nil,
		{"Host", "localhost:8080"},
		{"Host", "127.0.0.1:3000"},
		{"Host", "api.example.com"},
		{"Host", "localhost", "X-Forwarded-Proto", "https"},
		{"X-Forwarded-Host", "shop.example.com", "X-Forwarded-Proto", "https"},
		{"X-Forwarded-Host", "127.0.0.1:9", "X-Forwarded-Proto", "http"},
		{"Forwarded", "host=evil.example"},
		{"Host", ""},
	}
	for _, basePath := range []string{"", "/shop"} {
		h, _ := newHandler(t, operations.Options{BasePath: basePath}, store)
		for _, id := range append([]string{it.ID, bare.ID}, zoned...) {
			for _, headers := range headerSets {
				sameBothWays(t, h, basePath+"/v1/items/"+id, headers...)
			}
		}
	}
}

// TestSchemaURLsRemembered: the `$schema` URL is remembered from one
// request to the next; each thing it depends on, changed alone between
// two requests on one handler, changes it as on the generic path.
func TestSchemaURLsRemembered(t *testing.T) {
	h, it := handlerWithItem(t)
	type via struct {
		host, forwardedHost, forwardedProto, prefix string
		tls                                         bool
	}
	get := func(v via) string {
		req := httptest.NewRequest(http.MethodGet, "/v1/items/"+it.ID, nil)
		req.Host = v.host
		if v.forwardedHost != "" {
			req.Header.Set("X-Forwarded-Host", v.forwardedHost)
		}
		if v.forwardedProto != "" {
			req.Header.Set("X-Forwarded-Proto", v.forwardedProto)
		}
		req.TLS = nil
		if v.tls {
			req.TLS = &tls.ConnectionState{}
		}
		req = req.WithContext(middleware.WithMountPrefix(req.Context(), v.prefix))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		var body struct {
			Schema string `json:"$schema"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Schema == "" {
			t.Fatalf("%+v: %d %s", v, rec.Code, rec.Body)
		}
		return body.Schema
	}
	base := via{host: "localhost:8080"}
	steps := []via{base,
		{host: "localhost:8080", forwardedProto: "https"}, base,
		{host: "localhost:8080", tls: true}, base,
		{host: "localhost:8080", prefix: "/prod"}, base,
		{host: "localhost:8080", forwardedHost: "shop.example.com"}, base,
		{host: "api.example.com"}, base, base,
	}
	for i, v := range steps {
		restore := operations.FastBodies(false)
		want := get(v)
		restore()
		if got := get(v); got != want {
			t.Errorf("step %d %+v: $schema %s, generic path %s", i, v, got, want)
		}
	}
}

// TestItemBodyEveryOperation: every operation that answers an item (create,
// replace, merge-patch) writes the bytes its next GET writes on the generic
// path: one encoder for all of them.
func TestItemBodyEveryOperation(t *testing.T) {
	h, _ := newHandler(t, operations.Options{}, nil)
	created := serve(h, http.MethodPost, "/v1/items", `{"name":"Cup","price":1,"currency":"EUR","tags":["x"]}`)
	loc := created.Header().Get("Location")
	check := func(name string, answer string, link string) {
		t.Helper()
		restore := operations.FastBodies(false)
		get := serve(h, http.MethodGet, loc, "")
		restore()
		if answer != get.Body.String() || link != get.Header().Get("Link") {
			t.Errorf("%s answered\n %s (Link %q)\nthe generic GET\n %s (Link %q)", name, answer, link, get.Body, get.Header().Get("Link"))
		}
	}
	check("create", created.Body.String(), created.Header().Get("Link"))
	put := serve(h, http.MethodPut, loc, `{"name":"Mug","price":2,"currency":"USD"}`)
	check("put", put.Body.String(), put.Header().Get("Link"))
	patch := serve(h, http.MethodPatch, loc, `{"description":"tall"}`, "Content-Type", "application/merge-patch+json")
	check("patch", patch.Body.String(), patch.Header().Get("Link"))
}

// FuzzItemBody: any stored text, host, time and zone, both paths agree (a
// zone 24 hours or more off UTC, which time.Time.MarshalJSON refuses, too).
func FuzzItemBody(f *testing.F) {
	f.Add("Cup", "", "kitchen", "localhost:8080", int64(1764064800123456789), int32(0))
	f.Add("<>&\u2028\x7f\xff", "\x00", "", "127.0.0.1", int64(-62135596800000000), int32(-5*3600))
	f.Add("x", "", "", "", int64(0), int32(24*3600))
	f.Fuzz(func(t *testing.T, name, description, tag, host string, at int64, offset int32) {
		store := memory.New()
		when := time.Unix(0, at).In(time.FixedZone("", int(offset)))
		it, _, err := store.Create(context.Background(), models.Item{ID: "01JDQ8Z6M3N4P5Q6R7S8T9V0WX",
			ItemFields: models.ItemFields{Name: name, Description: description, Currency: "EUR", Tags: []string{tag}},
			CreatedAt:  when, UpdatedAt: when.Add(time.Hour), Version: 1}, nil)
		if err != nil {
			t.Skip()
		}
		h, _ := operations.New(operations.Options{Logger: quietLogger()}, operations.StoresOf(store))
		restore := operations.FastBodies(false)
		generic := serve(h, http.MethodGet, "/v1/items/"+it.ID, "", "Host", host)
		restore()
		fast := serve(h, http.MethodGet, "/v1/items/"+it.ID, "", "Host", host)
		if fast.Code != generic.Code || fast.Body.String() != generic.Body.String() || fast.Header().Get("Link") != generic.Header().Get("Link") {
			t.Errorf("fast %d %s %q\ngeneric %d %s %q", fast.Code, fast.Body, fast.Header().Get("Link"), generic.Code, generic.Body, generic.Header().Get("Link"))
		}
	})
}

func quietLogger() *slog.Logger { return slog.New(slog.NewJSONHandler(io.Discard, nil)) }

// TestProblemBodyAsHuma: the problems operations answer (404, 400, 412,
// 415, and 422s with many details, long and odd values) are what Huma's
// generic path writes, behind a base path and forwarding headers too.
func TestProblemBodyAsHuma(t *testing.T) {
	compared := 0
	for _, basePath := range []string{"", "/shop"} {
		h, _ := newHandler(t, operations.Options{BasePath: basePath}, nil)
		created := serve(h, http.MethodPost, basePath+"/v1/items", validBody)
		loc := created.Header().Get("Location")
		long := strings.Repeat("x", 5000)
		requests := []struct{ method, target, body string }{
			{http.MethodGet, basePath + "/v1/items/01JDQ8Z6M3N4P5Q6R7S8T9V0WX", ""},
			{http.MethodGet, basePath + "/v1/items/not-an-id", ""},
			{http.MethodPost, basePath + "/v1/items", `{"name":"","price":-1,"currency":"eur","tags":["a","a","<b>"]}`},
			{http.MethodPost, basePath + "/v1/items", `{"name":"` + long + `","price":1.5,"currency":"EUR","extra":{"a":[1,2]}}`},
			{http.MethodPost, basePath + "/v1/items", `{"name":`},
			{http.MethodPost, basePath + "/v1/items", `[1,2,3]`},
			{http.MethodPut, loc, `{"name":"x","price":1,"currency":"EUR"}`},
			{http.MethodGet, basePath + "/v1/items?limit=0&cursor=%ff", ""},
		}
		for _, headers := range [][]string{nil, {"X-Forwarded-Host", "shop.example.com", "X-Forwarded-Proto", "https"}, {"If-Match", `"stale.1"`}} {
			for _, r := range requests {
				run := func() *httptest.ResponseRecorder {
					rec := serve(h, r.method, r.target, r.body, headers...)
					rec.Header().Del("X-Request-Id")
					return rec
				}
				restore := operations.FastBodies(false)
				generic := run()
				restore()
				fast := run()
				if generic.Code < 400 {
					continue
				}
				compared++
				if fast.Code != generic.Code || fast.Body.String() != generic.Body.String() ||
					fmt.Sprint(fast.Header()) != fmt.Sprint(generic.Header()) {
					t.Errorf("%s %s %q:\n fast    %d %v %s\n generic %d %v %s", r.method, r.target, headers,
						fast.Code, fast.Header(), fast.Body, generic.Code, generic.Header(), generic.Body)
				}
			}
		}
	}
	if compared < 40 {
		t.Errorf("only %d problems compared", compared)
	}
}

// TestSchemaLinksAgreeWithServers: `$schema` (on direct and generic
// bodies) starts with the base URL the spec's servers give for the same
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

package operations_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/humatest"

	"github.com/typedapi/typedapi/internal/auth"
	"github.com/typedapi/typedapi/models"
	"github.com/typedapi/typedapi/operations"
	"github.com/typedapi/typedapi/store/memory"
)

// testAPI builds the real API on a fresh memory store and wraps it with
// humatest; handler is the complete handler with middleware. As with
// newHandler, every request is staffCaller's unless opts.Auth says.
func testAPI(t *testing.T, opts operations.Options, store any) (humatest.TestAPI, http.Handler) {
	t.Helper()
	if store == nil {
		store = memory.New()
	}
	if opts.Auth == nil {
		opts.Auth = auth.Off{Caller: staffCaller}
	}
	h, api := operations.New(opts, operations.StoresOf(store))
	return humatest.Wrap(t, api), h
}

func decode[T any](t *testing.T, rec *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Fatalf("decode %T from %q: %v", v, rec.Body.String(), err)
	}
	return v
}

func create(t *testing.T, api humatest.TestAPI, body map[string]any, headers ...any) models.Item {
	t.Helper()
	rec := api.Post("/v1/items", append(headers, body)...)
	if rec.Code != http.StatusCreated {
		t.Fatalf("create: status %d: %s", rec.Code, rec.Body)
	}
	return decode[models.Item](t, rec)
}

// nextLink finds the rel="next" member among the Link headers (Huma adds
// rel="describedBy" beside it).
func nextLink(h http.Header) string {
	for _, v := range h.Values("Link") {
		for _, l := range strings.Split(v, ",") {
			if l = strings.TrimSpace(l); strings.HasSuffix(l, `rel="next"`) {
				return l
			}
		}
	}
	return ""
}

var _ = probeFor("/v1/items", func(t *testing.T, h http.Handler) resourceProbe {
	return resourceProbe{
		id:      createdItem(t, h, validBody).ID,
		valid:   map[string]string{"": validBody},
		invalid: map[string]string{"": `{"name":"","price":1250,"currency":"XYZ"}`},
	}
})

func validItem(name string, tags ...string) map[string]any {
	if tags == nil {
		tags = []string{}
	}
	return map[string]any{"name": name, "price": 1250, "currency": "EUR", "tags": tags}
}

func TestCreateAndGet(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	api, _ := testAPI(t, operations.Options{Now: func() time.Time { return now }}, nil)

	rec := api.Post("/v1/items", map[string]any{
		"name": "Espresso cup", "description": "80 ml", "price": 1250, "currency": "EUR", "tags": []string{"kitchen", "porcelain"},
	})
	if rec.Code != http.StatusCreated {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	item := decode[models.Item](t, rec)
	if len(item.ID) != 26 || item.Version != 1 || !item.CreatedAt.Equal(now) || !item.UpdatedAt.Equal(now) {
		t.Errorf("server fields wrong: %+v", item)
	}
	if item.Name != "Espresso cup" || item.Description != "80 ml" || item.Price != 1250 || item.Currency != "EUR" || !slices.Equal(item.Tags, []models.Tag{"kitchen", "porcelain"}) {
		t.Errorf("client fields not kept: %+v", item)
	}
	if got, want := rec.Header().Get("Location"), "/v1/items/"+item.ID; got != want {
		t.Errorf("Location = %q, want %q", got, want)
	}
	if got := rec.Header().Get("ETag"); got != item.ETag() {
		t.Errorf("ETag = %q, want %q", got, item.ETag())
	}

	rec = api.Get("/v1/items/" + item.ID)
	if rec.Code != http.StatusOK {
		t.Fatalf("get: %d %s", rec.Code, rec.Body)
	}
	got := decode[models.Item](t, rec)
	if got.ID != item.ID || got.Name != item.Name || rec.Header().Get("ETag") != item.ETag() {
		t.Errorf("get returned %+v etag %q", got, rec.Header().Get("ETag"))
	}

	// If-None-Match with the current ETag: 304, no body, ETag repeated.
	rec = api.Get("/v1/items/"+item.ID, "If-None-Match: "+item.ETag())
	if rec.Code != http.StatusNotModified || rec.Body.Len() != 0 || rec.Header().Get("ETag") != item.ETag() {
		t.Errorf("If-None-Match current: %d body %q etag %q", rec.Code, rec.Body, rec.Header().Get("ETag"))
	}
	// A different ETag, or a weak form of the same one, as list members.
	rec = api.Get("/v1/items/"+item.ID, `If-None-Match: "other", W/`+item.ETag())
	if rec.Code != http.StatusNotModified {
		t.Errorf("If-None-Match weak match: %d", rec.Code)
	}
	rec = api.Get("/v1/items/"+item.ID, `If-None-Match: "stale.0"`)
	if rec.Code != http.StatusOK {
		t.Errorf("If-None-Match stale: %d", rec.Code)
	}
}

func TestIdempotentCreate(t *testing.T) {
	api, _ := testAPI(t, operations.Options{}, nil)
	key := "Idempotency-Key: 7c1e2a"
	first := api.Post("/v1/items", key, validItem("Cup"))
	if first.Code != http.StatusCreated || first.Header().Get("Idempotent-Replayed") != "" {
		t.Fatalf("first: %d replayed=%q", first.Code, first.Header().Get("Idempotent-Replayed"))
	}
	again := api.Post("/v1/items", key, validItem("Cup"))
	if again.Code != http.StatusCreated || again.Header().Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay: %d replayed=%q", again.Code, again.Header().Get("Idempotent-Replayed"))
	}
	if a, b := decode[models.Item](t, first), decode[models.Item](t, again); a.ID != b.ID || !a.CreatedAt.Equal(b.CreatedAt) {
		t.Errorf("replay returned another item: %s vs %s", a.ID, b.ID)
	}
	if first.Header().Get("Location") != again.Header().Get("Location") {
		t.Errorf("Location differs on replay")
	}
	different := api.Post("/v1/items", key, validItem("Plate"))
	if different.Code != http.StatusUnprocessableEntity || !strings.Contains(different.Body.String(), "header.Idempotency-Key") {
		t.Errorf("same key, other body: %d %s", different.Code, different.Body)
	}
	list := decode[operations.ItemPage](t, api.Get("/v1/items"))
	if len(list.Items) != 1 {
		t.Errorf("replays created items: %d in store", len(list.Items))
	}
	// Another key creates another item.
	if rec := api.Post("/v1/items", "Idempotency-Key: other", validItem("Cup")); rec.Code != http.StatusCreated || decode[models.Item](t, rec).ID == decode[models.Item](t, first).ID {
		t.Errorf("new key did not create a new item: %d", rec.Code)
	}
}

func TestIdempotencyKeyExpires(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	store := memory.New()
	store.SetClock(func() time.Time { return now })
	api, _ := testAPI(t, operations.Options{IdempotencyTTL: time.Hour, Now: func() time.Time { return now }}, store)
	first := decode[models.Item](t, api.Post("/v1/items", "Idempotency-Key: k", validItem("Cup")))
	now = now.Add(time.Hour + time.Second)
	rec := api.Post("/v1/items", "Idempotency-Key: k", validItem("Plate"))
	if rec.Code != http.StatusCreated || decode[models.Item](t, rec).ID == first.ID || rec.Header().Get("Idempotent-Replayed") != "" {
		t.Errorf("expired key should create anew: %d %s", rec.Code, rec.Body)
	}
}

func TestListPagesAndFilters(t *testing.T) {
	api, _ := testAPI(t, operations.Options{}, nil)
	var ids []string
	for i := range 7 {
		tag := "odd"
		if i%2 == 0 {
			tag = "even"
		}
		name := fmt.Sprintf("Cup %d", i)
		if i == 3 {
			name = "espresso cup"
		}
		ids = append(ids, create(t, api, validItem(name, tag)).ID)
	}

	// Walk all pages of 3 through the Link header: every item once, in order.
	var seen []string
	next := "/v1/items?limit=3"
	for pages := 0; next != ""; pages++ {
		if pages > 5 {
			t.Fatal("pagination does not end")
		}
		rec := api.Get(next)
		if rec.Code != http.StatusOK {
			t.Fatalf("page %d: %d %s", pages, rec.Code, rec.Body)
		}
		page := decode[operations.ItemPage](t, rec)
		for _, it := range page.Items {
			seen = append(seen, it.ID)
		}
		link := nextLink(rec.Header())
		if (page.NextCursor == "") != (link == "") {
			t.Fatalf("cursor %q and Link %q disagree", page.NextCursor, link)
		}
		next = ""
		if link != "" {
			if !strings.HasSuffix(link, `>; rel="next"`) || !strings.Contains(link, "cursor="+page.NextCursor) {
				t.Fatalf("bad Link %q", link)
			}
			next = strings.TrimPrefix(strings.TrimSuffix(link, `>; rel="next"`), "<")
		}
	}
	if strings.Join(seen, ",") != strings.Join(ids, ",") {
		t.Errorf("pages returned %v, want %v", seen, ids)
	}

	cases := []struct {
		query string
		want  []string
	}{
		{"tag=even", []string{ids[0], ids[2], ids[4], ids[6]}},
		{"tag=odd&limit=1", []string{ids[1]}},
		{"q=ESP", []string{ids[3]}},
		{"q=cup", []string{ids[0], ids[1], ids[2], ids[4], ids[5], ids[6]}},
		{"q=cup&tag=odd", []string{ids[1], ids[5]}},
		{"tag=none", nil},
	}
	for _, c := range cases {
		page := decode[operations.ItemPage](t, api.Get("/v1/items?"+c.query))
		var got []string
		for _, it := range page.Items {
			got = append(got, it.ID)
		}
		if strings.Join(got, ",") != strings.Join(c.want, ",") {
			t.Errorf("%s: got %v want %v", c.query, got, c.want)
		}
	}

	// Default limit is 20 and a full last page has no cursor.
	page := decode[operations.ItemPage](t, api.Get("/v1/items"))
	if len(page.Items) != 7 || page.NextCursor != "" {
		t.Errorf("default page: %d items, cursor %q", len(page.Items), page.NextCursor)
	}
	exact := decode[operations.ItemPage](t, api.Get("/v1/items?limit=7"))
	if exact.NextCursor != "" {
		t.Errorf("a page that ends exactly at the last item must not offer a next cursor")
	}
}

func TestCursorRejections(t *testing.T) {
	api, _ := testAPI(t, operations.Options{CursorSecret: "s1"}, nil)
	for range 3 {
		create(t, api, validItem("Cup", "a"))
	}
	cursor := decode[operations.ItemPage](t, api.Get("/v1/items?limit=1&tag=a")).NextCursor
	other, _ := testAPI(t, operations.Options{CursorSecret: "s2"}, nil)
	tampered := []byte(cursor)
	tampered[3] ^= 1

	cases := []struct{ name, query string }{
		{"garbage", "cursor=abc"},
		{"not base64", "cursor=%25%25%25.x"},
		{"tampered", "tag=a&cursor=" + string(tampered)},
		{"truncated", "tag=a&cursor=" + cursor[:len(cursor)-4]},
		{"other filters", "tag=b&cursor=" + cursor},
		{"filters dropped", "cursor=" + cursor},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := api.Get("/v1/items?" + c.query)
			if rec.Code != http.StatusBadRequest || rec.Header().Get("Content-Type") != "application/problem+json" || !strings.Contains(rec.Body.String(), "query.cursor") {
				t.Errorf("%d %s %s", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
			}
		})
	}
	t.Run("foreign deployment", func(t *testing.T) {
		if rec := other.Get("/v1/items?tag=a&cursor=" + cursor); rec.Code != http.StatusBadRequest {
			t.Errorf("cursor signed with another secret: %d", rec.Code)
		}
	})
	t.Run("valid", func(t *testing.T) {
		if rec := api.Get("/v1/items?tag=a&cursor=" + cursor); rec.Code != http.StatusOK {
			t.Errorf("own cursor: %d %s", rec.Code, rec.Body)
		}
	})
}

func TestReplaceAndPatch(t *testing.T) {
	api, _ := testAPI(t, operations.Options{}, nil)
	item := create(t, api, map[string]any{"name": "Cup", "description": "old", "price": 100, "currency": "EUR", "tags": []string{"a"}})

	rec := api.Put("/v1/items/"+item.ID, "If-Match: "+item.ETag(), map[string]any{"name": "Mug", "price": 200, "currency": "USD"})
	if rec.Code != http.StatusOK {
		t.Fatalf("put: %d %s", rec.Code, rec.Body)
	}
	put := decode[models.Item](t, rec)
	if put.Name != "Mug" || put.Description != "" || put.Price != 200 || put.Currency != "USD" || len(put.Tags) != 0 || put.Version != 2 || put.ID != item.ID || !put.CreatedAt.Equal(item.CreatedAt) {
		t.Errorf("put result %+v", put)
	}
	if rec.Header().Get("ETag") != put.ETag() {
		t.Errorf("put ETag %q", rec.Header().Get("ETag"))
	}

	// Stale ETag (version 1) → 412 with the current ETag; nothing changes.
	rec = api.Put("/v1/items/"+item.ID, "If-Match: "+item.ETag(), map[string]any{"name": "X", "price": 1, "currency": "EUR"})
	if rec.Code != http.StatusPreconditionFailed || rec.Header().Get("ETag") != put.ETag() {
		t.Errorf("stale put: %d etag %q", rec.Code, rec.Header().Get("ETag"))
	}
	rec = api.Patch("/v1/items/"+item.ID, "If-Match: "+item.ETag(), "Content-Type: application/merge-patch+json", strings.NewReader(`{"name":"X"}`))
	if rec.Code != http.StatusPreconditionFailed {
		t.Errorf("stale patch: %d", rec.Code)
	}

	// Merge patch with the fresh ETag: set some fields, remove description.
	api.Patch("/v1/items/"+item.ID, "Content-Type: application/merge-patch+json", strings.NewReader(`{"description":"to remove"}`))
	cur := decode[models.Item](t, api.Get("/v1/items/"+item.ID))
	rec = api.Patch("/v1/items/"+item.ID, "If-Match: "+cur.ETag(), "Content-Type: application/merge-patch+json",
		strings.NewReader(`{"description":null,"price":300,"tags":["x","y"]}`))
	if rec.Code != http.StatusOK {
		t.Fatalf("patch: %d %s", rec.Code, rec.Body)
	}
	patched := decode[models.Item](t, rec)
	if patched.Name != "Mug" || patched.Description != "" || patched.Price != 300 || patched.Currency != "USD" || !slices.Equal(patched.Tags, []models.Tag{"x", "y"}) || patched.Version != cur.Version+1 {
		t.Errorf("patched %+v", patched)
	}
	// If-Match: * matches any.
	rec = api.Patch("/v1/items/"+item.ID, "If-Match: *", "Content-Type: application/merge-patch+json", map[string]any{"tags": nil})
	if rec.Code != http.StatusOK || len(decode[models.Item](t, rec).Tags) != 0 {
		t.Errorf("tags:null should clear: %d %s", rec.Code, rec.Body)
	}

	// Without If-Match the write applies to the newest version.
	rec = api.Put("/v1/items/"+item.ID, map[string]any{"name": "Last", "price": 1, "currency": "EUR"})
	if rec.Code != http.StatusOK || decode[models.Item](t, rec).Name != "Last" {
		t.Errorf("unconditional put: %d", rec.Code)
	}
}

func TestDelete(t *testing.T) {
	api, _ := testAPI(t, operations.Options{}, nil)
	item := create(t, api, validItem("Cup"))
	api.Patch("/v1/items/"+item.ID, "Content-Type: application/merge-patch+json", map[string]any{"price": 5})

	if rec := api.Delete("/v1/items/"+item.ID, "If-Match: "+item.ETag()); rec.Code != http.StatusPreconditionFailed {
		t.Errorf("stale delete: %d", rec.Code)
	}
	if rec := api.Get("/v1/items/" + item.ID); rec.Code != http.StatusOK {
		t.Fatalf("stale delete removed the item: %d", rec.Code)
	}
	cur := decode[models.Item](t, api.Get("/v1/items/"+item.ID))
	rec := api.Delete("/v1/items/"+item.ID, "If-Match: "+cur.ETag())
	if rec.Code != http.StatusNoContent || rec.Body.Len() != 0 {
		t.Errorf("delete: %d %q", rec.Code, rec.Body)
	}
	if rec := api.Get("/v1/items/" + item.ID); rec.Code != http.StatusNotFound {
		t.Errorf("after delete: %d", rec.Code)
	}
	if rec := api.Delete("/v1/items/" + item.ID); rec.Code != http.StatusNotFound {
		t.Errorf("second delete: %d", rec.Code)
	}
	other := create(t, api, validItem("Plate"))
	if rec := api.Delete("/v1/items/" + other.ID); rec.Code != http.StatusNoContent {
		t.Errorf("unconditional delete: %d", rec.Code)
	}
}

// TestErrorStatuses: every error status the API documents, as a client
// meets it — problem+json with a useful message, and nothing changed.
func TestErrorStatuses(t *testing.T) {
	api, _ := testAPI(t, operations.Options{BodyLimit: 4096}, nil)
	item := create(t, api, validItem("Cup"))
	missing := "01ARZ3NDEKTSV4RRFFQ69G5FAV"
	big := `{"name":"` + strings.Repeat("a", 5000) + `","price":1,"currency":"EUR"}`

	cases := []struct {
		name   string
		method string
		path   string
		args   []any
		status int
		inBody []string // substrings the problem must contain
	}{
		{"malformed JSON", "POST", "/v1/items", []any{"Content-Type: application/json", strings.NewReader(`{"name":`)}, 400, []string{`"location":"body"`}},
		{"JSON of wrong shape", "POST", "/v1/items", []any{"Content-Type: application/json", strings.NewReader(`[1,2]`)}, 422, []string{"body"}},
		{"validation: each field", "POST", "/v1/items", []any{map[string]any{"name": "", "price": -1, "currency": "eur", "tags": []string{"a", "a"}}}, 422,
			[]string{"body.name", "body.price", "body.currency", "body.tags"}},
		{"validation: tag length", "POST", "/v1/items", []any{validItem("Cup", strings.Repeat("t", 51))}, 422, []string{"body.tags[0]", "expected length <= 50"}},
		{"validation: too many tags", "POST", "/v1/items", []any{validItem("Cup", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15", "16", "17", "18", "19", "20", "21")}, 422, []string{"body.tags"}},
		{"validation: unknown currency", "POST", "/v1/items", []any{map[string]any{"name": "Cup", "price": 1, "currency": "ABC"}}, 422, []string{"body.currency", "ISO 4217"}},
		{"validation: unknown field", "POST", "/v1/items", []any{map[string]any{"name": "Cup", "price": 1, "currency": "EUR", "colour": "red"}}, 422, []string{"body.colour", "unexpected property"}},
		{"validation: float price", "POST", "/v1/items", []any{map[string]any{"name": "Cup", "price": 1.5, "currency": "EUR"}}, 422, []string{"body.price"}},
		{"validation: missing required", "POST", "/v1/items", []any{map[string]any{"name": "Cup"}}, 422, []string{"body", "price", "currency"}},
		{"validation: bad id", "GET", "/v1/items/not-an-id", nil, 422, []string{"path.id"}},
		{"validation: limit", "GET", "/v1/items?limit=101", nil, 422, []string{"query.limit"}},
		{"patch null name", "PATCH", "/v1/items/" + item.ID, []any{"Content-Type: application/merge-patch+json", strings.NewReader(`{"name":null}`)}, 422, []string{"body.name", "cannot be removed"}},
		{"bad cursor", "GET", "/v1/items?cursor=zzz", nil, 400, []string{"query.cursor"}},
		{"unknown item", "GET", "/v1/items/" + missing, nil, 404, []string{"No item"}},
		{"put unknown item", "PUT", "/v1/items/" + missing, []any{validItem("Cup")}, 404, nil},
		{"patch unknown item", "PATCH", "/v1/items/" + missing, []any{"Content-Type: application/merge-patch+json", map[string]any{"price": 1}}, 404, nil},
		{"unknown path", "GET", "/v1/nothing", nil, 404, []string{"/v1/nothing"}},
		{"wrong method", "DELETE", "/v1/items", nil, 405, []string{"GET, HEAD, POST"}},
		{"wrong method on root", "POST", "/", nil, 405, nil},
		{"idempotency conflict", "POST", "/v1/items", []any{"Idempotency-Key: k1", validItem("Other")}, 0, nil}, // primes the key
		{"idempotency reuse", "POST", "/v1/items", []any{"Idempotency-Key: k1", validItem("Different")}, 422, []string{"Idempotency-Key"}},
		{"stale If-Match", "PUT", "/v1/items/" + item.ID, []any{`If-Match: "` + item.ID + `.9"`, validItem("Cup")}, 412, []string{"If-Match"}},
		{"weak If-Match never matches", "DELETE", "/v1/items/" + item.ID, []any{"If-Match: W/" + item.ETag()}, 412, nil},
		{"unsupported media type", "POST", "/v1/items", []any{"Content-Type: text/plain", strings.NewReader(`{"name":"Cup","price":1,"currency":"EUR"}`)}, 415, nil},
		{"body over the limit", "POST", "/v1/items", []any{"Content-Type: application/json", strings.NewReader(big)}, 413, []string{"4096"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := api.Get("/v1/items?limit=100").Body.String()
			rec := api.Do(c.method, c.path, c.args...)
			if c.status == 0 {
				return
			}
			if rec.Code != c.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, c.status, rec.Body)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("Content-Type %q", ct)
			}
			var problem huma.ErrorModel
			if err := json.Unmarshal(rec.Body.Bytes(), &problem); err != nil || problem.Status != c.status || problem.Title == "" || problem.Detail == "" {
				t.Errorf("not a problem: %s (%v)", rec.Body, err)
			}
			for _, s := range c.inBody {
				if !strings.Contains(rec.Body.String(), s) {
					t.Errorf("problem lacks %q: %s", s, rec.Body)
				}
			}
			if after := api.Get("/v1/items?limit=100").Body.String(); after != before {
				t.Errorf("a rejected request changed the store")
			}
		})
	}
}

func TestServiceRoutes(t *testing.T) {
	api, _ := testAPI(t, operations.Options{Title: "shop", Version: "v9"}, nil)
	info := decode[operations.ServiceInfo](t, api.Get("/"))
	if info.Name != "shop" || info.Version != "v9" || info.Links["docs"] != "/docs" || info.Links["openapi"] != "/openapi.json" || info.Links["items"] != "/v1/items" {
		t.Errorf("GET / = %+v", info)
	}
	for _, p := range []string{"/healthz", "/readyz"} {
		if rec := api.Get(p); rec.Code != http.StatusOK || decode[operations.Health](t, rec).Status != "ok" {
			t.Errorf("%s: %d %s", p, rec.Code, rec.Body)
		}
	}
	for _, p := range []string{"/openapi.json", "/openapi.yaml", "/openapi-3.0.json"} {
		rec := api.Get(p)
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "create-item") {
			t.Errorf("%s: %d", p, rec.Code)
		}
	}
	var spec struct {
		OpenAPI string `json:"openapi"`
	}
	_ = json.Unmarshal(api.Get("/openapi.json").Body.Bytes(), &spec)
	if spec.OpenAPI != "3.1.0" {
		t.Errorf("openapi.json version %q", spec.OpenAPI)
	}
	_ = json.Unmarshal(api.Get("/openapi-3.0.json").Body.Bytes(), &spec)
	if !strings.HasPrefix(spec.OpenAPI, "3.0") {
		t.Errorf("openapi-3.0.json version %q", spec.OpenAPI)
	}
}

// Several If-Match or If-None-Match lines are one list (RFC 9110, 5.3),
// as a multi-value REST or ALB event also sends them.
func TestConditionalHeadersOnSeveralLines(t *testing.T) {
	api, h := testAPI(t, operations.Options{}, nil)
	item := create(t, api, map[string]any{"name": "Cup", "price": 1, "currency": "EUR"})
	send := func(method, header string, values []string, body string) int {
		req := httptest.NewRequest(method, "/v1/items/"+item.ID, strings.NewReader(body))
		if body != "" {
			req.Header.Set("Content-Type", bodyType(method))
		}
		for _, v := range values {
			req.Header.Add(header, v)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	if got := send("GET", "If-None-Match", []string{`"other"`, item.ETag()}, ""); got != http.StatusNotModified {
		t.Errorf("GET, the ETag on the second If-None-Match line: %d, want 304", got)
	}
	if got := send("GET", "If-None-Match", []string{`"other"`, `"stale.0"`}, ""); got != http.StatusOK {
		t.Errorf("GET, no line matches: %d, want 200", got)
	}
	if got := send("PUT", "If-Match", []string{`"stale.0"`, `"other.1"`}, validBody); got != http.StatusPreconditionFailed {
		t.Errorf("PUT, no line matches: %d, want 412", got)
	}
	if got := send("PUT", "If-Match", []string{`"stale.0"`, item.ETag()}, validBody); got != http.StatusOK {
		t.Errorf("PUT, the ETag on the second If-Match line: %d, want 200", got)
	}
	cur := item.ETag()[:len(item.ETag())-2] + `2"` // the PUT made version 2
	if got := send("PATCH", "If-Match", []string{`"stale.0"`, cur}, `{"price":2}`); got != http.StatusOK {
		t.Errorf("PATCH, the ETag on the second If-Match line: %d, want 200", got)
	}
	cur = item.ETag()[:len(item.ETag())-2] + `3"`
	if got := send("DELETE", "If-Match", []string{`"stale.0"`, cur}, ""); got != http.StatusNoContent {
		t.Errorf("DELETE, the ETag on the second If-Match line: %d, want 204", got)
	}
}

// Member names match exactly: a case variant is an unknown member (422),
// never another spelling of a known one, so no parser in front of the API
// can read a body differently from it.
func TestMemberNamesAreCaseSensitive(t *testing.T) {
	api, h := testAPI(t, operations.Options{}, nil)
	item := create(t, api, map[string]any{"name": "Cup", "price": 1, "currency": "EUR"})
	for _, c := range []struct{ method, target, ctype, body string }{
		{"POST", "/v1/items", "application/json", `{"NAME":"upper","PRICE":5,"Currency":"USD"}`},
		{"POST", "/v1/items", "application/json", `{"name":"a","Name":"b","price":1,"currency":"EUR"}`},
		{"PUT", "/v1/items/" + item.ID, "application/json", `{"name":"a","price":1,"currency":"EUR","Tags":["x"]}`},
		{"PATCH", "/v1/items/" + item.ID, "application/merge-patch+json", `{"PRICE":777}`},
	} {
		req := httptest.NewRequest(c.method, c.target, strings.NewReader(c.body))
		req.Header.Set("Content-Type", c.ctype)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusUnprocessableEntity {
			t.Errorf("%s %s %s: %d %s", c.method, c.target, c.body, rec.Code, rec.Body)
		}
	}
	if got := api.Get("/v1/items/" + item.ID); !strings.Contains(got.Body.String(), `"price":1,`) || !strings.Contains(got.Body.String(), `"version":1`) {
		t.Errorf("a refused body changed the item: %s", got.Body)
	}
}

// Media types the operations take, however they are written: spaces
// before the parameters (RFC 9110 allows them; Huma alone refused them),
// any case, a UTF-8 charset; and plain JSON as a merge patch.
func TestMediaTypesAccepted(t *testing.T) {
	api, h := testAPI(t, operations.Options{}, nil)
	item := create(t, api, map[string]any{"name": "Cup", "price": 1, "currency": "EUR"})
	for _, c := range []struct {
		method, target, ctype, body string
		want                        int
	}{
		{"POST", "/v1/items", "application/json ;charset=utf-8", validBody, http.StatusCreated},
		{"POST", "/v1/items", "APPLICATION/JSON;charset=UTF-8", validBody, http.StatusCreated},
		{"POST", "/v1/items", "application/json; charset=\"utf-8\"", validBody, http.StatusCreated},
		{"PUT", "/v1/items/" + item.ID, "Application/Json", validBody, http.StatusOK},
		{"PATCH", "/v1/items/" + item.ID, "application/merge-patch+json ; charset=utf-8", `{"price":2}`, http.StatusOK},
		{"PATCH", "/v1/items/" + item.ID, "application/json", `{"price":3}`, http.StatusUnsupportedMediaType},
	} {
		req := httptest.NewRequest(c.method, c.target, strings.NewReader(c.body))
		req.Header.Set("Content-Type", c.ctype)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != c.want {
			t.Errorf("%s %s as %q: %d, want %d: %s", c.method, c.target, c.ctype, rec.Code, c.want, rec.Body)
		}
	}
}

// problemAt reports whether the 422 problem in rec names location with a
// message containing msg.
func problemAt(t *testing.T, rec *httptest.ResponseRecorder, location, msg string) bool {
	t.Helper()
	if rec.Code != http.StatusUnprocessableEntity {
		return false
	}
	for _, d := range decode[huma.ErrorModel](t, rec).Errors {
		if d.Location == location && strings.Contains(d.Message, msg) {
			return true
		}
	}
	return false
}

// TestTagRules: every tag is 1 to 50 characters on create, replace and
// patch alike, and in the list's tag filter (the rule models.Tag carries);
// the problem names the element that breaks it.
func TestTagRules(t *testing.T) {
	api, _ := testAPI(t, operations.Options{}, nil)
	item := create(t, api, validItem("Cup"))
	long := strings.Repeat("é", 51) // characters, not bytes
	patch := func(tags ...string) []any {
		return []any{"Content-Type: application/merge-patch+json", map[string]any{"tags": tags}}
	}
	cases := []struct {
		name, method, path string
		args               []any
		location, message  string
	}{
		{"empty on create", http.MethodPost, "/v1/items", []any{validItem("Cup", "ok", "")}, "body.tags[1]", "expected length >= 1"},
		{"long on create", http.MethodPost, "/v1/items", []any{validItem("Cup", long)}, "body.tags[0]", "expected length <= 50"},
		{"empty on replace", http.MethodPut, "/v1/items/" + item.ID, []any{validItem("Cup", "")}, "body.tags[0]", "expected length >= 1"},
		{"long on replace", http.MethodPut, "/v1/items/" + item.ID, []any{validItem("Cup", "a", "b", long)}, "body.tags[2]", "expected length <= 50"},
		{"empty on patch", http.MethodPatch, "/v1/items/" + item.ID, patch(""), "body.tags[0]", "expected length >= 1"},
		{"long on patch", http.MethodPatch, "/v1/items/" + item.ID, patch("ok", long), "body.tags[1]", "expected length <= 50"},
		{"long in the list filter", http.MethodGet, "/v1/items?tag=" + url.QueryEscape(long), nil, "query.tag", "expected length <= 50"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := api.Do(c.method, c.path, c.args...)
			if !problemAt(t, rec, c.location, c.message) {
				t.Errorf("want 422 at %s (%s), got %d: %s", c.location, c.message, rec.Code, rec.Body)
			}
		})
	}
	fifty := strings.Repeat("é", 50)
	if rec := api.Post("/v1/items", validItem("Cup", fifty)); rec.Code != http.StatusCreated {
		t.Errorf("a 50-character tag on create: %d %s", rec.Code, rec.Body)
	}
	if rec := api.Patch("/v1/items/"+item.ID, patch(fifty, "a")...); rec.Code != http.StatusOK {
		t.Errorf("a 50-character tag on patch: %d %s", rec.Code, rec.Body)
	}
}

// TestPatchFollowsItemFieldsRules: a patch member is held to the rule
// ItemFields states for it (the patch's schema is derived from ItemFields),
// null may remove only the description, unknown members are refused, and a
// refused patch changes nothing.
func TestPatchFollowsItemFieldsRules(t *testing.T) {
	api, _ := testAPI(t, operations.Options{}, nil)
	item := create(t, api, map[string]any{"name": "Cup", "description": "keep", "price": 100, "currency": "EUR", "tags": []string{"a"}})
	tooMany := make([]string, 21)
	for i := range tooMany {
		tooMany[i] = fmt.Sprint("t", i)
	}
	cases := []struct {
		name              string
		patch             map[string]any
		location, message string
	}{
		{"empty name", map[string]any{"name": ""}, "body.name", "expected length >= 1"},
		{"long name", map[string]any{"name": strings.Repeat("n", 201)}, "body.name", "expected length <= 200"},
		{"long description", map[string]any{"description": strings.Repeat("d", 2001)}, "body.description", "expected length <= 2000"},
		{"negative price", map[string]any{"price": -1}, "body.price", "expected number >= 0"},
		{"price beyond 2^53-1", map[string]any{"price": models.MaxSafePrice + 1}, "body.price", "expected number <= 9.007199254740991e+15"},
		{"lower-case currency", map[string]any{"currency": "eur"}, "body.currency", "ISO 4217 code"},
		{"unknown currency", map[string]any{"currency": "XYZ"}, "body.currency", "unknown ISO 4217 currency code"},
		{"21 tags", map[string]any{"tags": tooMany}, "body.tags", "expected array length <= 20"},
		{"repeated tag", map[string]any{"tags": []string{"a", "a"}}, "body.tags", "expected array items to be unique"},
		{"unknown member", map[string]any{"colour": "red"}, "body.colour", "unexpected property"},
		{"null name", map[string]any{"name": nil}, "body.name", "cannot be removed"},
		{"null price", map[string]any{"price": nil}, "body.price", "cannot be removed"},
		{"null currency", map[string]any{"currency": nil}, "body.currency", "cannot be removed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := api.Patch("/v1/items/"+item.ID, "Content-Type: application/merge-patch+json", c.patch)
			if !problemAt(t, rec, c.location, c.message) {
				t.Errorf("want 422 at %s (%s), got %d: %s", c.location, c.message, rec.Code, rec.Body)
			}
		})
	}
	if got := decode[models.Item](t, api.Get("/v1/items/"+item.ID)); got.Version != item.Version || got.Description != "keep" {
		t.Errorf("a refused patch changed the item: %+v", got)
	}
	// Absent members stay; null removes the description.
	rec := api.Patch("/v1/items/"+item.ID, "Content-Type: application/merge-patch+json", map[string]any{"description": nil})
	if got := decode[models.Item](t, rec); rec.Code != http.StatusOK || got.Description != "" || got.Name != "Cup" || got.Price != 100 || !slices.Equal(got.Tags, []models.Tag{"a"}) {
		t.Errorf("description:null: %d %s", rec.Code, rec.Body)
	}
}

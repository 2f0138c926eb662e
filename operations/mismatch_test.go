package operations_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/danielgtaylor/huma/v2"

	"github.com/typedapi/typedapi/models"
	"github.com/typedapi/typedapi/operations"
)

// The document says what the server does (issue 19): each test checks one
// former mismatch from both sides.

func TestNotModifiedIsNoProblem(t *testing.T) {
	api, h := testAPI(t, operations.Options{}, nil)
	item := create(t, api, validItem("Cup"))
	rec := serve(h, http.MethodGet, "/v1/items/"+item.ID, "", "If-None-Match", item.ETag())
	if rec.Code != http.StatusNotModified || rec.Header().Get("ETag") != item.ETag() {
		t.Fatalf("304: %d, ETag %q", rec.Code, rec.Header().Get("ETag"))
	}
	if l := rec.Header().Values("Link"); len(l) != 0 || rec.Body.Len() != 0 {
		t.Errorf("304 carries Link %q and body %q", l, rec.Body)
	}
	oapi := api.OpenAPI()
	for _, path := range []string{"/v1/items/{id}", "/v1/orders/{id}"} {
		resp := oapi.Paths[path].Get.Responses["304"]
		if resp == nil || len(resp.Content) != 0 || resp.Headers["ETag"] == nil {
			t.Errorf("%s: 304 is declared as %+v, want no content and an ETag header", path, resp)
		}
	}
}

func TestProblemHeadersAreDeclared(t *testing.T) {
	api, _ := testAPI(t, operations.Options{}, nil)
	oapi := api.OpenAPI()
	for _, c := range []struct{ path, status, header string }{
		{"/v1/items/{id}", "412", "ETag"},
		{"/v1/orders/{id}", "412", "ETag"},
		{"/v1/items/{id}", "503", "Retry-After"},
		{"/v1/items", "503", "Retry-After"},
		{"/v1/items/{id}", "409", "Retry-After"},
	} {
		var found bool
		for _, op := range []*huma.Operation{oapi.Paths[c.path].Get, oapi.Paths[c.path].Patch, oapi.Paths[c.path].Post} {
			if op == nil || op.Responses[c.status] == nil {
				continue
			}
			found = true
			if op.Responses[c.status].Headers[c.header] == nil {
				t.Errorf("%s %s: %s does not declare %s", op.Method, c.path, c.status, c.header)
			}
		}
		if !found {
			t.Errorf("%s: no operation declares %s", c.path, c.status)
		}
	}
}

// A PATCH takes only the merge-patch type its spec lists; plain JSON gets
// a 415 naming it, and writes nothing.
func TestPatchRefusesPlainJSON(t *testing.T) {
	api, h := testAPI(t, operations.Options{}, nil)
	item := create(t, api, validItem("Cup"))
	order := serve(h, http.MethodPost, "/v1/orders", `{"item_id":"`+item.ID+`","quantity":1}`, "Content-Type", "application/json")
	orderID := decodeMap(t, order)["id"]
	for _, target := range []string{"/v1/items/" + item.ID, "/v1/orders/" + orderID} {
		rec := serve(h, http.MethodPatch, target, `{"status":"paid","price":3}`, "Content-Type", "application/json")
		if rec.Code != http.StatusUnsupportedMediaType || !strings.Contains(rec.Body.String(), "application/merge-patch+json") ||
			rec.Header().Get("Content-Type") != "application/problem+json" {
			t.Errorf("PATCH %s as application/json: %d %s", target, rec.Code, rec.Body)
		}
		if got := serve(h, http.MethodGet, target, ""); !strings.Contains(got.Header().Get("ETag"), ".1") {
			t.Errorf("PATCH %s as application/json wrote: ETag %s", target, got.Header().Get("ETag"))
		}
		if n := len(api.OpenAPI().Paths[target[:strings.LastIndex(target, "/")]+"/{id}"].Patch.RequestBody.Content); n != 1 {
			t.Errorf("PATCH %s lists %d media types", target, n)
		}
	}
}

func decodeMap(t *testing.T, rec *httptest.ResponseRecorder) map[string]string {
	t.Helper()
	m := map[string]string{}
	for k, v := range decode[map[string]any](t, rec) {
		if s, ok := v.(string); ok {
			m[k] = s
		}
	}
	return m
}

// An empty merge patch changes nothing: 200 with the item as it is, its
// version and ETag unchanged, and If-Match still checked.
func TestEmptyPatchWritesNothing(t *testing.T) {
	api, h := testAPI(t, operations.Options{}, nil)
	item := create(t, api, validItem("Cup", "kitchen"))
	for _, c := range []struct {
		ifMatch string
		want    int
	}{{"", http.StatusOK}, {item.ETag(), http.StatusOK}, {`"` + item.ID + `.9"`, http.StatusPreconditionFailed}} {
		var headers []string
		if c.ifMatch != "" {
			headers = []string{"If-Match", c.ifMatch}
		}
		rec := serve(h, http.MethodPatch, "/v1/items/"+item.ID, `{}`, headers...)
		if rec.Code != c.want {
			t.Fatalf("{} with If-Match %q: %d, want %d: %s", c.ifMatch, rec.Code, c.want, rec.Body)
		}
		if c.want == http.StatusOK && (rec.Header().Get("ETag") != item.ETag() || decode[models.Item](t, rec).Version != 1) {
			t.Errorf("{} bumped the item: ETag %s, %s", rec.Header().Get("ETag"), rec.Body)
		}
	}
	if got := serve(h, http.MethodGet, "/v1/items/"+item.ID, ""); got.Header().Get("ETag") != item.ETag() {
		t.Errorf("after {}: ETag %s, want %s", got.Header().Get("ETag"), item.ETag())
	}
}

// A parameter sent with an empty value is checked as sent: Huma would read
// it as absent, although its schema refuses "".
func TestEmptyParametersAreRefused(t *testing.T) {
	_, h := testAPI(t, operations.Options{}, nil)
	for _, c := range []struct {
		method, target, body, location string
		headers                        []string
	}{
		{"POST", "/v1/items", validBody, "header.Idempotency-Key", []string{"Idempotency-Key", ""}},
		{"POST", "/v1/orders", `{"item_id":"01JDQ8Z6M3N4P5Q6R7S8T9V0WX","quantity":1}`, "header.Idempotency-Key", []string{"Idempotency-Key", ""}},
		{"GET", "/v1/items?tag=", "", "query.tag", nil},
		{"GET", "/v1/items?q=", "", "query.q", nil},
		{"GET", "/v1/orders?item_id=", "", "query.item_id", nil},
		{"GET", "/v1/orders?status=", "", "query.status", nil},
	} {
		rec := serve(h, c.method, c.target, c.body, c.headers...)
		if rec.Code != http.StatusUnprocessableEntity || rec.Header().Get("Content-Type") != "application/problem+json" || !problemAt(t, rec, c.location, "") {
			t.Errorf("%s %s with empty %s: %d %s", c.method, c.target, c.location, rec.Code, rec.Body)
		}
	}
	if rec := serve(h, "GET", "/v1/items", ""); rec.Code != http.StatusOK || len(decode[map[string]any](t, rec)["items"].([]any)) != 0 {
		t.Errorf("a refused create wrote: %d %s", rec.Code, rec.Body)
	}
	// Parameters that may be empty stay accepted, as does a list without any.
	if rec := serve(h, "GET", "/v1/items?cursor=&limit=5", ""); rec.Code != http.StatusOK {
		t.Errorf("empty cursor: %d %s", rec.Code, rec.Body)
	}
}

// HEAD is declared beside every GET, with no content, and answers as the
// GET does without a body.
func TestHeadIsDeclared(t *testing.T) {
	api, h := testAPI(t, operations.Options{}, nil)
	item := create(t, api, validItem("Cup"))
	for path, pi := range api.OpenAPI().Paths {
		if pi.Get == nil {
			continue
		}
		if pi.Head == nil {
			t.Errorf("%s: GET without HEAD", path)
			continue
		}
		for code, resp := range pi.Head.Responses {
			if len(resp.Content) != 0 {
				t.Errorf("HEAD %s: %s declares content", path, code)
			}
		}
	}
	if got := api.OpenAPI().Paths["/v1/items/{id}"].Head.Responses["200"].Headers["ETag"]; got == nil {
		t.Errorf("HEAD of an item declares no ETag")
	}
	rec := serve(h, http.MethodHead, "/v1/items/"+item.ID, "")
	if rec.Code != http.StatusOK || rec.Body.Len() != 0 || rec.Header().Get("ETag") != item.ETag() {
		t.Errorf("HEAD: %d, ETag %q, body %q", rec.Code, rec.Header().Get("ETag"), rec.Body)
	}
}

// null for a member whose schema allows none is a 422 naming it, on create
// and replace alike, and writes nothing; where the schema allows null (tags)
// it stays accepted, and in a merge patch null removes.
func TestNullIsRefusedWhereTheSchemaSaysNoNull(t *testing.T) {
	api, h := testAPI(t, operations.Options{}, nil)
	item := create(t, api, map[string]any{"name": "Cup", "price": 1, "currency": "EUR", "description": "kept"})
	for _, c := range []struct{ method, target, body, location string }{
		{"POST", "/v1/items", `{"name":"Cup","price":1,"currency":"EUR","description":null}`, "body.description"},
		{"PUT", "/v1/items/" + item.ID, `{"name":"Cup","price":1,"currency":"EUR","description":null}`, "body.description"},
	} {
		rec := serve(h, c.method, c.target, c.body)
		if !problemAt(t, rec, c.location, "null") || rec.Header().Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s %s: %d %s", c.method, c.target, rec.Code, rec.Body)
		}
	}
	list := decode[map[string]any](t, serve(h, "GET", "/v1/items", ""))["items"].([]any)
	if got := serve(h, "GET", "/v1/items/"+item.ID, ""); len(list) != 1 || got.Header().Get("ETag") != item.ETag() {
		t.Errorf("a refused null wrote: %d items, ETag %s", len(list), got.Header().Get("ETag"))
	}
	if rec := serve(h, "PUT", "/v1/items/"+item.ID, `{"name":"Cup","price":1,"currency":"EUR","description":"kept","tags":null}`); rec.Code != http.StatusOK {
		t.Errorf("tags null, which the schema allows: %d %s", rec.Code, rec.Body)
	}
	rec := serve(h, "PATCH", "/v1/items/"+item.ID, `{"description":null}`)
	if rec.Code != http.StatusOK || decode[models.Item](t, rec).Description != "" {
		t.Errorf("merge patch null: %d %s", rec.Code, rec.Body)
	}
}

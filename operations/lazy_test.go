package operations_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/typedapi/typedapi/internal/auth"
	"github.com/typedapi/typedapi/models"
	"github.com/typedapi/typedapi/operations"
	"github.com/typedapi/typedapi/store/memory"
)

const lazySeedID = "01JDQ8Z6M3N4P5Q6R7S8T9V0WX"

// lazyRequests reach every operation and every route that shows the whole API.
var lazyRequests = []struct{ method, target, body string }{
	{"GET", "/", ""},
	{"GET", "/healthz", ""},
	{"GET", "/readyz", ""},
	{"GET", "/v1/items?limit=1", ""},
	{"POST", "/v1/items", `{"name":"Cup","price":100,"currency":"EUR","tags":["kitchen"]}`},
	{"POST", "/v1/items", `{"name":"","price":-1,"currency":"XYZ"}`},
	{"POST", "/v1/items", `{"name":"Cup","price":1,"currency":"EUR","tags":[""]}`}, // a rule models.Tag carries
	{"GET", "/v1/items/" + lazySeedID, ""},
	{"GET", "/v1/items/not-an-id", ""},
	{"PUT", "/v1/items/" + lazySeedID, `{"name":"Mug","price":200,"currency":"USD"}`},
	{"PATCH", "/v1/items/" + lazySeedID, `{"price":300}`},
	{"DELETE", "/v1/items/" + lazySeedID, ""},
	{"GET", "/openapi.json", ""},
	{"GET", "/openapi.yaml", ""},
	{"GET", "/openapi-3.0.json", ""},
	{"GET", "/schemas/Item.json", ""},
	{"GET", "/schemas/ItemFields.json", ""},
	{"GET", "/docs", ""},
	{"GET", "/nothing-here", ""},
	{"DELETE", "/v1/items", ""},
}

func newLazyTestAPI(t *testing.T, lazy bool) (http.Handler, huma.API) {
	t.Helper()
	store := memory.New()
	at := time.Date(2026, 11, 25, 16, 10, 0, 0, time.UTC)
	for i, id := range []string{lazySeedID, "01JDQ8Z6M3N4P5Q6R7S8T9V0WY"} {
		it := models.Item{ID: id, ItemFields: models.ItemFields{Name: "Item " + id[25:], Price: int64(i), Currency: "EUR", Tags: []models.Tag{"kitchen"}},
			CreatedAt: at, UpdatedAt: at, Version: 1}
		if _, _, err := store.Create(context.Background(), it, nil); err != nil {
			t.Fatal(err)
		}
	}
	return operations.New(operations.Options{Lazy: lazy, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)),
		Now: func() time.Time { return at }, Auth: auth.Off{Caller: staffCaller}}, operations.StoresOf(store))
}

var ulidRe = regexp.MustCompile(`[0-9A-HJKMNP-TV-Z]{26}`)

// answer serves one request; what differs between two runs by design (the
// request id, the id of a new item) is blanked.
func answer(h http.Handler, method, target, body string) string {
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
		if method == "PATCH" {
			req.Header.Set("Content-Type", "application/merge-patch+json")
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	res := rec.Result()
	res.Header.Del("X-Request-Id")
	var b strings.Builder
	_ = res.Header.Write(&b)
	out := res.Status + "\n" + b.String() + "\n" + rec.Body.String()
	return ulidRe.ReplaceAllStringFunc(out, func(id string) string {
		if strings.HasPrefix(id, "01JDQ8Z6M3N4P5Q6R7S8T9V0W") {
			return id // the seeded ones
		}
		return "<new id>"
	})
}

// TestLazyAnswersAsEager: whichever request a lazy API meets first, it
// answers it as an API that registered everything in New, and its
// document and schemas are then the same too.
func TestLazyAnswersAsEager(t *testing.T) {
	eager, _ := newLazyTestAPI(t, false)
	want := map[string]string{}
	for _, path := range []string{"/openapi.json", "/openapi.yaml", "/schemas/Item.json"} {
		want[path] = answer(eager, "GET", path, "")
	}
	for _, r := range lazyRequests {
		t.Run(r.method+" "+r.target, func(t *testing.T) {
			eager, _ := newLazyTestAPI(t, false)
			lazy, _ := newLazyTestAPI(t, true)
			if got, want := answer(lazy, r.method, r.target, r.body), answer(eager, r.method, r.target, r.body); got != want {
				t.Fatalf("first request to a lazy API:\n%s\nwant, as registered at once:\n%s", got, want)
			}
			for path, w := range want {
				if got := answer(lazy, "GET", path, ""); got != w {
					t.Errorf("%s after a first %s %s differs from the eager API's:\n%.2000s\nwant:\n%.2000s", path, r.method, r.target, got, w)
				}
			}
		})
	}
}

// TestLazyRegistersOnlyWhatIsAsked: the point of Lazy, checked so that it
// cannot quietly register everything again.
func TestLazyRegistersOnlyWhatIsAsked(t *testing.T) {
	h, api := newLazyTestAPI(t, true)
	if n := len(api.OpenAPI().Paths); n != 0 {
		t.Fatalf("%d paths registered before any request", n)
	}
	for range 2 {
		answer(h, "GET", "/v1/items", "")
	}
	answer(h, "GET", "/nothing-here", "")
	answer(h, "POST", "/v1/items/"+lazySeedID, "") // 405: the route exists for other methods
	paths := api.OpenAPI().Paths
	if len(paths) != 1 || paths["/v1/items"] == nil || paths["/v1/items"].Get == nil || paths["/v1/items"].Post != nil {
		t.Fatalf("after GET /v1/items, registered: %v", keys(paths))
	}
	answer(h, "GET", "/openapi.json", "")
	_, eager := newLazyTestAPI(t, false)
	if got, want := len(api.OpenAPI().Paths), len(eager.OpenAPI().Paths); got != want {
		t.Fatalf("after the document: %d paths registered (%v), want all %d", got, keys(api.OpenAPI().Paths), want)
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestLazyConcurrent: first requests to every route at once, with -race,
// register each operation once and answer every request as the eager API.
func TestLazyConcurrent(t *testing.T) {
	eager, _ := newLazyTestAPI(t, false)
	var reads []int
	want := map[int]string{}
	for i, r := range lazyRequests {
		// Reads, and a 405: the first unmatched requests also build the
		// router's mux of routes alone, concurrently.
		if r.method == "GET" || r.method == "DELETE" && r.target == "/v1/items" {
			reads = append(reads, i)
			want[i] = answer(eager, r.method, r.target, r.body)
		}
	}
	for round := range 5 {
		lazy, _ := newLazyTestAPI(t, true)
		var wg sync.WaitGroup
		for range 3 {
			for _, i := range reads {
				wg.Go(func() {
					r := lazyRequests[i]
					if got := answer(lazy, r.method, r.target, r.body); got != want[i] {
						t.Errorf("round %d, %s %s:\n%.500s\nwant:\n%.500s", round, r.method, r.target, got, want[i])
					}
				})
			}
		}
		wg.Wait()
	}
}

package operations_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/typedapi/typedapi/models"
	"github.com/typedapi/typedapi/operations"
	"github.com/typedapi/typedapi/store/memory"
)

// orderPage is the body of GET /v1/orders.
type orderPage struct {
	Orders     []models.Order `json:"orders"`
	NextCursor string         `json:"next_cursor"`
}

func createdItem(t *testing.T, h http.Handler, body string, headers ...string) models.Item {
	t.Helper()
	rec := serve(h, "POST", "/v1/items", body, headers...)
	if rec.Code != http.StatusCreated {
		t.Fatalf("create item: %d %s", rec.Code, rec.Body)
	}
	var item models.Item
	_ = json.Unmarshal(rec.Body.Bytes(), &item)
	return item
}

func createdOrder(t *testing.T, h http.Handler, itemID string, quantity int, headers ...string) models.Order {
	t.Helper()
	rec := serve(h, "POST", "/v1/orders", fmt.Sprintf(`{"item_id":%q,"quantity":%d}`, itemID, quantity), headers...)
	if rec.Code != http.StatusCreated {
		t.Fatalf("create order: %d %s", rec.Code, rec.Body)
	}
	var o models.Order
	_ = json.Unmarshal(rec.Body.Bytes(), &o)
	return o
}

func patchStatus(h http.Handler, id, status string, headers ...string) *httptest.ResponseRecorder {
	return serve(h, "PATCH", "/v1/orders/"+id, `{"status":"`+status+`"}`, append([]string{"Content-Type", "application/merge-patch+json"}, headers...)...)
}

// TestOrderLifecycle: an order copies the item's price, is read with its
// ETag (304 on a match), goes pending → paid → shipped with each change in
// its history, and keeps its price when the item changes or is deleted.
func TestOrderLifecycle(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	h, _ := newHandler(t, operations.Options{Now: func() time.Time { return now }}, nil)
	item := createdItem(t, h, `{"name":"Cup","price":1250,"currency":"EUR"}`)

	rec := serve(h, "POST", "/v1/orders", `{"item_id":"`+item.ID+`","quantity":3,"status":"pending"}`)
	if rec.Code != http.StatusCreated {
		t.Fatalf("create: %d %s", rec.Code, rec.Body)
	}
	var o models.Order
	_ = json.Unmarshal(rec.Body.Bytes(), &o)
	if rec.Header().Get("Location") != "/v1/orders/"+o.ID || rec.Header().Get("ETag") != o.ETag() {
		t.Errorf("Location %q ETag %q", rec.Header().Get("Location"), rec.Header().Get("ETag"))
	}
	if o.UnitPrice != 1250 || o.Currency != "EUR" || o.Total != 3750 || o.Status != models.OrderPending || o.Version != 1 ||
		len(o.StatusHistory) != 1 || !o.StatusHistory[0].At.Equal(now) || !o.CreatedAt.Equal(now) {
		t.Fatalf("new order: %+v", o)
	}

	if rec := serve(h, "GET", "/v1/orders/"+o.ID, "", "If-None-Match", o.ETag()); rec.Code != http.StatusNotModified {
		t.Errorf("GET with its ETag: %d", rec.Code)
	}
	now = now.Add(time.Minute)
	if rec := patchStatus(h, o.ID, "paid", "If-Match", o.ETag()); rec.Code != http.StatusOK {
		t.Fatalf("pay: %d %s", rec.Code, rec.Body)
	}
	now = now.Add(time.Minute)
	rec = patchStatus(h, o.ID, "shipped")
	if rec.Code != http.StatusOK {
		t.Fatalf("ship: %d %s", rec.Code, rec.Body)
	}
	_ = json.Unmarshal(rec.Body.Bytes(), &o)
	var history []string
	for _, c := range o.StatusHistory {
		history = append(history, string(c.Status)+"@"+c.At.Format("15:04"))
	}
	if got := strings.Join(history, " "); got != "pending@12:00 paid@12:01 shipped@12:02" || o.Version != 3 || rec.Header().Get("ETag") != o.ETag() {
		t.Fatalf("history %s, version %d", got, o.Version)
	}

	// The item's later price and its deletion leave the order as it was.
	serve(h, "PATCH", "/v1/items/"+item.ID, `{"price":9999}`, "Content-Type", "application/merge-patch+json")
	if rec := serve(h, "DELETE", "/v1/items/"+item.ID, ""); rec.Code != http.StatusNoContent {
		t.Fatalf("delete the ordered item: %d %s (orders keep their own price; deleting is allowed)", rec.Code, rec.Body)
	}
	rec = serve(h, "GET", "/v1/orders/"+o.ID, "")
	var after models.Order
	_ = json.Unmarshal(rec.Body.Bytes(), &after)
	if rec.Code != http.StatusOK || after.UnitPrice != 1250 || after.Total != 3750 || after.ItemID != item.ID {
		t.Fatalf("order after its item changed and went: %d %s", rec.Code, rec.Body)
	}
}

// TestOrderBadInput: each bad request is a problem+json with its status,
// writes nothing and leaves no 500 in the log.
func TestOrderBadInput(t *testing.T) {
	h, logs := newHandler(t, operations.Options{}, nil)
	item := createdItem(t, h, `{"name":"Cup","price":1250,"currency":"EUR"}`)
	dear := createdItem(t, h, `{"name":"Dear","price":9007199254740991,"currency":"EUR"}`)
	o := createdOrder(t, h, item.ID, 1)
	shipped := createdOrder(t, h, item.ID, 1)
	for _, s := range []string{"paid", "shipped"} {
		if rec := patchStatus(h, shipped.ID, s); rec.Code != http.StatusOK {
			t.Fatal(rec.Body)
		}
	}
	itemsCursor := nextCursor(t, h, "/v1/items?limit=1")
	ordersCursor := nextCursor(t, h, "/v1/orders?limit=1")
	merge := []string{"Content-Type", "application/merge-patch+json"}

	for _, c := range []struct {
		name, method, target, body string
		headers                    []string
		status                     int
		location, says             string // a field error at location, or a detail containing says
	}{
		{"unknown item", "POST", "/v1/orders", `{"item_id":"01ARZ3NDEKTSV4RRFFQ69G5FAV","quantity":1}`, nil, 422, "body.item_id", ""},
		{"quantity 0", "POST", "/v1/orders", `{"item_id":"` + item.ID + `","quantity":0}`, nil, 422, "body.quantity", ""},
		{"quantity 1001", "POST", "/v1/orders", `{"item_id":"` + item.ID + `","quantity":1001}`, nil, 422, "body.quantity", ""},
		{"created paid", "POST", "/v1/orders", `{"item_id":"` + item.ID + `","quantity":1,"status":"paid"}`, nil, 422, "body.status", ""},
		{"total above 2^53-1", "POST", "/v1/orders", `{"item_id":"` + dear.ID + `","quantity":2}`, nil, 422, "body.quantity", ""},
		{"unknown member", "POST", "/v1/orders", `{"item_id":"` + item.ID + `","quantity":1,"price":1}`, nil, 422, "body.price", ""},
		{"case-variant member", "POST", "/v1/orders", `{"item_id":"` + item.ID + `","Quantity":1,"quantity":1}`, nil, 422, "body.Quantity", ""},
		{"pending to shipped", "PATCH", "/v1/orders/" + o.ID, `{"status":"shipped"}`, merge, 409, "", "from pending to shipped"},
		{"shipped to cancelled", "PATCH", "/v1/orders/" + shipped.ID, `{"status":"cancelled"}`, merge, 409, "", "from shipped to cancelled"},
		{"stale If-Match", "PATCH", "/v1/orders/" + o.ID, `{"status":"paid"}`, append([]string{"If-Match", `"` + o.ID + `.7"`}, merge...), 412, "header.If-Match", ""},
		{"patch another member", "PATCH", "/v1/orders/" + o.ID, `{"quantity":5}`, merge, 422, "body.quantity", ""},
		{"unknown status", "PATCH", "/v1/orders/" + o.ID, `{"status":"lost"}`, merge, 422, "body.status", ""},
		{"items cursor on orders", "GET", "/v1/orders?cursor=" + url.QueryEscape(itemsCursor), "", nil, 400, "query.cursor", ""},
		{"orders cursor on items", "GET", "/v1/items?cursor=" + url.QueryEscape(ordersCursor), "", nil, 400, "query.cursor", ""},
		{"cursor with another filter", "GET", "/v1/orders?status=paid&cursor=" + url.QueryEscape(ordersCursor), "", nil, 400, "query.cursor", ""},
		{"forged cursor", "GET", "/v1/orders?cursor=MS5hYmMuMDFKRFE4WjZNM040UDVRNlI3UzhUOVYwV1g.5xk2bPq0s1c3uE7uWQvZ9g", "", nil, 400, "query.cursor", ""},
		{"order id not a ULID", "GET", "/v1/orders/not-an-id", "", nil, 422, "path.id", ""},
		{"unknown order", "GET", "/v1/orders/01ARZ3NDEKTSV4RRFFQ69G5FAV", "", nil, 404, "", "No order has this id."},
		{"unknown item_id filter", "GET", "/v1/orders?item_id=nope", "", nil, 422, "query.item_id", ""},
		{"unknown status filter", "GET", "/v1/orders?status=lost", "", nil, 422, "query.status", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := allOrders(t, h)
			rec := serve(h, c.method, c.target, c.body, c.headers...)
			if rec.Code != c.status || rec.Header().Get("Content-Type") != "application/problem+json" {
				t.Fatalf("%d %s: %s", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
			}
			if c.location != "" && !errorAt(t, rec, c.location) {
				t.Errorf("no error at %s: %s", c.location, rec.Body)
			}
			if c.says != "" && !strings.Contains(rec.Body.String(), c.says) {
				t.Errorf("the problem does not say %q: %s", c.says, rec.Body)
			}
			if after := allOrders(t, h); after != before {
				t.Errorf("orders changed:\n%s\n%s", before, after)
			}
		})
	}
	if strings.Contains(logs.String(), `"status":500`) {
		t.Errorf("a 500 in the log:\n%s", logs)
	}
}

// errorAt reports whether the problem in rec has a field error at location.
func errorAt(t *testing.T, rec *httptest.ResponseRecorder, location string) bool {
	t.Helper()
	for _, d := range decode[huma.ErrorModel](t, rec).Errors {
		if d.Location == location {
			return true
		}
	}
	return false
}

// nextCursor is the next_cursor of the page at target.
func nextCursor(t *testing.T, h http.Handler, target string) string {
	t.Helper()
	rec := serve(h, "GET", target, "")
	var page struct {
		NextCursor string `json:"next_cursor"`
	}
	_ = json.Unmarshal(rec.Body.Bytes(), &page)
	if page.NextCursor == "" {
		t.Fatalf("%s has no next page: %s", target, rec.Body)
	}
	return page.NextCursor
}

// allOrders is every order as the API lists it, to compare before and after.
func allOrders(t *testing.T, h http.Handler) string {
	t.Helper()
	rec := serve(h, "GET", "/v1/orders?limit=100", "")
	if rec.Code != http.StatusOK {
		t.Fatalf("list: %d %s", rec.Code, rec.Body)
	}
	return rec.Body.String()
}

// TestOrderListFilters: pages of orders by item and by status, the Link
// carrying the filters, and the cursor working only with them.
func TestOrderListFilters(t *testing.T) {
	h, _ := newHandler(t, operations.Options{}, nil)
	a := createdItem(t, h, `{"name":"A","price":100,"currency":"EUR"}`)
	b := createdItem(t, h, `{"name":"B","price":200,"currency":"USD"}`)
	var want []string
	for i := range 5 {
		createdOrder(t, h, b.ID, 1)
		o := createdOrder(t, h, a.ID, i+1)
		if i%2 == 0 {
			patchStatus(h, o.ID, "paid")
			want = append(want, o.ID)
		}
	}
	var got []string
	target := "/v1/orders?limit=2&item_id=" + a.ID + "&status=paid"
	for pages := 0; target != ""; pages++ {
		if pages > 5 {
			t.Fatal("the listing does not end")
		}
		rec := serve(h, "GET", target, "")
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: %d %s", target, rec.Code, rec.Body)
		}
		var page orderPage
		_ = json.Unmarshal(rec.Body.Bytes(), &page)
		for _, o := range page.Orders {
			if o.ItemID != a.ID || o.Status != models.OrderPaid {
				t.Errorf("%s listed %+v", target, o)
			}
			got = append(got, o.ID)
		}
		target = ""
		if link := nextLink(rec.Header()); link != "" {
			target = strings.TrimSuffix(strings.TrimPrefix(link, "<"), `>; rel="next"`)
			if !strings.Contains(target, "item_id="+a.ID) || !strings.Contains(target, "status=paid") {
				t.Errorf("Link without the filters: %s", link)
			}
		}
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("paid orders of a: %v, want %v", got, want)
	}
}

// TestOrderIdempotency: a keyed create replays its first order, refuses the
// key with another body, and a key used on items is apart from orders.
func TestOrderIdempotency(t *testing.T) {
	h, _ := newHandler(t, operations.Options{}, nil)
	item := createdItem(t, h, `{"name":"Cup","price":1250,"currency":"EUR"}`)
	if rec := serve(h, "POST", "/v1/items", `{"name":"Keyed","price":1,"currency":"EUR"}`, "Idempotency-Key", "k-1"); rec.Code != http.StatusCreated {
		t.Fatal(rec.Body)
	}
	first := createdOrder(t, h, item.ID, 2, "Idempotency-Key", "k-1")
	rec := serve(h, "POST", "/v1/orders", `{"item_id":"`+item.ID+`","quantity":2}`, "Idempotency-Key", "k-1")
	var again models.Order
	_ = json.Unmarshal(rec.Body.Bytes(), &again)
	if rec.Code != http.StatusCreated || rec.Header().Get("Idempotent-Replayed") != "true" || again.ID != first.ID {
		t.Fatalf("replay: %d %v %s", rec.Code, rec.Header(), rec.Body)
	}
	rec = serve(h, "POST", "/v1/orders", `{"item_id":"`+item.ID+`","quantity":3}`, "Idempotency-Key", "k-1")
	if rec.Code != http.StatusUnprocessableEntity || !problemAt(t, rec, "header.Idempotency-Key", "") {
		t.Fatalf("key with another body: %d %s", rec.Code, rec.Body)
	}
	// The item deleted, the same request with the key still answers the
	// first order; a new key gets the 422 of an unknown item.
	if rec := serve(h, "DELETE", "/v1/items/"+item.ID, ""); rec.Code != http.StatusNoContent {
		t.Fatal(rec.Body)
	}
	rec = serve(h, "POST", "/v1/orders", `{"item_id":"`+item.ID+`","quantity":2}`, "Idempotency-Key", "k-1")
	_ = json.Unmarshal(rec.Body.Bytes(), &again)
	if rec.Code != http.StatusCreated || rec.Header().Get("Idempotent-Replayed") != "true" || again.ID != first.ID {
		t.Fatalf("replay after the item was deleted: %d %s", rec.Code, rec.Body)
	}
	rec = serve(h, "POST", "/v1/orders", `{"item_id":"`+item.ID+`","quantity":2}`, "Idempotency-Key", "k-2")
	if rec.Code != http.StatusUnprocessableEntity || !problemAt(t, rec, "body.item_id", "no item") {
		t.Fatalf("new key, deleted item: %d %s", rec.Code, rec.Body)
	}
}

// TestStoresChooseRoutes: a store that holds items only gets no order
// routes, and one with no store at all still serves the service routes.
func TestStoresChooseRoutes(t *testing.T) {
	itemsOnly, _ := operations.New(operations.Options{}, operations.Stores{Items: memory.New()})
	if rec := serve(itemsOnly, "GET", "/v1/orders", ""); rec.Code != http.StatusNotFound {
		t.Errorf("orders without an order store: %d", rec.Code)
	}
	if rec := serve(itemsOnly, "GET", "/v1/items", ""); rec.Code != http.StatusOK {
		t.Errorf("items: %d", rec.Code)
	}
	if rec := serve(itemsOnly, "GET", "/", ""); strings.Contains(rec.Body.String(), "/v1/orders") || !strings.Contains(rec.Body.String(), "/v1/items") {
		t.Errorf("GET / links what is not served, or not what is: %s", rec.Body)
	}
	none, _ := operations.New(operations.Options{}, operations.Stores{})
	if rec := serve(none, "GET", "/readyz", ""); rec.Code != http.StatusOK {
		t.Errorf("readyz with no store: %d", rec.Code)
	}
}

// Order operations, failing as a store in trouble does and as a store that
// finds every new id taken (see provoke).
func (s failingStore) CreateOrder(context.Context, models.Order, int64, *models.Idempotency) (models.Order, bool, error) {
	return models.Order{}, false, s.err
}
func (s failingStore) GetOrder(context.Context, string) (models.Order, error) {
	return models.Order{}, s.err
}
func (s failingStore) ListOrders(context.Context, models.OrderQuery) (models.Page[models.Order], error) {
	return models.Page[models.Order]{}, s.err
}
func (s failingStore) UpdateOrder(context.Context, models.Order, int64) (models.Order, error) {
	return models.Order{}, s.err
}

func (conflictingStore) CreateOrder(context.Context, models.Order, int64, *models.Idempotency) (models.Order, bool, error) {
	return models.Order{}, false, models.ErrAlreadyExists
}

var _ = probeFor("/v1/orders", func(t *testing.T, h http.Handler) resourceProbe {
	item := createdItem(t, h, validBody)
	order := createdOrder(t, h, item.ID, 2)
	return resourceProbe{
		id: order.ID,
		valid: map[string]string{
			http.MethodPost:  `{"item_id":"` + item.ID + `","quantity":2}`,
			http.MethodPatch: `{"status":"paid"}`,
		},
		invalid: map[string]string{
			http.MethodPost:  `{"item_id":"01JDQ8Z6M3N4P5Q6R7S8T9V0WX","quantity":0,"status":"paid"}`,
			http.MethodPatch: `{"status":"lost"}`,
		},
		conflict: map[string]string{http.MethodPatch: `{"status":"shipped"}`}, // not from pending
	}
})

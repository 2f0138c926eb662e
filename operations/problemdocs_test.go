package operations_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/danielgtaylor/huma/v2"

	"github.com/typedapi/typedapi/models"
	"github.com/typedapi/typedapi/operations"
	"github.com/typedapi/typedapi/store/memory"
)

// failingStore fails every call with err, as a store in trouble does.
type failingStore struct {
	*memory.Store
	err error
}

func (s failingStore) Create(context.Context, models.Item, *models.Idempotency) (models.Item, bool, error) {
	return models.Item{}, false, s.err
}
func (s failingStore) Get(context.Context, string) (models.Item, error) { return models.Item{}, s.err }
func (s failingStore) List(context.Context, models.ListQuery) (models.ListPage, error) {
	return models.ListPage{}, s.err
}
func (s failingStore) Update(context.Context, models.Item, int64) (models.Item, error) {
	return models.Item{}, s.err
}
func (s failingStore) Delete(context.Context, string, int64) error { return s.err }
func (s failingStore) Ping(context.Context) error                  { return s.err }
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

// conflictingStore finds every new id taken and loses every update race.
type conflictingStore struct{ *memory.Store }

func (conflictingStore) Create(context.Context, models.Item, *models.Idempotency) (models.Item, bool, error) {
	return models.Item{}, false, models.ErrAlreadyExists
}
func (conflictingStore) CreateOrder(context.Context, models.Order, int64, *models.Idempotency) (models.Order, bool, error) {
	return models.Order{}, false, models.ErrAlreadyExists
}
func (conflictingStore) Update(context.Context, models.Item, int64) (models.Item, error) {
	return models.Item{}, models.ErrVersionConflict
}

// provoke sends method path, made to fail with status the way a client or
// a store would make it fail; false when this operation cannot be made to
// answer status (a route that uses no store has no 500 to provoke).
func provoke(t *testing.T, method, path string, status int) (*httptest.ResponseRecorder, bool) {
	t.Helper()
	mem := memory.New()
	setup, _ := newHandler(t, operations.Options{}, mem)
	created := serve(setup, "POST", "/v1/items", validBody)
	id := strings.TrimPrefix(created.Header().Get("Location"), "/v1/items/")
	// What a valid body is, and one that fails validation, per operation.
	valid, invalid := validBody, `{"name":"","price":1250,"currency":"XYZ"}`
	if strings.HasPrefix(path, "/v1/orders") {
		valid = `{"item_id":"` + id + `","quantity":2}`
		created = serve(setup, "POST", "/v1/orders", valid)
		id = strings.TrimPrefix(created.Header().Get("Location"), "/v1/orders/")
		invalid = `{"item_id":"01JDQ8Z6M3N4P5Q6R7S8T9V0WX","quantity":0,"status":"paid"}`
		if method == http.MethodPatch {
			valid, invalid = `{"status":"paid"}`, `{"status":"lost"}`
		}
	}
	target := strings.Replace(path, "{id}", id, 1)
	body := ""
	if method == http.MethodPost || method == http.MethodPut || method == http.MethodPatch {
		body = valid
	}
	var headers []string
	var store any = mem
	usesStore := strings.HasPrefix(path, "/v1/items") || strings.HasPrefix(path, "/v1/orders") || path == "/readyz"
	switch status {
	case http.StatusBadRequest:
		if body != "" {
			body = `{"name":`
		} else {
			target += "?cursor=zzz"
		}
	case http.StatusNotFound:
		target = strings.Replace(path, "{id}", "01ARZ3NDEKTSV4RRFFQ69G5FAV", 1)
	case http.StatusConflict:
		store = conflictingStore{mem}
		if method == http.MethodPatch && strings.HasPrefix(path, "/v1/orders") {
			store, body = mem, `{"status":"shipped"}` // not from pending
		}
	case http.StatusPreconditionFailed:
		headers = []string{"If-Match", `"` + id + `.9"`}
	case http.StatusRequestEntityTooLarge:
		body = strings.Repeat(" ", 1<<20+1) // one byte over the default body_limit
	case http.StatusUnsupportedMediaType:
		headers = []string{"Content-Type", "text/plain"}
	case http.StatusUnprocessableEntity:
		switch {
		case body != "":
			body = invalid
		case strings.Contains(path, "{id}"):
			target = strings.Replace(path, "{id}", "bad", 1)
		default:
			target += "?limit=101"
		}
	case http.StatusInternalServerError:
		store = failingStore{mem, errors.New("the disk is on fire")}
	case http.StatusServiceUnavailable:
		store = failingStore{mem, models.ErrUnavailable}
	case http.StatusGatewayTimeout:
		store = failingStore{mem, context.DeadlineExceeded}
	default:
		return nil, false
	}
	if store != any(mem) && !usesStore {
		return nil, false
	}
	if status == http.StatusInternalServerError && path == "/readyz" {
		return nil, false // readiness answers any store failure with 503
	}
	h, _ := newHandler(t, operations.Options{}, store)
	return serve(h, method, target, body, headers...), true
}

// TestProblemDocsAreRealAnswers: every example problem in the document is
// what the server answers when that operation fails with that status:
// title, status, detail and field errors. Each documented status is
// provoked at least once.
func TestProblemDocsAreRealAnswers(t *testing.T) {
	_, api := operations.New(operations.Options{}, operations.StoresOf(memory.New()))
	provoked := map[int]bool{}
	documented := map[int]bool{}
	for path, item := range api.OpenAPI().Paths {
		for method, op := range map[string]*huma.Operation{"GET": item.Get, "POST": item.Post, "PUT": item.Put, "PATCH": item.Patch, "DELETE": item.Delete} {
			if op == nil {
				continue
			}
			for code, resp := range op.Responses {
				status, err := strconv.Atoi(code)
				if code == "default" {
					status, err = http.StatusInternalServerError, nil
				}
				mt := resp.Content["application/problem+json"]
				if err != nil || status < 400 || mt == nil {
					continue
				}
				if mt.Example == nil {
					t.Errorf("%s %s: %s has no example", method, path, code)
					continue
				}
				documented[status] = true
				t.Run(op.OperationID+"/"+code, func(t *testing.T) {
					rec, ok := provoke(t, method, path, status)
					if !ok {
						t.Skipf("%s cannot be made to answer %d", op.OperationID, status)
					}
					provoked[status] = true
					if rec.Code != status {
						t.Fatalf("provoked %d, want %d: %s", rec.Code, status, rec.Body)
					}
					var got map[string]any
					if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
						t.Fatal(err)
					}
					delete(got, "$schema") // a link to where the server runs
					want := mt.Example
					b, _ := json.Marshal(want) // as a client reads the document
					_ = json.Unmarshal(b, &want)
					if !reflect.DeepEqual(got, want) {
						t.Errorf("the server answers\n%s\nthe document shows\n%s", rec.Body, b)
					}
				})
			}
		}
	}
	for status := range documented {
		if !provoked[status] {
			t.Errorf("%d is documented, but no test request provokes it", status)
		}
	}
}

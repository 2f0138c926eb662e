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
	"time"

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

// conflictingStore finds every new id taken and loses every update race.
type conflictingStore struct{ *memory.Store }

func (conflictingStore) Create(context.Context, models.Item, *models.Idempotency) (models.Item, bool, error) {
	return models.Item{}, false, models.ErrAlreadyExists
}
func (conflictingStore) Update(context.Context, models.Item, int64) (models.Item, error) {
	return models.Item{}, models.ErrVersionConflict
}

// A resourceProbe is what provoking the operations of one collection
// needs, made on a fresh handler: the id of a resource that exists, and per
// method ("" for any) a valid body, one that fails validation, and one that
// makes the real store answer 409 (without it, conflictingStore does).
type resourceProbe struct {
	id                       string
	valid, invalid, conflict map[string]string
}

// probes are the resourceProbe makers by collection path, each declared in
// its resource's test file (probeFor), so a new resource adds its own.
var probes = map[string]func(t *testing.T, h http.Handler) resourceProbe{}

func probeFor(collection string, probe func(t *testing.T, h http.Handler) resourceProbe) bool {
	probes[collection] = probe
	return true
}

// forMethod is m's entry for method, or its entry for any method.
func forMethod(m map[string]string, method string) string {
	if v, ok := m[method]; ok {
		return v
	}
	return m[""]
}

// provoke sends method path, made to fail with status the way a client or
// a store would make it fail; false when this operation cannot be made to
// answer status (a route that uses no store has no 500 to provoke).
func provoke(t *testing.T, method, path string, status int) (*httptest.ResponseRecorder, bool) {
	t.Helper()
	mem := memory.New()
	setup, _ := newHandler(t, operations.Options{}, mem)
	var p resourceProbe
	collection, _, _ := strings.Cut(strings.TrimPrefix(path, "/v1/"), "/")
	probe, usesStore := probes["/v1/"+collection]
	if usesStore {
		p = probe(t, setup)
	}
	target := strings.Replace(path, "{id}", p.id, 1)
	body := ""
	if method == http.MethodPost || method == http.MethodPut || method == http.MethodPatch {
		body = forMethod(p.valid, method)
	}
	var headers []string
	if method == http.MethodPatch {
		headers = []string{"Content-Type", "application/merge-patch+json"} // the one type a PATCH takes
	}
	var store any = mem
	usesStore = usesStore || path == "/readyz"
	// The caller: the staff (who made what the probe made), unless the
	// status is about the credentials.
	credentials := as(staffToken)
	// An event stream that begins (the first request of the 429 case)
	// ends at once.
	opts := operations.Options{Auth: newFakeAuth(), EventsMaxDuration: time.Millisecond}
	switch status {
	case http.StatusTooManyRequests:
		// A burst of one, refilled in a thousand seconds: the first
		// request passes, the second is refused.
		opts.RateLimit, opts.RateBurst = 0.001, 1
		h, _ := newHandler(t, opts, store)
		request(h, method, target, body, append(headers, credentials...)...)
		return request(h, method, target, body, append(headers, credentials...)...), true
	case http.StatusBadRequest:
		switch {
		case body != "":
			body = `{"name":`
		case method == http.MethodGet && strings.Count(path, "/") == 2 && strings.HasPrefix(path, "/v1/"): // a listing
			target += "?cursor=zzz"
		case method == http.MethodDelete || strings.HasPrefix(path, "/v1/orders/"): // protected, no body, no cursor: the credentials
			credentials = append(credentials, as(aliceToken)...)
		default:
			headers = append(headers, "X-Request-Id", strings.Repeat("r", 129))
		}
	case http.StatusUnauthorized:
		credentials = nil
	case http.StatusForbidden:
		credentials = as(ownerToken) // the owner of what the probe made, without any scope
	case http.StatusNotFound:
		target = strings.Replace(path, "{id}", "01ARZ3NDEKTSV4RRFFQ69G5FAV", 1)
	case http.StatusConflict:
		store = conflictingStore{mem}
		if conflict := forMethod(p.conflict, method); conflict != "" {
			store, body = mem, conflict
		}
	case http.StatusPreconditionFailed:
		headers = append(headers, "If-Match", `"`+p.id+`.9"`)
	case http.StatusRequestEntityTooLarge:
		body = strings.Repeat(" ", 1<<20+1) // one byte over the default body_limit
	case http.StatusUnsupportedMediaType:
		headers = []string{"Content-Type", "text/plain"}
	case http.StatusUnprocessableEntity:
		switch {
		case body != "":
			body = forMethod(p.invalid, method)
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
	h, _ := newHandler(t, opts, store)
	return request(h, method, target, body, append(headers, credentials...)...), true
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
					// The challenge is documented as sent: always with 401 and
					// 403, and with a 400 when the credentials were at fault.
					challenge := rec.Header().Get("WWW-Authenticate")
					documented := resp.Headers["WWW-Authenticate"]
					switch {
					case challenge != "" && (documented == nil || documented.Example != challenge):
						t.Errorf("the server sends WWW-Authenticate %q, the document shows %+v", challenge, documented)
					case challenge == "" && (status == http.StatusUnauthorized || status == http.StatusForbidden):
						t.Errorf("%d without WWW-Authenticate", status)
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

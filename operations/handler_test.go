package operations_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/typedapi/typedapi/internal/auth"
	"github.com/typedapi/typedapi/internal/logsink"
	"github.com/typedapi/typedapi/models"
	"github.com/typedapi/typedapi/operations"
	"github.com/typedapi/typedapi/store/memory"
)

// faultyStore lets a test decide what Get does; the rest is a memory store.
type faultyStore struct {
	*memory.Store
	get func(ctx context.Context, id string) (models.Item, error)
}

func (s faultyStore) Get(ctx context.Context, id string) (models.Item, error) {
	if s.get != nil {
		return s.get(ctx, id)
	}
	return s.Store.Get(ctx, id)
}

// syncBuffer is the server's log output, read by the test as it runs.
type syncBuffer struct{ logsink.Buffer }

// logLines parses the JSON log lines written so far.
func (s *syncBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(s.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", l)
		}
		out = append(out, m)
	}
	return out
}

// staffCaller may do everything: the caller of every test request that
// is not about authentication (newHandler's default).
var staffCaller = auth.Caller{Subject: "staff-1", Scopes: operations.Scopes}

// newHandler builds the API on store (nil: a new memory store). Without
// opts.Auth every request is made by staffCaller; the tests of
// authentication itself set their own (security_test.go), and
// newHandlerAs keeps it as given.
func newHandler(t *testing.T, opts operations.Options, store any) (http.Handler, *syncBuffer) {
	t.Helper()
	if opts.Auth == nil {
		opts.Auth = auth.Off{Caller: staffCaller}
	}
	return newHandlerAs(t, opts, store)
}

// newHandlerAs is newHandler with opts.Auth as given, nil included.
func newHandlerAs(t *testing.T, opts operations.Options, store any) (http.Handler, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	opts.Logger = slog.New(slog.NewJSONHandler(logs, nil))
	prev := slog.Default()
	slog.SetDefault(opts.Logger) // the 500 path logs through the default logger
	t.Cleanup(func() { slog.SetDefault(prev) })
	if store == nil {
		store = memory.New()
	}
	h, _ := operations.New(opts, operations.StoresOf(store))
	return h, logs
}

func serve(h http.Handler, method, target string, body string, headers ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", bodyType(method))
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// bodyType is the media type a client sends a body of method as: a PATCH
// is a merge patch.
func bodyType(method string) string {
	if method == http.MethodPatch {
		return "application/merge-patch+json"
	}
	return "application/json"
}

const validBody = `{"name":"Cup","price":1250,"currency":"EUR"}`

func TestPanicIsRecovered(t *testing.T) {
	store := faultyStore{Store: memory.New(), get: func(context.Context, string) (models.Item, error) {
		panic("secret internal state: db password hunter2")
	}}
	h, logs := newHandler(t, operations.Options{}, store)
	rec := serve(h, "GET", "/v1/items/01ARZ3NDEKTSV4RRFFQ69G5FAV", "", "X-Request-Id", "req-panic-1")
	if rec.Code != 500 || rec.Header().Get("Content-Type") != "application/problem+json" {
		t.Fatalf("panic answered %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	if strings.Contains(rec.Body.String(), "hunter2") || strings.Contains(rec.Body.String(), "goroutine") {
		t.Errorf("500 leaks internals: %s", rec.Body)
	}
	logged := logs.String()
	if !strings.Contains(logged, "hunter2") || !strings.Contains(logged, "req-panic-1") || !strings.Contains(logged, "goroutine") {
		t.Errorf("panic log lacks cause, request id or stack: %s", logged)
	}
	// The handler keeps serving.
	if rec := serve(h, "GET", "/healthz", ""); rec.Code != 200 {
		t.Errorf("after panic: %d", rec.Code)
	}
}

func TestStoreFailuresMapToProblems(t *testing.T) {
	cases := []struct {
		name       string
		err        error
		status     int
		retryAfter bool
		leak       string
	}{
		{"unavailable", fmt.Errorf("dynamodb: ThrottlingException: rate exceeded: %w", models.ErrUnavailable), 503, true, "ThrottlingException"},
		{"deadline", fmt.Errorf("operation error DynamoDB: GetItem: %w", context.DeadlineExceeded), 504, false, "GetItem"},
		{"unknown", errors.New("arn:aws:dynamodb:eu-west-1:123456789012:table/items AccessDenied"), 500, false, "123456789012"},
		{"already exists", fmt.Errorf("ConditionalCheckFailed on ITEM#x in table-secret-name: %w", models.ErrAlreadyExists), 409, false, "table-secret-name"},
		{"version conflict", fmt.Errorf("ConditionalCheckFailed in table-secret-name: %w", models.ErrVersionConflict), 412, false, "table-secret-name"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			store := faultyStore{Store: memory.New(), get: func(context.Context, string) (models.Item, error) { return models.Item{}, c.err }}
			h, logs := newHandler(t, operations.Options{}, store)
			rec := serve(h, "GET", "/v1/items/01ARZ3NDEKTSV4RRFFQ69G5FAV", "", "X-Request-Id", "req-"+strings.ReplaceAll(c.name, " ", "-"))
			if rec.Code != c.status || rec.Header().Get("Content-Type") != "application/problem+json" {
				t.Fatalf("%d %q: %s", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
			}
			if got := rec.Header().Get("Retry-After") != ""; got != c.retryAfter {
				t.Errorf("Retry-After present=%v", got)
			}
			if strings.Contains(rec.Body.String(), c.leak) {
				t.Errorf("body leaks %q: %s", c.leak, rec.Body)
			}
			if c.status >= 500 && (!strings.Contains(logs.String(), c.leak) || !strings.Contains(logs.String(), "req-"+c.name)) {
				t.Errorf("cause or request id not logged: %s", logs)
			}
		})
	}
}

func TestDeadlineReachesStore(t *testing.T) {
	store := faultyStore{Store: memory.New(), get: func(ctx context.Context, _ string) (models.Item, error) {
		<-ctx.Done() // a store call that outlives the request's deadline
		return models.Item{}, ctx.Err()
	}}
	h, _ := newHandler(t, operations.Options{}, store)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req := httptest.NewRequest("GET", "/v1/items/01ARZ3NDEKTSV4RRFFQ69G5FAV", nil).WithContext(ctx)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusGatewayTimeout || rec.Header().Get("Content-Type") != "application/problem+json" {
		t.Errorf("deadline: %d %s", rec.Code, rec.Body)
	}
}

func TestReadyzReportsStore(t *testing.T) {
	h, _ := newHandler(t, operations.Options{}, downStore{memory.New()})
	rec := serve(h, "GET", "/readyz", "")
	if rec.Code != 503 || rec.Header().Get("Content-Type") != "application/problem+json" || strings.Contains(rec.Body.String(), "connection refused") {
		t.Errorf("readyz with a down store: %d %s", rec.Code, rec.Body)
	}
	if rec := serve(h, "GET", "/healthz", ""); rec.Code != 200 {
		t.Errorf("healthz must not depend on the store: %d", rec.Code)
	}
}

type downStore struct{ *memory.Store }

func (downStore) Ping(context.Context) error {
	return fmt.Errorf("dial tcp 127.0.0.1:1: connection refused: %w", models.ErrUnavailable)
}

func TestRequestIDAndAccessLog(t *testing.T) {
	h, logs := newHandler(t, operations.Options{}, nil)

	rec := serve(h, "POST", "/v1/items", validBody, "X-Request-Id", "client-id-42")
	if rec.Header().Get("X-Request-Id") != "client-id-42" {
		t.Errorf("sane id not echoed: %q", rec.Header().Get("X-Request-Id"))
	}
	for _, bad := range []string{"has space", strings.Repeat("x", 129), "new\nline", `"quoted"`} {
		rec := serve(h, "GET", "/healthz", "", "X-Request-Id", bad)
		got := rec.Header().Get("X-Request-Id")
		if got == bad || len(got) != 32 {
			t.Errorf("insane id %q replaced by %q", bad, got)
		}
	}
	if got := serve(h, "GET", "/healthz", "").Header().Get("X-Request-Id"); len(got) != 32 {
		t.Errorf("generated id %q", got)
	}

	lines := logs.lines(t)
	var access map[string]any
	for _, l := range lines {
		if l["msg"] == "request" && l["request_id"] == "client-id-42" {
			access = l
		}
	}
	if access == nil {
		t.Fatalf("no access line for the create: %v", lines)
	}
	want := map[string]any{"method": "POST", "path": "/v1/items", "route": "/v1/items", "operation": "create-item", "status": float64(201), "remote_ip": "192.0.2.1"}
	for k, v := range want {
		if access[k] != v {
			t.Errorf("access line %s = %v, want %v", k, access[k], v)
		}
	}
	if _, ok := access["duration_ms"].(float64); !ok {
		t.Errorf("duration_ms missing: %v", access)
	}
	// Requests no operation takes still get a line with their status.
	serve(h, "GET", "/nowhere", "", "X-Request-Id", "lost-1")
	found := false
	for _, l := range logs.lines(t) {
		if l["request_id"] == "lost-1" && l["status"] == float64(404) && l["operation"] == "" {
			found = true
		}
	}
	if !found {
		t.Errorf("no access line for a 404")
	}
}

func TestSecurityHeaders(t *testing.T) {
	h, _ := newHandler(t, operations.Options{}, nil)
	for _, p := range []string{"/v1/items", "/nowhere", "/docs"} {
		rec := serve(h, "GET", p, "")
		if rec.Header().Get("X-Content-Type-Options") != "nosniff" || rec.Header().Get("Content-Security-Policy") == "" {
			t.Errorf("%s: missing security headers %v", p, rec.Header())
		}
		if rec.Header().Get("Server") != "" {
			t.Errorf("%s: Server banner", p)
		}
	}
	if cc := serve(h, "GET", "/v1/items", "").Header().Get("Cache-Control"); cc != "no-store" {
		t.Errorf("API Cache-Control %q", cc)
	}
	if cc := serve(h, "GET", "/docs/swagger-ui.css", "").Header().Get("Cache-Control"); !strings.Contains(cc, "max-age") {
		t.Errorf("docs asset Cache-Control %q", cc)
	}
}

func TestCORS(t *testing.T) {
	closed, _ := newHandler(t, operations.Options{}, nil)
	if rec := serve(closed, "GET", "/v1/items", "", "Origin", "https://app.example.com"); rec.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("CORS must be off by default")
	}
	h, _ := newHandler(t, operations.Options{CORSOrigins: []string{"https://app.example.com"}}, nil)
	rec := serve(h, "GET", "/v1/items", "", "Origin", "https://app.example.com")
	if rec.Header().Get("Access-Control-Allow-Origin") != "https://app.example.com" || !strings.Contains(rec.Header().Get("Access-Control-Expose-Headers"), "ETag") {
		t.Errorf("allowed origin: %v", rec.Header())
	}
	if rec := serve(h, "GET", "/v1/items", "", "Origin", "https://evil.example.com"); rec.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("other origin allowed")
	}
	rec = serve(h, "OPTIONS", "/v1/items/01ARZ3NDEKTSV4RRFFQ69G5FAV", "", "Origin", "https://app.example.com", "Access-Control-Request-Method", "PATCH")
	if rec.Code != 204 || !strings.Contains(rec.Header().Get("Access-Control-Allow-Methods"), "PATCH") || !strings.Contains(rec.Header().Get("Access-Control-Allow-Headers"), "If-Match") ||
		!strings.Contains(rec.Header().Get("Access-Control-Allow-Headers"), "Last-Event-ID") {
		t.Errorf("preflight: %d %v", rec.Code, rec.Header())
	}
	if rec := serve(h, "OPTIONS", "/v1/items", "", "Origin", "https://evil.example.com", "Access-Control-Request-Method", "POST"); rec.Code != 405 || rec.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("preflight from another origin: %d %v", rec.Code, rec.Header())
	}
}

func TestBasePath(t *testing.T) {
	h, _ := newHandler(t, operations.Options{BasePath: "/shop"}, nil)
	rec := serve(h, "POST", "/shop/v1/items", validBody)
	if rec.Code != 201 || !strings.HasPrefix(rec.Header().Get("Location"), "/shop/v1/items/") {
		t.Fatalf("create under base path: %d Location %q", rec.Code, rec.Header().Get("Location"))
	}
	if rec := serve(h, "GET", rec.Header().Get("Location"), ""); rec.Code != 200 {
		t.Errorf("Location does not resolve: %d", rec.Code)
	}
	serve(h, "POST", "/shop/v1/items", validBody)
	rec = serve(h, "GET", "/shop/v1/items?limit=1", "")
	if link := nextLink(rec.Header()); !strings.HasPrefix(link, "</shop/v1/items?") {
		t.Errorf("next link lacks base path: %q", link)
	}
	var info operations.ServiceInfo
	_ = json.Unmarshal(serve(h, "GET", "/shop/", "").Body.Bytes(), &info)
	if info.Links["docs"] != "/shop/docs" {
		t.Errorf("links under base path: %v", info.Links)
	}
	if rec := serve(h, "GET", "/healthz", ""); rec.Code != 200 {
		t.Errorf("unprefixed health check: %d", rec.Code)
	}
	if rec := serve(h, "GET", "/shopping/v1/items", ""); rec.Code != 404 {
		t.Errorf("a longer first segment is not the base path: %d", rec.Code)
	}
}

func TestHeadAndRootExactness(t *testing.T) {
	h, _ := newHandler(t, operations.Options{}, nil)
	rec := serve(h, "HEAD", "/v1/items", "")
	if rec.Code != 200 || rec.Body.Len() != 0 {
		t.Errorf("HEAD: %d body %d bytes", rec.Code, rec.Body.Len())
	}
	// "GET /" must not swallow every unknown path.
	if rec := serve(h, "GET", "/anything/else", ""); rec.Code != 404 || rec.Header().Get("Content-Type") != "application/problem+json" {
		t.Errorf("unknown path: %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
}

// racingStore makes every update lose the race, as if other writers
// always got there first.
type racingStore struct{ *memory.Store }

func (racingStore) Update(context.Context, models.Item, int64) (models.Item, error) {
	return models.Item{}, models.ErrVersionConflict
}

// TestUnconditionalWriteUnderContention: a PUT or PATCH without If-Match
// that keeps losing races is a 409 with Retry-After, never a 412 (the
// client set no precondition) and never a lost write.
func TestUnconditionalWriteUnderContention(t *testing.T) {
	store := racingStore{memory.New()}
	h, _ := newHandler(t, operations.Options{}, store)
	rec := serve(h, "POST", "/v1/items", validBody)
	loc := rec.Header().Get("Location")
	for _, method := range []string{"PUT", "PATCH"} {
		rec := serve(h, method, loc, validBody)
		if rec.Code != 409 || rec.Header().Get("Retry-After") == "" || rec.Header().Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s: %d %v %s", method, rec.Code, rec.Header(), rec.Body)
		}
	}
	rec = serve(h, "PATCH", loc, `{"price":1}`, "If-Match", `"stale.1"`)
	if rec.Code != 412 {
		t.Errorf("conditional PATCH: %d", rec.Code)
	}
}

// A body that breaks while it is read is the client's fault: 400, and it
// says what broke (on Lambda, a body marked base64-encoded that is not).
func TestUnreadableBody(t *testing.T) {
	h, _ := newHandler(t, operations.Options{}, nil)
	for _, c := range []struct {
		name string
		body io.Reader
		says string
	}{
		{"not base64", base64.NewDecoder(base64.StdEncoding, strings.NewReader(`{"name":"!!!`)), "not valid base64"},
		{"cut short", io.MultiReader(strings.NewReader(`{"name":`), iotest.ErrReader(io.ErrUnexpectedEOF)), "ended early"},
	} {
		req := httptest.NewRequest("POST", "/v1/items", c.body)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), c.says) {
			t.Errorf("%s: %d %s", c.name, rec.Code, rec.Body)
		}
	}
}

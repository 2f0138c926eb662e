package operations_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/danielgtaylor/huma/v2"

	"github.com/typedapi/typedapi/internal/auth"
	"github.com/typedapi/typedapi/models"
	"github.com/typedapi/typedapi/operations"
	"github.com/typedapi/typedapi/store/memory"
)

// The tokens the fake verifier knows, and who sends them. The real
// verifier (internal/auth) is tested against a real issuer; here what
// matters is what the operations do with its answers.
const (
	staffToken    = "tok-staff"    // staffCaller: every scope
	aliceToken    = "tok-alice"    // a customer: no scope
	bobToken      = "tok-bob"      // another customer
	writerToken   = "tok-writer"   // may write items, nothing else
	ownerToken    = "tok-owner"    // staffCaller's subject without its scopes: the owner of what the staff made
	invalidToken  = "tok-expired"  // refused: invalid_token
	outageToken   = "tok-outage"   // its keys cannot be fetched: 503
	noSubToken    = "tok-nosub"    // verified, but names no subject
	secretMarker  = "s3cr3t-token" // in a token that must never be repeated back
	malformedAuth = "Basic " + secretMarker
)

var (
	alice  = auth.Caller{Subject: "alice"}
	bob    = auth.Caller{Subject: "bob"}
	writer = auth.Caller{Subject: "writer", Scopes: []string{operations.ScopeItemsWrite}}
)

// fakeAuth is a table-driven Authenticator: "Bearer <token>" → caller or
// error, counting its calls. No header is ErrNoCredentials, two are
// ErrBadRequest, as the contract says.
type fakeAuth struct {
	callers map[string]auth.Caller
	errs    map[string]error
	calls   atomic.Int64
}

func newFakeAuth() *fakeAuth {
	return &fakeAuth{
		callers: map[string]auth.Caller{
			staffToken: staffCaller, aliceToken: alice, bobToken: bob, writerToken: writer,
			ownerToken: {Subject: staffCaller.Subject},
			noSubToken: {Scopes: operations.Scopes},
		},
		errs: map[string]error{
			invalidToken: fmt.Errorf("%w: token expired (%s)", auth.ErrInvalidToken, secretMarker),
			outageToken:  fmt.Errorf("%w: jwks fetch failed", auth.ErrUnavailable),
		},
	}
}

func (f *fakeAuth) Authenticate(_ context.Context, authorization []string) (auth.Caller, error) {
	f.calls.Add(1)
	switch {
	case len(authorization) == 0:
		return auth.Caller{}, auth.ErrNoCredentials
	case len(authorization) > 1:
		return auth.Caller{}, auth.ErrBadRequest
	}
	token, ok := strings.CutPrefix(authorization[0], "Bearer ")
	if !ok {
		return auth.Caller{}, fmt.Errorf("%w: not a bearer token: %s", auth.ErrInvalidToken, authorization[0])
	}
	if c, ok := f.callers[token]; ok {
		return c, nil
	}
	if err, ok := f.errs[token]; ok {
		return auth.Caller{}, err
	}
	return auth.Caller{}, fmt.Errorf("%w: unknown token %s", auth.ErrInvalidToken, token)
}

// as is the header pair that sends token.
func as(token string) []string { return []string{"Authorization", "Bearer " + token} }

// request is serve with Authorization added, not set: it may be repeated.
func request(h http.Handler, method, target, body string, headers ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", bodyType(method))
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i] == "Authorization" {
			req.Header.Add(headers[i], headers[i+1])
		} else {
			req.Header.Set(headers[i], headers[i+1])
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// docOperations are every operation of the document (HEAD included) with
// a request that reaches it: ids filled in, a valid body.
type docOperation struct {
	op           *huma.Operation
	target, body string
	logged       string // the operation the access line names: a HEAD is served by its GET
}

func docOperations(t *testing.T, api huma.API, itemID, orderID string) []docOperation {
	t.Helper()
	var out []docOperation
	for path, pi := range api.OpenAPI().Paths {
		for _, op := range []*huma.Operation{pi.Get, pi.Head, pi.Post, pi.Put, pi.Patch, pi.Delete} {
			if op == nil {
				continue
			}
			target := path
			switch {
			case strings.HasPrefix(path, "/v1/items/"):
				target = strings.Replace(path, "{id}", itemID, 1)
			case strings.HasPrefix(path, "/v1/orders/"):
				target = strings.Replace(path, "{id}", orderID, 1)
			}
			body := ""
			switch {
			case op.Method == http.MethodPost && path == "/v1/items", op.Method == http.MethodPut:
				body = validBody
			case op.Method == http.MethodPost && path == "/v1/orders":
				body = `{"item_id":"` + itemID + `","quantity":1}`
			case op.Method == http.MethodPatch && strings.HasPrefix(path, "/v1/items/"):
				body = `{"price":1}`
			case op.Method == http.MethodPatch:
				body = `{"status":"cancelled"}`
			}
			logged := op.OperationID
			if op.Method == http.MethodHead {
				logged = pi.Get.OperationID
			}
			out = append(out, docOperation{op, target, body, logged})
		}
	}
	slices.SortFunc(out, func(a, b docOperation) int { return strings.Compare(a.op.OperationID, b.op.OperationID) })
	return out
}

// snapshot is everything the store holds, to tell that a refusal wrote
// nothing.
func snapshot(t *testing.T, h http.Handler) string {
	t.Helper()
	var b strings.Builder
	for _, target := range []string{"/v1/items?limit=100", "/v1/orders?limit=100"} {
		rec := request(h, http.MethodGet, target, "", as(staffToken)...)
		if rec.Code != http.StatusOK {
			t.Fatalf("GET %s: %d %s", target, rec.Code, rec.Body)
		}
		b.Write(rec.Body.Bytes())
	}
	return b.String()
}

// TestSecurityIsDeclaredOnEveryOperation: each operation states its
// security, as the model says, and the document declares the scheme it
// names and no global security.
func TestSecurityIsDeclaredOnEveryOperation(t *testing.T) {
	_, api := operations.New(operations.Options{}, operations.StoresOf(memory.New()))
	oapi := api.OpenAPI()
	want := map[string][]map[string][]string{
		"get-service-info": {}, "get-liveness": {}, "get-readiness": {},
		"head-service-info": {}, "head-liveness": {}, "head-readiness": {},
		"list-items": {}, "head-list-items": {}, "get-item": {}, "head-item": {},
		"export-items": {}, "head-export-items": {},
		"export-orders": {{"bearer": {}}}, "head-export-orders": {{"bearer": {}}},
		"create-item":  {{"bearer": {"items:write"}}},
		"replace-item": {{"bearer": {"items:write"}}},
		"patch-item":   {{"bearer": {"items:write"}}},
		"delete-item":  {{"bearer": {"items:write"}}},
		"list-orders":  {{"bearer": {}}}, "head-list-orders": {{"bearer": {}}},
		"create-order": {{"bearer": {}}},
		"get-order":    {{"bearer": {}}}, "head-order": {{"bearer": {}}},
		"get-order-events": {{"bearer": {}}}, "head-order-events": {{"bearer": {}}},
		"patch-order": {{"bearer": {}}},
	}
	seen := map[string]bool{}
	for _, d := range docOperations(t, api, "X", "Y") {
		id := d.op.OperationID
		seen[id] = true
		w, ok := want[id]
		if !ok {
			t.Errorf("%s: no security expected here; add it to this test", id)
			continue
		}
		if d.op.Security == nil || fmt.Sprint(d.op.Security) != fmt.Sprint(w) {
			t.Errorf("%s: security %v, want %v", id, d.op.Security, w)
		}
		b, _ := json.Marshal(d.op)
		if !strings.Contains(string(b), `"security":[`) {
			t.Errorf("%s: the document states no security: %s", id, b)
		}
		if len(w) > 0 {
			for _, code := range []string{"400", "401"} {
				if resp := d.op.Responses[code]; resp == nil || resp.Headers["WWW-Authenticate"] == nil {
					t.Errorf("%s: %s not declared with WWW-Authenticate", id, code)
				}
			}
			wants403 := len(w[0]["bearer"]) > 0 || id == "patch-order"
			if resp := d.op.Responses["403"]; (resp != nil) != wants403 || (wants403 && resp.Headers["WWW-Authenticate"] == nil) {
				t.Errorf("%s: 403 declared %v, want %v with WWW-Authenticate", id, resp != nil, wants403)
			}
		} else if d.op.Responses["401"] != nil || d.op.Responses["403"] != nil {
			t.Errorf("%s: a public operation declares 401 or 403", id)
		}
	}
	for id := range want {
		if !seen[id] {
			t.Errorf("%s is not in the document", id)
		}
	}
	if oapi.Security != nil {
		t.Errorf("global security %v, want none", oapi.Security)
	}
	s := oapi.Components.SecuritySchemes["bearer"]
	if s == nil || s.Type != "http" || s.Scheme != "bearer" || s.BearerFormat != "JWT" ||
		!strings.Contains(s.Description, "items:write") || !strings.Contains(s.Description, "orders:fulfil") {
		t.Errorf("bearer scheme: %+v", s)
	}
}

// TestRefusedCallers: every protected operation refuses a request without
// a usable token or scope, with the RFC 6750 challenge, writing nothing,
// never repeating the credentials; the access line still names the
// operation.
func TestRefusedCallers(t *testing.T) {
	fa := newFakeAuth()
	h, logs := newHandler(t, operations.Options{Auth: fa}, nil)
	_, api := operations.New(operations.Options{}, operations.StoresOf(memory.New()))
	item := createdItem(t, h, validBody, as(staffToken)...)
	order := createdOrder(t, h, item.ID, 1, as(staffToken)...)
	before := snapshot(t, h)

	cases := []struct {
		name      string
		headers   []string
		status    int
		challenge string // the WWW-Authenticate it must carry
		onlyIf    func(op *huma.Operation) bool
	}{
		{"no token", nil, 401, `Bearer realm="typedapi"`, nil},
		{"token in the query only", nil, 401, `Bearer realm="typedapi"`, nil}, // ?access_token= below
		{"invalid token", as(invalidToken), 401,
			`Bearer realm="typedapi", error="invalid_token", error_description="The access token is malformed, expired, not yet valid, not signed by the issuer, or not meant for this API"`, nil},
		{"not a bearer token", []string{"Authorization", malformedAuth}, 401, `error="invalid_token"`, nil},
		{"no subject", as(noSubToken), 401, `error="invalid_token"`, nil},
		{"two Authorization headers", append(as(staffToken), as(aliceToken)...), 400,
			`Bearer realm="typedapi", error="invalid_request", error_description="Send one Authorization header holding one bearer token"`, nil},
		{"keys unavailable", as(outageToken), 503, "", nil},
		{"missing scope", as(aliceToken), 403, `Bearer realm="typedapi", error="insufficient_scope", scope="items:write"`,
			func(op *huma.Operation) bool { return strings.HasPrefix(op.Path, "/v1/items") }},
	}
	for _, c := range cases {
		for _, d := range docOperations(t, api, item.ID, order.ID) {
			if len(d.op.Security) == 0 || (c.onlyIf != nil && !c.onlyIf(d.op)) {
				continue
			}
			t.Run(c.name+"/"+d.op.OperationID, func(t *testing.T) {
				target := d.target
				if c.name == "token in the query only" {
					target += map[bool]string{true: "&", false: "?"}[strings.Contains(target, "?")] + "access_token=" + staffToken
				}
				reqID := "req-" + strings.ReplaceAll(c.name, " ", "-") + "-" + d.op.OperationID
				rec := request(h, d.op.Method, target, d.body, append(slices.Clone(c.headers), "X-Request-Id", reqID)...)
				if rec.Code != c.status {
					t.Fatalf("%d, want %d: %s", rec.Code, c.status, rec.Body)
				}
				if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" && d.op.Method != http.MethodHead {
					t.Errorf("Content-Type %q", ct)
				}
				got := rec.Header().Get("WWW-Authenticate")
				if c.challenge != "" && !strings.Contains(got, c.challenge) {
					t.Errorf("WWW-Authenticate %q, want %q", got, c.challenge)
				}
				if c.status == 503 && rec.Header().Get("Retry-After") == "" {
					t.Error("503 without Retry-After")
				}
				all := fmt.Sprint(rec.Header()) + rec.Body.String()
				for _, secret := range []string{secretMarker, "Bearer tok-", staffToken} {
					if strings.Contains(all, secret) {
						t.Errorf("the answer repeats the credentials (%q): %s", secret, all)
					}
				}
				if !accessLogged(t, logs, reqID, d.logged, c.status) {
					t.Errorf("no access line with the operation %s and status %d for %s", d.logged, c.status, reqID)
				}
			})
		}
	}
	if after := snapshot(t, h); after != before {
		t.Errorf("refused requests changed the store:\nbefore %s\nafter  %s", before, after)
	}
	if strings.Contains(logs.String(), secretMarker) || strings.Contains(logs.String(), "Bearer tok-") {
		t.Error("the log repeats a token")
	}
}

// accessLogged reports whether logs hold the access line of request id
// with operation op and status.
func accessLogged(t *testing.T, logs *syncBuffer, id, op string, status int) bool {
	t.Helper()
	for _, l := range logs.lines(t) {
		if l["request_id"] == id && l["operation"] == op && l["status"] == float64(status) && l["route"] != nil {
			return true
		}
	}
	return false
}

// TestNilAuthRefusesProtectedOperations: a server given no Authenticator
// is closed, not open: 401 on every protected operation, whatever is sent;
// public ones answer.
func TestNilAuthRefusesProtectedOperations(t *testing.T) {
	h, _ := newHandlerAs(t, operations.Options{}, nil)
	_, api := operations.New(operations.Options{}, operations.StoresOf(memory.New()))
	for _, d := range docOperations(t, api, "01JDQ8Z6M3N4P5Q6R7S8T9V0WX", "01JDQ9A1B2C3D4E5F6G7H8J9K0") {
		rec := request(h, d.op.Method, d.target, d.body, as(staffToken)...)
		switch {
		case len(d.op.Security) > 0 && (rec.Code != 401 || rec.Header().Get("WWW-Authenticate") != `Bearer realm="typedapi"`):
			t.Errorf("%s with no Authenticator: %d %q", d.op.OperationID, rec.Code, rec.Header().Get("WWW-Authenticate"))
		case len(d.op.Security) == 0 && rec.Code == 401:
			t.Errorf("public %s: 401", d.op.OperationID)
		}
	}
}

// TestPublicOperationsNeverAuthenticate: reading items and the service's
// own routes, /docs and the documents never call the Authenticator, even
// with a token sent.
func TestPublicOperationsNeverAuthenticate(t *testing.T) {
	fa := newFakeAuth()
	h, _ := newHandler(t, operations.Options{Auth: fa}, nil)
	item := createdItem(t, h, validBody, as(staffToken)...)
	fa.calls.Store(0)
	_, api := operations.New(operations.Options{}, operations.StoresOf(memory.New()))
	var targets [][2]string
	for _, d := range docOperations(t, api, item.ID, "01JDQ9A1B2C3D4E5F6G7H8J9K0") {
		if len(d.op.Security) == 0 {
			targets = append(targets, [2]string{d.op.Method, d.target})
		}
	}
	targets = append(targets, [2]string{"GET", "/docs"}, [2]string{"GET", "/openapi.json"}, [2]string{"GET", "/openapi-3.0.yaml"}, [2]string{"GET", "/v1/nothing"})
	for _, tg := range targets {
		for _, headers := range [][]string{nil, as(invalidToken), append(as(staffToken), as(aliceToken)...)} {
			if rec := request(h, tg[0], tg[1], "", headers...); rec.Code >= 400 && tg[1] != "/v1/nothing" {
				t.Errorf("%s %s with %v: %d", tg[0], tg[1], headers, rec.Code)
			}
		}
	}
	if n := fa.calls.Load(); n != 0 {
		t.Errorf("public requests called the Authenticator %d times", n)
	}
	// And a protected one does, once.
	request(h, "POST", "/v1/items", validBody, as(staffToken)...)
	if n := fa.calls.Load(); n != 1 {
		t.Errorf("one protected request: %d calls, want 1", n)
	}
}

// TestHandlersSeeTheCaller: what Authenticate returned is what the
// operation acts as (the owner of a new order).
func TestHandlersSeeTheCaller(t *testing.T) {
	h, _ := newHandler(t, operations.Options{Auth: newFakeAuth()}, nil)
	item := createdItem(t, h, validBody, as(staffToken)...)
	for token, want := range map[string]string{aliceToken: "alice", bobToken: "bob", staffToken: staffCaller.Subject} {
		if o := createdOrder(t, h, item.ID, 1, as(token)...); o.Owner != want {
			t.Errorf("order made with %s is owned by %q, want %q", token, o.Owner, want)
		}
	}
}

// TestOrderOwnership: a customer sees and changes only their own orders;
// another's is a 404 on every operation, exactly as a missing one; the
// staff see and change every order.
func TestOrderOwnership(t *testing.T) {
	h, _ := newHandler(t, operations.Options{Auth: newFakeAuth()}, nil)
	item := createdItem(t, h, validBody, as(staffToken)...)
	alices := createdOrder(t, h, item.ID, 1, as(aliceToken)...)
	createdOrder(t, h, item.ID, 2, as(bobToken)...)
	missing := "01JDQ9A1B2C3D4E5F6G7H8J9K0"

	for _, c := range []struct {
		name, method, id, body string
	}{
		{"get", "GET", alices.ID, ""},
		{"head", "HEAD", alices.ID, ""},
		{"get with its ETag", "GET", alices.ID, ""},
		{"patch", "PATCH", alices.ID, `{"status":"cancelled"}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			headers := as(bobToken)
			if c.name == "get with its ETag" {
				headers = append(headers, "If-None-Match", alices.ETag())
			}
			theirs := request(h, c.method, "/v1/orders/"+c.id, c.body, headers...)
			none := request(h, c.method, "/v1/orders/"+missing, c.body, headers...)
			if theirs.Code != http.StatusNotFound {
				t.Fatalf("bob %s alice's order: %d %s", c.method, theirs.Code, theirs.Body)
			}
			if theirs.Body.String() != none.Body.String() || theirs.Header().Get("ETag") != "" {
				t.Errorf("another's order is told from a missing one:\n%s\n%s", theirs.Body, none.Body)
			}
		})
	}
	if got := getOrder(t, h, alices.ID, aliceToken); got.Status != models.OrderPending || got.Version != 1 {
		t.Errorf("bob's attempts changed alice's order: %+v", got)
	}

	owners := func(token string, query string) []string {
		t.Helper()
		var out []string
		for _, o := range listAll(t, h, token, query) {
			out = append(out, o.Owner)
		}
		return out
	}
	if got := owners(aliceToken, ""); !slices.Equal(got, []string{"alice"}) {
		t.Errorf("alice lists orders of %v", got)
	}
	if got := owners(bobToken, "&item_id="+item.ID); !slices.Equal(got, []string{"bob"}) {
		t.Errorf("bob lists orders of %v", got)
	}
	if got := owners(writerToken, ""); len(got) != 0 {
		t.Errorf("a caller with no orders lists %v", got)
	}
	if got := owners(staffToken, ""); !slices.Equal(got, []string{"alice", "bob"}) {
		t.Errorf("staff list orders of %v, want every order", got)
	}
	if got := getOrder(t, h, alices.ID, staffToken); got.Owner != "alice" {
		t.Errorf("staff read alice's order as %+v", got)
	}
	if rec := patchStatus(h, alices.ID, "paid", as(staffToken)...); rec.Code != http.StatusOK {
		t.Errorf("staff pay alice's order: %d %s", rec.Code, rec.Body)
	}
}

func getOrder(t *testing.T, h http.Handler, id, token string) models.Order {
	t.Helper()
	rec := request(h, "GET", "/v1/orders/"+id, "", as(token)...)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET order as %s: %d %s", token, rec.Code, rec.Body)
	}
	var o models.Order
	_ = json.Unmarshal(rec.Body.Bytes(), &o)
	return o
}

// listAll pages through GET /v1/orders as token with limit 1, so every
// page but the last must be full.
func listAll(t *testing.T, h http.Handler, token, query string) []models.Order {
	t.Helper()
	var all []models.Order
	cursor := ""
	for range 100 {
		target := "/v1/orders?limit=1" + query
		if cursor != "" {
			target += "&cursor=" + cursor
		}
		rec := request(h, "GET", target, "", as(token)...)
		if rec.Code != http.StatusOK {
			t.Fatalf("GET %s as %s: %d %s", target, token, rec.Code, rec.Body)
		}
		var p orderPage
		_ = json.Unmarshal(rec.Body.Bytes(), &p)
		if p.NextCursor != "" && len(p.Orders) != 1 {
			t.Fatalf("a page of %d with a next cursor", len(p.Orders))
		}
		all = append(all, p.Orders...)
		if cursor = p.NextCursor; cursor == "" {
			return all
		}
	}
	t.Fatal("the listing did not end")
	return nil
}

// TestOrderStatusNeedsFulfil: who may move an order where. The owner may
// cancel it while pending; paying, shipping and refunding (cancelling a
// paid order) are the staff's: 403 naming orders:fulfil, and nothing
// written.
func TestOrderStatusNeedsFulfil(t *testing.T) {
	h, _ := newHandler(t, operations.Options{Auth: newFakeAuth()}, nil)
	item := createdItem(t, h, validBody, as(staffToken)...)
	cases := []struct {
		name   string
		path   []models.OrderStatus // moves the staff make first
		token  string
		to     string
		status int
	}{
		{"owner pays", nil, aliceToken, "paid", 403},
		{"owner ships a paid order", []models.OrderStatus{"paid"}, aliceToken, "shipped", 403},
		{"owner cancels pending", nil, aliceToken, "cancelled", 200},
		{"owner cancels paid (a refund)", []models.OrderStatus{"paid"}, aliceToken, "cancelled", 403},
		{"owner's impossible move is 409 first", nil, aliceToken, "shipped", 409},
		{"item writer is no staff", nil, writerToken, "paid", 404}, // not theirs
		{"staff pay", nil, staffToken, "paid", 200},
		{"staff ship", []models.OrderStatus{"paid"}, staffToken, "shipped", 200},
		{"staff cancel paid", []models.OrderStatus{"paid"}, staffToken, "cancelled", 200},
		{"staff cancel pending", nil, staffToken, "cancelled", 200},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := createdOrder(t, h, item.ID, 1, as(aliceToken)...)
			for _, s := range c.path {
				if rec := patchStatus(h, o.ID, string(s), as(staffToken)...); rec.Code != 200 {
					t.Fatalf("staff move to %s: %d", s, rec.Code)
				}
			}
			before := getOrder(t, h, o.ID, staffToken)
			rec := patchStatus(h, o.ID, c.to, as(c.token)...)
			if rec.Code != c.status {
				t.Fatalf("%d, want %d: %s", rec.Code, c.status, rec.Body)
			}
			after := getOrder(t, h, o.ID, staffToken)
			if c.status == 403 {
				if got := rec.Header().Get("WWW-Authenticate"); got != `Bearer realm="typedapi", error="insufficient_scope", scope="orders:fulfil"` {
					t.Errorf("WWW-Authenticate %q", got)
				}
				if !strings.Contains(rec.Body.String(), "orders:fulfil") {
					t.Errorf("the 403 does not name the scope: %s", rec.Body)
				}
			}
			if changed := after.Version != before.Version; changed != (c.status == 200) {
				t.Errorf("status %d, but the order went from version %d to %d", rec.Code, before.Version, after.Version)
			}
			if c.status == 200 && string(after.Status) != c.to {
				t.Errorf("order is %s, want %s", after.Status, c.to)
			}
		})
	}
}

// TestIdempotencyKeysAreTheCallers: the same key and body from another
// caller make a new resource; they never replay the first caller's.
func TestIdempotencyKeysAreTheCallers(t *testing.T) {
	h, _ := newHandler(t, operations.Options{Auth: newFakeAuth()}, nil)
	item := createdItem(t, h, validBody, as(staffToken)...)
	t.Run("orders", func(t *testing.T) {
		first := createdOrder(t, h, item.ID, 1, append(as(aliceToken), "Idempotency-Key", "k-1")...)
		rec := request(h, "POST", "/v1/orders", `{"item_id":"`+item.ID+`","quantity":1}`, append(as(bobToken), "Idempotency-Key", "k-1")...)
		var o models.Order
		_ = json.Unmarshal(rec.Body.Bytes(), &o)
		if rec.Code != http.StatusCreated || rec.Header().Get("Idempotent-Replayed") != "" || o.ID == first.ID || o.Owner != "bob" {
			t.Fatalf("bob's request with alice's key: %d replayed %q %s", rec.Code, rec.Header().Get("Idempotent-Replayed"), rec.Body)
		}
		// A different body under alice's key is bob's own first request.
		rec = request(h, "POST", "/v1/orders", `{"item_id":"`+item.ID+`","quantity":5}`, append(as(staffToken), "Idempotency-Key", "k-1")...)
		if rec.Code != http.StatusCreated {
			t.Fatalf("staff's request with alice's key and another body: %d %s", rec.Code, rec.Body)
		}
		again := request(h, "POST", "/v1/orders", `{"item_id":"`+item.ID+`","quantity":1}`, append(as(aliceToken), "Idempotency-Key", "k-1")...)
		_ = json.Unmarshal(again.Body.Bytes(), &o)
		if again.Header().Get("Idempotent-Replayed") != "true" || o.ID != first.ID {
			t.Fatalf("alice's own repeat: %d replayed %q", again.Code, again.Header().Get("Idempotent-Replayed"))
		}
	})
	t.Run("items", func(t *testing.T) {
		other := auth.Caller{Subject: "writer-2", Scopes: []string{operations.ScopeItemsWrite}}
		fa := newFakeAuth()
		fa.callers["tok-writer-2"] = other
		h, _ := newHandler(t, operations.Options{Auth: fa}, nil)
		first := request(h, "POST", "/v1/items", validBody, append(as(writerToken), "Idempotency-Key", "k-1")...)
		second := request(h, "POST", "/v1/items", validBody, append(as("tok-writer-2"), "Idempotency-Key", "k-1")...)
		if first.Code != 201 || second.Code != 201 || second.Header().Get("Idempotent-Replayed") != "" ||
			first.Header().Get("Location") == second.Header().Get("Location") {
			t.Fatalf("another writer's same key: %d %d replayed %q", first.Code, second.Code, second.Header().Get("Idempotent-Replayed"))
		}
	})
}

// TestCursorsAreTheCallers: a next cursor works for the caller it was
// made for, and is refused (400, as a tampered one) for anyone else,
// staff included, and for the same subject once their view changed.
func TestCursorsAreTheCallers(t *testing.T) {
	fa := newFakeAuth()
	fa.callers["tok-alice-staff"] = auth.Caller{Subject: "alice", Scopes: []string{operations.ScopeOrdersFulfil}}
	h, _ := newHandler(t, operations.Options{Auth: fa}, nil)
	item := createdItem(t, h, validBody, as(staffToken)...)
	for range 3 {
		createdOrder(t, h, item.ID, 1, as(aliceToken)...)
		createdOrder(t, h, item.ID, 1, as(bobToken)...)
	}
	rec := request(h, "GET", "/v1/orders?limit=1", "", as(aliceToken)...)
	var p orderPage
	_ = json.Unmarshal(rec.Body.Bytes(), &p)
	if p.NextCursor == "" {
		t.Fatalf("no next cursor: %s", rec.Body)
	}
	if rec := request(h, "GET", "/v1/orders?limit=1&cursor="+p.NextCursor, "", as(aliceToken)...); rec.Code != 200 {
		t.Fatalf("alice's own cursor: %d %s", rec.Code, rec.Body)
	}
	for _, token := range []string{bobToken, staffToken, "tok-alice-staff"} {
		rec := request(h, "GET", "/v1/orders?limit=1&cursor="+p.NextCursor, "", as(token)...)
		if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), `"location":"query.cursor"`) ||
			!strings.Contains(rec.Body.String(), "another listing") {
			t.Errorf("alice's cursor sent with %s: %d %s", token, rec.Code, rec.Body)
		}
	}
}

// TestAuthenticationComesFirst: a request without a usable token learns
// nothing else about itself: not that its body is too large, of the wrong
// type, malformed or invalid, nor that its id names nothing. Its body is
// never read.
func TestAuthenticationComesFirst(t *testing.T) {
	h, _ := newHandler(t, operations.Options{Auth: newFakeAuth()}, nil)
	for _, c := range []struct {
		name, method, target, body string
		headers                    []string
	}{
		{"oversized body", "POST", "/v1/items", strings.Repeat(" ", 2<<20), nil},
		{"wrong media type", "POST", "/v1/orders", "x", []string{"Content-Type", "text/plain"}},
		{"malformed JSON", "PUT", "/v1/items/01JDQ8Z6M3N4P5Q6R7S8T9V0WX", `{"name":`, nil},
		{"invalid body", "PATCH", "/v1/orders/01JDQ9A1B2C3D4E5F6G7H8J9K0", `{"status":"lost"}`, nil},
		{"bad id", "DELETE", "/v1/items/bad", "", nil},
		{"empty parameter", "POST", "/v1/items", validBody, []string{"Idempotency-Key", ""}},
	} {
		for _, token := range []string{"", invalidToken} {
			t.Run(c.name+"/"+map[bool]string{true: "no token", false: "invalid token"}[token == ""], func(t *testing.T) {
				headers := slices.Clone(c.headers)
				if token != "" {
					headers = append(headers, as(token)...)
				}
				body := &countingReader{r: strings.NewReader(c.body)}
				req := httptest.NewRequest(c.method, c.target, body)
				if c.body != "" {
					req.Header.Set("Content-Type", bodyType(c.method))
				}
				for i := 0; i+1 < len(headers); i += 2 {
					req.Header.Set(headers[i], headers[i+1])
				}
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusUnauthorized {
					t.Fatalf("%d, want 401: %s", rec.Code, rec.Body)
				}
				if body.n > 0 {
					t.Errorf("%d bytes of the body were read before the caller was known", body.n)
				}
			})
		}
	}
}

// countingReader counts what is read through it.
type countingReader struct {
	r interface{ Read([]byte) (int, error) }
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/typedapi/typedapi/internal/auth/authtest"
	"github.com/typedapi/typedapi/internal/logsink"
)

// TestAuthThroughTheBinary is issue 16's bad input against the real server
// verifying tokens from the test issuer: every bad token is a 401 problem
// with the invalid_token challenge that writes nothing; a token in the query
// is ignored; two Authorization headers are a 400; a missing scope a 403
// naming it; another caller's order a 404; and no token ever reaches the log.
func TestAuthThroughTheBinary(t *testing.T) {
	issuer, ok := authtest.Issuer(t)
	if !ok {
		t.Skip("no test issuer")
	}
	logs := &logsink.Buffer{}
	origin := startAPILogged(t, logs, "TYPEDAPI_AUTH_ISSUER="+issuer, "TYPEDAPI_AUTH_AUDIENCE="+authtest.Audience)
	staff := authtest.Token(t, issuer, authtest.Request{Subject: "staff-1", Scope: "items:write orders:fulfil"})
	alice := authtest.Token(t, issuer, authtest.Request{Subject: "alice"})
	bob := authtest.Token(t, issuer, authtest.Request{Subject: "bob"})
	tokens := []string{staff, alice, bob}

	const item = `{"name":"Espresso cup","price":1250,"currency":"EUR"}`
	created := call(t, origin, "POST", "/v1/items", item, "Authorization", "Bearer "+staff)
	wantCode(t, "staff create", created, http.StatusCreated)
	itemID := jsonField(t, created.body, "id")
	count := func() int {
		r := call(t, origin, "GET", "/v1/items?limit=100", "")
		wantCode(t, "list", r, http.StatusOK)
		var page struct{ Items []any }
		if err := json.Unmarshal(r.body, &page); err != nil {
			t.Fatal(err)
		}
		return len(page.Items)
	}
	before := count()

	for _, bad := range authtest.BadTokens(t, issuer) {
		tokens = append(tokens, bad.Token)
		t.Run(bad.Name, func(t *testing.T) {
			r := call(t, origin, "POST", "/v1/items", item, "Authorization", "Bearer "+bad.Token)
			wantProblem(t, r, http.StatusUnauthorized)
			if ch := r.header.Get("WWW-Authenticate"); !strings.Contains(ch, `error="invalid_token"`) {
				t.Errorf("WWW-Authenticate %q lacks error=\"invalid_token\"", ch)
			}
			if bytes.Contains(r.body, []byte(bad.Token)) {
				t.Error("the answer repeats the token")
			}
		})
	}
	t.Run("token in the query", func(t *testing.T) {
		r := call(t, origin, "POST", "/v1/items?access_token="+staff, item)
		wantProblem(t, r, http.StatusUnauthorized)
		if ch := r.header.Get("WWW-Authenticate"); ch != `Bearer realm="typedapi"` {
			t.Errorf("WWW-Authenticate %q, want the bare challenge", ch)
		}
	})
	t.Run("two Authorization headers", func(t *testing.T) {
		r := call(t, origin, "POST", "/v1/items", item, "Authorization", "Bearer "+staff, "Authorization", "Bearer "+staff)
		wantProblem(t, r, http.StatusBadRequest)
	})
	t.Run("missing scope", func(t *testing.T) {
		r := call(t, origin, "POST", "/v1/items", item, "Authorization", "Bearer "+alice)
		wantProblem(t, r, http.StatusForbidden)
		if ch := r.header.Get("WWW-Authenticate"); !strings.Contains(ch, `error="insufficient_scope"`) || !strings.Contains(ch, `scope="items:write"`) {
			t.Errorf("WWW-Authenticate %q", ch)
		}
	})
	if n := count(); n != before {
		t.Errorf("refused creates wrote: %d items, want %d", n, before)
	}

	t.Run("another caller's order", func(t *testing.T) {
		r := call(t, origin, "POST", "/v1/orders", `{"item_id":"`+itemID+`","quantity":1}`, "Authorization", "Bearer "+alice)
		wantCode(t, "alice orders", r, http.StatusCreated)
		order := "/v1/orders/" + jsonField(t, r.body, "id")
		wantProblem(t, call(t, origin, "GET", order, "", "Authorization", "Bearer "+bob), http.StatusNotFound)
		wantProblem(t, call(t, origin, "PATCH", order, `{"status":"cancelled"}`, "Authorization", "Bearer "+bob,
			"Content-Type", "application/merge-patch+json"), http.StatusNotFound)
		wantCode(t, "alice reads", call(t, origin, "GET", order, "", "Authorization", "Bearer "+alice), http.StatusOK)
		wantCode(t, "staff reads", call(t, origin, "GET", order, "", "Authorization", "Bearer "+staff), http.StatusOK)
		list := call(t, origin, "GET", "/v1/orders", "", "Authorization", "Bearer "+bob)
		wantCode(t, "bob lists", list, http.StatusOK)
		if bytes.Contains(list.body, []byte(order[len("/v1/orders/"):])) {
			t.Error("bob's listing shows alice's order")
		}
	})

	// The log: the last request's id marks that every line before it is in.
	last := call(t, origin, "GET", "/healthz", "", "X-Request-Id", "auth-test-last")
	wantCode(t, "healthz", last, http.StatusOK)
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(logs.String(), "auth-test-last") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	out := logs.String()
	if !strings.Contains(out, "auth-test-last") {
		t.Fatal("the access lines never reached the log")
	}
	for _, tok := range tokens {
		sig := tok[strings.LastIndex(tok, ".")+1:]
		if strings.Contains(out, tok) || (len(sig) > 16 && strings.Contains(out, sig)) {
			t.Errorf("a token reached the log")
		}
	}
	if strings.Contains(strings.ToLower(out), "authorization") {
		t.Errorf("the log names the Authorization header")
	}
}

type answer struct {
	code   int
	header http.Header
	body   []byte
}

// call sends one request; headers are name, value pairs, added (so a name
// may repeat).
func call(t *testing.T, origin, method, path, body string, headers ...string) answer {
	t.Helper()
	req, err := http.NewRequest(method, origin+path, strings.NewReader(body))
	must(t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i] == "Content-Type" {
			req.Header.Set(headers[i], headers[i+1])
			continue
		}
		req.Header.Add(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	must(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	must(t, err)
	return answer{resp.StatusCode, resp.Header, b}
}

func wantCode(t *testing.T, what string, r answer, code int) {
	t.Helper()
	if r.code != code {
		t.Fatalf("%s: %d, want %d: %s", what, r.code, code, r.body)
	}
}

// wantProblem checks r is a problem+json answer with status code.
func wantProblem(t *testing.T, r answer, code int) {
	t.Helper()
	if r.code != code || r.header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("%d %s, want a %d problem: %s", r.code, r.header.Get("Content-Type"), code, r.body)
		return
	}
	var p struct{ Status int }
	if err := json.Unmarshal(r.body, &p); err != nil || p.Status != code {
		t.Errorf("problem body %s (%v)", r.body, err)
	}
}

func jsonField(t *testing.T, body []byte, name string) string {
	t.Helper()
	var m map[string]any
	must(t, json.Unmarshal(body, &m))
	s, _ := m[name].(string)
	if s == "" {
		t.Fatalf("no %q in %s", name, body)
	}
	return s
}

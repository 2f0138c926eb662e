package openapi_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/oasdiff/oasdiff/checker"
	"github.com/oasdiff/oasdiff/diff"
	"github.com/oasdiff/oasdiff/load"
)

// TestNoBreakingChanges compares the code's spec with the spec committed on
// the main branch and fails on any change oasdiff calls breaking, except
// under a version prefix (/v2, …) that the baseline does not have: a new
// major version may differ freely, an existing one may only grow.
//
// Baseline: the openapi-3.0.json at git revision $TYPEDAPI_SPEC_BASE, or by
// default at the merge-base of HEAD with origin/main (or main) — on a branch
// that is where it forked, on main it is HEAD, so uncommitted code changes
// are checked. Without git history the committed working-copy file is used.
// The 3.0 documents are compared because oasdiff reads them fully.
func TestNoBreakingChanges(t *testing.T) {
	base, from := baseline(t)
	t.Logf("baseline: %s", from)
	var breaking []string
	for _, b := range breakingChanges(t, base, specs(t)["openapi-3.0.json"]) {
		if why, ok := acknowledged[b]; ok {
			t.Logf("acknowledged: %s (%s)", b, why)
			continue
		}
		breaking = append(breaking, b)
		t.Error(b)
	}
	if len(breaking) > 0 {
		t.Log("keep the old operation and add the changed one under a new version prefix (e.g. /v2/items)")
	}
}

// acknowledged are breaking changes in oasdiff's words that were reviewed
// and accepted, each with why: the document corrected to what the server
// always did, so no client that worked can break; or (authentication,
// issue 16) a deliberate break that no version prefix could avoid, since
// an anonymous /v1 left beside a protected /v2 would leave the writes open.
// Entries fall away once the baseline has the change.
var acknowledged = map[string]string{
	"GET /v1/items/{id}: removed the media type `application/problem+json` for the response with the status `304`":  "a 304 never had a body; it is declared with no content (issue 19)",
	"GET /v1/orders/{id}: removed the media type `application/problem+json` for the response with the status `304`": "a 304 never had a body; it is declared with no content (issue 19)",
	"DELETE /v1/items/{id}: for the `header` request parameter `If-Match`, the maxLength was set to `2048`":         boundedConditional,
	"GET /v1/items/{id}: for the `header` request parameter `If-None-Match`, the maxLength was set to `2048`":       boundedConditional,
	"HEAD /v1/items/{id}: for the `header` request parameter `If-None-Match`, the maxLength was set to `2048`":      boundedConditional,
	"PATCH /v1/items/{id}: for the `header` request parameter `If-Match`, the maxLength was set to `2048`":          boundedConditional,
	"PUT /v1/items/{id}: for the `header` request parameter `If-Match`, the maxLength was set to `2048`":            boundedConditional,
	"GET /v1/orders/{id}: for the `header` request parameter `If-None-Match`, the maxLength was set to `2048`":      boundedConditional,
	"HEAD /v1/orders/{id}: for the `header` request parameter `If-None-Match`, the maxLength was set to `2048`":     boundedConditional,
	"PATCH /v1/orders/{id}: for the `header` request parameter `If-Match`, the maxLength was set to `2048`":         boundedConditional,
	"POST /v1/items: the `currency` request property's maxLength was set to `3`":                                    patternBounded,
	"DELETE /v1/items/{id}: for the `path` request parameter `id`, the maxLength was set to `26`":                   patternBounded,
	"GET /v1/items/{id}: for the `path` request parameter `id`, the maxLength was set to `26`":                      patternBounded,
	"HEAD /v1/items/{id}: for the `path` request parameter `id`, the maxLength was set to `26`":                     patternBounded,
	"PATCH /v1/items/{id}: for the `path` request parameter `id`, the maxLength was set to `26`":                    patternBounded,
	"PATCH /v1/items/{id}: the `currency` request property's maxLength was set to `3`":                              patternBounded,
	"PUT /v1/items/{id}: for the `path` request parameter `id`, the maxLength was set to `26`":                      patternBounded,
	"PUT /v1/items/{id}: the `currency` request property's maxLength was set to `3`":                                patternBounded,
	"GET /v1/orders: for the `query` request parameter `item_id`, the maxLength was set to `26`":                    patternBounded,
	"HEAD /v1/orders: for the `query` request parameter `item_id`, the maxLength was set to `26`":                   patternBounded,
	"POST /v1/orders: the `item_id` request property's maxLength was set to `26`":                                   patternBounded,
	"GET /v1/orders/{id}: for the `path` request parameter `id`, the maxLength was set to `26`":                     patternBounded,
	"HEAD /v1/orders/{id}: for the `path` request parameter `id`, the maxLength was set to `26`":                    patternBounded,
	"PATCH /v1/orders/{id}: for the `path` request parameter `id`, the maxLength was set to `26`":                   patternBounded,

	"POST /v1/items: the endpoint no longer allows anonymous access and now only accepts `bearer: [items:write]`":        itemWritesNeedScope,
	"DELETE /v1/items/{id}: the endpoint no longer allows anonymous access and now only accepts `bearer: [items:write]`": itemWritesNeedScope,
	"PATCH /v1/items/{id}: the endpoint no longer allows anonymous access and now only accepts `bearer: [items:write]`":  itemWritesNeedScope,
	"PUT /v1/items/{id}: the endpoint no longer allows anonymous access and now only accepts `bearer: [items:write]`":    itemWritesNeedScope,
	"GET /v1/orders: the endpoint no longer allows anonymous access and now only accepts `bearer`":                       ordersNeedCaller,
	"HEAD /v1/orders: the endpoint no longer allows anonymous access and now only accepts `bearer`":                      ordersNeedCaller,
	"POST /v1/orders: the endpoint no longer allows anonymous access and now only accepts `bearer`":                      ordersNeedCaller,
	"GET /v1/orders/{id}: the endpoint no longer allows anonymous access and now only accepts `bearer`":                  ordersNeedCaller,
	"HEAD /v1/orders/{id}: the endpoint no longer allows anonymous access and now only accepts `bearer`":                 ordersNeedCaller,
	"PATCH /v1/orders/{id}: the endpoint no longer allows anonymous access and now only accepts `bearer`":                ordersNeedCaller,
}

// The breaks of issue 16: the API was open to anyone, which no real shop
// ships; clients now send a bearer token from the issuer.
const (
	itemWritesNeedScope = "writing items needs a token with items:write; reading stays public (issue 16)"
	ordersNeedCaller    = "an order belongs to its caller, so every order operation needs a signed-in caller (issue 16)"
)

// boundedConditional: issue 19 bounds every value a client sends; 2048 bytes
// of ETags is dozens of them, far more than any client that worked sent.
const boundedConditional = "conditional headers get a declared bound (issue 19)"

// patternBounded: ids and currency codes were bounded by their anchored
// pattern already (26 and 3 characters); the explicit maxLength accepts the
// same values and states the bound the OWASP string-limit rule looks for.
const patternBounded = "maxLength states the bound the anchored pattern already set (issue 19)"

// TestBreakingChangeCheck proves the check above catches what it should and
// lets through what it should.
func TestBreakingChangeCheck(t *testing.T) {
	current := specs(t)["openapi-3.0.json"]
	edit := func(f func(paths map[string]any)) []byte {
		var doc map[string]any
		if err := json.Unmarshal(current, &doc); err != nil {
			t.Fatal(err)
		}
		f(obj(doc["paths"]))
		b, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	dropDelete := edit(func(p map[string]any) { delete(obj(p["/v1/items/{id}"]), "delete") })
	// The spec before orders: adding a resource's endpoints breaks no client.
	noOrders := edit(func(p map[string]any) {
		delete(p, "/v1/orders")
		delete(p, "/v1/orders/{id}")
	})
	// /v2 appears with an operation that a later revision removes again.
	withV2 := edit(func(p map[string]any) { p["/v2/items/{id}"] = p["/v1/items/{id}"] })
	withV2NoDelete := edit(func(p map[string]any) {
		v2 := map[string]any{}
		for k, v := range obj(p["/v1/items/{id}"]) {
			if k != "delete" {
				v2[k] = v
			}
		}
		p["/v2/items/{id}"] = v2
	})
	cases := []struct {
		name           string
		base, revision []byte
		wantBreaking   bool
	}{
		{"unchanged", current, current, false},
		{"operation removed from /v1", current, dropDelete, true},
		{"operation added", dropDelete, current, false},
		{"resource added (orders)", noOrders, current, false},
		{"resource removed (orders)", current, noOrders, true},
		{"new /v2 prefix differs from /v1", current, withV2NoDelete, false},
		{"operation removed from an existing /v2", withV2, withV2NoDelete, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := breakingChanges(t, c.base, c.revision)
			if (len(got) > 0) != c.wantBreaking {
				t.Errorf("breaking changes %q, want breaking=%v", got, c.wantBreaking)
			}
		})
	}
}

// breakingChanges lists oasdiff's breaking changes from base to revision
// (both OpenAPI 3.0 JSON), leaving out those under a version prefix that
// base does not have.
func breakingChanges(t *testing.T, base, revision []byte) []string {
	t.Helper()
	s1, s2 := specInfo(t, "base", base), specInfo(t, "revision", revision)
	d, sources, err := diff.GetWithOperationsSourcesMap(diff.NewConfig(), s1, s2)
	if err != nil {
		t.Fatal(err)
	}
	oldPrefixes := map[string]bool{}
	for path := range s1.Spec.Paths.Map() {
		oldPrefixes[versionPrefix(path)] = true
	}
	var out []string
	l := checker.NewDefaultLocalizer()
	for _, c := range checker.CheckBackwardCompatibility(checker.NewConfig(checker.GetAllChecks()), d, sources) {
		if !c.IsBreaking() {
			continue
		}
		if p := versionPrefix(c.GetPath()); p != "" && !oldPrefixes[p] {
			continue
		}
		out = append(out, c.GetOperation()+" "+c.GetPath()+": "+c.GetUncolorizedText(l))
	}
	return out
}

var versionSegment = regexp.MustCompile(`^/v[0-9]+(/|$)`)

// versionPrefix is "/v1" for "/v1/items", "" for paths outside versions.
func versionPrefix(path string) string {
	return strings.TrimSuffix(versionSegment.FindString(path), "/")
}

func specInfo(t *testing.T, name string, doc []byte) *load.SpecInfo {
	t.Helper()
	path := t.TempDir() + "/" + name + ".json"
	if err := os.WriteFile(path, doc, 0o644); err != nil {
		t.Fatal(err)
	}
	info, err := load.NewSpecInfo(openapi3.NewLoader(), load.NewSource(path))
	if err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	return info
}

// baseline returns the committed 3.0 spec to compare against and says where
// it came from.
func baseline(t *testing.T) ([]byte, string) {
	t.Helper()
	const file = "openapi/openapi-3.0.json"
	git := func(args ...string) (string, error) {
		out, err := exec.Command("git", append([]string{"-C", ".."}, args...)...).Output()
		return strings.TrimSpace(string(out)), err
	}
	rev := os.Getenv("TYPEDAPI_SPEC_BASE")
	if rev == "" {
		for _, main := range []string{"origin/main", "main"} {
			if mb, err := git("merge-base", "HEAD", main); err == nil && mb != "" {
				rev = mb
				break
			}
		}
	}
	if rev != "" {
		if out, err := exec.Command("git", "-C", "..", "show", rev+":"+file).Output(); err == nil {
			return out, "git " + rev + ":" + file
		} else if os.Getenv("TYPEDAPI_SPEC_BASE") != "" {
			t.Fatalf("TYPEDAPI_SPEC_BASE=%s: git show %s:%s: %v", rev, rev, file, err)
		}
	}
	// No history (an export, or the first commit of the file): the working
	// copy is the committed contract.
	b, err := os.ReadFile("openapi-3.0.json")
	if err != nil {
		t.Fatal(err)
	}
	return b, "working copy " + file + " (no git baseline found)"
}

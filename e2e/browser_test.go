package e2e

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

var updateScreenshot = flag.Bool("update-screenshot", false, "rewrite docs/screenshot-docs.png (the README's picture of /docs)")

// TestDocsInBrowser opens /docs in Debian's headless Chromium, as a user
// would, directly and behind a base path: every operation of the spec is
// listed, nothing is fetched from anywhere but 127.0.0.1, nothing is logged
// as an error (CSP violations included), and "Try it out" really calls the
// API: create answers 201, an invalid create the 422 problem, and get shows
// the created item. A screenshot of each page is saved as an artifact in
// $TYPEDAPI_ARTIFACTS (default: the temp dir).
func TestDocsInBrowser(t *testing.T) {
	chromium := findChromium(t)
	for _, basePath := range []string{"", "/shop"} {
		t.Run("base_path="+basePath, func(t *testing.T) {
			origin := startAPI(t, basePath)
			docsInBrowser(t, chromium, origin, basePath)
		})
	}
	// Through the Lambda path: a local API Gateway REST API with stage
	// "prod", the page at /prod/docs.
	t.Run("gateway stage=prod", func(t *testing.T) {
		origin := startGateway(t, "/prod", "--source", "rest", "--stage", "prod")
		docsInBrowser(t, chromium, origin, "/prod")
	})
}

// profileDir is an empty Chromium profile. Not t.TempDir: Chromium's helper
// processes may still be writing to it for a moment after the browser is
// closed, and t.TempDir fails the test when it cannot remove everything.
func profileDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "typedapi-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for range 20 {
			if os.RemoveAll(dir) == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Logf("left Chromium profile %s behind", dir)
	})
	return dir
}

// newBrowser starts headless Chromium for one test, recording what the
// page logs; it is closed at cleanup.
func newBrowser(t *testing.T, chromium string) (context.Context, *recorder) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	// The flags Chromium needs here: no sandbox as root, and no background
	// traffic to Google (component updates, sync, …) on a closed network.
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(chromium),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(profileDir(t)),
		chromedp.WindowSize(1280, 1000),
	)
	t.Cleanup(cancelAlloc)
	bctx, cancelBrowser := chromedp.NewContext(allocCtx)
	t.Cleanup(cancelBrowser)

	rec := &recorder{}
	chromedp.ListenTarget(bctx, rec.listen)
	if err := chromedp.Run(bctx,
		network.Enable(), log.Enable(), runtime.Enable(),
		// Count CSP violations from inside the page too: the page's CSP
		// does not apply to scripts added through the DevTools protocol.
		chromedp.ActionFunc(func(ctx context.Context) error {
			_, err := page.AddScriptToEvaluateOnNewDocument(`window.__csp = [];
				document.addEventListener("securitypolicyviolation", e => window.__csp.push(e.violatedDirective + " " + e.blockedURI));`).Do(ctx)
			return err
		}),
	); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return bctx, rec
}

func docsInBrowser(t *testing.T, chromium, origin, basePath string) {
	bctx, rec := newBrowser(t, chromium)
	docsURL := origin + basePath + "/docs"
	var listed []string
	if err := chromedp.Run(bctx,
		chromedp.Navigate(docsURL),
		chromedp.WaitVisible(`.opblock`, chromedp.ByQuery),
		chromedp.Evaluate(`Array.from(document.querySelectorAll(".opblock")).map(e => e.id)`, &listed),
	); err != nil {
		t.Fatalf("load %s: %v", docsURL, err)
	}
	checkListed(t, listed)
	saveScreenshot(t, bctx, basePath)

	// Try it out: create (valid), create (invalid), get.
	created := tryItOut(t, bctx, "operations-Items-create-item", map[string]string{
		"body": `{"name":"Espresso cup","price":1250,"currency":"EUR","tags":["kitchen"]}`,
	}, 201)
	var item struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	if err := json.Unmarshal([]byte(created), &item); err != nil || item.ID == "" {
		t.Fatalf("create shows no item: %v: %s", err, created)
	}
	problem := tryItOut(t, bctx, "operations-Items-create-item", map[string]string{
		"body": `{"name":"","price":-1,"currency":"XYZ"}`,
	}, 422)
	for _, want := range []string{`"status": 422`, `"location": "body.name"`, `"location": "body.price"`, `"location": "body.currency"`} {
		if !strings.Contains(problem, want) {
			t.Errorf("422 problem shown lacks %s:\n%s", want, problem)
		}
	}
	got := tryItOut(t, bctx, "operations-Items-get-item", map[string]string{"param:id": item.ID}, 200)
	if !strings.Contains(got, `"id": "`+item.ID+`"`) || !strings.Contains(got, `"name": "Espresso cup"`) {
		t.Errorf("get-item shows:\n%s\nwant the created item %s", got, item.ID)
	}

	var csp []string
	if err := chromedp.Run(bctx, chromedp.Evaluate(`window.__csp`, &csp)); err != nil {
		t.Fatal(err)
	}
	// Chromium logs the deliberate 422 as a failed load; that one is expected.
	rec.check(t, basePath, csp, "log (network): Failed to load resource: the server responded with a status of 422 (Unprocessable Entity) "+origin+basePath+"/v1/items")
}

// checkListed compares the operations /docs shows with the spec's.
func checkListed(t *testing.T, listed []string) {
	t.Helper()
	var doc struct {
		Paths map[string]map[string]struct {
			OperationID string   `json:"operationId"`
			Tags        []string `json:"tags"`
		} `json:"paths"`
	}
	b, err := os.ReadFile("../openapi/openapi.json")
	must(t, err)
	must(t, json.Unmarshal(b, &doc))
	var want []string
	for _, ops := range doc.Paths {
		for _, op := range ops {
			// Swagger UI's element id for an operation: operations-<tag>-<operationId>.
			want = append(want, "operations-"+op.Tags[0]+"-"+op.OperationID)
		}
	}
	slices.Sort(want)
	slices.Sort(listed)
	if !slices.Equal(listed, want) {
		t.Errorf("/docs lists %q\nthe spec has %q", listed, want)
	}
}

// tryItOut expands an operation, fills its inputs ("body" for the request
// body, "param:NAME" for a parameter), executes it, waits for the live
// response with wantStatus and returns the response body Swagger UI shows.
func tryItOut(t *testing.T, ctx context.Context, opID string, inputs map[string]string, wantStatus int) string {
	t.Helper()
	op := "#" + opID
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	var expanded bool
	if err := chromedp.Run(ctx, chromedp.Evaluate(`document.querySelector("`+op+`").classList.contains("is-open")`, &expanded)); err != nil {
		t.Fatal(err)
	}
	actions := []chromedp.Action{}
	if !expanded {
		actions = append(actions, chromedp.Click(op+` .opblock-summary-control`, chromedp.ByQuery))
	}
	// tryItOutEnabled is set in init.js, so the inputs are editable at once.
	actions = append(actions,
		chromedp.WaitVisible(op+` button.execute`, chromedp.ByQuery),
		// Clear the previous response, so the wait below sees this one.
		chromedp.Evaluate(`(() => { const c = document.querySelector("`+op+` button.btn-clear"); if (c) c.click(); return true; })()`, nil),
		chromedp.WaitNotPresent(op+` .live-responses-table`, chromedp.ByQuery),
	)
	for name, value := range inputs {
		sel := op + ` textarea.body-param__text`
		if p, ok := strings.CutPrefix(name, "param:"); ok {
			sel = op + ` tr[data-param-name="` + p + `"] input`
		}
		actions = append(actions, chromedp.WaitVisible(sel, chromedp.ByQuery), setReactValue(sel, value))
	}
	actions = append(actions, chromedp.Click(op+` button.execute`, chromedp.ByQuery))
	if err := chromedp.Run(ctx, actions...); err != nil {
		t.Fatalf("%s: try it out: %v", opID, err)
	}
	var status string
	err := chromedp.Run(ctx, chromedp.Poll(
		`(() => { const s = document.querySelector("`+op+` .live-responses-table tbody .response-col_status"); return s ? s.textContent.trim() : ""; })()`,
		&status, chromedp.WithPollingTimeout(15*time.Second)))
	if err != nil {
		failShot(t, ctx, opID)
		var text string
		_ = chromedp.Run(ctx, chromedp.Evaluate(`document.querySelector("`+op+`").innerText`, &text))
		t.Logf("%s shows:\n%s", opID, text)
		t.Fatalf("%s: no response shown within 15s: %v", opID, err)
	}
	if !strings.HasPrefix(status, fmt.Sprint(wantStatus)) {
		t.Fatalf("%s: Swagger UI shows status %q, want %d", opID, status, wantStatus)
	}
	var body string
	if err := chromedp.Run(ctx, chromedp.Text(op+` .live-responses-table tbody .response-col_description pre`, &body, chromedp.ByQuery)); err != nil {
		t.Fatalf("%s: response body: %v", opID, err)
	}
	return body
}

// setReactValue types value into a React-controlled input: set through the
// element prototype's setter, then an input event, as a keystroke would, and
// a blur, which makes Swagger UI's debounced parameter inputs commit the
// value at once.
func setReactValue(sel, value string) chromedp.Action {
	js := fmt.Sprintf(`(() => {
		const el = document.querySelector(%q);
		const proto = el instanceof HTMLTextAreaElement ? HTMLTextAreaElement.prototype : HTMLInputElement.prototype;
		Object.getOwnPropertyDescriptor(proto, "value").set.call(el, %q);
		el.dispatchEvent(new Event("input", { bubbles: true }));
		el.dispatchEvent(new FocusEvent("blur"));
		el.dispatchEvent(new FocusEvent("focusout", { bubbles: true }));
		return true;
	})()`, sel, value)
	return chromedp.Evaluate(js, nil)
}

// failShot saves what the page looked like when a step failed.
func failShot(t *testing.T, ctx context.Context, name string) {
	var png []byte
	if err := chromedp.Run(ctx, chromedp.FullScreenshot(&png, 100)); err == nil {
		path := filepath.Join(artifactsDir(t), "failed-"+name+".png")
		if os.WriteFile(path, png, 0o644) == nil {
			t.Logf("page at failure: %s", path)
		}
	}
}

func artifactsDir(t *testing.T) string {
	dir := os.Getenv("TYPEDAPI_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "typedapi-artifacts")
	}
	must(t, os.MkdirAll(dir, 0o755))
	return dir
}

func saveScreenshot(t *testing.T, ctx context.Context, basePath string) {
	t.Helper()
	var png []byte
	if err := chromedp.Run(ctx, chromedp.CaptureScreenshot(&png)); err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	name := filepath.Join(artifactsDir(t), "docs"+strings.ReplaceAll(basePath, "/", "-")+".png")
	must(t, os.WriteFile(name, png, 0o644))
	t.Logf("screenshot of /docs: %s", name)
	if *updateScreenshot && basePath == "" {
		must(t, os.WriteFile("../docs/screenshot-docs.png", png, 0o644))
	}
}

// recorder collects what the page did: every request, console error,
// uncaught exception and browser log error.
type recorder struct {
	mu       sync.Mutex
	requests []string
	errors   []string
}

func (r *recorder) listen(ev any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch e := ev.(type) {
	case *network.EventRequestWillBeSent:
		r.requests = append(r.requests, e.Request.URL)
	case *runtime.EventConsoleAPICalled:
		if e.Type == runtime.APITypeError || e.Type == runtime.APITypeAssert {
			var args []string
			for _, a := range e.Args {
				args = append(args, string(a.Value)+a.Description)
			}
			r.errors = append(r.errors, "console."+string(e.Type)+": "+strings.Join(args, " "))
		}
	case *runtime.EventExceptionThrown:
		r.errors = append(r.errors, "uncaught: "+e.ExceptionDetails.Error())
	case *log.EventEntryAdded:
		// Failed loads, CSP violations and the like are reported here.
		if e.Entry.Level == log.LevelError {
			r.errors = append(r.errors, "log ("+string(e.Entry.Source)+"): "+e.Entry.Text+" "+e.Entry.URL)
		}
	}
}

// check fails the test for every CSP violation, page error (except each of
// expected once) and request that left 127.0.0.1.
func (r *recorder) check(t *testing.T, basePath string, csp []string, expected ...string) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, v := range csp {
		t.Errorf("CSP violation: %s", v)
	}
	for _, e := range r.errors {
		if i := slices.Index(expected, e); i >= 0 {
			expected = slices.Delete(expected, i, i+1)
			continue
		}
		t.Errorf("page error: %s", e)
	}
	for _, e := range expected {
		t.Errorf("expected page error not seen: %s", e)
	}
	seen := map[string]bool{}
	for _, raw := range r.requests {
		u, err := url.Parse(raw)
		if err != nil {
			t.Errorf("request to unparsable URL %q", raw)
			continue
		}
		if u.Scheme == "data" || u.Scheme == "blob" {
			continue // inline, nothing leaves the page
		}
		if u.Hostname() != "127.0.0.1" {
			t.Errorf("request left 127.0.0.1: %s", raw)
		}
		seen[u.Path] = true
	}
	// The page found its assets and its spec under the mount prefix.
	for _, p := range []string{"/docs", "/docs/swagger-ui.css", "/docs/swagger-ui-bundle.js", "/docs/init.js", "/openapi.json", "/v1/items"} {
		if !seen[basePath+p] {
			t.Errorf("the page never requested %s (requests: %q)", basePath+p, r.requests)
		}
	}
	t.Logf("%d requests, all to 127.0.0.1", len(r.requests))
}

// findChromium returns Debian's Chromium ($CHROMIUM overrides), failing
// under CI=true and skipping elsewhere when it is not installed.
func findChromium(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("CHROMIUM"), "/usr/bin/chromium"} {
		if p == "" {
			continue
		}
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("Chromium is not installed (CI=true: required; scripts/setup installs Debian's chromium)")
	}
	t.Skip("skipped: Chromium is not installed; scripts/setup installs Debian's chromium")
	return ""
}

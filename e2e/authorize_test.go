package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/typedapi/typedapi/internal/auth/authtest"
)

// TestDocsAuthorize is the /docs Authorize button against a server that
// verifies tokens from the test issuer: without a token Try-it-out's create
// shows the 401 problem; with one pasted into the Authorize dialog the same
// call creates the item (201), and reads stay public throughout.
func TestDocsAuthorize(t *testing.T) {
	chromium := findChromium(t)
	issuer, ok := authtest.Issuer(t)
	if !ok {
		t.Skip("no test issuer")
	}
	origin := startAPI(t, "", "TYPEDAPI_AUTH_ISSUER="+issuer, "TYPEDAPI_AUTH_AUDIENCE="+authtest.Audience)
	token := authtest.Token(t, issuer, authtest.Request{Subject: "docs-user", Scope: "items:write"})

	bctx, rec := newBrowser(t, chromium)
	if err := chromedp.Run(bctx,
		chromedp.Navigate(origin+"/docs"),
		chromedp.WaitVisible(`.opblock`, chromedp.ByQuery),
	); err != nil {
		t.Fatalf("load /docs: %v", err)
	}
	body := map[string]string{"body": `{"name":"Espresso cup","price":1250,"currency":"EUR"}`}

	problem := tryItOut(t, bctx, "operations-Items-create-item", body, 401)
	if !strings.Contains(problem, `"status": 401`) {
		t.Errorf("401 shown without the problem body:\n%s", problem)
	}

	// The Authorize dialog: paste the token into the bearer scheme's field.
	if err := chromedp.Run(bctx,
		chromedp.Click(`.auth-wrapper button.authorize`, chromedp.ByQuery),
		chromedp.WaitVisible(`#auth-bearer-value`, chromedp.ByQuery),
		setReactValue(`#auth-bearer-value`, token),
		chromedp.Click(`.auth-btn-wrapper button.authorize`, chromedp.ByQuery),
		chromedp.Click(`.auth-btn-wrapper button.btn-done`, chromedp.ByQuery),
		chromedp.WaitNotPresent(`.dialog-ux`, chromedp.ByQuery),
	); err != nil {
		failShot(t, bctx, "authorize")
		t.Fatalf("authorize: %v", err)
	}
	created := tryItOut(t, bctx, "operations-Items-create-item", body, 201)
	if !strings.Contains(created, `"name": "Espresso cup"`) {
		t.Errorf("create after Authorize shows:\n%s", created)
	}
	tryItOut(t, bctx, "operations-Items-list-items", nil, 200)

	rec.check(t, "", nil, "log (network): Failed to load resource: the server responded with a status of 401 (Unauthorized) "+origin+"/v1/items")
}

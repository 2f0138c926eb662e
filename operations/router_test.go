package operations

import (
	"net/http"
	"net/http/httptest"
	"path"
	"strings"
	"testing"
)

// cleanByPathClean is the definition cleanPath implements without
// allocating: p is what path.Clean makes of it (keeping a trailing slash).
func cleanByPathClean(p string) bool {
	if p == "/" {
		return true
	}
	if !strings.HasPrefix(p, "/") {
		return false
	}
	c := path.Clean(p)
	if strings.HasSuffix(p, "/") && c != "/" {
		c += "/"
	}
	return c == p
}

var cleanPathSeeds = []string{
	"", "/", "*", "a", "/a", "/a/", "//", "//a", "/a//b", "/a/./b", "/a/../b", "/.", "/..", "/a/.", "/a/..",
	"/a/b/", "/a/b//", "/.a", "/..a", "/a.", "/v1/items/01JDQ8Z6M3N4P5Q6R7S8T9V0WX", "/docs/", "/%2e%2e/x",
}

func TestCleanPath(t *testing.T) {
	for _, p := range cleanPathSeeds {
		if got, want := cleanPath(p), cleanByPathClean(p); got != want {
			t.Errorf("cleanPath(%q) = %v, want %v", p, got, want)
		}
	}
}

func FuzzCleanPath(f *testing.F) {
	for _, p := range cleanPathSeeds {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, p string) {
		if got, want := cleanPath(p), cleanByPathClean(p); got != want {
			t.Errorf("cleanPath(%q) = %v, want %v", p, got, want)
		}
	})
}

// A pattern the serving mux refuses (a conflict panics at start-up) must
// not reach the routes' mux, which is built on the first unmatched
// request and would panic there instead.
func TestRouterRefusedPatternStaysOut(t *testing.T) {
	m := newRouter(false)
	ok := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	m.mount("GET /b", "/b", ok)
	m.mount("GET /a/{x}", "/a/{x}", ok)
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("a conflicting pattern was accepted")
			}
		}()
		m.mount("GET /a/{y}", "/a/{y}", ok)
	}()
	m.mount("PUT /c", "/c", ok)
	for _, c := range []struct{ target, allow string }{{"/c", "PUT"}, {"/b", "GET, HEAD"}, {"/a/1", "GET, HEAD"}} {
		rec := httptest.NewRecorder()
		m.ServeHTTP(rec, httptest.NewRequest("POST", c.target, nil))
		if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != c.allow {
			t.Errorf("POST %s: %d, Allow %q; want 405, Allow %q", c.target, rec.Code, rec.Header().Get("Allow"), c.allow)
		}
	}
}

// A problem repeats at most maxEchoedValue bytes of the path it could not
// route, however long the path.
func TestLongPathIsNotEchoedWhole(t *testing.T) {
	m := newRouter(false)
	m.mount("GET /a/{x}", "/a/{x}", http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	long := strings.Repeat("x", 20000)
	for _, c := range []struct{ method, target string }{{"GET", "/" + long}, {"POST", "/a/" + long}, {"GET", "//" + long}} {
		rec := httptest.NewRecorder()
		m.ServeHTTP(rec, httptest.NewRequest(c.method, c.target, nil))
		if rec.Code/100 != 4 || rec.Body.Len() > 1024 || !strings.Contains(rec.Body.String(), "(truncated)") {
			t.Errorf("%s %.20s…: %d, %d bytes: %.300s", c.method, c.target, rec.Code, rec.Body.Len(), rec.Body)
		}
	}
}

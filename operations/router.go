package operations

import (
	"net/http"
	"path"
	"strings"

	"github.com/typedapi/typedapi/middleware"
)

// router is the net/http ServeMux Huma registers on, with two fixes:
// "GET /" matches only the root (a bare "/" pattern on ServeMux matches
// every path), and requests no route takes (unknown path, wrong method) are
// answered with problem+json instead of ServeMux's text/plain.
type router struct {
	*http.ServeMux
}

func newRouter() router { return router{http.NewServeMux()} }

// HandleFunc implements humago.Mux.
func (m router) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	if strings.HasSuffix(pattern, " /") {
		pattern += "{$}"
	}
	m.ServeMux.HandleFunc(pattern, h)
}

func (m router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !cleanPath(r.URL.Path) {
		// ServeMux would redirect to the cleaned path (and a client that
		// follows would replay a write there); an API client calls the URL
		// it was given, so "..", "." and "//" segments name nothing.
		middleware.WriteProblem(w, r, http.StatusNotFound, "No resource at "+r.URL.Path+": a path starts with / and has no empty, . or .. segments.")
		return
	}
	h, pattern := m.Handler(r)
	if pattern == "" {
		m.unmatched(w, r, h)
		return
	}
	_, route, _ := strings.Cut(pattern, " ")
	middleware.AnnotateRoute(r.Context(), strings.TrimSuffix(route, "{$}"))
	m.ServeMux.ServeHTTP(w, r)
}

// unmatched asks ServeMux's own fallback what it would answer (404, 405
// with Allow, or a redirect to a cleaned path) and turns 404 and 405 into
// problems.
func (m router) unmatched(w http.ResponseWriter, r *http.Request, fallback http.Handler) {
	probe := &headerProbe{header: http.Header{}}
	fallback.ServeHTTP(probe, r)
	switch probe.status {
	case http.StatusNotFound:
		middleware.WriteProblem(w, r, http.StatusNotFound, "No resource at "+r.URL.Path+"; GET / lists where to start.")
	case http.StatusMethodNotAllowed:
		allow := probe.header.Get("Allow")
		w.Header().Set("Allow", allow)
		middleware.WriteProblem(w, r, http.StatusMethodNotAllowed, r.Method+" is not allowed on "+r.URL.Path+"; allowed: "+allow+".")
	default:
		fallback.ServeHTTP(w, r)
	}
}

// headerProbe records what a handler would answer without sending it.
type headerProbe struct {
	header http.Header
	status int
}

func (p *headerProbe) Header() http.Header { return p.header }
func (p *headerProbe) WriteHeader(code int) {
	if p.status == 0 {
		p.status = code
	}
}
func (p *headerProbe) Write(b []byte) (int, error) {
	p.WriteHeader(http.StatusOK)
	return len(b), nil
}

// cleanPath reports whether p is already in the form ServeMux routes on.
func cleanPath(p string) bool {
	if p == "/" {
		return true
	}
	if !strings.HasPrefix(p, "/") {
		return false // "*" (OPTIONS *, the HTTP/2 preface) or empty
	}
	c := path.Clean(p)
	if strings.HasSuffix(p, "/") && c != "/" {
		c += "/"
	}
	return c == p
}

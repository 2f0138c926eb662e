package operations

import (
	"net/http"
	"strings"
	"sync"

	"github.com/typedapi/typedapi/internal/middleware"
)

// router is the net/http ServeMux Huma registers on, with two fixes:
// "GET /" matches only the root (a bare "/" pattern on ServeMux matches
// every path), and requests no route takes (unknown path, wrong method) are
// answered with problem+json instead of ServeMux's text/plain.
//
// A request is matched once: every route is registered on the serving mux
// beside a catch-all, and a second mux holding the routes alone is asked
// only when the catch-all took a request, to tell 404 from 405 (and find
// the Allow list, or a redirect) the way ServeMux itself would. That second
// mux is built on the first such request: registering a pattern on a
// ServeMux is not free (it records the caller's file and line), and a cold
// start rarely begins with a 404.
//
// With lazy set, operations are registered with Huma on their first
// request (lazy.go).
type router struct {
	*http.ServeMux
	routes *fallbackRoutes
	lazy   *lazyRoutes       // nil: every operation is registered at once
	opIDs  map[string]string // operation id by mux pattern, for the access line
}

// fallbackRoutes is the mux of the routes alone, built when first asked.
type fallbackRoutes struct {
	routes []fallbackRoute
	once   sync.Once
	mux    *http.ServeMux
}

type fallbackRoute struct {
	pattern string
	h       http.Handler
}

func (f *fallbackRoutes) add(pattern string, h http.Handler) {
	f.routes = append(f.routes, fallbackRoute{pattern, h})
}

// handler is the handler the routes' mux picks for r (Handler of
// ServeMux); routes are all added before the first request.
func (f *fallbackRoutes) handler(r *http.Request) http.Handler {
	f.once.Do(func() {
		f.mux = http.NewServeMux()
		for _, r := range f.routes {
			f.mux.Handle(r.pattern, r.h)
		}
	})
	h, _ := f.mux.Handler(r)
	return h
}

func newRouter(lazy bool) router {
	m := router{ServeMux: http.NewServeMux(), routes: &fallbackRoutes{}, opIDs: map[string]string{}}
	if lazy {
		m.lazy = newLazyRoutes()
	}
	m.ServeMux.HandleFunc("/", m.unmatched)
	return m
}

// HandleFunc implements humago.Mux.
func (m router) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	m.Handle(pattern, http.HandlerFunc(h))
}

// Handle registers h for pattern (Huma calls it for every operation).
func (m router) Handle(pattern string, h http.Handler) {
	pattern, route := routePattern(pattern)
	if m.lazy != nil {
		if m.lazy.fill(pattern, h) {
			return // a lazy operation, registered at last
		}
		h = m.lazy.whole(h) // the document, the schemas, the docs page
	}
	m.mount(pattern, route, h)
}

// operation registers an operation with Huma: now, or with lazy on its
// route's first request.
func (m router) operation(id, method, path string, register func()) {
	pattern, route := routePattern(method + " " + path)
	m.opIDs[pattern] = id
	if m.lazy == nil {
		register()
		return
	}
	m.mount(pattern, route, m.lazy.add(pattern, register))
}

// afterRegistration says what to do once every operation is registered:
// at once, or with lazy after the last registration.
func (m router) afterRegistration(all func()) {
	if m.lazy == nil {
		all()
		return
	}
	m.lazy.finish = all
}

// routePattern is pattern as the muxes take it ("GET /" matches only the
// root) and the route the access log names.
func routePattern(pattern string) (muxPattern, route string) {
	if strings.HasSuffix(pattern, " /") {
		pattern += "{$}"
	}
	_, route, _ = strings.Cut(pattern, " ")
	return pattern, strings.TrimSuffix(route, "{$}")
}

// mount puts h on the serving mux and then in the routes' list; the access
// log learns the route and operation from it. A pattern that conflicts with
// another panics on the serving mux, at start-up, before it is listed, so
// the routes' mux, built later from the listed patterns, cannot.
func (m router) mount(pattern, route string, h http.Handler) {
	op := m.opIDs[pattern]
	m.ServeMux.Handle(pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		middleware.Annotate(r.Context(), route, op)
		h.ServeHTTP(w, r)
	}))
	m.routes.add(pattern, h)
}

func (m router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !cleanPath(r.URL.Path) {
		// ServeMux would redirect to the cleaned path (and a client that
		// follows would replay a write there); an API client calls the URL
		// it was given, so "..", "." and "//" segments name nothing.
		middleware.WriteProblem(w, r, http.StatusNotFound, "No resource at "+truncateText(r.URL.Path)+": a path starts with / and has no empty, . or .. segments.")
		return
	}
	m.ServeMux.ServeHTTP(w, r)
}

// unmatched answers what the catch-all took: it asks ServeMux's own
// fallback for the routes alone what it would answer (404, 405 with Allow,
// or a redirect to a cleaned path) and turns 404 and 405 into problems.
func (m router) unmatched(w http.ResponseWriter, r *http.Request) {
	fallback := m.routes.handler(r)
	probe := &headerProbe{header: http.Header{}}
	fallback.ServeHTTP(probe, r)
	switch probe.status {
	case http.StatusNotFound:
		middleware.WriteProblem(w, r, http.StatusNotFound, "No resource at "+truncateText(r.URL.Path)+"; GET / lists where to start.")
	case http.StatusMethodNotAllowed:
		allow := probe.header.Get("Allow")
		w.Header().Set("Allow", allow)
		middleware.WriteProblem(w, r, http.StatusMethodNotAllowed, truncateText(r.Method)+" is not allowed on "+truncateText(r.URL.Path)+"; allowed: "+allow+".")
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

// cleanPath reports whether p is already in the form ServeMux routes on:
// it starts with "/" and has no empty, "." or ".." segment (a trailing
// slash is allowed). A scan, not path.Clean: this runs on every request.
func cleanPath(p string) bool {
	if p == "" || p[0] != '/' {
		return false // "*" (OPTIONS *, the HTTP/2 preface) or empty
	}
	for start := 1; start <= len(p); {
		end := strings.IndexByte(p[start:], '/')
		if end < 0 {
			end = len(p)
		} else {
			end += start
		}
		seg := p[start:end]
		last := end == len(p)
		if seg == "." || seg == ".." || (seg == "" && !last) {
			return false
		}
		start = end + 1
	}
	return true
}

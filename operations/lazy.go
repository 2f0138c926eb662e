package operations

import (
	"net/http"
	"sync"
	"sync/atomic"
)

// lazyRoutes registers each operation with Huma when its route first takes
// a request, instead of all of them when the API is built (Options.Lazy).
// Huma reflects over an operation's input and output types to build its
// schemas, parsers and validators: in a fresh process that is most of
// building the API, it grows with every operation added, and a cold start
// answers one request (docs/PERFORMANCE.md has the figures). The router knows every route from
// the start, so 404 and 405 answers do not change; anything that shows the
// whole API (the OpenAPI document, the JSON Schemas, /docs) registers the
// rest first.
//
// The round trip: a slot's register func calls huma.Register, which hands
// the operation's handler to the router (router.Handle), which puts it in
// the slot (fill) instead of on the muxes, where the slot already is.
//
// Huma's registry and document are not safe to change while other requests
// read them, so until every operation is registered a request holds mu for
// reading and a registration holds it for writing. The last registration
// also makes the document's amendments (finish); after it nothing changes,
// and no lock is taken.
type lazyRoutes struct {
	mu     sync.RWMutex
	slots  map[string]*lazySlot // by route pattern; complete once New returns
	order  []*lazySlot          // as routes.go declares them
	left   atomic.Int32         // slots not registered yet
	finish func()               // after the last: the document's amendments
}

// lazySlot is one operation's route: a placeholder on the muxes until Huma
// hands over the operation's handler.
type lazySlot struct {
	routes   *lazyRoutes
	register func()
	h        atomic.Pointer[http.Handler]
}

func newLazyRoutes() *lazyRoutes { return &lazyRoutes{slots: map[string]*lazySlot{}} }

func (l *lazyRoutes) add(pattern string, register func()) *lazySlot {
	s := &lazySlot{routes: l, register: register}
	l.slots[pattern] = s
	l.order = append(l.order, s)
	l.left.Add(1)
	return s
}

// fill takes the handler Huma registers for pattern; it reports false if
// pattern is not an operation's slot, or its slot is filled already.
func (l *lazyRoutes) fill(pattern string, h http.Handler) bool {
	s, ok := l.slots[pattern]
	if !ok || s.h.Load() != nil {
		return false
	}
	s.h.Store(&h)
	return true
}

func (s *lazySlot) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	l := s.routes
	if l.left.Load() == 0 {
		(*s.h.Load()).ServeHTTP(w, r)
		return
	}
	if s.h.Load() == nil {
		l.register(s)
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	(*s.h.Load()).ServeHTTP(w, r)
}

// register registers s's operation, under the write lock; a registration
// that panics (a mistake in the operation's types) leaves the lock free,
// so the panic becomes that request's 500 and other routes keep answering.
func (l *lazyRoutes) register(s *lazySlot) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.registerLocked(s)
}

// registerLocked registers s's operation unless that is done; l.mu is held.
func (l *lazyRoutes) registerLocked(s *lazySlot) {
	if s.h.Load() != nil {
		return
	}
	s.register()
	if s.h.Load() == nil {
		panic("operations: Huma registered no handler for a lazy route")
	}
	if l.left.Load() == 1 {
		l.finish() // before left reaches 0, which lets requests skip the lock
	}
	l.left.Add(-1)
}

// all registers every operation not registered yet; the handlers that show
// the whole API call it first.
func (l *lazyRoutes) all() {
	if l.left.Load() == 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range l.order {
		l.registerLocked(s)
	}
}

// whole wraps a handler that needs every operation registered.
func (l *lazyRoutes) whole(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l.all()
		h.ServeHTTP(w, r)
	})
}

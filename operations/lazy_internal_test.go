package operations

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestLazyPanicFreesTheLock: an operation whose registration panics (a
// mistake in its types) fails its own request, and every other route keeps
// answering.
func TestLazyPanicFreesTheLock(t *testing.T) {
	l := newLazyRoutes()
	finished := 0
	l.finish = func() { finished++ }
	bad := l.add("GET /bad", func() { panic("a bad struct tag") })
	good := l.add("GET /good", func() {
		l.fill("GET /good", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	})
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	func() {
		defer func() {
			if recover() == nil {
				t.Error("the registration's panic did not reach the request (middleware.Recover answers it)")
			}
		}()
		bad.ServeHTTP(httptest.NewRecorder(), req)
	}()
	done := make(chan int, 1)
	go func() {
		rec := httptest.NewRecorder()
		good.ServeHTTP(rec, req)
		done <- rec.Code
	}()
	select {
	case code := <-done:
		if code != http.StatusNoContent {
			t.Errorf("the other route answered %d", code)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("after a panicking registration, a request to another route hangs: the lock was not released")
	}
	if finished != 0 || l.left.Load() != 1 {
		t.Errorf("finish ran %d times with %d slots left; want 0 with the bad one left", finished, l.left.Load())
	}
}

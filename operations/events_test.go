package operations_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/typedapi/typedapi/models"
	"github.com/typedapi/typedapi/operations"
)

// sseEvent is one server-sent event or comment as a client reads it.
type sseEvent struct {
	id, event, data, comment string
}

// sseStream reads the events of a response, one at a time, on its own
// goroutine, so a test can wait for the next with a bound.
type sseStream struct {
	events chan sseEvent
	ended  chan error // the body's end: nil at a clean end
}

func readSSE(body io.Reader) *sseStream {
	s := &sseStream{events: make(chan sseEvent, 100), ended: make(chan error, 1)}
	go func() {
		br := bufio.NewReader(body)
		var ev sseEvent
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				if errors.Is(err, io.EOF) {
					err = nil
				}
				s.ended <- err
				return
			}
			line = strings.TrimSuffix(line, "\n")
			switch {
			case line == "":
				s.events <- ev
				ev = sseEvent{}
			case strings.HasPrefix(line, ": "):
				ev.comment = strings.TrimPrefix(line, ": ")
			case strings.HasPrefix(line, "id: "):
				ev.id = strings.TrimPrefix(line, "id: ")
			case strings.HasPrefix(line, "event: "):
				ev.event = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				ev.data = strings.TrimPrefix(line, "data: ")
			}
		}
	}()
	return s
}

// next is the next event that is not a comment (comments are skipped).
func (s *sseStream) next(t *testing.T) (sseEvent, operations.OrderStatusEvent) {
	t.Helper()
	for {
		select {
		case ev := <-s.events:
			if ev.event == "" && ev.data == "" {
				continue
			}
			var data operations.OrderStatusEvent
			if ev.event != "status" || json.Unmarshal([]byte(ev.data), &data) != nil {
				t.Fatalf("not a status event: %+v", ev)
			}
			return ev, data
		case err := <-s.ended:
			t.Fatalf("the stream ended (%v) before the next event", err)
		case <-time.After(waitLong):
			t.Fatal("no event")
		}
	}
}

// end waits for the stream's clean end, skipping comments; an event is a
// failure.
func (s *sseStream) end(t *testing.T) {
	t.Helper()
	for {
		select {
		case ev := <-s.events:
			if ev.event != "" || ev.data != "" {
				t.Fatalf("an event where the stream should end: %+v", ev)
			}
		case err := <-s.ended:
			if err != nil {
				t.Fatalf("the stream ended badly: %v", err)
			}
			return
		case <-time.After(waitLong):
			t.Fatal("the stream did not end")
		}
	}
}

// eventsServer is the API on a real HTTP server with fakeAuth's callers.
func eventsServer(t *testing.T, opts operations.Options) (http.Handler, *httptest.Server) {
	t.Helper()
	opts.Auth = newFakeAuth()
	h, _ := newHandlerAs(t, opts, nil)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return h, srv
}

// openEvents starts following the order's events as token.
func openEvents(t *testing.T, ctx context.Context, srv *httptest.Server, id, token string, headers ...string) *http.Response {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/v1/orders/"+id+"/events", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// TestOrderEventsFollowStatus: the owner's stream sends the order's
// status, then each change made through the API, and ends after it is
// shipped; resuming with Last-Event-ID sends only what came after.
func TestOrderEventsFollowStatus(t *testing.T) {
	h, srv := eventsServer(t, operations.Options{EventsPollInterval: 10 * time.Millisecond})
	item := createdItem(t, h, `{"name":"Cup","price":100,"currency":"EUR"}`, as(staffToken)...)
	order := createdOrder(t, h, item.ID, 2, as(aliceToken)...)

	resp := openEvents(t, context.Background(), srv, order.ID, aliceToken)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("%d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	s := readSSE(resp.Body)
	if ev, data := s.next(t); ev.id != "1" || data.Status != models.OrderPending || data.OrderID != order.ID {
		t.Fatalf("first event: %+v %+v", ev, data)
	}
	for i, status := range []string{"paid", "shipped"} {
		if rec := patchStatus(h, order.ID, status, as(staffToken)...); rec.Code != http.StatusOK {
			t.Fatalf("%s: %d %s", status, rec.Code, rec.Body)
		}
		if ev, data := s.next(t); ev.id != strconv.Itoa(i+2) || string(data.Status) != status || data.At.IsZero() {
			t.Fatalf("after %s: %+v %+v", status, ev, data)
		}
	}
	s.end(t) // shipped: nothing more will happen

	resumed := readSSE(openEvents(t, context.Background(), srv, order.ID, aliceToken, "Last-Event-ID", "2").Body)
	if ev, data := resumed.next(t); ev.id != "3" || data.Status != models.OrderShipped {
		t.Fatalf("resumed after 2: %+v %+v", ev, data)
	}
	resumed.end(t)

	// Every event received: 204, no body, so the client stops reconnecting.
	for _, method := range []string{http.MethodGet, http.MethodHead} {
		rec := request(h, method, "/v1/orders/"+order.ID+"/events", "", append(as(aliceToken), "Last-Event-ID", "3")...)
		if rec.Code != http.StatusNoContent || rec.Body.Len() != 0 {
			t.Errorf("%s resuming after the last event of a shipped order: %d %q", method, rec.Code, rec.Body)
		}
	}
}

// TestOrderEventsNoContentOnlyWhenFinished: 204 needs both a finished
// order and a Last-Event-ID at its last status; an open order with any id
// streams on.
func TestOrderEventsNoContentOnlyWhenFinished(t *testing.T) {
	h, srv := eventsServer(t, operations.Options{EventsPollInterval: 10 * time.Millisecond, EventsMaxDuration: 300 * time.Millisecond})
	item := createdItem(t, h, `{"name":"Cup","price":100,"currency":"EUR"}`, as(staffToken)...)
	order := createdOrder(t, h, item.ID, 1, as(aliceToken)...)
	open := openEvents(t, context.Background(), srv, order.ID, aliceToken, "Last-Event-ID", "1")
	if open.StatusCode != http.StatusOK {
		t.Fatalf("pending order after its last event: %d, want the stream", open.StatusCode)
	}
	readSSE(open.Body).end(t) // nothing new before the maximum duration
	if rec := patchStatus(h, order.ID, "cancelled", as(aliceToken)...); rec.Code != http.StatusOK {
		t.Fatalf("cancel: %d %s", rec.Code, rec.Body)
	}
	s := readSSE(openEvents(t, context.Background(), srv, order.ID, aliceToken, "Last-Event-ID", "1").Body)
	if ev, data := s.next(t); ev.id != "2" || data.Status != models.OrderCancelled {
		t.Fatalf("cancelled order resumed before its last event: %+v %+v", ev, data)
	}
	s.end(t)
	if rec := request(h, http.MethodGet, "/v1/orders/"+order.ID+"/events", "", append(as(aliceToken), "Last-Event-ID", "2")...); rec.Code != http.StatusNoContent {
		t.Errorf("cancelled order after its last event: %d", rec.Code)
	}
}

// TestOrderEventsHeartbeatAndMaxDuration: a quiet stream sends heartbeat
// comments, and ends cleanly at its maximum duration.
func TestOrderEventsHeartbeatAndMaxDuration(t *testing.T) {
	h, srv := eventsServer(t, operations.Options{
		EventsHeartbeat:    20 * time.Millisecond,
		EventsPollInterval: time.Hour, // nothing is read again: only heartbeats
		EventsMaxDuration:  300 * time.Millisecond,
	})
	item := createdItem(t, h, `{"name":"Cup","price":100,"currency":"EUR"}`, as(staffToken)...)
	order := createdOrder(t, h, item.ID, 1, as(aliceToken)...)
	s := readSSE(openEvents(t, context.Background(), srv, order.ID, aliceToken).Body)
	s.next(t)
	heartbeats := 0
	for {
		select {
		case ev := <-s.events:
			if ev.comment == "heartbeat" {
				heartbeats++
			}
		case err := <-s.ended:
			if err != nil || heartbeats == 0 {
				t.Fatalf("ended with %v after %d heartbeats", err, heartbeats)
			}
			return
		case <-time.After(waitLong):
			t.Fatal("the stream outlived its maximum duration")
		}
	}
}

// TestOrderEventsEndAtDeadline: the request's deadline ends the stream, as
// the invocation's deadline does on Lambda, where no disconnect is told.
func TestOrderEventsEndAtDeadline(t *testing.T) {
	h, _ := newHandler(t, operations.Options{EventsPollInterval: 10 * time.Millisecond}, nil)
	item := createdItem(t, h, `{"name":"Cup","price":100,"currency":"EUR"}`)
	order := createdOrder(t, h, item.ID, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	req := httptest.NewRequestWithContext(ctx, http.MethodGet, "/v1/orders/"+order.ID+"/events", nil)
	rec := httptest.NewRecorder()
	done := make(chan struct{})
	go func() { h.ServeHTTP(rec, req); close(done) }()
	select {
	case <-done:
	case <-time.After(waitLong):
		t.Fatal("the stream outlived its request's deadline")
	}
	if !strings.Contains(rec.Body.String(), "id: 1\nevent: status\n") {
		t.Errorf("body: %q", rec.Body)
	}
}

// TestOrderEventsDisconnectFreesGoroutine: when the client goes away the
// server's goroutines for the stream end (the count returns to where it
// was), with the poll and the heartbeat far off.
func TestOrderEventsDisconnectFreesGoroutine(t *testing.T) {
	h, srv := eventsServer(t, operations.Options{EventsPollInterval: time.Hour, EventsHeartbeat: time.Hour})
	item := createdItem(t, h, `{"name":"Cup","price":100,"currency":"EUR"}`, as(staffToken)...)
	order := createdOrder(t, h, item.ID, 1, as(aliceToken)...)
	srv.Client().Transport.(*http.Transport).DisableKeepAlives = true
	baseline := runtime.NumGoroutine()

	ctx, cancel := context.WithCancel(context.Background())
	resp := openEvents(t, ctx, srv, order.ID, aliceToken)
	s := readSSE(resp.Body)
	s.next(t)
	if n := runtime.NumGoroutine(); n <= baseline {
		t.Fatalf("%d goroutines while streaming, %d before: the count shows nothing", n, baseline)
	}
	cancel()
	<-s.ended
	deadline := time.Now().Add(waitLong)
	for runtime.NumGoroutine() > baseline {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines, %d before the stream:\n%s", runtime.NumGoroutine(), baseline, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(5 * time.Millisecond) // a bounded poll of the count
	}
}

// TestOrderEventsRefusals: no token 401, another caller's order 404, a
// bad id or Last-Event-ID 422, each a problem before any stream.
func TestOrderEventsRefusals(t *testing.T) {
	h, _ := newHandlerAs(t, operations.Options{Auth: newFakeAuth()}, nil)
	item := createdItem(t, h, `{"name":"Cup","price":100,"currency":"EUR"}`, as(staffToken)...)
	order := createdOrder(t, h, item.ID, 1, as(aliceToken)...)
	path := "/v1/orders/" + order.ID + "/events"
	for _, c := range []struct {
		name   string
		target string
		status int
		header []string
	}{
		{"no token", path, http.StatusUnauthorized, nil},
		{"another caller's", path, http.StatusNotFound, as(bobToken)},
		{"missing", "/v1/orders/01ARZ3NDEKTSV4RRFFQ69G5FAV/events", http.StatusNotFound, as(aliceToken)},
		{"bad id", "/v1/orders/bad/events", http.StatusUnprocessableEntity, as(aliceToken)},
		{"bad Last-Event-ID", path, http.StatusUnprocessableEntity, append(as(aliceToken), "Last-Event-ID", "x")},
	} {
		rec := request(h, http.MethodGet, c.target, "", c.header...)
		if rec.Code != c.status || rec.Header().Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s: %d %q %s", c.name, rec.Code, rec.Header().Get("Content-Type"), rec.Body)
		}
	}
	if rec := request(h, http.MethodHead, path, "", as(aliceToken)...); rec.Code != http.StatusOK ||
		rec.Header().Get("Content-Type") != "text/event-stream" || rec.Body.Len() != 0 {
		t.Errorf("HEAD: %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
}

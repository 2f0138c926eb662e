package operations_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/typedapi/typedapi/internal/itemid"
	"github.com/typedapi/typedapi/models"
	"github.com/typedapi/typedapi/operations"
	"github.com/typedapi/typedapi/store/memory"
)

// waitLong bounds a wait for something that happens at once unless the
// code under test is broken: generous, for a loaded machine.
const waitLong = 30 * time.Second

// ndjson parses an export's body, one JSON object per line.
func ndjson[T any](t *testing.T, body []byte) []T {
	t.Helper()
	var out []T
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var v T
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("line %d is not a JSON object: %v: %q", len(out)+1, err, sc.Bytes())
		}
		out = append(out, v)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// listPages pages through a list with the largest pages, as a client does.
func listPages[T any](t *testing.T, h http.Handler, path, field string, headers ...string) []T {
	t.Helper()
	var all []T
	cursor := ""
	for {
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		target := path + sep + "limit=100"
		if cursor != "" {
			target += "&cursor=" + cursor
		}
		rec := request(h, http.MethodGet, target, "", headers...)
		if rec.Code != http.StatusOK {
			t.Fatalf("GET %s: %d %s", target, rec.Code, rec.Body)
		}
		var page map[string]json.RawMessage
		_ = json.Unmarshal(rec.Body.Bytes(), &page)
		var rows []T
		_ = json.Unmarshal(page[field], &rows)
		all = append(all, rows...)
		cursor = ""
		_ = json.Unmarshal(page["next_cursor"], &cursor)
		if cursor == "" {
			return all
		}
	}
}

// seedItems stores n items straight into the store, with every third
// tagged "blue" and names cycling through three words.
func seedItems(t testing.TB, s *memory.Store, n int) {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Millisecond)
	words := []string{"Espresso cup", "Teapot", "espresso saucer"}
	for i := range n {
		item := models.Item{
			ID: itemid.New(now),
			ItemFields: models.ItemFields{
				Name:     fmt.Sprintf("%s %d", words[i%3], i),
				Price:    int64(100 + i),
				Currency: "EUR",
			},
			CreatedAt: now, UpdatedAt: now, Version: 1,
		}
		if i%3 == 0 {
			item.Tags = []models.Tag{"blue", "kitchen"}
		}
		if _, _, err := s.Create(context.Background(), item, nil); err != nil {
			t.Fatal(err)
		}
	}
}

// TestExportItemsMatchesList: the export's lines are exactly the items the
// list pages through, with the same filters, as NDJSON.
func TestExportItemsMatchesList(t *testing.T) {
	mem := memory.New()
	seedItems(t, mem, 250)
	h, _ := newHandler(t, operations.Options{}, mem)
	for _, filter := range []string{"", "tag=blue", "q=ESP", "tag=blue&q=esp", "tag=none"} {
		t.Run(filter, func(t *testing.T) {
			rec := request(h, http.MethodGet, "/v1/items/export?"+filter, "")
			if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/x-ndjson" {
				t.Fatalf("%d %q %s", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
			}
			got := ndjson[models.Item](t, rec.Body.Bytes())
			want := listPages[models.Item](t, h, "/v1/items?"+filter, "items")
			if len(want) == 0 && filter != "tag=none" {
				t.Fatal("the filter matches nothing: the test shows nothing")
			}
			gb, _ := json.Marshal(got)
			wb, _ := json.Marshal(want)
			if len(got) != len(want) || !bytes.Equal(gb, wb) {
				t.Errorf("export has %d items, the list %d; they differ", len(got), len(want))
			}
		})
	}
	if rec := request(h, http.MethodHead, "/v1/items/export", ""); rec.Code != http.StatusOK || rec.Body.Len() != 0 ||
		rec.Header().Get("Content-Type") != "application/x-ndjson" {
		t.Errorf("HEAD: %d %q %q", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
	}
}

// TestExportUnknownFilter: a query parameter the export does not take is a
// 422 naming it, while the list keeps ignoring it; the export's own
// filters are validated as the list's are.
func TestExportUnknownFilter(t *testing.T) {
	h, _ := newHandler(t, operations.Options{}, nil)
	for _, c := range []struct{ target, location string }{
		{"/v1/items/export?limit=5", "query.limit"},
		{"/v1/items/export?tag=blue&colour=red", "query.colour"},
		{"/v1/items/export?cursor=abc", "query.cursor"},
		{"/v1/orders/export?q=cup", "query.q"},
		{"/v1/items/export?q=", "query.q"},                // empty: refused as the list refuses it
		{"/v1/orders/export?status=lost", "query.status"}, // not a status
	} {
		rec := request(h, http.MethodGet, c.target, "")
		var p struct {
			Errors []struct{ Location, Message string }
		}
		_ = json.Unmarshal(rec.Body.Bytes(), &p)
		if rec.Code != http.StatusUnprocessableEntity || rec.Header().Get("Content-Type") != "application/problem+json" ||
			len(p.Errors) != 1 || p.Errors[0].Location != c.location {
			t.Errorf("GET %s: %d %q %s", c.target, rec.Code, rec.Header().Get("Content-Type"), rec.Body)
		}
	}
	if rec := request(h, http.MethodGet, "/v1/items?colour=red", ""); rec.Code != http.StatusOK {
		t.Errorf("the list with an unknown parameter: %d %s", rec.Code, rec.Body)
	}
}

// TestExportOrdersOwnOnly: a customer's export holds their own orders
// only, filtered as the list filters; the staff's holds everyone's; no
// token is a 401.
func TestExportOrdersOwnOnly(t *testing.T) {
	h, _ := newHandlerAs(t, operations.Options{Auth: newFakeAuth()}, nil)
	cup := createdItem(t, h, `{"name":"Cup","price":100,"currency":"EUR"}`, as(staffToken)...)
	pot := createdItem(t, h, `{"name":"Pot","price":900,"currency":"EUR"}`, as(staffToken)...)
	owned := map[string]int{}
	for i := range 7 {
		who, item := aliceToken, cup.ID
		if i%2 == 1 {
			who, item = bobToken, pot.ID
		}
		o := createdOrder(t, h, item, i+1, as(who)...)
		owned[who]++
		if i == 0 {
			if rec := patchStatus(h, o.ID, "cancelled", as(who)...); rec.Code != http.StatusOK {
				t.Fatalf("cancel: %d %s", rec.Code, rec.Body)
			}
		}
	}
	for _, c := range []struct {
		token, filter string
		want          int
		owner         string
	}{
		{aliceToken, "", owned[aliceToken], "alice"},
		{bobToken, "", owned[bobToken], "bob"},
		{aliceToken, "status=cancelled", 1, "alice"},
		{aliceToken, "item_id=" + pot.ID, 0, "alice"},
		{staffToken, "", 7, ""},
		{staffToken, "item_id=" + pot.ID, owned[bobToken], ""},
	} {
		rec := request(h, http.MethodGet, "/v1/orders/export?"+c.filter, "", as(c.token)...)
		if rec.Code != http.StatusOK {
			t.Fatalf("%s %s: %d %s", c.token, c.filter, rec.Code, rec.Body)
		}
		got := ndjson[models.Order](t, rec.Body.Bytes())
		want := listPages[models.Order](t, h, "/v1/orders?"+c.filter, "orders", as(c.token)...)
		gb, _ := json.Marshal(got)
		wb, _ := json.Marshal(want)
		if len(got) != c.want || !bytes.Equal(gb, wb) {
			t.Errorf("%s %s: %d orders, want %d as the list shows", c.token, c.filter, len(got), c.want)
		}
		for _, o := range got {
			if c.owner != "" && o.Owner != c.owner {
				t.Errorf("%s sees %s's order %s", c.owner, o.Owner, o.ID)
			}
		}
	}
	if rec := request(h, http.MethodGet, "/v1/orders/export", ""); rec.Code != http.StatusUnauthorized {
		t.Errorf("no token: %d", rec.Code)
	}
}

// gatedStore holds every page read after the first (an export's next
// pages) until the test opens the gate, saying when one is asked for.
type gatedStore struct {
	*memory.Store
	asked chan struct{} // receives once per held page read
	gate  chan struct{} // closed: pages pass
	pages atomic.Int64  // List calls made
}

func newGatedStore(mem *memory.Store) *gatedStore {
	return &gatedStore{Store: mem, asked: make(chan struct{}, 1000), gate: make(chan struct{})}
}

func (s *gatedStore) List(ctx context.Context, q models.ListQuery) (models.ListPage, error) {
	s.pages.Add(1)
	if q.After != "" {
		s.asked <- struct{}{}
		select {
		case <-s.gate:
		case <-ctx.Done():
			return models.ListPage{}, ctx.Err()
		}
	}
	return s.Store.List(ctx, q)
}

// TestExportCap: beyond export_concurrency exports at once, 503 with
// Retry-After as a problem; once one ends its slot is free again.
func TestExportCap(t *testing.T) {
	mem := memory.New()
	seedItems(t, mem, 150) // two pages
	gs := newGatedStore(mem)
	h, _ := newHandler(t, operations.Options{ExportConcurrency: 1}, gs)
	first := make(chan *httptest.ResponseRecorder)
	go func() { first <- request(h, http.MethodGet, "/v1/items/export", "") }()
	select {
	case <-gs.asked: // the first export holds its slot, reading its second page
	case <-time.After(waitLong):
		t.Fatal("the first export never asked for its second page")
	}
	rec := request(h, http.MethodGet, "/v1/items/export", "")
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" ||
		rec.Header().Get("Content-Type") != "application/problem+json" || !strings.Contains(rec.Body.String(), "exports") {
		t.Errorf("over the cap: %d Retry-After %q %s", rec.Code, rec.Header().Get("Retry-After"), rec.Body)
	}
	// The list is no export: not capped.
	if rec := request(h, http.MethodGet, "/v1/items?limit=1", ""); rec.Code != http.StatusOK {
		t.Errorf("a list while the export runs: %d", rec.Code)
	}
	close(gs.gate)
	if rec := <-first; rec.Code != http.StatusOK || len(ndjson[models.Item](t, rec.Body.Bytes())) != 150 {
		t.Fatalf("the first export: %d", rec.Code)
	}
	if rec := request(h, http.MethodGet, "/v1/items/export", ""); rec.Code != http.StatusOK {
		t.Errorf("after the first ended: %d %s", rec.Code, rec.Body)
	}
	// A refused request takes no slot: bad input neither.
	for range 3 {
		request(h, http.MethodGet, "/v1/items/export?bad=1", "")
	}
	if rec := request(h, http.MethodGet, "/v1/items/export", ""); rec.Code != http.StatusOK {
		t.Errorf("after refused requests: %d %s", rec.Code, rec.Body)
	}
}

// TestExportFirstLineBeforeSecondPage: through a real server, the first
// line reaches the client while the second page has not been read yet.
func TestExportFirstLineBeforeSecondPage(t *testing.T) {
	mem := memory.New()
	seedItems(t, mem, 250)
	gs := newGatedStore(mem)
	h, _ := newHandler(t, operations.Options{}, gs)
	srv := httptest.NewServer(h)
	defer srv.Close()
	defer close(gs.gate)

	resp, err := http.Get(srv.URL + "/v1/items/export")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	line := make(chan string, 1)
	go func() {
		l, _ := bufio.NewReader(resp.Body).ReadString('\n')
		line <- l
	}()
	select {
	case l := <-line:
		var item models.Item
		if err := json.Unmarshal([]byte(l), &item); err != nil || item.ID == "" {
			t.Fatalf("first line: %q", l)
		}
	case <-time.After(waitLong):
		t.Fatal("no line arrived while the second page was held: the first page was not flushed")
	}
	select {
	case <-gs.asked: // the second page is being asked for, and held
	case <-time.After(waitLong):
		t.Fatal("the second page was never asked for")
	}
}

// countingListener shrinks the send buffer of every connection it accepts,
// so that what a stalled client leaves unread is small and known.
type smallBufferListener struct{ net.Listener }

func (l smallBufferListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetWriteBuffer(16 << 10)
	}
	return c, err
}

// countingStore counts the pages read.
type countingStore struct {
	*memory.Store
	pages atomic.Int64
}

func (s *countingStore) List(ctx context.Context, q models.ListQuery) (models.ListPage, error) {
	s.pages.Add(1)
	return s.Store.List(ctx, q)
}

// TestExportSlowReaderBounded: a client that stops reading does not make
// the server read ahead: it stops reading pages once the socket's buffers
// are full, holding one page, and the write timeout then ends the export
// and frees its slot.
func TestExportSlowReaderBounded(t *testing.T) {
	const n = 20000 // 200 pages
	mem := memory.New()
	seedItems(t, mem, n)
	cs := &countingStore{Store: mem}
	h, _ := newHandler(t, operations.Options{ExportConcurrency: 1, StreamWriteTimeout: 300 * time.Millisecond}, cs)
	done := make(chan struct{}, 10)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r)
		if r.URL.Path == "/v1/items/export" {
			done <- struct{}{}
		}
	}))
	srv.Listener = smallBufferListener{srv.Listener}
	srv.Start()
	defer srv.Close()

	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.(*net.TCPConn).SetReadBuffer(4 << 10)
	fmt.Fprintf(conn, "GET /v1/items/export HTTP/1.1\r\nHost: x\r\n\r\n")
	// Read the head and a little, then stop reading.
	head := make([]byte, 512)
	if _, err := io.ReadFull(conn, head); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(waitLong):
		t.Fatal("the export of a stalled client never ended")
	}
	pages := cs.pages.Load()
	t.Logf("pages read for a stalled client: %d of 200", pages)
	if pages > 10 {
		t.Errorf("the server read %d of 200 pages for a client that read 512 bytes", pages)
	}
	// Its slot is free again.
	resp, err := http.Get(srv.URL + "/v1/items/export?tag=blue")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || bytes.Count(body, []byte("\n")) != (n+2)/3 {
		t.Errorf("the next export: %d, %d lines", resp.StatusCode, bytes.Count(body, []byte("\n")))
	}
}

// heapStore measures the live heap (after a collection) every few pages.
type heapStore struct {
	*memory.Store
	pages atomic.Int64
	mu    sync.Mutex
	peak  uint64
}

func (s *heapStore) List(ctx context.Context, q models.ListQuery) (models.ListPage, error) {
	if s.pages.Add(1)%50 == 0 {
		live := liveHeap()
		s.mu.Lock()
		s.peak = max(s.peak, live)
		s.mu.Unlock()
	}
	return s.Store.List(ctx, q)
}

// liveHeap is the heap in use by live objects.
func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestExportMemoryFlat: exporting 100,000 items through a real server
// keeps the live heap near where it was before: the export holds a page,
// not the result. The bound is generous (a correctness property, not a
// benchmark); docs/PERFORMANCE.md has the measured figure.
func TestExportMemoryFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("100,000 items")
	}
	const n = 100_000
	mem := memory.New()
	seedItems(t, mem, n)
	hs := &heapStore{Store: mem}
	h, _ := newHandler(t, operations.Options{}, hs)
	srv := httptest.NewServer(h)
	defer srv.Close()
	// One request first, so the server's and client's one-time costs
	// (connections, registrations) are in the idle figure.
	if resp, err := http.Get(srv.URL + "/v1/items/export?tag=none"); err == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	idle := liveHeap()

	resp, err := http.Get(srv.URL + "/v1/items/export")
	if err != nil {
		t.Fatal(err)
	}
	lines := 0
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		lines++
	}
	resp.Body.Close()
	if lines != n || hs.pages.Load() < 1000 {
		t.Fatalf("%d lines, %d pages", lines, hs.pages.Load())
	}
	hs.mu.Lock()
	peak := hs.peak
	hs.mu.Unlock()
	delta := int64(peak) - int64(idle)
	t.Logf("live heap: idle %.2f MiB, peak during the export %.2f MiB, delta %.3f MiB",
		float64(idle)/(1<<20), float64(peak)/(1<<20), float64(delta)/(1<<20))
	if delta > 16<<20 {
		t.Errorf("the live heap grew by %d bytes during the export", delta)
	}
}

// BenchmarkExport100k: a whole export of 100,000 items through a real
// server, with the time to its first line and the heap allocated per
// export (docs/PERFORMANCE.md).
func BenchmarkExport100k(b *testing.B) {
	mem := memory.New()
	seedItems(b, mem, 100_000)
	h, _ := operations.New(operations.Options{Logger: slog.New(slog.DiscardHandler)}, operations.StoresOf(mem))
	srv := httptest.NewServer(h)
	defer srv.Close()
	var first time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		resp, err := http.Get(srv.URL + "/v1/items/export")
		if err != nil {
			b.Fatal(err)
		}
		br := bufio.NewReaderSize(resp.Body, 64<<10)
		if _, err := br.ReadSlice('\n'); err != nil {
			b.Fatal(err)
		}
		first += time.Since(start)
		_, _ = io.Copy(io.Discard, br)
		resp.Body.Close()
	}
	b.ReportMetric(float64(first.Microseconds())/float64(b.N), "µs-to-first-line")
}

// laterFailingStore fails every page read after the first.
type laterFailingStore struct{ *memory.Store }

func (s laterFailingStore) List(ctx context.Context, q models.ListQuery) (models.ListPage, error) {
	if q.After != "" {
		return models.ListPage{}, models.ErrUnavailable
	}
	return s.Store.List(ctx, q)
}

// TestExportCutOnLaterFailure: a store failure after the first page has
// been sent cuts the connection, so the client cannot take the export for
// a whole one; the cause is logged with the request id. A failure before
// the first line is a problem, as for a list.
func TestExportCutOnLaterFailure(t *testing.T) {
	mem := memory.New()
	seedItems(t, mem, 150)
	h, logs := newHandler(t, operations.Options{}, laterFailingStore{mem})
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/v1/items/export")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || err == nil || bytes.Count(body, []byte("\n")) != 100 {
		t.Errorf("%d, %d lines, read error %v: want the first page and a cut connection", resp.StatusCode, bytes.Count(body, []byte("\n")), err)
	}
	if !strings.Contains(logs.String(), "export of items failed after its first page") {
		t.Errorf("the cause is not logged: %s", logs)
	}
	failing, _ := newHandler(t, operations.Options{}, failingStore{mem, models.ErrUnavailable})
	if rec := request(failing, http.MethodGet, "/v1/items/export", ""); rec.Code != http.StatusServiceUnavailable ||
		rec.Header().Get("Content-Type") != "application/problem+json" {
		t.Errorf("failing at once: %d %s", rec.Code, rec.Body)
	}
}

// reuseStore records the capacity of the Reuse each page read was given.
type reuseStore struct {
	*memory.Store
	mu   sync.Mutex
	caps []int
}

func (s *reuseStore) List(ctx context.Context, q models.ListQuery) (models.ListPage, error) {
	s.record(cap(q.Reuse))
	return s.Store.List(ctx, q)
}

func (s *reuseStore) ListOrders(ctx context.Context, q models.OrderQuery) (models.Page[models.Order], error) {
	s.record(cap(q.Reuse))
	return s.Store.ListOrders(ctx, q)
}

func (s *reuseStore) record(c int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.caps = append(s.caps, c)
}

// TestExportHandsPagesBack: both exports give the store each page they
// have sent as Reuse for the next, which is what keeps an export of any
// size from making a page of garbage per page (docs/PERFORMANCE.md, the
// export's resident memory).
func TestExportHandsPagesBack(t *testing.T) {
	rs := &reuseStore{Store: memory.New()}
	seedItems(t, rs.Store, 250)
	h, _ := newHandler(t, operations.Options{}, rs)
	cup := createdItem(t, h, `{"name":"Cup","price":100,"currency":"EUR"}`)
	for range 201 {
		createdOrder(t, h, cup.ID, 1)
	}
	for path, lines := range map[string]int{"/v1/items/export": 251, "/v1/orders/export": 201} {
		rs.caps = nil
		rec := request(h, http.MethodGet, path, "")
		if rec.Code != http.StatusOK || bytes.Count(rec.Body.Bytes(), []byte("\n")) != lines {
			t.Fatalf("%s: %d, %d lines", path, rec.Code, bytes.Count(rec.Body.Bytes(), []byte("\n")))
		}
		if want := []int{0, 100, 100}; !slices.Equal(rs.caps, want) {
			t.Errorf("%s: Reuse capacities %v, want %v (the page sent handed back)", path, rs.caps, want)
		}
	}
}

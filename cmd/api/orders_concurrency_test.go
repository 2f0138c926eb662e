package main

import (
	"encoding/json"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/typedapi/typedapi/models"
)

// TestConcurrentOrderPatches: 20 clients PATCH one order from the same
// ETag at once; exactly one succeeds, every other is 412 (or a 503 the
// client may retry), and the order moved once.
func TestConcurrentOrderPatches(t *testing.T) {
	for name, env := range storeEnvs(t) {
		t.Run(name, func(t *testing.T) {
			base, _ := startServer(t, env)
			c := client{t, base}
			_, b := c.expect(201, "POST", "/v1/items", `{"name":"Cup","price":1250,"currency":"EUR"}`)
			var item models.Item
			_ = json.Unmarshal(b, &item)
			resp, b := c.expect(201, "POST", "/v1/orders", `{"item_id":"`+item.ID+`","quantity":1}`)
			var order models.Order
			_ = json.Unmarshal(b, &order)
			etag := resp.Header.Get("ETag")

			const writers = 20
			var wins, stale, unknown atomic.Int64
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i := range writers {
				wg.Go(func() {
					status := "paid"
					if i%2 == 1 {
						status = "cancelled"
					}
					<-start
					resp, b := c.do("PATCH", "/v1/orders/"+order.ID, `{"status":"`+status+`"}`,
						"If-Match", etag, "Content-Type", "application/merge-patch+json")
					switch resp.StatusCode {
					case 200:
						wins.Add(1)
					case 412:
						stale.Add(1)
					case 503:
						unknown.Add(1)
					default:
						t.Errorf("PATCH answered %d: %s", resp.StatusCode, b)
					}
				})
			}
			close(start)
			wg.Wait()
			_, b = c.expect(200, "GET", "/v1/orders/"+order.ID, "")
			var final models.Order
			_ = json.Unmarshal(b, &final)
			t.Logf("%d wins, %d stale (412), %d unknown (503)", wins.Load(), stale.Load(), unknown.Load())
			if wins.Load() != 1 || final.Version != 2 || len(final.StatusHistory) != 2 {
				t.Errorf("%d PATCHes from one ETag won; the order is at version %d with history %v: want exactly one", wins.Load(), final.Version, final.StatusHistory)
			}
		})
	}
}

// TestConcurrentKeyedOrderCreates: 50 clients send the same create with one
// Idempotency-Key at once. Exactly one order is made; every answer is its
// 201 (the first, or replayed) or a 409 with Retry-After. The same key was
// used on an item create before: keys are scoped to their operation.
func TestConcurrentKeyedOrderCreates(t *testing.T) {
	for name, env := range storeEnvs(t) {
		t.Run(name, func(t *testing.T) {
			base, _ := startServer(t, env)
			c := client{t, base}
			_, b := c.expect(201, "POST", "/v1/items", `{"name":"Cup","price":1250,"currency":"EUR"}`, "Idempotency-Key", "shared-key")
			var item models.Item
			_ = json.Unmarshal(b, &item)

			const clients = 50
			body := `{"item_id":"` + item.ID + `","quantity":2}`
			var created, replayed, busy, retried atomic.Int64
			ids := sync.Map{}
			start := make(chan struct{})
			var wg sync.WaitGroup
			for range clients {
				wg.Go(func() {
					<-start
					// A 503 + Retry-After is the overloaded store's answer;
					// a client retries it with the same key.
					resp, b := c.doRetrying(&retried, "POST", "/v1/orders", body, "Idempotency-Key", "shared-key")
					switch {
					case resp.StatusCode == 201 && resp.Header.Get("Idempotent-Replayed") == "true":
						replayed.Add(1)
					case resp.StatusCode == 201:
						created.Add(1)
					case resp.StatusCode == 409 && resp.Header.Get("Retry-After") != "":
						busy.Add(1)
						return
					default:
						t.Errorf("create answered %d %v: %s", resp.StatusCode, resp.Header, b)
						return
					}
					var o models.Order
					_ = json.Unmarshal(b, &o)
					ids.Store(o.ID, true)
				})
			}
			close(start)
			wg.Wait()
			t.Logf("%d created, %d replayed, %d busy (409), %d retried after 503", created.Load(), replayed.Load(), busy.Load(), retried.Load())
			n := 0
			ids.Range(func(any, any) bool { n++; return true })
			_, b = c.expect(200, "GET", "/v1/orders?item_id="+item.ID, "")
			var page struct {
				Orders []models.Order `json:"orders"`
			}
			_ = json.Unmarshal(b, &page)
			if created.Load() != 1 || n != 1 || len(page.Orders) != 1 {
				t.Errorf("%d creates answered as new, %d distinct ids, %d orders stored: want exactly one order", created.Load(), n, len(page.Orders))
			}
		})
	}
}

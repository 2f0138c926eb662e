package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/typedapi/typedapi/models"
)

// TestStreamsThroughStreamingURL: the export and the order's events go out
// through a RESPONSE_STREAM Function URL (`api gateway --source url
// --stream`: the Lambda handler on the streaming path, behind the Runtime
// API stand-in): the export as NDJSON over pages, and the event stream
// live, seeing a change made by another invocation and ending with it.
func TestStreamsThroughStreamingURL(t *testing.T) {
	base := startGatewayEnv(t, map[string]string{"TYPEDAPI_EVENTS_POLL_INTERVAL": "100ms"}, "--source", "url", "--stream")
	c := client{t, base}
	const n = 150 // the export reads pages of 100: two of them
	var item models.Item
	for i := range n {
		_, b := c.expect(201, "POST", "/v1/items", fmt.Sprintf(`{"name":"Cup %d","price":100,"currency":"EUR"}`, i), "Content-Type", "application/json")
		if err := json.Unmarshal(b, &item); err != nil {
			t.Fatal(err)
		}
	}

	resp, err := http.Get(base + "/v1/items/export")
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/x-ndjson" || resp.ContentLength != -1 {
		t.Fatalf("export: %s %v (length %d: want streamed, no Content-Length)", resp.Status, resp.Header, resp.ContentLength)
	}
	ids := map[string]bool{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		var it models.Item
		if err := json.Unmarshal(sc.Bytes(), &it); err != nil || it.ID == "" {
			t.Fatalf("export line %q: %v", sc.Text(), err)
		}
		ids[it.ID] = true
	}
	resp.Body.Close()
	if err := sc.Err(); err != nil || len(ids) != n {
		t.Fatalf("export: %d distinct items, want %d (%v)", len(ids), n, err)
	}

	_, b := c.expect(201, "POST", "/v1/orders", `{"item_id":"`+item.ID+`","quantity":1}`, "Content-Type", "application/json")
	var order models.Order
	if err := json.Unmarshal(b, &order); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", base+"/v1/orders/"+order.ID+"/events", nil)
	req.Header.Set("Accept", "text/event-stream")
	events, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer events.Body.Close()
	if events.StatusCode != 200 || !strings.HasPrefix(events.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("events: %s %v", events.Status, events.Header)
	}
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(events.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	// next reads up to and including the next line starting with prefix.
	next := func(prefix string) string {
		t.Helper()
		timeout := time.After(60 * time.Second)
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("the stream ended before a line starting %q", prefix)
				}
				if strings.HasPrefix(l, prefix) {
					return l
				}
			case <-timeout:
				t.Fatalf("no line starting %q within a minute", prefix)
			}
		}
	}
	if l := next("data:"); !strings.Contains(l, `"pending"`) {
		t.Fatalf("first event: %s", l)
	}
	// The stream is live before the change is made, by another invocation.
	c.expect(200, "PATCH", "/v1/orders/"+order.ID, `{"status":"cancelled"}`, "Content-Type", "application/merge-patch+json")
	if l := next("data:"); !strings.Contains(l, `"cancelled"`) {
		t.Fatalf("event after the change: %s", l)
	}
	select {
	case l, ok := <-lines:
		for ok && (l == "" || strings.HasPrefix(l, ":")) { // blank line or heartbeat
			l, ok = <-lines
		}
		if ok {
			t.Errorf("after cancelled the stream goes on: %q", l)
		}
	case <-time.After(60 * time.Second):
		t.Error("the stream did not end after the order was cancelled")
	}
}

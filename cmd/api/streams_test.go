package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/typedapi/typedapi/internal/lambdalocal"
	"github.com/typedapi/typedapi/internal/logsink"
	"github.com/typedapi/typedapi/models"
)

// TestExportThroughServer: through the real server, the export streams
// every item as NDJSON, the same the list pages through, filtered as the
// list is; an unknown filter is a 422 problem; the spec declares it.
func TestExportThroughServer(t *testing.T) {
	base, _ := startServer(t, nil)
	c := client{t, base}
	for i := range 130 {
		c.expect(http.StatusCreated, "POST", "/v1/items", fmt.Sprintf(`{"name":"Cup %d","price":%d,"currency":"EUR","tags":["t%d"]}`, i, 100+i, i%2))
	}
	resp, body := c.expect(http.StatusOK, "GET", "/v1/items/export?tag=t1", "")
	if resp.Header.Get("Content-Type") != "application/x-ndjson" {
		t.Errorf("Content-Type %q", resp.Header.Get("Content-Type"))
	}
	var got []models.Item
	sc := bufio.NewScanner(strings.NewReader(string(body)))
	for sc.Scan() {
		var it models.Item
		if err := json.Unmarshal(sc.Bytes(), &it); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		got = append(got, it)
	}
	_, first := c.expect(http.StatusOK, "GET", "/v1/items?tag=t1&limit=100", "")
	var page struct {
		Items      []models.Item `json:"items"`
		NextCursor string        `json:"next_cursor"`
	}
	_ = json.Unmarshal(first, &page)
	if len(got) != 65 || page.Items[0].ID != got[0].ID || page.Items[64].ID != got[64].ID || page.NextCursor != "" {
		t.Errorf("%d lines; the list's first page has %d items", len(got), len(page.Items))
	}
	for _, it := range got {
		if it.Tags[0] != "t1" {
			t.Errorf("the filter let through %+v", it)
		}
	}
	resp, body = c.expect(http.StatusUnprocessableEntity, "GET", "/v1/items/export?limt=5", "")
	if resp.Header.Get("Content-Type") != "application/problem+json" || !strings.Contains(string(body), `"query.limt"`) {
		t.Errorf("unknown filter: %q %s", resp.Header.Get("Content-Type"), body)
	}
	_, spec := c.expect(http.StatusOK, "GET", "/openapi.json", "")
	for _, want := range []string{`"/v1/items/export"`, `"/v1/orders/export"`, `"application/x-ndjson"`, `"/v1/orders/{id}/events"`, `"text/event-stream"`} {
		if !strings.Contains(string(spec), want) {
			t.Errorf("the document lacks %s", want)
		}
	}
}

// TestEventsOutliveWriteTimeout: through the real server, an order's event
// stream lasts past write_timeout (each event moves the write deadline),
// sees a change made through the API, and ends cleanly at
// events_max_duration; also with tracing on, whose otelhttp wrapper must
// pass flushes and deadlines through (its spans go to a port where
// nothing listens, and are dropped).
func TestEventsOutliveWriteTimeout(t *testing.T) {
	env := map[string]string{
		"TYPEDAPI_WRITE_TIMEOUT":        "1s",
		"TYPEDAPI_EVENTS_HEARTBEAT":     "1s",
		"TYPEDAPI_EVENTS_POLL_INTERVAL": "100ms",
		"TYPEDAPI_EVENTS_MAX_DURATION":  "3s",
	}
	t.Run("plain", func(t *testing.T) { eventsOutliveWriteTimeout(t, env) })
	traced := maps.Clone(env)
	traced["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://127.0.0.1:" + freePort(t)
	traced["TYPEDAPI_LOG_LEVEL"] = "info"
	t.Run("traced", func(t *testing.T) {
		logs := eventsOutliveWriteTimeout(t, traced)
		if !strings.Contains(logs.String(), `"operation":"get-order-events"`) || !strings.Contains(logs.String(), `"trace_id"`) {
			t.Errorf("no traced access line of the stream: %s", logs)
		}
	})
}

func eventsOutliveWriteTimeout(t *testing.T, env map[string]string) *logsink.Buffer {
	logs := &logsink.Buffer{}
	base, stop := startServerLogging(t, env, logs)
	defer func() { _ = stop() }()
	c := client{t, base}
	_, b := c.expect(http.StatusCreated, "POST", "/v1/items", `{"name":"Cup","price":100,"currency":"EUR"}`)
	var item models.Item
	_ = json.Unmarshal(b, &item)
	_, b = c.expect(http.StatusCreated, "POST", "/v1/orders", `{"item_id":"`+item.ID+`","quantity":1}`)
	var order models.Order
	_ = json.Unmarshal(b, &order)

	start := time.Now()
	resp, err := http.Get(base + "/v1/orders/" + order.ID + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("%d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	lines := make(chan string, 100)
	ended := make(chan error, 1)
	go func() {
		br := bufio.NewReader(resp.Body)
		for {
			l, err := br.ReadString('\n')
			if err != nil {
				if errors.Is(err, io.EOF) {
					err = nil
				}
				ended <- err
				return
			}
			lines <- strings.TrimSpace(l)
		}
	}()
	waitFor := func(want string) {
		t.Helper()
		for {
			select {
			case l := <-lines:
				if l == want {
					return
				}
			case err := <-ended:
				t.Fatalf("the stream ended (%v) before %q", err, want)
			case <-time.After(30 * time.Second):
				t.Fatalf("no %q", want)
			}
		}
	}
	waitFor("id: 1")
	c.expect(http.StatusOK, "PATCH", "/v1/orders/"+order.ID, `{"status":"paid"}`, "Content-Type", "application/merge-patch+json")
	waitFor("id: 2")
	for {
		select {
		case <-lines:
		case err := <-ended:
			if err != nil {
				t.Fatalf("the stream broke after %s: %v", time.Since(start), err)
			}
			if time.Since(start) < 2*time.Second {
				t.Fatalf("the stream ended after %s, before its maximum duration", time.Since(start))
			}
			return logs
		case <-time.After(30 * time.Second):
			t.Fatal("the stream outlived its maximum duration")
		}
	}
}

// TestStreamsOnBufferedLambda: on Lambda without response streaming
// (algnhsa answers once the handler returns), the export answers whole,
// and an order's event stream is ended by the invocation's deadline,
// since Lambda never tells the function that a client went away.
func TestStreamsOnBufferedLambda(t *testing.T) {
	h := newLambda(t, io.Discard, map[string]string{"TYPEDAPI_EVENTS_POLL_INTERVAL": "100ms"})
	url := lambdalocal.Request{Source: "url"}
	call := func(ctx context.Context, method, target, body string, header http.Header) lambdaResponse {
		t.Helper()
		r := url
		r.Method, r.Target, r.Header = method, target, header
		if body != "" {
			r.Body = []byte(body)
		}
		ev, err := lambdalocal.Build(r)
		if err != nil {
			t.Fatal(err)
		}
		out, err := h.Invoke(ctx, ev)
		if err != nil {
			t.Fatal(err)
		}
		var resp lambdaResponse
		_ = json.Unmarshal(out, &resp)
		return resp
	}
	bg := context.Background()
	var item models.Item
	for i := range 3 {
		resp := call(bg, "POST", "/v1/items", fmt.Sprintf(`{"name":"Cup %d","price":100,"currency":"EUR"}`, i), jsonHeader())
		_ = json.Unmarshal(resp.body(t), &item)
	}
	resp := call(bg, "GET", "/v1/items/export", "", nil)
	if resp.StatusCode != 200 || resp.header("Content-Type") != "application/x-ndjson" || strings.Count(string(resp.body(t)), "\n") != 3 {
		t.Errorf("export: %d %q %q", resp.StatusCode, resp.header("Content-Type"), resp.body(t))
	}
	resp = call(bg, "POST", "/v1/orders", `{"item_id":"`+item.ID+`","quantity":1}`, jsonHeader())
	var order models.Order
	_ = json.Unmarshal(resp.body(t), &order)

	// The handler's deadline is the invocation's less a margin (500ms).
	ctx, cancel := context.WithTimeout(bg, 1500*time.Millisecond)
	defer cancel()
	done := make(chan lambdaResponse, 1)
	go func() { done <- call(ctx, "GET", "/v1/orders/"+order.ID+"/events", "", nil) }()
	select {
	case resp = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the event stream outlived the invocation's deadline")
	}
	if resp.StatusCode != 200 || !strings.Contains(string(resp.body(t)), "id: 1\nevent: status\n") {
		t.Errorf("events: %d %q", resp.StatusCode, resp.body(t))
	}
}

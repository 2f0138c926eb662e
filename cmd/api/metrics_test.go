package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/typedapi/typedapi/internal/emf"
	"github.com/typedapi/typedapi/internal/logsink"
)

// serveLogged runs the program like startServer, with its standard output
// (the access lines) kept. stop returns once run has returned, so every
// line has been written.
func serveLogged(t *testing.T, env map[string]string) (base string, logs *logsink.Buffer, stop func()) {
	t.Helper()
	addrs := make(chan net.Addr, 1)
	ctx, cancel := context.WithCancel(context.WithValue(context.Background(), readyHookKey{}, func(a net.Addr) { addrs <- a }))
	vars := map[string]string{"TYPEDAPI_HOST": "127.0.0.1", "TYPEDAPI_PORT": "0"}
	for k, v := range env {
		vars[k] = v
	}
	logs = &logsink.Buffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, nil, func(k string) string { return vars[k] }, strings.NewReader(""), logs, io.Discard)
	}()
	select {
	case a := <-addrs:
		base = "http://" + a.String()
	case err := <-done:
		t.Fatalf("run returned before listening: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("server did not start")
	}
	waitHealthy(t, base)
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("run: %v", err)
				}
			case <-time.After(30 * time.Second):
				t.Error("run did not return")
			}
		})
	}
	t.Cleanup(stop)
	return base, logs, stop
}

// accessData is every metric datum CloudWatch would extract from the
// access lines in logs, failing on a line it would reject.
func accessData(t *testing.T, logs []byte) (data []emf.Datum, accessLines int) {
	t.Helper()
	for _, line := range bytes.Split(bytes.TrimSpace(logs), []byte("\n")) {
		if !bytes.Contains(line, []byte(`"msg":"request"`)) {
			continue
		}
		accessLines++
		d, err := emf.Extract(line)
		if err != nil {
			t.Fatalf("%v\n%s", err, line)
		}
		data = append(data, d...)
	}
	return data, accessLines
}

// TestMetricsBadPathsBounded: a burst of 1,000 distinct bad paths through
// the real server is 1,000 access lines, each with its metrics, and one
// Operation dimension value among them (unmatched), so it cannot add
// 1,000 metrics in CloudWatch.
func TestMetricsBadPathsBounded(t *testing.T) {
	base, logs, stop := serveLogged(t, map[string]string{"TYPEDAPI_METRICS_SERVICE": "typedapi-test"})
	c := client{t, base}
	c.expect(200, "GET", "/v1/items", "")
	const n = 1000
	for i := range n {
		// 404s of every shape: unknown paths, too many segments, unknown
		// collection; and 405s.
		switch i % 3 {
		case 0:
			c.expect(404, "GET", fmt.Sprintf("/no-such-%d", i), "")
		case 1:
			c.expect(404, "GET", fmt.Sprintf("/v1/items/%d/x/%d", i, i), "")
		case 2:
			c.expect(405, "PATCH", fmt.Sprintf("/v1/items?x=%d", i), "")
		}
	}
	stop()
	data, lines := accessData(t, []byte(logs.String()))
	if lines < n+1 {
		t.Fatalf("%d access lines for %d requests", lines, n+1)
	}
	series := map[string]bool{}
	operations := map[string]bool{}
	for _, d := range data {
		series[fmt.Sprint(d.Namespace, d.Name, d.Dimensions)] = true
		if op, ok := d.Dimensions["Operation"]; ok {
			operations[op] = true
		}
	}
	if !operations[emf.Unmatched] || !operations["list-items"] {
		t.Errorf("operations %v: want unmatched and list-items among them", operations)
	}
	// /healthz (waitHealthy), list-items, unmatched, and any other route
	// template: a handful, not a thousand.
	if len(operations) > 5 || len(series) > 40 {
		t.Errorf("%d Operation values and %d metric series after %d bad paths: %v", len(operations), len(series), n, operations)
	}
}

// TestMetricsSwitchedOff: metrics: false writes the access line without
// _aws or metric members.
func TestMetricsSwitchedOff(t *testing.T) {
	base, logs, stop := serveLogged(t, map[string]string{"TYPEDAPI_METRICS": "false"})
	client{t, base}.expect(200, "GET", "/v1/items", "")
	stop()
	out := []byte(logs.String())
	if !bytes.Contains(out, []byte(`"operation":"list-items"`)) {
		t.Fatalf("no access line for list-items: %s", out)
	}
	if bytes.Contains(out, []byte(`"_aws"`)) || bytes.Contains(out, []byte(`"Requests"`)) {
		t.Errorf("metrics written although switched off: %s", out)
	}
}

package emf_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/typedapi/typedapi/internal/emf"
	"github.com/typedapi/typedapi/internal/middleware"
)

// accessLine logs one access line the way middleware.AccessLog does.
func accessLine(t *testing.T, l *slog.Logger, route, operation string, status int, ms float64) {
	t.Helper()
	r := slog.NewRecord(time.Now(), slog.LevelInfo, middleware.AccessMessage, 0)
	r.AddAttrs(slog.String("method", "GET"), slog.String("path", "/x"), slog.String("route", route),
		slog.String("operation", operation), slog.Int("status", status), slog.Float64("duration_ms", ms),
		slog.String("request_id", "r1"))
	if err := l.Handler().Handle(context.Background(), r); err != nil {
		t.Fatal(err)
	}
}

func lines(t *testing.T, buf *bytes.Buffer) [][]byte {
	t.Helper()
	return bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n"))
}

// find is the one datum of name with exactly dims, or fails.
func find(t *testing.T, data []emf.Datum, name string, dims map[string]string) emf.Datum {
	t.Helper()
	var got []emf.Datum
	for _, d := range data {
		if d.Name == name && len(d.Dimensions) == len(dims) {
			match := true
			for k, v := range dims {
				match = match && d.Dimensions[k] == v
			}
			if match {
				got = append(got, d)
			}
		}
	}
	if len(got) != 1 {
		t.Fatalf("%s %v: %d data, want 1 (all: %+v)", name, dims, len(got), data)
	}
	return got[0]
}

// TestAccessLineMetrics: each access line yields, as CloudWatch extracts
// it, the documented metrics with their units and dimensions; the first
// line alone carries ColdStart.
func TestAccessLineMetrics(t *testing.T) {
	cases := []struct {
		route, operation string
		status           int
		ms               float64
		op, class        string
		e4, e5           float64
	}{
		{"/v1/items/{id}", "get-item", 200, 1.5, "get-item", "2xx", 0, 0},
		{"/v1/items/{id}", "get-item", 304, 0.2, "get-item", "3xx", 0, 0},
		{"/v1/items", "create-item", 422, 3, "create-item", "4xx", 1, 0},
		{"/v1/orders", "create-order", 503, 40, "create-order", "5xx", 0, 1},
		{"/docs", "", 200, 1, "/docs", "2xx", 0, 0},
		{"", "", 404, 0.1, emf.Unmatched, "4xx", 1, 0},
	}
	var buf bytes.Buffer
	l := slog.New(emf.New(&buf, "typedapi-test", nil))
	for _, c := range cases {
		accessLine(t, l, c.route, c.operation, c.status, c.ms)
	}
	l.Info("not an access line", "status", 200)
	ls := lines(t, &buf)
	if len(ls) != len(cases)+1 {
		t.Fatalf("%d lines for %d access lines and one other: one line per request, no more", len(ls), len(cases))
	}
	for i, c := range cases {
		data, err := emf.Extract(ls[i])
		if err != nil {
			t.Fatalf("line %d: %v\n%s", i, err, ls[i])
		}
		byOp := map[string]string{"Service": "typedapi-test", "Operation": c.op}
		svc := map[string]string{"Service": "typedapi-test"}
		for _, want := range []struct {
			name  string
			dims  map[string]string
			unit  string
			value float64
		}{
			{"Requests", byOp, "Count", 1},
			{"Latency", byOp, "Milliseconds", c.ms},
			{"Errors4xx", byOp, "Count", c.e4},
			{"Errors5xx", byOp, "Count", c.e5},
			{"Requests", svc, "Count", 1},
			{"Latency", svc, "Milliseconds", c.ms},
			{"Errors5xx", svc, "Count", c.e5},
			{"Requests", map[string]string{"Service": "typedapi-test", "StatusClass": c.class}, "Count", 1},
		} {
			d := find(t, data, want.name, want.dims)
			if d.Namespace != emf.Namespace || d.Unit != want.unit || d.Value != want.value {
				t.Errorf("line %d %s %v = %+v, want %s %v", i, want.name, want.dims, d, want.unit, want.value)
			}
		}
		cold := 0
		for _, d := range data {
			if d.Name == "ColdStart" {
				cold++
			}
		}
		if want := map[bool]int{true: 1, false: 0}[i == 0]; cold != want {
			t.Errorf("line %d: %d ColdStart data, want %d", i, cold, want)
		}
		if want := 4*2 + 1 + map[bool]int{true: 1, false: 0}[i == 0]; len(data) != want {
			t.Errorf("line %d: %d data, want %d", i, len(data), want)
		}
	}
	if data, err := emf.Extract(ls[len(cases)]); err != nil || len(data) != 0 || bytes.Contains(ls[len(cases)], []byte("_aws")) {
		t.Errorf("other lines must stay as they are: %s (%v)", ls[len(cases)], err)
	}
}

// TestExtractRejects: the checker refuses what CloudWatch would not parse,
// so a pass above means something.
func TestExtractRejects(t *testing.T) {
	now := time.Now().UnixMilli()
	ok := `{"_aws":{"Timestamp":%d,"CloudWatchMetrics":[{"Namespace":"n","Dimensions":[["Op"]],"Metrics":[{"Name":"Requests","Unit":"Count"}]}]},"Op":"a","Requests":1}`
	cases := map[string]string{
		"seconds not ms":    strings.Replace(ok, "%d", "1700000000", 1),
		"string timestamp":  strings.Replace(ok, "%d", `"x"`, 1),
		"bad unit":          strings.Replace(ok, `"Count"`, `"Counts"`, 1),
		"missing value":     strings.Replace(ok, `,"Requests":1`, "", 1),
		"string value":      strings.Replace(ok, `"Requests":1`, `"Requests":"1"`, 1),
		"dimension missing": strings.Replace(ok, `"Op":"a",`, "", 1),
		"numeric dimension": strings.Replace(ok, `"Op":"a"`, `"Op":1`, 1),
		"no namespace":      strings.Replace(ok, `"Namespace":"n",`, "", 1),
		"not JSON":          "request GET /",
	}
	for name, line := range cases {
		t.Run(name, func(t *testing.T) {
			line = strings.Replace(line, "%d", json.Number(itoa(now)).String(), 1)
			if _, err := emf.Extract([]byte(line)); err == nil {
				t.Errorf("accepted %s", line)
			}
		})
	}
	good := strings.Replace(ok, "%d", itoa(now), 1)
	if data, err := emf.Extract([]byte(good)); err != nil || len(data) != 1 {
		t.Errorf("the valid line: %v %v", data, err)
	}
}

// TestWithAttrs: attributes a logger carries reach access lines as well as
// other lines, and the metrics stay top level after them.
func TestWithAttrs(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(emf.New(&buf, "s", nil)).With("region", "eu-west-1").With("build", "b7")
	accessLine(t, l, "/v1/items/{id}", "get-item", 200, 2)
	l.Info("other")
	ls := lines(t, &buf)
	if len(ls) != 2 {
		t.Fatalf("%d lines, want 2: %s", len(ls), buf.Bytes())
	}
	for i, ln := range ls {
		var m map[string]any
		if err := json.Unmarshal(ln, &m); err != nil || m["region"] != "eu-west-1" || m["build"] != "b7" {
			t.Errorf("line %d lost the logger's attributes: %s (%v)", i, ln, err)
		}
	}
	data, err := emf.Extract(ls[0])
	if err != nil {
		t.Fatal(err)
	}
	if d := find(t, data, "Latency", map[string]string{"Service": "s", "Operation": "get-item"}); d.Value != 2 {
		t.Errorf("latency %v, want 2", d.Value)
	}
}

// TestNamesEscaped: a service name or an operation that JSON must escape
// still gives a valid line whose dimensions read back as given.
func TestNamesEscaped(t *testing.T) {
	for _, name := range []string{`a"b`, `<svc>&`, "tab\there", "é", `back\slash`} {
		var buf bytes.Buffer
		l := slog.New(emf.New(&buf, name, nil))
		accessLine(t, l, "/r", name, 200, 1)
		data, err := emf.Extract(bytes.TrimSpace(buf.Bytes()))
		if err != nil {
			t.Fatalf("%q: %v\n%s", name, err, buf.Bytes())
		}
		find(t, data, "Requests", map[string]string{"Service": name, "Operation": name})
	}
}

// TestEmptyLine: when a ReplaceAttr leaves the JSON handler an empty
// object, the metrics alone make a valid line.
func TestEmptyLine(t *testing.T) {
	var buf bytes.Buffer
	drop := func([]string, slog.Attr) slog.Attr { return slog.Attr{} }
	l := slog.New(emf.New(&buf, "s", &slog.HandlerOptions{ReplaceAttr: drop}))
	accessLine(t, l, "/r", "op", 200, 1)
	data, err := emf.Extract(bytes.TrimSpace(buf.Bytes()))
	if err != nil {
		t.Fatalf("%v: %s", err, buf.Bytes())
	}
	find(t, data, "Requests", map[string]string{"Service": "s", "Operation": "op"})
}

// TestConcurrentLinesWhole: access lines and other lines written from many
// goroutines at once reach the writer whole, one per Write, each with its
// own request's metrics (run with -race).
func TestConcurrentLinesWhole(t *testing.T) {
	w := &writes{}
	l := slog.New(emf.New(w, "s", nil))
	const goroutines, each = 8, 200
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			op := "op-" + strconv.Itoa(g)
			for i := range each {
				accessLine(t, l, "/r", op, 200+g, float64(i))
				l.Info("other", "g", g)
			}
		}()
	}
	wg.Wait()
	if len(w.lines) != 2*goroutines*each {
		t.Fatalf("%d writes, want %d", len(w.lines), 2*goroutines*each)
	}
	for _, ln := range w.lines {
		var m map[string]any
		if err := json.Unmarshal(ln, &m); err != nil || !bytes.HasSuffix(ln, []byte("}\n")) || bytes.Count(ln, []byte("\n")) != 1 {
			t.Fatalf("not one whole JSON line: %q (%v)", ln, err)
		}
		if m["msg"] != middleware.AccessMessage {
			continue
		}
		data, err := emf.Extract(ln)
		if err != nil {
			t.Fatal(err)
		}
		want := "op-" + strconv.Itoa(int(m["status"].(float64))-200)
		if m["operation"] != want {
			t.Fatalf("line mixed up: %s", ln)
		}
		if d := find(t, data, "Latency", map[string]string{"Service": "s", "Operation": want}); d.Value != m["duration_ms"] {
			t.Fatalf("latency %v on a line that logged %v: %s", d.Value, m["duration_ms"], ln)
		}
	}
}

// writes records each Write, and fails the test on overlapping ones.
type writes struct {
	busy  atomic.Bool
	mu    sync.Mutex
	lines [][]byte
}

func (w *writes) Write(p []byte) (int, error) {
	if !w.busy.CompareAndSwap(false, true) {
		panic("overlapping writes")
	}
	defer w.busy.Store(false)
	w.mu.Lock()
	w.lines = append(w.lines, bytes.Clone(p))
	w.mu.Unlock()
	return len(p), nil
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

// TestMetricsOffWithText: the handler is never installed for text logs
// (cmd/api), but a grouped logger must not scatter members either.
func TestGroupedRecordsUntouched(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(emf.New(&buf, "s", nil)).WithGroup("g")
	accessLine(t, l, "/", "get-service-info", 200, 1)
	if bytes.Contains(buf.Bytes(), []byte("_aws")) {
		t.Errorf("grouped record got metrics: %s", buf.Bytes())
	}
}

// TestMembersNotForged: a value that spells the _aws member is escaped by
// the JSON handler: it neither gives another line metrics nor spoils the
// access line's.
func TestMembersNotForged(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(emf.New(&buf, "s", nil))
	forged := `x","_aws":17}`
	l.Info("other", "v", forged)
	r := slog.NewRecord(time.Now(), slog.LevelInfo, middleware.AccessMessage, 0)
	r.AddAttrs(slog.String("path", forged), slog.String("route", ""), slog.String("operation", ""), slog.Int("status", 404), slog.Float64("duration_ms", 1))
	if err := l.Handler().Handle(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	ls := lines(t, &buf)
	var other map[string]any
	if err := json.Unmarshal(ls[0], &other); err != nil || other["v"] != forged || other["_aws"] != nil {
		t.Errorf("other line changed: %s (%v)", ls[0], err)
	}
	var access map[string]any
	if err := json.Unmarshal(ls[1], &access); err != nil || access["path"] != forged {
		t.Fatalf("access line: %s (%v)", ls[1], err)
	}
	if data, err := emf.Extract(ls[1]); err != nil || len(data) == 0 {
		t.Errorf("access line metrics: %v %v", data, err)
	}
}

// TestTraceID: a line logged with a context that carries a trace names it
// once under trace_id, the access line (written as bytes here) and any
// other line alike, also through a logger made With; a line without one
// names none.
func TestTraceID(t *testing.T) {
	const id = "4bf92f3577b34da6a3ce929d0e0e4736"
	tid, _ := trace.TraceIDFromHex(id)
	sid, _ := trace.SpanIDFromHex("00f067aa0ba902b7")
	traced := trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid}))
	var buf bytes.Buffer
	l := slog.New(emf.New(&buf, "s", nil)).With("app", "a")
	for _, ctx := range []context.Context{traced, context.Background()} {
		r := slog.NewRecord(time.Now(), slog.LevelInfo, middleware.AccessMessage, 0)
		r.AddAttrs(slog.String("route", "/r"), slog.String("operation", "op"), slog.Int("status", 200), slog.Float64("duration_ms", 1))
		if err := l.Handler().Handle(ctx, r); err != nil {
			t.Fatal(err)
		}
		l.InfoContext(ctx, "other")
	}
	ls := lines(t, &buf)
	if len(ls) != 4 {
		t.Fatalf("%d lines, want 4: %s", len(ls), buf.Bytes())
	}
	for i, line := range ls {
		want := ""
		if i < 2 {
			want = id
		}
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		got, _ := m["trace_id"].(string)
		if got != want || bytes.Count(line, []byte(`"trace_id"`)) > 1 || m["app"] != "a" {
			t.Errorf("line %d: trace_id %q, want %q: %s", i, got, want, line)
		}
	}
	if data, err := emf.Extract(ls[0]); err != nil || len(data) == 0 {
		t.Errorf("traced access line metrics: %v %v", data, err)
	}
}

package tracingtest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// CollectorBinary is the collector scripts/setup builds (scripts/otelcol):
// $TYPEDAPI_TOOLS/bin, else ~/.cache/typedapi/bin.
func CollectorBinary() string {
	dir := os.Getenv("TYPEDAPI_TOOLS")
	if dir == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			return ""
		}
		dir = filepath.Join(cache, "typedapi")
	}
	return filepath.Join(dir, "bin", "otelcol-typedapi")
}

// Collector is a running OpenTelemetry Collector: OTLP/HTTP in on
// Endpoint (127.0.0.1), every span out as OTLP JSON lines in a file.
type Collector struct {
	Endpoint string
	file     string
	cmd      *exec.Cmd
	log      string
}

// StartCollector runs the collector on a free 127.0.0.1 port and waits
// until it accepts connections; it is stopped when t ends. Without the
// binary the test is skipped, but under CI=true it fails: scripts/setup
// builds it.
func StartCollector(t *testing.T) *Collector {
	t.Helper()
	bin := CollectorBinary()
	if _, err := os.Stat(bin); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the OpenTelemetry Collector is not installed at %s: scripts/setup builds it", bin)
		}
		t.Skipf("the OpenTelemetry Collector is not installed at %s (run scripts/setup)", bin)
	}
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	c := &Collector{Endpoint: "http://127.0.0.1:" + strconv.Itoa(port), file: filepath.Join(dir, "spans.jsonl"), log: filepath.Join(dir, "collector.log")}
	cfg := fmt.Sprintf(`receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:%d
exporters:
  file:
    path: %s
    format: json
    flush_interval: 50ms
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [file]
`, port, c.file)
	cfgPath := filepath.Join(dir, "collector.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(c.log)
	if err != nil {
		t.Fatal(err)
	}
	c.cmd = exec.Command(bin, "--config", "file:"+cfgPath) //nolint:gosec // the collector scripts/setup built, in the tools cache
	c.cmd.Stdout, c.cmd.Stderr = logf, logf
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = c.cmd.Wait(); _ = logf.Close(); close(exited) }()
	t.Cleanup(func() {
		_ = c.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			_ = c.cmd.Process.Kill()
			<-exited
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), 200*time.Millisecond)
		if err == nil {
			_ = conn.Close()
			return c
		}
		select {
		case <-exited:
			b, _ := os.ReadFile(c.log)
			t.Fatalf("the collector exited before listening:\n%s", b)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(c.log)
			t.Fatalf("the collector did not listen within 60s:\n%s", b)
		}
	}
}

// WaitSpans polls the collector's file until match finds what it wants
// among the spans that arrived (or fails after a minute).
func (c *Collector) WaitSpans(t *testing.T, match func([]Span) bool) []Span {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		spans, raw := c.read(t)
		if match(spans) {
			return spans
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(c.log)
			t.Fatalf("the spans wanted did not arrive at the collector within a minute; it has %d:\n%.4000s\ncollector log:\n%.2000s", len(spans), raw, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Raw is the collector's output file as it stands.
func (c *Collector) Raw() []byte {
	b, _ := os.ReadFile(c.file)
	return b
}

func (c *Collector) read(t *testing.T) ([]Span, string) {
	t.Helper()
	f, err := os.Open(c.file)
	if err != nil {
		return nil, ""
	}
	defer f.Close()
	var spans []Span
	var raw strings.Builder
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		raw.Write(sc.Bytes())
		raw.WriteByte('\n')
		s, err := decodeJSON(sc.Bytes())
		if err != nil {
			continue // a line still being written
		}
		spans = append(spans, s...)
	}
	return spans, raw.String()
}

// OTLP JSON, as the file exporter writes it (ids in hex, enums as numbers).
type jsonValue struct {
	StringValue *string  `json:"stringValue"`
	IntValue    *string  `json:"intValue"` // int64 as a string
	BoolValue   *bool    `json:"boolValue"`
	DoubleValue *float64 `json:"doubleValue"`
}

type jsonKV struct {
	Key   string    `json:"key"`
	Value jsonValue `json:"value"`
}

func (v jsonValue) text() string {
	switch {
	case v.StringValue != nil:
		return *v.StringValue
	case v.IntValue != nil:
		return *v.IntValue
	case v.BoolValue != nil:
		return strconv.FormatBool(*v.BoolValue)
	case v.DoubleValue != nil:
		return strconv.FormatFloat(*v.DoubleValue, 'g', -1, 64)
	}
	return ""
}

func attrs(kvs []jsonKV) map[string]string {
	m := map[string]string{}
	for _, kv := range kvs {
		m[kv.Key] = kv.Value.text()
	}
	return m
}

func decodeJSON(line []byte) ([]Span, error) {
	var doc struct {
		ResourceSpans []struct {
			Resource struct {
				Attributes []jsonKV `json:"attributes"`
			} `json:"resource"`
			ScopeSpans []struct {
				Spans []struct {
					TraceID      string   `json:"traceId"`
					SpanID       string   `json:"spanId"`
					ParentSpanID string   `json:"parentSpanId"`
					Name         string   `json:"name"`
					Kind         int32    `json:"kind"`
					Attributes   []jsonKV `json:"attributes"`
					Links        []struct {
						TraceID    string   `json:"traceId"`
						SpanID     string   `json:"spanId"`
						Attributes []jsonKV `json:"attributes"`
					} `json:"links"`
				} `json:"spans"`
			} `json:"scopeSpans"`
		} `json:"resourceSpans"`
	}
	if err := json.Unmarshal(line, &doc); err != nil {
		return nil, err
	}
	var out []Span
	for _, rs := range doc.ResourceSpans {
		res := attrs(rs.Resource.Attributes)
		for _, ss := range rs.ScopeSpans {
			for _, s := range ss.Spans {
				sp := Span{Name: s.Name, TraceID: strings.ToLower(s.TraceID), SpanID: strings.ToLower(s.SpanID),
					ParentSpanID: strings.ToLower(s.ParentSpanID), Attributes: attrs(s.Attributes), Resource: res}
				sp.Kind = s.Kind
				for _, l := range s.Links {
					sp.Links = append(sp.Links, Link{TraceID: strings.ToLower(l.TraceID), SpanID: strings.ToLower(l.SpanID), Attributes: attrs(l.Attributes)})
				}
				out = append(out, sp)
			}
		}
	}
	return out, nil
}

//go:build !notracing

package tracing

import (
	"strings"
	"testing"
	"time"
)

// TestOTLPSettings: the standard variables, the traces-specific one first,
// and a clear refusal of what this exporter cannot do.
func TestOTLPSettings(t *testing.T) {
	cases := []struct {
		name    string
		env     map[string]string
		url     string
		timeout time.Duration
		header  string // "Key: value" expected, or ""
		gzip    bool
		err     string
	}{
		{"default", nil, "http://localhost:4318/v1/traces", 10 * time.Second, "", false, ""},
		{"general endpoint gets the path", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "https://otlp.example.com/"}, "https://otlp.example.com/v1/traces", 10 * time.Second, "", false, ""},
		{"traces endpoint as is", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:4318", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://b:4318/custom"}, "http://b:4318/custom", 10 * time.Second, "", false, ""},
		{"headers, timeout, gzip", map[string]string{"OTEL_EXPORTER_OTLP_HEADERS": "x-api-key=a%20b, x-team=t", "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT": "250", "OTEL_EXPORTER_OTLP_COMPRESSION": "gzip"}, "http://localhost:4318/v1/traces", 250 * time.Millisecond, "X-Api-Key: a b", true, ""},
		{"grpc refused", map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, "", 0, "", false, "not supported"},
		{"bad endpoint", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "localhost:4318"}, "", 0, "", false, "not an http(s) URL"},
		{"bad timeout", map[string]string{"OTEL_EXPORTER_OTLP_TIMEOUT": "10s"}, "", 0, "", false, "milliseconds"},
		{"bad header, secret not echoed", map[string]string{"OTEL_EXPORTER_OTLP_HEADERS": "sk-secret-value"}, "", 0, "", false, "key=value"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := newOTLPHTTP(func(k string) string { return c.env[k] })
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) || strings.Contains(err.Error(), "sk-secret") {
					t.Fatalf("error %v, want one saying %q (and no header value)", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.url != c.url || got.client.Timeout != c.timeout || got.gzip != c.gzip {
				t.Errorf("url %s timeout %v gzip %v", got.url, got.client.Timeout, got.gzip)
			}
			if c.header != "" {
				k, v, _ := strings.Cut(c.header, ": ")
				if got.headers.Get(k) != v {
					t.Errorf("header %s = %q, want %q", k, got.headers.Get(k), v)
				}
			}
		})
	}
}

// TestEnabled: which variables switch tracing on and off.
func TestEnabled(t *testing.T) {
	cases := []struct {
		env map[string]string
		on  bool
	}{
		{nil, false},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, true},
		{map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c:4318/v1/traces"}, true},
		{map[string]string{"OTEL_TRACES_EXPORTER": "otlp"}, true},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_TRACES_EXPORTER": "none"}, false},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_SDK_DISABLED": "true"}, false},
	}
	for _, c := range cases {
		if got := Enabled(func(k string) string { return c.env[k] }); got != c.on {
			t.Errorf("Enabled(%v) = %v, want %v", c.env, got, c.on)
		}
	}
}

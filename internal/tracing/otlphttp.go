//go:build !notracing

package tracing

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// otlpHTTP is the OTLP/HTTP transport: it posts export requests (JSON,
// otlpjson.go) to the endpoint the standard OTEL_EXPORTER_OTLP_* variables
// name, with their headers, timeout and compression. It stands in for
// otlptracehttp, which links the OTLP collector's gRPC service and so all
// of gRPC: 10 MB more in the Lambda bootstrap (docs/PERFORMANCE.md).
type otlpHTTP struct {
	url     string
	headers http.Header
	gzip    bool
	client  *http.Client
}

// newOTLPHTTP reads the exporter's settings: the traces variable first,
// then the general one, then the specification's default.
func newOTLPHTTP(getenv func(string) string) (*otlpHTTP, error) {
	get := func(name string) string {
		if v := strings.TrimSpace(getenv("OTEL_EXPORTER_OTLP_TRACES_" + name)); v != "" {
			return v
		}
		return strings.TrimSpace(getenv("OTEL_EXPORTER_OTLP_" + name))
	}
	if p := get("PROTOCOL"); p != "" && p != "http/json" && p != "http/protobuf" {
		return nil, fmt.Errorf("tracing: OTLP protocol %q is not supported: this exporter speaks OTLP/HTTP (port 4318), in JSON", p)
	}
	endpoint := strings.TrimSpace(getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))
	if endpoint == "" {
		endpoint = "http://localhost:4318"
		if base := strings.TrimSpace(getenv("OTEL_EXPORTER_OTLP_ENDPOINT")); base != "" {
			endpoint = base
		}
		endpoint = strings.TrimSuffix(endpoint, "/") + "/v1/traces"
	}
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("tracing: OTLP traces endpoint %q is not an http(s) URL", endpoint)
	}
	timeout := 10 * time.Second
	if t := get("TIMEOUT"); t != "" {
		ms, err := strconv.Atoi(t)
		if err != nil || ms <= 0 {
			return nil, fmt.Errorf("tracing: OTLP timeout %q is not a whole number of milliseconds", t)
		}
		timeout = time.Duration(ms) * time.Millisecond
	}
	headers := http.Header{}
	if h := get("HEADERS"); h != "" {
		for _, kv := range strings.Split(h, ",") {
			k, v, ok := strings.Cut(kv, "=")
			k = strings.TrimSpace(k)
			v, err := url.PathUnescape(strings.TrimSpace(v))
			if !ok || k == "" || err != nil {
				// The value may be a secret (an API key): not repeated.
				return nil, fmt.Errorf("tracing: OTLP headers: an entry is not key=value (URL-encoded)")
			}
			headers.Add(k, v)
		}
	}
	var gz bool
	switch c := get("COMPRESSION"); c {
	case "", "none":
	case "gzip":
		gz = true
	default:
		return nil, fmt.Errorf("tracing: OTLP compression %q: want gzip or none", c)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 2
	return &otlpHTTP{url: u.String(), headers: headers, gzip: gz, client: &http.Client{Timeout: timeout, Transport: tr}}, nil
}

func (c *otlpHTTP) Stop(context.Context) error {
	c.client.CloseIdleConnections()
	return nil
}

// post sends one export request. A failure is returned, not retried: the
// batch is dropped and counted (countingExporter), so a collector that is
// down costs each batch one attempt, off the request path.
func (c *otlpHTTP) post(ctx context.Context, body []byte) error {
	if c.gzip {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		_, _ = zw.Write(body)
		if err := zw.Close(); err != nil {
			return err
		}
		body = buf.Bytes()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	for k, v := range c.headers {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "typedapi-otlp-http")
	if c.gzip {
		req.Header.Set("Content-Encoding", "gzip")
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return fmt.Errorf("OTLP export to %s: %w", c.url, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("OTLP export to %s: %s", c.url, resp.Status)
	}
	return nil
}

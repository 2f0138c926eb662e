package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/typedapi/typedapi/internal/logsink"
)

// The edge: forwarding headers, told apart by who sends them, and the
// per-client rate limit, through the real program over HTTP. The test
// client talks from 127.0.0.1, so a server that trusts 127.0.0.0/8 sees it
// as a proxy, and one with the default configuration as a client.

// hostileForwarding are forwarding headers a client could send. None may
// change the host of a link, and from an untrusted peer none may change
// anything.
var hostileForwarding = []struct {
	name   string
	header []string // name, value pairs; a name given twice is two lines
	// What a server that trusts the peer makes of them: the client IP it
	// logs and the scheme of its links.
	trustedIP, trustedScheme string
}{
	{"another host", []string{"X-Forwarded-Host", "evil.example"}, "127.0.0.1", "http"},
	{"another host in Forwarded", []string{"Forwarded", `host=evil.example;proto=https`}, "127.0.0.1", "https"},
	{"another host with a port and path", []string{"X-Forwarded-Host", "evil.example:443/x?y#z"}, "127.0.0.1", "http"},
	{"several hosts", []string{"X-Forwarded-Host", "evil.example, api.example.com", "X-Forwarded-Host", "evil2.example"}, "127.0.0.1", "http"},
	{"scheme javascript", []string{"X-Forwarded-Proto", "javascript"}, "127.0.0.1", "http"},
	{"scheme ftp in Forwarded", []string{"Forwarded", "proto=ftp"}, "127.0.0.1", "http"},
	{"several schemes", []string{"X-Forwarded-Proto", "https, http"}, "127.0.0.1", "http"},
	{"several scheme lines", []string{"X-Forwarded-Proto", "https", "X-Forwarded-Proto", "http"}, "127.0.0.1", "http"},
	{"spoofed client IP", []string{"X-Forwarded-For", "198.51.100.7"}, "198.51.100.7", "http"},
	{"several client IPs", []string{"X-Forwarded-For", "192.0.2.66, 198.51.100.7"}, "198.51.100.7", "http"},
	{"several X-Forwarded-For lines", []string{"X-Forwarded-For", "192.0.2.66", "X-Forwarded-For", "198.51.100.7"}, "198.51.100.7", "http"},
	{"garbage client IP", []string{"X-Forwarded-For", `"><script>alert(1)</script>`}, "127.0.0.1", "http"},
	{"garbage in Forwarded", []string{"Forwarded", `for=;;"<script>`}, "127.0.0.1", "http"},
	{"Forwarded with an unknown client", []string{"Forwarded", "for=unknown;proto=https"}, "127.0.0.1", "https"}, // the proxy names no client, but the scheme it received
	{"Forwarded client", []string{"Forwarded", `for="[2001:db8::7]:4711";proto=https`}, "2001:db8::7", "https"},
	{"both headers", []string{"Forwarded", "for=192.0.2.66;proto=https", "X-Forwarded-For", "198.51.100.7"}, "198.51.100.7", "http"},
	{"everything at once", []string{"X-Forwarded-Host", "evil.example", "X-Forwarded-Proto", "https", "X-Forwarded-For", "198.51.100.7", "X-Forwarded-Port", "1", "X-Forwarded-Prefix", "/evil"}, "198.51.100.7", "https"},
}

// TestForwardedHeaders sends each hostile set to three real servers: the
// default (no proxy trusted), one that trusts 127.0.0.0/8 and one with a
// public_base_url. It checks `$schema`, the spec's servers and the access
// line's remote_ip.
func TestForwardedHeaders(t *testing.T) {
	servers := []struct {
		name, trusted, public string
	}{
		{"default", "", ""},
		{"trusting the peer", "127.0.0.0/8", ""},
		{"public base URL", "127.0.0.0/8", "https://api.example.com/shop"},
	}
	for _, srv := range servers {
		t.Run(srv.name, func(t *testing.T) {
			var logs logsink.Buffer
			base, stop := startServerLogging(t, map[string]string{
				"TYPEDAPI_LOG_LEVEL": "info", "TYPEDAPI_TRUSTED_PROXIES": srv.trusted, "TYPEDAPI_PUBLIC_BASE_URL": srv.public,
			}, &logs)
			host := strings.TrimPrefix(base, "http://")
			for i, c := range hostileForwarding {
				id := fmt.Sprintf("fwd-%d", i)
				wantBase, wantIP := "http://"+host, "127.0.0.1"
				if srv.trusted != "" {
					wantBase, wantIP = c.trustedScheme+"://"+host, c.trustedIP
				}
				if srv.public != "" {
					wantBase = srv.public
				}
				for _, target := range []string{"/v1/items", "/v1/items/NOT-AN-ID", "/openapi.json"} {
					req, _ := http.NewRequest("GET", base+target, nil)
					for j := 0; j+1 < len(c.header); j += 2 {
						req.Header.Add(c.header[j], c.header[j+1])
					}
					req.Header.Set("X-Request-Id", id)
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						t.Fatal(err)
					}
					body, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if resp.StatusCode >= 500 {
						t.Fatalf("%s %s: %d %s", c.name, target, resp.StatusCode, body)
					}
					var doc struct {
						Schema  string `json:"$schema"`
						Servers []struct{ URL string }
					}
					_ = json.Unmarshal(body, &doc)
					got := doc.Schema
					if target == "/openapi.json" {
						if len(doc.Servers) != 1 {
							t.Fatalf("%s: servers %+v", c.name, doc.Servers)
						}
						got = doc.Servers[0].URL + "/schemas/"
					}
					if !strings.HasPrefix(got, wantBase+"/schemas/") {
						t.Errorf("%s %s: links start %q, want %q", c.name, target, got, wantBase)
					}
					for _, bad := range []string{"evil", "<script", "ftp:", "javascript"} {
						if strings.Contains(string(body), bad) || strings.Contains(fmt.Sprint(resp.Header), bad) {
							t.Errorf("%s %s: %q is reflected: %.300s", c.name, target, bad, body)
						}
					}
				}
				if err := stop(); err != nil { // flush the access lines, then start again
					t.Fatal(err)
				}
				for _, line := range strings.Split(logs.String(), "\n") {
					if strings.Contains(line, `"request_id":"`+id+`"`) && !strings.Contains(line, `"remote_ip":"`+wantIP+`"`) {
						t.Errorf("%s: access line %s, want remote_ip %s", c.name, line, wantIP)
					}
				}
				if !strings.Contains(logs.String(), `"request_id":"`+id+`"`) {
					t.Fatalf("%s: no access line: %s", c.name, logs.String())
				}
				base, stop = startServerLogging(t, map[string]string{
					"TYPEDAPI_LOG_LEVEL": "info", "TYPEDAPI_TRUSTED_PROXIES": srv.trusted, "TYPEDAPI_PUBLIC_BASE_URL": srv.public,
				}, &logs)
				host = strings.TrimPrefix(base, "http://")
			}
		})
	}
}

// TestForwardedHeadersRaw sends forwarding headers no HTTP library would:
// CRLF and bare CR inside a value, folded lines. The server refuses the
// request (400) or ignores the header; nothing of it comes back.
func TestForwardedHeadersRaw(t *testing.T) {
	base, _ := startServer(t, map[string]string{"TYPEDAPI_TRUSTED_PROXIES": "127.0.0.0/8"})
	addr := strings.TrimPrefix(base, "http://")
	for name, head := range map[string]string{
		"bare CR in the host":   "X-Forwarded-Host: api.example.com\rSet-Cookie: evil=1\r\n",
		"bare CR in the scheme": "X-Forwarded-Proto: https\rX-Evil: 1\r\n",
		"folded client IP":      "X-Forwarded-For: 198.51.100.7,\r\n 192.0.2.66 evil\r\n",
		"NUL in Forwarded":      "Forwarded: for=198.51.100.7\x00;host=evil.example\r\n",
		"header injection":      "X-Forwarded-Host: evil.example\r\nX-Forwarded-Host: evil2.example\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
			_, _ = io.WriteString(conn, "GET /v1/items HTTP/1.1\r\nHost: api.example.com\r\n"+head+"Connection: close\r\n\r\n")
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatalf("no answer: %v", err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 && resp.StatusCode != 400 {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			if strings.Contains(string(body), "evil") || resp.Header.Get("Set-Cookie") != "" || resp.Header.Get("X-Evil") != "" {
				t.Errorf("reflected: %v %s", resp.Header, body)
			}
		})
	}
}

// TestRateLimitHTTP: with rate_limit on, a client gets its burst, then a
// 429 problem with Retry-After and the RateLimit fields, declared in the
// spec; the refused write is not made; the health checks and other clients
// are not limited; behind a trusted proxy the forwarded client IP is the
// key, and from an untrusted peer a forged one is not.
func TestRateLimitHTTP(t *testing.T) {
	base, _ := startServer(t, map[string]string{"TYPEDAPI_RATE_LIMIT": "0.01", "TYPEDAPI_RATE_BURST": "2", "TYPEDAPI_TRUSTED_PROXIES": "127.0.0.1"})
	c := client{t, base}
	a, b := []string{"X-Forwarded-For", "198.51.100.1"}, []string{"X-Forwarded-For", "198.51.100.2"}
	created, _ := c.expect(201, "POST", "/v1/items", okBody, a...)
	listed, _ := c.expect(200, "GET", "/v1/items", "", a...)
	if created.Header.Get("RateLimit") != `"per-client";r=1` || listed.Header.Get("RateLimit") != `"per-client";r=0` {
		t.Errorf("RateLimit %q then %q", created.Header.Get("RateLimit"), listed.Header.Get("RateLimit"))
	}
	resp, body := c.expect(429, "POST", "/v1/items", `{"name":"Refused","price":1,"currency":"EUR"}`, a...)
	for name, want := range map[string]string{
		"Content-Type":     problemCT,
		"Retry-After":      "100",
		"RateLimit":        `"per-client";r=0;t=100`,
		"RateLimit-Policy": `"per-client";q=2;w=200`,
	} {
		if got := resp.Header.Get(name); got != want {
			t.Errorf("%s %q, want %q", name, got, want)
		}
	}
	var p struct {
		Status int
		Detail string
	}
	if err := json.Unmarshal(body, &p); err != nil || p.Status != 429 || !strings.Contains(p.Detail, "Retry-After") {
		t.Errorf("429 body %s", body)
	}
	// Another client is not limited, and sees that the refused create
	// wrote nothing.
	_, list := c.expect(200, "GET", "/v1/items", "", b...)
	if n := strings.Count(string(list), `"id":`); n != 1 || strings.Contains(string(list), "Refused") {
		t.Errorf("%d items after a refused create: %s", n, list)
	}
	// What the client wrote left of the proxy's entry is skipped; Forwarded
	// counts when the proxy sent no X-Forwarded-*.
	c.expect(429, "GET", "/v1/items", "", "X-Forwarded-For", "192.0.2.9, 198.51.100.1")
	c.expect(200, "GET", "/v1/items", "", "Forwarded", "for=198.51.100.3")
	for range 10 {
		c.expect(200, "GET", "/healthz", "", a...)
		c.expect(200, "GET", "/readyz", "", a...)
	}
	// The document is not an operation: not limited; it declares the 429.
	_, spec := c.expect(200, "GET", "/openapi.json", "", a...)
	if !strings.Contains(string(spec), `"429"`) || !strings.Contains(string(spec), `"RateLimit-Policy"`) {
		t.Errorf("the spec does not declare the 429")
	}

	// From an untrusted peer a forged X-Forwarded-For or Forwarded changes
	// nothing: one bucket, the peer's.
	untrusted, _ := startServer(t, map[string]string{"TYPEDAPI_RATE_LIMIT": "0.01", "TYPEDAPI_RATE_BURST": "1"})
	uc := client{t, untrusted}
	uc.expect(200, "GET", "/v1/items", "", "X-Forwarded-For", "198.51.100.1")
	uc.expect(429, "GET", "/v1/items", "", "X-Forwarded-For", "198.51.100.2")
	uc.expect(429, "GET", "/v1/items", "", "Forwarded", "for=198.51.100.3")
}

// TestForwardedHeadersLambda: on Lambda the event is the authority. A
// client's X-Forwarded-Host reaches no link through any front door (even
// with trusted_proxies set, which Lambda does not consult), and behind an
// ALB the client is the address the ALB appended last to X-Forwarded-For,
// not what the client wrote before it.
func TestForwardedHeadersLambda(t *testing.T) {
	var logs logsink.Buffer
	h := newLambda(t, &logs, map[string]string{"TYPEDAPI_TRUSTED_PROXIES": "0.0.0.0/0"})
	for i, fd := range frontDoors {
		id := fmt.Sprintf("lambda-fwd-%d", i)
		header := http.Header{
			"X-Forwarded-Host": {"evil.example"},
			"Forwarded":        {"for=192.0.2.66;host=evil.example;proto=http"},
			"X-Request-Id":     {id},
		}
		if fd.req.Source == "alb" {
			header.Set("X-Forwarded-For", "192.0.2.66, 198.51.100.7") // the client's forgery, then the ALB's entry
		}
		resp := invoke(t, h, fd.with("GET", "/v1/items/NOT-AN-ID", header, ""))
		if resp.StatusCode != 422 {
			t.Fatalf("%s: %d %s", fd.name, resp.StatusCode, resp.Body)
		}
		if strings.Contains(resp.Body, "evil") || !strings.Contains(resp.Body, `"$schema":"http`) {
			t.Errorf("%s: %s", fd.name, resp.Body)
		}
		if !strings.Contains(logs.String(), `"request_id":"`+id+`"`) {
			t.Fatalf("%s: no access line", fd.name)
		}
		for _, line := range strings.Split(logs.String(), "\n") {
			if strings.Contains(line, `"request_id":"`+id+`"`) && (strings.Contains(line, "192.0.2.66") ||
				fd.req.Source == "alb" && !strings.Contains(line, `"remote_ip":"198.51.100.7"`)) {
				t.Errorf("%s: access line %s", fd.name, line)
			}
		}
	}
}

// TestLambdaTraceIDIsNoRequestID: an ALB's trace id with ";" in it is not
// made the request id (it would be refused as a client's bad X-Request-Id);
// the request is answered under a fresh id.
func TestLambdaTraceIDIsNoRequestID(t *testing.T) {
	h := newLambda(t, io.Discard, nil)
	for _, fd := range frontDoors {
		if fd.req.Source != "alb" {
			continue
		}
		header := http.Header{"X-Amzn-Trace-Id": {"Self=1-67891234-12456789abcdef012345678;Root=1-67891233-abcdef012345678912345678"}}
		resp := invoke(t, h, fd.with("GET", "/v1/items", header, ""))
		if resp.StatusCode != 200 || resp.header("X-Request-Id") == "" || strings.Contains(resp.header("X-Request-Id"), ";") {
			t.Errorf("%s: %d X-Request-Id %q %s", fd.name, resp.StatusCode, resp.header("X-Request-Id"), resp.Body)
		}
	}
}

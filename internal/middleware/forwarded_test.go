package middleware

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/typedapi/typedapi/internal/requestinfo"
)

// TestForwarding: what a request's forwarding headers may change, by who
// sent them. The proxy at 10.0.0.5 is trusted; 203.0.113.9 is a client
// talking to the server directly. Hostile values are ignored: never
// reflected in the client IP or the links.
func TestForwarding(t *testing.T) {
	fw := NewForwarding([]netip.Prefix{netip.MustParsePrefix("10.0.0.0/16"), netip.MustParsePrefix("2001:db8::/32")}, "")
	const proxy, direct = "10.0.0.5:40000", "203.0.113.9:50000"
	cases := []struct {
		name   string
		peer   string
		tls    bool
		header []string // name, value pairs; a name given twice is two lines
		ip     string   // the client IP wanted
		base   string   // the base URL wanted (Host is api.example.com)
	}{
		{"direct, nothing forwarded", direct, false, nil, "203.0.113.9", "http://api.example.com"},
		{"direct over TLS", direct, true, nil, "203.0.113.9", "https://api.example.com"},
		{"direct, spoofed X-Forwarded-For", direct, false, []string{"X-Forwarded-For", "198.51.100.1"}, "203.0.113.9", "http://api.example.com"},
		{"direct, spoofed proto", direct, true, []string{"X-Forwarded-Proto", "http"}, "203.0.113.9", "https://api.example.com"},
		{"direct, spoofed Forwarded", direct, false, []string{"Forwarded", "for=198.51.100.1;proto=https;host=evil.example"}, "203.0.113.9", "http://api.example.com"},
		{"direct, another host", direct, false, []string{"X-Forwarded-Host", "evil.example"}, "203.0.113.9", "http://api.example.com"},

		{"proxy, client forwarded", proxy, false, []string{"X-Forwarded-For", "198.51.100.1", "X-Forwarded-Proto", "https"}, "198.51.100.1", "https://api.example.com"},
		{"proxy, client's own spoof left of it", proxy, false, []string{"X-Forwarded-For", "192.0.2.66, 198.51.100.1"}, "198.51.100.1", "http://api.example.com"},
		{"proxy, spoof on an earlier line", proxy, false, []string{"X-Forwarded-For", "192.0.2.66", "X-Forwarded-For", "198.51.100.1"}, "198.51.100.1", "http://api.example.com"},
		{"proxy chain, all trusted hops skipped", proxy, false, []string{"X-Forwarded-For", "198.51.100.1, 10.0.3.3, 10.0.0.9"}, "198.51.100.1", "http://api.example.com"},
		{"proxy, only trusted hops", proxy, false, []string{"X-Forwarded-For", "10.0.3.3, 10.0.0.9"}, "10.0.3.3", "http://api.example.com"},
		{"proxy, IPv6 client", proxy, false, []string{"X-Forwarded-For", "[2a00:1450::1]:443"}, "2a00:1450::1", "http://api.example.com"},
		{"proxy, IPv4-mapped client", proxy, false, []string{"X-Forwarded-For", "::ffff:198.51.100.1"}, "198.51.100.1", "http://api.example.com"},
		{"proxy, client with port", proxy, false, []string{"X-Forwarded-For", "198.51.100.1:5555"}, "198.51.100.1", "http://api.example.com"},
		{"proxy, garbage forwarded", proxy, false, []string{"X-Forwarded-For", "not-an-ip"}, "10.0.0.5", "http://api.example.com"},
		{"proxy, garbage behind a trusted hop", proxy, false, []string{"X-Forwarded-For", "<script>, 10.0.0.9"}, "10.0.0.9", "http://api.example.com"},
		{"proxy, zone", proxy, false, []string{"X-Forwarded-For", "fe80::1%eth0"}, "10.0.0.5", "http://api.example.com"},
		{"proxy, empty", proxy, false, []string{"X-Forwarded-For", ""}, "10.0.0.5", "http://api.example.com"},
		{"proxy, another host", proxy, false, []string{"X-Forwarded-For", "198.51.100.1", "X-Forwarded-Host", "evil.example"}, "198.51.100.1", "http://api.example.com"},
		{"proxy, scheme not http(s)", proxy, true, []string{"X-Forwarded-For", "198.51.100.1", "X-Forwarded-Proto", "javascript"}, "198.51.100.1", "https://api.example.com"},
		{"proxy, proto upper case", proxy, false, []string{"X-Forwarded-For", "198.51.100.1", "X-Forwarded-Proto", "HTTPS"}, "198.51.100.1", "https://api.example.com"},
		{"proxy, several protos in one line", proxy, false, []string{"X-Forwarded-For", "198.51.100.1", "X-Forwarded-Proto", "https, http"}, "198.51.100.1", "http://api.example.com"},
		{"proxy, several proto lines", proxy, false, []string{"X-Forwarded-For", "198.51.100.1", "X-Forwarded-Proto", "https", "X-Forwarded-Proto", "https"}, "198.51.100.1", "http://api.example.com"},
		{"proxy, proto with CRLF", proxy, false, []string{"X-Forwarded-For", "198.51.100.1", "X-Forwarded-Proto", "https\r\nSet-Cookie: a=b"}, "198.51.100.1", "http://api.example.com"},
		{"proxy, X-Forwarded-For with CRLF", proxy, false, []string{"X-Forwarded-For", "198.51.100.1\r\nX: y"}, "10.0.0.5", "http://api.example.com"},

		{"proxy, Forwarded", proxy, false, []string{"Forwarded", `for=198.51.100.1;proto=https`}, "198.51.100.1", "https://api.example.com"},
		{"proxy, Forwarded IPv6 quoted", proxy, false, []string{"Forwarded", `for="[2a00:1450::1]:4711";proto=https`}, "2a00:1450::1", "https://api.example.com"},
		{"proxy, Forwarded chain", proxy, false, []string{"Forwarded", `for=192.0.2.66;proto=http, for=198.51.100.1;proto=https, for=10.0.9.9;proto=http`}, "198.51.100.1", "https://api.example.com"},
		{"proxy, Forwarded host ignored", proxy, false, []string{"Forwarded", `for=198.51.100.1;host=evil.example`}, "198.51.100.1", "http://api.example.com"},
		{"proxy, Forwarded garbage", proxy, false, []string{"Forwarded", `for=198.51.100.1;;;==,"`}, "10.0.0.5", "http://api.example.com"},
		{"proxy, Forwarded unquoted IPv6", proxy, false, []string{"Forwarded", `for=2a00:1450::1`}, "10.0.0.5", "http://api.example.com"},
		{"proxy, Forwarded unterminated quote", proxy, false, []string{"Forwarded", `for="198.51.100.1`}, "10.0.0.5", "http://api.example.com"},
		{"proxy, Forwarded unknown", proxy, false, []string{"Forwarded", `for=unknown;proto=https`}, "10.0.0.5", "https://api.example.com"},
		{"proxy, Forwarded proto ftp", proxy, false, []string{"Forwarded", `for=198.51.100.1;proto=ftp`}, "198.51.100.1", "http://api.example.com"},
		{"proxy, both headers: X-Forwarded-For wins", proxy, false, []string{"Forwarded", `for=192.0.2.66;proto=https`, "X-Forwarded-For", "198.51.100.1"}, "198.51.100.1", "http://api.example.com"},
		{"IPv6 proxy", "[2001:db8::7]:1234", false, []string{"X-Forwarded-For", "198.51.100.1"}, "198.51.100.1", "http://api.example.com"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/v1/items", nil)
			r.Host, r.RemoteAddr = "api.example.com", c.peer
			if c.tls {
				r.TLS = &tls.ConnectionState{}
			}
			for i := 0; i+1 < len(c.header); i += 2 {
				r.Header.Add(c.header[i], c.header[i+1])
			}
			var ip, base string
			fw.Handler(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
				ip, base = ClientIP(r), fw.BaseURL(r)
			})).ServeHTTP(httptest.NewRecorder(), r)
			if ip != c.ip || base != c.base {
				t.Errorf("client %q base %q, want %q %q", ip, base, c.ip, c.base)
			}
		})
	}
}

// TestForwardingNoneTrusted: with no trusted proxies (the default) nothing
// forwarded is read, whoever the peer is.
func TestForwardingNoneTrusted(t *testing.T) {
	fw := NewForwarding(nil, "")
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Host, r.RemoteAddr = "localhost:8080", "127.0.0.1:9999"
	r.Header.Set("X-Forwarded-For", "198.51.100.1")
	r.Header.Set("X-Forwarded-Proto", "https")
	r.Header.Set("X-Forwarded-Host", "evil.example")
	r.Header.Set("Forwarded", "for=198.51.100.2;proto=https;host=evil.example")
	var ip, base string
	fw.Handler(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { ip, base = ClientIP(r), fw.BaseURL(r) })).ServeHTTP(httptest.NewRecorder(), r)
	if ip != "127.0.0.1" || base != "http://localhost:8080" {
		t.Errorf("client %q base %q", ip, base)
	}
}

// TestBaseURL: public_base_url replaces scheme and host (the mount prefix
// still follows it); a Host that could bend a URL is not used; on Lambda
// the front door's scheme is believed.
func TestBaseURL(t *testing.T) {
	cases := []struct {
		name, public, host, proto string
		lambda                    bool
		prefix, want              string
	}{
		{"public base", "https://api.example.com", "evil.example", "http", false, "", "https://api.example.com"},
		{"public base with path and prefix", "https://example.com/api/", "10.0.0.1:8080", "", false, "/shop", "https://example.com/api/shop"},
		{"public base on Lambda", "https://api.example.com", "abc.execute-api.aws", "https", true, "/prod", "https://api.example.com/prod"},
		{"own Host", "", "localhost:8080", "", false, "", "http://localhost:8080"},
		{"Host with a path", "", "evil.example/x?", "", false, "", "http://localhost"},
		{"Host with userinfo", "", "a@evil.example", "", false, "", "http://localhost"},
		{"Lambda: the front door's scheme", "", "abc.execute-api.aws", "http", true, "/prod", "http://abc.execute-api.aws/prod"},
		{"Lambda: a scheme not http(s)", "", "abc.execute-api.aws", "gopher", true, "", "https://abc.execute-api.aws"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fw := NewForwarding(nil, c.public)
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.Host = c.host
			if c.proto != "" {
				r.Header.Set("X-Forwarded-Proto", c.proto)
			}
			ctx := r.Context()
			if c.lambda {
				ctx = requestinfo.With(ctx, requestinfo.Info{OnLambda: true, SourceIP: "198.51.100.1"})
			}
			if c.prefix != "" {
				ctx = WithMountPrefix(ctx, c.prefix)
			}
			if got := fw.BaseURL(r.WithContext(ctx)); got != c.want {
				t.Errorf("BaseURL %q, want %q", got, c.want)
			}
		})
	}
}

// FuzzForwarded: whatever a trusted proxy's forwarding headers hold, the
// client is the peer or an address that appears in them, the scheme is
// http or https, and nothing panics.
func FuzzForwarded(f *testing.F) {
	f.Add("198.51.100.1, 10.0.0.9", "https", `for="[2001:db8::1]:80";proto=https, for=10.0.0.2`)
	f.Add("", "", `for=;;"`)
	f.Add("[::1]:1,,,", "http, https", "for=unknown")
	fw := NewForwarding([]netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, "")
	peer := netip.MustParseAddr("10.0.0.5")
	f.Fuzz(func(t *testing.T, xff, proto, fwd string) {
		h := http.Header{}
		if xff != "" {
			h["X-Forwarded-For"] = []string{xff}
		}
		if proto != "" {
			h["X-Forwarded-Proto"] = []string{proto}
		}
		if fwd != "" {
			h["Forwarded"] = []string{fwd}
		}
		client, scheme := fw.forwarded(h, peer)
		if scheme != "" && scheme != "http" && scheme != "https" {
			t.Fatalf("scheme %q", scheme)
		}
		if client != peer && !client.IsValid() {
			t.Fatalf("client %v", client)
		}
	})
}

// BenchmarkForwardedClient is the cost of finding the client of a request
// an ALB forwarded.
func BenchmarkForwardedClient(b *testing.B) {
	fw := NewForwarding([]netip.Prefix{netip.MustParsePrefix("10.0.0.0/16")}, "")
	r := httptest.NewRequest(http.MethodGet, "/v1/items", nil)
	r.RemoteAddr = "10.0.1.7:40000"
	r.Header.Set("X-Forwarded-For", "192.0.2.66, 198.51.100.1")
	r.Header.Set("X-Forwarded-Proto", "https")
	h := fw.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	w := httptest.NewRecorder()
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(w, r)
	}
}

package middleware

import (
	"net/http"
	"net/netip"
	"strings"

	"github.com/typedapi/typedapi/internal/requestinfo"
)

// Forwarding is the one place that decides where a request came from and
// which URL the client used to reach the API: the client's IP (requestinfo,
// the access line, the rate limiter) and the base of every URL the API
// hands out (`$schema`, the spec's servers).
//
//   - On Lambda the event is the authority: its source IP, and the host and
//     scheme its front door recorded.
//   - On the HTTP server, forwarding headers (X-Forwarded-For,
//     X-Forwarded-Proto, Forwarded) are read only when the connection comes
//     from a trusted proxy, and then only for the client's IP and scheme.
//     From anyone else they are ignored: a client cannot choose the IP it is
//     limited by or logged as, nor the scheme of the links it is sent.
//   - The host of the links is never taken from X-Forwarded-Host or
//     Forwarded's host=: a load balancer such as AWS's ALB passes a client's
//     X-Forwarded-Host on unchanged, so even behind a trusted proxy it is the
//     client's word. Links use public_base_url when it is set and the
//     request's own Host otherwise.
type Forwarding struct {
	trusted    []netip.Prefix
	publicBase string // scheme://host[/path], no trailing slash; "" when not set
}

// NewForwarding trusts the forwarding headers of peers in trusted and, with
// publicBase set (an absolute http(s) URL, checked by config), makes every
// link start with it.
func NewForwarding(trusted []netip.Prefix, publicBase string) *Forwarding {
	return &Forwarding{trusted: trusted, publicBase: strings.TrimSuffix(publicBase, "/")}
}

// Handler records the client's IP in requestinfo when the request comes
// from a trusted proxy that forwarded one. It must be outside AccessLog, so
// that the access line names the client rather than the proxy.
func (f *Forwarding) Handler(next http.Handler) http.Handler {
	if len(f.trusted) == 0 {
		return next // nothing forwarded is believed: the peer is the client
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info := requestinfo.FromContext(r.Context())
		if info.OnLambda {
			next.ServeHTTP(w, r)
			return
		}
		peer, ok := peerAddr(r.RemoteAddr)
		if !ok || !f.isTrusted(peer) {
			next.ServeHTTP(w, r)
			return
		}
		client, _ := f.forwarded(r.Header, peer)
		if client != peer {
			info.SourceIP = client.String()
			r = r.WithContext(requestinfo.With(r.Context(), info))
		}
		next.ServeHTTP(w, r)
	})
}

// ClientIP is the IP of the client that sent r: the one Forwarding (or the
// Lambda event, or the connection) recorded in requestinfo, else the host
// of r.RemoteAddr.
func ClientIP(r *http.Request) string {
	if ip := requestinfo.FromContext(r.Context()).SourceIP; ip != "" {
		return ip
	}
	return remoteIP(r.RemoteAddr)
}

// BaseURL is the URL in front of the API's own paths as the client reached
// them: scheme and host (public_base_url, or the request's scheme and own
// Host), then the mount prefix (base path, gateway stage).
func (f *Forwarding) BaseURL(r *http.Request) string {
	prefix := MountPrefix(r.Context())
	if f.publicBase != "" {
		return f.publicBase + prefix
	}
	host := r.Host
	if !validHost(host) {
		host = "localhost"
	}
	return f.scheme(r) + "://" + host + prefix
}

// scheme is https or http, as the client used it.
func (f *Forwarding) scheme(r *http.Request) string {
	if requestinfo.FromContext(r.Context()).OnLambda {
		// The front door (API Gateway, ALB, Function URL) sets it, and the
		// Lambda glue makes it https when an event has none.
		if p, ok := oneProto(r.Header["X-Forwarded-Proto"]); ok {
			return p
		}
		return "https"
	}
	if len(f.trusted) > 0 {
		if peer, ok := peerAddr(r.RemoteAddr); ok && f.isTrusted(peer) {
			if _, proto := f.forwarded(r.Header, peer); proto != "" {
				return proto
			}
		}
	}
	if r.TLS != nil {
		return "https"
	}
	return "http"
}

func (f *Forwarding) isTrusted(a netip.Addr) bool {
	for _, p := range f.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// forwarded reads what a trusted peer forwarded: the client's address and
// the scheme it used ("" when not told). X-Forwarded-For (with
// X-Forwarded-Proto) is what load balancers write; Forwarded (RFC 7239) is
// read only when the proxy sent neither of those, so a client cannot add
// a Forwarded header the proxy passes on and have it preferred.
//
// The client is found from the right: each proxy appends the address it
// received the request from, so the rightmost address that is not a
// trusted proxy is the client, and whatever a client wrote further left is
// never reached. An entry that is not an IP address stops the walk at the
// last trusted hop: nobody behind it can be vouched for.
func (f *Forwarding) forwarded(h http.Header, peer netip.Addr) (netip.Addr, string) {
	xff, xfp := h["X-Forwarded-For"], h["X-Forwarded-Proto"]
	if len(xff) > 0 || len(xfp) > 0 {
		client := peer
		if len(xff) > 0 {
			client = f.walkList(peer, xff)
		}
		proto, _ := oneProto(xfp)
		return client, proto
	}
	fwd := h["Forwarded"]
	if len(fwd) == 0 {
		return peer, ""
	}
	elems, ok := parseForwarded(fwd)
	if !ok {
		return peer, "" // garbage: the whole header is ignored
	}
	fors := make([]string, len(elems))
	for i, e := range elems {
		fors[i] = e.forNode
	}
	client, at := f.walk(peer, fors, func(s string) (netip.Addr, bool) { return parseNode(s, true) })
	if at < 0 {
		at = len(elems) - 1 // no client named: the scheme the peer itself received
	}
	proto, _ := oneProto([]string{elems[at].proto})
	return client, proto
}

// walk finds the client in entries (nearest proxy last) as forwarded
// explains, and the index of the entry it came from (-1: the peer).
func (f *Forwarding) walk(peer netip.Addr, entries []string, parse func(string) (netip.Addr, bool)) (netip.Addr, int) {
	client, at := peer, -1
	for i := len(entries) - 1; i >= 0; i-- {
		a, ok := parse(entries[i])
		if !ok {
			return client, at
		}
		client, at = a, i
		if !f.isTrusted(a) {
			return client, at
		}
	}
	return client, at
}

// walkList is walk over the comma-separated items of X-Forwarded-For
// lines, read from the right without splitting them up first (it runs on
// every request a load balancer forwards).
func (f *Forwarding) walkList(peer netip.Addr, lines []string) netip.Addr {
	client := peer
	for i := len(lines) - 1; i >= 0; i-- {
		l := lines[i]
		for {
			j := strings.LastIndexByte(l, ',')
			a, ok := parseNode(strings.TrimSpace(l[j+1:]), false)
			if !ok {
				return client
			}
			client = a
			if !f.isTrusted(a) {
				return client
			}
			if j < 0 {
				break
			}
			l = l[:j]
		}
	}
	return client
}

// parseNode reads one forwarded address: an IP, optionally with a port
// (IPv6 then in brackets); in Forwarded, quoted when it has a port or
// brackets. Names, "unknown", obfuscated identifiers and zones are not
// addresses.
func parseNode(s string, quoted bool) (netip.Addr, bool) {
	if quoted && len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = s[1 : len(s)-1]
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		ap, err := netip.ParseAddrPort(s)
		if err != nil {
			if len(s) > 2 && s[0] == '[' && s[len(s)-1] == ']' {
				return parseNode(s[1:len(s)-1], false)
			}
			return netip.Addr{}, false
		}
		a = ap.Addr()
	}
	if a.Zone() != "" {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

// oneProto is the scheme a single http or https value names; several
// values or anything else is not believed.
func oneProto(values []string) (string, bool) {
	if len(values) != 1 {
		return "", false
	}
	switch strings.ToLower(strings.TrimSpace(values[0])) {
	case "https":
		return "https", true
	case "http":
		return "http", true
	}
	return "", false
}

// forwardedElem is one hop of a Forwarded header.
type forwardedElem struct{ forNode, proto string }

// parseForwarded reads RFC 7239 Forwarded lines: comma-separated elements
// of semicolon-separated name=value pairs, each value a token or a quoted
// string. Anything that does not parse makes the whole header unreadable.
func parseForwarded(lines []string) ([]forwardedElem, bool) {
	var elems []forwardedElem
	for _, line := range lines {
		s := line
		for {
			var e forwardedElem
			for {
				s = strings.TrimLeft(s, " \t")
				eq := strings.IndexByte(s, '=')
				if eq <= 0 || !isToken(s[:eq]) {
					return nil, false
				}
				name := strings.ToLower(s[:eq])
				s = s[eq+1:]
				var value string
				if strings.HasPrefix(s, `"`) {
					end := strings.IndexByte(s[1:], '"')
					if end < 0 || strings.ContainsAny(s[1:end+1], "\\\r\n") {
						return nil, false // unterminated, or escapes this reader does not take
					}
					value, s = s[:end+2], s[end+2:]
				} else {
					end := strings.IndexAny(s, ";, \t")
					if end < 0 {
						end = len(s)
					}
					value, s = s[:end], s[end:]
					if !isToken(value) {
						return nil, false
					}
				}
				switch name {
				case "for":
					e.forNode = value
				case "proto":
					e.proto = strings.Trim(value, `"`)
				}
				s = strings.TrimLeft(s, " \t")
				if !strings.HasPrefix(s, ";") {
					break
				}
				s = s[1:]
			}
			elems = append(elems, e)
			if s == "" {
				break
			}
			if s[0] != ',' {
				return nil, false
			}
			s = s[1:]
		}
	}
	return elems, true
}

// isToken reports whether s is a non-empty RFC 9110 token.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// peerAddr is the IP of a "host:port" (or bare host) address.
func peerAddr(addr string) (netip.Addr, bool) {
	if ap, err := netip.ParseAddrPort(addr); err == nil {
		return ap.Addr().Unmap(), true
	}
	a, err := netip.ParseAddr(addr)
	return a.Unmap(), err == nil
}

// validHost reports whether h can stand as the authority of a URL without
// ending or bending it: no path, query, fragment or user info, no space or
// control byte. (Lambda events carry their own domain; the HTTP server
// has already refused a Host that is not a valid one.)
func validHost(h string) bool {
	if h == "" || len(h) > 255 {
		return false
	}
	for i := 0; i < len(h); i++ {
		if c := h[i]; c <= ' ' || c >= 0x7f || strings.IndexByte(`/?#@\"`, c) >= 0 {
			return false
		}
	}
	return true
}

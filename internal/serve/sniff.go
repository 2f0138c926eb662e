package serve

import "bytes"

// sniff tells an event's kind from its top-level keys without decoding it.
// It walks the outer object member by member and steps over each value
// whole (a string to its closing quote, an object or array to its matching
// bracket), so only the event's own keys count: a header, query parameter
// or body that holds another kind's key names cannot fool it. Of the nested
// objects only requestContext is looked into, for an ALB's "elb" and VPC
// Lattice's "serviceNetworkArn".
//
// It stops as soon as the kind is certain, so an event in the order API
// Gateway writes it ("version", "routeKey", "rawPath" first; "resource"
// first for REST) costs a few dozen bytes of scanning. The first decisive
// key wins; no real event holds two kinds' keys, and when algnhsa cannot
// read the event as the kind sniffed, Invoke lets it try every kind. An
// API Gateway authorizer's request looks like an HTTP event but carries a
// methodArn or routeArn, before the path in AWS's order: it is refused.
//
// VPC Lattice events are told by keys no other kind has at the top level:
// "raw_path" (structure v1), or "version" beside "method" or a
// requestContext with a "serviceNetworkArn" (v2).
func sniff(payload []byte) kind {
	s := scanner{b: payload}
	if !s.consume('{') {
		return kindUnknown
	}
	var seen keySet
	for {
		key, ok := s.member()
		if !ok {
			break
		}
		seen.add(key)
		if string(key) == "requestContext" && s.consume('{') {
			seen |= s.contextKeys()
		} else if !s.skip() {
			break
		}
		switch {
		case seen.has(keyAuthorizer):
			return kindUnknown // it wants a policy, not an HTTP response
		case seen.has(keyRawPath):
			return kindV2
		case seen.has(keyLatticeRawPath), seen.has(keyVersion) && (seen.has(keyMethod) || seen.has(keyLatticeContext)):
			return kindLattice
		case seen.has(keyELB) && seen.has(keyMultiValueHeaders):
			return kindALB
		case seen.has(keyResource) && seen.has(keyHTTPMethod) && seen.has(keyRequestContext) && !seen.has(keyELB):
			return kindREST
		}
		if !s.consume(',') {
			break
		}
	}
	switch {
	case seen.has(keyELB):
		return kindALBSingle // multi-value headers would have decided above
	case seen.has(keyRouteKey) && seen.has(keyVersion):
		return kindV2
	case seen.has(keyHTTPMethod) && seen.has(keyRequestContext):
		return kindREST
	}
	return kindUnknown
}

// scanner steps through JSON without decoding it. It does not validate:
// json.Unmarshal does that when the event is decoded.
type scanner struct {
	b []byte
	i int
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\r', '\n':
			s.i++
		default:
			return
		}
	}
}

// consume steps over c (after any whitespace) and reports whether it was there.
func (s *scanner) consume(c byte) bool {
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// str reads the string that starts at s.i and returns its raw contents.
func (s *scanner) str() ([]byte, bool) {
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return nil, false
	}
	end := closingQuote(s.b, s.i+1)
	if end < 0 {
		return nil, false
	}
	v := s.b[s.i+1 : end]
	s.i = end + 1
	return v, true
}

// member reads an object member's `"key":`, leaving s at its value.
func (s *scanner) member() ([]byte, bool) {
	s.ws()
	key, ok := s.str()
	if !ok || !s.consume(':') {
		return nil, false
	}
	return key, true
}

// skip steps over one value. Inside objects and arrays it only follows
// strings and brackets; a literal ends at the next comma or closing bracket.
func (s *scanner) skip() bool {
	s.ws()
	depth := 0
	for s.i < len(s.b) {
		// Most bytes between strings are whitespace, colons and commas.
		for s.i < len(s.b) && !structural[s.b[s.i]] {
			s.i++
		}
		if s.i == len(s.b) {
			break
		}
		switch s.b[s.i] {
		case '"':
			if _, ok := s.str(); !ok {
				return false
			}
			if depth == 0 {
				return true
			}
			continue
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return true // the end of the enclosing object: a literal ended
			}
			depth--
			if depth == 0 {
				s.i++
				return true
			}
		case ',':
			if depth == 0 {
				return true
			}
		}
		s.i++
	}
	return depth == 0
}

// structural marks the bytes skip stops at.
var structural = [256]bool{'"': true, '{': true, '}': true, '[': true, ']': true, ',': true}

// contextKeys reads the members of the requestContext object just opened,
// through its closing brace, and reports the ones sniff looks for: an
// ALB's "elb" and VPC Lattice's "serviceNetworkArn".
func (s *scanner) contextKeys() keySet {
	var found keySet
	for {
		key, ok := s.member()
		if !ok {
			break
		}
		switch string(key) {
		case "elb":
			found |= keyELB
		case "serviceNetworkArn":
			found |= keyLatticeContext
		}
		if !s.skip() || !s.consume(',') {
			break
		}
	}
	s.consume('}')
	return found
}

// closingQuote is the index of the quote that ends the string starting at
// start, or -1. A quote preceded by an odd run of backslashes is escaped.
func closingQuote(payload []byte, start int) int {
	for i := start; i < len(payload); {
		q := bytes.IndexByte(payload[i:], '"')
		if q < 0 {
			return -1
		}
		end := i + q
		n := 0
		for k := end - 1; k >= start && payload[k] == '\\'; k-- {
			n++
		}
		if n%2 == 0 {
			return end
		}
		i = end + 1
	}
	return -1
}

// keySet records which of the top-level keys sniff looks for an event has.
type keySet uint16

const (
	keyELB        keySet = 1 << iota // requestContext.elb
	keyAuthorizer                    // methodArn or routeArn: an API Gateway authorizer's request
	keyMultiValueHeaders
	keyRawPath
	keyRouteKey
	keyVersion
	keyHTTPMethod
	keyRequestContext
	keyResource
	keyLatticeRawPath // raw_path: a VPC Lattice v1 event
	keyMethod         // method: a VPC Lattice event (API Gateway and ALB say httpMethod)
	keyLatticeContext // requestContext.serviceNetworkArn: a VPC Lattice v2 event
)

func (s *keySet) add(name []byte) {
	switch string(name) { // no allocation: the compiler compares in place
	case "multiValueHeaders":
		*s |= keyMultiValueHeaders
	case "rawPath":
		*s |= keyRawPath
	case "routeKey":
		*s |= keyRouteKey
	case "version":
		*s |= keyVersion
	case "httpMethod":
		*s |= keyHTTPMethod
	case "requestContext":
		*s |= keyRequestContext
	case "resource":
		*s |= keyResource
	case "methodArn", "routeArn":
		*s |= keyAuthorizer
	case "raw_path":
		*s |= keyLatticeRawPath
	case "method":
		*s |= keyMethod
	}
}

func (s keySet) has(k keySet) bool { return s&k != 0 }

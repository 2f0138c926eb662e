package main

import (
	"errors"
	"net"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// refusedErr is what net/http returns when a dial finds no listener.
var refusedErr = &url.Error{Op: "Get", URL: "http://127.0.0.1:1/v1/items", Err: &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}}

// TestReportDrain: a connection refused once SIGTERM was sent was never
// accepted by the server, so it is counted as refused, even when the
// request began just before the signal; without a SIGTERM, or with any
// other failure, it is an error.
func TestReportDrain(t *testing.T) {
	term := time.Unix(1000, 0)
	before, after := term.Add(-time.Millisecond), term.Add(time.Millisecond)
	ok := result{op: "get", status: 200, sentAt: before.Add(-time.Second), latency: time.Millisecond}
	cases := []struct {
		name      string
		sigtermAt time.Time
		r         result
		wantErr   bool
	}{
		{"refused, sent after SIGTERM", term, result{op: "get", err: refusedErr, sentAt: after, latency: time.Millisecond}, false},
		{"refused after SIGTERM, sent just before", term, result{op: "get", err: refusedErr, sentAt: before, latency: 2 * time.Millisecond}, false},
		{"refused before SIGTERM", term, result{op: "get", err: refusedErr, sentAt: before.Add(-time.Second), latency: time.Millisecond}, true},
		{"another failure just before SIGTERM", term, result{op: "get", err: errors.New("connection reset"), sentAt: before, latency: 2 * time.Millisecond}, true},
		{"refused, no SIGTERM at all", time.Time{}, result{op: "get", err: refusedErr, sentAt: after, latency: time.Millisecond}, true},
	}
	for _, tc := range cases {
		var out strings.Builder
		err := report(&out, options{workers: 1, sigtermAfter: time.Second}, []result{ok, tc.r}, time.Second, nil, tc.sigtermAt, 0)
		if (err != nil) != tc.wantErr {
			t.Errorf("%s: report error %v, want error %v\n%s", tc.name, err, tc.wantErr, out.String())
		}
	}
}

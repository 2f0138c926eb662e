package middleware

import "testing"

func TestRemoteIP(t *testing.T) {
	for addr, want := range map[string]string{
		"":                  "",
		"1.2.3.4":           "1.2.3.4", // Lambda: the source IP, no port
		"1.2.3.4:5678":      "1.2.3.4",
		"[::1]:8080":        "::1",
		"2001:db8::1":       "2001:db8::1",
		"[2001:db8::1]:443": "2001:db8::1",
		"host.example:80":   "host.example",
	} {
		if got := remoteIP(addr); got != want {
			t.Errorf("remoteIP(%q) = %q, want %q", addr, got, want)
		}
	}
}

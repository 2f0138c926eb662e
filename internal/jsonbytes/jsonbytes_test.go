package jsonbytes

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func stdString(s string) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return strings.TrimSuffix(buf.String(), "\n")
}

func slogString(s string) string {
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == "time" || a.Key == "level" || a.Key == "msg" {
			return slog.Attr{}
		}
		return a
	}})).Info("", "s", s)
	return strings.TrimSuffix(strings.TrimPrefix(buf.String(), `{"s":`), "}\n")
}

func stdFloat(f float64) string {
	b, _ := json.Marshal(f)
	return string(b)
}

var cases = []string{"", "plain", "a\"b\\c", "\b\f\n\r\t\x00\x1f\x7f", "<>&", "\u2028\u2029", "\xff\xfe", "é😀", "\xc3\x28", "tail\xe2\x80"}

func TestSameAsStandardLibrary(t *testing.T) {
	for _, s := range cases {
		if got, want := string(String(nil, s)), stdString(s); got != want {
			t.Errorf("String(%q) = %s, encoding/json writes %s", s, got, want)
		}
		if got, want := string(SlogString(nil, s)), slogString(s); got != want {
			t.Errorf("SlogString(%q) = %s, slog writes %s", s, got, want)
		}
	}
	for _, f := range []float64{0, math.Copysign(0, -1), 1, -1.5, 0.042, 1e-6, 1e-7, 9.99e-7, 1e20, 1e21, -1e21, 123456789e300, 5e-324, math.MaxFloat64} {
		if got, want := string(Float(nil, f)), stdFloat(f); got != want {
			t.Errorf("Float(%g) = %s, encoding/json writes %s", f, got, want)
		}
	}
}

// TestLongStrings: long strings of every kind of byte, and runes and
// escapes at every offset into buffers with little room left.
func TestLongStrings(t *testing.T) {
	pieces := []string{"a", "plain text ", `"`, `\`, "\n", "\x01", "\x7f", "é", "😀", "\u2028", "\xff", "\xe2\x80", "<&>", "\t\r"}
	rng := rand.New(rand.NewPCG(1, 2))
	for n := range 400 {
		var sb strings.Builder
		for sb.Len() < n*7 {
			sb.WriteString(pieces[rng.IntN(len(pieces))])
		}
		s := sb.String()
		for _, cut := range []int{0, 1, 7, 8, 9} { // every alignment
			if cut > len(s) {
				break
			}
			s := s[cut:]
			if got, want := string(String(nil, s)), stdString(s); got != want {
				t.Fatalf("String(%q) =\n%s\nencoding/json writes\n%s", s, got, want)
			}
			if got, want := string(SlogString([]byte("prefix"), s)), "prefix"+slogString(s); got != want {
				t.Fatalf("SlogString(%q) =\n%s\nslog writes\n%s", s, got, want)
			}
		}
	}
	// Runes and escapes at every offset, into buffers with little room left.
	for _, r := range []string{"é", "€", "😀", "\u2028", "\xff", `"`, "\x00"} {
		for pad := range 20 {
			s := strings.Repeat("x", pad) + r + strings.Repeat(r, pad%3) + "yz"
			for room := range 10 {
				b := make([]byte, 3, 3+room)
				if got, want := string(String(b, s)[3:]), stdString(s); got != want {
					t.Fatalf("pad %d %q room %d: got %s, want %s", pad, r, room, got, want)
				}
			}
		}
	}
}

func FuzzSameAsStandardLibrary(f *testing.F) {
	for _, s := range cases {
		f.Add(s, 0.042)
	}
	f.Fuzz(func(t *testing.T, s string, fl float64) {
		if got, want := string(String(nil, s)), stdString(s); got != want {
			t.Errorf("String(%q) = %s, encoding/json writes %s", s, got, want)
		}
		if got, want := string(SlogString(nil, s)), slogString(s); got != want {
			t.Errorf("SlogString(%q) = %s, slog writes %s", s, got, want)
		}
		if !math.IsNaN(fl) && !math.IsInf(fl, 0) {
			if got, want := string(Float(nil, fl)), stdFloat(fl); got != want {
				t.Errorf("Float(%g) = %s, encoding/json writes %s", fl, got, want)
			}
		}
	})
}

// BenchmarkString: a header value (nothing to escape) and a JSON body (a
// quote every few bytes), as the Lambda response carries them.
func BenchmarkString(b *testing.B) {
	for name, s := range map[string]string{
		"header": "default-src 'none'; frame-ancestors 'none'; base-uri 'none'",
		"body":   `{"$schema":"https://api.example.com/schemas/Item.json","id":"01JDQ8Z6M3N4P5Q6R7S8T9V0WX","name":"Espresso cup","price":1250,"currency":"EUR","tags":["kitchen"],"created_at":"2026-11-25T10:00:00Z","version":1}`,
	} {
		b.Run(name, func(b *testing.B) {
			buf := make([]byte, 0, 1024)
			b.SetBytes(int64(len(s)))
			for b.Loop() {
				buf = String(buf[:0], s)
			}
		})
	}
}

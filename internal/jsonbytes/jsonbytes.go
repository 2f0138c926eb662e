// Package jsonbytes appends JSON strings and numbers to a byte slice
// without reflection, exactly as the standard library writes them. The
// hot paths use it where encoding/json's reflection was most of the cost:
// the Lambda response event (serve), the access line (jsonlog) and the
// item body (operations). Each caller's tests compare its output with the
// standard library's, byte for byte.
package jsonbytes

import (
	"math"
	"strconv"
	"unicode/utf8"
)

// String appends s quoted as encoding/json writes it with HTML escaping off
// (as Huma's JSON format does): quote, backslash and control characters
// escaped (\b \f \n \r \t in short form), invalid UTF-8 as \ufffd, and
// U+2028 and U+2029 escaped.
func String(b []byte, s string) []byte {
	b = append(b, '"')
	b = escape(b, s, true)
	return append(b, '"')
}

// Escape is String without the quotes, for a string written in pieces.
func Escape(b []byte, s string) []byte { return escape(b, s, true) }

// SlogString appends s quoted as log/slog's JSON handler writes it: as
// String, but \b and \f as \u0008 and \u000c.
func SlogString(b []byte, s string) []byte {
	b = append(b, '"')
	b = escape(b, s, false)
	return append(b, '"')
}

func escape(b []byte, s string, shortBF bool) []byte {
	const hex = "0123456789abcdef"
	start := 0
	for i := 0; i < len(s); {
		if i += plainRun(s[i:]); i == len(s) {
			break
		}
		c := s[i]
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c == '\b' && shortBF:
				b = append(b, '\\', 'b')
			case c == '\f' && shortBF:
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	return append(b, s[start:]...)
}

// plain marks the bytes a JSON string holds unescaped: printable ASCII but
// the quote and the backslash. A table lookup per byte is the fastest test
// for JSON bodies, where every few bytes is a quote.
var plain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// Float appends a finite f as encoding/json (and so log/slog) writes a
// float64: plain notation from 1e-6 up to 1e21, exponent notation outside
// it, with "e-07" shortened to "e-7". The caller handles NaN and infinities,
// which encoding/json refuses.
func Float(b []byte, f float64) []byte {
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// plainRun is the length of the run of plain bytes s starts with. A loop of
// its own compiles to a few instructions a byte; inside escape's, the
// compiler spilled registers on every byte.
func plainRun(s string) int {
	for i := 0; i < len(s); i++ {
		if !plain[s[i]] {
			return i
		}
	}
	return len(s)
}

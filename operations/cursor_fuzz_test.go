package operations

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/danielgtaylor/huma/v2"
)

// FuzzCursorDecode: whatever a client puts in ?cursor=, Decode answers
// with a position or a 400 problem, and never accepts a cursor it did not
// sign for these filters.
func FuzzCursorDecode(f *testing.F) {
	c := newCursorCodec("fuzz-secret")
	good := c.Encode("01JDQ8Z6M3N4P5Q6R7S8T9V0WX", "kitchen", "esp")
	for _, s := range []string{good, good[:len(good)-1], "X" + good, "garbage", "", ".", "..", "%%%.abc",
		strings.Replace(good, ".", "..", 1), newCursorCodec("").Encode("p", "", ""), strings.Repeat("A", 600)} {
		f.Add(s, "kitchen", "esp")
	}
	f.Add(good, "", "esp")
	f.Fuzz(func(t *testing.T, cursor, tag, q string) {
		pos, err := c.Decode(cursor, tag, q)
		if err != nil {
			var se huma.StatusError
			if !errors.As(err, &se) || se.GetStatus() != http.StatusBadRequest {
				t.Fatalf("Decode(%q) error %v, want a 400 problem", cursor, err)
			}
			return
		}
		// Accepted: it must be exactly what Encode makes for that position
		// and these filters (so nothing but a signed cursor gets through).
		if again := c.Encode(pos, tag, q); again != cursor {
			t.Fatalf("accepted %q, but the cursor for position %q is %q", cursor, pos, again)
		}
	})
}

// FuzzCursorRoundTrip: every position the store hands out comes back
// unchanged for the same filters and is refused for others.
func FuzzCursorRoundTrip(f *testing.F) {
	f.Add("01JDQ8Z6M3N4P5Q6R7S8T9V0WX", "kitchen", "esp")
	f.Add("", "", "")
	f.Add("a.b.c", "t\x00", "q.1")
	f.Fuzz(func(t *testing.T, position, tag, q string) {
		c := newCursorCodec("fuzz-secret").forListing("items")
		cur := c.Encode(position, tag, q)
		got, err := c.Decode(cur, tag, q)
		if err != nil || got != position {
			t.Fatalf("round trip of %q: %q, %v", position, got, err)
		}
		if c.filterPrint([]string{tag + "x", q}) != c.filterPrint([]string{tag, q}) {
			if _, err := c.Decode(cur, tag+"x", q); err == nil {
				t.Fatalf("cursor for tag %q accepted for tag %q", tag, tag+"x")
			}
		}
		if _, err := c.forListing("orders").Decode(cur, tag, q); err == nil {
			t.Fatal("a cursor of the items listing was accepted by the orders listing")
		}
		if _, err := newCursorCodec("other").forListing("items").Decode(cur, tag, q); err == nil {
			t.Fatal("a cursor signed with another secret was accepted")
		}
	})
}

package operations

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/url"
	"strconv"
	"strings"

	"github.com/danielgtaylor/huma/v2"
)

// defaultCursorKey signs cursors when no cursor_secret is configured. It
// still catches corrupted and hand-edited cursors; a configured secret also
// makes them unforgeable.
const defaultCursorKey = "typedapi-cursor-v1"

// cursorCodec makes the opaque `cursor` of a list page: the store's own
// position plus a fingerprint of the listing's name and filters, signed with
// HMAC-SHA256 so a tampered, truncated or foreign cursor is a 400, never a
// store error. The listing's name is in what is signed, so a cursor of one
// listing is refused by every other without a key of its own.
type cursorCodec struct {
	key     []byte
	listing string
}

func newCursorCodec(secret string) cursorCodec {
	if secret == "" {
		secret = defaultCursorKey
	}
	return cursorCodec{key: []byte(secret)}
}

// forListing is the codec of the listing called name ("items", "orders").
func (c cursorCodec) forListing(name string) cursorCodec {
	c.listing = name
	return c
}

// cursorVersion 2 binds the listing's name; a version 1 cursor (filters
// only) gets the "older version" answer.
const cursorVersion = "2"

// cursorForeign is why a cursor that is no cursor of ours is refused.
const cursorForeign = "it is not a cursor this service made"

// filterPrint fingerprints the listing and its filters, in the order the
// listing passes them.
func (c cursorCodec) filterPrint(filters []string) string {
	sum := sha256.Sum256([]byte(c.listing + "\x00" + strings.Join(filters, "\x00")))
	return base64.RawURLEncoding.EncodeToString(sum[:6])
}

func (c cursorCodec) mac(payload string) string {
	m := hmac.New(sha256.New, c.key)
	m.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

// Encode wraps a store position for this listing with these filters.
func (c cursorCodec) Encode(position string, filters ...string) string {
	payload := cursorVersion + "." + c.filterPrint(filters) + "." + position
	return base64.RawURLEncoding.EncodeToString([]byte(payload)) + "." + c.mac(payload)
}

// Decode returns the store position inside cursor, or a 400 problem when the
// cursor was not made by this service for the same listing and filters.
func (c cursorCodec) Decode(cursor string, filters ...string) (string, error) {
	body, sig, ok := strings.Cut(cursor, ".")
	if !ok {
		return "", invalidCursor(cursorForeign)
	}
	// One spelling per cursor: the decoder skips line breaks and ignores
	// unused trailing bits, so the body must also re-encode to itself.
	raw, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil || base64.RawURLEncoding.EncodeToString(raw) != body {
		return "", invalidCursor(cursorForeign)
	}
	payload := string(raw)
	if !hmac.Equal([]byte(sig), []byte(c.mac(payload))) {
		return "", invalidCursor("it was altered or made by another deployment")
	}
	parts := strings.SplitN(payload, ".", 3)
	if len(parts) != 3 || parts[0] != cursorVersion {
		return "", invalidCursor("it comes from an older version of this API")
	}
	if parts[1] != c.filterPrint(filters) {
		return "", invalidCursor("it belongs to another listing, or to other filters; repeat the filters of the first page")
	}
	return parts[2], nil
}

func invalidCursor(why string) error {
	return huma.Error400BadRequest("Invalid cursor: "+why+". Start again from the first page.",
		&huma.ErrorDetail{Location: "query.cursor", Message: why})
}

// nextLink is the RFC 8288 link to the next page of the listing at path:
// the same limit, the filters that are set (name, value pairs), and cursor.
func nextLink(ctx context.Context, path string, limit int, cursor string, filters ...string) string {
	next := url.Values{"limit": {strconv.Itoa(limit)}, "cursor": {cursor}}
	for i := 0; i+1 < len(filters); i += 2 {
		if filters[i+1] != "" {
			next.Set(filters[i], filters[i+1])
		}
	}
	return "<" + publicPath(ctx, path) + "?" + next.Encode() + `>; rel="next"`
}

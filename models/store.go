package models

import (
	"strings"
	"time"
)

// ListQuery selects one page of items in id order (creation order).
type ListQuery struct {
	// Limit is the most items the page may hold (1..100).
	Limit int
	// After is the store-made position of the previous page's end, or "".
	After string
	// Tag, when set, keeps only items carrying exactly this tag.
	Tag Tag
	// NamePrefix, when set, keeps only items whose name starts with it,
	// compared case-insensitively (Unicode simple folding, see FoldName).
	NamePrefix string
	// Reuse, when set, is a slice the caller is done with whose storage the
	// page may hold its items in: an export passes the page it has just
	// sent, so paging through a table does not make a page of garbage each
	// time. A store may ignore it.
	Reuse []Item
}

// Page is one page of a listing of T, in id order.
type Page[T any] struct {
	Items []T
	// Next is the position to pass as After for the following page; "" when
	// this page is the last one.
	Next string
}

// ListPage is one page of items.
type ListPage = Page[Item]

// Idempotency ties a create request to its first result for a while. A
// key is scoped to its operation and to its caller: each store keeps the
// keys of each create, and of each owner, apart, so one key sent to two
// operations, or by two callers, makes two records.
type Idempotency struct {
	// Key is the client's Idempotency-Key header.
	Key string
	// Owner is the subject of the caller who sent the key; the same key
	// from another owner never replays this one's result.
	Owner string
	// RequestHash fingerprints the request body the key was first used with.
	RequestHash string
	// ExpiresAt is when the record may be forgotten and the key reused.
	ExpiresAt time.Time
}

// FoldName is the case-insensitive form of a name that NamePrefix matches
// against. Every store uses it, so they agree on what "starts with" means.
func FoldName(name string) string { return strings.ToLower(name) }

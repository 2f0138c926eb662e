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
}

// ListPage is one page of a listing.
type ListPage struct {
	Items []Item
	// Next is the position to pass as After for the following page; "" when
	// this page is the last one.
	Next string
}

// Idempotency ties a create request to its first result for a while.
type Idempotency struct {
	// Key is the client's Idempotency-Key header.
	Key string
	// RequestHash fingerprints the request body the key was first used with.
	RequestHash string
	// ExpiresAt is when the record may be forgotten and the key reused.
	ExpiresAt time.Time
}

// FoldName is the case-insensitive form of a name that NamePrefix matches
// against. Every store uses it, so they agree on what "starts with" means.
func FoldName(name string) string { return strings.ToLower(name) }

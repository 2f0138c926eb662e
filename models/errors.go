package models

import "errors"

// Errors a store reports. Operations map them to HTTP problems; stores wrap
// their own causes around them (errors.Is still matches).
var (
	// ErrNotFound: no item has the given id.
	ErrNotFound = errors.New("item not found")
	// ErrVersionConflict: the item changed since the version the writer read.
	ErrVersionConflict = errors.New("item version conflict")
	// ErrAlreadyExists: an item with that id exists; creates never overwrite.
	ErrAlreadyExists = errors.New("item already exists")
	// ErrIdempotencyMismatch: the idempotency key was used before with a
	// different request body.
	ErrIdempotencyMismatch = errors.New("idempotency key reused with a different request")
	// ErrInvalidPosition: a list position the store did not make, or that no
	// longer applies.
	ErrInvalidPosition = errors.New("invalid list position")
	// ErrUnavailable: the backing service is throttling or unreachable; the
	// caller may retry later.
	ErrUnavailable = errors.New("store temporarily unavailable")
)

package operations

import (
	"time"

	"github.com/typedapi/typedapi/internal/ulid"
)

// newID makes the id of a new resource, made at now: a ULID, so ids sort by
// creation time, which every listing relies on. Every resource gets its id
// here, so the ULID library is named in one place.
func newID(now time.Time) string { return ulid.New(now) }

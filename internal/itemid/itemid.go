// Package itemid makes item ids: ULIDs (https://github.com/ulid/spec, made
// with github.com/oklog/ulid/v2), 48 bits of Unix milliseconds then 80
// random bits from crypto/rand, written as 26 characters of Crockford's
// base32, so that ids sort by creation time as strings.
//
// Ids made by one process strictly increase, so a listing in id order is
// creation order. Within one millisecond each id steps from the one before
// by a random amount (ulid.Monotonic), and the time an id holds never goes
// back: not when the clock steps back, and not when a caller that read the
// clock earlier takes the lock later. ulid.Make gives neither guarantee (it
// reads the clock outside its lock) and draws its bits from math/rand.
package itemid

import (
	"crypto/rand"
	"errors"
	"sync"
	"time"

	"github.com/oklog/ulid/v2"
)

var last struct {
	sync.Mutex
	entropy *ulid.MonotonicEntropy // made on first use: nothing at start-up
	ms      uint64                 // the time the newest id holds
}

// New returns an id for time t, greater than every id this process made
// before. If t is earlier than that id's time, the new id holds that time
// instead, a little ahead of t, rather than sort out of order.
func New(t time.Time) string {
	last.Lock()
	defer last.Unlock()
	if last.entropy == nil {
		last.entropy = ulid.Monotonic(rand.Reader, 0)
	}
	ms := max(ulid.Timestamp(t), last.ms)
	for {
		id, err := ulid.New(ms, last.entropy)
		switch {
		case err == nil:
			last.ms = ms
			return id.String()
		case errors.Is(err, ulid.ErrMonotonicOverflow):
			ms++ // this millisecond's random bits are used up; the next one starts afresh
		default:
			// ErrBigTime: a clock before 1970 or after the year 10889.
			// crypto/rand does not fail (it panics itself rather than
			// return an error).
			panic(err)
		}
	}
}

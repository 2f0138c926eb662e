// Package ulid makes ULIDs (https://github.com/ulid/spec), the item ids: 48
// bits of Unix milliseconds then 80 random bits, written as 26 characters of
// Crockford's base32, so that ids sort by creation time as strings.
//
// Ids made by one process strictly increase, even within one millisecond or
// when the clock steps back, so a listing in id order is creation order.
// It replaces github.com/oklog/ulid, whose package initialiser seeds a
// math/rand source on every cold start (0.1 ms) for entropy that is not
// cryptographic; here the random bits come from crypto/rand.
package ulid

import (
	"crypto/rand"
	"encoding/binary"
	"sync"
	"time"
)

// Len is the length of an encoded ULID.
const Len = 26

const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ" // Crockford's base32

var last struct {
	sync.Mutex
	hi uint64 // timestamp (48 bits) and the first 16 random bits
	lo uint64 // the other 64 random bits
}

// New returns a ULID for time t, greater than every ULID this process made
// before. Within the millisecond of the previous id it is the previous id
// plus a random step of 1 to 2^32, as oklog/ulid's monotonic reader does,
// so ids made together are not consecutive numbers. If t is earlier (the
// clock stepped back) it steps from the previous id the same way, so its
// time is that id's, a little ahead of t, rather than out of order.
func New(t time.Time) string {
	var r [16]byte
	_, _ = rand.Read(r[:]) // never fails (crypto/rand panics rather than return an error)
	ms := uint64(t.UnixMilli()) & (1<<48 - 1)

	last.Lock()
	hi := ms<<16 | uint64(binary.BigEndian.Uint16(r[:2]))
	lo := binary.BigEndian.Uint64(r[2:10])
	if ms <= last.hi>>16 {
		step := uint64(binary.BigEndian.Uint32(r[10:14])) + 1
		hi, lo = last.hi, last.lo+step
		if lo < step { // carry into the high word (and, past 80 bits, the timestamp)
			hi++
		}
	}
	last.hi, last.lo = hi, lo
	last.Unlock()
	return encode(hi, lo)
}

// encode writes the 128-bit value hi:lo as 26 base32 digits, the first of
// which holds only the top 3 bits.
func encode(hi, lo uint64) string {
	var b [Len]byte
	for i := Len - 1; i >= 0; i-- {
		b[i] = alphabet[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return string(b[:])
}

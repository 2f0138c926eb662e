// Package ratelimit keeps one token bucket (golang.org/x/time/rate) per
// client key, in bounded memory: a fixed number of keys, the least recently
// seen forgotten first, and idle ones dropped as new ones come.
package ratelimit

import (
	"hash/maphash"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// DefaultMaxKeys is how many clients are remembered when Options says
// nothing: a few megabytes (TestMemoryBounded measures it).
const DefaultMaxKeys = 1 << 16

// shards split the keys so that concurrent requests rarely wait on the
// same lock.
const shards = 64

// Limiter admits Rate requests per second per key after a burst of Burst.
type Limiter struct {
	rate  rate.Limit
	burst int
	// full is how long an untouched bucket takes to refill completely:
	// from then on it is no different from a new one, so it can be dropped.
	full   time.Duration
	seed   maphash.Seed
	shards [shards]shard
}

// Options configure a Limiter.
type Options struct {
	Rate    float64 // requests per second per key; must be > 0
	Burst   int     // requests admitted at once; at least 1
	MaxKeys int     // keys remembered at most; 0 means DefaultMaxKeys
}

type shard struct {
	mu      sync.Mutex
	keys    map[string]*entry
	max     int
	newest  *entry // most recently seen; a ring through next/prev
	present int
}

// entry is one key's bucket, in its shard's recency ring.
type entry struct {
	key        string
	lim        *rate.Limiter
	seen       time.Time
	prev, next *entry
}

// New makes a Limiter.
func New(o Options) *Limiter {
	if o.Burst < 1 {
		o.Burst = 1
	}
	if o.MaxKeys <= 0 {
		o.MaxKeys = DefaultMaxKeys
	}
	l := &Limiter{
		rate:  rate.Limit(o.Rate),
		burst: o.Burst,
		full:  time.Duration(float64(o.Burst) / o.Rate * float64(time.Second)),
		seed:  maphash.MakeSeed(),
	}
	per := max(1, o.MaxKeys/shards)
	for i := range l.shards {
		l.shards[i].keys = make(map[string]*entry)
		l.shards[i].max = per
	}
	return l
}

// Decision is the answer for one request, with what the RateLimit fields
// tell the client.
type Decision struct {
	Allowed bool
	// Remaining is how many more requests the key may make at once.
	Remaining int
	// RetryAfter is how long until the next request is admitted (zero
	// when Allowed).
	RetryAfter time.Duration
}

// Allow takes one token from key's bucket at now, if it has one.
func (l *Limiter) Allow(key string, now time.Time) Decision {
	s := l.shardOf(key)
	s.mu.Lock()
	e := s.keys[key]
	if e == nil {
		e = s.add(l, key, now)
	} else {
		s.touch(e)
	}
	e.seen = now
	var d Decision
	// AllowN takes nothing when it refuses (and, unlike ReserveN, makes no
	// Reservation to allocate).
	d.Allowed = e.lim.AllowN(now, 1)
	tokens := e.lim.TokensAt(now)
	s.mu.Unlock()
	if d.Allowed {
		d.Remaining = int(math.Floor(tokens))
	} else {
		d.RetryAfter = time.Duration(math.Round((1 - tokens) / float64(l.rate) * float64(time.Second)))
	}
	return d
}

func (l *Limiter) shardOf(key string) *shard {
	return &l.shards[maphash.String(l.seed, key)%shards]
}

// Len is how many keys are remembered.
func (l *Limiter) Len() int {
	n := 0
	for i := range l.shards {
		s := &l.shards[i]
		s.mu.Lock()
		n += s.present
		s.mu.Unlock()
	}
	return n
}

// add makes key's bucket the newest, first dropping the buckets that have
// refilled (the oldest first, as many as there are) and, when the shard is
// still full, the least recently seen one.
func (s *shard) add(l *Limiter, key string, now time.Time) *entry {
	for s.newest != nil {
		oldest := s.newest.next
		if now.Sub(oldest.seen) < l.full && s.present < s.max {
			break
		}
		s.remove(oldest)
	}
	e := &entry{key: key, lim: rate.NewLimiter(l.rate, l.burst)}
	s.keys[key] = e
	s.present++
	if s.newest == nil {
		e.prev, e.next = e, e
	} else {
		s.link(e)
	}
	s.newest = e
	return e
}

// link puts e after newest in the ring (so it becomes the newest once
// s.newest points to it); the one after newest is the oldest.
func (s *shard) link(e *entry) {
	n := s.newest
	e.prev, e.next = n, n.next
	n.next.prev = e
	n.next = e
}

func (s *shard) unlink(e *entry) {
	e.prev.next, e.next.prev = e.next, e.prev
}

// touch makes e the newest.
func (s *shard) touch(e *entry) {
	if s.newest == e {
		return
	}
	s.unlink(e)
	s.link(e)
	s.newest = e
}

func (s *shard) remove(e *entry) {
	delete(s.keys, e.key)
	s.present--
	if s.present == 0 {
		s.newest = nil
		return
	}
	if s.newest == e {
		s.newest = e.prev
	}
	s.unlink(e)
}

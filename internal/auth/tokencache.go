package auth

import (
	"sync"
	"time"
)

// tokenCache remembers verified tokens by their SHA-256 (never the token
// itself) until a deadline no later than their exp, so a client that sends
// the same token on every request pays one signature check for it. It is
// bounded: when full, expired entries are dropped, and if none are, all.
type tokenCache struct {
	mu  sync.RWMutex
	m   map[[32]byte]cachedCaller
	max int
}

type cachedCaller struct {
	c     Caller
	until time.Time
}

func newTokenCache(max int) *tokenCache {
	return &tokenCache{m: make(map[[32]byte]cachedCaller), max: max}
}

func (t *tokenCache) get(sum [32]byte, now time.Time) (Caller, bool) {
	t.mu.RLock()
	e, ok := t.m[sum]
	t.mu.RUnlock()
	if !ok || !now.Before(e.until) {
		return Caller{}, false
	}
	return e.c, true
}

func (t *tokenCache) put(sum [32]byte, c Caller, until, now time.Time) {
	if !now.Before(until) {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.m) >= t.max {
		for k, e := range t.m {
			if !now.Before(e.until) {
				delete(t.m, k)
			}
		}
		if len(t.m) >= t.max {
			clear(t.m)
		}
	}
	t.m[sum] = cachedCaller{c: c, until: until}
}

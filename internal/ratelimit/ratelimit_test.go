package ratelimit

import (
	"fmt"
	"net/netip"
	"runtime"
	"testing"
	"time"
)

var t0 = time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC)

// TestBucket: a key gets its burst, then one request per 1/Rate; a refused
// request takes nothing; keys do not share buckets.
func TestBucket(t *testing.T) {
	l := New(Options{Rate: 2, Burst: 3})
	for i := range 3 {
		d := l.Allow("a", t0)
		if !d.Allowed || d.Remaining != 2-i {
			t.Fatalf("request %d: %+v", i+1, d)
		}
	}
	for range 5 { // refused requests do not push the next token further away
		if d := l.Allow("a", t0); d.Allowed || d.RetryAfter != 500*time.Millisecond {
			t.Fatalf("over the burst: %+v", d)
		}
	}
	if d := l.Allow("b", t0); !d.Allowed {
		t.Fatalf("another key was limited: %+v", d)
	}
	if d := l.Allow("a", t0.Add(499*time.Millisecond)); d.Allowed || d.RetryAfter != time.Millisecond {
		t.Fatalf("just before the token: %+v", d)
	}
	if d := l.Allow("a", t0.Add(500*time.Millisecond)); !d.Allowed || d.Remaining != 0 {
		t.Fatalf("the token: %+v", d)
	}
}

// TestEviction: a refilled bucket is dropped when a new key comes (it is
// no different from a new one); when every bucket is busy, the least
// recently seen goes first.
func TestEviction(t *testing.T) {
	l := New(Options{Rate: 1, Burst: 2, MaxKeys: shards}) // one key per shard
	s := &l.shards[0]
	keys := keysOfShard(l, 0, 3)
	l.Allow(keys[0], t0)
	l.Allow(keys[0], t0)
	if d := l.Allow(keys[1], t0.Add(time.Second)); !d.Allowed || s.present != 1 || s.keys[keys[0]] != nil {
		t.Fatalf("the full shard kept %d keys (%v)", s.present, d)
	}
	// keys[1] is busy and the shard full: keys[2] replaces it anyway.
	if d := l.Allow(keys[2], t0.Add(time.Second)); !d.Allowed || s.present != 1 || s.keys[keys[1]] != nil {
		t.Fatalf("over the bound: %d keys", s.present)
	}

	l = New(Options{Rate: 1, Burst: 2, MaxKeys: 4 * shards})
	s = &l.shards[0]
	keys = keysOfShard(l, 0, 4)
	for i, k := range keys[:3] {
		l.Allow(k, t0.Add(time.Duration(i)*time.Second))
	}
	// At t0+2.5s the first key (seen at t0) has refilled; the others have not.
	l.Allow(keys[3], t0.Add(2500*time.Millisecond))
	if s.present != 3 || s.keys[keys[0]] != nil || s.keys[keys[1]] == nil || s.keys[keys[2]] == nil {
		t.Fatalf("idle dropping: %d keys", s.present)
	}
	// A key seen again moves to the newest end.
	l.Allow(keys[1], t0.Add(2600*time.Millisecond))
	if s.newest.key != keys[1] || s.newest.next.key != keys[2] {
		t.Fatalf("recency order: newest %q, oldest %q", s.newest.key, s.newest.next.key)
	}
}

// keysOfShard finds n keys that land in shard i.
func keysOfShard(l *Limiter, i, n int) []string {
	var out []string
	for j := 0; len(out) < n; j++ {
		k := fmt.Sprintf("k%d", j)
		if l.shardOf(k) == &l.shards[i] {
			out = append(out, k)
		}
	}
	return out
}

// TestMemoryBounded: 100,000 distinct client IPs, all busy (none has
// refilled), leave at most DefaultMaxKeys buckets, and the heap after them
// is what DefaultMaxKeys buckets take: another 100,000 do not grow it.
func TestMemoryBounded(t *testing.T) {
	l := New(Options{Rate: 1, Burst: 10})
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	ip := func(i int) string {
		return netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}).String()
	}
	base := heap()
	for i := range 100_000 {
		l.Allow(ip(i), t0)
	}
	first := heap()
	if n := l.Len(); n > DefaultMaxKeys {
		t.Fatalf("%d keys remembered, bound %d", n, DefaultMaxKeys)
	}
	for i := 100_000; i < 200_000; i++ {
		l.Allow(ip(i), t0)
	}
	second := heap()
	grown := int64(first) - int64(base)
	t.Logf("%d keys: %.1f MiB (%.0f bytes a key); after 100,000 more: %.1f MiB", l.Len(),
		float64(grown)/(1<<20), float64(grown)/float64(l.Len()), (float64(second)-float64(base))/(1<<20))
	if perKey := grown / int64(l.Len()); perKey > 512 {
		t.Errorf("%d bytes a key", perKey)
	}
	if second > first+first/10 {
		t.Errorf("heap grew from %d to %d bytes with 100,000 more clients", first, second)
	}
	// Once they have all refilled, new clients replace them as they come.
	later := t0.Add(time.Minute)
	for i := range 1000 {
		l.Allow("late"+ip(i), later)
	}
	if n := l.Len(); n > 1000+shards {
		t.Errorf("%d keys after the others refilled; want about 1000", n)
	}
}

// BenchmarkAllow is the limiter's cost per request, many clients in
// parallel (the container's request path with rate_limit on).
func BenchmarkAllow(b *testing.B) {
	l := New(Options{Rate: 1000, Burst: 1000}) // refills in 1s: the keys stay
	keys := make([]string, 4096)
	for i := range keys {
		keys[i] = netip.AddrFrom4([4]byte{198, 51, byte(i >> 8), byte(i)}).String()
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			l.Allow(keys[i%len(keys)], time.Now())
			i++
		}
	})
}

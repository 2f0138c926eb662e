package ulid

import (
	"math/big"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// bigEncode is an independent base32 writer: repeated division of the
// 128-bit number.
func bigEncode(hi, lo uint64) string {
	n := new(big.Int).Lsh(new(big.Int).SetUint64(hi), 64)
	n.Or(n, new(big.Int).SetUint64(lo))
	var b [Len]byte
	d := new(big.Int)
	for i := Len - 1; i >= 0; i-- {
		n.DivMod(n, big.NewInt(32), d)
		b[i] = alphabet[d.Int64()]
	}
	return string(b[:])
}

// decode reads an id back into its timestamp and 80 random bits.
func decode(t *testing.T, id string) (ms uint64, entropy *big.Int) {
	t.Helper()
	n := new(big.Int)
	for _, c := range id {
		i := strings.IndexRune(alphabet, c)
		if i < 0 {
			t.Fatalf("%q: %q is not in the alphabet", id, c)
		}
		n.Lsh(n, 5).Or(n, big.NewInt(int64(i)))
	}
	entropy = new(big.Int).And(n, new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 80), big.NewInt(1)))
	return new(big.Int).Rsh(n, 80).Uint64(), entropy
}

func TestEncode(t *testing.T) {
	for _, c := range []struct {
		hi, lo uint64
		want   string
	}{
		{0, 0, "00000000000000000000000000"},
		{^uint64(0), ^uint64(0), "7ZZZZZZZZZZZZZZZZZZZZZZZZZ"},
		{0, 31, "0000000000000000000000000Z"},
		{0, 32, "00000000000000000000000010"},
		{1, 0, "0000000000000G000000000000"}, // bit 64 is bit 4 of the 13th digit from the right
	} {
		if got := encode(c.hi, c.lo); got != c.want {
			t.Errorf("encode(%#x, %#x) = %s, want %s", c.hi, c.lo, got, c.want)
		}
	}
	for _, v := range [][2]uint64{{0x0123456789abcdef, 0xfedcba9876543210}, {1 << 63, 1}, {0x0192f6a1d3c4ffff, 0xffffffffffffffff}} {
		if got, want := encode(v[0], v[1]), bigEncode(v[0], v[1]); got != want {
			t.Errorf("encode(%#x, %#x) = %s, want %s", v[0], v[1], got, want)
		}
	}
}

// resetLast forgets the ids made so far, for a test that needs New to
// start from nothing (the state is the process's).
func resetLast() {
	last.Lock()
	last.hi, last.lo = 0, 0
	last.Unlock()
}

func TestNewHoldsTheTime(t *testing.T) {
	resetLast()
	pattern := regexp.MustCompile(`^[0-7][0-9A-HJKMNP-TV-Z]{25}$`) // the API's id pattern, within 128 bits
	// In increasing order and far apart, so each call starts a new
	// millisecond rather than stepping from the one before.
	for _, at := range []time.Time{
		time.Date(2016, 7, 30, 23, 54, 10, 259e6, time.UTC),
		time.Date(2026, 12, 1, 17, 0, 0, 1e6, time.UTC),
		time.Date(2100, 1, 1, 0, 0, 0, 0, time.FixedZone("x", 3600)),
	} {
		id := New(at)
		if !pattern.MatchString(id) {
			t.Fatalf("New(%v) = %q, not a ULID", at, id)
		}
		if ms, _ := decode(t, id); ms != uint64(at.UnixMilli()) {
			t.Errorf("New(%v) = %s holds %d ms, want %d", at, id, ms, at.UnixMilli())
		}
	}
	// The spec's example id has this timestamp.
	if got := encode(uint64(time.Date(2016, 7, 30, 23, 54, 10, 259e6, time.UTC).UnixMilli())<<16, 0)[:10]; got != "01ARZ3NDEK" {
		t.Errorf("timestamp part = %s, want 01ARZ3NDEK", got)
	}
}

func TestNewIncreases(t *testing.T) {
	base := time.Now().Add(time.Hour) // after every id the other tests made
	prev := New(base)
	times := []time.Time{base, base, base.Add(-time.Minute), base.Add(time.Millisecond), base, base.Add(2 * time.Millisecond)}
	for i := range 10000 {
		at := times[i%len(times)]
		id := New(at)
		if id <= prev {
			t.Fatalf("id %d (%v): %s is not after %s", i, at, id, prev)
		}
		prev = id
	}
	// Random bits differ between milliseconds; steps within one are random too.
	_, e1 := decode(t, New(base.Add(time.Second)))
	_, e2 := decode(t, New(base.Add(2*time.Second)))
	if e1.Cmp(e2) == 0 {
		t.Errorf("two milliseconds drew the same 80 random bits: %s", e1)
	}
	// Steps within one millisecond are random: not all the same.
	same := base.Add(3 * time.Second)
	_, prevE := decode(t, New(same))
	steps := map[string]bool{}
	for range 8 {
		_, e := decode(t, New(same))
		steps[new(big.Int).Sub(e, prevE).String()] = true
		prevE = e
	}
	if len(steps) < 2 {
		t.Errorf("eight ids in one millisecond all stepped by %v", steps)
	}
}

func TestNewCarries(t *testing.T) {
	last.Lock()
	last.hi, last.lo = 5<<16|0xffff, ^uint64(0) // the 80 random bits full: any step carries
	last.Unlock()
	prev := encode(5<<16|0xffff, ^uint64(0))
	id := New(time.UnixMilli(5))
	if id <= prev {
		t.Fatalf("after a full entropy %s came %s", prev, id)
	}
	if ms, _ := decode(t, id); ms != 6 {
		t.Errorf("the carry went to timestamp %d, want 6", ms)
	}
}

func TestNewConcurrent(t *testing.T) {
	const workers, each = 8, 2000
	var mu sync.Mutex
	seen := map[string]bool{}
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			prev := ""
			ids := make([]string, 0, each)
			for range each {
				id := New(time.Now())
				if id <= prev {
					t.Errorf("%s after %s in one goroutine", id, prev)
				}
				prev = id
				ids = append(ids, id)
			}
			mu.Lock()
			for _, id := range ids {
				seen[id] = true
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	if len(seen) != workers*each {
		t.Fatalf("%d distinct ids of %d", len(seen), workers*each)
	}
}

func BenchmarkNew(b *testing.B) {
	now := time.Now()
	for b.Loop() {
		_ = New(now)
	}
}

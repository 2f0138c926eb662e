package itemid

import (
	"bytes"
	"crypto/rand"
	"io"
	"math/big"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"
)

// reset forgets the ids made so far, for a test that needs New to start
// from nothing (the state is the process's).
func reset() {
	last.Lock()
	last.entropy, last.ms = nil, 0
	last.Unlock()
}

// decode reads an id back into its time and its 80 random bits.
func decode(t *testing.T, id string) (ms uint64, entropy *big.Int) {
	t.Helper()
	u, err := ulid.ParseStrict(id)
	if err != nil {
		t.Fatalf("%q: %v", id, err)
	}
	return u.Time(), new(big.Int).SetBytes(u.Entropy())
}

func TestNewHoldsTheTime(t *testing.T) {
	reset()
	pattern := regexp.MustCompile(`^[0-7][0-9A-HJKMNP-TV-Z]{25}$`) // the API's id pattern, within 128 bits
	// In increasing order, so each call starts a new millisecond rather
	// than stepping from the one before.
	spec := time.Date(2016, 7, 30, 23, 54, 10, 259e6, time.UTC)
	for _, at := range []time.Time{
		spec,
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
		if at == spec && id[:10] != "01ARZ3NDEK" { // the spec's example id has this time
			t.Errorf("New(%v) = %s, want the time part 01ARZ3NDEK", at, id)
		}
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
	// Random bits differ between milliseconds.
	_, e1 := decode(t, New(base.Add(time.Second)))
	_, e2 := decode(t, New(base.Add(2*time.Second)))
	if e1.Cmp(e2) == 0 {
		t.Errorf("two milliseconds drew the same 80 random bits: %s", e1)
	}
	// Steps within one millisecond are random too, so ids made together
	// are not consecutive numbers.
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

// TestNewOverflows: when a millisecond's random bits cannot step any
// further, the next id moves to the next millisecond.
func TestNewOverflows(t *testing.T) {
	full := bytes.Repeat([]byte{0xff}, 10) // the first id's 80 random bits: any step overflows
	reset()
	defer reset()
	last.entropy = ulid.Monotonic(io.MultiReader(bytes.NewReader(full), rand.Reader), 0)
	first := New(time.UnixMilli(5))
	if _, e := decode(t, first); e.Cmp(new(big.Int).SetBytes(full)) != 0 {
		t.Fatalf("the first id %s did not take the full random bits", first)
	}
	id := New(time.UnixMilli(5))
	if id <= first {
		t.Fatalf("after a full entropy %s came %s", first, id)
	}
	if ms, _ := decode(t, id); ms != 6 {
		t.Errorf("the overflow went to time %d, want 6", ms)
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

package logwriter

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is an output that records every write it gets.
type syncBuffer struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	writes int
	block  chan struct{} // when set, each write waits for it
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	if b.block != nil {
		<-b.block
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.writes++
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Every line arrives whole and once, each writer's lines in its order, and
// Close leaves nothing behind.
func TestLinesArriveWholeAndInOrder(t *testing.T) {
	out := &syncBuffer{}
	w := New(out)
	const writers, lines = 8, 2000
	var wg sync.WaitGroup
	for g := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range lines {
				fmt.Fprintf(w, "g%d line %d\n", g, i)
			}
		}()
	}
	wg.Wait()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	next := make([]int, writers)
	got := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(got) != writers*lines {
		t.Fatalf("%d lines arrived, want %d", len(got), writers*lines)
	}
	for _, l := range got {
		var g, i int
		if _, err := fmt.Sscanf(l, "g%d line %d", &g, &i); err != nil {
			t.Fatalf("torn line %q: %v", l, err)
		}
		if i != next[g] {
			t.Fatalf("writer %d: line %d arrived where %d was due", g, i, next[g])
		}
		next[g]++
	}
	if out.writes >= writers*lines {
		t.Errorf("%d writes for %d lines: nothing was batched", out.writes, writers*lines)
	}
}

// An idle writer's line reaches the output without Close or Flush: the
// background goroutine takes it.
func TestIdleLineIsWrittenPromptly(t *testing.T) {
	out := &syncBuffer{}
	w := New(out)
	defer w.Close()
	fmt.Fprintln(w, "one")
	deadline := time.Now().Add(10 * time.Second)
	for out.String() != "one\n" {
		if time.Now().After(deadline) {
			t.Fatalf("the line did not arrive; output %q", out.String())
		}
		time.Sleep(time.Millisecond)
	}
}

// A stalled output does not let pending lines grow without bound: once
// maxPending bytes wait, Write writes itself and so waits for the output.
func TestStalledOutputBoundsMemory(t *testing.T) {
	out := &syncBuffer{block: make(chan struct{})}
	w := New(out)
	line := strings.Repeat("x", 1023) + "\n"
	done := make(chan int)
	go func() {
		n := 0
		for range 4 * maxPending / len(line) {
			fmt.Fprint(w, line)
			n++
		}
		done <- n
	}()
	// The background goroutine is stuck in its first write; the writer
	// must stop too, with at most about maxPending bytes pending.
	time.Sleep(100 * time.Millisecond)
	w.mu.Lock()
	pending := len(w.pending)
	w.mu.Unlock()
	if pending > maxPending+len(line) {
		t.Errorf("%d bytes pending behind a stalled output, bound %d", pending, maxPending)
	}
	select {
	case n := <-done:
		t.Fatalf("all %d writes returned while the output was stalled", n)
	default:
	}
	close(out.block) // unstall: every write returns
	<-done
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got, want := len(out.String()), 4*maxPending/len(line)*len(line); got != want {
		t.Errorf("%d bytes arrived, want %d", got, want)
	}
}

// After Close, writes go straight through.
func TestWriteAfterClose(t *testing.T) {
	out := &syncBuffer{}
	w := New(out)
	_ = w.Close()
	fmt.Fprintln(w, "late")
	if out.String() != "late\n" {
		t.Fatalf("output %q", out.String())
	}
	if err := w.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
}

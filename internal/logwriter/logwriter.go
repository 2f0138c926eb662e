// Package logwriter takes log lines off the request path: Write appends a
// line to a buffer, and a timer hands everything pending to the process's
// output in one write a few milliseconds later. Under load many access
// lines share one system call and one wake-up; an idle server's line
// waits at most flushDelay. The HTTP server uses it; Lambda does not, since
// Lambda freezes the process as soon as a response is returned.
package logwriter

import (
	"io"
	"sync"
	"time"
)

const (
	// flushDelay is how long a line may wait for others to join it.
	flushDelay = 5 * time.Millisecond
	// maxPending is how much may wait before Write writes itself, so a
	// stalled output slows callers down instead of growing memory
	// without bound.
	maxPending = 256 << 10
)

// Writer batches whole writes (slog handlers write one line per call).
type Writer struct {
	out io.Writer

	mu      sync.Mutex
	pending []byte
	spare   []byte
	timer   *time.Timer // made on the first write, reset for each batch
	armed   bool        // the timer will flush what is pending
	closed  bool

	flushMu sync.Mutex // one write to out at a time, so lines keep their order
}

// New returns a Writer on out. Close it to write what is pending.
func New(out io.Writer) *Writer { return &Writer{out: out} }

// Write queues p, which it copies; it never returns an error of out's.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return w.out.Write(p)
	}
	w.pending = append(w.pending, p...)
	if len(w.pending) >= maxPending {
		w.mu.Unlock()
		_ = w.Flush()
		return len(p), nil
	}
	if !w.armed {
		w.armed = true
		if w.timer == nil {
			w.timer = time.AfterFunc(flushDelay, w.flushLater)
		} else {
			w.timer.Reset(flushDelay)
		}
	}
	w.mu.Unlock()
	return len(p), nil
}

// flushLater is the timer's: lines written from here on arm it again.
func (w *Writer) flushLater() {
	w.mu.Lock()
	w.armed = false
	w.mu.Unlock()
	_ = w.Flush()
}

// Flush writes everything pending now.
func (w *Writer) Flush() error {
	w.flushMu.Lock()
	defer w.flushMu.Unlock()
	w.mu.Lock()
	b := w.pending
	w.pending, w.spare = w.spare[:0], nil
	w.mu.Unlock()
	if len(b) == 0 {
		return nil
	}
	_, err := w.out.Write(b)
	w.mu.Lock()
	if cap(b) <= 2*maxPending { // keep one buffer for reuse, never a huge one
		w.spare = b[:0]
	}
	w.mu.Unlock()
	return err
}

// Close writes what is pending and makes later writes go straight to out.
func (w *Writer) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.closed = true
	if w.timer != nil {
		w.timer.Stop()
	}
	w.mu.Unlock()
	return w.Flush()
}

// Package logwriter takes log lines off the request path: Write appends a
// line to a buffer and a background goroutine hands everything pending to
// the process's output in one write. Under load many access lines share one
// system call; when idle a line is written as soon as the goroutine runs,
// with no timer in between. The HTTP server uses it; Lambda does not, since
// Lambda freezes the process as soon as a response is returned.
package logwriter

import (
	"io"
	"sync"
)

// maxPending is how much may wait before Write writes itself, so a stalled
// output slows callers down instead of growing memory without bound.
const maxPending = 256 << 10

// Writer batches whole writes (slog handlers write one line per call).
type Writer struct {
	out  io.Writer
	wake chan struct{} // capacity 1: one pending wake-up stands for many lines
	done chan struct{} // closed when the background goroutine has ended

	mu      sync.Mutex
	pending []byte
	spare   []byte
	closed  bool

	flushMu sync.Mutex // one write to out at a time, so lines keep their order
}

// New starts a Writer on out. Close it to write what is pending.
func New(out io.Writer) *Writer {
	w := &Writer{out: out, wake: make(chan struct{}, 1), done: make(chan struct{})}
	go w.loop()
	return w
}

// Write queues p, which it copies; it never returns an error of out's.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return w.out.Write(p)
	}
	w.pending = append(w.pending, p...)
	full := len(w.pending) >= maxPending
	if !full {
		select { // under mu, so Close cannot close wake in between
		case w.wake <- struct{}{}:
		default: // a wake-up is pending already; it takes this line too
		}
	}
	w.mu.Unlock()
	if full {
		_ = w.Flush()
	}
	return len(p), nil
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
	if cap(b) <= maxPending { // keep one buffer for reuse, never a huge one
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
	close(w.wake)
	w.mu.Unlock()
	<-w.done
	return w.Flush()
}

func (w *Writer) loop() {
	defer close(w.done)
	for range w.wake {
		_ = w.Flush()
	}
}

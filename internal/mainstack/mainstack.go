// Package mainstack grows the main goroutine's stack to 128 KiB before any
// other package initialises, so a Lambda cold start runs fewer
// instructions (docs/PERFORMANCE.md: 0.53 M fewer to the first event;
// no gain in wall-clock time could be shown on our machine).
//
// A goroutine starts with a 2 KiB stack. Each time it runs out, the
// runtime doubles it and copies it, and the copy walks every frame on the
// stack to adjust pointers. Huma compiles its package-level regular
// expressions in its init, deep recursions on the main goroutine, and
// there the stack was doubled and copied six times with many frames on
// it. Grown here, with one frame on the stack, it is copied once, cheaply;
// GC shrinks it later if it is not used.
//
// Import it for its side effect, from a main package only. It imports
// nothing, so it is ready to initialise from the start, and Go
// initialises, at each step, the first ready package in import-path order
// (the Go spec, "Package initialization"): it comes before every package
// whose path sorts after it, regexp among them, and so before Huma.
// cmd/api's TestMainStackInitialisedBeforeHuma checks the order.
package mainstack

func init() { grow(0) }

// frame is the size of grow's frame: under the compiler's 128 KiB limit
// for a variable on the stack, and enough for the runtime to make the
// stack 128 KiB at once.
const frame = 120 << 10

// grow has a frame of frame bytes; the read of pad keeps the compiler from
// dropping it.
//
//go:noinline
func grow(i int) byte {
	var pad [frame]byte
	pad[i] = 1
	return pad[(i*7)%frame]
}

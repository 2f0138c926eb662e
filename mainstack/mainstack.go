// Package mainstack grows the main goroutine's stack to 128 KiB before any
// other package initialises, for a cheaper Lambda cold start.
//
// A goroutine starts with an 8 KiB stack. Each time it runs out, the
// runtime doubles it and copies it, and the copy walks every frame on the
// stack to adjust pointers. The deepest work of a cold start runs on the
// main goroutine in deep recursion: compiling Huma's package-level
// regular expressions in its init, then reflecting over the first
// operation's types. There the copies cost 0.5 M of 7.4 M instructions
// from exec to the first answer. Grown here, with one frame on the stack,
// the copy costs next to nothing; GC shrinks the stack later if it is
// not used.
//
// Import it for its side effect, from a main package only. It imports
// nothing, so it is initialised among the very first packages: Go
// initialises packages in import-path order, each as soon as its imports
// are (the Go spec, "Package initialization").
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

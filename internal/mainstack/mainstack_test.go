package mainstack

import (
	"os"
	"runtime"
	"testing"
	"unsafe"
)

// copied reports whether the main goroutine's stack moved while TestMain
// recursed 100 KiB deep: with the package's init it has room, without it
// the runtime grows and copies the stack, and a local's address changes.
// A collection before TestMain may have shrunk the stack again (with a low
// GOGC); then the check says nothing and gcBefore says so.
var copied, gcBefore bool

func TestMain(m *testing.M) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	gcBefore = ms.NumGC > 0
	var x byte
	before := uintptr(unsafe.Pointer(&x))
	deep(100)
	copied = uintptr(unsafe.Pointer(&x)) != before
	os.Exit(m.Run())
}

// deep recurses n frames of a little over 1 KiB each.
//
//go:noinline
func deep(n int) byte {
	var pad [1 << 10]byte
	pad[n%len(pad)] = byte(n)
	if n == 0 {
		return pad[0]
	}
	return deep(n-1) + pad[(n*3)%len(pad)]
}

func TestMainStackGrownAtInit(t *testing.T) {
	if gcBefore {
		t.Skip("a collection ran before TestMain and may have shrunk the stack (GOGC set low?)")
	}
	if copied {
		t.Fatal("the main goroutine's stack was copied during a 100 KiB recursion after init: it was not grown")
	}
}

// A frame over the compiler's limit would put pad on the heap and grow
// nothing.
func TestGrowFrameOnStack(t *testing.T) {
	if n := testing.AllocsPerRun(10, func() { grow(1) }); n != 0 {
		t.Fatalf("grow allocates %v times: its frame went to the heap", n)
	}
}

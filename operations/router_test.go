package operations

import (
	"path"
	"strings"
	"testing"
)

// cleanByPathClean is the definition cleanPath implements without
// allocating: p is what path.Clean makes of it (keeping a trailing slash).
func cleanByPathClean(p string) bool {
	if p == "/" {
		return true
	}
	if !strings.HasPrefix(p, "/") {
		return false
	}
	c := path.Clean(p)
	if strings.HasSuffix(p, "/") && c != "/" {
		c += "/"
	}
	return c == p
}

var cleanPathSeeds = []string{
	"", "/", "*", "a", "/a", "/a/", "//", "//a", "/a//b", "/a/./b", "/a/../b", "/.", "/..", "/a/.", "/a/..",
	"/a/b/", "/a/b//", "/.a", "/..a", "/a.", "/v1/items/01JDQ8Z6M3N4P5Q6R7S8T9V0WX", "/docs/", "/%2e%2e/x",
}

func TestCleanPath(t *testing.T) {
	for _, p := range cleanPathSeeds {
		if got, want := cleanPath(p), cleanByPathClean(p); got != want {
			t.Errorf("cleanPath(%q) = %v, want %v", p, got, want)
		}
	}
}

func FuzzCleanPath(f *testing.F) {
	for _, p := range cleanPathSeeds {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, p string) {
		if got, want := cleanPath(p), cleanByPathClean(p); got != want {
			t.Errorf("cleanPath(%q) = %v, want %v", p, got, want)
		}
	})
}

package main

import (
	"os"
	"os/exec"
	"regexp"
	"testing"
)

// mainstack only helps if it is initialised before Huma compiles its
// regular expressions: this binary, run with GODEBUG=inittrace=1, lists
// the packages in the order they were initialised.
func TestMainStackInitialisedBeforeHuma(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	order := map[string]int{}
	for i, m := range regexp.MustCompile(`(?m)^init (\S+) @`).FindAllSubmatch(out, -1) {
		order[string(m[1])] = i + 1
	}
	stack, huma := order["github.com/typedapi/typedapi/internal/mainstack"], order["github.com/danielgtaylor/huma/v2"]
	if stack == 0 || huma == 0 || stack > huma {
		t.Fatalf("init order: mainstack #%d, huma/v2 #%d (0: not listed)\n%.2000s", stack, huma, out)
	}
}

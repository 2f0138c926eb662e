package main

import (
	"context"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/typedapi/typedapi/internal/lambdatest"
)

// The stand-in Runtime API gives the hello bootstrap one event, takes its
// answer and then refuses, so the bootstrap exits; refusing at once makes
// it exit before any event. -instructions counts both runs.
func TestRuntimeAPIStandIn(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	bin := filepath.Join(t.TempDir(), "bootstrap")
	if err := lambdatest.BuildBootstrap(ctx, "../../..", "./internal/lambdatest/testdata/hello", bin, lambdatest.DefaultTags); err != nil {
		t.Fatal(err)
	}
	events, err := requestEvents()
	if err != nil {
		t.Fatal(err)
	}
	for _, event := range [][]byte{events[0], nil} {
		rt, err := newRuntimeAPI(event)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.CommandContext(ctx, bin)
		cmd.Env = append(lambdatest.HostEnv(), "AWS_LAMBDA_RUNTIME_API="+rt.addr)
		out, _ := cmd.CombinedOutput()
		rt.close()
		if ctx.Err() != nil {
			t.Fatalf("the bootstrap did not exit when refused:\n%s", out)
		}
		got := rt.answer()
		if event == nil && got != nil {
			t.Errorf("refused at once, yet answered %s", got)
		}
		if event != nil {
			if err := answered(200, got, nil); err != nil {
				t.Errorf("answer: %v\n%s", err, out)
			}
		}
	}
}

func TestWithGODEBUG(t *testing.T) {
	for _, c := range []struct{ env, want []string }{
		{nil, []string{"GODEBUG=asyncpreemptoff=1"}},
		{[]string{"GOGC=50"}, []string{"GOGC=50", "GODEBUG=asyncpreemptoff=1"}},
		{[]string{"GODEBUG=gctrace=1", "A=b"}, []string{"GODEBUG=gctrace=1,asyncpreemptoff=1", "A=b"}},
	} {
		if got := withGODEBUG(c.env, "asyncpreemptoff=1"); !slices.Equal(got, c.want) {
			t.Errorf("withGODEBUG(%q) = %q, want %q", c.env, got, c.want)
		}
	}
}

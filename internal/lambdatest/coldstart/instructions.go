package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/typedapi/typedapi/internal/lambdatest"
)

// countInstructions runs each bootstrap twice under valgrind's callgrind
// against a stand-in for the Lambda Runtime API and prints how many
// instructions it ran: to its first request for an event (answered by
// closing the connection, so it exits there), and to its answer to the
// first event (the next request for an event is closed the same way).
// Unlike times, the counts do not move with the machine's load. Both
// include the exit that follows, which is the same for every bootstrap.
// GOMAXPROCS=1 keeps idle threads from adding a varying count, and
// asyncpreemptoff=1 the runtime's preemption signals, which depend on wall
// time (and which callgrind, now and then, fails an assertion on).
func countInstructions(ctx context.Context, subjects []*subject, event []byte) error {
	if err := haveValgrind(); err != nil {
		return err
	}
	type counts struct{ init, first int64 }
	got := make([]counts, len(subjects))
	for i, s := range subjects {
		var err error
		if got[i].init, err = callgrind(ctx, s, nil); err != nil {
			return fmt.Errorf("%s, to the first request for an event: %w", s.name, err)
		}
		if got[i].first, err = callgrind(ctx, s, event); err != nil {
			return fmt.Errorf("%s, to the first answer: %w", s.name, err)
		}
	}
	m := func(n int64) string { return strconv.FormatFloat(float64(n)/1e6, 'f', 2, 64) + " M" }
	fmt.Printf("\ninstructions (valgrind's callgrind, GOMAXPROCS=1), process start to:\n%-9s %18s %18s\n",
		"bootstrap", "1st event request", "1st answer")
	for i, s := range subjects {
		fmt.Printf("%-9s %18s %18s\n", s.name, m(got[i].init), m(got[i].first))
	}
	return nil
}

// haveValgrind is checked before anything is measured, so a run does not
// end at its last step for want of it.
func haveValgrind() error {
	if _, err := exec.LookPath("valgrind"); err != nil {
		return errors.New("-instructions needs valgrind (apt-get install valgrind)")
	}
	return nil
}

// callgrindDir, when set (-callgrind-dir), keeps each run's callgrind
// profile there as NAME-init.out and NAME-first.out, for
// callgrind_annotate: which functions the difference between two
// bootstraps is made of.
var callgrindDir string

var collected = regexp.MustCompile(`Collected : ([0-9]+)`)

// callgrind counts one run of s's bootstrap, with one retry: valgrind
// itself fails now and then.
func callgrind(ctx context.Context, s *subject, event []byte) (int64, error) {
	n, err := callgrindOnce(ctx, s, event)
	if err != nil && ctx.Err() == nil {
		n, err = callgrindOnce(ctx, s, event)
	}
	return n, err
}

// callgrindOnce runs s's bootstrap under callgrind until it exits. With
// event nil its first request for an event is refused; otherwise it gets
// event, must answer it, and its next request is refused.
func callgrindOnce(ctx context.Context, s *subject, event []byte) (int64, error) {
	rt, err := newRuntimeAPI(event)
	if err != nil {
		return 0, err
	}
	defer rt.close()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	outFile := "/dev/null"
	if callgrindDir != "" {
		stage := "init"
		if event != nil {
			stage = "first"
		}
		outFile = filepath.Join(callgrindDir, s.name+"-"+stage+".out")
	}
	cmd := exec.CommandContext(ctx, "valgrind", "--tool=callgrind", "--callgrind-out-file="+outFile, s.bin)
	// The environment the emulator gives a bootstrap (lambdatest.Start),
	// with this stand-in's address.
	cmd.Env = append(lambdatest.HostEnv(), "AWS_LAMBDA_FUNCTION_TIMEOUT=60", "AWS_REGION=us-east-1",
		"AWS_LAMBDA_RUNTIME_API="+rt.addr, "GOMAXPROCS=1")
	// cpu.all=off keeps the runtime off RDTSCP and the SIMD paths, which
	// valgrind cannot run on some CPUs (SIGILL); every bootstrap runs so.
	cmd.Env = append(cmd.Env, withGODEBUG(s.env, "asyncpreemptoff=1,cpu.all=off")...)
	out, _ := cmd.CombinedOutput() // the bootstrap exits non-zero when refused
	m := collected.FindSubmatch(out)
	if m == nil {
		if ctx.Err() != nil {
			return 0, fmt.Errorf("no count from valgrind: %w", ctx.Err())
		}
		return 0, fmt.Errorf("no count from valgrind:\n%.2000s", out)
	}
	if event != nil {
		if err := answered(http.StatusOK, rt.answer(), nil); err != nil {
			return 0, fmt.Errorf("%w\n%.2000s", err, out)
		}
	}
	return strconv.ParseInt(string(m[1]), 10, 64)
}

// withGODEBUG is env with setting added to its GODEBUG (or a GODEBUG of
// setting alone): exec keeps only the last of two GODEBUG variables.
func withGODEBUG(env []string, setting string) []string {
	out := slices.Clone(env)
	for i, kv := range out {
		if v, ok := strings.CutPrefix(kv, "GODEBUG="); ok {
			out[i] = "GODEBUG=" + v + "," + setting
			return out
		}
	}
	return append(out, "GODEBUG="+setting)
}

// runtimeAPI is the least of the Lambda Runtime API a bootstrap needs for
// one event, on 127.0.0.1.
type runtimeAPI struct {
	addr string
	srv  *http.Server
	mu   sync.Mutex
	sent bool   // the event went out
	resp []byte // the bootstrap's answer
}

func newRuntimeAPI(event []byte) (*runtimeAPI, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	rt := &runtimeAPI{addr: ln.Addr().String()}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", func(w http.ResponseWriter, r *http.Request) {
		rt.mu.Lock()
		refuse := event == nil || rt.sent
		rt.sent = true
		rt.mu.Unlock()
		if refuse {
			if c, _, err := http.NewResponseController(w).Hijack(); err == nil {
				c.Close()
			}
			return
		}
		w.Header().Set("Lambda-Runtime-Aws-Request-Id", "instructions-1")
		w.Header().Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(time.Now().Add(time.Minute).UnixMilli(), 10))
		w.Header().Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:coldstart")
		_, _ = w.Write(event) // a failed write ends the run, which then has no count
	})
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/response", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(io.LimitReader(r.Body, 7<<20))
		rt.mu.Lock()
		rt.resp = b
		rt.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	})
	rt.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = rt.srv.Serve(ln) }() // returns ErrServerClosed on close
	return rt, nil
}

func (rt *runtimeAPI) answer() []byte {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return rt.resp
}

func (rt *runtimeAPI) close() { rt.srv.Close() }

// Package lambdatest runs a Lambda bootstrap under the real AWS Lambda
// Runtime Interface Emulator (aws-lambda-rie), on 127.0.0.1 only, for the
// end-to-end tests and the cold-start measurement (lambdatest/coldstart).
// It is to Lambda what net/http/httptest is to a server: test support,
// never linked into the product.
package lambdatest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/typedapi/typedapi/internal/logsink"
)

// EmulatorBinary is the emulator's command name; scripts/setup installs it
// with a pinned `go install` into $(go env GOPATH)/bin.
const EmulatorBinary = "aws-lambda-rie"

// FindEmulator returns the emulator's path: from PATH, else from the Go
// bin directory (where `go install` puts it even when that is not on PATH).
func FindEmulator() (string, error) {
	if p, err := exec.LookPath(EmulatorBinary); err == nil {
		return p, nil
	}
	var dirs []string
	if gobin := os.Getenv("GOBIN"); gobin != "" {
		dirs = append(dirs, gobin)
	}
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		for _, p := range filepath.SplitList(strings.TrimSpace(string(out))) {
			dirs = append(dirs, filepath.Join(p, "bin"))
		}
	}
	for _, d := range dirs {
		p := filepath.Join(d, EmulatorBinary)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found on PATH or in the Go bin directory: run scripts/setup", EmulatorBinary)
}

// The build tags of a Lambda bootstrap, as the CDK app builds it
// (cdk/stacks.BootstrapTags, whose test holds the two equal): DefaultTags
// without the RPC runtime and the OpenTelemetry SDK; TracingTags its build
// with -c tracing=true, which links the SDK.
const (
	DefaultTags = "lambda.norpc,notracing"
	TracingTags = "lambda.norpc"
)

// BuildBootstrap compiles the main package pkg (e.g. "./cmd/api") in
// module directory dir into out as it is deployed with these build tags
// (DefaultTags or TracingTags): static, for Linux on this machine's
// architecture, stripped.
func BuildBootstrap(ctx context.Context, dir, pkg, out, tags string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-tags", tags, "-trimpath", "-ldflags=-s -w", "-o", out, pkg)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+runtime.GOARCH, "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build %s: %v\n%s", pkg, err, b)
	}
	return nil
}

// HostEnv is this process's environment without what could steer a
// bootstrap run from the host: TYPEDAPI_*, AWS_* and _LAMBDA* variables,
// PORT and GODEBUG.
func HostEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "TYPEDAPI_") || strings.HasPrefix(k, "AWS_") || strings.HasPrefix(k, "_LAMBDA") || k == "PORT" || k == "GODEBUG" {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// Options start an emulator.
type Options struct {
	Emulator  string // path of aws-lambda-rie (FindEmulator when empty)
	Bootstrap string // path of the bootstrap binary
	// Env is added to the function's environment (the emulator hands its
	// own environment to the bootstrap). Inherited TYPEDAPI_*, AWS_* and
	// _LAMBDA variables are dropped first so the host cannot steer a run.
	Env []string
	// Timeout is the function timeout, in whole seconds (default 30s).
	Timeout time.Duration
	// Output, if set, also receives everything the emulator and the
	// bootstrap print (e.g. a testing log writer).
	Output io.Writer
}

// Emulator is a running aws-lambda-rie with one function.
type Emulator struct {
	cmd       *exec.Cmd
	invokeURL string
	out       *logsink.Buffer
	done      chan struct{}
	client    *http.Client
}

// Start runs the emulator on two free loopback ports and waits (at most
// 10s) until it accepts invocations. The bootstrap itself starts on the
// first invocation, as on Lambda.
func Start(ctx context.Context, o Options) (*Emulator, error) {
	if o.Emulator == "" {
		p, err := FindEmulator()
		if err != nil {
			return nil, err
		}
		o.Emulator = p
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	runtimeAPI, invokeAddr := "127.0.0.1:"+ports[0], "127.0.0.1:"+ports[1]

	secs := int((o.Timeout + time.Second - 1) / time.Second)
	env := append(HostEnv(), "AWS_LAMBDA_FUNCTION_TIMEOUT="+strconv.Itoa(secs), "AWS_REGION=us-east-1")
	env = append(env, o.Env...)

	out := &logsink.Buffer{}
	var w io.Writer = out
	if o.Output != nil {
		w = io.MultiWriter(out, o.Output)
	}
	cmd := exec.Command(o.Emulator,
		"--runtime-api-address", runtimeAPI,
		"--runtime-interface-emulator-address", invokeAddr,
		o.Bootstrap)
	cmd.Dir = filepath.Dir(o.Bootstrap)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = w, w
	// If the test process dies, the emulator goes with it; the bootstrap
	// (its own process group) then exits when the Runtime API vanishes.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", o.Emulator, err)
	}
	e := &Emulator{
		cmd:       cmd,
		invokeURL: "http://" + invokeAddr + "/2015-03-31/functions/function/invocations",
		out:       out,
		done:      make(chan struct{}),
		client:    &http.Client{Timeout: o.Timeout + 10*time.Second},
	}
	go func() { _ = cmd.Wait(); close(e.done) }()

	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", invokeAddr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return e, nil
		}
		select {
		case <-e.done:
			return nil, fmt.Errorf("%s exited before listening:\n%s", o.Emulator, out.String())
		case <-ctx.Done():
			e.Close()
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			e.Close()
			return nil, fmt.Errorf("%s did not listen on %s within 10s:\n%s", o.Emulator, invokeAddr, out.String())
		}
	}
}

// Invoke sends one event and returns the emulator's HTTP status and the
// function's answer: the response payload, or the runtime's error document
// ({"errorMessage":...,"errorType":...}) when the handler returned an error.
func (e *Emulator) Invoke(ctx context.Context, event []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.invokeURL, bytes.NewReader(event))
	if err != nil {
		return 0, nil, err
	}
	resp, err := e.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	return resp.StatusCode, body, err
}

// Output is everything the emulator and the bootstrap printed so far.
func (e *Emulator) Output() string { return e.out.String() }

// BootstrapPID is the process id of the running bootstrap (the emulator's
// child), or 0 before the first invocation started it.
func (e *Emulator) BootstrapPID() int {
	if e.cmd.Process == nil {
		return 0
	}
	return childOf(e.cmd.Process.Pid)
}

// PeakRSS is the bootstrap's peak resident set size (VmHWM), in bytes.
func (e *Emulator) PeakRSS() (int64, error) {
	pid := e.BootstrapPID()
	if pid == 0 {
		return 0, errors.New("no bootstrap process")
	}
	return procStatusBytes(pid, "VmHWM")
}

var initReport = regexp.MustCompile(`INIT REPORT\(durationMs: ([0-9.]+)\)`)

// InitDuration is the emulator's "INIT REPORT" for the bootstrap: from
// starting the process to its first request for an event (the runtime's
// init phase). The "Init Duration" in the REPORT line is not used: this
// emulator starts init asynchronously, so that number only covers its own
// bookkeeping.
func (e *Emulator) InitDuration() (time.Duration, bool) {
	m := initReport.FindStringSubmatch(e.Output())
	if m == nil {
		return 0, false
	}
	ms, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0, false
	}
	return time.Duration(ms * float64(time.Millisecond)), true
}

// Close stops the bootstrap and the emulator and waits (at most 5s) for
// the emulator to exit. The emulator exits on SIGTERM without stopping
// its child, so the child is ended first, by its pid.
func (e *Emulator) Close() error {
	if e.cmd.Process == nil {
		return nil
	}
	if pid := e.BootstrapPID(); pid != 0 {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	_ = e.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-e.done:
		return nil
	case <-time.After(5 * time.Second):
		_ = e.cmd.Process.Kill()
		<-e.done
		return errors.New("emulator did not exit on SIGTERM within 5s; killed")
	}
}

// freePorts asks the kernel for n free loopback ports. They are released
// before the emulator binds them; another process taking one in between
// makes Start fail, which is rare enough for tests.
func freePorts(n int) ([]string, error) {
	var ports []string
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, strconv.Itoa(l.Addr().(*net.TCPAddr).Port))
	}
	return ports, nil
}

// childOf finds a child process of parent by reading /proc/*/stat.
func childOf(parent int) int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	for _, ent := range entries {
		pid, err := strconv.Atoi(ent.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", ent.Name(), "stat"))
		if err != nil {
			continue
		}
		// Fields after the parenthesised command name: state, ppid, ...
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) > 1 && f[1] == strconv.Itoa(parent) {
			return pid
		}
	}
	return 0
}

// procStatusBytes reads a "kB" field such as VmHWM from /proc/pid/status.
func procStatusBytes(pid int, field string) (int64, error) {
	f, err := os.Open(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb * 1024, err
		}
	}
	return 0, fmt.Errorf("%s not in /proc/%d/status", field, pid)
}

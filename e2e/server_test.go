package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// apiBinary is the program under test, built once by TestMain.
var apiBinary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "typedapi-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	apiBinary = filepath.Join(dir, "api")
	build := exec.Command("go", "build", "-o", apiBinary, "../cmd/api")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build ../cmd/api:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// externalServer is the origin of a server started outside the suite
// (TYPEDAPI_E2E_SERVER), for example scripts/validate's Prism proxy in
// front of the built binary; "" when the suite starts its own. Tests that
// can run against such a server (TestClient, TestOrderThroughClient) use it
// instead of starting one.
func externalServer() string { return strings.TrimSuffix(os.Getenv("TYPEDAPI_E2E_SERVER"), "/") }

// startAPI runs the real binary on a free 127.0.0.1 port with env added to
// the defaults, and returns its origin (http://127.0.0.1:PORT) once /healthz
// (under basePath) answers. The process is stopped with SIGTERM at cleanup.
func startAPI(t *testing.T, basePath string, env ...string) string {
	t.Helper()
	return startCommand(t, nil, basePath, io.Discard, env...)
}

// startAPILogged is startAPI that copies the server's standard output (its
// log lines) into logs.
func startAPILogged(t *testing.T, logs io.Writer, env ...string) string {
	t.Helper()
	return startCommand(t, nil, "", logs, env...)
}

// startGateway runs `api gateway` (a local front door before the Lambda
// handler) with the given flags; prefix is the stage or base path its
// clients' paths start with.
func startGateway(t *testing.T, prefix string, flags ...string) string {
	t.Helper()
	return startCommand(t, append([]string{"gateway", "--addr", "127.0.0.1:0"}, flags...), prefix, io.Discard)
}

func startCommand(t *testing.T, args []string, basePath string, logs io.Writer, env ...string) string {
	t.Helper()
	cmd := exec.Command(apiBinary, args...)
	cmd.Env = append(os.Environ(), "TYPEDAPI_HOST=127.0.0.1", "TYPEDAPI_PORT=0", "TYPEDAPI_LOG_LEVEL=info",
		"TYPEDAPI_LOG_FORMAT=json")
	if args == nil {
		cmd.Env = append(cmd.Env, "TYPEDAPI_BASE_PATH="+basePath)
	}
	cmd.Env = append(cmd.Env, env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			t.Errorf("api did not exit within 15s of SIGTERM")
		}
	})

	// The server logs {"msg":"listening","addr":"127.0.0.1:PORT"} once bound.
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var line struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "listening" {
				addr <- line.Addr
				break
			}
		}
		_, _ = io.Copy(logs, stdout) // and keep the pipe drained
	}()
	var origin string
	select {
	case a := <-addr:
		origin = "http://" + a
	case <-exited:
		t.Fatalf("api exited before listening: %s", stderr.String())
	case <-time.After(15 * time.Second):
		t.Fatal("api did not log its address within 15s")
	}

	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(origin + basePath + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return origin
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s%s/healthz did not answer 200 within 10s (last error: %v)", origin, basePath, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

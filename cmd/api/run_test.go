package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/typedapi/typedapi/models"
)

// startServer runs the real program through run() on a free 127.0.0.1
// port and waits for /healthz. Cancelling the returned func stops it like
// SIGTERM does, and waits for run to return.
func startServer(t *testing.T, env map[string]string) (base string, stop func() error) {
	t.Helper()
	return startServerLogging(t, env, io.Discard)
}

// startServerLogging is startServer with the program's standard output
// (its log) written to logs.
func startServerLogging(t *testing.T, env map[string]string, logs io.Writer) (base string, stop func() error) {
	t.Helper()
	addrs := make(chan net.Addr, 1)
	ctx, cancel := context.WithCancel(context.WithValue(context.Background(), readyHookKey{}, func(a net.Addr) { addrs <- a }))
	vars := map[string]string{"TYPEDAPI_HOST": "127.0.0.1", "TYPEDAPI_PORT": "0", "TYPEDAPI_LOG_LEVEL": "warn"}
	for k, v := range env {
		vars[k] = v
	}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, nil, func(k string) string { return vars[k] }, strings.NewReader(""), logs, io.Discard)
	}()
	select {
	case a := <-addrs:
		base = "http://" + a.String()
	case err := <-done:
		t.Fatalf("run returned before listening: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("server did not start within 10s")
	}
	waitHealthy(t, base)
	stopped := false
	stop = func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(20 * time.Second):
			return fmt.Errorf("run did not return within 20s")
		}
	}
	t.Cleanup(func() { _ = stop() })
	return base, stop
}

func waitHealthy(t *testing.T, base string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s/healthz never answered 200", base)
}

type client struct {
	t    *testing.T
	base string
}

func (c client) do(method, path, body string, headers ...string) (*http.Response, []byte) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func (c client) expect(want int, method, path, body string, headers ...string) (*http.Response, []byte) {
	c.t.Helper()
	resp, b := c.do(method, path, body, headers...)
	if resp.StatusCode != want {
		c.t.Fatalf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, want, b)
	}
	return resp, b
}

func TestEndToEnd(t *testing.T) {
	for name, env := range storeEnvs(t) {
		t.Run(name, func(t *testing.T) { endToEnd(t, env) })
	}
}

func endToEnd(t *testing.T, env map[string]string) {
	base, stop := startServer(t, env)
	c := client{t, base}

	// create → get
	var created []models.Item
	for i := range 3 {
		resp, b := c.expect(201, "POST", "/v1/items", fmt.Sprintf(`{"name":"Cup %d","price":%d,"currency":"EUR","tags":["kitchen"]}`, i, 100+i))
		var it models.Item
		if err := json.Unmarshal(b, &it); err != nil {
			t.Fatal(err)
		}
		if resp.Header.Get("Location") != "/v1/items/"+it.ID {
			t.Errorf("Location %q", resp.Header.Get("Location"))
		}
		created = append(created, it)
	}
	first := created[0]
	resp, _ := c.expect(200, "GET", "/v1/items/"+first.ID, "")
	etag := resp.Header.Get("ETag")
	if etag != first.ETag() {
		t.Errorf("ETag %q", etag)
	}
	c.expect(304, "GET", "/v1/items/"+first.ID, "", "If-None-Match", etag)

	// list: two pages, following the Link header
	resp, b := c.expect(200, "GET", "/v1/items?limit=2&tag=kitchen", "")
	var page struct {
		Items      []models.Item `json:"items"`
		NextCursor string        `json:"next_cursor"`
	}
	_ = json.Unmarshal(b, &page)
	link := ""
	for _, v := range resp.Header.Values("Link") {
		for _, l := range strings.Split(v, ",") {
			if strings.Contains(l, `rel="next"`) {
				link = strings.TrimSpace(l)
			}
		}
	}
	if len(page.Items) != 2 || page.NextCursor == "" || link == "" {
		t.Fatalf("page 1: %d items, cursor %q, link %q", len(page.Items), page.NextCursor, link)
	}
	nextURL := strings.TrimSuffix(strings.TrimPrefix(link, "<"), `>; rel="next"`)
	_, b = c.expect(200, "GET", nextURL, "")
	var page2 struct {
		Items      []models.Item `json:"items"`
		NextCursor string        `json:"next_cursor"`
	}
	_ = json.Unmarshal(b, &page2)
	if len(page2.Items) != 1 || page2.NextCursor != "" || page2.Items[0].ID != created[2].ID {
		t.Errorf("page 2: %+v", page2)
	}

	// patch with a fresh ETag, then with the now stale one
	_, b = c.expect(200, "PATCH", "/v1/items/"+first.ID, `{"price":999}`, "If-Match", etag, "Content-Type", "application/merge-patch+json")
	var patched models.Item
	_ = json.Unmarshal(b, &patched)
	if patched.Price != 999 || patched.Version != 2 {
		t.Errorf("patched %+v", patched)
	}
	resp, b = c.expect(412, "PATCH", "/v1/items/"+first.ID, `{"price":1}`, "If-Match", etag, "Content-Type", "application/merge-patch+json")
	if resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("412 content type %q: %s", resp.Header.Get("Content-Type"), b)
	}

	// delete, then it is gone
	c.expect(204, "DELETE", "/v1/items/"+first.ID, "", "If-Match", patched.ETag())
	c.expect(404, "GET", "/v1/items/"+first.ID, "")

	// /docs and every asset it references come from this server.
	checkDocs(t, c)

	if err := stop(); err != nil {
		t.Errorf("clean stop returned %v", err)
	}
}

var assetRef = regexp.MustCompile(`(?:src|href|data-spec)="([^"]+)"`)

// checkDocs loads /docs like a browser would: every URL the page names is
// relative, resolves to this server and is served by the binary itself.
func checkDocs(t *testing.T, c client) {
	t.Helper()
	resp, page := c.expect(200, "GET", "/docs", "")
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !bytes.Contains(page, []byte("swagger-ui")) {
		t.Fatalf("/docs is not the Swagger UI page: %s", page)
	}
	pageURL, _ := url.Parse(c.base + "/docs")
	refs := assetRef.FindAllStringSubmatch(string(page), -1)
	if len(refs) < 4 {
		t.Fatalf("page references only %d URLs", len(refs))
	}
	for _, m := range refs {
		ref, err := url.Parse(m[1])
		if err != nil || ref.IsAbs() || ref.Host != "" {
			t.Errorf("page references %q, not a relative URL on this server", m[1])
			continue
		}
		u := pageURL.ResolveReference(ref)
		resp, body := client{t, ""}.expect(200, "GET", u.String(), "")
		if len(body) == 0 {
			t.Errorf("%s is empty", u)
		}
		if strings.HasSuffix(u.Path, ".js") && !strings.Contains(resp.Header.Get("Content-Type"), "javascript") {
			t.Errorf("%s served as %q", u, resp.Header.Get("Content-Type"))
		}
		if strings.Contains(string(body), "https://unpkg.com") || strings.Contains(string(body), "cdn.jsdelivr") {
			t.Errorf("%s refers to a CDN", u)
		}
	}
}

func TestOpenAPICommand(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"openapi"}, `"openapi": "3.1.0"`},
		{[]string{"openapi", "--format", "yaml"}, "openapi: 3.1.0"},
		{[]string{"openapi", "--spec", "3.0"}, `"openapi":"3.0.3"`},
	} {
		var out bytes.Buffer
		if err := run(context.Background(), c.args, func(string) string { return "" }, nil, &out, io.Discard); err != nil {
			t.Fatalf("%v: %v", c.args, err)
		}
		if !strings.Contains(out.String(), c.want) || !strings.Contains(out.String(), "create-item") {
			t.Errorf("%v: output lacks %q", c.args, c.want)
		}
	}
	if err := run(context.Background(), []string{"openapi", "--format", "xml"}, func(string) string { return "" }, nil, io.Discard, io.Discard); err == nil {
		t.Error("bad --format accepted")
	}
}

// buildBinary compiles cmd/api once for the tests that need a real process.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "api")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("build: %v", err)
	}
	return bin
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
}

// TestSIGTERMDrainsInFlight sends SIGTERM to the real binary while a
// request's body is still arriving: that request completes normally, new
// connections are refused, and the process exits 0.
func TestSIGTERMDrainsInFlight(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	port := freePort(t)
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "TYPEDAPI_HOST=127.0.0.1", "PORT="+port, "TYPEDAPI_SHUTDOWN_GRACE=10s")
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	base := "http://127.0.0.1:" + port
	waitHealthy(t, base)

	// Start a request and send only half of its body.
	conn, err := net.Dial("tcp", "127.0.0.1:"+port)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := `{"name":"Slow cup","price":100,"currency":"EUR"}`
	fmt.Fprintf(conn, "POST /v1/items HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body[:10])
	time.Sleep(200 * time.Millisecond) // the server is now reading the body

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// New connections are refused once the listener is closed.
	refused := false
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+port, 200*time.Millisecond)
		if err != nil {
			refused = true
			break
		}
		c.Close()
	}
	if !refused {
		t.Error("new connections still accepted after SIGTERM")
	}

	// The in-flight request finishes with its normal answer.
	if _, err := io.WriteString(conn, body[10:]); err != nil {
		t.Fatalf("finishing the body: %v", err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("in-flight request lost: %v\n%s", err, logs.String())
	}
	if resp.StatusCode != 201 {
		t.Errorf("in-flight request answered %d", resp.StatusCode)
	}

	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("exit after SIGTERM: %v\n%s", err, logs.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("process did not exit within the grace period")
	}
	if !strings.Contains(logs.String(), "shut down cleanly") {
		t.Errorf("no clean shutdown logged:\n%s", logs.String())
	}
}

// TestBadConfigStopsStartup: a bad value exits non-zero with one line that
// names the key, the value and what is allowed.
func TestBadConfigStopsStartup(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	cases := []struct{ env, want string }{
		{"TYPEDAPI_PORT=http", `port (env TYPEDAPI_PORT or PORT) = "http" is not allowed: a whole number from 0 to 65535`},
		{"TYPEDAPI_LOG_FORMAT=xml", `log_format (env TYPEDAPI_LOG_FORMAT) = "xml" is not allowed: one of json, text`},
		{"TYPEDAPI_STORE=sqlite", `store (env TYPEDAPI_STORE) = "sqlite" is not allowed: one of memory, dynamodb`},
		{"PORT=-1", `port (env TYPEDAPI_PORT or PORT) = "-1"`},
	}
	for _, c := range cases {
		cmd := exec.Command(bin)
		cmd.Env = append(os.Environ(), c.env)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		exitErr, ok := err.(*exec.ExitError)
		if !ok || exitErr.ExitCode() == 0 {
			t.Errorf("%s: want non-zero exit, got %v", c.env, err)
		}
		out := strings.TrimSpace(stderr.String())
		if strings.Count(out, "\n") != 0 || !strings.Contains(out, c.want) {
			t.Errorf("%s: stderr %q, want one line containing %q", c.env, out, c.want)
		}
	}
}

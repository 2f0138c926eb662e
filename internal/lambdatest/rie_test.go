package lambdatest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/typedapi/typedapi/internal/lambdalocal"
	"github.com/typedapi/typedapi/store/storetest"
)

// End-to-end tests: the deployed bootstrap (built as for Lambda) under the
// real Runtime Interface Emulator, invoked over its HTTP API with events of
// every source. They need aws-lambda-rie (scripts/setup installs it): under
// CI=true a missing emulator fails the run, elsewhere it skips.

var (
	buildDir  string
	buildMu   sync.Mutex
	bootstrap = map[string]string{} // package → built binary
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "lambdatest-*")
	if err != nil {
		panic(err)
	}
	buildDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// emulator returns the emulator's path, or ends the test when it is missing.
func emulator(t *testing.T) string {
	t.Helper()
	p, err := FindEmulator()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	return p
}

// built compiles pkg (relative to the module root) once per test binary.
func built(t *testing.T, pkg string) string {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	if p, ok := bootstrap[pkg]; ok {
		return p
	}
	out := filepath.Join(buildDir, strings.NewReplacer("/", "_", ".", "_").Replace(pkg), "bootstrap")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := BuildBootstrap(ctx, "../..", pkg, out, DefaultTags); err != nil {
		t.Fatal(err)
	}
	bootstrap[pkg] = out
	return out
}

func start(t *testing.T, pkg string, timeout time.Duration, env ...string) *Emulator {
	t.Helper()
	rie := emulator(t)
	bin := built(t, pkg)
	// On Lambda auth never defaults to off: these tests of the runtime path
	// switch it off explicitly (env may set it again).
	env = append([]string{"TYPEDAPI_AUTH_MODE=off"}, env...)
	e, err := Start(context.Background(), Options{Emulator: rie, Bootstrap: bin, Timeout: timeout, Env: env})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := e.Close(); err != nil {
			t.Error(err)
		}
		if t.Failed() {
			t.Logf("emulator and bootstrap output:\n%s", e.Output())
		}
	})
	return e
}

// lambdaResponse is the union of the response shapes the sources get.
type lambdaResponse struct {
	StatusCode        int                 `json:"statusCode"`
	StatusDescription string              `json:"statusDescription"`
	Headers           map[string]string   `json:"headers"`
	MultiValueHeaders map[string][]string `json:"multiValueHeaders"`
	Body              string              `json:"body"`
	IsBase64Encoded   bool                `json:"isBase64Encoded"`
	ErrorMessage      string              `json:"errorMessage"` // set when the function returned an error
	ErrorType         string              `json:"errorType"`
}

func (r lambdaResponse) header(k string) string {
	if v, ok := r.Headers[k]; ok {
		return v
	}
	if vs := r.MultiValueHeaders[k]; len(vs) > 0 {
		return vs[0]
	}
	return ""
}

func (r lambdaResponse) body(t *testing.T) []byte {
	t.Helper()
	if !r.IsBase64Encoded {
		return []byte(r.Body)
	}
	b, err := base64.StdEncoding.DecodeString(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// invoke sends one event through the emulator and decodes the answer.
func invoke(t *testing.T, e *Emulator, event []byte) lambdaResponse {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	status, raw, err := e.Invoke(ctx, event)
	if err != nil {
		t.Fatal(err)
	}
	if status != http.StatusOK {
		t.Fatalf("emulator answered %d: %s", status, raw)
	}
	var r lambdaResponse
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatalf("answer is not JSON (%v): %.300s", err, raw)
	}
	return r
}

func event(t *testing.T, r lambdalocal.Request) []byte {
	t.Helper()
	ev, err := lambdalocal.Build(r)
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// front is one front door: a source and how the event describes it.
type front struct {
	name   string
	req    lambdalocal.Request
	prefix string // what the client sees before the API's paths
	form   string // response header form: "single" or "multi"
}

var fronts = []front{
	{name: "rest", req: lambdalocal.Request{Source: "rest"}, prefix: "/prod", form: "multi"},
	{name: "rest custom domain base path", req: lambdalocal.Request{Source: "rest", Domain: "api.example.com", BasePath: "/shop"}, prefix: "/shop", form: "multi"},
	{name: "http $default", req: lambdalocal.Request{Source: "http"}, form: "single"},
	{name: "http named stage", req: lambdalocal.Request{Source: "http", Stage: "beta"}, prefix: "/beta", form: "single"},
	{name: "http named stage proxy route", req: lambdalocal.Request{Source: "http", Stage: "beta", ProxyRoute: true}, prefix: "/beta", form: "single"},
	{name: "alb", req: lambdalocal.Request{Source: "alb"}, form: "single"},
	{name: "alb multi-value", req: lambdalocal.Request{Source: "alb", MultiValue: true}, form: "multi"},
	{name: "url", req: lambdalocal.Request{Source: "url"}, form: "single"},
}

// TestEmulatorEverySource: create, get, list, a 422 and a 404 from every
// front door, all answered by one bootstrap process.
func TestEmulatorEverySource(t *testing.T) {
	for _, st := range emulatorStores(t) {
		t.Run(st.name, func(t *testing.T) { everySource(t, st.env...) })
	}
}

type emulatorStore struct {
	name string
	env  []string
}

// emulatorStores are the stores the bootstrap is run with: the memory
// store, and DynamoDB Local when the test command started it. The DynamoDB
// case gets credentials the way Lambda hands them to a function (in
// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), which is
// all a Lambda build reads; its table is made by the bootstrap itself
// (`table create`), so that command is checked as built for Lambda too.
func emulatorStores(t *testing.T) []emulatorStore {
	t.Helper()
	stores := []emulatorStore{{name: "memory"}}
	endpoint, ok := storetest.DynamoDBLocal(t)
	if !ok {
		return stores // the memory store only
	}
	env := []string{
		"TYPEDAPI_STORE=dynamodb",
		"TYPEDAPI_DYNAMODB_ENDPOINT=" + endpoint,
		"TYPEDAPI_DYNAMODB_TABLE=" + fmt.Sprintf("rie-%d", time.Now().UnixNano()),
		"AWS_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=ASIAEMULATOREXAMPLE",
		"AWS_SECRET_ACCESS_KEY=emulator-secret",
		"AWS_SESSION_TOKEN=emulator-session-token",
	}
	create := exec.Command(built(t, "./cmd/api"), "table", "create")
	create.Env = env
	if out, err := create.CombinedOutput(); err != nil {
		t.Fatalf("bootstrap table create: %v\n%s", err, out)
	}
	return append(stores, emulatorStore{name: "dynamodb", env: env})
}

func everySource(t *testing.T, env ...string) {
	e := start(t, "./cmd/api", 10*time.Second, env...)
	var pid int
	for _, fd := range fronts {
		t.Run(fd.name, func(t *testing.T) {
			req := func(method, target, body string) lambdalocal.Request {
				r := fd.req
				r.Method, r.Target = method, target
				if body != "" {
					r.Header = http.Header{"Content-Type": {"application/json"}}
					r.Body = []byte(body)
				}
				return r
			}
			check := func(resp lambdaResponse, status int) {
				t.Helper()
				if resp.ErrorMessage != "" || resp.StatusCode != status {
					t.Fatalf("status %d (error %q), want %d: %s", resp.StatusCode, resp.ErrorMessage, status, resp.Body)
				}
				single, multi := resp.Headers != nil, resp.MultiValueHeaders != nil
				if (fd.form == "single") != single || (fd.form == "multi") != multi {
					t.Errorf("headers in the wrong form for %s: headers=%v multiValueHeaders=%v", fd.name, single, multi)
				}
				if strings.HasPrefix(fd.req.Source, "alb") && resp.StatusDescription != http.StatusText(status) && !strings.HasSuffix(resp.StatusDescription, http.StatusText(status)) {
					t.Errorf("ALB statusDescription %q", resp.StatusDescription)
				}
			}

			name := "Cup from " + fd.name
			resp := invoke(t, e, event(t, req("POST", "/v1/items", `{"name":"`+name+`","price":1250,"currency":"EUR","tags":["e2e"]}`)))
			check(resp, 201)
			var item struct {
				ID   string `json:"id"`
				Name string `json:"name"`
			}
			if err := json.Unmarshal(resp.body(t), &item); err != nil || item.ID == "" || item.Name != name {
				t.Fatalf("created %+v (%v) from %s", item, err, resp.Body)
			}
			if got, want := resp.header("Location"), fd.prefix+"/v1/items/"+item.ID; got != want {
				t.Errorf("Location %q, want %q", got, want)
			}

			resp = invoke(t, e, event(t, req("GET", "/v1/items/"+item.ID, "")))
			check(resp, 200)
			if !strings.Contains(string(resp.body(t)), `"name":"`+name+`"`) || resp.header("Etag") == "" && resp.header("ETag") == "" {
				t.Errorf("get: %s %v %v", resp.Body, resp.Headers, resp.MultiValueHeaders)
			}

			resp = invoke(t, e, event(t, req("GET", "/v1/items?limit=100&tag=e2e", "")))
			check(resp, 200)
			if !strings.Contains(string(resp.body(t)), item.ID) {
				t.Errorf("list lacks %s: %s", item.ID, resp.Body)
			}

			resp = invoke(t, e, event(t, req("POST", "/v1/items", `{"name":"","price":-1,"currency":"EUR"}`)))
			check(resp, 422)
			if ct := resp.header("Content-Type"); ct != "application/problem+json" || !strings.Contains(resp.Body, "body.name") || !strings.Contains(resp.Body, "body.price") {
				t.Errorf("422: %q %s", ct, resp.Body)
			}

			resp = invoke(t, e, event(t, req("GET", "/v1/items/01ARZ3NDEKTSV4RRFFQ69G5FAX", "")))
			check(resp, 404)
			if ct := resp.header("Content-Type"); ct != "application/problem+json" {
				t.Errorf("404 Content-Type %q: %s", ct, resp.Body)
			}

			// One process answered everything: Lambda keeps it warm.
			if p := e.BootstrapPID(); pid == 0 {
				pid = p
			} else if p != pid {
				t.Errorf("bootstrap pid changed from %d to %d", pid, p)
			}
		})
	}
}

// TestEmulatorBadEvents: an event that is no HTTP request is a function
// error with a clear message and a log line; the same process then serves
// the next good event.
func TestEmulatorBadEvents(t *testing.T) {
	e := start(t, "./cmd/api", 10*time.Second)
	health := event(t, lambdalocal.Request{Source: "http", Method: "GET", Target: "/healthz"})
	if resp := invoke(t, e, health); resp.StatusCode != 200 {
		t.Fatalf("healthz before: %+v", resp)
	}
	pid := e.BootstrapPID()
	bad := []struct{ name, event string }{
		{"empty object", `{}`},
		{"sqs", `{"Records":[{"messageId":"059f36b4-87a3-44ab-83d2-661975830a7d","receiptHandle":"AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a","body":"test","attributes":{"ApproximateReceiveCount":"1"},"messageAttributes":{},"md5OfBody":"098f6bcd4621d373cade4e832627b4f6","eventSource":"aws:sqs","eventSourceARN":"arn:aws:sqs:us-east-2:123456789012:my-queue","awsRegion":"us-east-2"}]}`},
		{"garbage", `"not an event at all"`},
	}
	for _, b := range bad {
		t.Run(b.name, func(t *testing.T) {
			resp := invoke(t, e, []byte(b.event))
			if !strings.Contains(resp.ErrorMessage, "unsupported Lambda event") || resp.ErrorType != "UnsupportedEventError" {
				t.Errorf("bad event answered %+v, want a function error naming the problem", resp)
			}
			if resp := invoke(t, e, health); resp.StatusCode != 200 || resp.ErrorMessage != "" {
				t.Errorf("good event after a bad one: %+v", resp)
			}
			if p := e.BootstrapPID(); p != pid {
				t.Errorf("bootstrap pid changed from %d to %d: the process did not keep serving", pid, p)
			}
		})
	}
	if n := strings.Count(e.Output(), `"msg":"unsupported Lambda event"`); n != len(bad) {
		t.Errorf("%d log lines naming an unsupported event, want %d", n, len(bad))
	}
}

// TestEmulatorPanic: a panic inside an operation answers a 500 problem
// that leaks nothing, its cause is logged, and the next invoke succeeds in
// the same process. The bootstrap is testdata/panicky: the real API on a
// store whose Get panics for one id.
func TestEmulatorPanic(t *testing.T) {
	e := start(t, "./internal/lambdatest/testdata/panicky", 10*time.Second)
	for i := range 2 {
		resp := invoke(t, e, event(t, lambdalocal.Request{Source: "http", Method: "GET", Target: "/v1/items/01ARZ3NDEKTSV4RRFFQ69G5FAV"}))
		if resp.ErrorMessage != "" || resp.StatusCode != 500 || resp.header("Content-Type") != "application/problem+json" {
			t.Fatalf("panic #%d answered %+v, want a 500 problem", i+1, resp)
		}
		if strings.Contains(resp.Body, "provoked") {
			t.Errorf("500 body leaks the panic: %s", resp.Body)
		}
		resp = invoke(t, e, event(t, lambdalocal.Request{Source: "http", Method: "GET", Target: "/v1/items?limit=1"}))
		if resp.StatusCode != 200 {
			t.Fatalf("after panic #%d: %+v", i+1, resp)
		}
	}
	if !strings.Contains(e.Output(), "panicky store: provoked by the end-to-end test") {
		t.Error("the panic's cause is not in the log")
	}
}

// TestEmulatorDeadline: with a 1s function timeout and a DynamoDB endpoint
// that accepts connections and never answers, the read ends with a 504
// problem before Lambda's deadline — not "Task timed out" — and the
// process serves the next invoke.
func TestEmulatorDeadline(t *testing.T) {
	hole, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var held []net.Conn
	go func() {
		for {
			c, err := hole.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c) // read nothing, answer nothing
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		hole.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			c.Close()
		}
	})

	e := start(t, "./cmd/api", time.Second,
		"TYPEDAPI_STORE=dynamodb",
		"TYPEDAPI_DYNAMODB_ENDPOINT=http://"+hole.Addr().String(),
		"TYPEDAPI_DYNAMODB_REGION=us-east-1",
	)
	resp := invoke(t, e, event(t, lambdalocal.Request{Source: "http", Method: "GET", Target: "/v1/items/01ARZ3NDEKTSV4RRFFQ69G5FAV"}))
	if resp.StatusCode != 504 || resp.header("Content-Type") != "application/problem+json" {
		t.Fatalf("answered %+v, want a 504 problem", resp)
	}
	if out := e.Output(); strings.Contains(out, "Task timed out") {
		t.Errorf("Lambda timed the invocation out:\n%s", out)
	}
	mu.Lock()
	n := len(held)
	mu.Unlock()
	if n == 0 {
		t.Error("the store never called the unresponsive endpoint: the 504 has another cause")
	}
	pid := e.BootstrapPID()
	resp = invoke(t, e, event(t, lambdalocal.Request{Source: "http", Method: "GET", Target: "/healthz"}))
	if resp.StatusCode != 200 || e.BootstrapPID() != pid {
		t.Errorf("after the deadline: %+v (pid %d → %d)", resp, pid, e.BootstrapPID())
	}
}

// TestEmulatorAuth: the bootstrap as Lambda runs it. With no way to
// authenticate configured it refuses to start, naming the keys; with an
// issuer it starts, and a cold start that serves public operations sends
// nothing to the issuer (discovery and keys wait for a protected request).
func TestEmulatorAuth(t *testing.T) {
	t.Run("no issuer", func(t *testing.T) {
		e := start(t, "./cmd/api", 10*time.Second, "TYPEDAPI_AUTH_MODE=auto")
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, raw, err := e.Invoke(ctx, event(t, lambdalocal.Request{Source: "http", Method: "GET", Target: "/healthz"}))
		if err == nil && strings.Contains(string(raw), `"statusCode":200`) {
			t.Fatalf("served with no authentication configured: %s", raw)
		}
		deadline := time.Now().Add(10 * time.Second)
		for !strings.Contains(e.Output(), "TYPEDAPI_AUTH_ISSUER") && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if !strings.Contains(e.Output(), "auth: refusing to start without authentication") {
			t.Fatalf("no refusal naming the keys in the output:\n%s", e.Output())
		}
	})
	t.Run("issuer, public operations", func(t *testing.T) {
		var requests sync.Map
		issuer := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			requests.Store(r.URL.Path, true)
			http.NotFound(w, r)
		}), ReadHeaderTimeout: 5 * time.Second}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go func() { _ = issuer.Serve(ln) }()
		t.Cleanup(func() { _ = issuer.Close() })
		e := start(t, "./cmd/api", 10*time.Second, "TYPEDAPI_AUTH_MODE=auto",
			"TYPEDAPI_AUTH_ISSUER=http://"+ln.Addr().String(), "TYPEDAPI_AUTH_AUDIENCE=typedapi")
		for _, path := range []string{"/healthz", "/v1/items?limit=1", "/openapi.json"} {
			if resp := invoke(t, e, event(t, lambdalocal.Request{Source: "http", Method: "GET", Target: path})); resp.StatusCode != 200 {
				t.Fatalf("GET %s: %+v", path, resp)
			}
		}
		requests.Range(func(k, _ any) bool {
			t.Errorf("the cold start asked the issuer for %s", k)
			return true
		})
	})
}

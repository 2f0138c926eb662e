package serve

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/typedapi/typedapi/internal/lambdalocal"
	"github.com/typedapi/typedapi/internal/logsink"
	"github.com/typedapi/typedapi/internal/middleware"
)

// runtimeFor runs h as a streaming function against a Runtime API
// stand-in on 127.0.0.1 and returns the stand-in to invoke it through.
func runtimeFor(t *testing.T, h http.Handler, opts LambdaOptions, timeout time.Duration) *lambdalocal.RuntimeAPI {
	t.Helper()
	api := lambdalocal.NewRuntimeAPI(timeout)
	srv := httptest.NewServer(api)
	ctx, cancel := context.WithCancel(context.Background())
	opts.Stream = true
	if opts.Logger == nil {
		opts.Logger = quiet().Logger
	}
	lh := NewLambdaHandler(h, opts)
	done := make(chan error, 1)
	go func() { done <- lh.ServeRuntimeAPI(ctx, strings.TrimPrefix(srv.URL, "http://")) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("runtime loop: %v", err)
		}
		srv.Close()
	})
	return api
}

// testTimeout bounds what a test waits for, far above what it needs even
// on a loaded machine, so a broken stream fails instead of hanging.
const testTimeout = 60 * time.Second

func invokeURL(t *testing.T, api *lambdalocal.RuntimeAPI, r lambdalocal.Request) (*lambdalocal.Answer, int, http.Header, *bufio.Reader) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	if r.Source == "" {
		r.Source = "url"
	}
	if r.Method == "" {
		r.Method = "GET"
	}
	ans, err := api.Invoke(ctx, build(t, r))
	if err != nil {
		t.Fatalf("invoke: %v", err)
	}
	if ans.Err != nil {
		t.Fatalf("the function failed: %v", ans.Err)
	}
	t.Cleanup(func() { _ = ans.Body.Close() })
	if !ans.Streamed {
		return ans, 0, nil, bufio.NewReader(ans.Body)
	}
	if ans.ContentType != "application/vnd.awslambda.http-integration-response" {
		t.Errorf("streamed content type %q", ans.ContentType)
	}
	br := bufio.NewReader(ans.Body)
	status, header, err := lambdalocal.ReadPrelude(br)
	if err != nil {
		t.Fatal(err)
	}
	return ans, status, header, br
}

// TestStreamBytesBeforeEnd: the client reads line 1 while the handler is
// still running — it holds line 2 until the client has read line 1, so a
// buffered path would never answer (and the test would fail on its
// timeout, not hang).
func TestStreamBytesBeforeEnd(t *testing.T) {
	readLine1 := make(chan struct{})
	handlerDone := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(handlerDone)
		w.Header().Set("Content-Type", "application/x-ndjson")
		http.SetCookie(w, &http.Cookie{Name: "a", Value: "1"})
		w.WriteHeader(http.StatusAccepted)
		_, _ = io.WriteString(w, `{"line":1}`+"\n")
		if err := http.NewResponseController(w).Flush(); err != nil {
			t.Errorf("flush: %v", err)
		}
		select {
		case <-readLine1:
		case <-r.Context().Done():
			t.Error("the client never read line 1 before the handler's deadline")
			return
		}
		_, _ = io.WriteString(w, `{"line":2}`+"\n")
	})
	api := runtimeFor(t, h, LambdaOptions{}, testTimeout)
	_, status, header, br := invokeURL(t, api, lambdalocal.Request{Target: "/v1/items/export"})
	if status != http.StatusAccepted || header.Get("Content-Type") != "application/x-ndjson" || header.Get("Set-Cookie") != "a=1" {
		t.Errorf("prelude: %d %v", status, header)
	}
	line, err := br.ReadString('\n')
	if err != nil || line != `{"line":1}`+"\n" {
		t.Fatalf("line 1: %q, %v", line, err)
	}
	select {
	case <-handlerDone:
		t.Fatal("the handler had ended before line 1 was read: nothing proves streaming")
	default:
	}
	close(readLine1)
	rest, err := io.ReadAll(br)
	if err != nil || string(rest) != `{"line":2}`+"\n" {
		t.Fatalf("rest: %q, %v", rest, err)
	}
}

// TestStreamRequestSide: the request a streamed handler sees is the
// buffered path's: path, requestinfo, the request id, the deadline less
// the margin.
func TestStreamRequestSide(t *testing.T) {
	var got seen
	api := runtimeFor(t, echo(&got), LambdaOptions{DeadlineMargin: 2 * time.Second}, testTimeout)
	start := time.Now()
	_, status, header, br := invokeURL(t, api, lambdalocal.Request{Method: "PUT", Target: "/v1/items/x?tag=a&tag=b",
		Header: http.Header{"X-Answer-Type": {"text/plain"}}, Body: []byte("héllo"), Cookies: []string{"s=1"}})
	body, err := io.ReadAll(br)
	if err != nil {
		t.Fatal(err)
	}
	if status != http.StatusTeapot || header.Get("X-Multi") != "one,two" || string(body) != "\x89PNG\x00\xffbinary" {
		t.Errorf("answer %d %v %q", status, header, body)
	}
	if got.Method != "PUT" || got.Path != "/v1/items/x" || got.Body != "héllo" || strings.Join(got.Query["tag"], ",") != "a,b" ||
		strings.Join(got.Cookies, ";") != "s=1" {
		t.Errorf("request %+v", got)
	}
	if got.Info.Source != "url" || !got.Info.OnLambda || got.Info.LambdaRequestID == "" || got.Info.SourceIP == "" {
		t.Errorf("request info %+v", got.Info)
	}
	if got.Header.Get(middleware.RequestIDHeader) == "" {
		t.Error("no request id")
	}
	// The stand-in's deadline is start+timeout; the handler's is 2s sooner.
	if d := start.Add(testTimeout).Sub(got.Deadline); d < 2*time.Second-50*time.Millisecond || d > 2*time.Second+testTimeout/2 {
		t.Errorf("handler deadline %v is %v before the invocation's", got.Deadline, d)
	}
}

// TestStreamErrorTrailer: a handler that fails after its first byte (as
// under net/http, by panicking with http.ErrAbortHandler) ends the stream
// with the runtime's error trailer; a panic before the first byte is a
// 500 problem.
func TestStreamErrorTrailer(t *testing.T) {
	var logs logsink.Buffer
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/early" {
			panic("boom: secret detail")
		}
		_, _ = io.WriteString(w, "line 1\n")
		w.(http.Flusher).Flush()
		_, _ = io.WriteString(w, "half a li")
		panic(http.ErrAbortHandler)
	})
	api := runtimeFor(t, h, LambdaOptions{Logger: slog.New(slog.NewJSONHandler(&logs, nil))}, testTimeout)
	_, status, _, br := invokeURL(t, api, lambdalocal.Request{Target: "/late"})
	body, err := io.ReadAll(br)
	var fe *lambdalocal.FunctionError
	if status != http.StatusOK || !errors.As(err, &fe) || fe.Type != ErrorTypeStreamAborted || fe.Message == "" {
		t.Fatalf("late failure: status %d, body %q, end %v", status, body, err)
	}
	if !strings.HasPrefix(string(body), "line 1\n") {
		t.Errorf("body before the failure: %q", body)
	}

	_, status, header, br := invokeURL(t, api, lambdalocal.Request{Target: "/early"})
	body, err = io.ReadAll(br)
	if err != nil || status != http.StatusInternalServerError || header.Get("Content-Type") != "application/problem+json" ||
		strings.Contains(string(body), "secret") {
		t.Errorf("early failure: %d %v %q %v", status, header, body, err)
	}
	if !strings.Contains(logs.String(), "boom: secret detail") {
		t.Errorf("the cause is not in the log: %s", logs.String())
	}
}

// TestStreamLimit: past the limit the body ends after the last write
// that fit, the handler's context ends, the runtime hears why and the
// log says so.
func TestStreamLimit(t *testing.T) {
	var logs logsink.Buffer
	handlerErr := make(chan error, 1)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for i := 0; ; i++ {
			if _, err := io.WriteString(w, "0123456789\n"); err != nil {
				handlerErr <- r.Context().Err()
				return
			}
			w.(http.Flusher).Flush()
		}
	})
	api := runtimeFor(t, h, LambdaOptions{MaxStreamBytes: 50, Logger: slog.New(slog.NewJSONHandler(&logs, nil))}, testTimeout)
	_, _, _, br := invokeURL(t, api, lambdalocal.Request{Target: "/big"})
	body, err := io.ReadAll(br)
	var fe *lambdalocal.FunctionError
	if !errors.As(err, &fe) || fe.Type != ErrorTypeResponseTooLarge {
		t.Fatalf("end of a too-large stream: %v", err)
	}
	if string(body) != strings.Repeat("0123456789\n", 4) {
		t.Errorf("body %q: want the four whole lines that fit in 50 bytes", body)
	}
	if err := <-handlerErr; !errors.Is(err, context.Canceled) {
		t.Errorf("handler context after the limit: %v", err)
	}
	if l := logs.String(); !strings.Contains(l, "streamed response reached the limit") || !strings.Contains(l, `"limit_bytes":50`) {
		t.Errorf("log: %s", l)
	}
}

// TestStreamDeadline: the invocation's deadline (less the margin) and the
// stream's maximum duration end the handler's context; a stream cut that
// way ends with the error trailer and a log line.
func TestStreamDeadline(t *testing.T) {
	for _, c := range []struct {
		name    string
		opts    LambdaOptions
		timeout time.Duration
		cause   string
	}{
		// The handler must start before its context ends (else it answers
		// whole, late): seconds of room for a loaded machine.
		{"deadline", LambdaOptions{DeadlineMargin: time.Second}, 3 * time.Second, "the invocation's deadline"},
		{"max duration", LambdaOptions{StreamMaxDuration: 2 * time.Second, DeadlineMargin: 100 * time.Millisecond}, testTimeout, "the stream's maximum duration"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var logs logsink.Buffer
			c.opts.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
			stopped := make(chan error, 1)
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.WriteString(w, "started\n")
				w.(http.Flusher).Flush()
				<-r.Context().Done() // a handler that would go on forever
				stopped <- r.Context().Err()
			})
			api := runtimeFor(t, h, c.opts, c.timeout)
			_, _, _, br := invokeURL(t, api, lambdalocal.Request{Target: "/slow"})
			body, err := io.ReadAll(br)
			var fe *lambdalocal.FunctionError
			if string(body) != "started\n" || !errors.As(err, &fe) || fe.Type != ErrorTypeStreamTimeout {
				t.Fatalf("body %q, end %v", body, err)
			}
			if err := <-stopped; !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("handler context: %v", err)
			}
			if !strings.Contains(logs.String(), "streamed response stopped at "+c.cause) {
				t.Errorf("log: %s", logs.String())
			}
		})
	}
	// A handler that has not started when its context ends answers as on
	// the buffered path (504), and that is a whole answer, not a cut one.
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
		w.WriteHeader(http.StatusGatewayTimeout)
	})
	api := runtimeFor(t, h, LambdaOptions{StreamMaxDuration: 300 * time.Millisecond, DeadlineMargin: 100 * time.Millisecond}, testTimeout)
	_, status, _, br := invokeURL(t, api, lambdalocal.Request{Target: "/slow"})
	if _, err := io.ReadAll(br); err != nil || status != http.StatusGatewayTimeout {
		t.Errorf("late start: %d, %v", status, err)
	}
}

// TestStreamBadEvent: a Function URL event whose body is not the base64 it
// claims is a 400 problem, sent before any stream starts; the handler
// never runs.
func TestStreamBadEvent(t *testing.T) {
	called := false
	api := runtimeFor(t, http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called = true }), LambdaOptions{}, testTimeout)
	ev := build(t, lambdalocal.Request{Source: "url", Method: "POST", Target: "/v1/items", Body: []byte{0xff, 0xfe}, Binary: true})
	var m map[string]any
	if err := json.Unmarshal(ev, &m); err != nil {
		t.Fatal(err)
	}
	m["body"], m["isBase64Encoded"] = "%%% not base64", true
	ev, _ = json.Marshal(m)
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	ans, err := api.Invoke(ctx, ev)
	if err != nil || ans.Err != nil || !ans.Streamed {
		t.Fatalf("invoke: %v %+v", err, ans)
	}
	defer ans.Body.Close()
	br := bufio.NewReader(ans.Body)
	status, header, err := lambdalocal.ReadPrelude(br)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(br)
	var p middleware.Problem
	if err != nil || status != http.StatusBadRequest || header.Get("Content-Type") != "application/problem+json" ||
		json.Unmarshal(body, &p) != nil || p.Status != 400 || header.Get(middleware.RequestIDHeader) == "" {
		t.Errorf("bad event: %d %v %q %v", status, header, body, err)
	}
	if called {
		t.Error("the handler ran for an unreadable event")
	}
}

// TestStreamModeBuffersOtherFrontDoors: a streaming function answers
// every event that is not a Function URL's exactly as Invoke does, in a
// buffered answer (no response-mode header), and an unsupported event as
// an error.
func TestStreamModeBuffersOtherFrontDoors(t *testing.T) {
	var got seen
	api := runtimeFor(t, echo(&got), LambdaOptions{}, testTimeout)
	direct := NewLambdaHandler(echo(&got), quiet())
	for _, r := range []lambdalocal.Request{{Source: "rest"}, {Source: "http"}, {Source: "alb"}, {Source: "alb", MultiValue: true}} {
		r.Method, r.Target = "GET", "/v1/items"
		ans, _, _, br := invokeURL(t, api, r)
		if ans.Streamed {
			t.Errorf("%s: streamed", r.Source)
			continue
		}
		b, _ := io.ReadAll(br)
		o, want := decodeOut(t, b), run(t, direct, build(t, r))
		if o.StatusCode != want.StatusCode || o.Body != want.Body || len(o.Headers) != len(want.Headers) || len(o.MultiValueHeaders) != len(want.MultiValueHeaders) {
			t.Errorf("%s: %+v, want %+v", r.Source, o, want)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	ans, err := api.Invoke(ctx, []byte(`{"Records":[]}`))
	if err != nil || ans.Err == nil || ans.Err.Type != "UnsupportedEventError" {
		t.Errorf("unsupported event: %v %+v", err, ans)
	}
}

func decodeOut(t *testing.T, b []byte) out {
	t.Helper()
	var o out
	if err := json.Unmarshal(b, &o); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	return o
}

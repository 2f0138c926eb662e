package lambdatest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/typedapi/typedapi/internal/lambdalocal"
	"github.com/typedapi/typedapi/internal/logsink"
)

// TestStreamingBootstrap: the deployed bootstrap with TYPEDAPI_LAMBDA_STREAM
// set, against the Runtime API stand-in (the pinned emulator reads a
// streamed body whole before it answers, and does not check the protocol):
// a Function URL event is answered on the streaming path, posted as AWS
// documents it, and every other front door's event keeps its buffered
// answer from the same process.
func TestStreamingBootstrap(t *testing.T) {
	bin := built(t, "./cmd/api")
	api := lambdalocal.NewRuntimeAPI(30 * time.Second)
	srv := httptest.NewServer(api)
	// Cleanups run last-in first-out: the bootstrap is killed below before
	// the server closes, since Close waits for the bootstrap's long-polled
	// "next" request, which only ends when the bootstrap does.
	t.Cleanup(srv.Close)

	var out logsink.Buffer
	cmd := exec.Command(bin)
	cmd.Env = append(HostEnv(), "AWS_LAMBDA_RUNTIME_API="+strings.TrimPrefix(srv.URL, "http://"),
		"TYPEDAPI_LAMBDA_STREAM=true", "TYPEDAPI_AUTH_MODE=off")
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("bootstrap output:\n%s", out.String())
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	invoke := func(r lambdalocal.Request) *lambdalocal.Answer {
		t.Helper()
		ev, err := lambdalocal.Build(r)
		if err != nil {
			t.Fatal(err)
		}
		ans, err := api.Invoke(ctx, ev)
		if err != nil || ans.Err != nil {
			t.Fatalf("%s %s: %v %+v", r.Source, r.Target, err, ans)
		}
		t.Cleanup(func() { _ = ans.Body.Close() })
		return ans
	}

	post := invoke(lambdalocal.Request{Source: "url", Method: "POST", Target: "/v1/items",
		Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(`{"name":"Streamed","price":1,"currency":"EUR"}`)})
	if !post.Streamed {
		t.Fatal("a Function URL answer was not streamed")
	}
	_, _ = io.Copy(io.Discard, post.Body)

	ans := invoke(lambdalocal.Request{Source: "url", Method: "GET", Target: "/v1/items"})
	br := bufio.NewReader(ans.Body)
	status, header, err := lambdalocal.ReadPrelude(br)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(br)
	if err != nil || status != 200 || header.Get("X-Request-Id") == "" || !bytes.Contains(body, []byte(`"name":"Streamed"`)) {
		t.Errorf("streamed list: %d %v %q %v", status, header, body, err)
	}
	if !strings.Contains(out.String(), `"aws_request_id"`) {
		t.Errorf("no access line with the Lambda request id:\n%s", out.String())
	}

	for _, source := range []string{"rest", "http", "alb"} {
		ans := invoke(lambdalocal.Request{Source: source, Method: "GET", Target: "/v1/items"})
		b, _ := io.ReadAll(ans.Body)
		var resp struct {
			StatusCode int `json:"statusCode"`
		}
		if ans.Streamed || json.Unmarshal(b, &resp) != nil || resp.StatusCode != 200 {
			t.Errorf("%s: streamed %v, answer %.200s", source, ans.Streamed, b)
		}
	}
}

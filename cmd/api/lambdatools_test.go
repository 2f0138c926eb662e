package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func runCmd(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := run(context.Background(), args, func(k string) string {
		return map[string]string{"TYPEDAPI_LOG_LEVEL": "error"}[k]
	}, strings.NewReader(stdin), &out, io.Discard)
	return out.String(), err
}

// TestEventThenInvoke: `api event` makes an event of each kind that
// `api invoke` answers through the Lambda handler.
func TestEventThenInvoke(t *testing.T) {
	body := filepath.Join(t.TempDir(), "item.json")
	_ = os.WriteFile(body, []byte(`{"name":"From a file","price":3,"currency":"EUR"}`), 0o600)
	for _, source := range []string{"rest", "http", "alb", "url"} {
		ev, err := runCmd(t, "", "event", "POST", "/v1/items", "--source", source, "--header", "X-Request-Id=cli-1", "--body", "@"+body)
		if err != nil {
			t.Fatalf("%s event: %v", source, err)
		}
		if !json.Valid([]byte(ev)) {
			t.Fatalf("%s event is not JSON", source)
		}
		out, err := runCmd(t, ev, "invoke")
		if err != nil {
			t.Fatalf("%s invoke: %v", source, err)
		}
		var resp struct {
			StatusCode int    `json:"statusCode"`
			Body       string `json:"body"`
		}
		if err := json.Unmarshal([]byte(out), &resp); err != nil || resp.StatusCode != 201 || !strings.Contains(resp.Body, "From a file") {
			t.Errorf("%s: %v %s", source, err, out)
		}
		decoded, err := runCmd(t, ev, "invoke", "--decode")
		if err != nil || !strings.HasPrefix(decoded, "201 Created\n") || !strings.Contains(decoded, "X-Request-Id: cli-1") || !strings.Contains(decoded, `"name":"From a file"`) {
			t.Errorf("%s --decode: %v\n%s", source, err, decoded)
		}
	}
	if _, err := runCmd(t, "{}", "invoke"); err == nil {
		t.Error("invoke accepted an event that is not an HTTP request")
	}
	if _, err := runCmd(t, "", "event", "GET"); err == nil {
		t.Error("event without a path accepted")
	}
	if _, err := runCmd(t, "", "event", "GET", "/x", "--source", "sqs"); err == nil {
		t.Error("unknown source accepted")
	}
	if _, err := runCmd(t, "", "event", "GET", "/x", "--header", "novalue"); err == nil {
		t.Error("malformed --header accepted")
	}
	// Only a Function URL streams: refused before anything listens.
	if _, err := runCmd(t, "", "gateway", "--source", "rest", "--stream", "--addr", "127.0.0.1:0"); err == nil || !strings.Contains(err.Error(), "--source url") {
		t.Errorf("gateway --stream behind a REST API: %v", err)
	}
}

// TestInvokeLogsLikeLambda: `api invoke` prints only the Lambda response on
// standard output (so it pipes into jq), and its access line, on standard
// error, carries an aws_request_id in AWS's form as it would on Lambda.
func TestInvokeLogsLikeLambda(t *testing.T) {
	ev, err := runCmd(t, "", "event", "GET", "/healthz", "--source", "http")
	if err != nil {
		t.Fatal(err)
	}
	var out, logs bytes.Buffer
	if err := run(context.Background(), []string{"invoke"}, func(string) string { return "" }, strings.NewReader(ev), &out, &logs); err != nil {
		t.Fatal(err)
	}
	if !json.Valid(out.Bytes()) {
		t.Errorf("standard output is not just the response: %s", out.String())
	}
	var line struct {
		Msg          string `json:"msg"`
		AWSRequestID string `json:"aws_request_id"`
	}
	found := false
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		line.Msg, line.AWSRequestID = "", ""
		if json.Unmarshal([]byte(l), &line) == nil && line.Msg == "request" {
			found = true
			break
		}
	}
	if !found {
		t.Fatalf("no access line on standard error:\n%s", logs.String())
	}
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(line.AWSRequestID) {
		t.Errorf("access line aws_request_id %q; logs:\n%s", line.AWSRequestID, logs.String())
	}
}

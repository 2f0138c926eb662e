package lambdalocal

import (
	"bufio"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// WithDefaults is what Gateway serves and what `api gateway` logs.
func TestWithDefaults(t *testing.T) {
	for _, c := range []struct {
		in        GatewayOptions
		wantStage string
	}{
		{GatewayOptions{Source: "rest"}, "prod"},
		{GatewayOptions{Source: "rest", Stage: "beta"}, "beta"},
		{GatewayOptions{Source: "rest", BasePath: "/shop"}, ""},
		{GatewayOptions{Source: "http"}, ""},
	} {
		got := c.in.WithDefaults()
		if got.Stage != c.wantStage || got.MaxBody != 10<<20 || got.Logger == nil {
			t.Errorf("%+v: stage %q, max body %d, logger %v", c.in, got.Stage, got.MaxBody, got.Logger)
		}
	}
}

// TestStreamingGateway: the gateway writes a streamed body to the client
// as it arrives — the function holds its second line until the client has
// read the first — and cuts the connection when the stream ends with the
// error trailers, so the client cannot take the body for complete.
func TestStreamingGateway(t *testing.T) {
	api := NewRuntimeAPI(time.Minute)
	runtime := httptest.NewServer(api)
	defer runtime.Close()
	gw := httptest.NewServer(StreamingGateway(api, GatewayOptions{Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))}))
	defer gw.Close()

	readLine1 := make(chan struct{})
	function := make(chan error, 1)
	go func() {
		// A function speaking the protocol by hand.
		id, payload := nextInvocation(t, runtime.URL)
		if !strings.Contains(payload, "/v1/items/export") {
			function <- errors.New("event: " + payload)
			return
		}
		pr, pw := io.Pipe()
		trailer := http.Header{TrailerErrorType: nil, TrailerErrorBody: nil}
		req, _ := http.NewRequest(http.MethodPost, runtime.URL+"/2018-06-01/runtime/invocation/"+id+"/response", &trailerOnClose{r: pr, trailer: trailer})
		req.Header.Set(HeaderResponseMode, "streaming")
		req.Trailer = trailer
		go func() {
			_, _ = io.WriteString(pw, `{"statusCode":200,"headers":{"Content-Type":"application/x-ndjson"}}`+"\x00\x00\x00\x00\x00\x00\x00\x00"+"line 1\n")
			<-readLine1
			_, _ = io.WriteString(pw, "line 2\n")
			_ = pw.Close()
		}()
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		function <- err
	}()

	resp, err := http.Get(gw.URL + "/v1/items/export")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/x-ndjson" {
		t.Errorf("%s %v", resp.Status, resp.Header)
	}
	br := bufio.NewReader(resp.Body)
	if line, err := br.ReadString('\n'); err != nil || line != "line 1\n" {
		t.Fatalf("line 1: %q %v", line, err)
	}
	close(readLine1)
	rest, err := io.ReadAll(br)
	if err == nil {
		t.Errorf("a stream cut by the function ended like a whole one (rest %q)", rest)
	}
	if err := <-function; err != nil {
		t.Error(err)
	}
}

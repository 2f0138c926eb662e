package lambdalocal

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// nextInvocation is a runtime's GET /next.
func nextInvocation(t *testing.T, base string) (id string, payload string) {
	t.Helper()
	resp, err := http.Get(base + "/2018-06-01/runtime/invocation/next")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || resp.Header.Get("Lambda-Runtime-Deadline-Ms") == "" || resp.Header.Get("Lambda-Runtime-Trace-Id") == "" {
		t.Fatalf("next: %s %v", resp.Status, resp.Header)
	}
	return resp.Header.Get("Lambda-Runtime-Aws-Request-Id"), string(b)
}

// TestRuntimeAPIProtocol: the stand-in takes a streamed answer only as AWS
// documents it (response-mode header, chunked body), passes it on as it
// arrives, and turns the error trailers into the body's error.
func TestRuntimeAPIProtocol(t *testing.T) {
	api := NewRuntimeAPI(time.Minute)
	srv := httptest.NewServer(api)
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	type result struct {
		ans *Answer
		err error
	}
	invoke := func(payload string) chan result {
		ch := make(chan result, 1)
		go func() {
			ans, err := api.Invoke(ctx, []byte(payload))
			ch <- result{ans, err}
		}()
		return ch
	}
	post := func(id string, body io.Reader, header http.Header, trailer http.Header) *http.Response {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/2018-06-01/runtime/invocation/"+id+"/response", body)
		req.Header = header
		req.Trailer = trailer
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}

	// Buffered: no response-mode header.
	ch := invoke(`{"n":1}`)
	id, payload := nextInvocation(t, srv.URL)
	if payload != `{"n":1}` {
		t.Errorf("payload %q", payload)
	}
	if resp := post(id, strings.NewReader(`{"statusCode":200}`), http.Header{"Content-Type": {"application/json"}}, nil); resp.StatusCode != 202 {
		t.Errorf("buffered answer: %s", resp.Status)
	}
	r := <-ch
	if b, _ := io.ReadAll(r.ans.Body); r.err != nil || r.ans.Streamed || string(b) != `{"statusCode":200}` {
		t.Errorf("buffered: %+v %v %q", r.ans, r.err, b)
	}

	// The response-mode header on a body with a length is refused.
	ch = invoke(`{"n":2}`)
	id, _ = nextInvocation(t, srv.URL)
	if resp := post(id, strings.NewReader("x"), http.Header{HeaderResponseMode: {"streaming"}}, nil); resp.StatusCode != 400 {
		t.Errorf("streaming with a Content-Length: %s, want 400", resp.Status)
	}
	// An answer for an invocation that is not waiting is refused.
	if resp := post("nope", strings.NewReader("x"), http.Header{}, nil); resp.StatusCode != 400 {
		t.Errorf("unknown id: %s, want 400", resp.Status)
	}
	cancelSecond := ch // left waiting: its context ends with the test

	// Streamed, chunk by chunk, ending with the error trailers.
	ch = invoke(`{"n":3}`)
	id, _ = nextInvocation(t, srv.URL)
	pr, pw := io.Pipe()
	posted := make(chan *http.Response, 1)
	go func() {
		trailer := http.Header{TrailerErrorType: nil, TrailerErrorBody: nil}
		body := &trailerOnClose{r: pr, trailer: trailer}
		posted <- post(id, body, http.Header{HeaderResponseMode: {"streaming"}}, trailer)
	}()
	_, _ = io.WriteString(pw, "first\n")
	r = <-ch
	if r.err != nil || !r.ans.Streamed {
		t.Fatalf("streamed: %+v %v", r.ans, r.err)
	}
	br := bufio.NewReader(r.ans.Body)
	if line, err := br.ReadString('\n'); err != nil || line != "first\n" {
		t.Fatalf("first chunk before the end: %q %v", line, err)
	}
	_, _ = io.WriteString(pw, "second")
	_ = pw.Close()
	rest, err := io.ReadAll(br)
	var fe *FunctionError
	if string(rest) != "second" || !errors.As(err, &fe) || fe.Type != "Function.Test" || fe.Message != "cut" {
		t.Errorf("rest %q, end %v", rest, err)
	}
	if resp := <-posted; resp.StatusCode != 202 {
		t.Errorf("streamed answer: %s", resp.Status)
	}
	cancel()
	<-cancelSecond
}

// trailerOnClose sets the error trailers when its body ends.
type trailerOnClose struct {
	r       io.Reader
	trailer http.Header
}

func (t *trailerOnClose) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if errors.Is(err, io.EOF) {
		t.trailer.Set(TrailerErrorType, "Function.Test")
		t.trailer.Set(TrailerErrorBody, base64.StdEncoding.EncodeToString([]byte(`{"errorMessage":"cut","errorType":"Function.Test"}`)))
	}
	return n, err
}

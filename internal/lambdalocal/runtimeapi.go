package lambdalocal

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// RuntimeAPI stands in for the Lambda Runtime API a function's bootstrap
// talks to (AWS_LAMBDA_RUNTIME_API), including response streaming, which
// the pinned Runtime Interface Emulator does not pass on as it arrives.
// It follows AWS's documentation of the protocol:
//
//   - GET  /2018-06-01/runtime/invocation/next hands out the next event
//     with its request id, deadline, function ARN and trace id headers;
//   - POST /2018-06-01/runtime/invocation/{id}/response takes the answer:
//     buffered (at most 6 MB), or streamed when the runtime sends
//     Lambda-Runtime-Function-Response-Mode: streaming with a chunked body
//     (anything else with that header is refused with 400), which is handed
//     to the caller chunk by chunk; the trailers
//     Lambda-Runtime-Function-Error-Type and -Error-Body (base64) report
//     an error after the first byte;
//   - POST /2018-06-01/runtime/invocation/{id}/error takes a failure.
//
// https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html
// https://docs.aws.amazon.com/lambda/latest/dg/runtimes-custom.html#runtimes-custom-response-streaming
type RuntimeAPI struct {
	timeout time.Duration
	queue   chan *pending
	mu      sync.Mutex
	waiting map[string]*pending
}

// Runtime API protocol names.
const (
	HeaderResponseMode = "Lambda-Runtime-Function-Response-Mode"
	TrailerErrorType   = "Lambda-Runtime-Function-Error-Type"
	TrailerErrorBody   = "Lambda-Runtime-Function-Error-Body"
	runtimePrefix      = "/2018-06-01/runtime/"
	maxBufferedAnswer  = 6 * 1024 * 1024
)

type pending struct {
	id       string
	payload  []byte
	deadline time.Time
	answer   chan *Answer // one answer, buffered
}

// Answer is what the function sent for one invocation.
type Answer struct {
	Streamed    bool   // sent with the streaming response mode
	ContentType string // as the runtime sent it
	// Body is the answer's bytes as they arrive. A streamed body that the
	// runtime ended with the error trailers ends with a *FunctionError.
	Body io.ReadCloser
	// Err is the function's failure, posted to /error (Body is then nil).
	Err *FunctionError
}

// FunctionError is a failure the runtime reported.
type FunctionError struct {
	Type    string `json:"errorType"`
	Message string `json:"errorMessage"`
}

func (e *FunctionError) Error() string { return e.Type + ": " + e.Message }

// NewRuntimeAPI returns a Runtime API whose invocations have the function
// timeout timeout.
func NewRuntimeAPI(timeout time.Duration) *RuntimeAPI {
	return &RuntimeAPI{timeout: timeout, queue: make(chan *pending), waiting: map[string]*pending{}}
}

// Invoke queues payload for the function and returns its answer as soon
// as the answer begins; a streamed Body then fills as the function writes.
// It fails when ctx ends or the function timeout passes first.
func (a *RuntimeAPI) Invoke(ctx context.Context, payload []byte) (*Answer, error) {
	p := &pending{id: newID(), payload: payload, deadline: time.Now().Add(a.timeout), answer: make(chan *Answer, 1)}
	a.mu.Lock()
	a.waiting[p.id] = p
	a.mu.Unlock()
	timer := time.NewTimer(time.Until(p.deadline))
	defer timer.Stop()
	var err error
	select {
	case a.queue <- p:
		select {
		case ans := <-p.answer:
			return ans, nil
		case <-ctx.Done():
			err = ctx.Err()
		case <-timer.C:
			err = fmt.Errorf("task timed out after %s", a.timeout)
		}
	case <-ctx.Done():
		err = ctx.Err()
	case <-timer.C:
		err = errors.New("no function asked for the invocation before its timeout")
	}
	// Nobody waits for the answer any more: a function still working on it
	// may post it (as on Lambda), and a streamed one is drained.
	go func() {
		select {
		case ans := <-p.answer:
			if ans.Body != nil {
				_ = ans.Body.Close()
			}
		case <-time.After(time.Until(p.deadline) + time.Minute):
		}
		a.mu.Lock()
		delete(a.waiting, p.id)
		a.mu.Unlock()
	}()
	return nil, err
}

// ServeHTTP is the Runtime API.
func (a *RuntimeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path, ok := strings.CutPrefix(r.URL.Path, runtimePrefix)
	switch {
	case !ok:
		http.NotFound(w, r)
	case path == "invocation/next" && r.Method == http.MethodGet:
		a.next(w, r)
	case path == "init/error" && r.Method == http.MethodPost:
		w.WriteHeader(http.StatusAccepted)
	case strings.HasPrefix(path, "invocation/") && r.Method == http.MethodPost:
		id, what, _ := strings.Cut(strings.TrimPrefix(path, "invocation/"), "/")
		a.mu.Lock()
		p := a.waiting[id]
		delete(a.waiting, id) // one answer per invocation
		a.mu.Unlock()
		if p == nil {
			apiError(w, http.StatusBadRequest, "InvalidRequestID", "no invocation "+id+" is waiting for an answer")
			return
		}
		switch what {
		case "response":
			a.response(w, r, p)
		case "error":
			a.failure(w, r, p)
		default:
			apiError(w, http.StatusNotFound, "NotFound", r.URL.Path)
		}
	default:
		apiError(w, http.StatusNotFound, "NotFound", r.URL.Path)
	}
}

func (a *RuntimeAPI) next(w http.ResponseWriter, r *http.Request) {
	select {
	case p := <-a.queue:
		h := w.Header()
		h.Set("Lambda-Runtime-Aws-Request-Id", p.id)
		h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(p.deadline.UnixMilli(), 10))
		h.Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:000000000000:function:typedapi")
		h.Set("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000;Sampled=0")
		h.Set("Content-Type", "application/json")
		_, _ = w.Write(p.payload)
	case <-r.Context().Done():
	}
}

func (a *RuntimeAPI) response(w http.ResponseWriter, r *http.Request, p *pending) {
	mode := r.Header.Get(HeaderResponseMode)
	switch {
	case mode == "":
		b, err := io.ReadAll(io.LimitReader(r.Body, maxBufferedAnswer+1))
		if err != nil {
			apiError(w, http.StatusBadRequest, "InvalidResponse", err.Error())
			return
		}
		if len(b) > maxBufferedAnswer {
			p.answer <- &Answer{Err: &FunctionError{Type: "Function.ResponseSizeTooLarge", Message: "Response payload size exceeded maximum allowed payload size (6291556 bytes)."}}
			apiError(w, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "the response is larger than 6 MB")
			return
		}
		p.answer <- &Answer{ContentType: r.Header.Get("Content-Type"), Body: io.NopCloser(bytes.NewReader(b))}
		w.WriteHeader(http.StatusAccepted)
	case mode != "streaming" || len(r.TransferEncoding) == 0 || r.TransferEncoding[0] != "chunked":
		apiError(w, http.StatusBadRequest, "InvalidResponseMode",
			"a streamed response needs "+HeaderResponseMode+": streaming and Transfer-Encoding: chunked")
	default:
		pr, pw := io.Pipe()
		p.answer <- &Answer{Streamed: true, ContentType: r.Header.Get("Content-Type"), Body: pr}
		// Each chunk is passed on as it is read; a caller that stops
		// reading does not stop the function, whose body is drained.
		buf := make([]byte, 32<<10)
		var sink io.Writer = pw
		for {
			n, err := r.Body.Read(buf)
			if n > 0 {
				if _, werr := sink.Write(buf[:n]); werr != nil {
					sink = io.Discard
				}
			}
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				pw.CloseWithError(&FunctionError{Type: "Runtime.TruncatedResponse", Message: err.Error()})
				return
			}
		}
		if typ := r.Trailer.Get(TrailerErrorType); typ != "" {
			fe := &FunctionError{Type: typ}
			if b, err := base64.StdEncoding.DecodeString(r.Trailer.Get(TrailerErrorBody)); err == nil {
				_ = json.Unmarshal(b, fe)
			}
			fe.Type = typ
			pw.CloseWithError(fe)
		} else {
			_ = pw.Close()
		}
		w.WriteHeader(http.StatusAccepted)
	}
}

func (a *RuntimeAPI) failure(w http.ResponseWriter, r *http.Request, p *pending) {
	fe := &FunctionError{}
	b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	_ = json.Unmarshal(b, fe)
	if t := r.Header.Get("Lambda-Runtime-Function-Error-Type"); t != "" {
		fe.Type = t
	}
	p.answer <- &Answer{Err: fe}
	w.WriteHeader(http.StatusAccepted)
}

func apiError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(FunctionError{Type: typ, Message: msg})
}

// ReadPrelude reads the start of a Function URL's streamed answer (the
// "HTTP integration response"): a JSON object with the status code,
// headers and cookies, then eight NUL bytes. The body follows in br.
func ReadPrelude(br *bufio.Reader) (status int, header http.Header, err error) {
	var prelude []byte
	for {
		b, err := br.ReadBytes(0)
		prelude = append(prelude, b...)
		if err != nil {
			return 0, nil, fmt.Errorf("streamed answer without its prelude: %w", err)
		}
		if len(prelude) > 64<<10 {
			return 0, nil, errors.New("streamed answer: prelude longer than 64 KiB")
		}
		rest, err := br.Peek(7)
		if err == nil && bytes.Equal(rest, make([]byte, 7)) {
			_, _ = br.Discard(7)
			prelude = prelude[:len(prelude)-1]
			break
		}
	}
	var p struct {
		StatusCode int               `json:"statusCode"`
		Headers    map[string]string `json:"headers"`
		Cookies    []string          `json:"cookies"`
	}
	if err := json.Unmarshal(prelude, &p); err != nil {
		return 0, nil, fmt.Errorf("streamed answer: prelude is not JSON: %w", err)
	}
	if p.StatusCode == 0 {
		p.StatusCode = http.StatusOK
	}
	if p.StatusCode < 100 || p.StatusCode > 599 {
		return 0, nil, fmt.Errorf("streamed answer: status code %d", p.StatusCode)
	}
	header = http.Header{}
	for k, v := range p.Headers {
		header.Set(k, v)
	}
	for _, c := range p.Cookies {
		header.Add("Set-Cookie", c)
	}
	return p.StatusCode, header, nil
}

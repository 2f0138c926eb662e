package serve

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/typedapi/typedapi/internal/middleware"
)

// The streaming path: a Function URL whose invoke mode is RESPONSE_STREAM
// takes the response as Lambda's "HTTP integration response" stream — a
// JSON prelude with the status, headers and cookies, eight NUL bytes, then
// the body as it is written — so the client gets bytes before the handler
// ends and the body is not held to the 6 MB of a buffered answer.

// Defaults of the streaming options.
const (
	// maxStreamedResponse is what Lambda lets a streamed response carry
	// by default ("200 MB" in its quotas, read as 10^6 bytes each so the
	// service stops first whichever way AWS counts).
	maxStreamedResponse = 200 * 1000 * 1000
	// maxStreamDuration is Lambda's longest function timeout: by default
	// only the invocation's own deadline stops a stream.
	maxStreamDuration = 15 * time.Minute
	// streamBuffer is how much the handler writes before it reaches the
	// client unflushed: as net/http's server, a Flush sends it sooner.
	streamBuffer = 4096
)

// Error types the streaming path reports in the runtime's error trailer
// when a response cannot be finished after its first byte.
const (
	ErrorTypeResponseTooLarge = "Function.ResponseSizeTooLarge"
	ErrorTypeStreamTimeout    = "Function.StreamTimeout"
	ErrorTypeStreamAborted    = "Function.StreamAborted"
)

// StreamError is a streamed response that ended before its handler
// finished it: the runtime API hears of it through the error trailer, so
// the front door does not pass the cut body off as complete.
type StreamError struct {
	Type    string // one of the ErrorType constants
	Message string // for the function's log and metrics; never the cause's text
}

func (e *StreamError) Error() string { return e.Type + ": " + e.Message }

var errStreamStopped = errors.New("the streamed response was stopped")

// streamWriter is the http.ResponseWriter of a streamed response. The
// handler runs on the invocation's goroutine, so only Flush's callers and
// the limit need care; the mutex keeps a handler that writes from several
// goroutines (an SSE keep-alive) safe.
type streamWriter struct {
	mu        sync.Mutex
	header    http.Header
	status    int
	committed bool
	lateStart bool // committed after the handler's context had ended (a 504 answer)
	bw        *bufio.Writer
	written   int64 // body bytes accepted
	limit     int64
	tooLarge  bool
	err       error // the first write to the runtime that failed
	hctx      context.Context
	stop      context.CancelFunc // ends the handler's context
	hardEnd   time.Time          // past it nothing can reach the client
}

func newStreamWriter(out io.Writer, limit int64, hctx context.Context, stop context.CancelFunc, hardEnd time.Time) *streamWriter {
	return &streamWriter{header: make(http.Header, 16), bw: bufio.NewWriterSize(out, streamBuffer), limit: limit,
		hctx: hctx, stop: stop, hardEnd: hardEnd}
}

func (s *streamWriter) Header() http.Header { return s.header }

func (s *streamWriter) WriteHeader(code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.committed && code >= 200 {
		s.status = code
		s.commit()
	}
}

func (s *streamWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.committed {
		s.commit()
	}
	switch {
	case s.err != nil:
		return 0, s.err
	case s.tooLarge || time.Now().After(s.hardEnd):
		return 0, errStreamStopped
	case s.written+int64(len(p)) > s.limit:
		// Refused whole, so the body ends at a write the handler made
		// (an NDJSON line, an SSE event), never inside one.
		s.tooLarge = true
		s.stop()
		return 0, errStreamStopped
	}
	n, err := s.bw.Write(p)
	s.written += int64(n)
	if err != nil {
		s.err = err
	}
	return n, err
}

// Flush sends what the handler wrote so far (http.Flusher).
func (s *streamWriter) Flush() { _ = s.FlushError() }

// FlushError is Flush for http.ResponseController, with its error.
func (s *streamWriter) FlushError() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.committed {
		s.commit()
	}
	if s.err != nil {
		return s.err
	}
	if err := s.bw.Flush(); err != nil {
		s.err = err
	}
	return s.err
}

// commit writes the prelude: from here on the status and headers are sent.
func (s *streamWriter) commit() {
	s.committed = true
	s.lateStart = s.hctx.Err() != nil
	if s.status == 0 {
		s.status = http.StatusOK
	}
	prelude := struct {
		StatusCode int               `json:"statusCode"`
		Headers    map[string]string `json:"headers,omitempty"`
		Cookies    []string          `json:"cookies,omitempty"`
	}{StatusCode: s.status, Cookies: s.header["Set-Cookie"]}
	for k, vs := range s.header {
		if k == "Set-Cookie" || len(vs) == 0 {
			continue
		}
		if prelude.Headers == nil {
			prelude.Headers = make(map[string]string, len(s.header))
		}
		prelude.Headers[k] = strings.Join(vs, ",")
	}
	b, err := json.Marshal(prelude)
	if err != nil { // a map of strings always marshals
		s.err = err
		return
	}
	_, _ = s.bw.Write(b)
	if _, err := s.bw.Write(make([]byte, 8)); err != nil {
		s.err = err
	}
}

// finish commits a response that wrote nothing and sends what is buffered.
func (s *streamWriter) finish() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.committed {
		s.commit()
	}
	if s.err == nil {
		s.err = s.bw.Flush()
	}
	return s.err
}

// invokeStream answers one Function URL event on the streaming path,
// writing the whole integration response (prelude, NULs, body) to out as
// the handler flushes. It returns once the handler has returned; a non-nil
// *StreamError means the body was cut after its first byte.
//
// The request side is the buffered path's (algnhsa's decoding, base path,
// request id, requestinfo); the handler's context ends at the earlier of
// the invocation's deadline and the stream's maximum duration, less the
// deadline margin, so it can still answer 504 if it has not started.
func (l *LambdaHandler) invokeStream(ctx context.Context, payload []byte, out io.Writer) error {
	start := time.Now()
	hardEnd := start.Add(l.opts.StreamMaxDuration)
	cause := "the stream's maximum duration"
	if dl, ok := ctx.Deadline(); ok && dl.Before(hardEnd) {
		hardEnd, cause = dl, "the invocation's deadline"
	}
	hctx, cancel := context.WithDeadline(ctx, hardEnd.Add(-l.opts.DeadlineMargin))
	defer cancel()
	sw := newStreamWriter(out, l.opts.MaxStreamBytes, hctx, cancel, hardEnd)

	// algnhsa decodes a base64 body as the handler reads it, by when the
	// stream may have started: check it first, so a body that is not the
	// base64 it claims is a 400 before any stream starts.
	var panicked any
	invokeErr := base64Body(payload)
	if invokeErr == nil {
		panicked, invokeErr = l.runStream(context.WithValue(hctx, captureKey{}, sw), payload)
	}
	requestID := sw.header.Get(middleware.RequestIDHeader)
	log := func(msg string, args ...any) {
		l.opts.Logger.ErrorContext(ctx, msg, append(args, "aws_request_id", awsRequestID(ctx), "request_id", requestID)...)
	}
	var cut *StreamError
	switch {
	case panicked != nil && !sw.committed:
		// A handler that fails before its first byte gets the buffered
		// path's answer: a 500 problem that says nothing of the cause.
		if panicked != http.ErrAbortHandler { //nolint:errorlint // net/http's sentinel, compared as net/http does
			log("panic in handler", "panic", fmt.Sprint(panicked))
		}
		sw.writeProblem(http.StatusInternalServerError, requestID,
			"The server hit an unexpected condition; the request id identifies it in the logs.")
	case panicked != nil:
		if panicked != http.ErrAbortHandler { //nolint:errorlint // as above
			log("panic in handler", "panic", fmt.Sprint(panicked))
		}
		cut = &StreamError{Type: ErrorTypeStreamAborted, Message: "the handler failed after the response had started"}
	case invokeErr != nil && !sw.committed:
		// The event could not be read as a request (a body that is not
		// the base64 it claims): a 400 problem, before any stream starts.
		id := middleware.NewRequestID()
		l.opts.Logger.ErrorContext(ctx, "malformed Lambda event", "error", invokeErr.Error(), "request_id", id,
			"aws_request_id", awsRequestID(ctx), "event_prefix", eventPrefix(payload))
		sw.writeProblem(http.StatusBadRequest, id,
			"The request could not be read from the gateway's event; the request id identifies it in the logs.")
	case sw.tooLarge:
		log("streamed response reached the limit; ended it after the last write that fit",
			"response_bytes", sw.written, "limit_bytes", l.opts.MaxStreamBytes, "status", sw.status)
		cut = &StreamError{Type: ErrorTypeResponseTooLarge,
			Message: fmt.Sprintf("the streamed response reached the %d-byte limit", l.opts.MaxStreamBytes)}
	case sw.committed && !sw.lateStart && hctx.Err() != nil && !errors.Is(ctx.Err(), context.Canceled):
		log("streamed response stopped at "+cause, "response_bytes", sw.written, "status", sw.status,
			"duration_ms", time.Since(start).Milliseconds())
		cut = &StreamError{Type: ErrorTypeStreamTimeout, Message: "the response was stopped at " + cause}
	}
	if err := sw.finish(); err != nil && !errors.Is(err, errStreamStopped) {
		log("streamed response could not be sent to the runtime", "error", err.Error(), "response_bytes", sw.written)
		return &StreamError{Type: ErrorTypeStreamAborted, Message: "the runtime stopped reading the response"}
	}
	if cut != nil {
		return cut
	}
	return nil
}

// runStream serves the event through algnhsa into the streamWriter in ctx,
// returning algnhsa's error (an event it cannot read) and any panic.
func (l *LambdaHandler) runStream(ctx context.Context, payload []byte) (panicked any, err error) {
	defer func() { panicked = recover() }()
	_, err = l.byKind[kindV2].Invoke(ctx, payload)
	return nil, err
}

// writeProblem answers with a problem+json response; nothing has been
// sent yet.
func (s *streamWriter) writeProblem(status int, requestID, detail string) {
	clear(s.header)
	s.header.Set("Content-Type", "application/problem+json")
	s.header.Set("Cache-Control", "no-store")
	s.header.Set("X-Content-Type-Options", "nosniff")
	if requestID != "" {
		s.header.Set(middleware.RequestIDHeader, requestID)
	}
	b, _ := json.Marshal(middleware.Problem{Title: http.StatusText(status), Status: status, Detail: detail})
	s.WriteHeader(status)
	_, _ = s.Write(b)
}

// isFunctionURL tells a Function URL's payload v2 event from an HTTP API's
// (the same shape): its domain is the function's own lambda-url host.
func isFunctionURL(payload []byte) bool {
	var ev struct {
		RequestContext struct {
			DomainName   string `json:"domainName"`
			DomainPrefix string `json:"domainPrefix"`
		} `json:"requestContext"`
	}
	if json.Unmarshal(payload, &ev) != nil {
		return false
	}
	rc := ev.RequestContext
	return rc.DomainPrefix != "" && strings.Contains(rc.DomainName, ".lambda-url.")
}

// base64Body checks that an event's body marked base64-encoded is.
func base64Body(payload []byte) error {
	var ev struct {
		Body            string `json:"body"`
		IsBase64Encoded bool   `json:"isBase64Encoded"`
	}
	if err := json.Unmarshal(payload, &ev); err != nil {
		return err
	}
	if ev.IsBase64Encoded {
		_, err := base64.StdEncoding.DecodeString(ev.Body)
		return err
	}
	return nil
}

// streamErrorBody is the Lambda-Runtime-Function-Error-Body trailer: the
// error document the runtime API takes at /error, base64-encoded.
func streamErrorBody(e *StreamError) string {
	b, _ := json.Marshal(struct {
		Message string `json:"errorMessage"`
		Type    string `json:"errorType"`
	}{e.Message, e.Type})
	return base64.StdEncoding.EncodeToString(b)
}

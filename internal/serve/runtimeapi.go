package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

// The Runtime API client of a streaming function. aws-lambda-go's invoke
// loop posts an io.Reader answer chunked, but without the
// Lambda-Runtime-Function-Response-Mode header AWS documents for a
// streamed response, and it cannot mix a streamed answer for a Function
// URL with a buffered one for any other front door. This loop does both
// and keeps what the service reads of aws-lambda-go's: the Lambda context
// (request id, function ARN), the deadline and the X-Ray trace id.
//
// https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html
// https://docs.aws.amazon.com/lambda/latest/dg/runtimes-custom.html#runtimes-custom-response-streaming

// Runtime API names.
const (
	runtimeAPIVersion        = "2018-06-01"
	headerRequestID          = "Lambda-Runtime-Aws-Request-Id"
	headerDeadlineMs         = "Lambda-Runtime-Deadline-Ms"
	headerFunctionARN        = "Lambda-Runtime-Invoked-Function-Arn"
	headerTraceID            = "Lambda-Runtime-Trace-Id"
	headerResponseMode       = "Lambda-Runtime-Function-Response-Mode"
	headerErrorType          = "Lambda-Runtime-Function-Error-Type"
	trailerErrorType         = "Lambda-Runtime-Function-Error-Type"
	trailerErrorBody         = "Lambda-Runtime-Function-Error-Body"
	contentTypeHTTPIntegrate = "application/vnd.awslambda.http-integration-response"
)

// ServeRuntimeAPI answers invocations from the Runtime API at addr (host:port,
// as AWS_LAMBDA_RUNTIME_API holds it) until ctx ends (an error that
// wraps ctx.Err()) or the API fails.
// Function URL events stream when LambdaOptions.Stream is set; every other
// event is answered exactly as Invoke answers it.
func (l *LambdaHandler) ServeRuntimeAPI(ctx context.Context, addr string) error {
	rt := &runtimeClient{
		base: "http://" + addr + "/" + runtimeAPIVersion + "/runtime/",
		// The Runtime API is link-local: never through a proxy, and
		// never given up on (next waits for the next event).
		http: &http.Client{Transport: &http.Transport{Proxy: nil, DisableCompression: true}},
	}
	for {
		inv, err := rt.next(ctx)
		if err == nil {
			err = l.answer(ctx, rt, inv)
		}
		if err != nil {
			// An end asked for (ctx) is not a failure, even with an
			// answer on its way.
			return errors.Join(ctx.Err(), err)
		}
	}
}

type runtimeClient struct {
	base string
	http *http.Client
}

type invocation struct {
	id      string
	header  http.Header
	payload []byte
}

func (rt *runtimeClient) next(ctx context.Context) (*invocation, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rt.base+"invocation/next", nil)
	if err != nil {
		return nil, err
	}
	resp, err := rt.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("runtime API: next invocation: %w", err)
	}
	defer resp.Body.Close()
	payload, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("runtime API: next invocation: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("runtime API: next invocation: %s", resp.Status)
	}
	return &invocation{id: resp.Header.Get(headerRequestID), header: resp.Header, payload: payload}, nil
}

// post sends an answer (or an error) for the invocation; the Runtime API
// acknowledges it with 202.
func (rt *runtimeClient) post(req *http.Request) error {
	resp, err := rt.http.Do(req)
	if err != nil {
		return fmt.Errorf("runtime API: %s: %w", req.URL.Path, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("runtime API: %s: %s", req.URL.Path, resp.Status)
	}
	return nil
}

// answer runs one invocation: the Lambda context as aws-lambda-go builds
// it, then the streamed or the buffered answer.
func (l *LambdaHandler) answer(ctx context.Context, rt *runtimeClient, inv *invocation) error {
	ms, err := strconv.ParseInt(inv.header.Get(headerDeadlineMs), 10, 64)
	if err != nil {
		return l.postError(ctx, rt, inv, "Runtime.InvalidDeadline", "the invocation has no valid deadline")
	}
	ictx, cancel := context.WithDeadline(ctx, time.UnixMilli(ms))
	defer cancel()
	ictx = lambdacontext.NewContext(ictx, &lambdacontext.LambdaContext{
		AwsRequestID:       inv.id,
		InvokedFunctionArn: inv.header.Get(headerFunctionARN),
	})
	trace := inv.header.Get(headerTraceID)
	if lambdacontext.MaxConcurrency() <= 1 {
		_ = os.Setenv("_X_AMZN_TRACE_ID", trace) // for code that reads it as aws-lambda-go sets it
	}
	ictx = context.WithValue(ictx, "x-amzn-trace-id", trace) //nolint:staticcheck // aws-lambda-go's key, which tracing reads

	if l.opts.Stream && sniff(inv.payload) == kindV2 && isFunctionURL(inv.payload) {
		err := l.postStream(ctx, ictx, rt, inv)
		if l.opts.AfterInvoke != nil {
			// After the stream has ended, so the client is not kept
			// waiting; before next, which is when Lambda may freeze us.
			l.opts.AfterInvoke(ictx)
		}
		return err
	}
	out, err := l.Invoke(ictx, inv.payload)
	if err != nil {
		typ := "Runtime.Error"
		if errors.As(err, new(UnsupportedEventError)) {
			typ = "UnsupportedEventError"
		}
		return l.postError(ctx, rt, inv, typ, err.Error())
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rt.base+"invocation/"+inv.id+"/response", bytes.NewReader(out))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	return rt.post(req)
}

// postStream sends the streamed answer: the response-mode header, a
// chunked body written as the handler flushes, and the error trailers
// when the body is cut after its first byte.
func (l *LambdaHandler) postStream(ctx, ictx context.Context, rt *runtimeClient, inv *invocation) error {
	pr, pw := io.Pipe()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rt.base+"invocation/"+inv.id+"/response", nil)
	if err != nil {
		return err
	}
	req.Trailer = http.Header{trailerErrorType: nil, trailerErrorBody: nil}
	req.Body = &trailerReader{r: pr, trailer: req.Trailer}
	req.ContentLength = -1
	req.TransferEncoding = []string{"chunked"}
	req.Header.Set(headerResponseMode, "streaming")
	req.Header.Set("Content-Type", contentTypeHTTPIntegrate)
	req.Close = true // the runtime closes the connection after a streamed response
	posted := make(chan error, 1)
	go func() { posted <- rt.post(req) }()

	streamErr := l.invokeStream(ictx, inv.payload, pw)
	var se *StreamError
	if errors.As(streamErr, &se) {
		pw.CloseWithError(se)
	} else {
		_ = pw.Close()
	}
	return <-posted
}

// trailerReader is the streamed request body: when the pipe is closed with
// a *StreamError it sets the error trailers and ends the body. It runs on
// the transport's goroutine, which reads the trailers after the body's end,
// so the trailer map is only ever touched there.
type trailerReader struct {
	r       io.ReadCloser
	trailer http.Header
}

func (t *trailerReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	var se *StreamError
	if errors.As(err, &se) {
		t.trailer.Set(trailerErrorType, se.Type)
		t.trailer.Set(trailerErrorBody, streamErrorBody(se))
		return n, io.EOF
	}
	return n, err
}

func (t *trailerReader) Close() error { return t.r.Close() }

func (l *LambdaHandler) postError(ctx context.Context, rt *runtimeClient, inv *invocation, typ, msg string) error {
	b, _ := json.Marshal(struct {
		Message string `json:"errorMessage"`
		Type    string `json:"errorType"`
	}{msg, typ})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rt.base+"invocation/"+inv.id+"/error", bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(headerErrorType, typ)
	return rt.post(req)
}

package serve

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/akrylysov/algnhsa"
	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/typedapi/typedapi/internal/middleware"
	"github.com/typedapi/typedapi/internal/requestinfo"
)

// LambdaOptions tune the Lambda handler.
type LambdaOptions struct {
	// DeadlineMargin is kept free before the invocation's deadline, so an
	// operation whose store call runs long still answers (504) before
	// Lambda kills the invocation. Default 500ms.
	DeadlineMargin time.Duration
	// MaxResponseBytes is the largest response payload Lambda accepts;
	// larger answers become a problem response. Default 6 MB.
	MaxResponseBytes int
	Logger           *slog.Logger
	// AfterInvoke, when set, runs after each invocation's answer is made
	// and before it is returned: Lambda freezes the process as soon as it
	// is, so this is where tracing flushes its spans (bounded by its own
	// timeout).
	AfterInvoke func(ctx context.Context)

	// Stream answers Function URL events on the streaming path
	// (lambdastream.go): set it for a function behind a Function URL whose
	// invoke mode is RESPONSE_STREAM. Every other event is answered as
	// before, buffered.
	Stream bool
	// MaxStreamBytes is the most body a streamed response may carry;
	// past it the response ends after the last write that fit. Default
	// Lambda's 200 MB.
	MaxStreamBytes int64
	// StreamMaxDuration ends a streamed response this long after the
	// invocation began, if its deadline has not ended it first. Default
	// 15 minutes, Lambda's longest timeout.
	StreamMaxDuration time.Duration
}

// maxLambdaResponse is Lambda's limit on a synchronous response payload.
const maxLambdaResponse = 6 * 1024 * 1024

// LambdaHandler answers Lambda events from API Gateway REST APIs (payload
// v1), HTTP APIs (v2), Application Load Balancers, Function URLs and VPC
// Lattice (event structure v1 and v2) with an http.Handler.
//
// algnhsa turns the event into an *http.Request (one decode: the kind is
// sniffed first and algnhsa is told it); it knows no Lattice events, which
// lattice.go reads itself. The response is built here, not by
// algnhsa, to close the gaps it leaves: ALB target groups without
// multi-value headers, a response in the same header form as the request,
// binary bodies of any type (algnhsa matches exact type strings), stage
// prefixes in HTTP API paths, and Lambda's 6 MB response limit.
type LambdaHandler struct {
	byKind map[kind]lambda.Handler
	auto   lambda.Handler
	inner  http.Handler // eventRequest: what algnhsa calls, and Lattice requests go to
	opts   LambdaOptions
}

// NewLambdaHandler adapts h to Lambda events.
func NewLambdaHandler(h http.Handler, opts LambdaOptions) *LambdaHandler {
	if opts.DeadlineMargin == 0 {
		opts.DeadlineMargin = 500 * time.Millisecond
	}
	if opts.MaxResponseBytes == 0 {
		opts.MaxResponseBytes = maxLambdaResponse
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.MaxStreamBytes == 0 {
		opts.MaxStreamBytes = maxStreamedResponse
	}
	if opts.StreamMaxDuration == 0 {
		opts.StreamMaxDuration = maxStreamDuration
	}
	inner := eventRequest(h)
	// algnhsa's own response is discarded (see capture), so its binary
	// content types are irrelevant and left empty.
	newAdapter := func(t algnhsa.RequestType) lambda.Handler {
		return algnhsa.New(inner, &algnhsa.Options{RequestType: t})
	}
	return &LambdaHandler{
		byKind: map[kind]lambda.Handler{
			kindREST:      newAdapter(algnhsa.RequestTypeAPIGatewayV1),
			kindV2:        newAdapter(algnhsa.RequestTypeAPIGatewayV2),
			kindALB:       newAdapter(algnhsa.RequestTypeALB),
			kindALBSingle: newAdapter(algnhsa.RequestTypeALB),
		},
		auto:  newAdapter(algnhsa.RequestTypeAuto),
		inner: inner,
		opts:  opts,
	}
}

// Lambda serves h as a Lambda function until the runtime ends the process.
// A streaming function uses this package's Runtime API client
// (runtimeapi.go); a buffered one aws-lambda-go's, as always.
func Lambda(h http.Handler, opts LambdaOptions) error {
	l := NewLambdaHandler(h, opts)
	if !opts.Stream {
		lambda.Start(l)
		return nil
	}
	return l.ServeRuntimeAPI(context.Background(), os.Getenv("AWS_LAMBDA_RUNTIME_API"))
}

// ErrUnsupportedEvent is returned for events that are not HTTP requests
// (S3, SQS, scheduled events, authorizer requests, "{}", garbage). Its
// type names it in the invocation's error: the runtime reports
// "errorType": "UnsupportedEventError".
var ErrUnsupportedEvent error = UnsupportedEventError{}

// UnsupportedEventError is the type of ErrUnsupportedEvent.
type UnsupportedEventError struct{}

func (UnsupportedEventError) Error() string {
	return "unsupported Lambda event: want an API Gateway REST or HTTP API, ALB, Function URL or VPC Lattice request"
}

type captureKey struct{}

// capture receives the response the http.Handler wrote; the inner wrapper
// fills it and writes nothing to algnhsa's recorder.
type capture struct {
	status int
	header http.Header
	body   bytes.Buffer
	kind   kind
}

// captures keeps captures between invocations, so a warm invocation reuses
// a header map sized for a typical response (request id, security headers,
// type, ETag, Link...) and a body buffer instead of growing new ones.
var captures = sync.Pool{New: func() any { return &capture{header: make(http.Header, 16)} }}

func newCapture(k kind) *capture {
	c := captures.Get().(*capture)
	c.kind = k
	return c
}

// release returns c to the pool once its response is encoded; the handler
// has returned by then, so nothing holds its header map or body.
func (c *capture) release() {
	if c.body.Cap() > 64<<10 {
		return // a large body's buffer is not worth keeping
	}
	clear(c.header)
	c.body.Reset()
	c.status, c.kind = 0, kindUnknown
	captures.Put(c)
}

func (c *capture) Header() http.Header { return c.header }
func (c *capture) WriteHeader(code int) {
	if c.status == 0 {
		c.status = code
	}
}
func (c *capture) Write(b []byte) (int, error) {
	c.WriteHeader(http.StatusOK)
	return c.body.Write(b)
}

// Invoke implements lambda.Handler.
func (l *LambdaHandler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	k := sniff(payload)
	if k == kindUnknown {
		l.opts.Logger.ErrorContext(ctx, "unsupported Lambda event", "error", ErrUnsupportedEvent.Error(),
			"aws_request_id", awsRequestID(ctx), "event_prefix", eventPrefix(payload))
		return nil, ErrUnsupportedEvent
	}
	if l.opts.AfterInvoke != nil {
		defer l.opts.AfterInvoke(ctx)
	}
	if k == kindALBSingle {
		var err error
		if payload, err = albToMultiValue(payload); err != nil {
			return l.badEvent(ctx, k, payload, err)
		}
	}
	if dl, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, dl.Add(-l.opts.DeadlineMargin))
		defer cancel()
	}
	c := newCapture(k)
	defer c.release()
	ctx = context.WithValue(ctx, captureKey{}, c)
	if k == kindLattice {
		r, err := latticeRequest(ctx, payload)
		var shape LatticeEventError
		switch {
		case errors.As(err, &shape):
			l.opts.Logger.ErrorContext(ctx, "malformed VPC Lattice event", "error", err.Error(),
				"aws_request_id", awsRequestID(ctx), "event_prefix", eventPrefix(payload))
			return nil, err
		case err != nil:
			return l.badEvent(ctx, k, payload, err)
		}
		l.inner.ServeHTTP(c, r)
	} else if _, err := l.byKind[k].Invoke(ctx, payload); err != nil {
		// The sniff can be fooled (a header named like another kind's key):
		// let algnhsa try every kind before giving up.
		c.kind = kindUnknown
		if _, autoErr := l.auto.Invoke(ctx, payload); autoErr != nil || c.kind == kindUnknown {
			return l.badEvent(ctx, k, payload, err)
		}
	}
	out, err := c.encode()
	if err != nil {
		return nil, err
	}
	if len(out) > l.opts.MaxResponseBytes {
		l.opts.Logger.ErrorContext(ctx, "response exceeds the Lambda payload limit; answered 500 instead",
			"response_bytes", len(out), "limit_bytes", l.opts.MaxResponseBytes, "status", c.status,
			"aws_request_id", awsRequestID(ctx), "request_id", c.header.Get(middleware.RequestIDHeader))
		return tooLarge(c, l.opts.MaxResponseBytes)
	}
	return out, nil
}

// badEvent answers an event of a known HTTP kind that cannot be read as a
// request (a field of the wrong type, a body that is not the base64 it
// claims) with a 400 problem in that kind's shape: the front door passes
// it to the client, where an error would become the gateway's bare 502.
func (l *LambdaHandler) badEvent(ctx context.Context, k kind, payload []byte, err error) ([]byte, error) {
	id := middleware.NewRequestID()
	l.opts.Logger.ErrorContext(ctx, "malformed Lambda event", "error", err.Error(), "request_id", id,
		"aws_request_id", awsRequestID(ctx), "event_prefix", eventPrefix(payload))
	return problem(k, http.StatusBadRequest, id,
		"The request could not be read from the gateway's event; the request id identifies it in the logs.")
}

func awsRequestID(ctx context.Context) string {
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		return lc.AwsRequestID
	}
	return ""
}

// eventPrefix is a short, printable start of an event for the log. It
// stops before any credentials: a REST event's headers can begin within
// the first bytes, and a token must never reach a log line.
func eventPrefix(payload []byte) string {
	const n = 120
	if len(payload) > n {
		payload = payload[:n]
	}
	lower := make([]byte, len(payload)) // ASCII case folded: same offsets
	for i, c := range payload {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		lower[i] = c
	}
	for _, secret := range []string{"authorization", "cookie", "token"} {
		if i := bytes.Index(lower, []byte(secret)); i >= 0 {
			payload, lower = payload[:i], lower[:i]
		}
	}
	return strings.ToValidUTF8(string(payload), "?")
}

// tooLarge replaces a response Lambda would refuse with a problem that says so.
func tooLarge(c *capture, limit int) ([]byte, error) {
	return problem(c.kind, http.StatusInternalServerError, c.header.Get(middleware.RequestIDHeader),
		fmt.Sprintf("The response is larger than the %d bytes AWS Lambda can return; ask for less (for example a smaller limit).", limit))
}

// problem is a problem+json response event of kind k, made without the
// http.Handler.
func problem(k kind, status int, requestID, detail string) ([]byte, error) {
	p := &capture{header: http.Header{}, kind: k, status: status}
	p.header.Set("Content-Type", "application/problem+json")
	p.header.Set("Cache-Control", "no-store")
	p.header.Set("X-Content-Type-Options", "nosniff")
	if requestID != "" {
		p.header.Set(middleware.RequestIDHeader, requestID)
	}
	_ = json.NewEncoder(&p.body).Encode(middleware.Problem{
		Title:  http.StatusText(status),
		Status: status,
		Detail: detail,
	})
	return p.encode()
}

// eventRequest is the http.Handler algnhsa calls: it works out the path the
// API routes on and the external prefix the client used, records where the
// request came from, and writes the response into the capture.
func eventRequest(next http.Handler) http.Handler {
	return http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		// A capture (buffered) or a streamWriter (streamed).
		w, _ := ctx.Value(captureKey{}).(http.ResponseWriter)
		if w == nil {
			return
		}
		if r.URL.Host != "" && len(r.Header["Host"]) == 0 { // algnhsa's keys are canonical
			// No Host header and a path starting with "//": algnhsa's URL
			// took the path's first segment for the host. Put it back, so
			// the path answers as it does with a Host (404: an empty
			// segment) and the path cannot choose the host of the URLs
			// the API hands out.
			u := *r.URL
			u.Path, u.RawPath, u.Host = "//"+u.Host+u.Path, "", ""
			r.URL, r.Host = &u, ""
		}
		info, routed, prefix := describe(r)
		if r.Host == "" {
			r.Host = info.domain // Function URL events may carry no Host header
		}
		if r.Header.Get("X-Forwarded-Proto") == "" {
			r.Header.Set("X-Forwarded-Proto", "https") // every front door but an http ALB listener (which says so) is HTTPS
		}
		if c, ok := w.(*capture); ok && c.kind == kindUnknown {
			c.kind = info.kindOf
		}
		if info.kindOf == kindREST {
			// A REST API passes a base64 body on as text unless it lists
			// the type in its binary media types, which an API we are
			// mounted on may not: asked for no content coding, the /docs
			// assets go out as text and load either way. (A REST API
			// compresses responses itself with minimumCompressionSize.)
			r.Header.Del("Accept-Encoding")
		}
		info.LambdaRequestID = awsRequestID(ctx)
		if routed != r.URL.Path {
			u := *r.URL
			u.Path, u.RawPath = routed, ""
			r.URL = &u
		}
		attrs := []slog.Attr{slog.String("aws_request_id", info.LambdaRequestID)}
		if info.GatewayRequestID != "" {
			attrs = append(attrs, slog.String("apigw_request_id", info.GatewayRequestID))
			// Only a sane one: an ALB's trace id can hold ";", which the
			// API would refuse (400) as if the client had sent it.
			if r.Header.Get(middleware.RequestIDHeader) == "" && middleware.SaneRequestID(info.GatewayRequestID) {
				r.Header.Set(middleware.RequestIDHeader, info.GatewayRequestID)
			}
		}
		ctx = requestinfo.With(ctx, info.Info)
		ctx = middleware.WithLogAttrs(ctx, attrs...)
		if prefix != "" {
			ctx = middleware.WithMountPrefix(ctx, prefix)
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// described is requestinfo.Info plus the kind the event turned out to be.
type described struct {
	requestinfo.Info
	kindOf kind
	domain string // the host the client called, from the request context
}

// describe reads the decoded event algnhsa put in the context.
func describe(r *http.Request) (d described, routed, prefix string) {
	ctx := r.Context()
	d.OnLambda = true
	routed = r.URL.Path
	if ev, ok := algnhsa.APIGatewayV2RequestFromContext(ctx); ok {
		rc := ev.RequestContext
		d.Source, d.kindOf = "http", kindV2
		if rc.DomainPrefix != "" && strings.Contains(rc.DomainName, ".lambda-url.") {
			d.Source = "url"
		}
		d.Stage, d.SourceIP, d.GatewayRequestID, d.domain = rc.Stage, rc.HTTP.SourceIP, rc.RequestID, rc.DomainName
		if a := rc.Authorizer; a != nil {
			switch {
			case a.JWT != nil:
				d.Claims = make(map[string]any, len(a.JWT.Claims))
				for k, v := range a.JWT.Claims {
					d.Claims[k] = v
				}
				d.Scopes = a.JWT.Scopes
			case a.Lambda != nil:
				d.Claims = a.Lambda
			}
		}
		routed, prefix = v2Route(ev, r.URL.Path)
		return d, routed, prefix
	}
	if ev, ok := algnhsa.APIGatewayV1RequestFromContext(ctx); ok {
		rc := ev.RequestContext
		d.Source, d.kindOf = "rest", kindREST
		d.Stage, d.SourceIP, d.GatewayRequestID, d.domain = rc.Stage, rc.Identity.SourceIP, rc.RequestID, rc.DomainName
		if len(rc.Authorizer) > 0 {
			d.Claims = rc.Authorizer
			if claims, ok := rc.Authorizer["claims"].(map[string]any); ok {
				d.Claims = claims // Cognito user pool authorizer
			}
		}
		routed, prefix = v1Route(ev, r.URL.Path)
		return d, routed, prefix
	}
	if _, ok := algnhsa.ALBRequestFromContext(ctx); ok {
		d.Source, d.kindOf = "alb", kindALB
		d.SourceIP = albClientIP(r)
		d.GatewayRequestID = r.Header.Get("X-Amzn-Trace-Id")
		return d, routed, prefix
	}
	if li, ok := ctx.Value(latticeKey{}).(*latticeInfo); ok {
		// Lattice passes the path as the client sent it (a listener rule's
		// path prefix included: base_path strips it) and no request id of
		// its own; the trace id it adds stands in, as for an ALB.
		d.Source, d.kindOf = "lattice", kindLattice
		d.SourceIP = r.RemoteAddr
		d.GatewayRequestID = r.Header.Get("X-Amzn-Trace-Id")
		d.Lattice = li.Lattice
	}
	return d, routed, prefix
}

// albClientIP is the address the load balancer received the request from:
// the last entry of X-Forwarded-For, which the ALB appends. (algnhsa takes
// the first, which is whatever the client wrote there.)
func albClientIP(r *http.Request) string {
	xff := r.Header.Values("X-Forwarded-For")
	if len(xff) == 0 {
		return r.RemoteAddr
	}
	last := xff[len(xff)-1]
	if i := strings.LastIndexByte(last, ','); i >= 0 {
		last = last[i+1:]
	}
	return strings.TrimSpace(last)
}

// v1Route splits a REST API request path into the path the API routes on
// and the prefix in front of it. The API-relative path is the resource
// with its {proxy+} filled in; what precedes it in requestContext.path
// (the stage on an execute-api URL, the base path mapping on a custom
// domain) is the prefix.
func v1Route(ev events.APIGatewayProxyRequest, path string) (routed, prefix string) {
	routed = path
	if proxy, ok := ev.PathParameters["proxy"]; ok && strings.Contains(ev.Resource, "{proxy+}") {
		routed = strings.Replace(ev.Resource, "{proxy+}", proxy, 1)
	}
	for _, full := range []string{ev.RequestContext.Path, path} {
		if p, ok := strings.CutSuffix(full, routed); ok && full != routed {
			return routed, strings.TrimSuffix(p, "/")
		}
		if routed == "/" && strings.HasSuffix(full, "/") {
			return routed, strings.TrimSuffix(full, "/")
		}
	}
	return routed, ""
}

// v2Route does the same for HTTP APIs and Function URLs: with a
// "{proxy+}" route the API-relative path is the route filled in; otherwise
// a named stage at the front of rawPath is the prefix ($default has none,
// and a Function URL has no stage at all).
func v2Route(ev events.APIGatewayV2HTTPRequest, path string) (routed, prefix string) {
	if _, tmpl, ok := strings.Cut(ev.RouteKey, " "); ok && strings.Contains(tmpl, "{proxy+}") {
		if proxy, ok := ev.PathParameters["proxy"]; ok {
			routed = strings.Replace(tmpl, "{proxy+}", proxy, 1)
			if p, ok := strings.CutSuffix(path, routed); ok {
				return routed, strings.TrimSuffix(p, "/")
			}
		}
	}
	stage := ev.RequestContext.Stage
	if stage != "" && stage != "$default" {
		if rest, ok := strings.CutPrefix(path, "/"+stage); ok && (rest == "" || rest[0] == '/') {
			if rest == "" {
				rest = "/"
			}
			return rest, "/" + stage
		}
	}
	return path, ""
}

// LocalInvocation returns ctx as the Lambda runtime hands it to Invoke, for
// the local tools (`api invoke`, `api gateway`): with a Lambda context that
// holds a fresh request id in AWS's form, so the access line and
// requestinfo carry one as they do on Lambda. A ctx that has one is kept.
func LocalInvocation(ctx context.Context) context.Context {
	if _, ok := lambdacontext.FromContext(ctx); ok {
		return ctx
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40 // a version 4 UUID, as Lambda's request ids are
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	id := h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
	return lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{AwsRequestID: id})
}

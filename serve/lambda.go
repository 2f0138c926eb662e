package serve

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/akrylysov/algnhsa"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/typedapi/typedapi/middleware"
)

// binaryContentTypes are the response types sent base64-encoded to the
// gateway; everything else (JSON, problem+json, HTML, JS, CSS) goes as text.
// algnhsa matches them exactly, so they are listed as the handler sends them.
var binaryContentTypes = []string{"image/png", "application/octet-stream"}

// NewLambdaHandler adapts h to Lambda events from API Gateway (REST and
// HTTP APIs), ALB and Function URLs. The returned handler's Invoke takes the
// raw event and returns the raw response, as the Lambda runtime does.
func NewLambdaHandler(h http.Handler) lambda.Handler {
	return algnhsa.New(lambdaRequestInfo(h), &algnhsa.Options{BinaryContentTypes: binaryContentTypes})
}

// Lambda serves h as a Lambda function until the runtime stops the process.
func Lambda(h http.Handler) {
	lambda.Start(NewLambdaHandler(h))
}

// lambdaRequestInfo puts the Lambda and gateway request ids on the access
// line and uses the gateway's id as the request id when the client sent
// none, so one id ties the gateway log, the Lambda log and the client.
func lambdaRequestInfo(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		var attrs []slog.Attr
		if lc, ok := lambdacontext.FromContext(ctx); ok {
			attrs = append(attrs, slog.String("aws_request_id", lc.AwsRequestID))
		}
		gatewayID := gatewayRequestID(ctx)
		if gatewayID != "" {
			attrs = append(attrs, slog.String("apigw_request_id", gatewayID))
			if r.Header.Get(middleware.RequestIDHeader) == "" {
				r.Header.Set(middleware.RequestIDHeader, gatewayID)
			}
		}
		// The gateway compresses if asked to; an encoded body would be
		// mistaken for text by the event encoder.
		r.Header.Del("Accept-Encoding")
		next.ServeHTTP(w, r.WithContext(middleware.WithLogAttrs(ctx, attrs...)))
	})
}

func gatewayRequestID(ctx context.Context) string {
	if ev, ok := algnhsa.APIGatewayV2RequestFromContext(ctx); ok {
		return ev.RequestContext.RequestID
	}
	if ev, ok := algnhsa.APIGatewayV1RequestFromContext(ctx); ok {
		return ev.RequestContext.RequestID
	}
	return ""
}

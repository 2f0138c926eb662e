package main

import (
	"github.com/akrylysov/algnhsa"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/typedapi/typedapi/internal/httpbench"
)

// bareHuma is the reference the Lambda targets are stated against: the
// container floor (httpbench.BareHuma: Huma with huma.DefaultConfig, no
// middleware, access log or request ids) behind algnhsa with its default
// options, on the floor's memory store.
func bareHuma(f *floor) lambda.Handler {
	return algnhsa.New(httpbench.BareHuma(f.store), nil)
}

// Command hello is the cold-start baseline for lambdatest/coldstart: the
// smallest useful aws-lambda-go function for an HTTP API (payload v2)
// event. It lives under testdata so it is never part of the product.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

func handle(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	return events.APIGatewayV2HTTPResponse{
		StatusCode: 200,
		Headers:    map[string]string{"Content-Type": "application/json"},
		Body:       `{"message":"hello"}`,
	}, nil
}

func main() { lambda.Start(handle) }

//go:build notracing

package dynamodb

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"go.opentelemetry.io/otel/trace"
)

// traced is the SDK's client as it is in a build without tracing
// (internal/tracing's nosdk.go): no client spans, nothing of otelhttp linked.
func traced(c aws.HTTPClient, _ trace.TracerProvider) aws.HTTPClient { return c }

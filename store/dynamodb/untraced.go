//go:build notracing

package dynamodb

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"go.opentelemetry.io/otel/trace"
)

// traced, in a build with the notracing tag (internal/tracing/nosdk.go),
// leaves the AWS SDK's HTTP client as it is: no client spans, no
// traceparent header, nothing of otelhttp linked.
func traced(c aws.HTTPClient, _ trace.TracerProvider) aws.HTTPClient { return c }

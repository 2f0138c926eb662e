package lambdatest

import (
	"context"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"
)

// coldPathFree are packages a Lambda build must not link: their package
// initialisers run on every cold start (about a millisecond together,
// measured with GODEBUG=inittrace=1; docs/PERFORMANCE.md) for credential
// sources — shared config files, SSO, STS — that a function never has. The
// DynamoDB store builds its client from the environment instead
// (store/dynamodb/sdkconfig_lambda.go).
var coldPathFree = []string{
	"github.com/aws/aws-sdk-go-v2/config",
	"github.com/aws/aws-sdk-go-v2/service/sts",
	"github.com/aws/aws-sdk-go-v2/service/sso",
	"github.com/aws/aws-sdk-go-v2/service/ssooidc",
	"github.com/aws/aws-sdk-go-v2/service/signin",
	// DynamoDB client v1.69 and later serialise through a generated schema
	// registry whose initialiser takes about 0.7 ms and 3,000 allocations
	// of every cold start (GODEBUG=inittrace=1: 2.3 -> 0.3 ms for all aws
	// packages together with the above). go.mod holds the client at v1.68
	// (2026-09); raising it means taking that cost, knowingly, here.
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/schemas",
}

func TestLambdaBuildLeavesOutTheCredentialChain(t *testing.T) {
	lambda := deps(t, "-tags", "lambda.norpc")
	for _, p := range coldPathFree {
		if slices.Contains(lambda, p) {
			t.Errorf("the Lambda build (-tags lambda.norpc) links %s", p)
		}
	}
	// The check can see them: the server build links the full chain.
	if server := deps(t); !slices.Contains(server, coldPathFree[0]) {
		t.Errorf("the server build no longer links %s; is this test still looking at the right thing?", coldPathFree[0])
	}
}

// The CDK app's default bootstrap (DefaultTags) links none of the
// OpenTelemetry SDK or its contrib instrumentation; the tracing build does.
func TestDefaultBuildLeavesOutTheTracingSDK(t *testing.T) {
	sdk := []string{
		"go.opentelemetry.io/otel/sdk/trace",
		"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp",
		"github.com/felixge/httpsnoop",
	}
	deployed, traced := deps(t, "-tags", DefaultTags), deps(t, "-tags", TracingTags)
	for _, p := range sdk {
		if slices.Contains(deployed, p) {
			t.Errorf("the default Lambda build (-tags %s) links %s", DefaultTags, p)
		}
		if !slices.Contains(traced, p) {
			t.Errorf("the tracing build (-tags %s) does not link %s", TracingTags, p)
		}
	}
}

func deps(t *testing.T, flags ...string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	args := append([]string{"list", "-deps"}, flags...)
	cmd := exec.CommandContext(ctx, "go", append(args, "./cmd/api")...)
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go %v: %v", args, err)
	}
	return strings.Fields(string(out))
}

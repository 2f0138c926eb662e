package stacks

import (
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
)

// TestServerlessStreamingURL: with StreamingURL, a second function from the
// same code sits behind a Function URL that streams (RESPONSE_STREAM) and
// lets every request through to the app (NONE), which verifies bearer
// tokens itself and is told to stream; the HTTP API's function stays
// buffered behind its authorizer. cdk-nag stays clean (synth).
func TestServerlessStreamingURL(t *testing.T) {
	app := newApp(t)
	s := NewServerlessStack(app, "Typedapi", &ServerlessStackProps{
		CodeDir: codeDir, Spec: readSpec(t, SpecFile(repoRoot)), Auth: testAuth,
		StreamingURL: &StreamingURLOptions{Timeout: 2 * time.Minute},
	})
	tmpl := synth(t, s.Stack)
	if s.StreamFunction == nil || s.StreamURL == nil {
		t.Fatal("no streaming function or URL on the stack")
	}
	streaming := tmpl.FindResources(typ("AWS::Lambda::Function"), map[string]any{"Properties": map[string]any{
		"Timeout": 120,
		"Environment": map[string]any{"Variables": map[string]any{
			"TYPEDAPI_LAMBDA_STREAM":              "true",
			"TYPEDAPI_LAMBDA_STREAM_MAX_DURATION": "2m0s",
			"TYPEDAPI_AUTH_MODE":                  "jwt",
		}},
	}})
	if len(*streaming) != 1 {
		t.Fatalf("%d streaming functions, want 1", len(*streaming))
	}
	var streamID string
	for id := range *streaming {
		streamID = id
	}
	check(t, "a streaming Function URL with auth type NONE, on the streaming function", func() {
		tmpl.ResourceCountIs(typ("AWS::Lambda::Url"), count(1))
		tmpl.HasResourceProperties(typ("AWS::Lambda::Url"), exact(map[string]any{
			"AuthType":          "NONE",
			"InvokeMode":        "RESPONSE_STREAM",
			"TargetFunctionArn": arnOf(streamID),
		}))
		// Anyone may invoke the URL: the app, not IAM, decides who calls.
		tmpl.HasResourceProperties(typ("AWS::Lambda::Permission"), map[string]any{
			"Action": "lambda:InvokeFunctionUrl", "FunctionName": arnOf(streamID),
			"FunctionUrlAuthType": "NONE", "Principal": "*",
		})
	})
	check(t, "the HTTP API's function does not stream and trusts its authorizer", func() {
		tmpl.ResourceCountIs(typ("AWS::Lambda::Function"), count(2))
		tmpl.HasResourceProperties(typ("AWS::Lambda::Function"), map[string]any{
			"Environment": map[string]any{"Variables": map[string]any{
				"TYPEDAPI_AUTH_MODE": "gateway", "TYPEDAPI_LAMBDA_STREAM": absent(),
			}},
		})
	})
	check(t, "the stream URL is an output", func() {
		tmpl.HasOutput(typ("StreamUrl"), map[string]any{"Value": assertions.Match_AnyValue()})
	})
}

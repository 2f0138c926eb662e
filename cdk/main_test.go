package main

import (
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
)

func TestMain(m *testing.M) {
	code := m.Run()
	jsii.Close()
	os.Exit(code)
}

// Secure by default: synth stops, naming the context keys, unless it is
// told who issues the tokens; before it builds or synthesizes anything.
func TestRunNeedsAnIssuer(t *testing.T) {
	for _, tc := range []struct {
		name    string
		context map[string]any
		want    string
	}{
		{"none", map[string]any{}, "-c authIssuer="},
		{"no audience", map[string]any{"authIssuer": "https://issuer.example.com/"}, "-c authIssuer="},
		{"not https", map[string]any{"authIssuer": "http://issuer.example.com/", "authAudience": "a"}, "https URL"},
		{"both kinds", map[string]any{"cognito": "true", "authIssuer": "https://issuer.example.com/"}, "not both"},
		// cdk.json holds JSON: a boolean true is the same switch as -c cognito=true.
		{"both kinds, JSON true", map[string]any{"cognito": true, "authIssuer": "https://issuer.example.com/"}, "not both"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := run(&awscdk.AppProps{Context: &tc.context, Outdir: jsii.String(t.TempDir())})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("run() = %v, want an error that says %q", err, tc.want)
			}
		})
	}
}

// A switch or an architecture the app does not know is an error naming the
// key, before it builds or synthesizes anything: a typo must not deploy
// the other build (-c tracing=yes would otherwise mean no tracing SDK).
func TestRunRefusesUnknownContextValues(t *testing.T) {
	issuer := map[string]any{"authIssuer": "https://issuer.example.com/", "authAudience": "a"}
	for key, value := range map[string]any{
		"dev": "yes", "cognito": "1", "tracing": "on", "streamingUrl": "True", "cursorSecret": "no", "arch": "amd64",
		"authScopePrefix": []any{"a", "b"}, // a JSON list in cdk.json
	} {
		t.Run(key, func(t *testing.T) {
			context := map[string]any{key: value}
			for k, v := range issuer {
				context[k] = v
			}
			err := run(&awscdk.AppProps{Context: &context, Outdir: jsii.String(t.TempDir())})
			if err == nil || !strings.Contains(err.Error(), "context "+key) {
				t.Errorf("run() with %s=%v = %v, want an error naming the key", key, value, err)
			}
		})
	}
}

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
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := run(&awscdk.AppProps{Context: &tc.context, Outdir: jsii.String(t.TempDir())})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("run() = %v, want an error that says %q", err, tc.want)
			}
		})
	}
}

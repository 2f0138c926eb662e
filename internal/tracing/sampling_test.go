//go:build !notracing

package tracing

import (
	"io"
	"log/slog"
	"testing"
)

// TestSamplerFromEnv: the names and arguments the SDK reads give the
// samplers it would make; what it would refuse falls back as it does.
func TestSamplerFromEnv(t *testing.T) {
	for _, c := range []struct{ name, arg, want string }{
		{"", "", "ParentBased{root:AlwaysOnSampler,remoteParentSampled:AlwaysOnSampler,remoteParentNotSampled:AlwaysOffSampler,localParentSampled:AlwaysOnSampler,localParentNotSampled:AlwaysOffSampler}"},
		{"always_on", "", "AlwaysOnSampler"},
		{"ALWAYS_OFF", "", "AlwaysOffSampler"},
		{"traceidratio", "0.1", "TraceIDRatioBased{0.1}"},
		{"traceidratio", "", "TraceIDRatioBased{1}"},
		{"traceidratio", "1.5", "TraceIDRatioBased{1}"},
		{"traceidratio", "often", "TraceIDRatioBased{1}"},
		{"parentbased_traceidratio", "0.25", "ParentBased{root:TraceIDRatioBased{0.25},remoteParentSampled:AlwaysOnSampler,remoteParentNotSampled:AlwaysOffSampler,localParentSampled:AlwaysOnSampler,localParentNotSampled:AlwaysOffSampler}"},
		{"parentbased_always_off", "", "ParentBased{root:AlwaysOffSampler,remoteParentSampled:AlwaysOnSampler,remoteParentNotSampled:AlwaysOffSampler,localParentSampled:AlwaysOnSampler,localParentNotSampled:AlwaysOffSampler}"},
		{"jaeger_remote", "", "ParentBased{root:AlwaysOnSampler,remoteParentSampled:AlwaysOnSampler,remoteParentNotSampled:AlwaysOffSampler,localParentSampled:AlwaysOnSampler,localParentNotSampled:AlwaysOffSampler}"},
	} {
		env := map[string]string{"OTEL_TRACES_SAMPLER": c.name, "OTEL_TRACES_SAMPLER_ARG": c.arg}
		got := samplerFromEnv(func(k string) string { return env[k] }, slog.New(slog.NewTextHandler(io.Discard, nil))).Description()
		if got != c.want {
			t.Errorf("%q %q: %s, want %s", c.name, c.arg, got, c.want)
		}
	}
}

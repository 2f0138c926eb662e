package lambdalocal

import "testing"

// WithDefaults is what Gateway serves and what `api gateway` logs.
func TestWithDefaults(t *testing.T) {
	for _, c := range []struct {
		in        GatewayOptions
		wantStage string
	}{
		{GatewayOptions{Source: "rest"}, "prod"},
		{GatewayOptions{Source: "rest", Stage: "beta"}, "beta"},
		{GatewayOptions{Source: "rest", BasePath: "/shop"}, ""},
		{GatewayOptions{Source: "http"}, ""},
	} {
		got := c.in.WithDefaults()
		if got.Stage != c.wantStage || got.MaxBody != 10<<20 || got.Logger == nil {
			t.Errorf("%+v: stage %q, max body %d, logger %v", c.in, got.Stage, got.MaxBody, got.Logger)
		}
	}
}

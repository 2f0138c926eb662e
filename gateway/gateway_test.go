package gateway

import "testing"

// WithDefaults is what Handler serves and what `api gateway` logs.
func TestWithDefaults(t *testing.T) {
	for _, c := range []struct {
		in        Options
		wantStage string
	}{
		{Options{Source: "rest"}, "prod"},
		{Options{Source: "rest", Stage: "beta"}, "beta"},
		{Options{Source: "rest", BasePath: "/shop"}, ""},
		{Options{Source: "http"}, ""},
	} {
		got := c.in.WithDefaults()
		if got.Stage != c.wantStage || got.MaxBody != 10<<20 || got.Logger == nil {
			t.Errorf("%+v: stage %q, max body %d, logger %v", c.in, got.Stage, got.MaxBody, got.Logger)
		}
	}
}

package lambdatest

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/typedapi/typedapi/internal/lambdalocal"
)

// TestEmulatorLattice: VPC Lattice events of both versions are answered by
// the deployed bootstrap in the form Lattice reads, and a malformed one is a
// function error of type LatticeEventError, after which the same process
// serves the next event.
func TestEmulatorLattice(t *testing.T) {
	e := start(t, "./cmd/api", 10*time.Second)
	for _, source := range lambdalocal.LatticeSources {
		resp := invoke(t, e, event(t, lambdalocal.Request{Source: source, Method: "POST", Target: "/v1/items",
			Header: map[string][]string{"Content-Type": {"application/json"}}, Body: []byte(`{"name":"Lattice","price":3,"currency":"EUR"}`)}))
		var item struct{ ID string }
		_ = json.Unmarshal(resp.body(t), &item)
		if resp.StatusCode != 201 || resp.StatusDescription != "201 Created" || len(resp.MultiValueHeaders) != 0 ||
			resp.Headers["Location"] != "/v1/items/"+item.ID || item.ID == "" {
			t.Fatalf("%s create: %+v", source, resp)
		}
		if resp := invoke(t, e, event(t, lambdalocal.Request{Source: source, Method: "GET", Target: "/v1/items/" + item.ID})); resp.StatusCode != 200 {
			t.Errorf("%s get: %+v", source, resp)
		}
	}
	pid := e.BootstrapPID() // the emulator starts the bootstrap on the first invoke
	for _, bad := range []string{
		`{"raw_path":"/healthz","method":7}`,
		`{"version":"2.0","path":"/healthz","method":"POST","body":"!!","isBase64Encoded":true,"requestContext":{}}`,
	} {
		resp := invoke(t, e, []byte(bad))
		if resp.ErrorType != "LatticeEventError" || !strings.Contains(resp.ErrorMessage, "malformed VPC Lattice event") {
			t.Errorf("%s answered %+v, want a LatticeEventError", bad, resp)
		}
		if resp := invoke(t, e, event(t, lambdalocal.Request{Source: "lattice-v2", Method: "GET", Target: "/healthz"})); resp.StatusCode != 200 || resp.ErrorMessage != "" {
			t.Errorf("good event after a bad one: %+v", resp)
		}
		if p := e.BootstrapPID(); p != pid {
			t.Errorf("bootstrap pid changed from %d to %d: the process did not keep serving", pid, p)
		}
	}
	if n := strings.Count(e.Output(), `"msg":"malformed VPC Lattice event"`); n != 2 {
		t.Errorf("%d log lines naming a malformed Lattice event, want 2", n)
	}
}

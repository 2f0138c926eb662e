package operations_test

import (
	"bytes"
	"testing"

	"github.com/typedapi/typedapi/operations"
	"github.com/typedapi/typedapi/store/memory"
)

// The 3.0 document, as JSON and as YAML, carries Huma's patternDescription
// only as the extension x-pattern-description: 3.0 tools refuse unknown
// keywords in a schema.
func TestDowngradeRenamesPatternDescription(t *testing.T) {
	_, api := operations.New(operations.Options{}, operations.StoresOf(memory.New()))
	for _, asYAML := range []bool{false, true} {
		b, err := operations.Downgrade(api.OpenAPI(), asYAML)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte("patternDescription")) || !bytes.Contains(b, []byte("x-pattern-description")) {
			t.Errorf("yaml %v: patternDescription not renamed to x-pattern-description", asYAML)
		}
		if !bytes.Contains(b, []byte("3.0.3")) {
			t.Errorf("yaml %v: not a 3.0 document", asYAML)
		}
	}
}

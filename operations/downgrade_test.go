package operations_test

import (
	"bytes"
	"encoding/json"
	"slices"
	"testing"

	"github.com/danielgtaylor/huma/v2"

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

// In the 3.0 document a security requirement lists no scopes (3.0 allows
// them only for OAuth 2 and OpenID Connect schemes); each operation's
// scopes are kept as x-required-scopes, the same as the 3.1 document's.
func TestDowngradeMovesScopes(t *testing.T) {
	_, api := operations.New(operations.Options{}, operations.StoresOf(memory.New()))
	b, err := operations.Downgrade(api.OpenAPI(), false)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]struct {
			Security []map[string][]string `json:"security"`
			Scopes   []string              `json:"x-required-scopes"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	moved := 0
	for path, ops := range doc.Paths {
		for method, op := range ops {
			var want []string
			for _, req := range opSecurity(api.OpenAPI(), path, method) {
				for _, s := range req {
					want = append(want, s...)
				}
			}
			for _, req := range op.Security {
				for scheme, scopes := range req {
					if len(scopes) > 0 {
						t.Errorf("%s %s: 3.0 security lists scopes %v for %s", method, path, scopes, scheme)
					}
				}
			}
			if !slices.Equal(op.Scopes, want) {
				t.Errorf("%s %s: x-required-scopes %v, want %v", method, path, op.Scopes, want)
			}
			moved += len(want)
		}
	}
	if moved == 0 {
		t.Error("no operation of the 3.1 document has scopes: nothing was tested")
	}
}

// opSecurity is the 3.1 document's security of the operation at path and
// method (lower case, as the document's keys).
func opSecurity(doc *huma.OpenAPI, path, method string) []map[string][]string {
	item := doc.Paths[path]
	ops := map[string]*huma.Operation{"get": item.Get, "put": item.Put, "post": item.Post, "delete": item.Delete,
		"patch": item.Patch, "head": item.Head, "options": item.Options}
	if op := ops[method]; op != nil {
		return op.Security
	}
	return nil
}

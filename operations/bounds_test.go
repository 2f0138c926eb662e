package operations_test

import (
	"testing"

	"github.com/danielgtaylor/huma/v2"

	"github.com/typedapi/typedapi/operations"
	"github.com/typedapi/typedapi/store/memory"
)

// TestClientValuesBounded: every query value and request header an
// operation reads declares its largest size: a maxLength, an enum, or a
// largest number.
func TestClientValuesBounded(t *testing.T) {
	_, api := operations.New(operations.Options{}, operations.StoresOf(memory.New()))
	schemas := api.OpenAPI().Components.Schemas
	for path, item := range api.OpenAPI().Paths {
		for method, op := range map[string]*huma.Operation{"GET": item.Get, "POST": item.Post, "PUT": item.Put, "PATCH": item.Patch, "DELETE": item.Delete} {
			if op == nil {
				continue
			}
			ids := 0
			for _, p := range op.Parameters {
				if p.Name == "X-Request-Id" {
					ids++
				}
				if p.In == "path" {
					continue
				}
				s := p.Schema
				if s.Ref != "" {
					s = schemas.SchemaFromRef(s.Ref)
				}
				bounded := s.MaxLength != nil || len(s.Enum) > 0 || (s.Type == huma.TypeInteger && s.Maximum != nil)
				if !bounded {
					t.Errorf("%s %s: %s %s has no declared bound", method, path, p.In, p.Name)
				}
			}
			if ids != 1 {
				t.Errorf("%s %s: X-Request-Id declared %d times", method, path, ids)
			}
			if op.Responses["400"] == nil {
				t.Errorf("%s %s: no 400 for a bad X-Request-Id", method, path)
			}
		}
	}
}

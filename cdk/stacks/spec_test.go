package stacks

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const fixtureSpec = "testdata/openapi-auth.json"

// The fixture has what the committed spec will have once operations
// declare their security: public and protected operations, scoped and not.
func TestReadSpecFixture(t *testing.T) {
	spec, err := ReadSpec(fixtureSpec)
	if err != nil {
		t.Fatal(err)
	}
	want := []Operation{
		{ID: "get-service-info", Method: "GET", Path: "/"},
		{ID: "head-service-info", Method: "HEAD", Path: "/"},
		{ID: "list-items", Method: "GET", Path: "/v1/items"},
		{ID: "create-item", Method: "POST", Path: "/v1/items", Protected: true, Scopes: []string{"items:write"}},
		{ID: "get-item", Method: "GET", Path: "/v1/items/{id}"},
		{ID: "replace-item", Method: "PUT", Path: "/v1/items/{id}", Protected: true, Scopes: []string{"items:write"}},
		{ID: "delete-item", Method: "DELETE", Path: "/v1/items/{id}", Protected: true, Scopes: []string{"items:write"}},
		{ID: "head-item", Method: "HEAD", Path: "/v1/items/{id}"},
		{ID: "list-orders", Method: "GET", Path: "/v1/orders", Protected: true},
		{ID: "create-order", Method: "POST", Path: "/v1/orders", Protected: true},
		{ID: "patch-order", Method: "PATCH", Path: "/v1/orders/{id}", Protected: true, Scopes: []string{"orders:cancel", "orders:fulfil"}},
	}
	// Paths sorted, methods in httpMethods order.
	if !reflect.DeepEqual(spec.Operations, want) {
		t.Errorf("operations:\n got %+v\nwant %+v", spec.Operations, want)
	}
	if w := []string{"items:write", "orders:cancel", "orders:fulfil"}; !slices.Equal(spec.Scopes, w) {
		t.Errorf("scopes = %q, want %q", spec.Scopes, w)
	}
}

// Security requirements are alternatives (OR) of scheme sets (AND). The
// gateway can only ask for a valid token with any of some scopes, so it
// asks for the union, which refuses only tokens the app would refuse too.
func TestParseSpecSecurity(t *testing.T) {
	for _, tc := range []struct {
		name, global, op string
		protected        bool
		scopes           []string
	}{
		{"none at all", "", "", false, nil},
		{"explicitly public", "", `[]`, false, nil},
		{"an empty requirement", "", `[{}]`, false, nil},
		{"token optional", "", `[{}, {"bearer": ["a"]}]`, false, nil},
		{"any token", "", `[{"bearer": []}]`, true, nil},
		{"one scope", "", `[{"bearer": ["a"]}]`, true, []string{"a"}},
		{"all of two scopes: the gateway asks for either", "", `[{"bearer": ["b", "a"]}]`, true, []string{"a", "b"}},
		{"either of two scopes", "", `[{"bearer": ["a"]}, {"bearer": ["b"]}]`, true, []string{"a", "b"}},
		{"a scope or any token", "", `[{"bearer": ["a"]}, {"bearer": []}]`, true, nil},
		{"the document's default", `[{"bearer": ["a"]}]`, "", true, []string{"a"}},
		{"the operation overrides the default", `[{"bearer": ["a"]}]`, `[]`, false, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := `{"paths": {"/x": {"get": {"operationId": "x"` + field("security", tc.op) + `}}}` +
				field("security", tc.global) +
				`, "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}}}`
			spec, err := ParseSpec([]byte(doc))
			if err != nil {
				t.Fatal(err)
			}
			op := spec.Operations[0]
			if op.Protected != tc.protected || !slices.Equal(op.Scopes, tc.scopes) {
				t.Errorf("got protected=%v scopes=%q, want protected=%v scopes=%q", op.Protected, op.Scopes, tc.protected, tc.scopes)
			}
		})
	}
}

func field(name, value string) string {
	if value == "" {
		return ""
	}
	return `, "` + name + `": ` + value
}

// What the gateway could not enforce as written stops the synth, rather
// than deploying a route more open than the document says.
func TestParseSpecRefuses(t *testing.T) {
	schemes := `"components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}, "key": {"type": "apiKey"}}}`
	for _, tc := range []struct{ name, doc, want string }{
		{"not JSON", `{`, "not an OpenAPI JSON document"},
		{"no paths", `{"paths": {}}`, "no paths"},
		{"no operations", `{"paths": {"/x": {"parameters": []}}}`, "no operations"},
		{"another scheme", `{"paths": {"/x": {"get": {"security": [{"key": []}]}}}, ` + schemes + `}`, `scheme "key"`},
		{"an undeclared scheme", `{"paths": {"/x": {"get": {"security": [{"bearer": []}]}}}}`, "not declared"},
		{"a protected OPTIONS", `{"paths": {"/x": {"options": {"security": [{"bearer": []}]}}}, ` + schemes + `}`, "preflights"},
		{"TRACE", `{"paths": {"/x": {"trace": {}}}}`, "TRACE"},
		{"a greedy parameter", `{"paths": {"/x/{p+}": {"get": {}}}}`, "whole-segment"},
		{"a partial-segment parameter", `{"paths": {"/x/a{p}": {"get": {}}}}`, "whole-segment"},
		{"a trailing slash", `{"paths": {"/x/": {"get": {}}}}`, "whole-segment"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseSpec([]byte(tc.doc))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want one that says %q", err, tc.want)
			}
		})
	}
}

// The committed document is readable and names every scope it uses among
// the app's (AppScopes), whatever security it carries.
func TestCommittedSpec(t *testing.T) {
	spec, err := ReadSpec(SpecFile(repoRoot))
	if err != nil {
		t.Fatal(err)
	}
	if len(spec.Operations) == 0 {
		t.Fatal("no operations")
	}
	for _, s := range spec.Scopes {
		if !slices.Contains(AppScopes, s) {
			t.Errorf("the spec names scope %q, which the app does not define (AppScopes %q)", s, AppScopes)
		}
	}
}

// AppScopes duplicates operations.Scopes (this module cannot import the
// app's); reading that list from its source keeps the two equal.
func TestAppScopesMatchOperations(t *testing.T) {
	file, err := parser.ParseFile(token.NewFileSet(), filepath.Join(repoRoot, "operations", "scopes.go"), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	consts := map[string]string{}
	var scopes []ast.Expr
	ast.Inspect(file, func(n ast.Node) bool {
		spec, ok := n.(*ast.ValueSpec)
		if !ok {
			return true
		}
		for i, name := range spec.Names {
			if i >= len(spec.Values) {
				break
			}
			switch v := spec.Values[i].(type) {
			case *ast.BasicLit:
				if s, err := strconv.Unquote(v.Value); err == nil {
					consts[name.Name] = s
				}
			case *ast.CompositeLit:
				if name.Name == "Scopes" {
					scopes = v.Elts
				}
			}
		}
		return true
	})
	var got []string
	for _, e := range scopes {
		switch v := e.(type) {
		case *ast.Ident:
			got = append(got, consts[v.Name])
		case *ast.BasicLit:
			s, _ := strconv.Unquote(v.Value)
			got = append(got, s)
		}
	}
	if len(got) == 0 || !slices.Equal(got, AppScopes) {
		t.Errorf("operations.Scopes = %q, cdk AppScopes = %q: change both together", got, AppScopes)
	}
}

func TestAuthCheck(t *testing.T) {
	for _, tc := range []struct {
		auth Auth
		want string // "" for no error
	}{
		{Auth{}, "-c authIssuer="},
		{Auth{Issuer: "https://issuer.example.com/"}, "-c cognito=true"},
		{Auth{Issuer: "http://issuer.example.com/", Audience: "api"}, "https URL"},
		{Auth{Issuer: "https://issuer.example.com/", Audience: "api"}, ""},
	} {
		err := tc.auth.Check()
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%+v.Check() = %v, want %q", tc.auth, err, tc.want)
		}
	}
}

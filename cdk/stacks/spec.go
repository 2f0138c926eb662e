package stacks

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// BearerScheme names the OpenAPI security scheme of the API's bearer
// tokens (operations/scopes.go); the gateway knows how to enforce no other.
const BearerScheme = "bearer"

// SpecFile is the committed OpenAPI document under the repository root
// (RepoRoot): the stacks make the gateway's routes from it at synth.
func SpecFile(repoRoot string) string { return filepath.Join(repoRoot, "openapi", "openapi.json") }

// Operation is one operation of the OpenAPI document as a gateway sees it:
// a method and path, and whether a bearer token is required to reach it.
type Operation struct {
	ID     string // operationId
	Method string // upper case: GET, HEAD, POST...
	Path   string // as the spec writes it, /v1/items/{id}: API Gateway's syntax too
	// Protected is true when every security requirement of the operation
	// names the bearer scheme: no anonymous caller is allowed.
	Protected bool
	// Scopes a token must carry at least one of (the gateway's rule): the
	// union of the requirements' scopes. Empty on a protected operation:
	// any valid token. The app checks the exact rule (all scopes of one
	// requirement) itself; this only refuses what can never pass.
	Scopes []string
}

// Spec is what the stacks read from the OpenAPI document.
type Spec struct {
	Operations []Operation // in path, then method order
	// Scopes is every scope the document names, in its operations'
	// security or in an OAuth2 scheme's flows: what an issuer must define.
	Scopes []string
}

// ReadSpec reads and checks an OpenAPI 3 document (JSON).
func ReadSpec(path string) (Spec, error) {
	b, err := os.ReadFile(path) //nolint:gosec // the path is the repository's own spec, or a test fixture
	if err != nil {
		return Spec{}, fmt.Errorf("read the OpenAPI document: %w", err)
	}
	s, err := ParseSpec(b)
	if err != nil {
		return Spec{}, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

type specDoc struct {
	Security   *[]map[string][]string                `json:"security"`
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		SecuritySchemes map[string]struct {
			Type   string `json:"type"`
			Scheme string `json:"scheme"`
			Flows  map[string]struct {
				Scopes map[string]string `json:"scopes"`
			} `json:"flows"`
		} `json:"securitySchemes"`
	} `json:"components"`
}

type specOperation struct {
	OperationID string                 `json:"operationId"`
	Security    *[]map[string][]string `json:"security"`
}

// httpMethods are the operation keys of an OpenAPI path item that an HTTP
// API route can name (TRACE it cannot).
var httpMethods = []string{"get", "put", "post", "delete", "options", "head", "patch"}

// pathTemplate is a path API Gateway accepts as a route: plain segments and
// whole-segment {name} parameters ({name+} is a gateway idea, not OpenAPI's).
var pathTemplate = regexp.MustCompile(`^/$|^(/([A-Za-z0-9._~:@!$&'()*,;=-]+|\{[A-Za-z_][A-Za-z0-9_]*\}))+$`)

// ParseSpec reads the operations and scopes of an OpenAPI 3 document. It
// refuses what the gateway could not enforce as written, rather than
// deploying a route more open than the document says: an unknown scheme,
// a trace operation, a path API Gateway cannot route, a protected OPTIONS
// (CORS preflights carry no token).
func ParseSpec(b []byte) (Spec, error) {
	var doc specDoc
	if err := json.Unmarshal(b, &doc); err != nil {
		return Spec{}, fmt.Errorf("not an OpenAPI JSON document: %w", err)
	}
	if len(doc.Paths) == 0 {
		return Spec{}, errors.New("the OpenAPI document has no paths")
	}
	scopes := map[string]bool{}
	for _, s := range doc.Components.SecuritySchemes {
		for _, f := range s.Flows {
			for sc := range f.Scopes {
				scopes[sc] = true
			}
		}
	}
	var ops []Operation
	for _, path := range sortedKeys(doc.Paths) {
		if !pathTemplate.MatchString(path) {
			return Spec{}, fmt.Errorf("path %q: API Gateway routes need plain segments and whole-segment {name} parameters", path)
		}
		item := doc.Paths[path]
		for key := range item {
			if key == "trace" {
				return Spec{}, fmt.Errorf("trace %s: an HTTP API cannot route TRACE", path)
			}
		}
		for _, m := range httpMethods {
			raw, ok := item[m]
			if !ok {
				continue
			}
			var o specOperation
			if err := json.Unmarshal(raw, &o); err != nil {
				return Spec{}, fmt.Errorf("%s %s: %w", m, path, err)
			}
			security := doc.Security // the document's default, if any
			if o.Security != nil {
				security = o.Security
			}
			op := Operation{ID: o.OperationID, Method: strings.ToUpper(m), Path: path}
			named, err := op.setSecurity(security, doc)
			if err != nil {
				return Spec{}, fmt.Errorf("%s %s: %w", op.Method, path, err)
			}
			if op.Protected && op.Method == "OPTIONS" {
				return Spec{}, fmt.Errorf("OPTIONS %s: a protected OPTIONS operation would refuse CORS preflights, which carry no token", path)
			}
			for _, sc := range named {
				scopes[sc] = true
			}
			ops = append(ops, op)
		}
	}
	if len(ops) == 0 {
		return Spec{}, errors.New("the OpenAPI document has no operations")
	}
	return Spec{Operations: ops, Scopes: sortedKeys(scopes)}, nil
}

// setSecurity reads an operation's security requirements (OR of ANDs).
// No requirements, or an empty one ({}), lets anonymous callers in: the
// operation is public. Otherwise every requirement names the bearer scheme,
// and a token with any of their scopes may pass the gateway. It returns
// every scope the requirements name.
func (op *Operation) setSecurity(security *[]map[string][]string, doc specDoc) ([]string, error) {
	if security == nil || len(*security) == 0 {
		return nil, nil
	}
	var scopes []string
	anyScope := false // some requirement asks for a token and no scope
	public := false   // {} among the alternatives: the token is optional
	for _, req := range *security {
		if len(req) == 0 {
			public = true
		}
		for name, sc := range req {
			if name != BearerScheme {
				return nil, fmt.Errorf("security scheme %q: the gateway enforces only %q", name, BearerScheme)
			}
			if _, ok := doc.Components.SecuritySchemes[name]; !ok {
				return nil, fmt.Errorf("security scheme %q is not declared in components.securitySchemes", name)
			}
			if len(sc) == 0 {
				anyScope = true
			}
			scopes = append(scopes, sc...)
		}
	}
	slices.Sort(scopes)
	scopes = slices.Compact(scopes)
	if public {
		return scopes, nil
	}
	op.Protected = true
	if !anyScope {
		op.Scopes = scopes
	}
	return scopes, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

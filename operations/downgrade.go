package operations

import (
	"bytes"
	"encoding/json"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/yaml"
)

// Downgrade is doc as OpenAPI 3.0 for older tools, as JSON or YAML. Huma
// writes its own keyword patternDescription (the human wording of a
// pattern) beside pattern; a 3.0 schema allows no keywords but its own
// and x- extensions, so here it goes out as x-pattern-description. And 3.0
// lets a security requirement list scopes only for OAuth 2 and OpenID
// Connect schemes (3.1 allows them for any): the bearer scheme's scopes go
// out empty, kept beside as x-required-scopes.
func Downgrade(doc *huma.OpenAPI, asYAML bool) ([]byte, error) {
	b, err := doc.Downgrade()
	if err != nil {
		return nil, err
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, err
	}
	renameKeys(v, "patternDescription", "x-pattern-description")
	moveScopes(v)
	if b, err = json.Marshal(v); err != nil || !asYAML {
		return b, err
	}
	var out bytes.Buffer
	err = yaml.Convert(&out, bytes.NewReader(b))
	return out.Bytes(), err
}

// renameKeys renames the member from to to in every object within v.
func renameKeys(v any, from, to string) {
	switch v := v.(type) {
	case map[string]any:
		if x, ok := v[from]; ok {
			delete(v, from)
			v[to] = x
		}
		for _, e := range v {
			renameKeys(e, from, to)
		}
	case []any:
		for _, e := range v {
			renameKeys(e, from, to)
		}
	}
}

// moveScopes empties the scope lists of every operation's security
// requirements in the 3.0 document doc, and records each operation's
// scopes as x-required-scopes.
func moveScopes(doc any) {
	paths, _ := doc.(map[string]any)["paths"].(map[string]any)
	for _, item := range paths {
		ops, _ := item.(map[string]any)
		for _, op := range ops {
			op, _ := op.(map[string]any)
			reqs, _ := op["security"].([]any)
			var scopes []any
			for _, req := range reqs {
				req, _ := req.(map[string]any)
				for scheme, list := range req {
					l, _ := list.([]any)
					scopes = append(scopes, l...)
					req[scheme] = []any{}
				}
			}
			if len(scopes) > 0 {
				op["x-required-scopes"] = scopes
			}
		}
	}
}

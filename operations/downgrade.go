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
// and x- extensions, so here it goes out as x-pattern-description.
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

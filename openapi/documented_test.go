package openapi_test

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
)

// TestDocumented walks the spec the code produces and fails for every place
// a reader of /docs would meet without a description or an example: each
// operation, parameter, response header, schema property and error
// response.
func TestDocumented(t *testing.T) {
	var doc map[string]any
	if err := json.Unmarshal(specs(t)["openapi.json"], &doc); err != nil {
		t.Fatal(err)
	}
	w := walker{schemas: obj(obj(doc["components"])["schemas"])}
	for _, path := range sortedKeys(obj(doc["paths"])) {
		item := obj(obj(doc["paths"])[path])
		for _, method := range sortedKeys(item) {
			op := obj(item[method])
			if op == nil {
				continue
			}
			w.operation(fmt.Sprintf("%s %s", strings.ToUpper(method), path), op)
		}
	}
	for _, name := range sortedKeys(w.schemas) {
		w.schema("components.schemas."+name, obj(w.schemas[name]))
	}
	for _, p := range w.problems {
		t.Error(p)
	}
	if len(w.problems) > 0 {
		t.Log("add doc:/example: struct tags (models/, operations/) or the operation's Description")
	}
}

type walker struct {
	schemas  map[string]any
	problems []string
}

func (w *walker) fail(where, what string) {
	w.problems = append(w.problems, where+": "+what)
}

func (w *walker) operation(where string, op map[string]any) {
	for _, k := range []string{"operationId", "summary", "description"} {
		if str(op[k]) == "" {
			w.fail(where, "no "+k)
		}
	}
	where += " (" + str(op["operationId"]) + ")"
	for _, p := range list(op["parameters"]) {
		p := obj(p)
		at := fmt.Sprintf("%s parameter %s %q", where, str(p["in"]), str(p["name"]))
		if str(p["description"]) == "" {
			w.fail(at, "no description")
		}
		if !hasExample(p) && !hasExample(obj(p["schema"])) {
			w.fail(at, "no example")
		}
		w.schema(at, obj(p["schema"]))
	}
	if body := obj(op["requestBody"]); body != nil {
		for ct, mt := range obj(body["content"]) {
			w.schema(where+" request body "+ct, obj(obj(mt)["schema"]))
		}
	}
	for _, code := range sortedKeys(obj(op["responses"])) {
		resp := obj(obj(op["responses"])[code])
		at := where + " response " + code
		if str(resp["description"]) == "" {
			w.fail(at, "no description")
		}
		for _, name := range sortedKeys(obj(resp["headers"])) {
			h := obj(obj(resp["headers"])[name])
			hs := obj(h["schema"])
			if str(h["description"]) == "" && str(hs["description"]) == "" {
				w.fail(at+" header "+name, "no description")
			}
			if !hasExample(h) && !hasExample(hs) {
				w.fail(at+" header "+name, "no example")
			}
		}
		isError := code == "default" || code >= "400"
		for ct, mt := range obj(resp["content"]) {
			mt := obj(mt)
			// A problem's generic schema examples say nothing about this
			// operation; the response itself must show what a client gets.
			if isError && !hasExample(mt) {
				w.fail(at+" "+ct, "no example of the problem")
			}
			w.schema(at+" "+ct, obj(mt["schema"]))
		}
	}
}

// schema checks the properties of an inline or component schema; $refs are
// checked once, where the component is defined.
func (w *walker) schema(where string, s map[string]any) {
	if s == nil || s["$ref"] != nil {
		return
	}
	for _, name := range sortedKeys(obj(s["properties"])) {
		p := obj(obj(s["properties"])[name])
		at := where + " property " + name
		if w.description(p) == "" {
			w.fail(at, "no description")
		}
		if !w.exampled(p) {
			w.fail(at, "no example")
		}
		w.schema(at, p)
	}
	if items := obj(s["items"]); items != nil {
		w.schema(where+"[]", items)
	}
}

// description is the property's own description, or that of the schema it
// refers to.
func (w *walker) description(p map[string]any) string {
	if d := str(p["description"]); d != "" {
		return d
	}
	if ref := w.resolve(p); ref != nil {
		return str(ref["description"])
	}
	return ""
}

// exampled reports whether a reader sees an example for p: its own, or one
// Swagger UI builds from parts that all have examples (a referenced schema,
// an array of them, an object whose every property has one).
func (w *walker) exampled(p map[string]any) bool {
	if hasExample(p) {
		return true
	}
	if ref := w.resolve(p); ref != nil {
		return w.exampled(ref)
	}
	if items := obj(p["items"]); items != nil {
		return w.exampled(items)
	}
	props := obj(p["properties"])
	if len(props) == 0 {
		return false
	}
	for _, sub := range props {
		if !w.exampled(obj(sub)) {
			return false
		}
	}
	return true
}

func (w *walker) resolve(p map[string]any) map[string]any {
	name, ok := strings.CutPrefix(str(p["$ref"]), "#/components/schemas/")
	if !ok {
		return nil
	}
	return obj(w.schemas[name])
}

func hasExample(v map[string]any) bool {
	if v == nil {
		return false
	}
	if _, ok := v["example"]; ok {
		return true
	}
	switch ex := v["examples"].(type) {
	case []any:
		return len(ex) > 0
	case map[string]any:
		return len(ex) > 0
	}
	return false
}

func obj(v any) map[string]any { m, _ := v.(map[string]any); return m }
func list(v any) []any         { l, _ := v.([]any); return l }
func str(v any) string         { s, _ := v.(string); return s }

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

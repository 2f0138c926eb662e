package openapi_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"testing"

	"github.com/typedapi/typedapi/operations"
	"github.com/typedapi/typedapi/store/memory"
)

var update = flag.Bool("update", false, "rewrite openapi.json and openapi-3.0.json from the code")

// snapshotVersion stands in for the build version in the committed files:
// the build version is not part of the contract, and a fixed value keeps the
// snapshot stable across commits.
const snapshotVersion = "dev"

// specs returns the documents the code produces now, formatted as committed:
// file name → indented JSON with a final newline.
func specs(t *testing.T) map[string][]byte {
	t.Helper()
	_, api := operations.New(operations.Options{Title: "typedapi", Version: snapshotVersion}, operations.StoresOf(memory.New()))
	doc := api.OpenAPI()
	v31, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	compact30, err := operations.Downgrade(doc, false)
	if err != nil {
		t.Fatal(err)
	}
	var v30 bytes.Buffer
	if err := json.Indent(&v30, compact30, "", "  "); err != nil {
		t.Fatal(err)
	}
	return map[string][]byte{
		"openapi.json":     append(v31, '\n'),
		"openapi-3.0.json": append(v30.Bytes(), '\n'),
	}
}

// TestSnapshot fails when the code's spec differs from the committed one, so
// every contract change shows up in review as a diff of openapi.json.
func TestSnapshot(t *testing.T) {
	for name, got := range specs(t) {
		if *update {
			if err := os.WriteFile(name, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(name)
		if err != nil {
			t.Fatalf("%v (create it with: go test ./openapi -run TestSnapshot -update)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("openapi/%s differs from the spec the code produces (first difference near line %d).\n"+
				"If the change is intended, refresh it with: go test ./openapi -run TestSnapshot -update\n"+
				"then regenerate the client: go generate ./e2e/client", name, firstDiffLine(got, want))
		}
	}
}

func firstDiffLine(a, b []byte) int {
	line := 1
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return line
		}
		if a[i] == '\n' {
			line++
		}
	}
	return line
}

// TestOrderRules: the order operations' rules reach the document (and so
// /docs and the generated client): the status enums, the quantity bounds,
// the filters of the listing.
func TestOrderRules(t *testing.T) {
	var doc map[string]any
	if err := json.Unmarshal(specs(t)["openapi.json"], &doc); err != nil {
		t.Fatal(err)
	}
	schemas := obj(obj(doc["components"])["schemas"])
	prop := func(schema, name string) map[string]any { return obj(obj(obj(schemas[schema])["properties"])[name]) }
	param := func(path, name string) map[string]any {
		for _, p := range list(obj(obj(obj(doc["paths"])[path])["get"])["parameters"]) {
			if str(obj(p)["name"]) == name {
				return obj(obj(p)["schema"])
			}
		}
		return nil
	}
	all := `["pending","paid","shipped","cancelled"]`
	for _, c := range []struct {
		where string
		got   map[string]any
		key   string
		want  string
	}{
		{"Order.status", prop("Order", "status"), "enum", all},
		{"OrderPatch.status", prop("OrderPatch", "status"), "enum", all},
		{"NewOrder.status", prop("NewOrder", "status"), "enum", `["pending"]`},
		{"NewOrder.quantity", prop("NewOrder", "quantity"), "minimum", "1"},
		{"NewOrder.quantity", prop("NewOrder", "quantity"), "maximum", "1000"},
		{"Order.total", prop("Order", "total"), "maximum", "9007199254740991"},
		{"GET /v1/orders status", param("/v1/orders", "status"), "enum", all},
		{"GET /v1/orders item_id", param("/v1/orders", "item_id"), "pattern", `"^[0-9A-HJKMNP-TV-Z]{26}$"`},
	} {
		got, _ := json.Marshal(c.got[c.key])
		if string(got) != c.want {
			t.Errorf("%s %s = %s, want %s", c.where, c.key, got, c.want)
		}
	}
}

package operations

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/typedapi/typedapi/models"
)

// itemBodies are create and replace bodies: the first ones take the direct
// path, the rest must be handed to encoding/json.
var (
	directItemBodies = []string{
		`{"name":"Espresso cup","description":"Porcelain cup, 80 ml","price":1250,"currency":"EUR","tags":["kitchen","porcelain"]}`,
		`{"name":"","price":-1,"currency":"EUR"}`,
		` { "tags" : [ ] , "price" : 0 , "name" : "x" , "currency" : "eur" } `,
		"{\n\t\"name\": \"caf\u00e9 \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u00e9 \\ud83d\\ude00 x\",\r\n\"price\": -0}",
		`{"price":9223372036854775807,"tags":["a","a",""]}`,
		`{"price":-9223372036854775808}`,
		`{"na\u006de":"escaped member name"}`,
		`{}`,
	}
	otherItemBodies = []string{
		`{"NAME":"other case"}`, `{"Price":1}`, // encoding/json matches these ignoring case
		`{"name":"a","name":"b"}`, `{"tags":[],"tags":null}`, `{"name":"a","n\u0061me":"b"}`, // duplicates: checkJSON's 400
		`{"name":null}`, `{"tags":null}`, `{"price":null}`,
		`{"price":1.0}`, `{"price":1e3}`, `{"price":9223372036854775808}`, `{"price":-9223372036854775809}`, `{"price":01}`, `{"price":"1"}`, `{"price":-}`,
		`{"name":1}`, `{"tags":"a"}`, `{"tags":[1]}`, `{"tags":[["a"]]}`, `{"tags":["a",]}`, `{"tags":["a"`,
		`{"extra":1}`, `{"name":"a"}x`, `{"name":"a"}{}`, `{"name":"a",}`, `{"name" "a"}`, `{name:"a"}`, `{"name":"a"`, ``, `[]`, `"x"`, `null`,
		"{\"name\":\"\xff\"}", "{\"name\":\"a\x01\"}", `{"name":"\x"}`, `{"name":"\u12"}`,
	}
)

func unmarshalItemFields(data []byte) (models.ItemFields, error) {
	var f models.ItemFields
	err := json.Unmarshal(data, &f)
	return f, err
}

// FuzzDecodeItemFields: whatever decodeItemFields accepts, checkJSON and
// encoding/json accept too, and encoding/json makes the same fields of it.
func FuzzDecodeItemFields(f *testing.F) {
	for _, s := range append(append([]string{}, directItemBodies...), otherItemBodies...) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var got models.ItemFields
		if !decodeItemFields(data, &got) {
			if !reflect.DeepEqual(got, models.ItemFields{}) {
				t.Fatalf("%q: refused, but changed the fields to %#v", data, got)
			}
			return
		}
		if err := checkJSON(data); err != nil {
			t.Fatalf("%q: decoded directly, but checkJSON refuses it: %v", data, err)
		}
		want, err := unmarshalItemFields(data)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: decoded directly to %#v, encoding/json made %#v (%v)", data, got, want, err)
		}
	})
}

func TestDecodeItemFields(t *testing.T) {
	for _, s := range directItemBodies {
		var got models.ItemFields
		if !decodeItemFields([]byte(s), &got) {
			t.Errorf("%s: not decoded directly", s)
			continue
		}
		if want, err := unmarshalItemFields([]byte(s)); err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: decoded to %#v, encoding/json made %#v (%v)", s, got, want, err)
		}
	}
	for _, s := range otherItemBodies {
		if decodeItemFields([]byte(s), new(models.ItemFields)) {
			t.Errorf("%s: decoded directly; encoding/json must decide it", s)
		}
	}
	// A struct that already holds something: encoding/json merges into it.
	f := models.ItemFields{Name: "kept"}
	if decodeItemFields([]byte(`{"price":1}`), &f) || !reflect.DeepEqual(f, models.ItemFields{Name: "kept"}) {
		t.Errorf("decoded into a non-zero struct: %#v", f)
	}
}

// TestDecodeItemFieldsKnowsEveryField: a field added to models.ItemFields
// and not to decodeItemFields would send every body that sets it down the
// slow path; this fails first.
func TestDecodeItemFieldsKnowsEveryField(t *testing.T) {
	example := map[reflect.Kind]string{reflect.String: `"x"`, reflect.Int64: `1`, reflect.Slice: `["x"]`}
	typ := reflect.TypeFor[models.ItemFields]()
	for i := range typ.NumField() {
		field := typ.Field(i)
		name, _, _ := strings.Cut(field.Tag.Get("json"), ",")
		v, ok := example[field.Type.Kind()]
		if !ok {
			t.Errorf("field %s: no example for kind %s; teach decodeItemFields and this test", field.Name, field.Type.Kind())
			continue
		}
		body := `{"` + name + `":` + v + `}`
		if !decodeItemFields([]byte(body), new(models.ItemFields)) {
			t.Errorf("field %s: %s is not decoded directly", field.Name, body)
		}
	}
}

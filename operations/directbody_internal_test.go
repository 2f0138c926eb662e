package operations

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"

	"github.com/danielgtaylor/huma/v2"
)

// TestProblemBodyFields: every ErrorModel field, empty or not, and every
// kind of rejected value come out as encoding/json writes Huma's wrapper
// (a `$schema` field followed by the model's, HTML left unescaped).
func TestProblemBodyFields(t *testing.T) {
	models := []*huma.ErrorModel{
		{},
		{Status: 404, Title: "Not Found", Detail: "No item has this id."},
		{Type: "https://example.com/p", Title: "<&>", Status: 422, Detail: "d\u2028", Instance: "urn:x", Errors: []*huma.ErrorDetail{
			nil, {}, {Message: "m"}, {Location: "body.a"}, {Value: ""}, {Value: -1.5e-9}, {Value: 3}, {Value: int64(-4)}, {Value: true},
			{Message: "expected array items to be unique", Location: "body.tags", Value: []any{"a", "<a>", 1.0, nil, map[string]any{"z": 1.0, "a": []any{}}}},
			{Value: map[string]any{"name": "\x01", "price": math.MaxFloat64}},
		}},
	}
	for _, m := range models {
		if !plainValues(m) {
			t.Fatalf("%+v: not plain", m)
		}
		got := string((&problemBody{schema: "https://api.example.com/schemas/ErrorModel.json", model: m}).appendJSON(nil))
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(struct {
			Schema string `json:"$schema,omitempty"`
			huma.ErrorModel
		}{"https://api.example.com/schemas/ErrorModel.json", *m}); err != nil {
			t.Fatal(err)
		}
		if got+"\n" != want.String() {
			t.Errorf("\n got %s\nwant %s", got, want.String())
		}
	}
	for _, v := range []any{math.NaN(), math.Inf(1), struct{}{}, []string{"a"}, uint8(1)} {
		if plainValues(&huma.ErrorModel{Errors: []*huma.ErrorDetail{{Value: v}}}) {
			t.Errorf("%#v counted as plain: it must take the generic path", v)
		}
	}
}

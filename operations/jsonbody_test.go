package operations

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/danielgtaylor/huma/v2"

	"github.com/typedapi/typedapi/models"
)

// referenceCheck is the strict rules written the obvious way, with
// encoding/json's tokenizer: slow (it allocates per token) but easy to
// trust. The JSON format must agree with it on every syntactically valid
// body (FuzzJSONBody).
func referenceCheck(data []byte) error {
	if !utf8.Valid(data) {
		return errors.New("utf8")
	}
	if hasLoneSurrogate(data) {
		return errors.New("surrogate")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	type frame struct {
		names     map[string]bool
		object    bool
		expectKey bool
	}
	var stack []frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil //nolint:nilerr // end of input, or a syntax error the decoder reports
		}
		top := len(stack) - 1
		switch t := tok.(type) {
		case json.Delim:
			if t == '{' || t == '[' {
				if len(stack) == maxJSONDepth {
					return errors.New("depth")
				}
				if top >= 0 && stack[top].object {
					stack[top].expectKey = true
				}
				stack = append(stack, frame{object: t == '{', expectKey: t == '{', names: map[string]bool{}})
			} else {
				stack = stack[:top]
			}
			continue
		case string:
			if top >= 0 && stack[top].object && stack[top].expectKey {
				if stack[top].names[t] {
					return errors.New("duplicate")
				}
				stack[top].names[t] = true
				stack[top].expectKey = false
				continue
			}
		}
		if top >= 0 && stack[top].object {
			stack[top].expectKey = true
		}
	}
}

// hasLoneSurrogate is the lone-surrogate rule done without a decoder, on a whole
// valid body (where \u appears inside strings only): with escaped
// backslashes blanked out, every surrogate pair removed, any surrogate
// escape left is a lone one.
func hasLoneSurrogate(data []byte) bool {
	s := strings.ReplaceAll(string(data), `\\`, "__")
	s = surrogatePair.ReplaceAllString(s, "")
	return surrogateEscape.MatchString(s)
}

var (
	surrogatePair   = regexp.MustCompile(`\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}`)
	surrogateEscape = regexp.MustCompile(`\\u[dD][89a-fA-F][0-9a-fA-F]{2}`)
)

var strictCases = []struct {
	body string
	want string // "" accepted, else a substring of the error
}{
	{`{"name":"Cup","price":1,"currency":"EUR","tags":["a","b"]}`, ""},
	{`{"a":1,"a":2}`, "duplicate member \"a\""},
	{`{"a":1,"\u0061":2}`, "duplicate member \"a\""},
	{`{"a":{"a":1},"b":{"a":1}}`, ""},
	{`{"a":{"x":1,"x":2}}`, "duplicate member \"x\""},
	{`["a","a",{"a":1}]`, ""},
	{`{"a":"b","b":"a"}`, ""},
	{`{"k\"q":1,"k\"q":2}`, "duplicate member"},
	{`{"t":"\\","t":1}`, "duplicate member"},
	{`{ "a" : 1 , "a" : 2 }`, "duplicate member"},
	{strings.Repeat("[", 33) + strings.Repeat("]", 33), "nested too deeply"},
	{strings.Repeat("[", 32) + strings.Repeat("]", 32), ""},
	{"{\"name\":\"\xff\"}", "not valid UTF-8"},
	{`{"name":"a\ud800"}`, "lone UTF-16 surrogate"},
	{`{"\udc00":1}`, "lone UTF-16 surrogate"},
	{`{"name":"\ud83d\ude00 \\ud800"}`, ""},
	{`{"name":`, "unexpected end of JSON input"},
	{`}}}]]]`, "invalid character '}'"},
	{`"unterminated`, "unexpected end of JSON input"},
	{`[` + strings.Repeat(`"[",`, 40) + `1]`, ""}, // brackets in strings are no nesting
	{`["\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["]`, ""},
	{"\xff", "invalid character"}, // outside a string, a bad byte is a syntax error
}

// decodeBody reads data as the API reads every JSON body.
func decodeBody(data []byte, into any) error { return jsonFormat.Unmarshal(data, into) }

// TestStrictRules: the JSON format refuses exactly what the strict rules
// refuse (duplicate names, also when escaped; invalid UTF-8; lone
// surrogates; nesting beyond maxJSONDepth), in plain words.
func TestStrictRules(t *testing.T) {
	for _, c := range strictCases {
		err := decodeBody([]byte(c.body), new(any))
		if (c.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%.60q: got %v, want %q", c.body, err, c.want)
		}
	}
	// Many members: a duplicate among them is still found.
	var b strings.Builder
	b.WriteString("{")
	for i := range 100 {
		b.WriteString(`"k` + strings.Repeat("x", i) + `":1,`)
	}
	b.WriteString(`"kxxxxx":2}`)
	if err := decodeBody([]byte(b.String()), new(any)); err == nil || err.Error() != `duplicate member "kxxxxx" in a JSON object` {
		t.Errorf("duplicate among 100 members: %v", err)
	}
	// Every JSON media type, and Huma's key for "…+json", reads this way.
	for ct, f := range jsonFormats(huma.DefaultFormats) {
		if err := f.Unmarshal([]byte(`{"a":1,"a":2}`), new(any)); err == nil {
			t.Errorf("%s: a duplicate member was accepted", ct)
		}
	}
}

// TestExactNames: a member is read into a field only when its name is the
// field's JSON name exactly; "NAME" is another member (which validation
// refuses as unknown), not a second "name".
func TestExactNames(t *testing.T) {
	var f models.ItemFields
	if err := decodeBody([]byte(`{"NAME":"x","name":"y","Price":5}`), &f); err != nil || f.Name != "y" || f.Price != 0 {
		t.Errorf("got %+v, %v; want only name read", f, err)
	}
}

// plainWording matches every error text a client can get from the JSON
// format for a body decoded into an untyped value.
var plainWording = regexp.MustCompile(`^(` + strings.Join([]string{
	regexp.QuoteMeta(invalidUTF8Text),
	regexp.QuoteMeta(loneSurrogateText),
	regexp.QuoteMeta(unexpectedEndText),
	`the body is nested too deeply \(more than 32 levels\)`,
	`duplicate member ".*" in a JSON object`,
	`invalid character .*`,
	`invalid escape sequence .* in string`,
	`object member name must be a string`,
	`missing value after object name`,
	`number \S+ is out of range`,
}, "|") + `)$`)

// FuzzJSONBody: whatever the bytes, decoding never panics; a body is
// accepted exactly when it is JSON that encoding/json reads and the strict
// rules allow (referenceCheck), and then both decoders read the same
// value; a refusal is in plain words. Typed targets (the create and patch
// bodies) never panic and never name Go types.
func FuzzJSONBody(f *testing.F) {
	for _, c := range strictCases {
		f.Add([]byte(c.body))
	}
	f.Add([]byte(`{"name":"Cup","price":1.0,"currency":"EUR","tags":["a"]}`))
	f.Add([]byte(`{"price":1e400,"description":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var got any
		err := decodeBody(data, &got)
		var want any
		wantErr := json.Unmarshal(data, &want)
		if wantErr == nil {
			wantErr = referenceCheck(data)
		}
		switch {
		case err == nil && wantErr != nil:
			t.Fatalf("%q accepted; the strict rules refuse it: %v", data, wantErr)
		case err != nil && wantErr == nil:
			t.Fatalf("%q refused (%v); the strict rules allow it", data, err)
		case err == nil && !reflect.DeepEqual(got, want):
			t.Fatalf("%q: read as %#v, encoding/json reads %#v", data, got, want)
		case err != nil && !plainWording.MatchString(err.Error()):
			t.Fatalf("%q: refused in words a client should not see: %q", data, err)
		}
		for _, into := range []any{new(models.ItemFields), new(ItemPatch)} {
			if err := decodeBody(data, into); err != nil && strings.Contains(err.Error(), "Go ") {
				t.Fatalf("%q into %T: %q names Go types", data, into, err)
			}
		}
	})
}

func BenchmarkJSONBody(b *testing.B) {
	body := []byte(`{"name":"Espresso cup","description":"80 ml","price":1250,"currency":"EUR","tags":["kitchen","porcelain"]}`)
	b.ReportAllocs()
	for b.Loop() { // as Huma reads a create: for validation, then into the input
		var v any
		var fields models.ItemFields
		if err := decodeBody(body, &v); err != nil {
			b.Fatal(err)
		}
		if err := decodeBody(body, &fields); err != nil {
			b.Fatal(err)
		}
	}
}

// encoding/json's type errors reach a client without Go type names.
func TestPlainDecodeError(t *testing.T) {
	f := jsonFormats(map[string]huma.Format{"application/json": huma.DefaultJSONFormat})["application/json"]
	for _, c := range []struct {
		body string
		into any
		want string
	}{
		{`{"price":1e400}`, new(any), "number 1e400 is out of range"},
		{`[1,1e400]`, new(any), "number 1e400 is out of range"},
		{`{"price":1e400,"name":"a","currency":"EUR"}`, new(models.ItemFields), "number 1e400 at price: write an integer without a fraction or exponent"},
		{`{"price":99999999999999999999,"name":"a","currency":"EUR"}`, new(models.ItemFields), "number 99999999999999999999 at price is out of range"},
		{`{"price":"x","name":"a","currency":"EUR"}`, new(models.ItemFields), "unexpected string at price"},
		{`{"price":1.0,"name":"a","currency":"EUR"}`, new(models.ItemFields), "number 1.0 at price: write an integer without a fraction or exponent"},
		{`{"price":1e2,"name":"a","currency":"EUR"}`, new(models.ItemFields), "number 1e2 at price: write an integer without a fraction or exponent"},
	} {
		err := f.Unmarshal([]byte(c.body), c.into)
		if err == nil || err.Error() != c.want {
			t.Errorf("%s into %T: %v, want %q", c.body, c.into, err, c.want)
		}
	}
}

// A decode error repeats at most maxEchoedValue bytes of what the client
// sent, however long the number or the duplicated member name.
func TestDecodeErrorEchoIsBounded(t *testing.T) {
	f := jsonFormats(map[string]huma.Format{"application/json": huma.DefaultJSONFormat})["application/json"]
	long := strings.Repeat("1", 100000)
	name := strings.Repeat("a", 100000)
	for _, c := range []struct {
		body string
		into any
	}{
		{`{"price":` + long + `e400}`, new(any)},
		{`{"price":` + long + `,"name":"a","currency":"EUR"}`, new(models.ItemFields)},
		{`{"price":` + long + `.5,"name":"a","currency":"EUR"}`, new(models.ItemFields)},
		{`{"` + name + `":1,"` + name + `":2}`, new(any)},
	} {
		err := f.Unmarshal([]byte(c.body), c.into)
		if err == nil {
			t.Fatalf("%.40s… into %T: accepted", c.body, c.into)
		}
		_, untyped := c.into.(*any)
		if msg := err.Error(); len(msg) > 2*maxEchoedValue || !strings.Contains(msg, "…(truncated)") || untyped && !plainWording.MatchString(msg) {
			t.Errorf("%.40s… into %T: %d bytes: %.300s", c.body, c.into, len(msg), msg)
		}
	}
}

// A lone surrogate escape is refused, as invalid UTF-8 is, whatever the
// body is decoded into; a pair is one character.
func TestLoneSurrogates(t *testing.T) {
	for _, c := range []struct {
		s    string
		lone bool
	}{
		{`a\ud800`, true}, {`\udc00x`, true}, {`\ud800\u0041`, true}, {`\ud800\ud800`, true}, {`\ud83d`, true},
		{`\ud83d\ude00`, false}, {`\uD83D\uDE00`, false}, {`\u00e9\\u`, false}, {`\\ud800`, false}, {`plain`, false},
		{`\ud83d\ude00\udc00`, true},
	} {
		if hasLoneSurrogate([]byte(c.s)) != c.lone {
			t.Fatalf("%s: the test's own rule disagrees with the table", c.s)
		}
		body := []byte(`{"name":"` + c.s + `"}`)
		for _, into := range []any{new(any), new(models.ItemFields), new(ItemPatch)} {
			err := decodeBody(body, into)
			if c.lone && (err == nil || err.Error() != loneSurrogateText) || !c.lone && err != nil {
				t.Errorf("%s into %T: %v", c.s, into, err)
			}
		}
	}
}

// TestMarshalLikeEncodingJSON: responses keep the bytes Huma's default
// format (encoding/json) wrote for them: an ErrorModel's zero fields left
// out, map keys sorted, HTML not escaped, a newline at the end. Two known
// differences are left out of the values: nil slices (now [] instead of
// null) and U+2028/U+2029 (now written as they are, not escaped).
func TestMarshalLikeEncodingJSON(t *testing.T) {
	at := time.Date(2026, 11, 25, 10, 0, 0, 123456789, time.FixedZone("", 3600))
	for _, v := range []any{
		&huma.ErrorModel{},
		&huma.ErrorModel{Status: 404, Title: "Not Found", Detail: "No item has this id."},
		&huma.ErrorModel{Type: "https://example.com/p", Title: "<&>", Status: 422, Detail: "d\x01\"\\", Instance: "urn:x", Errors: []*huma.ErrorDetail{
			nil, {}, {Message: "m"}, {Location: "body.a"}, {Value: ""}, {Value: -1.5e-9}, {Value: 3}, {Value: int64(-4)}, {Value: true},
			{Message: "expected array items to be unique", Location: "body.tags", Value: []any{"a", "<a>", 1.0, 1e21, nil, map[string]any{"z": 1.0, "a": []any{}}}},
			{Value: map[string]any{"name": "\x01", "price": math.MaxFloat64, "b": 1e-7, "a": 123456789.0}},
		}},
		models.Item{ID: "01JDQ8Z6M3N4P5Q6R7S8T9V0WX", ItemFields: models.ItemFields{Name: "<b>Cup</b> & ☕", Price: 1250, Currency: "EUR",
			Tags: []models.Tag{"a&b", "é"}}, CreatedAt: at, UpdatedAt: at.UTC(), Version: 3},
		models.Item{ItemFields: models.ItemFields{Description: "d", Tags: []models.Tag{}}},
	} {
		var got, want bytes.Buffer
		if err := jsonFormat.Marshal(&got, v); err != nil {
			t.Fatal(err)
		}
		if err := huma.DefaultJSONFormat.Marshal(&want, v); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Errorf("\n got %s\nwant %s", got.String(), want.String())
		}
	}
}

// TestMarshalInvalidUTF8: text that is not UTF-8 (a value echoed in a
// problem is cut at a byte count) is written with U+FFFD, as
// encoding/json wrote it, instead of failing the response.
func TestMarshalInvalidUTF8(t *testing.T) {
	var got bytes.Buffer
	if err := jsonFormat.Marshal(&got, &huma.ErrorModel{Detail: "caf\xc3"}); err != nil {
		t.Fatal(err)
	}
	if want := "{\"detail\":\"caf\ufffd\"}\n"; got.String() != want {
		t.Errorf("got %q, want %q", got.String(), want)
	}
}

package operations

import (
	"bytes"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/danielgtaylor/huma/v2"

	"github.com/typedapi/typedapi/models"
)

// referenceCheck is checkJSON written the obvious way, with encoding/json's
// tokenizer: slow (it allocates per token) but easy to trust. checkJSON
// must agree with it on every syntactically valid body.
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

// hasLoneSurrogate is loneSurrogate's rule done another way, on a whole
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

var checkJSONCases = []struct {
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
	{`{"name":`, ""}, // a syntax error: left to the decoder
	{`}}}]]]`, ""},
	{`"unterminated`, ""},
}

func TestCheckJSON(t *testing.T) {
	for _, c := range checkJSONCases {
		err := checkJSON([]byte(c.body))
		if (c.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%.60q: got %v, want %q", c.body, err, c.want)
		}
	}
	// Many members: past the slice, the map still finds a duplicate.
	var b strings.Builder
	b.WriteString("{")
	for i := range 100 {
		b.WriteString(`"k` + strings.Repeat("x", i) + `":1,`)
	}
	b.WriteString(`"kxxxxx":2}`)
	if err := checkJSON([]byte(b.String())); err == nil {
		t.Error("duplicate among 100 members not found")
	}
}

// FuzzCheckJSON: on every valid JSON body the scanner and the tokenizer
// agree on accepting it.
func FuzzCheckJSON(f *testing.F) {
	for _, c := range checkJSONCases {
		f.Add([]byte(c.body))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got := checkJSON(data)
		if !json.Valid(data) {
			return // malformed: the decoder's error wins, whatever the scan said
		}
		if want := referenceCheck(data); (got == nil) != (want == nil) {
			t.Fatalf("%q: scanner %v, reference %v", data, got, want)
		}
	})
}

func BenchmarkCheckJSON(b *testing.B) {
	body := []byte(`{"name":"Espresso cup","description":"80 ml","price":1250,"currency":"EUR","tags":["kitchen","porcelain"]}`)
	b.ReportAllocs()
	for b.Loop() {
		if err := checkJSON(body); err != nil {
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

// A lone surrogate escape is refused by every decoder, as invalid UTF-8
// is; a pair is one character.
func TestLoneSurrogates(t *testing.T) {
	for _, c := range []struct {
		s    string
		lone bool
	}{
		{`a\ud800`, true}, {`\udc00x`, true}, {`\ud800\u0041`, true}, {`\ud800\ud800`, true}, {`\ud83d`, true},
		{`\ud83d\ude00`, false}, {`\uD83D\uDE00`, false}, {`\u00e9\\u`, false}, {`\\ud800`, false}, {`plain`, false},
		{`\ud83d\ude00\udc00`, true}, {`\u12`, false},
	} {
		if got := loneSurrogate([]byte(c.s)); got != c.lone {
			t.Errorf("loneSurrogate(%s) = %v, want %v", c.s, got, c.lone)
		}
		body := []byte(`{"name":"` + c.s + `"}`)
		_, anyOK := decodeAny(body)
		var fields models.ItemFields
		checked := checkJSON(body)
		if c.lone && (anyOK || decodeItemFields(body, &fields) || checked == nil) {
			t.Errorf("%s: decodeAny %v, decodeItemFields %v, checkJSON %v: want all to refuse", c.s, anyOK, decodeItemFields(body, &fields), checked)
		}
	}
}

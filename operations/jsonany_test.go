package operations

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

var anySeeds = []string{
	`{"name":"Espresso cup","description":"Porcelain cup, 80 ml","price":1250,"currency":"EUR","tags":["kitchen","porcelain"]}`,
	`{"name":"","price":-1,"currency":"eur","tags":["a","a"]}`,
	` [ 1 , -0 , 0.5e-3 , 1E+2 , true , false , null , { } , [ ] , "" ] `,
	`"esc \" \\ \/ \b \f \n \r \t \u00e9 \u2028 \ud83d\ude00 \uD83D\uDE00x"`, // lone surrogates: TestLoneSurrogates
	`{"a":{"b":{"c":[1,{"d":"e"}]}},"a":2}`,
	`1e400`, `-`, `01`, `1.`, `.5`, `1e`, `tru`, `nul`, `"\u12"`, `"\x"`, "\"\x01\"", `{"a" 1}`, `{"a":1,}`, `[1,]`, `{}x`, `"unterminated`,
	"\"\xff\"", `{"a":1}{"b":2}`, `[` + `[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[` + `]`,
}

// FuzzDecodeAny: whatever decodeAny accepts, checkJSON and encoding/json
// accept too, and encoding/json decodes it to the same value.
func FuzzDecodeAny(f *testing.F) {
	for _, s := range anySeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, ok := decodeAny(data)
		var want any
		err := json.Unmarshal(data, &want)
		if ok && (err != nil || !reflect.DeepEqual(got, want)) {
			t.Errorf("%q: decodeAny made %#v, encoding/json %#v (%v)", data, got, want, err)
		}
		if cerr := checkJSON(data); ok && cerr != nil {
			t.Errorf("%q: decodeAny took it, checkJSON refuses it: %v", data, cerr)
		}
	})
}

// TestDecodeAnyTakesBodies: the bodies clients send, valid or not by the
// schema, take the direct path (a test that only checked agreement would
// pass if decodeAny gave up on everything).
func TestDecodeAnyTakesBodies(t *testing.T) {
	deep := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	for _, s := range append(anySeeds[:4:4], `{"a":{"a":1},"b":[{"a":1},{"a":2}]}`, deep(maxJSONDepth)) {
		if _, ok := decodeAny([]byte(s)); !ok {
			t.Errorf("%.80s: not decoded directly", s)
		}
	}
	// What checkJSON refuses goes back to it, for its 400.
	for _, s := range []string{anySeeds[4], `{"a":1,"\u0061":2}`, deep(maxJSONDepth + 1), `{"a":` + deep(maxJSONDepth) + `}`} {
		if _, ok := decodeAny([]byte(s)); ok || checkJSON([]byte(s)) == nil {
			t.Errorf("%.80s: decoded directly (%v), or checkJSON takes it", s, ok)
		}
	}
}

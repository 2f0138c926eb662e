package operations

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"github.com/typedapi/typedapi/models"
)

// maxJSONDepth bounds the nesting of a request body. An item is two levels
// deep; the bound leaves room and still stops a body of a million '['
// before any decoder recurses into it.
const maxJSONDepth = 32

// jsonFormats wraps the JSON formats so that request bodies which JSON
// parsers read differently are refused (400) before anything reads them:
// invalid UTF-8 (Go would quietly turn it into U+FFFD), duplicate member
// names (Go keeps the last one, other parsers the first), and nesting
// deeper than maxJSONDepth. Huma's decode into an any for validation is
// done by decodeAny (jsonany.go), its decode of item bodies into the input
// struct by decodeItemFields (itemdecode.go), and item and problem bodies
// are written directly (directbody.go).
func jsonFormats(formats map[string]huma.Format) map[string]huma.Format {
	out := make(map[string]huma.Format, len(formats))
	for ct, f := range formats {
		if ct == "application/json" || ct == "json" {
			f.Marshal = marshalDirect(f.Marshal)
			unmarshal := f.Unmarshal
			f.Unmarshal = func(data []byte, v any) error {
				// The direct decoders take only what checkJSON accepts.
				switch v := v.(type) {
				case *any: // Huma's decode for validation
					if val, ok := decodeAny(data); ok {
						*v = val
						return nil
					}
				case *models.ItemFields: // the body of a create or replace
					if decodeItemFields(data, v) {
						return nil
					}
				}
				if err := checkJSON(data); err != nil {
					return err
				}
				return plainDecodeError(unmarshal(data, v))
			}
		}
		out[ct] = f
	}
	return out
}

// plainDecodeError words encoding/json's type errors for a client, without
// Go type names: a number out of range, or a value of the wrong JSON type
// (with where it was, when encoding/json knows).
func plainDecodeError(err error) error {
	var te *json.UnmarshalTypeError
	if !errors.As(err, &te) {
		return err
	}
	where := ""
	if te.Field != "" {
		where = " at " + te.Field
	}
	k := te.Type.Kind()
	integer := k >= reflect.Int && k <= reflect.Uint64
	digits, number := strings.CutPrefix(te.Value, "number ")
	switch {
	case number && integer && strings.ContainsAny(digits, ".eE"):
		// JSON Schema calls 1.0 an integer; a Go integer field does not.
		return fmt.Errorf("%s%s: write an integer without a fraction or exponent", te.Value, where)
	case number && (integer || k == reflect.Float32 || k == reflect.Float64):
		return fmt.Errorf("%s%s is out of range", te.Value, where)
	default:
		return fmt.Errorf("unexpected %s%s", te.Value, where)
	}
}

// loneSurrogate reports whether the raw text of a JSON string escapes a
// UTF-16 surrogate that is not half of a pair (\ud800 alone, or a low half
// first). Such a string holds no valid Unicode text: encoding/json makes
// it U+FFFD, other parsers keep it or fail, so it is refused as invalid
// UTF-8 is. A malformed escape is left to the decoder.
func loneSurrogate(s []byte) bool {
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			continue
		}
		i++ // the escaped character
		if i >= len(s) || s[i] != 'u' {
			continue
		}
		r, ok := hex4(s, i+1)
		if !ok {
			return false
		}
		i += 4 // the last hex digit
		switch {
		case r >= 0xdc00 && r <= 0xdfff:
			return true // a low half with no high half before it
		case r >= 0xd800 && r <= 0xdbff:
			if i+2 >= len(s) || s[i+1] != '\\' || s[i+2] != 'u' {
				return true
			}
			lo, ok := hex4(s, i+3)
			if !ok || lo < 0xdc00 || lo > 0xdfff {
				return true
			}
			i += 6
		}
	}
	return false
}

// hex4 reads the four hex digits at s[i:].
func hex4(s []byte, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	var r rune
	for _, c := range s[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// checkJSON reports the first reason data is not a body this API accepts.
// It is one pass over the bytes that tracks only nesting and member names
// (Huma decodes a body twice, so this runs twice per request: it must be
// cheap). Syntax errors are left to the decoder, which words them better:
// on anything malformed the scan just stops without an error.
func checkJSON(data []byte) error {
	if !utf8.Valid(data) {
		return errors.New("the body is not valid UTF-8")
	}
	// One frame per open container. In an object, a string right after '{'
	// or ',' is a member name.
	type frame struct {
		object bool
		names  [][]byte            // member names so far (slices of data), while few
		many   map[string]struct{} // and once there are many
	}
	var buf [4]frame // an item body nests two deep: no allocation for the stack
	stack := buf[:0]
	prev := byte(0) // the last structural character seen
	for i := 0; i < len(data); i++ {
		switch c := data[i]; c {
		case ' ', '\t', '\r', '\n':
		case '{', '[':
			if len(stack) == maxJSONDepth {
				return fmt.Errorf("the body is nested too deeply (more than %d levels)", maxJSONDepth)
			}
			stack = append(stack, frame{object: c == '{'})
			prev = c
		case '}', ']':
			if len(stack) == 0 {
				return nil
			}
			stack = stack[:len(stack)-1]
			prev = 'v'
		case ',', ':':
			prev = c
		case '"':
			end, escaped := scanString(data, i+1)
			if end < 0 {
				return nil
			}
			if escaped && loneSurrogate(data[i+1:end]) {
				return errors.New(`the body escapes a lone UTF-16 surrogate (such as \ud800), which is no Unicode character`)
			}
			if top := len(stack) - 1; top >= 0 && stack[top].object && (prev == '{' || prev == ',') {
				name := data[i+1 : end]
				if escaped { // compare names as decoded: "a" and "\u0061" are one name
					var decoded string
					if json.Unmarshal(data[i:end+1], &decoded) != nil {
						return nil //nolint:nilerr // a malformed name is a syntax error: the decoder reports it
					}
					name = []byte(decoded)
				}
				if dupName(&stack[top].names, &stack[top].many, name) {
					return fmt.Errorf("duplicate member %q in a JSON object", name)
				}
			}
			i = end
			prev = 'v'
		default: // numbers, true, false, null (or garbage the decoder reports)
			prev = 'v'
		}
	}
	return nil
}

// scanString returns the index of the quote that closes the string whose
// content starts at i (-1 if none) and whether it holds escapes.
func scanString(data []byte, i int) (end int, escaped bool) {
	for ; i < len(data); i++ {
		switch data[i] {
		case '\\':
			escaped = true
			i++
		case '"':
			return i, escaped
		}
	}
	return -1, escaped
}

// dupName records name among an object's member names and reports whether
// it was there already: a slice while the object is small, a map beyond.
func dupName(names *[][]byte, many *map[string]struct{}, name []byte) bool {
	const small = 16
	if *many == nil {
		for _, n := range *names {
			if bytes.Equal(n, name) {
				return true
			}
		}
		if *names == nil {
			*names = make([][]byte, 0, 8)
		}
		*names = append(*names, name)
		if len(*names) <= small {
			return false
		}
		*many = make(map[string]struct{}, 2*small)
		for _, n := range *names {
			(*many)[string(n)] = struct{}{}
		}
		return false
	}
	if _, dup := (*many)[string(name)]; dup {
		return true
	}
	(*many)[string(name)] = struct{}{}
	return false
}

// requireContentType answers 415 to a request body the operation does not
// take, in one wording, before Huma reads it:
//   - a body without a Content-Type: Huma would read it as JSON; refusing
//     it stops a page on another origin from creating items with a
//     body-only fetch (a Blob without a type is sent with no Content-Type
//     and needs no CORS preflight);
//   - a Content-Type that is no media type (";"), or one the operation does
//     not list (Huma takes any "…+json" as JSON; a PATCH also takes plain
//     JSON as a merge patch), or a charset other than UTF-8.
//
// A media type written with spaces before its parameters (allowed by RFC
// 9110, refused by Huma) is rewritten in the canonical form Huma reads.
func requireContentType(api huma.API) func(huma.Context, func(huma.Context)) {
	return func(ctx huma.Context, next func(huma.Context)) {
		op := ctx.Operation()
		if op.RequestBody == nil {
			next(ctx)
			return
		}
		ct := ctx.Header("Content-Type")
		if ct == "application/json" && op.RequestBody.Content["application/json"] != nil {
			next(ctx) // the common case, without parsing
			return
		}
		want := acceptedMediaType(op)
		r, _ := humago.Unwrap(ctx)
		if ct == "" {
			if r.ContentLength != 0 {
				_ = huma.WriteErr(api, ctx, http.StatusUnsupportedMediaType, noContentTypeDetail(want))
				return
			}
			next(ctx)
			return
		}
		mt, params, err := mime.ParseMediaType(ct)
		switch {
		case err != nil:
			_ = huma.WriteErr(api, ctx, http.StatusUnsupportedMediaType, notAMediaTypeDetail(ct, want))
			return
		case op.RequestBody.Content[mt] == nil && (mt != "application/json" || op.RequestBody.Content["application/merge-patch+json"] == nil):
			_ = huma.WriteErr(api, ctx, http.StatusUnsupportedMediaType, unsupportedMediaTypeDetail(mt, want))
			return
		case params["charset"] != "" && !strings.EqualFold(params["charset"], "utf-8"):
			_ = huma.WriteErr(api, ctx, http.StatusUnsupportedMediaType, unsupportedCharsetDetail(params["charset"]))
			return
		}
		if canonical := mime.FormatMediaType(mt, params); canonical != ct {
			r.Header.Set("Content-Type", canonical)
		}
		next(ctx)
	}
}

// shownValue quotes a header value for a problem detail, at most
// maxEchoedValue bytes of it.
func shownValue(v string) string { return strconv.Quote(truncateText(v)) }

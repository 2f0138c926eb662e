package operations

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"unicode/utf8"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
)

// maxJSONDepth bounds the nesting of a request body. An item is two levels
// deep; the bound leaves room and still stops a body of a million '['
// before any decoder recurses into it.
const maxJSONDepth = 32

// strictJSON wraps the JSON formats so that request bodies which JSON
// parsers read differently are refused (400) before anything reads them:
// invalid UTF-8 (Go would quietly turn it into U+FFFD), duplicate member
// names (Go keeps the last one, other parsers the first), and nesting
// deeper than maxJSONDepth.
func strictJSON(formats map[string]huma.Format) map[string]huma.Format {
	out := make(map[string]huma.Format, len(formats))
	for ct, f := range formats {
		if ct == "application/json" || ct == "json" {
			unmarshal := f.Unmarshal
			f.Unmarshal = func(data []byte, v any) error {
				if err := checkJSON(data); err != nil {
					return err
				}
				return unmarshal(data, v)
			}
		}
		out[ct] = f
	}
	return out
}

// checkJSON reports the first reason data is not a body this API accepts.
// Syntax errors are left to the decoder, which words them better.
func checkJSON(data []byte) error {
	if !utf8.Valid(data) {
		return errors.New("the body is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	// Each open container: the member names seen so far (objects) or nil
	// (arrays); expectKey tracks whether the next string is a member name.
	type frame struct {
		names     map[string]struct{}
		isObject  bool
		expectKey bool
	}
	var stack []frame
	for {
		tok, err := dec.Token()
		if err != nil {
			// io.EOF: all read. Otherwise a syntax error, which the decoder
			// that runs next words better than this scan could.
			return nil //nolint:nilerr // see above
		}
		top := len(stack) - 1
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{', '[':
				if len(stack) == maxJSONDepth {
					return fmt.Errorf("the body is nested too deeply (more than %d levels)", maxJSONDepth)
				}
				if top >= 0 && stack[top].isObject {
					stack[top].expectKey = true
				}
				stack = append(stack, frame{isObject: t == '{', expectKey: t == '{'})
			default:
				stack = stack[:top]
			}
			continue
		case string:
			if top >= 0 && stack[top].isObject && stack[top].expectKey {
				f := &stack[top]
				if f.names == nil {
					f.names = map[string]struct{}{}
				}
				if _, dup := f.names[t]; dup {
					return fmt.Errorf("duplicate member %q in a JSON object", t)
				}
				f.names[t] = struct{}{}
				f.expectKey = false
				continue
			}
		}
		// A scalar value: the next string in an object is a name again.
		if top >= 0 && stack[top].isObject {
			stack[top].expectKey = true
		}
	}
}

// requireContentType answers 415 to a request that carries a body without
// saying what it is. Huma would read it as JSON; refusing it stops a page
// on another origin from creating items with a body-only fetch (a Blob
// without a type is sent with no Content-Type and needs no CORS preflight).
func requireContentType(api huma.API) func(huma.Context, func(huma.Context)) {
	return func(ctx huma.Context, next func(huma.Context)) {
		op := ctx.Operation()
		if op.RequestBody != nil && ctx.Header("Content-Type") == "" {
			if r, _ := humago.Unwrap(ctx); r.ContentLength != 0 {
				want := "application/json"
				for ct := range op.RequestBody.Content {
					want = ct
				}
				_ = huma.WriteErr(api, ctx, http.StatusUnsupportedMediaType, "The request has a body but no Content-Type; send it as "+want+".")
				return
			}
		}
		next(ctx)
	}
}

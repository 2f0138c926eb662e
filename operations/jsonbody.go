package operations

import (
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	jsonv1 "github.com/go-json-experiment/json/v1"
)

// maxJSONDepth bounds the nesting of a request body. An item is two levels
// deep; the bound leaves room and still stops a body of a million '['
// before any decoder recurses into it.
const maxJSONDepth = 32

// jsonFormats returns formats with JSON read and written by JSON v2, so
// that every resource gets the same strict reading: member names match
// exactly, and a body that JSON parsers read differently (invalid UTF-8, a
// lone UTF-16 surrogate, a member name given twice) is refused with 400
// before anything reads it.
//
// Huma reads any "…+json" type, application/merge-patch+json among them,
// with the "json" key. The merge-patch type gets no key of its own: Huma
// also offers every key to a client's Accept header, and would then answer
// a GET with Content-Type: application/merge-patch+json.
func jsonFormats(formats map[string]huma.Format) map[string]huma.Format {
	out := make(map[string]huma.Format, len(formats)+2)
	for ct, f := range formats {
		out[ct] = f
	}
	out["application/json"] = jsonFormat
	out["json"] = jsonFormat
	return out
}

var jsonFormat = huma.Format{Marshal: marshalJSON, Unmarshal: unmarshalJSON}

// unmarshalOptions are JSON v2's defaults, spelled out because the API's
// promises rest on them.
var unmarshalOptions = json.JoinOptions(
	json.MatchCaseInsensitiveNames(false),
	jsontext.AllowDuplicateNames(false),
	jsontext.AllowInvalidUTF8(false),
)

// marshalOptions keep responses as encoding/json wrote them where clients
// could tell: fields tagged omitempty (Huma's ErrorModel has them on
// numbers) are left out when zero; map keys are sorted (a problem can echo
// a whole rejected object); and text that is not valid UTF-8, which a
// store could hold or a truncated echo could end in, becomes U+FFFD
// instead of failing the response. HTML is not escaped, as Huma's own
// format does not.
var marshalOptions = json.JoinOptions(
	jsonv1.OmitEmptyWithLegacySemantics(true),
	json.Deterministic(true),
	jsontext.AllowInvalidUTF8(true),
	jsontext.EscapeForHTML(false),
)

func unmarshalJSON(data []byte, v any) error {
	if tooDeep(data) {
		return fmt.Errorf("the body is nested too deeply (more than %d levels)", maxJSONDepth)
	}
	return plainDecodeError(json.Unmarshal(data, v, unmarshalOptions), v)
}

// marshalJSON writes v straight to w (no copy of the encoding) and ends it
// with a newline, as Huma's default format (a json.Encoder) does.
func marshalJSON(w io.Writer, v any) error {
	if err := json.MarshalWrite(w, v, marshalOptions); err != nil {
		return err
	}
	_, err := w.Write(newline)
	return err
}

var newline = []byte{'\n'}

// tooDeep reports whether data nests arrays and objects more than
// maxJSONDepth levels deep (brackets inside strings do not count). It runs
// before the decoder, which would otherwise recurse ten thousand levels
// into a hostile body before giving up.
func tooDeep(data []byte) bool {
	depth := 0
	inString := false
	for i := 0; i < len(data); i++ {
		c := data[i]
		if inString {
			switch c {
			case '\\':
				i++ // the escaped character cannot end the string
			case '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '{', '[':
			depth++
			if depth > maxJSONDepth {
				return true
			}
		case '}', ']':
			depth--
		}
	}
	return false
}

// requireContentType answers 415 to a request body the operation does not
// take, in one wording, before Huma reads it:
//   - a body without a Content-Type: Huma would read it as JSON; refusing
//     it stops a page on another origin from creating items with a
//     body-only fetch (a Blob without a type is sent with no Content-Type
//     and needs no CORS preflight);
//   - a Content-Type that is no media type (";"), or one the operation does
//     not list (Huma takes any "…+json" as JSON), or a charset other than
//     UTF-8. A PATCH lists only application/merge-patch+json: plain JSON
//     is refused there, as the document says, and the 415 names the type.
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
		case op.RequestBody.Content[mt] == nil:
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

package operations

import (
	"bytes"
	"cmp"
	"io"
	"net/http"
	"slices"
	"sort"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
	"github.com/go-json-experiment/json"
)

// refuseNulls answers 422 to a JSON body that sets a member to null where
// its schema allows no null. Huma's validator passes null for a member that
// is not required, as if it were absent, and JSON v2 then leaves the field
// as it was; the document says the member is a non-nullable string, so
// null is refused and named, as any other value of the wrong type.
//
// A merge patch is left alone: there null means "remove" (RFC 7396), which
// its resource allows or refuses in its own words.
func refuseNulls(api huma.API) func(huma.Context, func(huma.Context)) {
	return func(ctx huma.Context, next func(huma.Context)) {
		op := ctx.Operation()
		mt := op.RequestBody.Content["application/json"]
		r, _ := humago.Unwrap(ctx)
		if mt == nil || mt.Schema == nil || r.Body == nil || r.Body == http.NoBody {
			next(ctx)
			return
		}
		// Read as Huma does, within the operation's body read timeout, and
		// at most one byte over the limit; then hand Huma the same bytes,
		// the rest of the body and any read error, so that it answers a
		// body too large, cut off or too slow as it always does.
		if op.BodyReadTimeout > 0 {
			_ = ctx.SetReadDeadline(time.Now().Add(op.BodyReadTimeout))
		}
		b, err := readBody(r, op.MaxBodyBytes+1)
		if err == nil && int64(len(b)) <= op.MaxBodyBytes {
			r.Body = &bodyBytes{Reader: bytes.NewReader(b), Closer: r.Body} // all of it: Huma reads these bytes
		} else {
			rest := r.Body
			if err != nil {
				rest = io.NopCloser(errReader{err})
			}
			r.Body = readCloser{io.MultiReader(bytes.NewReader(b), rest), r.Body}
		}
		if err == nil && !bytes.Contains(b, nullToken) {
			next(ctx) // no null anywhere: nothing to decode a third time
			return
		}
		var v any
		if err != nil || int64(len(b)) > op.MaxBodyBytes || tooDeep(b) || json.Unmarshal(b, &v, unmarshalOptions) != nil {
			next(ctx) // Huma reports what is wrong with it
			return
		}
		pb := huma.NewPathBuffer(nil, 0)
		pb.Push("body")
		var errs []error
		nullsRefused(api.OpenAPI().Components.Schemas, mt.Schema, v, pb, &errs)
		if len(errs) > 0 {
			_ = huma.WriteErr(api, ctx, http.StatusUnprocessableEntity, humaValidationFailed, errs...)
			return
		}
		next(ctx)
	}
}

// nullToken is what a body without a null lacks (a string may hold it too;
// then the body is decoded to be sure).
var nullToken = []byte("null")

// readBody reads at most limit bytes of r's body, into a buffer sized by
// Content-Length when the client gave one.
func readBody(r *http.Request, limit int64) ([]byte, error) {
	if n := r.ContentLength; n > 0 && n < limit {
		// The server's body reader ends at Content-Length: a short body is
		// an error here, a longer one cannot be read.
		b := make([]byte, n)
		k, err := io.ReadFull(r.Body, b)
		return b[:k], err
	}
	return io.ReadAll(io.LimitReader(r.Body, limit))
}

// bodyBytes is a request body read in full, handed on to Huma.
type bodyBytes struct {
	*bytes.Reader
	io.Closer
}

type readCloser struct {
	io.Reader
	io.Closer
}

// errReader fails every read with the error the first read met.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// nullsRefused adds an error for every null in v (at pb) that schema s does
// not allow, looking into objects' properties and arrays' items.
func nullsRefused(reg huma.Registry, s *huma.Schema, v any, pb *huma.PathBuffer, errs *[]error) {
	if s != nil && s.Ref != "" {
		s = reg.SchemaFromRef(s.Ref)
	}
	if s == nil {
		return
	}
	switch v := v.(type) {
	case map[string]any:
		names := make([]string, 0, len(v))
		for name := range v {
			names = append(names, name)
		}
		sort.Strings(names) // errors in a stable order
		for _, name := range names {
			p := s.Properties[name]
			if p == nil || (v[name] == nil && slices.Contains(s.Required, name)) {
				continue // unknown members, and null for a required one, are Huma's to refuse
			}
			pb.Push(name)
			if v[name] == nil {
				if p.Ref != "" {
					p = reg.SchemaFromRef(p.Ref)
				}
				if !p.Nullable {
					*errs = append(*errs, &huma.ErrorDetail{Location: pb.String(), Message: "expected " + cmp.Or(p.Type, "a value") + ", not null", Value: nil})
				}
			} else {
				nullsRefused(reg, p, v[name], pb, errs)
			}
			pb.Pop()
		}
	case []any:
		for i, e := range v {
			pb.PushIndex(i)
			if e != nil {
				nullsRefused(reg, s.Items, e, pb, errs)
			}
			pb.Pop()
		}
	}
}

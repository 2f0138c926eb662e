package operations

import (
	"fmt"
	"net/http"
	"net/textproto"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
)

// refuseEmptyParams answers 422 to a query or header parameter sent with an
// empty value that its schema refuses (minLength, pattern, enum): Huma
// reads an empty value as an absent one, so `?tag=` or an empty
// Idempotency-Key would otherwise pass as if not sent, against the
// document. The empty value is validated against the parameter's own
// schema, so the problem says what Huma says of any bad value.
//
// It also answers 422 to a parameter of one value sent more than once
// (`?q=a&q=b`, two Idempotency-Key lines): Huma reads the first and checks
// only it, so the others would pass unread and unbounded, and a proxy that
// reads the last would see another request than the API. If-Match and
// If-None-Match are lists, whose lines together are one value (conditional).
func refuseEmptyParams(api huma.API) func(huma.Context, func(huma.Context)) {
	return func(ctx huma.Context, next func(huma.Context)) {
		r, _ := humago.Unwrap(ctx)
		var query map[string][]string
		var res *huma.ValidateResult // made only for a request that sends an empty or repeated value
		for _, p := range ctx.Operation().Parameters {
			vs := paramValues(r, p, &query)
			if len(vs) == 0 || len(vs) == 1 && vs[0] != "" {
				continue
			}
			if res == nil {
				res = &huma.ValidateResult{}
			}
			if len(vs) > 1 && !listParams[p.Name] && (p.Schema == nil || p.Schema.Type != huma.TypeArray) {
				res.Errors = append(res.Errors, &huma.ErrorDetail{Location: p.In + "." + p.Name, Message: fmt.Sprintf("expected one value, got %d", len(vs))})
				continue
			}
			if vs[0] != "" {
				continue
			}
			pb := huma.NewPathBuffer(nil, 0)
			pb.Push(p.In)
			pb.Push(p.Name)
			huma.Validate(api.OpenAPI().Components.Schemas, p.Schema, pb, huma.ModeWriteToServer, "", res)
		}
		if res != nil && len(res.Errors) > 0 {
			_ = huma.WriteErr(api, ctx, http.StatusUnprocessableEntity, humaValidationFailed, res.Errors...)
			return
		}
		next(ctx)
	}
}

// listParams are the header parameters whose lines make one list.
var listParams = map[string]bool{"If-Match": true, "If-None-Match": true}

// paramValues is every value r sends of the query or header parameter p
// (query is r's parsed query, filled on first need).
func paramValues(r *http.Request, p *huma.Param, query *map[string][]string) []string {
	switch p.In {
	case "query":
		if r.URL.RawQuery == "" {
			return nil
		}
		if *query == nil {
			*query = r.URL.Query()
		}
		return (*query)[p.Name]
	case "header":
		return r.Header[textproto.CanonicalMIMEHeaderKey(p.Name)]
	}
	return nil
}

package operations

import (
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
func refuseEmptyParams(api huma.API) func(huma.Context, func(huma.Context)) {
	return func(ctx huma.Context, next func(huma.Context)) {
		r, _ := humago.Unwrap(ctx)
		var query map[string][]string
		var res *huma.ValidateResult // made only for a request that sends an empty value
		for _, p := range ctx.Operation().Parameters {
			if !sentEmpty(r, p, &query) {
				continue
			}
			if res == nil {
				res = &huma.ValidateResult{}
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

// sentEmpty reports whether r carries the query or header parameter p with
// an empty value (query is r's parsed query, filled on first need).
func sentEmpty(r *http.Request, p *huma.Param, query *map[string][]string) bool {
	var vs []string
	switch p.In {
	case "query":
		if r.URL.RawQuery == "" {
			return false
		}
		if *query == nil {
			*query = r.URL.Query()
		}
		vs = (*query)[p.Name]
	case "header":
		vs = r.Header[textproto.CanonicalMIMEHeaderKey(p.Name)]
	}
	return len(vs) > 0 && vs[0] == ""
}

package operations

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"strconv"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/typedapi/typedapi/internal/middleware"
	"github.com/typedapi/typedapi/models"
)

// problemDoc is what /docs says about one error status: when it happens,
// and an example body for an operation, made by the constructor the server
// answers with (so the example cannot drift from the answer;
// TestProblemDocsAreRealAnswers checks each against a real request).
type problemDoc struct {
	description string
	example     func(api huma.API, op *huma.Operation) error
	headers     map[string]*huma.Param // headers the problem carries, by name
}

// securedHeaders are the headers a problem of status carries, besides its
// doc's, on op when op declares security: the Bearer challenge.
func securedHeaders(op *huma.Operation, status int) map[string]*huma.Param {
	switch status {
	case http.StatusBadRequest:
		return challengeHeader(errBadCredentials())
	case http.StatusUnauthorized:
		return challengeHeader(errNoCredentials())
	case http.StatusForbidden:
		return challengeHeader(errInsufficientScope(forbiddenScope(op)))
	}
	return nil
}

// challengeHeader documents WWW-Authenticate, with an example of status's.
func challengeHeader(example error) map[string]*huma.Param {
	var he huma.HeadersError
	errors.As(example, &he)
	return map[string]*huma.Param{"WWW-Authenticate": responseHeader(
		"The Bearer challenge (RFC 6750): the realm, and on a refused token, malformed credentials or a missing scope the error code and, for a scope, which one.",
		he.GetHeaders().Get("WWW-Authenticate"))}
}

var problemDocs = map[int]problemDoc{
	http.StatusBadRequest: {
		"Malformed request: the body is not valid JSON, the cursor is not one this service made, " +
			"X-Request-Id is sent twice or is not 1 to 128 characters of letters, digits and -_.:/+=., " +
			"or (where a token is needed) the credentials are not one Authorization header with one bearer token.",
		malformedExample,
		nil,
	},
	http.StatusUnauthorized: {
		"No bearer token was sent, or the one sent is not acceptable: malformed, expired, not yet valid, not signed by the issuer, " +
			"or not meant for this API (then WWW-Authenticate says error=\"invalid_token\").",
		func(huma.API, *huma.Operation) error { return errNoCredentials() },
		nil,
	},
	http.StatusForbidden: {
		"The token is valid but does not grant a scope this request needs; WWW-Authenticate names it (error=\"insufficient_scope\").",
		func(_ huma.API, op *huma.Operation) error { return errInsufficientScope(forbiddenScope(op)) },
		nil,
	},
	http.StatusNotFound: {
		"Nothing of this kind has this id (it never existed, was deleted, or, for an order, is another caller's).",
		func(_ huma.API, op *huma.Operation) error { return errNotFound(nounOf(op)) },
		nil,
	},
	http.StatusConflict: {
		"The write conflicts with the resource's state: on create, one with this id exists (or, for an order, the item kept changing); " +
			"on a change without If-Match, other requests kept changing it (retry after Retry-After); an order's status cannot make that move.",
		conflictExample,
		map[string]*huma.Param{"Retry-After": responseHeader("Seconds to wait before retrying, when other requests kept changing the resource.", "1")},
	},
	http.StatusPreconditionFailed: {
		"If-Match does not list the current ETag: someone changed the resource since you read it. The current ETag is in the ETag header.",
		func(_ huma.API, op *huma.Operation) error {
			return errPreconditionFailed(nounOf(op), `"01JDQ8Z6M3N4P5Q6R7S8T9V0WX.2"`)
		},
		map[string]*huma.Param{"ETag": responseHeader("The resource's current entity tag, when it exists.", `"01JDQ8Z6M3N4P5Q6R7S8T9V0WX.2"`)},
	},
	http.StatusRequestEntityTooLarge: {
		"The body is larger than the configured body_limit.",
		func(_ huma.API, op *huma.Operation) error {
			return huma.Error413RequestEntityTooLarge(bodyTooLargeDetail(op.MaxBodyBytes))
		},
		nil,
	},
	http.StatusUnsupportedMediaType: {
		"The Content-Type is not one this operation accepts.",
		func(_ huma.API, op *huma.Operation) error {
			return huma.Error415UnsupportedMediaType(unsupportedMediaTypeDetail("text/plain", acceptedMediaType(op)))
		},
		nil,
	},
	http.StatusUnprocessableEntity: {
		"Validation failed: `errors` names the location of every failing field and why.",
		invalidExample,
		nil,
	},
	http.StatusTooManyRequests: {
		"This client sent more requests than the configured rate limit allows (rate_limit, per verified caller, else per client IP); " +
			"wait the seconds in Retry-After. RateLimit and RateLimit-Policy (draft-ietf-httpapi-ratelimit-headers) give the quota and when it returns.",
		func(huma.API, *huma.Operation) error { return huma.Error429TooManyRequests(tooManyDetail) },
		map[string]*huma.Param{
			"Retry-After":      responseHeader("Seconds to wait before the next request is admitted.", "1"),
			"RateLimit":        responseHeader("The quota left (r) under the policy and the seconds (t) until a request is admitted again.", rateLimitPolicy+";r=0;t=1"),
			"RateLimit-Policy": rateLimitPolicyHeader,
		},
	},
	http.StatusInternalServerError: {
		"Something failed on the server; the cause is logged under the request id in X-Request-Id.",
		func(huma.API, *huma.Operation) error { return huma.Error500InternalServerError(genericDetail) },
		nil,
	},
	http.StatusServiceUnavailable: {
		"The data store, or the token issuer's signing keys, are busy or unreachable, or (on an export) as many exports are running as the server allows; " +
			"retry later (after the seconds in Retry-After, when given).",
		func(_ huma.API, op *huma.Operation) error {
			if op.OperationID == readinessOperation {
				return huma.Error503ServiceUnavailable(notReadyDetail(false))
			}
			return errUnavailable()
		},
		map[string]*huma.Param{"Retry-After": responseHeader("Seconds to wait before retrying, when the data store is busy or the exports are at their cap.", "1")},
	},
	http.StatusGatewayTimeout: {
		"The request did not finish within its deadline.",
		func(huma.API, *huma.Operation) error { return errDeadline() },
		nil,
	},
}

// responseHeader documents a header of a response as a string.
func responseHeader(description, example string) *huma.Param {
	return &huma.Param{Description: description, Example: example, Schema: &huma.Schema{Type: huma.TypeString}}
}

// nounOf is the resource op acts on: the singular of its collection's
// segment, /v1/orders/{id} → order. The service's own operations name no
// resource.
func nounOf(op *huma.Operation) noun {
	parts := strings.Split(strings.Trim(op.Path, "/"), "/")
	if len(parts) < 2 {
		return ""
	}
	return noun(strings.TrimSuffix(parts[1], "s"))
}

// conflictExample is the 409 of op: a taken id on create, the transition
// refused on an order's PATCH, a lost race on the other writes.
func conflictExample(_ huma.API, op *huma.Operation) error {
	switch {
	case op.Method == http.MethodPost:
		return errExists(nounOf(op))
	case nounOf(op) == orderNoun:
		return errTransition(models.OrderPending, models.OrderShipped)
	}
	return errTooBusy(nounOf(op))
}

// Inputs the examples of 400 and 422 are made from: what a client might
// send, put through the same decoder and validator as a request.
const malformedBody = `{"name":`

var (
	invalidParams = map[string]any{"path.id": "bad", "query.limit": 101}
	// invalidBodies are the bodies of the 422 examples, as JSON decodes
	// them, by resource; a resource not listed gets invalidAnyBody.
	invalidBodies = map[noun]map[string]map[string]any{
		"item": {"": {"name": "", "price": 1250.0, "currency": "XYZ"}},
		"order": {
			http.MethodPost:  {"item_id": "01JDQ8Z6M3N4P5Q6R7S8T9V0WX", "quantity": 0.0, "status": "paid"},
			http.MethodPatch: {"status": "lost"},
		},
	}
	// invalidAnyBody breaks every body's schema: a member no body has.
	invalidAnyBody = map[string]any{"colour": "red"}
)

// invalidBody is the body of op's 422 example: its resource's for its
// method, or for any method (""), or invalidAnyBody.
func invalidBody(op *huma.Operation) map[string]any {
	bodies := invalidBodies[nounOf(op)]
	if b, ok := bodies[op.Method]; ok {
		return b
	}
	if b, ok := bodies[""]; ok {
		return b
	}
	return invalidAnyBody
}

// forbiddenScope is the scope op's 403 names: the first it declares, or
// the staff's, which the handlers of order changes check.
func forbiddenScope(op *huma.Operation) string {
	if scopes := declaredScopes(op); len(scopes) > 0 {
		return scopes[0]
	}
	return ScopeOrdersFulfil
}

// malformedExample is the 400 of op: for a body, what the API's own JSON
// decoder says of a cut-off one (as Huma reports it); for a listing, a
// cursor that is not ours; for a protected operation, credentials that are
// not one header; otherwise an X-Request-Id out of bounds.
func malformedExample(api huma.API, op *huma.Operation) error {
	if op.RequestBody == nil {
		switch {
		case hasParam(op, "query", "cursor"):
			return invalidCursor(cursorForeign)
		case protected(op):
			return errBadCredentials()
		}
		return huma.Error400BadRequest(middleware.BadRequestIDDetail,
			&huma.ErrorDetail{Location: "header." + middleware.RequestIDHeader, Message: middleware.BadRequestIDMessage})
	}
	var v any
	err := api.Unmarshal(acceptedMediaType(op), []byte(malformedBody), &v)
	if err == nil {
		panic("operations: the decoder accepted the malformed example body " + malformedBody)
	}
	return huma.Error400BadRequest(humaValidationFailed, &huma.ErrorDetail{Location: "body", Message: err.Error(), Value: malformedBody})
}

// invalidExample is the 422 of op: Huma's validation of an invalid body
// (and the currency check the body's Resolve adds), or of the first
// parameter with an invalid example value.
func invalidExample(api huma.API, op *huma.Operation) error {
	if isExport(op) {
		return unknownFilterExample(op)
	}
	schemas := api.OpenAPI().Components.Schemas
	res := &huma.ValidateResult{}
	pb := huma.NewPathBuffer(nil, 0)
	if op.RequestBody != nil {
		body := invalidBody(op)
		pb.Push("body")
		huma.Validate(schemas, op.RequestBody.Content[acceptedMediaType(op)].Schema, pb, huma.ModeWriteToServer, body, res)
		pb.Reset()
		errs := res.Errors
		if currency, ok := body["currency"].(string); ok {
			errs = append(errs, checkCurrency(currency, pb)...)
		}
		return huma.Error422UnprocessableEntity(humaValidationFailed, errs...)
	}
	for _, p := range op.Parameters {
		v, ok := invalidParams[p.In+"."+p.Name]
		if !ok {
			continue
		}
		pb.Push(p.In)
		pb.Push(p.Name)
		huma.Validate(schemas, p.Schema, pb, huma.ModeWriteToServer, v, res)
		return huma.Error422UnprocessableEntity(humaValidationFailed, res.Errors...)
	}
	return huma.Error422UnprocessableEntity(humaValidationFailed)
}

// hasParam reports whether op takes the parameter name in in.
func hasParam(op *huma.Operation, in, name string) bool {
	for _, p := range op.Parameters {
		if p.In == in && p.Name == name {
			return true
		}
	}
	return false
}

// problemExample is err as the body a client receives.
func problemExample(err error) map[string]any {
	var se huma.StatusError
	if !errors.As(err, &se) {
		panic(fmt.Sprintf("operations: a problem doc's example is no huma.StatusError: %v", err))
	}
	b, err := json.Marshal(se)
	if err != nil {
		panic(err)
	}
	var example map[string]any
	if err := json.Unmarshal(b, &example); err != nil {
		panic(err)
	}
	return example
}

// documentProblems gives every error response in the document a
// description of when it happens and an example body, and Huma's
// ErrorDetail schema examples. Huma generates these responses with only the
// status text; struct tags cannot reach them.
func documentProblems(api huma.API) {
	oapi := api.OpenAPI()
	// A field error for the ErrorDetail schema: the first of an item
	// body's 422 example (its empty name).
	var detailExample map[string]any
	for _, item := range oapi.Paths {
		for _, op := range []*huma.Operation{item.Get, item.Put, item.Post, item.Delete, item.Patch} {
			if op == nil {
				continue
			}
			for code, resp := range op.Responses {
				status := http.StatusInternalServerError // "default": what an undeclared failure is
				if code != "default" {
					n, err := strconv.Atoi(code)
					if err != nil || n < 400 {
						continue
					}
					status = n
				}
				pd, ok := problemDocs[status]
				if !ok {
					continue
				}
				if resp.Description == "" || resp.Description == http.StatusText(status) || code == "default" {
					resp.Description = pd.description
				}
				example := problemExample(pd.example(api, op))
				if errs, ok := example["errors"].([]any); ok && status == http.StatusUnprocessableEntity && op.RequestBody != nil && nounOf(op) == itemNoun && detailExample == nil {
					detailExample, _ = errs[0].(map[string]any)
				}
				for _, mt := range resp.Content {
					mt.Example = example
				}
				headers := pd.headers
				if secured := securedHeaders(op, status); protected(op) && secured != nil {
					headers = maps.Clone(headers)
					if headers == nil {
						headers = map[string]*huma.Param{}
					}
					maps.Copy(headers, secured)
				}
				for name, h := range headers {
					if resp.Headers == nil {
						resp.Headers = map[string]*huma.Param{}
					}
					resp.Headers[name] = h
				}
			}
		}
	}
	if detail := oapi.Components.Schemas.Map()["ErrorDetail"]; detail != nil {
		for name, ex := range detailExample {
			if p := detail.Properties[name]; p != nil && len(p.Examples) == 0 {
				p.Examples = []any{ex}
			}
		}
	}
}

package operations

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/danielgtaylor/huma/v2"
)

// problemDoc is what /docs says about one error status: when it happens,
// and an example body for an operation, made by the constructor the server
// answers with (so the example cannot drift from the answer;
// TestProblemDocsAreRealAnswers checks each against a real request).
type problemDoc struct {
	description string
	example     func(api huma.API, op *huma.Operation) error
}

var problemDocs = map[int]problemDoc{
	http.StatusBadRequest: {
		"Malformed request: the body is not valid JSON, or the cursor is not one this service made.",
		malformedExample,
	},
	http.StatusNotFound: {
		"No item has this id (it never existed or was deleted).",
		func(huma.API, *huma.Operation) error { return errNotFound() },
	},
	http.StatusConflict: {
		"The write conflicts with the item's state: on create, an item with this id exists; on PUT or PATCH without If-Match, other requests kept changing the item (retry after Retry-After).",
		func(_ huma.API, op *huma.Operation) error {
			if op.Method == http.MethodPost {
				return errItemExists()
			}
			return errTooBusy()
		},
	},
	http.StatusPreconditionFailed: {
		"If-Match does not list the item's current ETag: someone changed it since you read it. The current ETag is in the ETag header.",
		func(huma.API, *huma.Operation) error { return errPreconditionFailed(`"01JDQ8Z6M3N4P5Q6R7S8T9V0WX.2"`) },
	},
	http.StatusRequestEntityTooLarge: {
		"The body is larger than the configured body_limit.",
		func(_ huma.API, op *huma.Operation) error {
			return huma.Error413RequestEntityTooLarge(bodyTooLargeDetail(op.MaxBodyBytes))
		},
	},
	http.StatusUnsupportedMediaType: {
		"The Content-Type is not one this operation accepts.",
		func(_ huma.API, op *huma.Operation) error {
			return huma.Error415UnsupportedMediaType(unsupportedMediaTypeDetail("text/plain", acceptedMediaType(op)))
		},
	},
	http.StatusUnprocessableEntity: {
		"Validation failed: `errors` names the location of every failing field and why.",
		invalidExample,
	},
	http.StatusInternalServerError: {
		"Something failed on the server; the cause is logged under the request id in X-Request-Id.",
		func(huma.API, *huma.Operation) error { return huma.Error500InternalServerError(genericDetail) },
	},
	http.StatusServiceUnavailable: {
		"The data store is busy or unreachable; retry later (after the seconds in Retry-After, when given).",
		func(_ huma.API, op *huma.Operation) error {
			if op.OperationID == readinessOperation {
				return huma.Error503ServiceUnavailable(notReadyDetail(false))
			}
			return errUnavailable()
		},
	},
	http.StatusGatewayTimeout: {
		"The request did not finish within its deadline.",
		func(huma.API, *huma.Operation) error { return errDeadline() },
	},
}

// Inputs the examples of 400 and 422 are made from: what a client might
// send, put through the same decoder and validator as a request.
const malformedBody = `{"name":`

var (
	invalidBody   = map[string]any{"name": "", "price": 1250.0, "currency": "XYZ"} // as JSON decodes it
	invalidParams = map[string]any{"path.id": "bad", "query.limit": 101}
)

// malformedExample is the 400 of op: for a body, what the API's own JSON
// decoder says of a cut-off one (as Huma reports it); otherwise a cursor
// that is not ours.
func malformedExample(api huma.API, op *huma.Operation) error {
	if op.RequestBody == nil {
		return invalidCursor(cursorForeign)
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
	schemas := api.OpenAPI().Components.Schemas
	res := &huma.ValidateResult{}
	pb := huma.NewPathBuffer(nil, 0)
	if op.RequestBody != nil {
		pb.Push("body")
		huma.Validate(schemas, op.RequestBody.Content[acceptedMediaType(op)].Schema, pb, huma.ModeWriteToServer, invalidBody, res)
		pb.Reset()
		errs := append(res.Errors, checkCurrency(invalidBody["currency"].(string), pb)...)
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
	// A field error for the ErrorDetail schema: the first of a body's 422
	// example, the same for every operation (invalidBody's empty name).
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
				if errs, ok := example["errors"].([]any); ok && status == http.StatusUnprocessableEntity && op.RequestBody != nil && detailExample == nil {
					detailExample, _ = errs[0].(map[string]any)
				}
				for _, mt := range resp.Content {
					mt.Example = example
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

package operations

import (
	"net/http"
	"strconv"

	"github.com/danielgtaylor/huma/v2"
)

// problemDoc is what /docs says about one error status: when it happens and
// what its body looks like.
type problemDoc struct {
	description string
	detail      string
	errors      []map[string]any
}

// problemDocs are real answers of this API (detail and errors as the server
// writes them), so a reader of /docs sees what a client will get.
var problemDocs = map[int]problemDoc{
	http.StatusBadRequest: {"Malformed request: the body is not valid JSON, or the cursor is not one this service made.",
		"Invalid cursor: it is not a cursor this service made. Start again from the first page.",
		[]map[string]any{{"location": "query.cursor", "message": "it is not a cursor this service made"}}},
	http.StatusNotFound: {"No item has this id (it never existed or was deleted).", "No item has this id.", nil},
	http.StatusConflict: {"The write conflicts with the item's state: on create, an item with this id exists; on PUT or PATCH without If-Match, other requests kept changing the item (retry after Retry-After).",
		"Other requests kept changing this item; nothing was written. Retry, or send If-Match to make the change conditional.", nil},
	http.StatusPreconditionFailed: {"If-Match does not list the item's current ETag: someone changed it since you read it. The current ETag is in the ETag header.",
		"If-Match does not list the item's current ETag: it changed since you read it. GET it again and retry with the new ETag.",
		[]map[string]any{{"location": "header.If-Match", "message": "stale or unknown ETag"}}},
	http.StatusRequestEntityTooLarge: {"The body is larger than the configured body_limit.", "request body is too large limit=1048576 bytes", nil},
	http.StatusUnsupportedMediaType: {"The Content-Type is not one this operation accepts.", "validation failed",
		[]map[string]any{{"location": "body", "message": "unknown content type: text/plain", "value": "x"}}},
	http.StatusUnprocessableEntity: {"Validation failed: `errors` names the location of every failing field and why.", "validation failed",
		[]map[string]any{{"location": "path.id", "message": "expected string to be an item id (26-character ULID, upper case)", "value": "bad"}}},
	http.StatusInternalServerError: {"Something failed on the server; the cause is logged under the request id in X-Request-Id.", genericDetail, nil},
	http.StatusServiceUnavailable: {"The data store is busy or unreachable; retry after the seconds in Retry-After.",
		"The data store is busy or unreachable; retry after the number of seconds in Retry-After.", nil},
	http.StatusGatewayTimeout: {"The request did not finish within its deadline.", "The request did not finish within its deadline.", nil},
}

// bodyValidationErrors is the 422 example for operations with a body.
var bodyValidationErrors = []map[string]any{
	{"location": "body.name", "message": "expected length >= 1", "value": ""},
	{"location": "body.currency", "message": "unknown ISO 4217 currency code", "value": "XYZ"},
}

// documentProblems gives every error response in the document a
// description of when it happens and an example body, and Huma's
// ErrorDetail schema examples. Huma generates these responses with only the
// status text; struct tags cannot reach them.
func documentProblems(api huma.API) {
	oapi := api.OpenAPI()
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
				example := map[string]any{"title": http.StatusText(status), "status": status, "detail": pd.detail}
				errs := pd.errors
				if status == http.StatusUnprocessableEntity && op.RequestBody != nil {
					errs = bodyValidationErrors
				}
				if errs != nil {
					example["errors"] = errs
				}
				for _, mt := range resp.Content {
					mt.Example = example
				}
			}
		}
	}
	if detail := oapi.Components.Schemas.Map()["ErrorDetail"]; detail != nil {
		for name, ex := range map[string]any{"location": "body.name", "message": "expected length >= 1", "value": ""} {
			if p := detail.Properties[name]; p != nil && len(p.Examples) == 0 {
				p.Examples = []any{ex}
			}
		}
	}
}

package operations

import (
	"context"
	"net/http"
	"reflect"

	"github.com/danielgtaylor/huma/v2"

	"github.com/typedapi/typedapi/internal/swaggerui"
)

// addRoutes maps the whole API surface. Besides these, Huma serves the JSON
// Schemas of every body under /schemas/.
func addRoutes(api huma.API, mux router, opts Options, store Store) {

	svc := &service{title: opts.Title, version: opts.Version, store: store}
	it := &items{store: store, cursors: newCursorCodec(opts.CursorSecret), idemTTL: opts.IdempotencyTTL, now: opts.Now}
	tags := func(t string) []string { return []string{t} }

	register(api, mux, opts, huma.Operation{OperationID: "get-service-info", Method: http.MethodGet, Path: "/",
		Summary: "Describe the service", Description: "Service name, version and links to the docs, the OpenAPI document and the items collection.",
		Tags: tags("Service")}, svc.info)
	register(api, mux, opts, huma.Operation{OperationID: "get-liveness", Method: http.MethodGet, Path: "/healthz",
		Summary: "Liveness check", Description: "Answers 200 while the process runs; checks no dependency.",
		Tags: tags("Service")}, svc.healthz)
	register(api, mux, opts, huma.Operation{OperationID: "get-readiness", Method: http.MethodGet, Path: "/readyz",
		Summary: "Readiness check", Description: "Answers 200 when the data store is reachable, 503 otherwise.",
		Tags: tags("Service"), Errors: []int{http.StatusServiceUnavailable}}, svc.readyz)

	register(api, mux, opts, huma.Operation{OperationID: "list-items", Method: http.MethodGet, Path: itemsPath,
		Summary: "List items",
		Description: "Items in creation order, a page at a time. A page holds `limit` items unless it is the last one; " +
			"`next_cursor` (and the `Link: rel=\"next\"` header) appear exactly when more items match. " +
			"Filters: `tag` (exact) and `q` (name prefix, case-insensitive); pass the same filters with the cursor.",
		Tags: tags("Items"), Errors: []int{http.StatusBadRequest, http.StatusUnprocessableEntity, http.StatusServiceUnavailable, http.StatusGatewayTimeout}}, it.list)
	register(api, mux, opts, huma.Operation{OperationID: "create-item", Method: http.MethodPost, Path: itemsPath, DefaultStatus: http.StatusCreated,
		Summary: "Create an item",
		Description: "Creates an item and answers 201 with its URL in `Location`. With an `Idempotency-Key` the create is safe " +
			"to retry: the same key and body return the first response again (`Idempotent-Replayed: true`).",
		Tags: tags("Items"), Errors: []int{http.StatusBadRequest, http.StatusConflict, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType, http.StatusUnprocessableEntity, http.StatusServiceUnavailable, http.StatusGatewayTimeout}}, it.create)
	register(api, mux, opts, huma.Operation{OperationID: "get-item", Method: http.MethodGet, Path: itemsPath + "/{id}",
		Summary: "Get an item", Description: "The item with its `ETag`; with a matching `If-None-Match`, 304 and no body.",
		Tags: tags("Items"), Errors: []int{http.StatusNotModified, http.StatusNotFound, http.StatusUnprocessableEntity, http.StatusServiceUnavailable, http.StatusGatewayTimeout}}, it.get)
	register(api, mux, opts, huma.Operation{OperationID: "replace-item", Method: http.MethodPut, Path: itemsPath + "/{id}",
		Summary: "Replace an item", Description: "Replaces every writable field. With `If-Match`, only if the item is still at that ETag (412 otherwise).",
		Tags: tags("Items"), Errors: []int{http.StatusBadRequest, http.StatusNotFound, http.StatusConflict, http.StatusPreconditionFailed, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType, http.StatusUnprocessableEntity, http.StatusServiceUnavailable, http.StatusGatewayTimeout}}, it.replace)
	register(api, mux, opts, huma.Operation{OperationID: "patch-item", Method: http.MethodPatch, Path: itemsPath + "/{id}",
		Summary: "Change some fields of an item",
		Description: "A JSON merge patch (RFC 7396): fields present are set, `\"description\": null` removes the description. " +
			"With `If-Match`, only if the item is still at that ETag (412 otherwise).",
		Tags: tags("Items"), Errors: []int{http.StatusBadRequest, http.StatusNotFound, http.StatusConflict, http.StatusPreconditionFailed, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType, http.StatusUnprocessableEntity, http.StatusServiceUnavailable, http.StatusGatewayTimeout}}, it.patch)
	register(api, mux, opts, huma.Operation{OperationID: "delete-item", Method: http.MethodDelete, Path: itemsPath + "/{id}", DefaultStatus: http.StatusNoContent,
		Summary: "Delete an item", Description: "Deletes the item; 204 with no body. With `If-Match`, only if the item is still at that ETag (412 otherwise).",
		Tags: tags("Items"), Errors: []int{http.StatusNotFound, http.StatusPreconditionFailed, http.StatusUnprocessableEntity, http.StatusServiceUnavailable, http.StatusGatewayTimeout}}, it.delete)

	mux.afterRegistration(func() { constrainTags(api) }, func() { documentProblems(api) })

	spec := &specHandler{api: api, cache: map[string][]byte{}}
	mux.Handle("GET /openapi.json", spec.serve("json"))
	mux.Handle("GET /openapi.yaml", spec.serve("yaml"))
	mux.Handle("GET /openapi-3.0.json", spec.serve("3.0.json"))
	mux.Handle("GET /openapi-3.0.yaml", spec.serve("3.0.yaml"))

	docs := swaggerui.Handler(opts.Title+" — API docs", "/docs", "openapi.json")
	mux.Handle("GET /docs", docs)
	mux.Handle("GET /docs/{asset}", docs)
}

// register adds one operation with the settings every operation shares;
// those that take a body check its media type first.
func register[I, O any](api huma.API, mux router, opts Options, op huma.Operation, h func(ctx context.Context, in *I) (*O, error)) {
	op.MaxBodyBytes = opts.BodyLimit
	if hasBody[I]() {
		op.Middlewares = append(op.Middlewares, requireContentType(api))
	}
	mux.operation(op.OperationID, op.Method, op.Path, func() { huma.Register(api, op, h) })
}

// constrainTags gives each element of every `tags` array its length rule
// (1 to 50 characters). Struct tags cannot reach slice elements, so the
// generated schemas are amended here after registration (after each one,
// with Options.Lazy); validation and the document both read these schemas.
func constrainTags(api huma.API) {
	minLen, maxLen := 1, 50
	for _, s := range api.OpenAPI().Components.Schemas.Map() {
		tags, ok := s.Properties["tags"]
		if !ok || tags.Items == nil {
			continue
		}
		tags.Items.MinLength, tags.Items.MaxLength = &minLen, &maxLen
		tags.Items.Description = "A tag, 1 to 50 characters."
		tags.Items.Examples = []any{"kitchen"}
		tags.Items.PrecomputeMessages()
	}
}

// hasBody reports whether an operation's input struct I has a request body
// (a Body field), as Huma decides it.
func hasBody[I any]() bool {
	t := reflect.TypeFor[I]()
	if t.Kind() != reflect.Struct {
		return false
	}
	_, ok := t.FieldByName("Body")
	return ok
}

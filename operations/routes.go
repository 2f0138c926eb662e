package operations

import (
	"context"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/typedapi/typedapi/internal/middleware"
	"github.com/typedapi/typedapi/internal/swaggerui"
	"github.com/typedapi/typedapi/models"
)

// Stores are the persistence of each resource. A nil store leaves its
// resource out: its routes are not registered. Orders read the item they
// name, so Orders needs Items.
type Stores struct {
	Items  ItemStore
	Orders OrderStore
	// Health answers /readyz; without it readiness checks nothing.
	Health HealthChecker
}

// StoresOf is the Stores that one value implements: each field is set when
// s has that resource's methods. A store package offers whichever
// resources it holds.
func StoresOf(s any) Stores {
	var st Stores
	st.Items, _ = s.(ItemStore)
	st.Orders, _ = s.(OrderStore)
	st.Health, _ = s.(HealthChecker)
	return st
}

// addRoutes maps the whole API surface. Besides these, Huma serves the JSON
// Schemas of every body under /schemas/.
//
// A resource whose store is nil is left out: its routes are not registered.
func addRoutes(api huma.API, mux router, opts Options, stores Stores, fw *middleware.Forwarding) {
	svc := &service{title: opts.Title, version: opts.Version, health: stores.Health, collections: map[string]string{}}
	cursors := newCursorCodec(opts.CursorSecret)
	addSecurityScheme(api)

	register(api, mux, opts, huma.Operation{
		OperationID: "get-service-info",
		Method:      http.MethodGet,
		Path:        "/",
		Summary:     "Describe the service",
		Description: "Service name, version and links to the docs, the OpenAPI document and the items collection.",
		Tags:        []string{"Service"},
		Security:    public(),
	}, svc.info)
	register(api, mux, opts, huma.Operation{
		OperationID: "get-liveness",
		Method:      http.MethodGet,
		Path:        "/healthz",
		Summary:     "Liveness check",
		Description: "Answers 200 while the process runs; checks no dependency.",
		Tags:        []string{"Service"},
		Security:    public(),
	}, svc.healthz)
	register(api, mux, opts, huma.Operation{
		OperationID: readinessOperation,
		Method:      http.MethodGet,
		Path:        "/readyz",
		Summary:     "Readiness check",
		Description: "Answers 200 when the data store is reachable, 503 otherwise.",
		Tags:        []string{"Service"},
		Errors:      []int{http.StatusServiceUnavailable},
		Security:    public(),
	}, svc.readyz)
	if stores.Items != nil {
		it := &items{store: stores.Items, cursors: cursors.forListing("items"), idemTTL: opts.IdempotencyTTL, now: opts.Now,
			exports: opts.exports, writeTimeout: opts.StreamWriteTimeout}
		addItemRoutes(api, mux, opts, it)
		svc.collections["items"] = itemsPath
	}
	if stores.Orders != nil {
		ord := &orders{store: stores.Orders, items: stores.Items, cursors: cursors.forListing("orders"), idemTTL: opts.IdempotencyTTL, now: opts.Now,
			exports: opts.exports, writeTimeout: opts.StreamWriteTimeout,
			stream: eventSettings{maxDuration: opts.EventsMaxDuration, heartbeat: opts.EventsHeartbeat, poll: opts.EventsPollInterval}}
		addOrderRoutes(api, mux, opts, ord)
		svc.collections["orders"] = ordersPath
	}

	mux.afterRegistration(func() {
		documentProblems(api)
		declareRateLimitFields(api)
		declareHead(api)
	})

	spec := &specHandler{api: api, fw: fw, cache: map[string][]byte{}}
	mux.Handle("GET /openapi.json", spec.serve("json"))
	mux.Handle("GET /openapi.yaml", spec.serve("yaml"))
	mux.Handle("GET /openapi-3.0.json", spec.serve("3.0.json"))
	mux.Handle("GET /openapi-3.0.yaml", spec.serve("3.0.yaml"))

	docs := swaggerui.Handler(opts.Title+" — API docs", "/docs", "openapi.json")
	mux.Handle("GET /docs", docs)
	mux.Handle("GET /docs/{asset}", docs)
}

// The errors each kind of operation can answer (Huma adds 500 to every
// operation). Every item and order operation reads the store, which can be
// unavailable (503) or outlive the deadline (504); an operation with a body
// adds what a body can get wrong: malformed (400), too large (413), of
// another media type (415).
var (
	storeErrors  = []int{http.StatusServiceUnavailable, http.StatusGatewayTimeout}
	bodyErrors   = []int{http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType, http.StatusUnprocessableEntity}
	listErrors   = slices.Concat([]int{http.StatusBadRequest, http.StatusUnprocessableEntity}, storeErrors)
	exportErrors = listErrors // 503 also when as many exports run as allowed
	createErrors = slices.Concat(bodyErrors, []int{http.StatusConflict}, storeErrors)
	readErrors   = slices.Concat([]int{http.StatusNotFound, http.StatusUnprocessableEntity}, storeErrors)
	writeErrors  = slices.Concat(bodyErrors, []int{http.StatusNotFound, http.StatusConflict, http.StatusPreconditionFailed}, storeErrors)
	deleteErrors = slices.Concat([]int{http.StatusNotFound, http.StatusPreconditionFailed, http.StatusUnprocessableEntity}, storeErrors)
)

// notModified declares the 304 of a GET that honours If-None-Match: no
// content (it is no problem), the current ETag in its header.
func notModified() map[string]*huma.Response {
	return map[string]*huma.Response{strconv.Itoa(http.StatusNotModified): {
		Description: "Not Modified: If-None-Match lists the current ETag; no body.",
		Headers:     map[string]*huma.Param{"ETag": responseHeader("The current entity tag, as sent in If-None-Match.", `"01JDQ8Z6M3N4P5Q6R7S8T9V0WX.1"`)},
	}}
}

// addItemRoutes maps /v1/items.
func addItemRoutes(api huma.API, mux router, opts Options, it *items) {
	addTag(api, "Items", "Create, read, list, change and delete items.")
	register(api, mux, opts, huma.Operation{
		OperationID: "list-items",
		Method:      http.MethodGet,
		Path:        itemsPath,
		Summary:     "List items",
		Description: "Items in creation order, a page at a time. A page holds `limit` items unless it is the last one; " +
			"`next_cursor` (and the `Link: rel=\"next\"` header) appear exactly when more items match. " +
			"Filters: `tag` (exact) and `q` (name prefix, case-insensitive); pass the same filters with the cursor.",
		Tags:     []string{"Items"},
		Errors:   listErrors,
		Security: public(),
	}, it.list)
	registerExport(api, mux, opts, huma.Operation{
		OperationID: "export-items",
		Method:      http.MethodGet,
		Path:        itemsPath + "/export",
		Summary:     "Export items as NDJSON",
		Description: "Every item the filters match, one JSON object per line (`application/x-ndjson`), in creation order: " +
			"the same items the list pages through, streamed in one response. Filters as for the list (`tag`, `q`); " +
			"any other query parameter is 422. The server reads a page of items at a time and sends it before it reads the next, " +
			"so the first lines arrive at once and memory stays flat however many items there are. Each line is the item as stored " +
			"when its page was read; items written while the export runs may or may not appear. At most `export_concurrency` exports " +
			"run at once on a server: beyond that, 503 with `Retry-After`.",
		Tags:     []string{"Items"},
		Errors:   exportErrors,
		Security: public(),
	}, reflect.TypeFor[models.Item](), it.export)
	register(api, mux, opts, huma.Operation{
		OperationID:   "create-item",
		Method:        http.MethodPost,
		Path:          itemsPath,
		DefaultStatus: http.StatusCreated,
		Summary:       "Create an item",
		Description: "Creates an item and answers 201 with its URL in `Location`. With an `Idempotency-Key` the create is safe " +
			"to retry: the same key and body return the first response again (`Idempotent-Replayed: true`).",
		Tags:     []string{"Items"},
		Errors:   createErrors,
		Security: bearer(ScopeItemsWrite),
	}, it.create)
	register(api, mux, opts, huma.Operation{
		OperationID: "get-item",
		Method:      http.MethodGet,
		Path:        itemsPath + "/{id}",
		Summary:     "Get an item",
		Description: "The item with its `ETag`; with a matching `If-None-Match`, 304 and no body.",
		Tags:        []string{"Items"},
		Errors:      readErrors,
		Responses:   notModified(),
		Security:    public(),
	}, it.get)
	register(api, mux, opts, huma.Operation{
		OperationID: "replace-item",
		Method:      http.MethodPut,
		Path:        itemsPath + "/{id}",
		Summary:     "Replace an item",
		Description: "Replaces every writable field. With `If-Match`, only if the item is still at that ETag (412 otherwise).",
		Tags:        []string{"Items"},
		Errors:      writeErrors,
		Security:    bearer(ScopeItemsWrite),
	}, it.replace)
	register(api, mux, opts, huma.Operation{
		OperationID: "patch-item",
		Method:      http.MethodPatch,
		Path:        itemsPath + "/{id}",
		Summary:     "Change some fields of an item",
		Description: "A JSON merge patch (RFC 7396): fields present are set, `\"description\": null` removes the description; " +
			"an empty patch `{}` changes nothing (the version and ETag stay). With `If-Match`, only if the item is still at that ETag (412 otherwise).",
		Tags:     []string{"Items"},
		Errors:   writeErrors,
		Security: bearer(ScopeItemsWrite),
	}, it.patch)
	register(api, mux, opts, huma.Operation{
		OperationID:   "delete-item",
		Method:        http.MethodDelete,
		Path:          itemsPath + "/{id}",
		DefaultStatus: http.StatusNoContent,
		Summary:       "Delete an item",
		Description:   "Deletes the item; 204 with no body. With `If-Match`, only if the item is still at that ETag (412 otherwise).",
		Tags:          []string{"Items"},
		Errors:        deleteErrors,
		Security:      bearer(ScopeItemsWrite),
	}, it.delete)
}

// addOrderRoutes maps /v1/orders: one register per route.
func addOrderRoutes(api huma.API, mux router, opts Options, ord *orders) {
	addTag(api, "Orders", "Order an item, follow the order from pending to paid and shipped, or cancel it.")
	register(api, mux, opts, huma.Operation{
		OperationID: "list-orders",
		Method:      http.MethodGet,
		Path:        ordersPath,
		Summary:     "List orders",
		Description: "The caller's own orders (every order for the staff, scope `orders:fulfil`) in creation order, a page at a time, " +
			"as items are listed. Filters: `item_id` (the orders of one item) and `status`; pass the same filters with the cursor, " +
			"which only its caller may use.",
		Tags:     []string{"Orders"},
		Errors:   listErrors,
		Security: bearer(),
	}, ord.list)
	registerExport(api, mux, opts, huma.Operation{
		OperationID: "export-orders",
		Method:      http.MethodGet,
		Path:        ordersPath + "/export",
		Summary:     "Export orders as NDJSON",
		Description: "The caller's own orders (every order for the staff, scope `orders:fulfil`) that the filters match, one JSON object " +
			"per line (`application/x-ndjson`), in creation order, as the list shows them. Filters as for the list (`item_id`, `status`); " +
			"any other query parameter is 422. Read and sent a page at a time, as the item export is; each line is the order as stored " +
			"when its page was read, and orders written while the export runs may or may not appear. At most `export_concurrency` " +
			"exports run at once: beyond that, 503 with `Retry-After`.",
		Tags:     []string{"Orders"},
		Errors:   exportErrors,
		Security: bearer(),
	}, reflect.TypeFor[models.Order](), ord.export)
	register(api, mux, opts, huma.Operation{
		OperationID:   "create-order",
		Method:        http.MethodPost,
		Path:          ordersPath,
		DefaultStatus: http.StatusCreated,
		Summary:       "Order an item",
		Description: "Creates a pending order of `quantity` units of the item, at the item's current price and currency, " +
			"and answers 201 with its URL in `Location`. An `item_id` that names no item is 422, as is a total above 2^53 − 1. " +
			"The order belongs to the caller (`owner`, the token's subject). " +
			"With an `Idempotency-Key` the create is safe to retry, as for items.",
		Tags:     []string{"Orders"},
		Errors:   createErrors,
		Security: bearer(),
	}, ord.create)
	register(api, mux, opts, huma.Operation{
		OperationID: "get-order",
		Method:      http.MethodGet,
		Path:        ordersPath + "/{id}",
		Summary:     "Get an order",
		Description: "The order with its `ETag`; with a matching `If-None-Match`, 304 and no body. Another caller's order is 404, as a missing one, unless the caller is staff.",
		Tags:        []string{"Orders"},
		Errors:      readErrors,
		Responses:   notModified(),
		Security:    bearer(),
	}, ord.get)
	registerEvents(api, mux, opts, huma.Operation{
		OperationID: "get-order-events",
		Method:      http.MethodGet,
		Path:        ordersPath + "/{id}/events",
		Summary:     "Follow the status of an order",
		Description: "Server-sent events (`text/event-stream`): a `status` event for each status the order has taken and then takes, " +
			"until it is shipped or cancelled, when the stream ends (a client resuming after the last event then gets 204). Each event's `id` is the status's place in `status_history` " +
			"(1 for the first): send the last one received in `Last-Event-ID` to resume after it. A comment (`: heartbeat`) keeps " +
			"a quiet stream open (`events_heartbeat`); after `events_max_duration` the stream ends and the client reconnects. " +
			"Changes are read from the store every `events_poll_interval`, so changes made through any server appear. " +
			"As for `GET /v1/orders/{id}`, another caller's order is 404 unless the caller is staff.\n\n" +
			"Send the token in `Authorization: Bearer`, with a fetch-based client (`fetch` and a stream reader, or a library such as " +
			"`@microsoft/fetch-event-source`): the browser's `EventSource` cannot send headers, so it cannot call this operation.",
		Tags:   []string{"Orders"},
		Errors: readErrors,
		Responses: map[string]*huma.Response{
			"200": {Description: "The order's status events, until it is shipped or cancelled, or the stream's maximum duration passes."},
			"204": {Description: "The order is shipped or cancelled and `Last-Event-ID` names its last status: no event will ever follow, " +
				"and a client (the browser's `EventSource` too) stops reconnecting."},
		},
		Security: bearer(),
	}, map[string]any{"status": OrderStatusEvent{}}, ord.eventsFound(api), ord.events)
	register(api, mux, opts, huma.Operation{
		OperationID: "patch-order",
		Method:      http.MethodPatch,
		Path:        ordersPath + "/{id}",
		Summary:     "Change the status of an order",
		Description: "Moves the order along pending → paid → shipped, or from pending or paid to cancelled, and records the change " +
			"in `status_history`. Any other change is 409, naming both statuses. The owner may only cancel a pending order: " +
			"paying, shipping and cancelling a paid order (a refund) need the scope `orders:fulfil` (403 otherwise), as do other callers' " +
			"orders, which are 404 to anyone else. With `If-Match`, only if the order is still at that ETag (412 otherwise).",
		Tags: []string{"Orders"},
		// 403: paying, shipping and refunding are the staff's (orders:fulfil).
		Errors:   slices.Concat(writeErrors, []int{http.StatusForbidden}),
		Security: bearer(),
	}, ord.patch)
}

// declareHead documents HEAD beside every GET, as the server answers it
// (a GET route of ServeMux takes HEAD; middleware.HeadWithoutBody drops the
// body): the GET's parameters, statuses and headers, and no content.
func declareHead(api huma.API) {
	for _, item := range api.OpenAPI().Paths {
		if item.Get == nil || item.Head != nil {
			continue
		}
		head := *item.Get
		head.Method = http.MethodHead
		head.OperationID = "head-" + strings.TrimPrefix(head.OperationID, "get-")
		head.Summary += " (headers only)"
		head.Description = "As GET, with the same status and headers and no body."
		head.Responses = make(map[string]*huma.Response, len(item.Get.Responses))
		for code, resp := range item.Get.Responses {
			r := *resp
			r.Content = nil
			head.Responses[code] = &r
		}
		item.Head = &head
	}
}

// addTag describes a resource's tag in the document, next to its routes,
// so that a resource left out (its store is nil) leaves no empty tag.
func addTag(api huma.API, name, description string) {
	oapi := api.OpenAPI()
	oapi.Tags = append(oapi.Tags, &huma.Tag{Name: name, Description: description})
}

// readinessOperation answers 503 in its own words (notReadyDetail), which
// its problem doc shows.
const readinessOperation = "get-readiness"

// register adds one operation with the settings every operation shares:
// one that declares security verifies its caller first, before any of the
// request is read (public ones call nothing); a parameter sent empty is
// checked as sent; those that take a body check its media type first, then
// that it sets no member null that cannot be.
//
// Every operation states its security: public() or bearer(scopes...). One
// that states none panics here, at start-up, so none is open by omission.
func register[I, O any](api huma.API, mux router, opts Options, op huma.Operation, h func(ctx context.Context, in *I) (*O, error)) {
	prepare[I](api, opts, &op)
	mux.operation(op.OperationID, op.Method, op.Path, func() { huma.Register(api, op, h) })
}

// prepare gives op what every operation shares (see register), whichever
// way it is then registered with Huma.
func prepare[I any](api huma.API, opts Options, op *huma.Operation) {
	if op.Security == nil {
		panic("operations: " + op.OperationID + " declares no Security; use public() or bearer(scopes...)")
	}
	op.MaxBodyBytes = opts.BodyLimit
	// Every request may carry X-Request-Id; middleware.RefuseBadRequestID
	// answers 400 to one out of bounds.
	op.Parameters = append(slices.Clip(op.Parameters), requestIDParam)
	addErrors(op, http.StatusBadRequest)
	if protected(op) {
		addErrors(op, authErrors(op)...)
		op.Middlewares = append(op.Middlewares, authenticate(api, opts.Auth, declaredScopes(op)))
	}
	if rateLimited(op) {
		// Declared whether or not this server limits: a deployment can.
		// The limiter runs after authentication, to key it by caller
		// (ratelimit.go), and before any other check, so a client cannot
		// get requests past it by making them fail.
		addErrors(op, http.StatusTooManyRequests)
		if opts.limiter != nil {
			op.Middlewares = append(op.Middlewares, opts.limiter.middleware(api))
		}
	}
	op.Middlewares = append(op.Middlewares, refuseEmptyParams(api))
	if hasBody[I]() {
		op.Middlewares = append(op.Middlewares, requireContentType(api), refuseNulls(api))
	}
}

// requestIDParam declares the X-Request-Id every operation takes.
var requestIDParam = &huma.Param{
	Name: middleware.RequestIDHeader,
	In:   "header",
	Description: "Your id for this request, echoed in the response's X-Request-Id and logged with it; " +
		"without one the server makes one. Longer, with other characters or sent twice: 400.",
	Example: "5f1b7c9e-2d4a-4e8b-9c1d-3a6f0e2b7d45",
	Schema:  &huma.Schema{Type: huma.TypeString, MaxLength: ptr(middleware.MaxRequestIDLength), Pattern: middleware.RequestIDPattern},
}

func ptr[T any](v T) *T { return &v }

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

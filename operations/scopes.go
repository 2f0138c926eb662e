package operations

// The OAuth scopes this API defines. Reading items is public; the rest of
// what a caller may do follows from these (routes.go declares them per
// operation, orders.go checks ScopeOrdersFulfil for the staff's changes).
const (
	// ScopeItemsWrite lets a caller create, replace, change and delete items.
	ScopeItemsWrite = "items:write"
	// ScopeOrdersFulfil marks the shop's staff: they see and change every
	// order, mark orders paid and shipped, and cancel paid ones (a refund).
	ScopeOrdersFulfil = "orders:fulfil"
)

// Scopes lists every scope the API defines, for the docs and for a local
// caller that may do everything.
var Scopes = []string{ScopeItemsWrite, ScopeOrdersFulfil}

// securityScheme names the bearer-token scheme in the OpenAPI document.
const securityScheme = "bearer"

// Package httpbench holds the reference servers scripts/bench-http runs
// beside the API: bare Huma on net/http (barehuma) and plain net/http with
// hand validation (nethttp). Each serves GET and POST of an item on the
// API's own memory store, so the comparison is the framework and the
// service's middleware, not the data structure. They are measuring
// instruments, never part of the product.
package httpbench

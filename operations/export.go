package operations

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"github.com/typedapi/typedapi/models"
)

// An export writes every matching row of a collection as NDJSON (one JSON
// value per line), reading the store one page at a time through the same
// paged List the collection's listing uses, and flushing after each page:
// the client has a page before the next is read, and the server holds one
// page at a time whatever the size, also when the client reads slowly (a
// write blocks until it reads; one that stalls past the write timeout ends
// the export).
//
// Each line is the row as stored when its page was read. The pages are
// read one after another, not from one snapshot: a row written during the
// export may or may not appear (a row created after the export passed its
// place does not), a row changed during it appears once, as its page saw it,
// and a row deleted before its page was read does not appear.

// ndjsonType is the media type of an export.
const ndjsonType = "application/x-ndjson"

// exportPageSize is how many rows an export reads at a time: the most a
// list page may hold.
const exportPageSize = 100

// exportRetryAfter is the Retry-After of an export refused because as many
// are running as the server allows: an export takes a while.
const exportRetryAfter = "5"

// exportSlots caps the exports running at once in this process
// (Options.ExportConcurrency): each holds a store cursor and a connection
// for as long as its client reads.
type exportSlots chan struct{}

// acquire takes a slot, or answers 503 with Retry-After when none is free.
// release must be called once the export ends.
func (s exportSlots) acquire() (release func(), err error) {
	select {
	case s <- struct{}{}:
		return func() { <-s }, nil
	default:
		return nil, errExportsBusy()
	}
}

// errExportsBusy refuses an export beyond the cap: the server's capacity,
// not the client's rate, so 503 rather than 429.
func errExportsBusy() error {
	return huma.ErrorWithHeaders(
		huma.Error503ServiceUnavailable("As many exports are running as this server allows at once; retry after the number of seconds in Retry-After."),
		http.Header{"Retry-After": {exportRetryAfter}})
}

// exportOf answers an export: first is its first page, already read, so a
// store that fails at once is a problem (503, 504...) rather than an empty
// 200; next reads the page after a position. The stream writes each page
// and flushes it, then reads the next. A page that fails after the first
// has been sent aborts the response (the connection is cut, the chunked
// body never ends cleanly), so a client cannot take a cut export for a
// whole one; the cause is logged with the request id.
//
// writeTimeout bounds the writing of each page: the server's write
// deadline is moved that far ahead before each page (http.ResponseController),
// so a long export is not cut by the server's WriteTimeout while a client
// that stops reading is.
func exportOf[T any](first models.Page[T], next func(ctx context.Context, after string, reuse []T) (models.Page[T], error),
	release func(), writeTimeout time.Duration, n noun,
) *huma.StreamResponse {
	return &huma.StreamResponse{Body: func(hctx huma.Context) {
		defer release()
		hctx.SetHeader("Content-Type", ndjsonType)
		hctx.SetStatus(http.StatusOK)
		if hctx.Method() == http.MethodHead {
			return
		}
		ctx := hctx.Context()
		_, w := humago.Unwrap(hctx)
		rc := http.NewResponseController(w)
		page := first
		for {
			// Not supported where no deadline applies (Lambda, tests):
			// nothing to move then.
			_ = rc.SetWriteDeadline(time.Now().Add(writeTimeout))
			for i := range page.Items {
				if err := marshalJSON(w, &page.Items[i]); err != nil {
					return // the client is gone or stalled past the deadline
				}
			}
			if err := rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
				return
			}
			if page.Next == "" {
				return
			}
			// The page sent is done with: the next one may take its storage.
			var err error
			page, err = next(ctx, page.Next, page.Items[:0])
			if err != nil {
				if ctx.Err() != nil {
					return // the client went away
				}
				logCause(ctx, http.StatusInternalServerError, "export of "+string(n)+"s failed after its first page", err)
				panic(http.ErrAbortHandler)
			}
		}
	}}
}

// unknownFilters refuses query parameters an export does not take (422,
// one error each, in name order): an export that ignored a misspelt filter
// would silently send everything. The list operations keep ignoring them.
func unknownFilters(ctx huma.Context) []error {
	u := ctx.URL()
	if u.RawQuery == "" {
		return nil
	}
	var known []string
	for _, p := range ctx.Operation().Parameters {
		if p.In == "query" {
			known = append(known, p.Name)
		}
	}
	query := u.Query()
	var names []string
	for name := range query {
		if !slices.Contains(known, name) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	errs := make([]error, 0, len(names))
	for _, name := range names {
		errs = append(errs, unknownFilter(name, query.Get(name), known))
	}
	return errs
}

// unknownFilter is the field error of one query parameter an export does
// not take.
func unknownFilter(name, value string, known []string) *huma.ErrorDetail {
	return &huma.ErrorDetail{
		Location: "query." + truncateText(name),
		Message:  "unknown filter; this export takes " + strings.Join(known, ", "),
		Value:    value,
	}
}

// unknownFilterExample is the 422 of an export op, as a client that sends
// a list's limit to it gets.
func unknownFilterExample(op *huma.Operation) error {
	var known []string
	for _, p := range op.Parameters {
		if p.In == "query" {
			known = append(known, p.Name)
		}
	}
	return huma.Error422UnprocessableEntity(humaValidationFailed, unknownFilter("limit", "101", known))
}

// isExport reports whether op is an export (its 200 is NDJSON).
func isExport(op *huma.Operation) bool {
	ok := op.Responses["200"]
	return ok != nil && ok.Content[ndjsonType] != nil
}

// registerExport adds an export operation: register's shared settings,
// and a 200 of NDJSON lines, each a row, declared with the row's schema.
func registerExport[I any](api huma.API, mux router, opts Options, op huma.Operation, row reflect.Type,
	h func(ctx context.Context, in *I) (*huma.StreamResponse, error),
) {
	prepare[I](api, opts, &op)
	mux.operation(op.OperationID, op.Method, op.Path, func() {
		op.Responses = map[string]*huma.Response{"200": {
			Description: "One line per " + string(nounOf(&op)) + ", each a JSON object (NDJSON), in creation order; the response ends after the last. " +
				"Lines arrive a page at a time. A response that breaks off before its end (the connection is cut) failed: retry the export.",
			Content: map[string]*huma.MediaType{ndjsonType: {Schema: api.OpenAPI().Components.Schemas.Schema(row, true, "")}},
		}}
		huma.Register(api, op, h)
	})
}

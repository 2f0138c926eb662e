package operations

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/danielgtaylor/huma/v2"

	"github.com/typedapi/typedapi/internal/middleware"
	"github.com/typedapi/typedapi/models"
)

// maxEchoedValue caps how much of a rejected value a problem repeats back
// (Huma echoes the whole body of malformed JSON).
const maxEchoedValue = 256

// maxErrorDetails caps the details of one problem.
const maxErrorDetails = 20

// humaBodyReadFailed is Huma's message when reading a request body fails
// for any reason but a timeout.
const humaBodyReadFailed = "cannot read request body"

// humaValidationFailed is the detail of Huma's 400 and 422 problems (a body
// it cannot decode, a request that breaks its schema); its errors say what.
const humaValidationFailed = "validation failed"

var installOnce sync.Once

// genericDetail is all a client learns of a 500.
const genericDetail = "The server hit an unexpected condition; the request id identifies it in the logs."

// installErrorModel replaces Huma's error constructors (package variables,
// hence once per process) so that:
//   - a 5xx never carries its causes in the body; a 500's detail is
//     generic. Where Huma itself fails a request (NewErrorWithContext), the
//     causes are logged with the request id first;
//   - a 4xx repeats at most maxEchoedValue bytes of a rejected value.
func installErrorModel() {
	installOnce.Do(func() {
		base := huma.NewError
		huma.NewError = func(status int, msg string, errs ...error) huma.StatusError {
			if status >= 500 {
				if status == http.StatusInternalServerError {
					msg = genericDetail
				}
				return &huma.ErrorModel{Status: status, Title: http.StatusText(status), Detail: msg}
			}
			if len(errs) > maxErrorDetails {
				// One bad element of a 100,000-element array must not
				// become 100,000 details, each repeating the array.
				more := len(errs) - maxErrorDetails
				errs = append(errs[:maxErrorDetails:maxErrorDetails], &huma.ErrorDetail{Message: fmt.Sprintf("and %d more errors", more)})
			}
			se := base(status, msg, errs...)
			if em, ok := se.(*huma.ErrorModel); ok {
				for _, d := range em.Errors {
					if d != nil {
						d.Value = truncate(d.Value)
					}
				}
			}
			return se
		}
		huma.NewErrorWithContext = func(ctx huma.Context, status int, msg string, errs ...error) huma.StatusError {
			if status == http.StatusInternalServerError && msg == humaBodyReadFailed {
				// Huma calls any failed body read a 500, but only the client
				// can break a body: a malformed chunk, a connection closed
				// before Content-Length bytes arrived, or (on Lambda) a body
				// marked base64-encoded that is not.
				var corrupt base64.CorruptInputError
				if errors.As(errors.Join(errs...), &corrupt) {
					return huma.NewError(http.StatusBadRequest, "The request body could not be read: it is marked base64-encoded but is not valid base64 (at byte "+strconv.FormatInt(int64(corrupt), 10)+").")
				}
				return huma.NewError(http.StatusBadRequest, "The request body could not be read: it ended early or its chunked encoding is malformed.")
			}
			if status == http.StatusRequestEntityTooLarge && ctx != nil && ctx.Operation() != nil {
				// Huma's body limit (register sets it on every operation):
				// worded here, as Huma does, so that the problem docs show
				// what the server sends.
				msg = bodyTooLargeDetail(ctx.Operation().MaxBodyBytes)
			}
			if status >= 500 {
				var c context.Context = context.Background()
				if ctx != nil {
					c = ctx.Context()
				}
				logCause(c, status, msg, errors.Join(errs...))
			}
			return huma.NewError(status, msg, errs...)
		}
	})
}

// logCause writes what went wrong behind a 5xx, with the request id that
// the client also received.
func logCause(ctx context.Context, status int, msg string, cause error) {
	attrs := []any{"status", status, "request_id", middleware.RequestID(ctx), "detail", msg}
	if cause != nil {
		attrs = append(attrs, "error", cause.Error())
	}
	level := slog.LevelError
	if status != http.StatusInternalServerError {
		level = slog.LevelWarn // 503/504: the dependency's fault, worth a look, not a page
	}
	slog.Log(ctx, level, "request failed", attrs...)
}

// truncateText is s cut to maxEchoedValue bytes, saying so.
func truncateText(s string) string {
	if len(s) > maxEchoedValue {
		return s[:maxEchoedValue] + "…(truncated)"
	}
	return s
}

func truncate(v any) any {
	switch v := v.(type) {
	case nil, bool, float64, int, int64:
		return v
	case string:
		return truncateText(v)
	}
	// Objects and arrays (Huma echoes a whole body or array that failed a
	// rule) are cut as their JSON text.
	b, err := json.Marshal(v)
	if err == nil && len(b) <= maxEchoedValue {
		return v
	}
	return string(b[:min(len(b), maxEchoedValue)]) + "…(truncated)"
}

// noun names a resource in the problems about it ("No order has this id."):
// the singular of its collection's path segment (nounOf), declared in the
// resource's file.
type noun string

// storeError turns what a store reported about a resource (n) into the
// problem a client should see. Causes of 5xx answers are logged with the
// request id, never shown.
func storeError(ctx context.Context, n noun, err error) error {
	se := clientError(ctx, n, err)
	if se == nil {
		logCause(ctx, http.StatusInternalServerError, "store failure", err)
		return huma.Error500InternalServerError(genericDetail)
	}
	var st huma.StatusError
	if errors.As(se, &st) && st.GetStatus() >= 500 {
		logCause(ctx, st.GetStatus(), "store failure", err)
	}
	return se
}

// clientError maps the store errors a client can act on; nil for the rest.
func clientError(ctx context.Context, n noun, err error) error {
	switch {
	case errors.Is(err, models.ErrNotFound):
		return errNotFound(n)
	case errors.Is(err, models.ErrVersionConflict):
		return huma.Error412PreconditionFailed("The " + string(n) + " changed since the version this request is based on; GET it again and retry with its new ETag.")
	case errors.Is(err, models.ErrAlreadyExists):
		return errExists(n)
	case errors.Is(err, models.ErrIdempotencyMismatch):
		return huma.Error422UnprocessableEntity("This Idempotency-Key was already used with a different request body; use a new key for a new request.",
			&huma.ErrorDetail{Location: "header.Idempotency-Key", Message: "reused with a different request body"})
	case errors.Is(err, models.ErrInvalidPosition):
		return invalidCursor("the cursor does not point into this listing")
	case errors.Is(err, models.ErrUnavailable):
		return errUnavailable()
	case errors.Is(err, context.DeadlineExceeded):
		return errDeadline()
	case errors.Is(err, context.Canceled) && ctx.Err() != nil:
		// The client went away; nobody reads this answer.
		return huma.Error503ServiceUnavailable("The request was cancelled.")
	}
	return nil
}

// The problems below are made in one place each: the handlers answer with
// them and the problem docs (problemdocs.go) show them as examples, so
// /docs cannot promise a wording the server does not send.

func errNotFound(n noun) error { return huma.Error404NotFound("No " + string(n) + " has this id.") }

func errExists(n noun) error {
	return huma.Error409Conflict(article(n) + " " + string(n) + " with this id already exists.")
}

// article is the indefinite article of n, by its first letter: enough for
// resource names (an item, an order, a customer).
func article(n noun) string {
	if n != "" && strings.ContainsRune("aeiou", rune(n[0])) {
		return "An"
	}
	return "A"
}

// errTooBusy answers a write without If-Match that kept losing races: the
// client set no precondition, so a 412 would make no sense to it.
func errTooBusy(n noun) error {
	return huma.ErrorWithHeaders(
		huma.Error409Conflict("Other requests kept changing this "+string(n)+"; nothing was written. Retry, or send If-Match to make the change conditional."),
		http.Header{"Retry-After": {"1"}})
}

// errPreconditionFailed answers an If-Match that does not list the
// resource's current ETag, which it sends along.
func errPreconditionFailed(n noun, current string) error {
	return huma.ErrorWithHeaders(
		huma.Error412PreconditionFailed("If-Match does not list the "+string(n)+"'s current ETag: it changed since you read it. GET it again and retry with the new ETag.",
			&huma.ErrorDetail{Location: "header.If-Match", Message: "stale or unknown ETag"}),
		http.Header{"ETag": {current}})
}

func errUnavailable() error {
	return huma.ErrorWithHeaders(
		huma.Error503ServiceUnavailable("The data store is busy or unreachable; retry after the number of seconds in Retry-After."),
		http.Header{"Retry-After": {"1"}})
}

func errDeadline() error {
	return huma.Error504GatewayTimeout("The request did not finish within its deadline.")
}

// bodyTooLargeDetail is the detail of a 413 for an operation whose body
// limit is limit bytes.
func bodyTooLargeDetail(limit int64) string {
	return "request body is too large limit=" + strconv.FormatInt(limit, 10) + " bytes"
}

// The details of a 415 (requireContentType); want is the media type the
// operation takes (acceptedMediaType).

func noContentTypeDetail(want string) string {
	return "The request has a body but no Content-Type; send it as " + want + "."
}

func notAMediaTypeDetail(contentType, want string) string {
	return "Content-Type " + shownValue(contentType) + " is not a media type; send " + want + "."
}

func unsupportedMediaTypeDetail(mediaType, want string) string {
	return "Content type " + shownValue(mediaType) + " is not accepted here; send " + want + "."
}

func unsupportedCharsetDetail(charset string) string {
	return "Charset " + shownValue(charset) + " is not accepted; send the body as UTF-8."
}

// acceptedMediaType is the media type op's body is sent as (each operation
// lists one), which a 415 names.
func acceptedMediaType(op *huma.Operation) string {
	want := "application/json"
	for t := range op.RequestBody.Content {
		want = t
	}
	return want
}

package operations

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
	"github.com/danielgtaylor/huma/v2/sse"

	"github.com/typedapi/typedapi/models"
)

// An order's event stream (server-sent events) sends each status the
// order takes until it is shipped or cancelled. It learns of changes by
// reading the store every poll interval, so it sees those made through
// any instance, and it works wherever the response writer flushes: the
// HTTP server, or a streaming Lambda Function URL.
//
// What ends it: the order reaching a final status (after that event), the
// maximum duration (the client reconnects with Last-Event-ID), the
// request's context — the client's disconnect on the HTTP server, the
// invocation's deadline on Lambda, which is never told of a disconnect —
// or a write that fails.

// OrderStatusEvent is one status an order took: the data of a `status`
// event, whose id is the status's place in the order's status_history
// (1 for the first).
type OrderStatusEvent struct {
	OrderID string             `json:"order_id" doc:"The order." example:"01JDQ9A1B2C3D4E5F6G7H8J9K0"`
	Status  models.OrderStatus `json:"status" doc:"The status the order took." example:"paid"`
	At      time.Time          `json:"at" doc:"When it took it." example:"2026-11-25T12:01:00Z"`
}

// TransformSchema (huma.SchemaTransformer) describes the event's data.
func (OrderStatusEvent) TransformSchema(_ huma.Registry, s *huma.Schema) *huma.Schema {
	s.Description = "A status the order took, and when: the data of a status event, one line of JSON."
	return s
}

type OrderEventsInput struct {
	OrderID
	LastEventID int `header:"Last-Event-ID" minimum:"0" maximum:"1000000" doc:"The id of the last event received: the stream resumes after it. Without it, the stream starts with the order's first status." example:"1"`
}

// errStreamMaxDuration is the cause of an event stream's end at its
// maximum duration.
var errStreamMaxDuration = errors.New("the event stream reached its maximum duration")

// eventSettings are the limits of an event stream (Options).
type eventSettings struct {
	maxDuration, heartbeat, poll time.Duration
}

// events sends the order's statuses after Last-Event-ID, then each new
// one it reads, with a heartbeat comment when quiet. eventsFound has
// answered 404 for an order the caller may not see, before the stream
// began.
func (h *orders) events(ctx context.Context, in *OrderEventsInput, send sse.Sender) {
	caller, err := callerOf(ctx)
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeoutCause(ctx, h.stream.maxDuration, errStreamMaxDuration)
	defer cancel()
	poll := time.NewTicker(h.stream.poll)
	defer poll.Stop()
	heartbeat := time.NewTicker(h.stream.heartbeat)
	defer heartbeat.Stop()
	// A last word, which also writes the response's end within the write
	// deadline it sets; if the client is gone it fails, unread.
	end := func() { _ = send.Comment("end of stream; reconnect with Last-Event-ID to resume") }
	sent := in.LastEventID
	for {
		order, err := h.store.GetOrder(ctx, in.ID)
		if err == nil && !visible(caller, order) {
			err = models.ErrNotFound
		}
		if err != nil {
			if ctx.Err() == nil {
				logCause(ctx, http.StatusInternalServerError, "event stream: reading the order failed", err)
			}
			end()
			return
		}
		for sent < len(order.StatusHistory) {
			c := order.StatusHistory[sent]
			sent++
			if err := send(sse.Message{ID: sent, Data: OrderStatusEvent{OrderID: order.ID, Status: c.Status, At: c.At}}); err != nil {
				return
			}
			heartbeat.Reset(h.stream.heartbeat)
		}
		if order.Status == models.OrderShipped || order.Status == models.OrderCancelled {
			return // its last status is sent: nothing more will happen
		}
	wait:
		for {
			select {
			case <-ctx.Done():
				end()
				return
			case <-heartbeat.C:
				if err := send.Comment("heartbeat"); err != nil {
					return
				}
			case <-poll.C:
				break wait
			}
		}
	}
}

// eventsFound answers before the stream begins what a read of the order
// would: 404 for a missing order or another caller's, 503 or 504 when the
// store fails. Once the stream has begun its status is 200. A malformed id
// is left to Huma's validation (422). HEAD gets the stream's headers only.
func (h *orders) eventsFound(api huma.API) func(huma.Context, func(huma.Context)) {
	return func(ctx huma.Context, next func(huma.Context)) {
		id := ctx.Param("id")
		if !isID(id) {
			next(ctx)
			return
		}
		var order models.Order
		caller, err := callerOf(ctx.Context())
		if err == nil {
			order, err = h.store.GetOrder(ctx.Context(), id)
			if err == nil && !visible(caller, order) {
				err = models.ErrNotFound
			}
			if err != nil {
				err = storeError(ctx.Context(), orderNoun, err)
			}
		}
		if err != nil {
			writeProblem(api, ctx, err)
			return
		}
		if finishedAndReceived(order, ctx.Header("Last-Event-ID")) {
			// Nothing more will come: 204 is what tells an SSE client
			// (EventSource too) to stop reconnecting.
			ctx.SetStatus(http.StatusNoContent)
			return
		}
		if ctx.Method() == http.MethodHead {
			ctx.SetHeader("Content-Type", "text/event-stream")
			ctx.SetStatus(http.StatusOK)
			return
		}
		next(ctx)
	}
}

// finishedAndReceived reports whether the order is shipped or cancelled and
// lastEventID (the header, if it is a number) names its last status: a
// client resuming then has every event there will ever be. A malformed
// header is left to Huma's validation (422).
func finishedAndReceived(order models.Order, lastEventID string) bool {
	if order.Status != models.OrderShipped && order.Status != models.OrderCancelled {
		return false
	}
	n, err := strconv.Atoi(lastEventID)
	return err == nil && n >= len(order.StatusHistory)
}

// isID reports whether s has the form of an id (a 26-character ULID in
// upper case), as the path parameter's pattern says.
func isID(s string) bool {
	if len(s) != 26 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' && c != 'I' && c != 'L' && c != 'O' && c != 'U') {
			return false
		}
	}
	return true
}

// registerEvents adds a server-sent events operation (Huma's sse package,
// which documents each event type): register's shared settings, then
// found, which answers problems before the stream begins, and a body
// writer that flushes and moves the write deadline by each event.
func registerEvents[I any](api huma.API, mux router, opts Options, op huma.Operation, events map[string]any,
	found func(huma.Context, func(huma.Context)), f func(ctx context.Context, in *I, send sse.Sender),
) {
	prepare[I](api, opts, &op)
	op.Middlewares = append(op.Middlewares, found, streamWriter(opts.StreamWriteTimeout))
	mux.operation(op.OperationID, op.Method, op.Path, func() {
		sse.Register(api, op, events, f)
		plainEventSchema(api.OpenAPI().Paths[op.Path].Get)
	})
}

// plainEventSchema rewrites what the sse package declares so that both
// documents lint clean: an event name's "const" (an extension there, which
// OpenAPI 3.0 does not know) becomes a one-value enum, and a oneOf of a
// single event type becomes that type.
func plainEventSchema(op *huma.Operation) {
	mt := op.Responses["200"].Content["text/event-stream"]
	if mt == nil || mt.Schema == nil || mt.Schema.Items == nil {
		return
	}
	items := mt.Schema.Items
	variants, _ := items.Extensions["oneOf"].([]*huma.Schema)
	for _, v := range variants {
		if ev := v.Properties["event"]; ev != nil {
			if name, ok := ev.Extensions["const"]; ok {
				ev.Enum = []any{name}
				ev.Examples = []any{name}
				ev.Extensions = nil
			}
		}
		if id := v.Properties["id"]; id != nil {
			id.Description = "The event's id: send the last one received in Last-Event-ID to resume after it."
			id.Examples = []any{2}
			id.Format = "int64"
			id.Minimum, id.Maximum = ptr(1.0), ptr(float64(maxOrderStatuses))
		}
		delete(v.Properties, "retry") // never sent: a client reconnects as it likes
	}
	if len(variants) == 1 {
		mt.Schema.Items = variants[0]
	}
	mt.Schema.MaxItems = ptr(maxOrderStatuses)
}

// maxOrderStatuses bounds the events of a stream: an order takes each of
// its four statuses at most once (heartbeats are comments, no events).
const maxOrderStatuses = 4

// streamWriter gives the operation a body writer that flushes through
// every wrapper (http.ResponseController) and moves the write deadline
// timeout ahead whenever the sse package sets one, which it does before
// each event: a long stream outlives the server's WriteTimeout, a client
// that stops reading does not. Where there is no deadline (Lambda) there
// is nothing to move, and nothing is reported.
func streamWriter(timeout time.Duration) func(huma.Context, func(huma.Context)) {
	return func(ctx huma.Context, next func(huma.Context)) {
		_, w := humago.Unwrap(ctx)
		next(streamContext{humaContext: ctx, body: streamBody{w: w, rc: http.NewResponseController(w), timeout: timeout}})
	}
}

// streamContext is a huma.Context whose BodyWriter is a streamBody.
type streamContext struct {
	humaContext // spec.go: embedded under another name
	body        streamBody
}

func (c streamContext) BodyWriter() io.Writer { return c.body }

// Unwrap lets humago.Unwrap reach the request and writer.
func (c streamContext) Unwrap() huma.Context { return c.humaContext }

type streamBody struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	timeout time.Duration
}

func (b streamBody) Write(p []byte) (int, error) { return b.w.Write(p) }

func (b streamBody) Flush() { _ = b.rc.Flush() }

func (b streamBody) SetWriteDeadline(time.Time) error {
	if err := b.rc.SetWriteDeadline(time.Now().Add(b.timeout)); !errors.Is(err, http.ErrNotSupported) {
		return err
	}
	return nil
}

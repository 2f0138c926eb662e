package operations

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/typedapi/typedapi/internal/auth"
	"github.com/typedapi/typedapi/internal/itemid"
	"github.com/typedapi/typedapi/models"
)

// ordersPath is where the orders collection lives.
const ordersPath = "/v1/orders"

// orderNoun names an order in its problems.
const orderNoun noun = "order"

// OrderStore is what the order operations need from persistence, with the
// same error values as ItemStore. Method names carry "Order" so that one
// store type can hold items and orders side by side.
type OrderStore interface {
	// CreateOrder stores a new order, never overwriting, only if the item it
	// names is still at itemVersion: models.ErrVersionConflict when the item
	// changed since it was read, models.ErrNotFound when it is gone. The
	// check, the order and the idempotency record (idem, as for items, but
	// in a key space of its own) are written atomically.
	CreateOrder(ctx context.Context, order models.Order, itemVersion int64, idem *models.Idempotency) (stored models.Order, replayed bool, err error)
	// GetOrder returns models.ErrNotFound when there is no such order.
	GetOrder(ctx context.Context, id string) (models.Order, error)
	// ListOrders returns one page in id order, with the guarantees of List.
	ListOrders(ctx context.Context, q models.OrderQuery) (models.Page[models.Order], error)
	// UpdateOrder writes order (whose Version is prevVersion+1) only if the
	// stored version is still prevVersion, as Update does for items.
	UpdateOrder(ctx context.Context, order models.Order, prevVersion int64) (models.Order, error)
}

// orders implements the /v1/orders operations.
type orders struct {
	store        OrderStore
	items        ItemStore // to read the item an order names, for its price
	cursors      cursorCodec
	idemTTL      time.Duration
	now          func() time.Time
	exports      exportSlots
	writeTimeout time.Duration // of one page of an export
	stream       eventSettings // of the event stream
}

// ---- inputs and outputs -------------------------------------------------

// OrderID is the {id} path parameter of an order.
type OrderID struct {
	ID string `path:"id" maxLength:"26" pattern:"^[0-9A-HJKMNP-TV-Z]{26}$" patternDescription:"an order id (26-character ULID, upper case)" doc:"Id of the order, as returned when it was created." example:"01JDQ9A1B2C3D4E5F6G7H8J9K0"`
}

type ListOrdersInput struct {
	Limit  int                `query:"limit" minimum:"1" maximum:"100" default:"20" doc:"Most orders to return in this page." example:"20"`
	Cursor string             `query:"cursor" maxLength:"512" doc:"Opaque cursor from the previous page's next_cursor (or its Link rel=next). Repeat the same item_id and status with it." example:"Mi5hYmMuMDFKRFE5QTFCMkMzRDRFNUY2RzdIOEo5SzA.5xk2bPq0s1c3uE7uWQvZ9g"`
	ItemID string             `query:"item_id" maxLength:"26" pattern:"^[0-9A-HJKMNP-TV-Z]{26}$" patternDescription:"an item id (26-character ULID, upper case)" doc:"Only orders of this item." example:"01JDQ8Z6M3N4P5Q6R7S8T9V0WX"`
	Status models.OrderStatus `query:"status" doc:"Only orders in this status." example:"paid"`
}

// OrderPage is one page of the order list.
type OrderPage struct {
	Orders     []models.Order `json:"orders" doc:"Orders of this page in creation order (oldest first)." nullable:"false"`
	NextCursor string         `json:"next_cursor,omitempty" doc:"Pass as cursor to get the next page; absent on the last page." example:"Mi5hYmMuMDFKRFE5QTFCMkMzRDRFNUY2RzdIOEo5SzA.5xk2bPq0s1c3uE7uWQvZ9g"`
}

type ListOrdersOutput struct {
	Link string `header:"Link" doc:"RFC 8288 link to the next page (rel=\"next\"), when there is one." example:"</v1/orders?cursor=Mi5h...&limit=20>; rel=\"next\""`
	Body OrderPage
}

type ExportOrdersInput struct {
	ItemID string             `query:"item_id" maxLength:"26" pattern:"^[0-9A-HJKMNP-TV-Z]{26}$" patternDescription:"an item id (26-character ULID, upper case)" doc:"Only orders of this item." example:"01JDQ8Z6M3N4P5Q6R7S8T9V0WX"`
	Status models.OrderStatus `query:"status" doc:"Only orders in this status." example:"paid"`
}

// Resolve refuses a query parameter the export does not take.
func (in *ExportOrdersInput) Resolve(ctx huma.Context) []error { return unknownFilters(ctx) }

type CreateOrderInput struct {
	IdempotencyKey string `header:"Idempotency-Key" minLength:"1" maxLength:"255" doc:"Makes the create safe to retry: the same key with the same body returns the first response again (for 24 hours by default); with a different body, 422. Keys of orders and of items are apart." example:"9b2e4f0a-6c1d-4d7e-8a3b-2f5c7e9d1a04"`
	Body           models.NewOrder
}

type OrderOutput struct {
	ETag string `header:"ETag" doc:"Entity tag of this version of the order, for If-None-Match and If-Match." example:"\"01JDQ9A1B2C3D4E5F6G7H8J9K0.1\""`
	Body models.Order
}

type CreateOrderOutput struct {
	Location string `header:"Location" doc:"URL of the new order." example:"/v1/orders/01JDQ9A1B2C3D4E5F6G7H8J9K0"`
	ETag     string `header:"ETag" doc:"Entity tag of the new order." example:"\"01JDQ9A1B2C3D4E5F6G7H8J9K0.1\""`
	Replayed string `header:"Idempotent-Replayed" doc:"\"true\" when this is the stored first response to an earlier request with the same Idempotency-Key." example:"true"`
	Body     models.Order
}

type GetOrderInput struct {
	OrderID
	IfNoneMatch string `header:"If-None-Match" maxLength:"2048" doc:"Answer 304 Not Modified, with no body, if the order's ETag is one of these." example:"\"01JDQ9A1B2C3D4E5F6G7H8J9K0.1\""`
}

// Resolve reads every If-None-Match line, as GetItemInput's does.
func (in *GetOrderInput) Resolve(ctx huma.Context) []error {
	var errs []error
	if in.IfNoneMatch != "" {
		in.IfNoneMatch, errs = conditional(ctx, "If-None-Match")
	}
	return errs
}

// OrderPatch is the change a client may make to an order: its status.
// Everything else an order holds was fixed when it was made.
type OrderPatch struct {
	Status models.OrderStatus `json:"status" doc:"The new status: pending→paid→shipped, or pending or paid→cancelled. Any other change is 409." example:"paid"`
}

type PatchOrderInput struct {
	OrderID
	IfMatch
	Body OrderPatch `contentType:"application/merge-patch+json"`
}

// Resolve reads every If-Match line (see IfMatch).
func (in *PatchOrderInput) Resolve(ctx huma.Context) []error {
	return in.IfMatch.Resolve(ctx)
}

// ---- operations ----------------------------------------------------------

// staff reports whether c is the shop's staff, who see and change every
// order.
func staff(c auth.Caller) bool { return c.HasScope(ScopeOrdersFulfil) }

// visible reports whether c may see o: its owner and the staff may, and
// for anyone else it does not exist (404, so its existence never leaks).
func visible(c auth.Caller, o models.Order) bool { return staff(c) || o.Owner == c.Subject }

// list shows the caller's own orders, or every order to the staff. The
// store filters by owner while it reads, so pages stay full. A cursor is
// bound to its caller and to what they were shown: another caller's
// cursor, or one from before the caller became staff, is refused.
func (h *orders) list(ctx context.Context, in *ListOrdersInput) (*ListOrdersOutput, error) {
	caller, err := callerOf(ctx)
	if err != nil {
		return nil, err
	}
	status := string(in.Status)
	q := models.OrderQuery{Limit: in.Limit, ItemID: in.ItemID, Status: in.Status, Owner: caller.Subject}
	view := "own"
	if staff(caller) {
		q.Owner, view = "", "all"
	}
	// The subject goes last: the filters before it hold no NUL (an id, a
	// status, a view), so no subject can make another's fingerprint.
	if in.Cursor != "" {
		after, err := h.cursors.Decode(in.Cursor, in.ItemID, status, view, caller.Subject)
		if err != nil {
			return nil, err
		}
		q.After = after
	}
	page, err := h.store.ListOrders(ctx, q)
	if err != nil {
		return nil, storeError(ctx, orderNoun, err)
	}
	out := &ListOrdersOutput{Body: OrderPage{Orders: page.Items}}
	if page.Next != "" {
		out.Body.NextCursor = h.cursors.Encode(page.Next, in.ItemID, status, view, caller.Subject)
		out.Link = nextLink(ctx, ordersPath, in.Limit, out.Body.NextCursor, "item_id", in.ItemID, "status", status)
	}
	return out, nil
}

// export streams the caller's orders (every order to the staff) that the
// filters match as NDJSON, as list shows them a page at a time (export.go).
func (h *orders) export(ctx context.Context, in *ExportOrdersInput) (*huma.StreamResponse, error) {
	caller, err := callerOf(ctx)
	if err != nil {
		return nil, err
	}
	release, err := h.exports.acquire()
	if err != nil {
		return nil, err
	}
	q := models.OrderQuery{Limit: exportPageSize, ItemID: in.ItemID, Status: in.Status, Owner: caller.Subject}
	if staff(caller) {
		q.Owner = ""
	}
	first, err := h.store.ListOrders(ctx, q)
	if err != nil {
		release()
		return nil, storeError(ctx, orderNoun, err)
	}
	next := func(ctx context.Context, after string, reuse []models.Order) (models.Page[models.Order], error) {
		q.After, q.Reuse = after, reuse
		return h.store.ListOrders(ctx, q)
	}
	return exportOf(first, next, release, h.writeTimeout, orderNoun), nil
}

// create reads the item for its price, then has the store write the order
// only if the item is still at the version read. An item changed in between
// (its price may be another) makes the create start again from the read, a
// bounded number of times.
func (h *orders) create(ctx context.Context, in *CreateOrderInput) (*CreateOrderOutput, error) {
	caller, err := callerOf(ctx)
	if err != nil {
		return nil, err
	}
	in.Body.Status = models.OrderPending
	var idem *models.Idempotency
	if in.IdempotencyKey != "" {
		sum := sha256.Sum256([]byte(in.Body.ItemID + "\x00" + strconv.FormatInt(in.Body.Quantity, 10)))
		idem = &models.Idempotency{
			Key:         in.IdempotencyKey,
			Owner:       caller.Subject, // another caller's same key is another request
			RequestHash: hex.EncodeToString(sum[:]),
			ExpiresAt:   h.now().Add(h.idemTTL),
		}
	}
	for attempt := 1; ; attempt++ {
		item, err := h.items.Get(ctx, in.Body.ItemID)
		if errors.Is(err, models.ErrNotFound) && idem != nil {
			// The item may have been deleted after a first request with
			// this key made its order: asked for an order of the missing
			// item, the store answers with that first order, or writes
			// nothing (the item check fails) and says the item is gone.
			item = models.Item{ID: in.Body.ItemID}
		} else if errors.Is(err, models.ErrNotFound) {
			return nil, errUnknownItem(in.Body.ItemID)
		} else if err != nil {
			return nil, storeError(ctx, orderNoun, err)
		}
		total := item.Price * in.Body.Quantity // at most (2^53-1) * 1000, within int64
		if total > models.MaxSafePrice {
			return nil, errTotalTooLarge(item.Price, in.Body.Quantity)
		}
		now := h.now().UTC().Truncate(time.Millisecond)
		order := models.Order{
			ID:            itemid.New(now), // the same ids as items: ULIDs, in creation order
			Owner:         caller.Subject,
			ItemID:        item.ID,
			Quantity:      in.Body.Quantity,
			Status:        models.OrderPending,
			UnitPrice:     item.Price,
			Currency:      item.Currency,
			Total:         total,
			StatusHistory: []models.StatusChange{{Status: models.OrderPending, At: now}},
			CreatedAt:     now,
			UpdatedAt:     now,
			Version:       1,
		}
		stored, replayed, err := h.store.CreateOrder(ctx, order, item.Version, idem)
		switch {
		case errors.Is(err, models.ErrVersionConflict) && attempt < maxWriteAttempts:
			continue
		case errors.Is(err, models.ErrVersionConflict):
			return nil, errItemKeptChanging()
		case errors.Is(err, models.ErrNotFound):
			return nil, errUnknownItem(in.Body.ItemID) // deleted since the read
		case err != nil:
			return nil, storeError(ctx, orderNoun, err)
		}
		out := &CreateOrderOutput{
			Location: publicPath(ctx, ordersPath+"/"+stored.ID),
			ETag:     stored.ETag(),
			Body:     stored,
		}
		if replayed {
			out.Replayed = "true"
		}
		return out, nil
	}
}

// get answers another caller's order as it answers a missing one.
func (h *orders) get(ctx context.Context, in *GetOrderInput) (*OrderOutput, error) {
	caller, err := callerOf(ctx)
	if err != nil {
		return nil, err
	}
	order, err := h.store.GetOrder(ctx, in.ID)
	if err == nil && !visible(caller, order) {
		err = models.ErrNotFound
	}
	if err != nil {
		return nil, storeError(ctx, orderNoun, err)
	}
	etag := order.ETag()
	if in.IfNoneMatch != "" && etagListed(in.IfNoneMatch, etag, true) {
		return nil, huma.ErrorWithHeaders(huma.Status304NotModified(), http.Header{"ETag": {etag}})
	}
	return &OrderOutput{ETag: etag, Body: order}, nil
}

// patch changes the status along the allowed transitions, recording the
// change in the history. Like an item's PUT and PATCH, it is conditional
// with If-Match (412 when stale) and otherwise retried on the newest
// version, where the transition and who may make it are judged again.
// Another caller's order is a 404, as for get; the owner may only cancel a
// pending order, and the rest is the staff's (403).
func (h *orders) patch(ctx context.Context, in *PatchOrderInput) (*OrderOutput, error) {
	caller, err := callerOf(ctx)
	if err != nil {
		return nil, err
	}
	ifMatch := in.IfMatch.IfMatch
	for attempt := 1; ; attempt++ {
		cur, err := h.store.GetOrder(ctx, in.ID)
		if err == nil && !visible(caller, cur) {
			err = models.ErrNotFound
		}
		if err != nil {
			return nil, storeError(ctx, orderNoun, err)
		}
		if ifMatch != "" && !etagListed(ifMatch, cur.ETag(), false) {
			return nil, errPreconditionFailed(orderNoun, cur.ETag())
		}
		if !cur.Status.CanBecome(in.Body.Status) {
			return nil, errTransition(cur.Status, in.Body.Status)
		}
		if !staff(caller) && !ownerMayMove(cur.Status, in.Body.Status) {
			return nil, errInsufficientScope(ScopeOrdersFulfil)
		}
		now := h.now().UTC().Truncate(time.Millisecond)
		next := cur
		next.Status = in.Body.Status
		next.StatusHistory = append(append([]models.StatusChange(nil), cur.StatusHistory...), models.StatusChange{Status: in.Body.Status, At: now})
		next.Version = cur.Version + 1
		next.UpdatedAt = now
		stored, err := h.store.UpdateOrder(ctx, next, cur.Version)
		if errors.Is(err, models.ErrVersionConflict) && ifMatch == "" {
			if attempt < maxWriteAttempts {
				continue
			}
			return nil, errTooBusy(orderNoun)
		}
		if err != nil {
			return nil, storeError(ctx, orderNoun, err)
		}
		return &OrderOutput{ETag: stored.ETag(), Body: stored}, nil
	}
}

// ownerMayMove reports whether an order's owner, not being staff, may move
// it from one status to another: only cancel it while it is pending.
// Paying and shipping are the shop's to record, and cancelling a paid
// order is a refund.
func ownerMayMove(from, to models.OrderStatus) bool {
	return from == models.OrderPending && to == models.OrderCancelled
}

// ---- the order's own problems ----------------------------------------------

// errUnknownItem answers an order for an item that does not exist: a fault
// in the body, so a 422 at the member, not a 404 of the order.
func errUnknownItem(id string) error {
	return huma.Error422UnprocessableEntity(humaValidationFailed,
		&huma.ErrorDetail{Location: "body.item_id", Message: "no item has this id", Value: id})
}

// errTotalTooLarge refuses an order whose total no JSON client can hold
// exactly, the same bound as an item's price.
func errTotalTooLarge(unitPrice, quantity int64) error {
	return huma.Error422UnprocessableEntity(humaValidationFailed,
		&huma.ErrorDetail{
			Location: "body.quantity",
			Message:  "the total (unit price " + strconv.FormatInt(unitPrice, 10) + " × quantity) would exceed " + strconv.FormatInt(models.MaxSafePrice, 10),
			Value:    quantity,
		})
}

// errTransition answers a status change the order's life does not allow,
// naming where it is and where it was asked to go.
func errTransition(current, asked models.OrderStatus) error {
	return huma.Error409Conflict("An order cannot go from " + string(current) + " to " + string(asked) +
		": it goes pending → paid → shipped, and pending or paid → cancelled.")
}

// errItemKeptChanging answers a create whose item changed between every
// read and write: nothing was written, and a retry may well succeed.
func errItemKeptChanging() error {
	return huma.ErrorWithHeaders(
		huma.Error409Conflict("The item kept changing while the order was made; nothing was written. Retry."),
		http.Header{"Retry-After": {"1"}})
}

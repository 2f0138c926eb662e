package models

import (
	"strconv"
	"time"

	"github.com/danielgtaylor/huma/v2"
)

// OrderStatus is where an order is in its life.
type OrderStatus string

// The statuses of an order. A new order is pending; see CanBecome for the
// changes allowed after that.
const (
	OrderPending   OrderStatus = "pending"
	OrderPaid      OrderStatus = "paid"
	OrderShipped   OrderStatus = "shipped"
	OrderCancelled OrderStatus = "cancelled"
)

// nextStatuses are the allowed changes: pending→paid→shipped, and
// pending or paid→cancelled. Shipped and cancelled are final.
var nextStatuses = map[OrderStatus][]OrderStatus{
	OrderPending: {OrderPaid, OrderCancelled},
	OrderPaid:    {OrderShipped, OrderCancelled},
}

// Schema implements huma.SchemaProvider: every field and parameter of this
// type gets the enum from the one list of statuses.
func (OrderStatus) Schema(huma.Registry) *huma.Schema {
	return &huma.Schema{
		Type:        huma.TypeString,
		Enum:        []any{string(OrderPending), string(OrderPaid), string(OrderShipped), string(OrderCancelled)},
		Description: "The status of an order: pending, paid, shipped or cancelled.",
		Examples:    []any{string(OrderPending)},
	}
}

// CanBecome reports whether an order in status s may change to next.
func (s OrderStatus) CanBecome(next OrderStatus) bool {
	for _, n := range nextStatuses[s] {
		if n == next {
			return true
		}
	}
	return false
}

// NewOrder is what a client writes to create an order: the body of POST
// /v1/orders. Price and currency are not among them: they are copied from
// the item.
type NewOrder struct {
	ItemID   string      `json:"item_id" maxLength:"26" pattern:"^[0-9A-HJKMNP-TV-Z]{26}$" patternDescription:"an item id (26-character ULID, upper case)" doc:"Id of the item ordered; it must exist." example:"01JDQ8Z6M3N4P5Q6R7S8T9V0WX"`
	Quantity int64       `json:"quantity" minimum:"1" maximum:"1000" doc:"How many units of the item, 1 to 1000." example:"2"`
	Status   OrderStatus `json:"status,omitempty" enum:"pending" doc:"The status of a new order; only pending is allowed, and it is the default." example:"pending"`
}

// StatusChange is one entry of an order's status history.
type StatusChange struct {
	Status OrderStatus `json:"status" doc:"The status the order took." example:"paid"`
	At     time.Time   `json:"at" doc:"When the order took it (RFC 3339, UTC)." example:"2026-11-25T16:12:30Z"`
}

// Order is a stored order as the API returns it: the purchase of a quantity
// of one item, at the item's price when the order was made.
type Order struct {
	ID            string         `json:"id" readOnly:"true" doc:"Server-made identifier (a ULID): unique, and sorts by creation time." example:"01JDQ9A1B2C3D4E5F6G7H8J9K0"`
	Owner         string         `json:"owner" readOnly:"true" doc:"Subject (the token's sub) of the caller who placed the order. Only the owner and the shop's staff (scope orders:fulfil) see the order." example:"user-42"`
	ItemID        string         `json:"item_id" doc:"Id of the item ordered. The order keeps its own copy of the price, so it stays valid if the item later changes or is deleted." example:"01JDQ8Z6M3N4P5Q6R7S8T9V0WX"`
	Quantity      int64          `json:"quantity" minimum:"1" maximum:"1000" doc:"How many units of the item." example:"2"`
	Status        OrderStatus    `json:"status" doc:"pending, then paid, then shipped; pending or paid orders can be cancelled." example:"pending"`
	UnitPrice     int64          `json:"unit_price" readOnly:"true" minimum:"0" maximum:"9007199254740991" doc:"The item's price when the order was made, in the currency's minor unit." example:"1250"`
	Currency      string         `json:"currency" readOnly:"true" doc:"ISO 4217 code of unit_price and total, copied from the item." example:"EUR"`
	Total         int64          `json:"total" readOnly:"true" minimum:"0" maximum:"9007199254740991" doc:"unit_price × quantity, in the currency's minor unit." example:"2500"`
	StatusHistory []StatusChange `json:"status_history" readOnly:"true" doc:"Every status the order took, oldest first, with its time." nullable:"false"`
	CreatedAt     time.Time      `json:"created_at" readOnly:"true" doc:"When the order was created (RFC 3339, UTC)." example:"2026-11-25T16:10:00Z"`
	UpdatedAt     time.Time      `json:"updated_at" readOnly:"true" doc:"When the order was last changed (RFC 3339, UTC)." example:"2026-11-25T16:12:30Z"`
	Version       int64          `json:"version" readOnly:"true" minimum:"1" doc:"Starts at 1 and grows by one on every change; the ETag is derived from it." example:"1"`
}

// ETag is the strong entity tag of this version of the order.
func (o Order) ETag() string {
	return `"` + o.ID + "." + strconv.FormatInt(o.Version, 10) + `"`
}

// OrderQuery selects one page of orders in id order (creation order).
type OrderQuery struct {
	// Limit is the most orders the page may hold (1..100).
	Limit int
	// After is the store-made position of the previous page's end, or "".
	After string
	// ItemID, when set, keeps only the orders of this item.
	ItemID string
	// Status, when set, keeps only orders in this status.
	Status OrderStatus
	// Owner, when set, keeps only the orders of this owner (a caller's
	// subject). A store filters by it while reading, so a page is as full
	// as an unfiltered one and its position as good.
	Owner string
	// Reuse is as in ListQuery: storage the page may hold its orders in.
	Reuse []Order
}

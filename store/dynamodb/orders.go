package dynamodb

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/typedapi/typedapi/models"
)

// Order rows. As for items, every row of an order has sk = the order's id,
// and the copies in the by-item, by-status and by-owner partitions let a
// filtered listing Query exactly its partition, strongly consistent (a GSI
// could not be). See docs/DYNAMODB.md.
const (
	pkOrders      = "ORDER"         // the order itself: the unfiltered listing
	pkOrderItem   = "ORDER#ITEM#"   // + item id: a copy of each order of the item
	pkOrderStatus = "ORDER#STATUS#" // + status: a copy of each order in the status
	pkOrderOwner  = "ORDER#OWNER#"  // + ownerPart(owner): a copy of each order of the owner
)

// orderScope is the idempotency scope of order creates (see idemKey).
const orderScope = "ORDER#"

// ownerPart is the owner's partition suffix: a hash, because a subject is
// any string the issuer chose, of any length, and a partition key holds at
// most 2048 bytes. The owner itself is an attribute of every row.
func ownerPart(owner string) string {
	sum := sha256.Sum256([]byte(owner))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// orderKeys are the keys of every row that stores order; all are written
// and removed together. An order made before orders had owners has no
// owner row: only an unfiltered (staff) listing shows it.
func orderKeys(o models.Order) []key {
	keys := []key{
		{pkOrders, o.ID},
		{pkOrderItem + o.ItemID, o.ID},
		{pkOrderStatus + string(o.Status), o.ID},
	}
	if o.Owner != "" {
		keys = append(keys, key{pkOrderOwner + ownerPart(o.Owner), o.ID})
	}
	return keys
}

func orderAttrs(o models.Order) map[string]types.AttributeValue {
	history := make([]types.AttributeValue, len(o.StatusHistory))
	for i, c := range o.StatusHistory {
		history[i] = &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
			"status": str(string(c.Status)),
			"at":     str(c.At.UTC().Format(time.RFC3339Nano)),
		}}
	}
	attrs := map[string]types.AttributeValue{
		"id":             str(o.ID),
		"item_id":        str(o.ItemID),
		"quantity":       num(o.Quantity),
		"status":         str(string(o.Status)),
		"unit_price":     num(o.UnitPrice),
		"currency":       str(o.Currency),
		"total":          num(o.Total),
		"status_history": &types.AttributeValueMemberL{Value: history},
		"created_at":     str(o.CreatedAt.UTC().Format(time.RFC3339Nano)),
		"updated_at":     str(o.UpdatedAt.UTC().Format(time.RFC3339Nano)),
		"version":        num(o.Version),
	}
	if o.Owner != "" {
		attrs["owner"] = str(o.Owner)
	}
	return attrs
}

// attrReader reads typed attributes of one row, collecting what is wrong
// so that a malformed row is an error, never a zero value.
type attrReader struct {
	m    map[string]types.AttributeValue
	errs []error
}

func (r *attrReader) s(name string) string {
	v, ok := r.m[name].(*types.AttributeValueMemberS)
	if !ok {
		r.errs = append(r.errs, fmt.Errorf("attribute %s is not a string", name))
		return ""
	}
	return v.Value
}

func (r *attrReader) n(name string) int64 {
	v, ok := r.m[name].(*types.AttributeValueMemberN)
	if !ok {
		r.errs = append(r.errs, fmt.Errorf("attribute %s is not a number", name))
		return 0
	}
	i, err := strconv.ParseInt(v.Value, 10, 64)
	r.errs = append(r.errs, err)
	return i
}

func (r *attrReader) t(name string) time.Time {
	tm, err := time.Parse(time.RFC3339Nano, r.s(name))
	r.errs = append(r.errs, err)
	return tm
}

func decodeOrder(m map[string]types.AttributeValue) (models.Order, error) {
	r := &attrReader{m: m}
	o := models.Order{
		ID:        r.s("id"),
		ItemID:    r.s("item_id"),
		Quantity:  r.n("quantity"),
		Status:    models.OrderStatus(r.s("status")),
		UnitPrice: r.n("unit_price"),
		Currency:  r.s("currency"),
		Total:     r.n("total"),
		CreatedAt: r.t("created_at"),
		UpdatedAt: r.t("updated_at"),
		Version:   r.n("version"),
	}
	if _, ok := m["owner"]; ok { // absent on orders made before orders had owners
		o.Owner = r.s("owner")
	}
	o.StatusHistory = []models.StatusChange{}
	history, ok := m["status_history"].(*types.AttributeValueMemberL)
	if !ok {
		r.errs = append(r.errs, errors.New("attribute status_history is not a list"))
	} else {
		for _, v := range history.Value {
			c, ok := v.(*types.AttributeValueMemberM)
			if !ok {
				r.errs = append(r.errs, errors.New("a status change is not a map"))
				continue
			}
			cr := &attrReader{m: c.Value}
			o.StatusHistory = append(o.StatusHistory, models.StatusChange{Status: models.OrderStatus(cr.s("status")), At: cr.t("at")})
			r.errs = append(r.errs, cr.errs...)
		}
	}
	if err := errors.Join(r.errs...); err != nil {
		return models.Order{}, fmt.Errorf("dynamodb: malformed order row: %w", err)
	}
	return o, nil
}

// CreateOrder writes the order in one transaction: a ConditionCheck that
// the item is still at itemVersion (so the price copied is the item's
// current one), the order rows (the order row never overwrites) and, with
// idem, the idempotency record. All or nothing.
func (s *Store) CreateOrder(ctx context.Context, order models.Order, itemVersion int64, idem *models.Idempotency) (models.Order, bool, error) {
	if !isID(order.ItemID) {
		// No item can have this id (the API's pattern admits ids no ULID
		// can be), so no order of it was ever made for a key to replay:
		// the item is missing, as GetOrder says of such an order id.
		return models.Order{}, false, models.ErrNotFound
	}
	if !isID(order.ID) {
		return models.Order{}, false, fmt.Errorf("dynamodb create order: id %q is not a ULID", order.ID)
	}
	check := types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
		TableName:                 &s.table,
		Key:                       key{pkItems, order.ItemID}.attrs(),
		ConditionExpression:       aws.String("version = :v"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":v": num(itemVersion)},
	}}
	replay, failed, err := createRows(ctx, s, newRows[models.Order]{
		op: "create order", checks: []types.TransactWriteItem{check}, keys: orderKeys(order), attrs: orderAttrs(order),
		scope: orderScope, name: "order", decode: decodeOrder,
	}, idem)
	switch {
	case err != nil:
		return models.Order{}, false, err
	case replay != nil:
		return *replay, true, nil
	case failed == nil:
		return order, false, nil
	}
	if conditionFailed(failed[0]) {
		// The item changed or is gone: a read tells which.
		return models.Order{}, false, s.whyVersionFailed(ctx, "create order", key{pkItems, order.ItemID}, types.CancellationReason{})
	}
	if conditionFailed(failed[1]) {
		return models.Order{}, false, models.ErrAlreadyExists
	}
	return models.Order{}, false, fmt.Errorf("%w: idempotency record changed during create order", models.ErrUnavailable)
}

func conditionFailed(r types.CancellationReason) bool {
	return r.Code != nil && *r.Code == "ConditionalCheckFailed"
}

// GetOrder returns the order with a strongly consistent read.
func (s *Store) GetOrder(ctx context.Context, id string) (models.Order, error) {
	if !isID(id) {
		return models.Order{}, models.ErrNotFound
	}
	row, err := s.getRow(ctx, "get order", key{pkOrders, id})
	if err != nil {
		return models.Order{}, err
	}
	if row == nil {
		return models.Order{}, models.ErrNotFound
	}
	return decodeOrder(row)
}

// UpdateOrder replaces the order if its stored version is still
// prevVersion, and moves its status row in the same transaction.
func (s *Store) UpdateOrder(ctx context.Context, order models.Order, prevVersion int64) (models.Order, error) {
	cur, err := s.GetOrder(ctx, order.ID)
	if err != nil {
		return models.Order{}, err
	}
	if cur.Version != prevVersion {
		return models.Order{}, models.ErrVersionConflict
	}
	if err := s.replaceRows(ctx, "update order", orderKeys(cur), orderKeys(order), orderAttrs(order), prevVersion); err != nil {
		return models.Order{}, err
	}
	return order, nil
}

// ListOrders reads one page with a strongly consistent Query on the
// partition that holds the matching orders: one owner's, all, one item's,
// or one status's. An owner's partition is read whenever the owner is set
// (a caller's own orders are few beside an item's or a status's), and the
// other filters then filter it; with item and status both set, the item's
// partition is read and filtered by status.
func (s *Store) ListOrders(ctx context.Context, q models.OrderQuery) (models.Page[models.Order], error) {
	if q.After != "" && !isID(q.After) {
		return models.Page[models.Order]{}, models.ErrInvalidPosition
	}
	if q.Limit < 1 {
		return models.Page[models.Order]{}, fmt.Errorf("dynamodb list orders: limit %d is below 1", q.Limit)
	}
	pk, byItem, byStatus := pkOrders, false, false
	switch {
	case q.Owner != "":
		pk, byItem, byStatus = pkOrderOwner+ownerPart(q.Owner), q.ItemID != "", q.Status != ""
	case q.ItemID != "":
		pk, byStatus = pkOrderItem+q.ItemID, q.Status != ""
	case q.Status != "":
		pk = pkOrderStatus + string(q.Status)
	}
	in := s.partitionQuery(pk, q.After)
	var conds []string
	if byItem {
		conds = append(conds, "item_id = :item")
		in.ExpressionAttributeValues[":item"] = str(q.ItemID)
	}
	if byStatus {
		conds = append(conds, "#status = :status")
		in.ExpressionAttributeNames = map[string]string{"#status": "status"} // a reserved word
		in.ExpressionAttributeValues[":status"] = str(string(q.Status))
	}
	filter := len(conds) > 0
	if filter {
		in.FilterExpression = aws.String(strings.Join(conds, " AND "))
	}
	return queryPage(ctx, s, in, q.Limit, filter, decodeOrder, func(o models.Order) string { return o.ID })
}

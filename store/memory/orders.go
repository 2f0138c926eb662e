package memory

import (
	"context"
	"slices"
	"time"

	"github.com/typedapi/typedapi/models"
)

type orderIdemRecord struct {
	hash      string
	order     models.Order
	expiresAt time.Time
}

// CreateOrder stores a new order if its item is still at itemVersion. Under
// the one lock the check and the write cannot be separated, as DynamoDB's
// transaction makes them inseparable there.
func (s *Store) CreateOrder(ctx context.Context, order models.Order, itemVersion int64, idem *models.Idempotency) (models.Order, bool, error) {
	if err := ctx.Err(); err != nil {
		return models.Order{}, false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if idem != nil {
		if rec, ok := s.orderIdem[idemKeyOf(idem)]; ok && s.now().Before(rec.expiresAt) {
			if rec.hash != idem.RequestHash {
				return models.Order{}, false, models.ErrIdempotencyMismatch
			}
			return cloneOrder(rec.order), true, nil
		}
	}
	item, ok := s.items[order.ItemID]
	if !ok {
		return models.Order{}, false, models.ErrNotFound
	}
	if item.Version != itemVersion {
		return models.Order{}, false, models.ErrVersionConflict
	}
	if _, ok := s.orders[order.ID]; ok {
		return models.Order{}, false, models.ErrAlreadyExists
	}
	order = cloneOrder(order)
	s.orders[order.ID] = order
	i, _ := slices.BinarySearch(s.orderIDs, order.ID)
	s.orderIDs = slices.Insert(s.orderIDs, i, order.ID)
	if idem != nil {
		s.orderIdem[idemKeyOf(idem)] = orderIdemRecord{hash: idem.RequestHash, order: cloneOrder(order), expiresAt: idem.ExpiresAt}
		now := s.now()
		for k, rec := range s.orderIdem {
			if !now.Before(rec.expiresAt) {
				delete(s.orderIdem, k)
			}
		}
	}
	return cloneOrder(order), false, nil
}

// GetOrder returns the order with the given id.
func (s *Store) GetOrder(ctx context.Context, id string) (models.Order, error) {
	if err := ctx.Err(); err != nil {
		return models.Order{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	order, ok := s.orders[id]
	if !ok {
		return models.Order{}, models.ErrNotFound
	}
	return cloneOrder(order), nil
}

// ListOrders returns one page of orders in id order after q.After.
func (s *Store) ListOrders(ctx context.Context, q models.OrderQuery) (models.Page[models.Order], error) {
	if err := ctx.Err(); err != nil {
		return models.Page[models.Order]{}, err
	}
	if q.After != "" && !isPosition(q.After) {
		return models.Page[models.Order]{}, models.ErrInvalidPosition
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return page(s.orderIDs, q.After, q.Limit, q.Reuse, func(id string) (models.Order, bool) {
		order := s.orders[id]
		if (q.ItemID != "" && order.ItemID != q.ItemID) || (q.Status != "" && order.Status != q.Status) || (q.Owner != "" && order.Owner != q.Owner) {
			return order, false
		}
		return cloneOrder(order), true
	}), nil
}

// UpdateOrder replaces the order if its stored version is still prevVersion.
func (s *Store) UpdateOrder(ctx context.Context, order models.Order, prevVersion int64) (models.Order, error) {
	if err := ctx.Err(); err != nil {
		return models.Order{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.orders[order.ID]
	if !ok {
		return models.Order{}, models.ErrNotFound
	}
	if cur.Version != prevVersion {
		return models.Order{}, models.ErrVersionConflict
	}
	s.orders[order.ID] = cloneOrder(order)
	return cloneOrder(order), nil
}

// cloneOrder copies the history so callers never share memory with the store.
func cloneOrder(o models.Order) models.Order {
	o.StatusHistory = slices.Clone(o.StatusHistory)
	if o.StatusHistory == nil {
		o.StatusHistory = []models.StatusChange{}
	}
	return o
}

// Package memory is the zero-setup store: items and orders live in the
// process's memory.
// It is the default for `go run` and the tests, and it behaves like the
// durable stores: conditional writes, idempotency records with expiry, and
// listing in id order.
package memory

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/typedapi/typedapi/models"
)

// Store keeps items and orders in maps guarded by one lock (so an order's
// check of its item and its write are one step); ids and orderIDs stay
// sorted so that a page is a binary search and a slice walk.
type Store struct {
	mu    sync.RWMutex
	items map[string]models.Item
	ids   []string
	idem  map[idemKey]idemRecord
	now   func() time.Time

	orders    map[string]models.Order
	orderIDs  []string
	orderIdem map[idemKey]orderIdemRecord // apart from idem: keys are scoped to their operation
}

// idemKey is where an idempotency record lives: a key is its owner's, so
// another caller's same key is another record.
type idemKey struct{ owner, key string }

func idemKeyOf(idem *models.Idempotency) idemKey { return idemKey{idem.Owner, idem.Key} }

type idemRecord struct {
	hash      string
	item      models.Item
	expiresAt time.Time
}

// New returns an empty store.
func New() *Store {
	return &Store{
		items: map[string]models.Item{},
		idem:  map[idemKey]idemRecord{},
		now:   time.Now,

		orders:    map[string]models.Order{},
		orderIdem: map[idemKey]orderIdemRecord{},
	}
}

// SetClock replaces the clock that idempotency expiry is judged by (tests).
func (s *Store) SetClock(now func() time.Time) { s.now = now }

// Ping always succeeds: memory is always reachable.
func (s *Store) Ping(ctx context.Context) error { return ctx.Err() }

// Create stores a new item. With an idempotency record whose key was seen
// before (and has not expired) it stores nothing and returns the first
// result, or ErrIdempotencyMismatch when the request differs.
func (s *Store) Create(ctx context.Context, item models.Item, idem *models.Idempotency) (models.Item, bool, error) {
	if err := ctx.Err(); err != nil {
		return models.Item{}, false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if idem != nil {
		if rec, ok := s.idem[idemKeyOf(idem)]; ok && s.now().Before(rec.expiresAt) {
			if rec.hash != idem.RequestHash {
				return models.Item{}, false, models.ErrIdempotencyMismatch
			}
			return clone(rec.item), true, nil
		}
	}
	if _, ok := s.items[item.ID]; ok {
		return models.Item{}, false, models.ErrAlreadyExists
	}
	item = clone(item)
	s.items[item.ID] = item
	i, _ := slices.BinarySearch(s.ids, item.ID)
	s.ids = slices.Insert(s.ids, i, item.ID)
	if idem != nil {
		s.idem[idemKeyOf(idem)] = idemRecord{hash: idem.RequestHash, item: clone(item), expiresAt: idem.ExpiresAt}
		s.forgetExpired()
	}
	return clone(item), false, nil
}

// forgetExpired drops idempotency records past their expiry so the map does
// not grow without bound. Called with the lock held, only on keyed creates.
func (s *Store) forgetExpired() {
	now := s.now()
	for k, rec := range s.idem {
		if !now.Before(rec.expiresAt) {
			delete(s.idem, k)
		}
	}
}

// Get returns the item with the given id.
func (s *Store) Get(ctx context.Context, id string) (models.Item, error) {
	if err := ctx.Err(); err != nil {
		return models.Item{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	item, ok := s.items[id]
	if !ok {
		return models.Item{}, models.ErrNotFound
	}
	return clone(item), nil
}

// List returns one page of items in id order after q.After.
func (s *Store) List(ctx context.Context, q models.ListQuery) (models.ListPage, error) {
	if err := ctx.Err(); err != nil {
		return models.ListPage{}, err
	}
	if q.After != "" && !isPosition(q.After) {
		return models.ListPage{}, models.ErrInvalidPosition
	}
	prefix := models.FoldName(q.NamePrefix)
	s.mu.RLock()
	defer s.mu.RUnlock()
	return page(s.ids, q.After, q.Limit, q.Reuse, func(id string) (models.Item, bool) {
		item := s.items[id]
		if q.Tag != "" && !slices.Contains(item.Tags, q.Tag) {
			return item, false
		}
		if prefix != "" && !strings.HasPrefix(models.FoldName(item.Name), prefix) {
			return item, false
		}
		return clone(item), true
	}), nil
}

// page walks the sorted ids after the position after and keeps up to limit
// of those that match, in reuse's storage when it is large enough; Next is
// set when one more match follows.
func page[T any](ids []string, after string, limit int, reuse []T, match func(id string) (T, bool)) models.Page[T] {
	start := 0
	if after != "" {
		start, _ = slices.BinarySearch(ids, after)
		if start < len(ids) && ids[start] == after {
			start++
		}
	}
	// Sized once: grown by append, a page of 100 reallocated eight times,
	// twice its size in garbage on every list and export page.
	n := max(0, min(limit, len(ids)-start))
	p := models.Page[T]{Items: reuse[:0]}
	if reuse == nil || cap(reuse) < n { // nil: an empty page is [], never nil
		p.Items = make([]T, 0, n)
	}
	lastID := "" // the id of the last element kept: the next page starts after it
	for _, id := range ids[start:] {
		v, ok := match(id)
		if !ok {
			continue
		}
		if len(p.Items) == limit {
			p.Next = lastID
			break
		}
		p.Items = append(p.Items, v)
		lastID = id
	}
	return p
}

// Update replaces the item if its stored version is still prevVersion.
func (s *Store) Update(ctx context.Context, item models.Item, prevVersion int64) (models.Item, error) {
	if err := ctx.Err(); err != nil {
		return models.Item{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.items[item.ID]
	if !ok {
		return models.Item{}, models.ErrNotFound
	}
	if cur.Version != prevVersion {
		return models.Item{}, models.ErrVersionConflict
	}
	item = clone(item)
	s.items[item.ID] = item
	return clone(item), nil
}

// Delete removes the item; with prevVersion > 0 only if it is still at that
// version.
func (s *Store) Delete(ctx context.Context, id string, prevVersion int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.items[id]
	if !ok {
		return models.ErrNotFound
	}
	if prevVersion > 0 && cur.Version != prevVersion {
		return models.ErrVersionConflict
	}
	delete(s.items, id)
	if i, found := slices.BinarySearch(s.ids, id); found {
		s.ids = slices.Delete(s.ids, i, i+1)
	}
	return nil
}

// clone copies the tag slice so callers never share memory with the store.
func clone(item models.Item) models.Item {
	item.Tags = slices.Clone(item.Tags)
	if item.Tags == nil {
		item.Tags = []models.Tag{}
	}
	return item
}

// isPosition reports whether p looks like an item id (26 Crockford base32
// characters), the only positions this store hands out.
func isPosition(p string) bool {
	if len(p) != 26 {
		return false
	}
	for _, c := range p {
		if !strings.ContainsRune("0123456789ABCDEFGHJKMNPQRSTVWXYZ", c) {
			return false
		}
	}
	return true
}

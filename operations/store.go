package operations

import (
	"context"

	"github.com/typedapi/typedapi/models"
)

// Store is what the operations need from persistence. Implementations live
// under store/ and report failures with the models.Err* values (wrapped as
// they like); anything else becomes a 500 whose cause is only logged.
type Store interface {
	// Create stores a new item and never overwrites. With idem set, a key
	// seen before (and not expired) returns that first result and
	// replayed=true, or models.ErrIdempotencyMismatch when the request
	// differs; the record is written atomically with the item.
	Create(ctx context.Context, item models.Item, idem *models.Idempotency) (stored models.Item, replayed bool, err error)
	// Get returns models.ErrNotFound when there is no such item.
	Get(ctx context.Context, id string) (models.Item, error)
	// List returns one page in id order; a position it did not make is
	// models.ErrInvalidPosition. A page holds Limit items unless it is the
	// last one; Next is "" exactly when there are no more matches.
	List(ctx context.Context, q models.ListQuery) (models.ListPage, error)
	// Update writes item (whose Version is prevVersion+1) only if the stored
	// version is still prevVersion: models.ErrVersionConflict otherwise,
	// models.ErrNotFound when the item is gone.
	Update(ctx context.Context, item models.Item, prevVersion int64) (models.Item, error)
	// Delete removes the item; with prevVersion > 0 only at that version.
	Delete(ctx context.Context, id string, prevVersion int64) error
	// Ping checks that the store can serve requests (for /readyz).
	Ping(ctx context.Context) error
}

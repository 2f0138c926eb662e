package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/typedapi/typedapi/models"
)

// OrderStore is the method set of operations.OrderStore, plus the item
// writes the contract needs to make, change and delete the items orders
// name. The stores' tests assert at compile time that they satisfy
// operations.OrderStore.
type OrderStore interface {
	Create(ctx context.Context, item models.Item, idem *models.Idempotency) (models.Item, bool, error)
	Update(ctx context.Context, item models.Item, prevVersion int64) (models.Item, error)
	Delete(ctx context.Context, id string, prevVersion int64) error

	CreateOrder(ctx context.Context, order models.Order, itemVersion int64, idem *models.Idempotency) (models.Order, bool, error)
	GetOrder(ctx context.Context, id string) (models.Order, error)
	ListOrders(ctx context.Context, q models.OrderQuery) (models.Page[models.Order], error)
	UpdateOrder(ctx context.Context, order models.Order, prevVersion int64) (models.Order, error)
}

var _ = contract("orders", RunOrders)

// RunOrders runs the orders contract. newStore must return an empty store
// that nothing else uses; it is called once per subtest.
func RunOrders(t *testing.T, newStore func(t *testing.T) OrderStore) {
	cases := []struct {
		name string
		run  func(t *testing.T, s OrderStore)
	}{
		{"CreateGet", testOrderCreateGet},
		{"GetMissing", testOrderGetMissing},
		{"ItemMustBeAtVersion", testOrderItemAtVersion},
		{"CreateNeverOverwrites", testOrderNeverOverwrites},
		{"Idempotency", testOrderIdempotency},
		{"UpdateConditions", testOrderUpdateConditions},
		{"Filters", testOrderFilters},
		{"OwnerFilter", testOrderOwnerFilter},
		{"IdempotencyPerOwner", testOrderIdempotencyPerOwner},
		{"InvalidPositions", testOrderInvalidPositions},
		{"DeletingTheItemKeepsOrders", testOrderOutlivesItem},
		{"ConcurrentUpdates", testOrderConcurrentUpdates},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t, newStore(t))
		})
	}
}

// newOrder builds a pending order of quantity units of item, as the
// operation does.
func newOrder(item models.Item, quantity int64) models.Order {
	now := time.Now().UTC().Truncate(time.Millisecond)
	return models.Order{
		ID:            nextID(),
		ItemID:        item.ID,
		Quantity:      quantity,
		Status:        models.OrderPending,
		UnitPrice:     item.Price,
		Currency:      item.Currency,
		Total:         item.Price * quantity,
		StatusHistory: []models.StatusChange{{Status: models.OrderPending, At: now}},
		CreatedAt:     now,
		UpdatedAt:     now,
		Version:       1,
	}
}

// moved is order after a status change.
func moved(o models.Order, to models.OrderStatus) models.Order {
	at := o.UpdatedAt.Add(time.Second)
	o.StatusHistory = append(slices.Clone(o.StatusHistory), models.StatusChange{Status: to, At: at})
	o.Status = to
	o.UpdatedAt = at
	o.Version++
	return o
}

func mustItem(t *testing.T, s OrderStore, name string) models.Item {
	t.Helper()
	item, _, err := s.Create(ctx(t), newItem(name), nil)
	if err != nil {
		t.Fatalf("Create item: %v", err)
	}
	return item
}

func mustOrder(t *testing.T, s OrderStore, o models.Order) models.Order {
	t.Helper()
	got, replayed, err := s.CreateOrder(ctx(t), o, 1, nil)
	if err != nil || replayed {
		t.Fatalf("CreateOrder = replayed %v, err %v", replayed, err)
	}
	return got
}

// requireSameOrder fails unless got and want are the same order, field by
// field, times compared as instants.
func requireSameOrder(t *testing.T, got, want models.Order) {
	t.Helper()
	same := got.ID == want.ID && got.Owner == want.Owner && got.ItemID == want.ItemID && got.Quantity == want.Quantity && got.Status == want.Status &&
		got.UnitPrice == want.UnitPrice && got.Currency == want.Currency && got.Total == want.Total &&
		got.CreatedAt.Equal(want.CreatedAt) && got.UpdatedAt.Equal(want.UpdatedAt) && got.Version == want.Version &&
		len(got.StatusHistory) == len(want.StatusHistory)
	for i := 0; same && i < len(got.StatusHistory); i++ {
		same = got.StatusHistory[i].Status == want.StatusHistory[i].Status && got.StatusHistory[i].At.Equal(want.StatusHistory[i].At)
	}
	if !same {
		t.Fatalf("order differs:\n got  %+v\n want %+v", got, want)
	}
}

func orderIDs(orders []models.Order) []string {
	out := make([]string, len(orders))
	for i, o := range orders {
		out[i] = o.ID
	}
	return out
}

func listOrders(t *testing.T, s OrderStore, q models.OrderQuery) []models.Order {
	t.Helper()
	return collectPages(t, q.Limit, func(after string) (models.Page[models.Order], error) {
		q.After = after
		return s.ListOrders(ctx(t), q)
	}, func(o models.Order) string { return o.ID })
}

func testOrderCreateGet(t *testing.T, s OrderStore) {
	item := mustItem(t, s, "Cup")
	want := newOrder(item, 3)
	want.Owner = "user|42 with spaces, and ünïcode" // any string an issuer may put in sub
	got := mustOrder(t, s, want)
	requireSameOrder(t, got, want)
	read, err := s.GetOrder(ctx(t), want.ID)
	if err != nil {
		t.Fatal(err)
	}
	requireSameOrder(t, read, want)
}

func testOrderGetMissing(t *testing.T, s OrderStore) {
	_, err := s.GetOrder(ctx(t), nextID())
	requireErr(t, "GetOrder of an unknown id", err, models.ErrNotFound)
}

// testOrderItemAtVersion: an order is written only while its item is at the
// version its price was read from; otherwise nothing is written.
func testOrderItemAtVersion(t *testing.T, s OrderStore) {
	item := mustItem(t, s, "Cup")
	missing := newItem("Never stored")
	_, _, err := s.CreateOrder(ctx(t), newOrder(missing, 1), 1, nil)
	requireErr(t, "CreateOrder for an unknown item", err, models.ErrNotFound)

	repriced := next(item, func(it *models.Item) { it.Price = 999 })
	if _, err := s.Update(ctx(t), repriced, 1); err != nil {
		t.Fatal(err)
	}
	_, _, err = s.CreateOrder(ctx(t), newOrder(item, 1), 1, nil)
	requireErr(t, "CreateOrder at the item's old version", err, models.ErrVersionConflict)
	if got := listOrders(t, s, models.OrderQuery{Limit: 10}); len(got) != 0 {
		t.Fatalf("refused creates left %d orders", len(got))
	}
	o := newOrder(repriced, 1)
	if _, _, err := s.CreateOrder(ctx(t), o, 2, nil); err != nil {
		t.Fatalf("CreateOrder at the item's current version: %v", err)
	}
}

func testOrderNeverOverwrites(t *testing.T, s OrderStore) {
	item := mustItem(t, s, "Cup")
	first := mustOrder(t, s, newOrder(item, 1))
	again := first
	again.Quantity = 7
	_, _, err := s.CreateOrder(ctx(t), again, 1, nil)
	requireErr(t, "CreateOrder with a taken id", err, models.ErrAlreadyExists)
	got, _ := s.GetOrder(ctx(t), first.ID)
	requireSameOrder(t, got, first)
}

// testOrderIdempotency: a key replays its first order, refuses another
// request, and is apart from the same key on items.
func testOrderIdempotency(t *testing.T, s OrderStore) {
	item := mustItem(t, s, "Cup")
	key := "key-" + nextID()
	idem := &models.Idempotency{Key: key, RequestHash: "h1", ExpiresAt: time.Now().Add(time.Hour)}
	// The same key on an item create first: it must not decide the order's.
	if _, replayed, err := s.Create(ctx(t), newItem("Keyed"), &models.Idempotency{Key: key, RequestHash: "item", ExpiresAt: idem.ExpiresAt}); err != nil || replayed {
		t.Fatalf("keyed item create: replayed %v, err %v", replayed, err)
	}
	first, replayed, err := s.CreateOrder(ctx(t), newOrder(item, 1), 1, idem)
	if err != nil || replayed {
		t.Fatalf("first keyed CreateOrder: replayed %v, err %v (the item create's key leaked into orders?)", replayed, err)
	}
	second, replayed, err := s.CreateOrder(ctx(t), newOrder(item, 1), 1, idem)
	if err != nil || !replayed {
		t.Fatalf("repeated keyed CreateOrder: replayed %v, err %v", replayed, err)
	}
	requireSameOrder(t, second, first)
	other := *idem
	other.RequestHash = "h2"
	_, _, err = s.CreateOrder(ctx(t), newOrder(item, 2), 1, &other)
	requireErr(t, "key reused with another request", err, models.ErrIdempotencyMismatch)
	if got := listOrders(t, s, models.OrderQuery{Limit: 10}); len(got) != 1 {
		t.Fatalf("%d orders after one keyed create and its repeats, want 1", len(got))
	}
}

func testOrderUpdateConditions(t *testing.T, s OrderStore) {
	item := mustItem(t, s, "Cup")
	o := mustOrder(t, s, newOrder(item, 1))
	paid := moved(o, models.OrderPaid)
	got, err := s.UpdateOrder(ctx(t), paid, 1)
	if err != nil {
		t.Fatal(err)
	}
	requireSameOrder(t, got, paid)
	read, _ := s.GetOrder(ctx(t), o.ID)
	requireSameOrder(t, read, paid)
	_, err = s.UpdateOrder(ctx(t), moved(o, models.OrderCancelled), 1)
	requireErr(t, "UpdateOrder from a stale version", err, models.ErrVersionConflict)
	ghost := newOrder(item, 1)
	_, err = s.UpdateOrder(ctx(t), moved(ghost, models.OrderPaid), 1)
	requireErr(t, "UpdateOrder of an unknown order", err, models.ErrNotFound)
}

// testOrderFilters: by item, by status and by both, across pages, and the
// status filter follows status changes.
func testOrderFilters(t *testing.T, s OrderStore) {
	a, b := mustItem(t, s, "A"), mustItem(t, s, "B")
	var all []models.Order
	for i := range 7 {
		item := a
		if i%2 == 1 {
			item = b
		}
		all = append(all, mustOrder(t, s, newOrder(item, int64(i+1))))
	}
	// Pay orders 0, 3 and 4 (a, b, a).
	for _, i := range []int{0, 3, 4} {
		p, err := s.UpdateOrder(ctx(t), moved(all[i], models.OrderPaid), 1)
		if err != nil {
			t.Fatal(err)
		}
		all[i] = p
	}
	pick := func(keep func(models.Order) bool) []string {
		var out []string
		for _, o := range all {
			if keep(o) {
				out = append(out, o.ID)
			}
		}
		return out
	}
	for _, c := range []struct {
		q    models.OrderQuery
		want []string
	}{
		{models.OrderQuery{}, pick(func(models.Order) bool { return true })},
		{models.OrderQuery{ItemID: a.ID}, pick(func(o models.Order) bool { return o.ItemID == a.ID })},
		{models.OrderQuery{Status: models.OrderPaid}, pick(func(o models.Order) bool { return o.Status == models.OrderPaid })},
		{models.OrderQuery{Status: models.OrderPending}, pick(func(o models.Order) bool { return o.Status == models.OrderPending })},
		{models.OrderQuery{ItemID: a.ID, Status: models.OrderPaid}, pick(func(o models.Order) bool { return o.ItemID == a.ID && o.Status == models.OrderPaid })},
		{models.OrderQuery{ItemID: nextID()}, nil},
		{models.OrderQuery{Status: models.OrderShipped}, nil},
	} {
		for _, limit := range []int{1, 2, 100} {
			q := c.q
			q.Limit = limit
			got := orderIDs(listOrders(t, s, q))
			if !slices.Equal(got, c.want) && (len(got) != 0 || len(c.want) != 0) {
				t.Errorf("ListOrders(%+v) = %v, want %v", q, got, c.want)
			}
		}
	}
}

// testOrderOwnerFilter: the orders of one owner, alone and with the other
// filters, across pages that are full and whose positions carry on where
// they stopped, among many orders of other owners; an order keeps its
// owner through status changes.
func testOrderOwnerFilter(t *testing.T, s OrderStore) {
	a, b := mustItem(t, s, "A"), mustItem(t, s, "B")
	owners := []string{"alice", "bob", "bob", "carol", "bob"} // bob's orders sit between others'
	var all []models.Order
	for i := range 15 {
		item := a
		if i%3 == 0 {
			item = b
		}
		o := newOrder(item, int64(i+1))
		o.Owner = owners[i%len(owners)]
		all = append(all, mustOrder(t, s, o))
	}
	for _, i := range []int{1, 2, 6, 9} { // bob, bob, bob, alice
		p, err := s.UpdateOrder(ctx(t), moved(all[i], models.OrderPaid), 1)
		if err != nil {
			t.Fatal(err)
		}
		if p.Owner != all[i].Owner {
			t.Fatalf("UpdateOrder returned owner %q, want %q", p.Owner, all[i].Owner)
		}
		all[i] = p
	}
	pick := func(keep func(models.Order) bool) []string {
		var out []string
		for _, o := range all {
			if keep(o) {
				out = append(out, o.ID)
			}
		}
		return out
	}
	for _, c := range []struct {
		q    models.OrderQuery
		want []string
	}{
		{models.OrderQuery{Owner: "bob"}, pick(func(o models.Order) bool { return o.Owner == "bob" })},
		{models.OrderQuery{Owner: "alice"}, pick(func(o models.Order) bool { return o.Owner == "alice" })},
		{models.OrderQuery{Owner: "bob", ItemID: a.ID}, pick(func(o models.Order) bool { return o.Owner == "bob" && o.ItemID == a.ID })},
		{models.OrderQuery{Owner: "bob", Status: models.OrderPaid}, pick(func(o models.Order) bool { return o.Owner == "bob" && o.Status == models.OrderPaid })},
		{models.OrderQuery{Owner: "bob", Status: models.OrderPending}, pick(func(o models.Order) bool { return o.Owner == "bob" && o.Status == models.OrderPending })},
		{models.OrderQuery{Owner: "bob", ItemID: a.ID, Status: models.OrderPaid}, pick(func(o models.Order) bool {
			return o.Owner == "bob" && o.ItemID == a.ID && o.Status == models.OrderPaid
		})},
		{models.OrderQuery{Owner: "mallory"}, nil},
		{models.OrderQuery{Owner: "bo"}, nil}, // an owner is matched whole, never as a prefix
		{models.OrderQuery{}, pick(func(models.Order) bool { return true })},
	} {
		for _, limit := range []int{1, 2, 100} {
			q := c.q
			q.Limit = limit
			got := listOrders(t, s, q)
			for _, o := range got {
				if q.Owner != "" && o.Owner != q.Owner {
					t.Fatalf("ListOrders(%+v) returned an order of %q", q, o.Owner)
				}
			}
			if ids := orderIDs(got); !slices.Equal(ids, c.want) && (len(ids) != 0 || len(c.want) != 0) {
				t.Errorf("ListOrders(%+v) = %v, want %v", q, ids, c.want)
			}
		}
	}
}

// testOrderIdempotencyPerOwner: a key is its owner's: the same key and
// body from another owner make another order, and each owner's repeat
// replays their own.
func testOrderIdempotencyPerOwner(t *testing.T, s OrderStore) {
	item := mustItem(t, s, "Cup")
	key := "key-" + nextID()
	exp := time.Now().Add(time.Hour)
	// bo's key is b+key: owner and key run together must not find bob's.
	sent := []models.Idempotency{{Owner: "alice", Key: key}, {Owner: "bob", Key: key}, {Owner: "bo", Key: "b" + key}}
	made := make([]models.Order, len(sent))
	for i, idem := range sent {
		idem.RequestHash, idem.ExpiresAt = "h", exp
		o := newOrder(item, 1)
		o.Owner = idem.Owner
		got, replayed, err := s.CreateOrder(ctx(t), o, 1, &idem)
		if err != nil || replayed {
			t.Fatalf("%s's first create with key %q: replayed %v, err %v", idem.Owner, idem.Key, replayed, err)
		}
		requireSameOrder(t, got, o)
		made[i] = got
	}
	for i, idem := range sent {
		idem.RequestHash, idem.ExpiresAt = "h", exp
		got, replayed, err := s.CreateOrder(ctx(t), newOrder(item, 1), 1, &idem)
		if err != nil || !replayed {
			t.Fatalf("%s's repeat: replayed %v, err %v", idem.Owner, replayed, err)
		}
		requireSameOrder(t, got, made[i])
	}
	if got := listOrders(t, s, models.OrderQuery{Limit: 10}); len(got) != len(made) {
		t.Fatalf("%d orders, want %d (one per owner)", len(got), len(made))
	}
}

func testOrderInvalidPositions(t *testing.T, s OrderStore) {
	for _, after := range []string{"bad", "01JDQ8Z6M3N4P5Q6R7S8T9V0W", "01jdq8z6m3n4p5q6r7s8t9v0wx"} {
		_, err := s.ListOrders(ctx(t), models.OrderQuery{Limit: 10, After: after})
		requireErr(t, fmt.Sprintf("ListOrders after %q", after), err, models.ErrInvalidPosition)
	}
}

// testOrderOutlivesItem: deleting an item leaves its orders, which keep
// their own price and currency, readable and listed under the item's id.
func testOrderOutlivesItem(t *testing.T, s OrderStore) {
	item := mustItem(t, s, "Cup")
	idem := &models.Idempotency{Key: "key-" + nextID(), RequestHash: "h", ExpiresAt: time.Now().Add(time.Hour)}
	o, _, err := s.CreateOrder(ctx(t), newOrder(item, 2), 1, idem)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx(t), item.ID, 0); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetOrder(ctx(t), o.ID)
	if err != nil {
		t.Fatalf("GetOrder after its item was deleted: %v", err)
	}
	requireSameOrder(t, got, o)
	if ids := orderIDs(listOrders(t, s, models.OrderQuery{Limit: 10, ItemID: item.ID})); !slices.Equal(ids, []string{o.ID}) {
		t.Fatalf("orders of the deleted item: %v, want [%s]", ids, o.ID)
	}
	_, _, err = s.CreateOrder(ctx(t), newOrder(item, 1), 1, nil)
	requireErr(t, "CreateOrder for the deleted item", err, models.ErrNotFound)
	// An item id the API's pattern admits but no ULID can be (first
	// character above 7) names no item either, keyed or not.
	never := newOrder(item, 1)
	never.ItemID = "ZZZZZZZZZZZZZZZZZZZZZZZZZZ"
	_, _, err = s.CreateOrder(ctx(t), never, 0, &models.Idempotency{Key: "key-" + nextID(), RequestHash: "h", ExpiresAt: time.Now().Add(time.Hour)})
	requireErr(t, "keyed CreateOrder for an id no ULID can be", err, models.ErrNotFound)
	// The key of an order made before the item went still replays it,
	// whatever item version the caller names (it could read none).
	replay, replayed, err := s.CreateOrder(ctx(t), newOrder(item, 2), 0, idem)
	if err != nil || !replayed {
		t.Fatalf("keyed CreateOrder for the deleted item: replayed %v, err %v", replayed, err)
	}
	requireSameOrder(t, replay, o)
}

// testOrderConcurrentUpdates: 20 writers change one order from the same
// version; exactly one wins.
func testOrderConcurrentUpdates(t *testing.T, s OrderStore) {
	item := mustItem(t, s, "Cup")
	o := mustOrder(t, s, newOrder(item, 1))
	var wins, conflicts atomic.Int64
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			to := models.OrderPaid
			if i%2 == 1 {
				to = models.OrderCancelled
			}
			_, err := s.UpdateOrder(ctx(t), moved(o, to), 1)
			switch {
			case err == nil:
				wins.Add(1)
			case errors.Is(err, models.ErrVersionConflict):
				conflicts.Add(1)
			default:
				t.Errorf("UpdateOrder: %v", err)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d writers won from one version, want exactly 1 (%d conflicts)", wins.Load(), conflicts.Load())
	}
	got, _ := s.GetOrder(ctx(t), o.ID)
	if got.Version != 2 || len(got.StatusHistory) != 2 {
		t.Fatalf("after the race: version %d, history %v", got.Version, got.StatusHistory)
	}
}

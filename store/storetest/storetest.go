// Package storetest is the contract every store is held to, per resource:
// Run for items, RunOrders for orders. Each store's own test calls them
// with a constructor for a fresh, empty store; the
// expectations are identical for all of them, so the in-memory store used in
// development cannot drift from the durable one used in production.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/typedapi/typedapi/internal/itemid"
	"github.com/typedapi/typedapi/models"
)

// Store is the method set of operations.ItemStore (and Ping), repeated here
// so this test helper depends on models only. The stores' tests assert at
// compile time that they satisfy operations.ItemStore.
type Store interface {
	Create(ctx context.Context, item models.Item, idem *models.Idempotency) (stored models.Item, replayed bool, err error)
	Get(ctx context.Context, id string) (models.Item, error)
	List(ctx context.Context, q models.ListQuery) (models.ListPage, error)
	Update(ctx context.Context, item models.Item, prevVersion int64) (models.Item, error)
	Delete(ctx context.Context, id string, prevVersion int64) error
	Ping(ctx context.Context) error
}

// Options tune the heavier cases for slower backends; zero values use the
// contract's numbers.
type Options struct {
	// Writers is how many goroutines race to update one item (50).
	Writers int
	// Creates is how many items are created concurrently (1000).
	Creates int
}

var _ = contract("items", Run)

// Run runs the items contract. newStore must return an empty store that
// nothing else uses; it is called once per subtest.
func Run(t *testing.T, newStore func(t *testing.T) Store) {
	RunWith(t, Options{}, newStore)
}

// RunWith is Run with options.
func RunWith(t *testing.T, opts Options, newStore func(t *testing.T) Store) {
	if opts.Writers == 0 {
		opts.Writers = 50
	}
	if opts.Creates == 0 {
		opts.Creates = 1000
	}
	cases := []struct {
		name string
		run  func(t *testing.T, s Store)
	}{
		{"Ping", testPing},
		{"CreateGet", testCreateGet},
		{"GetMissing", testGetMissing},
		{"CreateNeverOverwrites", testCreateNeverOverwrites},
		{"Update", testUpdate},
		{"UpdateConditions", testUpdateConditions},
		{"Delete", testDelete},
		{"DeleteConditions", testDeleteConditions},
		{"Idempotency", testIdempotency},
		{"IdempotencyPerOwner", testIdempotencyPerOwner},
		{"IdempotencyExpiry", testIdempotencyExpiry},
		{"IdempotencyRace", testIdempotencyRace},
		{"Pagination", testPagination},
		{"Filters", testFilters},
		{"FiltersFollowChanges", testFiltersFollowChanges},
		{"InvalidPositions", testInvalidPositions},
		{"PositionOfDeletedItem", testPositionOfDeletedItem},
		{"ConcurrentUpdates", func(t *testing.T, s Store) { testConcurrentUpdates(t, s, opts.Writers) }},
		{"ConcurrentCreates", func(t *testing.T, s Store) { testConcurrentCreates(t, s, opts.Creates) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t, newStore(t))
		})
	}
}

// ctx bounds every call of a subtest so a hanging store fails the test
// instead of stalling the run.
func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return c
}

// nextID makes an item id. itemid.New ids strictly increase in creation
// order, which the listing expectations rely on.
func nextID() string { return itemid.New(time.Now()) }

// newItem builds a valid item at version 1 with a fresh ULID.
func newItem(name string, tags ...models.Tag) models.Item {
	now := time.Now().UTC()
	if tags == nil {
		tags = []models.Tag{}
	}
	return models.Item{
		ID: nextID(),
		ItemFields: models.ItemFields{
			Name:        name,
			Description: "about " + name,
			Price:       1250,
			Currency:    "EUR",
			Tags:        tags,
		},
		CreatedAt: now,
		UpdatedAt: now,
		Version:   1,
	}
}

// next is item changed by a writer: version+1 and a new update time.
func next(item models.Item, change func(*models.Item)) models.Item {
	item.Tags = slices.Clone(item.Tags)
	change(&item)
	item.Version++
	item.UpdatedAt = item.UpdatedAt.Add(time.Second)
	return item
}

func mustCreate(t *testing.T, s Store, item models.Item) models.Item {
	t.Helper()
	got, replayed, err := s.Create(ctx(t), item, nil)
	if err != nil || replayed {
		t.Fatalf("Create(%s) = replayed %v, err %v", item.Name, replayed, err)
	}
	return got
}

// requireSame fails unless got and want are the same item, field by field
// (times compared as instants, a nil and an empty tag list as different).
func requireSame(t *testing.T, got, want models.Item) {
	t.Helper()
	if got.Tags == nil {
		t.Errorf("item %s: Tags is nil, want an empty list", got.ID)
	}
	if got.ID != want.ID || got.Name != want.Name || got.Description != want.Description ||
		got.Price != want.Price || got.Currency != want.Currency || !slices.Equal(got.Tags, want.Tags) ||
		!got.CreatedAt.Equal(want.CreatedAt) || !got.UpdatedAt.Equal(want.UpdatedAt) || got.Version != want.Version {
		t.Fatalf("item differs:\n got  %+v\n want %+v", got, want)
	}
}

func requireErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: err = %v, want %v", what, err, want)
	}
}

func testPing(t *testing.T, s Store) {
	if err := s.Ping(ctx(t)); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

func testCreateGet(t *testing.T, s Store) {
	cases := []models.Item{
		newItem("Espresso cup", "kitchen", "porcelain"),
		newItem("no tags"),
		func() models.Item {
			it := newItem("Ünïcode — 名前", "ß", "tag with spaces")
			it.Description = ""
			it.Price = models.MaxSafePrice
			it.CreatedAt = time.Date(2026, 11, 25, 16, 10, 0, 123456789, time.UTC)
			return it
		}(),
	}
	for _, want := range cases {
		got := mustCreate(t, s, want)
		requireSame(t, got, want)
		read, err := s.Get(ctx(t), want.ID)
		if err != nil {
			t.Fatalf("Get(%s): %v", want.ID, err)
		}
		requireSame(t, read, want)
	}
}

func testGetMissing(t *testing.T, s Store) {
	_, err := s.Get(ctx(t), itemid.New(time.Now()))
	requireErr(t, "Get(unknown id)", err, models.ErrNotFound)
}

func testCreateNeverOverwrites(t *testing.T, s Store) {
	first := mustCreate(t, s, newItem("first", "a"))
	second := newItem("second", "b")
	second.ID = first.ID
	_, _, err := s.Create(ctx(t), second, nil)
	requireErr(t, "Create(same id)", err, models.ErrAlreadyExists)
	// Also with an idempotency key that is new: the key does not let a
	// create overwrite, and the failed create leaves no record behind.
	idem := &models.Idempotency{Key: "k-overwrite", RequestHash: "h", ExpiresAt: time.Now().Add(time.Hour)}
	_, _, err = s.Create(ctx(t), second, idem)
	requireErr(t, "Create(same id, new key)", err, models.ErrAlreadyExists)
	third := newItem("third")
	got, replayed, err := s.Create(ctx(t), third, idem)
	if err != nil || replayed {
		t.Fatalf("Create(new id, key of a failed create) = replayed %v, err %v; want a fresh create", replayed, err)
	}
	requireSame(t, got, third)

	read, err := s.Get(ctx(t), first.ID)
	if err != nil {
		t.Fatal(err)
	}
	requireSame(t, read, first)
	page, err := s.List(ctx(t), models.ListQuery{Limit: 10, Tag: "b"})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 0 {
		t.Fatalf("a rejected create left a tag entry: %+v", page.Items)
	}
}

func testUpdate(t *testing.T, s Store) {
	orig := mustCreate(t, s, newItem("mug", "kitchen"))
	want := next(orig, func(it *models.Item) {
		it.Name = "Big mug"
		it.Description = ""
		it.Price = 0
		it.Currency = "USD"
		it.Tags = []models.Tag{"office"}
	})
	got, err := s.Update(ctx(t), want, orig.Version)
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	requireSame(t, got, want)
	read, err := s.Get(ctx(t), orig.ID)
	if err != nil {
		t.Fatal(err)
	}
	requireSame(t, read, want)
}

func testUpdateConditions(t *testing.T, s Store) {
	orig := mustCreate(t, s, newItem("plate"))
	v2 := next(orig, func(it *models.Item) { it.Price = 1 })
	if _, err := s.Update(ctx(t), v2, 1); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		item models.Item
		prev int64
		want error
	}{
		{"stale version", next(orig, func(it *models.Item) { it.Price = 2 }), 1, models.ErrVersionConflict},
		{"future version", next(v2, func(it *models.Item) { it.Version = 9 }), 8, models.ErrVersionConflict},
		{"unknown id", next(newItem("ghost"), func(*models.Item) {}), 1, models.ErrNotFound},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := s.Update(ctx(t), c.item, c.prev)
			requireErr(t, "Update", err, c.want)
		})
	}
	read, err := s.Get(ctx(t), orig.ID)
	if err != nil {
		t.Fatal(err)
	}
	requireSame(t, read, v2)

	if err := s.Delete(ctx(t), orig.ID, 0); err != nil {
		t.Fatal(err)
	}
	_, err = s.Update(ctx(t), next(v2, func(*models.Item) {}), v2.Version)
	requireErr(t, "Update(deleted item)", err, models.ErrNotFound)
}

func testDelete(t *testing.T, s Store) {
	keep := mustCreate(t, s, newItem("keep", "t"))
	gone := mustCreate(t, s, newItem("gone", "t"))
	if err := s.Delete(ctx(t), gone.ID, gone.Version); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	_, err := s.Get(ctx(t), gone.ID)
	requireErr(t, "Get(deleted)", err, models.ErrNotFound)
	requireErr(t, "Delete(deleted)", s.Delete(ctx(t), gone.ID, 0), models.ErrNotFound)
	for _, q := range []models.ListQuery{{Limit: 10}, {Limit: 10, Tag: "t"}, {Limit: 10, NamePrefix: "g"}, {Limit: 10, NamePrefix: "go"}, {Limit: 10, NamePrefix: "gon"}} {
		page, err := s.List(ctx(t), q)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Items {
			if it.ID == gone.ID {
				t.Fatalf("List(%+v) still returns the deleted item", q)
			}
		}
	}
	if _, err := s.Get(ctx(t), keep.ID); err != nil {
		t.Fatalf("Get(other item) after delete: %v", err)
	}
}

func testDeleteConditions(t *testing.T, s Store) {
	item := mustCreate(t, s, newItem("bowl"))
	v2 := next(item, func(it *models.Item) { it.Price = 5 })
	if _, err := s.Update(ctx(t), v2, 1); err != nil {
		t.Fatal(err)
	}
	requireErr(t, "Delete(stale version)", s.Delete(ctx(t), item.ID, 1), models.ErrVersionConflict)
	requireErr(t, "Delete(unknown id, version)", s.Delete(ctx(t), itemid.New(time.Now()), 1), models.ErrNotFound)
	requireErr(t, "Delete(unknown id, any version)", s.Delete(ctx(t), itemid.New(time.Now()), 0), models.ErrNotFound)
	if _, err := s.Get(ctx(t), item.ID); err != nil {
		t.Fatalf("a failed conditional delete removed the item: %v", err)
	}
	if err := s.Delete(ctx(t), item.ID, 2); err != nil {
		t.Fatalf("Delete(current version): %v", err)
	}
}

func testIdempotency(t *testing.T, s Store) {
	exp := time.Now().Add(24 * time.Hour)
	first := newItem("first", "x")
	idem := &models.Idempotency{Key: "key-1", RequestHash: "hash-a", ExpiresAt: exp}
	got, replayed, err := s.Create(ctx(t), first, idem)
	if err != nil || replayed {
		t.Fatalf("first keyed create = replayed %v, err %v", replayed, err)
	}
	requireSame(t, got, first)

	// A retry of the same request: a new id was minted for it, but the store
	// answers with the first result and stores nothing new.
	retry := newItem("first", "x")
	got, replayed, err = s.Create(ctx(t), retry, idem)
	if err != nil || !replayed {
		t.Fatalf("replay = replayed %v, err %v; want replayed", replayed, err)
	}
	requireSame(t, got, first)
	_, err = s.Get(ctx(t), retry.ID)
	requireErr(t, "Get(id of the replayed request)", err, models.ErrNotFound)

	_, _, err = s.Create(ctx(t), newItem("other"), &models.Idempotency{Key: "key-1", RequestHash: "hash-b", ExpiresAt: exp})
	requireErr(t, "same key, different request", err, models.ErrIdempotencyMismatch)

	// Another key is another request.
	second := newItem("second")
	got, replayed, err = s.Create(ctx(t), second, &models.Idempotency{Key: "key-2", RequestHash: "hash-a", ExpiresAt: exp})
	if err != nil || replayed {
		t.Fatalf("other key = replayed %v, err %v", replayed, err)
	}
	requireSame(t, got, second)

	// The replay returns the first result even after the item changed.
	if _, err := s.Update(ctx(t), next(first, func(it *models.Item) { it.Name = "renamed" }), 1); err != nil {
		t.Fatal(err)
	}
	got, replayed, err = s.Create(ctx(t), newItem("first", "x"), idem)
	if err != nil || !replayed {
		t.Fatalf("replay after update = replayed %v, err %v", replayed, err)
	}
	requireSame(t, got, first)

	page, err := s.List(ctx(t), models.ListQuery{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 2 {
		t.Fatalf("List holds %d items after replays, want 2", len(page.Items))
	}
}

// testIdempotencyPerOwner: a key is its owner's: the same key and body
// from another owner create another item, never replaying the first
// owner's, and a key without an owner is apart from both.
func testIdempotencyPerOwner(t *testing.T, s Store) {
	exp := time.Now().Add(time.Hour)
	made := map[string]models.Item{}
	for _, owner := range []string{"alice", "bob", ""} {
		item := newItem("same body")
		got, replayed, err := s.Create(ctx(t), item, &models.Idempotency{Key: "shared", Owner: owner, RequestHash: "h", ExpiresAt: exp})
		if err != nil || replayed {
			t.Fatalf("owner %q's create with a key another owner used: replayed %v, err %v", owner, replayed, err)
		}
		requireSame(t, got, item)
		made[owner] = got
	}
	for owner, first := range made {
		got, replayed, err := s.Create(ctx(t), newItem("same body"), &models.Idempotency{Key: "shared", Owner: owner, RequestHash: "h", ExpiresAt: exp})
		if err != nil || !replayed {
			t.Fatalf("owner %q's repeat: replayed %v, err %v", owner, replayed, err)
		}
		requireSame(t, got, first)
	}
}

func testIdempotencyExpiry(t *testing.T, s Store) {
	past := time.Now().Add(-time.Hour)
	first := newItem("first")
	if _, _, err := s.Create(ctx(t), first, &models.Idempotency{Key: "k", RequestHash: "h1", ExpiresAt: past}); err != nil {
		t.Fatal(err)
	}
	// The record has expired: the key is free again, whatever the body.
	second := newItem("second")
	fresh := &models.Idempotency{Key: "k", RequestHash: "h2", ExpiresAt: time.Now().Add(time.Hour)}
	got, replayed, err := s.Create(ctx(t), second, fresh)
	if err != nil || replayed {
		t.Fatalf("create with an expired key = replayed %v, err %v; want a fresh create", replayed, err)
	}
	requireSame(t, got, second)
	// The new record replaced the expired one.
	got, replayed, err = s.Create(ctx(t), newItem("second"), fresh)
	if err != nil || !replayed {
		t.Fatalf("replay of the new record = replayed %v, err %v", replayed, err)
	}
	requireSame(t, got, second)
	_, _, err = s.Create(ctx(t), newItem("first"), &models.Idempotency{Key: "k", RequestHash: "h1", ExpiresAt: time.Now().Add(time.Hour)})
	requireErr(t, "old body under the reused key", err, models.ErrIdempotencyMismatch)
}

// testIdempotencyRace: a client's retries racing each other with one key
// create one item; every other attempt replays it.
func testIdempotencyRace(t *testing.T, s Store) {
	const n = 20
	idem := &models.Idempotency{Key: "raced", RequestHash: "h", ExpiresAt: time.Now().Add(time.Hour)}
	type result struct {
		item     models.Item
		replayed bool
		err      error
	}
	results := make([]result, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			it, replayed, err := s.Create(ctx(t), newItem("raced"), idem)
			results[i] = result{it, replayed, err}
		}()
	}
	close(start)
	wg.Wait()
	firsts := 0
	for i, r := range results {
		if r.err != nil {
			t.Fatalf("attempt %d: %v", i, r.err)
		}
		if !r.replayed {
			firsts++
		}
		if r.item.ID != results[0].item.ID {
			t.Fatalf("attempt %d got item %s, attempt 0 got %s", i, r.item.ID, results[0].item.ID)
		}
	}
	if firsts != 1 {
		t.Fatalf("%d attempts created an item, want exactly 1", firsts)
	}
	page, err := s.List(ctx(t), models.ListQuery{Limit: 100})
	if err != nil || len(page.Items) != 1 {
		t.Fatalf("List = %d items, %v; want 1", len(page.Items), err)
	}
}

// collect pages through q with the given limit and checks the page
// guarantees on the way (see collectPages).
func collect(t *testing.T, s Store, q models.ListQuery) []models.Item {
	t.Helper()
	return collectPages(t, q.Limit, func(after string) (models.ListPage, error) {
		q.After = after
		return s.List(ctx(t), q)
	}, func(it models.Item) string { return it.ID })
}

// collectPages reads every page of a listing of limit elements per page
// and checks the page guarantees on the way: every page but the last is
// full, Next is "" only on the last, and ids strictly increase across pages.
func collectPages[T any](t *testing.T, limit int, list func(after string) (models.Page[T], error), id func(T) string) []T {
	t.Helper()
	var all []T
	after := ""
	for pages := 0; ; pages++ {
		if pages > 10000 {
			t.Fatalf("listing did not end after %d pages", pages)
		}
		page, err := list(after)
		if err != nil {
			t.Fatalf("list after %q: %v", after, err)
		}
		if page.Items == nil {
			t.Fatalf("list after %q: Items is nil, want an empty list", after)
		}
		if page.Next != "" && len(page.Items) != limit {
			t.Fatalf("list after %q: page of %d with a Next, want exactly %d", after, len(page.Items), limit)
		}
		for _, v := range page.Items {
			if n := len(all); n > 0 && id(all[n-1]) >= id(v) {
				t.Fatalf("list after %q: id %s after %s, want strictly increasing ids", after, id(v), id(all[n-1]))
			}
			all = append(all, v)
		}
		if page.Next == "" {
			return all
		}
		after = page.Next
	}
}

func ids(items []models.Item) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.ID
	}
	return out
}

func testPagination(t *testing.T, s Store) {
	var want []models.Item
	for i := range 21 {
		want = append(want, mustCreate(t, s, newItem(fmt.Sprintf("item %02d", i))))
	}
	for _, limit := range []int{1, 3, 7, 20, 21, 22, 100} {
		t.Run(fmt.Sprint("limit ", limit), func(t *testing.T) {
			got := collect(t, s, models.ListQuery{Limit: limit})
			if !slices.Equal(ids(got), ids(want)) {
				t.Fatalf("pages hold %v, want %v", ids(got), ids(want))
			}
			for i := range got {
				requireSame(t, got[i], want[i])
			}
			// An export hands each page back as Reuse: the pages must hold
			// the same items whether a store takes that storage or not.
			var reuse []models.Item
			reused := collectPages(t, limit, func(after string) (models.ListPage, error) {
				page, err := s.List(ctx(t), models.ListQuery{Limit: limit, After: after, Reuse: reuse})
				reuse = page.Items[:0]
				return page, err
			}, func(it models.Item) string { return it.ID })
			if !slices.Equal(ids(reused), ids(want)) {
				t.Fatalf("pages read with Reuse hold %v, want %v", ids(reused), ids(want))
			}
			for i := range reused {
				requireSame(t, reused[i], want[i])
			}
		})
	}
	empty, err := s.List(ctx(t), models.ListQuery{Limit: 5, After: want[len(want)-1].ID})
	if err != nil || len(empty.Items) != 0 || empty.Next != "" {
		t.Fatalf("List after the last item = %+v, %v; want an empty last page", empty, err)
	}
}

func testFilters(t *testing.T, s Store) {
	// Matches are sparse among many non-matching items, so a store that
	// filters after a fixed-size read would return short pages.
	names := []string{"Espresso cup", "espresso MACHINE", "ESPRESSO beans", "Tea cup", "Äpfel", "äpfelsaft", "e", "Esp"}
	var all []models.Item
	for i := range 48 {
		name := names[i%len(names)]
		tags := []models.Tag{}
		if i%3 == 0 {
			tags = append(tags, "kitchen")
		}
		if i%5 == 0 {
			tags = append(tags, "sale")
		}
		if i%7 == 0 {
			name = fmt.Sprintf("filler %d", i)
		}
		all = append(all, mustCreate(t, s, newItem(name, tags...)))
	}
	cases := []models.ListQuery{
		{Tag: "kitchen"},
		{Tag: "sale"},
		{Tag: "nothing"},
		{Tag: "Kitchen"}, // tags match exactly
		{NamePrefix: "espresso"},
		{NamePrefix: "ESPRESSO C"},
		{NamePrefix: "Esp"},
		{NamePrefix: "e"},
		{NamePrefix: "E"},
		{NamePrefix: "äPF"},
		{NamePrefix: "ÄPFELSAFT"},
		{NamePrefix: "tea cup and more"},
		{NamePrefix: "filler 1"},
		{Tag: "kitchen", NamePrefix: "espresso"},
		{Tag: "sale", NamePrefix: "äp"},
		{Tag: "sale", NamePrefix: "zzz"},
	}
	for _, q := range cases {
		var want []string
		for _, it := range all {
			if (q.Tag == "" || slices.Contains(it.Tags, q.Tag)) &&
				strings.HasPrefix(models.FoldName(it.Name), models.FoldName(q.NamePrefix)) {
				want = append(want, it.ID)
			}
		}
		for _, limit := range []int{2, 5, 100} {
			q.Limit = limit
			t.Run(fmt.Sprintf("tag=%q prefix=%q limit=%d", q.Tag, q.NamePrefix, limit), func(t *testing.T) {
				got := ids(collect(t, s, q))
				if !slices.Equal(got, want) {
					t.Fatalf("got %v, want %v", got, want)
				}
			})
		}
	}
}

// testFiltersFollowChanges: filtered listings follow updates of the name and
// tags (a store keeping index entries must move them with the item).
func testFiltersFollowChanges(t *testing.T, s Store) {
	item := mustCreate(t, s, newItem("Alpha", "old", "both"))
	moved := next(item, func(it *models.Item) {
		it.Name = "Beta"
		it.Tags = []models.Tag{"both", "new"}
	})
	if _, err := s.Update(ctx(t), moved, item.Version); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		q    models.ListQuery
		want int
	}{
		{models.ListQuery{Tag: "old"}, 0},
		{models.ListQuery{Tag: "new"}, 1},
		{models.ListQuery{Tag: "both"}, 1},
		{models.ListQuery{NamePrefix: "a"}, 0},
		{models.ListQuery{NamePrefix: "alpha"}, 0},
		{models.ListQuery{NamePrefix: "b"}, 1},
		{models.ListQuery{NamePrefix: "bet"}, 1},
		{models.ListQuery{Tag: "both", NamePrefix: "be"}, 1},
	}
	for _, c := range cases {
		c.q.Limit = 10
		page, err := s.List(ctx(t), c.q)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Items) != c.want {
			t.Fatalf("List(%+v) = %d items, want %d", c.q, len(page.Items), c.want)
		}
		if c.want == 1 {
			requireSame(t, page.Items[0], moved)
		}
	}
}

func testInvalidPositions(t *testing.T, s Store) {
	mustCreate(t, s, newItem("a"))
	bad := []string{
		"x",
		"not a position",
		"01JDQ8Z6M3N4P5Q6R7S8T9V0W",   // one character short
		"01JDQ8Z6M3N4P5Q6R7S8T9V0WXY", // one too long
		"01JDQ8Z6M3N4P5Q6R7S8T9V0WU",  // U is not Crockford base32
		"01jdq8z6m3n4p5q6r7s8t9v0wx",  // lower case
		"01JDQ8Z6M3N4P5Q6R7S8T9V0W\x00",
		"ITEM#01JDQ8Z6M3N4P5Q6R7S8T9",
		"{\"pk\":\"ITEM\"}",
	}
	for _, after := range bad {
		for _, q := range []models.ListQuery{{}, {Tag: "t"}, {NamePrefix: "a"}} {
			q.Limit, q.After = 10, after
			_, err := s.List(ctx(t), q)
			requireErr(t, fmt.Sprintf("List(after %q, tag %q, prefix %q)", after, q.Tag, q.NamePrefix), err, models.ErrInvalidPosition)
		}
	}
}

func testPositionOfDeletedItem(t *testing.T, s Store) {
	a := mustCreate(t, s, newItem("a"))
	b := mustCreate(t, s, newItem("b"))
	c := mustCreate(t, s, newItem("c"))
	page, err := s.List(ctx(t), models.ListQuery{Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if page.Next == "" {
		t.Fatal("want a Next after the first of two pages")
	}
	if err := s.Delete(ctx(t), b.ID, 0); err != nil {
		t.Fatal(err)
	}
	// The position names the end of a page, not a live item: it still
	// works when that item is gone.
	rest, err := s.List(ctx(t), models.ListQuery{Limit: 2, After: page.Next})
	if err != nil {
		t.Fatalf("List after a deleted item's position: %v", err)
	}
	if !slices.Equal(ids(rest.Items), []string{c.ID}) || rest.Next != "" {
		t.Fatalf("rest = %v next %q, want [%s] (a was %s)", ids(rest.Items), rest.Next, c.ID, a.ID)
	}
}

// testConcurrentUpdates races writers on one item, each writing the version
// it read just before. Every version may be won once; the final version
// counts every win, and the final content is the last winner's write.
func testConcurrentUpdates(t *testing.T, s Store, writers int) {
	item := mustCreate(t, s, newItem("contended"))
	const rounds = 3
	var (
		mu       sync.Mutex
		winners  = map[int64]string{} // prevVersion → description written
		wins     int
		start    = make(chan struct{})
		wg       sync.WaitGroup
		failures []error
	)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for r := range rounds {
				cur, err := s.Get(ctx(t), item.ID)
				if err != nil {
					mu.Lock()
					failures = append(failures, fmt.Errorf("writer %d Get: %w", w, err))
					mu.Unlock()
					return
				}
				desc := fmt.Sprintf("writer %d round %d", w, r)
				_, err = s.Update(ctx(t), next(cur, func(it *models.Item) { it.Description = desc }), cur.Version)
				mu.Lock()
				switch {
				case err == nil:
					if prev, dup := winners[cur.Version]; dup {
						failures = append(failures, fmt.Errorf("version %d won twice: %q and %q", cur.Version, prev, desc))
					}
					winners[cur.Version] = desc
					wins++
				case !errors.Is(err, models.ErrVersionConflict):
					failures = append(failures, fmt.Errorf("writer %d Update: %w", w, err))
				}
				mu.Unlock()
			}
		}()
	}
	close(start)
	wg.Wait()
	for _, err := range failures {
		t.Error(err)
	}
	final, err := s.Get(ctx(t), item.ID)
	if err != nil {
		t.Fatal(err)
	}
	if wins == 0 {
		t.Fatal("no writer won")
	}
	if final.Version != int64(1+wins) {
		t.Fatalf("final version %d, want 1 + %d wins", final.Version, wins)
	}
	for v := int64(1); v < final.Version; v++ {
		if _, ok := winners[v]; !ok {
			t.Fatalf("no recorded winner for version %d of %d", v, final.Version)
		}
	}
	if final.Description != winners[final.Version-1] {
		t.Fatalf("final description %q, want the last winner's %q", final.Description, winners[final.Version-1])
	}
	t.Logf("%d writers × %d rounds: %d wins", writers, rounds, wins)
}

// testConcurrentCreates creates n items at once, then pages through them:
// each must come back exactly once.
func testConcurrentCreates(t *testing.T, s Store, n int) {
	created := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			it := newItem(fmt.Sprintf("bulk %04d", i), "bulk")
			_, _, errs[i] = s.Create(ctx(t), it, nil)
			created[i] = it.ID
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("create %d: %v", i, err)
		}
	}
	slices.Sort(created)
	if len(slices.Compact(slices.Clone(created))) != n {
		t.Fatal("ids were not distinct")
	}
	for _, q := range []models.ListQuery{{Limit: 100}, {Limit: 37, Tag: "bulk"}} {
		got := ids(collect(t, s, q))
		if !slices.Equal(got, created) {
			t.Fatalf("List(%+v) pages hold %d ids, want the %d created, each once", q, len(got), n)
		}
	}
}

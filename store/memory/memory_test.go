package memory_test

import (
	"context"
	"testing"
	"time"

	"github.com/typedapi/typedapi/internal/itemid"
	"github.com/typedapi/typedapi/models"
	"github.com/typedapi/typedapi/operations"
	"github.com/typedapi/typedapi/store/memory"
	"github.com/typedapi/typedapi/store/storetest"
)

var (
	_ operations.ItemStore  = (*memory.Store)(nil)
	_ operations.OrderStore = (*memory.Store)(nil)
)

// TestContract runs the contract of every resource the store holds.
func TestContract(t *testing.T) {
	storetest.RunAll(t, func(t *testing.T) any { return memory.New() })
}

// TestListTakesReuse: a page read with Reuse holds its items in that
// storage when it is large enough, so an export makes no page of garbage
// per page (the contract tests check the items are the same).
func TestListTakesReuse(t *testing.T) {
	s := memory.New()
	for range 3 {
		if _, _, err := s.Create(context.Background(), models.Item{ID: itemid.New(time.Now()), ItemFields: models.ItemFields{Name: "x", Currency: "EUR"}}, nil); err != nil {
			t.Fatal(err)
		}
	}
	reuse := make([]models.Item, 5, 10)
	page, err := s.List(context.Background(), models.ListQuery{Limit: 2, Reuse: reuse[:0]})
	if err != nil || len(page.Items) != 2 || &page.Items[0] != &reuse[0] {
		t.Fatalf("page %+v, %v: not in the storage passed as Reuse", page, err)
	}
	page, err = s.List(context.Background(), models.ListQuery{Limit: 2, Reuse: reuse[:0:1]})
	if err != nil || len(page.Items) != 2 || &page.Items[0] == &reuse[0] {
		t.Fatalf("page %+v, %v: written into a Reuse too small for it", page, err)
	}
}

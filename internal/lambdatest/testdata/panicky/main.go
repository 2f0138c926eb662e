// Command panicky is a Lambda bootstrap for the end-to-end test only (it
// lives under testdata, so `go build ./...` never makes it): the real API —
// operations.New behind serve.Lambda, as cmd/api runs it — on a memory
// store whose Get panics for one id. It provokes a panic inside an
// operation under the emulator without a test-only route in the product.
package main

import (
	"context"

	"github.com/typedapi/typedapi/internal/serve"
	"github.com/typedapi/typedapi/models"
	"github.com/typedapi/typedapi/operations"
	"github.com/typedapi/typedapi/store/memory"
)

// PanicID is the item id whose read panics.
const PanicID = "01ARZ3NDEKTSV4RRFFQ69G5FAV"

type panickyStore struct{ *memory.Store }

func (s panickyStore) Get(ctx context.Context, id string) (models.Item, error) {
	if id == PanicID {
		panic("panicky store: provoked by the end-to-end test")
	}
	return s.Store.Get(ctx, id)
}

func main() {
	h, _ := operations.New(operations.Options{}, operations.StoresOf(panickyStore{memory.New()}))
	serve.Lambda(h, serve.LambdaOptions{})
}

package memory_test

import (
	"testing"

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

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

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store { return memory.New() })
}

func TestOrderContract(t *testing.T) {
	storetest.RunOrders(t, func(t *testing.T) storetest.OrderStore { return memory.New() })
}

package storetest

import "testing"

// contracts are the resources' contract suites, each registered by its own
// file (contract), so that a store's test runs every resource's suite with
// one RunAll call and adding a resource edits no store's test.
var contracts []struct {
	name string
	run  func(t *testing.T, newStore func(t *testing.T) any)
}

// contract registers run, the suite of the resource called name, whose
// stores implement S. It returns true so that it can initialise a package
// variable.
func contract[S any](name string, run func(t *testing.T, newStore func(t *testing.T) S)) bool {
	contracts = append(contracts, struct {
		name string
		run  func(t *testing.T, newStore func(t *testing.T) any)
	}{name, func(t *testing.T, newStore func(t *testing.T) any) {
		if _, ok := newStore(t).(S); !ok {
			t.Skipf("this store holds no %s", name)
		}
		run(t, func(t *testing.T) S { return newStore(t).(S) })
	}})
	return true
}

// RunAll runs the suite of every resource the store implements, each as a
// subtest named for the resource; a resource the store does not hold is
// skipped. newStore must return an empty store that nothing else uses; it
// is called once per subtest.
func RunAll(t *testing.T, newStore func(t *testing.T) any) {
	for _, c := range contracts {
		t.Run(c.name, func(t *testing.T) { c.run(t, newStore) })
	}
}

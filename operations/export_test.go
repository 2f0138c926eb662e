package operations

// FastItems turns the direct item-body path (itembody.go) on or off, so
// tests can compare it with Huma's generic path; it returns the undo.
func FastItems(on bool) (restore func()) {
	old := fastItems
	fastItems = on
	return func() { fastItems = old }
}

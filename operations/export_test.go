package operations

// FastBodies turns the direct item and problem bodies (directbody.go) on or
// off, so tests can compare them with Huma's generic path; it returns the
// undo.
func FastBodies(on bool) (restore func()) {
	old := fastBodies
	fastBodies = on
	return func() { fastBodies = old }
}

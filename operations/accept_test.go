package operations_test

import (
	"net/http"
	"testing"

	"github.com/typedapi/typedapi/operations"
)

// TestResponsesAreJSON: whatever JSON type a client asks for, an item comes
// back as application/json (a merge patch is a request body, never an
// answer); and a merge patch body is read as strictly as any other.
func TestResponsesAreJSON(t *testing.T) {
	h, _ := newHandler(t, operations.Options{}, nil)
	loc := serve(h, http.MethodPost, "/v1/items", validBody).Header().Get("Location")
	for _, accept := range []string{"", "*/*", "application/json", "application/merge-patch+json", "application/*", "text/html"} {
		got := serve(h, http.MethodGet, loc, "", "Accept", accept)
		if got.Code != http.StatusOK || got.Header().Get("Content-Type") != "application/json" {
			t.Errorf("Accept %q: %d %s", accept, got.Code, got.Header().Get("Content-Type"))
		}
	}
	patch := serve(h, http.MethodPatch, loc, `{"name":"a","name":"b"}`, "Content-Type", "application/merge-patch+json")
	if patch.Code != http.StatusBadRequest {
		t.Errorf("merge patch with a duplicate member: %d %s", patch.Code, patch.Body)
	}
}

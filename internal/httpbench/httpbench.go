// Package httpbench holds the floors scripts/bench-http and the in-process
// benchmarks measure the API against: bare Huma on net/http (BareHuma) and
// plain net/http with validation written by hand (NetHTTP). Each serves GET
// and POST of an item on the API's own memory store, so a comparison
// measures the framework and the service's middleware, not the data
// structure. They are measuring instruments, never part of the product.
package httpbench

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"time"
	"unicode/utf8"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
	"github.com/oklog/ulid/v2"

	"github.com/typedapi/typedapi/models"
	"github.com/typedapi/typedapi/store/memory"
)

// BareHuma is Huma with huma.DefaultConfig (validation from the models'
// tags, schema links, problem+json) and nothing else: no middleware, access
// log, request ids or conditional requests.
func BareHuma(store *memory.Store) http.Handler {
	mux := http.NewServeMux()
	api := humago.New(mux, huma.DefaultConfig("barehuma", "1"))

	type getIn struct {
		ID string `path:"id"`
	}
	type itemOut struct {
		ETag string `header:"ETag"`
		Body models.Item
	}
	huma.Get(api, "/v1/items/{id}", func(ctx context.Context, in *getIn) (*itemOut, error) {
		it, err := store.Get(ctx, in.ID)
		if err != nil {
			return nil, huma.Error404NotFound("no such item")
		}
		return &itemOut{ETag: it.ETag(), Body: it}, nil
	})

	type createIn struct {
		Body models.ItemFields
	}
	type createOut struct {
		Location string `header:"Location"`
		Body     models.Item
	}
	huma.Register(api, huma.Operation{Method: http.MethodPost, Path: "/v1/items", DefaultStatus: http.StatusCreated},
		func(ctx context.Context, in *createIn) (*createOut, error) {
			in.Body.Normalize()
			now := time.Now().UTC()
			it := models.Item{ID: ulid.Make().String(), ItemFields: in.Body, CreatedAt: now, UpdatedAt: now, Version: 1}
			stored, _, err := store.Create(ctx, it, nil)
			if err != nil {
				return nil, huma.Error500InternalServerError("store")
			}
			return &createOut{Location: "/v1/items/" + stored.ID, Body: stored}, nil
		})

	return mux
}

var currency = regexp.MustCompile(`^[A-Z]{3}$`)

// NetHTTP is what a team without a framework would write: net/http,
// encoding/json and the models' rules checked by hand.
func NetHTTP(store *memory.Store) http.Handler {
	mux := http.NewServeMux()

	mux.HandleFunc("GET /v1/items/{id}", func(w http.ResponseWriter, r *http.Request) {
		it, err := store.Get(r.Context(), r.PathValue("id"))
		if err != nil {
			http.Error(w, `{"status":404}`, http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("ETag", it.ETag())
		_ = json.NewEncoder(w).Encode(it)
	})

	mux.HandleFunc("POST /v1/items", func(w http.ResponseWriter, r *http.Request) {
		var f models.ItemFields
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&f); err != nil {
			http.Error(w, `{"status":400}`, http.StatusBadRequest)
			return
		}
		if !valid(f) {
			http.Error(w, `{"status":422}`, http.StatusUnprocessableEntity)
			return
		}
		f.Normalize()
		now := time.Now().UTC()
		it := models.Item{ID: ulid.Make().String(), ItemFields: f, CreatedAt: now, UpdatedAt: now, Version: 1}
		stored, _, err := store.Create(r.Context(), it, nil)
		if err != nil {
			http.Error(w, `{"status":500}`, http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Location", "/v1/items/"+stored.ID)
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(stored)
	})

	return mux
}

// valid checks the rules models.ItemFields' tags state.
func valid(f models.ItemFields) bool {
	n := utf8.RuneCountInString(f.Name)
	if n < 1 || n > 200 || utf8.RuneCountInString(f.Description) > 2000 {
		return false
	}
	if f.Price < 0 || f.Price > models.MaxSafePrice || !currency.MatchString(f.Currency) || len(f.Tags) > 20 {
		return false
	}
	seen := map[models.Tag]bool{}
	for _, t := range f.Tags {
		if l := utf8.RuneCountInString(string(t)); l < 1 || l > 50 || seen[t] {
			return false
		}
		seen[t] = true
	}
	return true
}

// Command nethttp is the lowest reference scripts/bench-http measures: plain
// net/http, encoding/json and validation written by hand, on the API's
// memory store. It is what a team without a framework would write.
package main

import (
	"encoding/json"
	"flag"
	"log"
	"net/http"
	"regexp"
	"time"
	"unicode/utf8"

	"github.com/oklog/ulid/v2"

	"github.com/typedapi/typedapi/models"
	"github.com/typedapi/typedapi/store/memory"
)

var currency = regexp.MustCompile(`^[A-Z]{3}$`)

func main() {
	addr := flag.String("addr", "127.0.0.1:8082", "listen address")
	flag.Parse()
	store := memory.New()
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

	srv := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	log.Fatal(srv.ListenAndServe())
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
	seen := map[string]bool{}
	for _, t := range f.Tags {
		if l := utf8.RuneCountInString(t); l < 1 || l > 50 || seen[t] {
			return false
		}
		seen[t] = true
	}
	return true
}

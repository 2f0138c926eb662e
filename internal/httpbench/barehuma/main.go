// Command barehuma is the container floor scripts/bench-http measures the
// API against: Huma with huma.DefaultConfig on net/http (validation from
// the models' tags, schema links, problem+json) on the API's memory store.
// No middleware, access log, request ids or conditional requests.
package main

import (
	"context"
	"flag"
	"log"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
	"github.com/oklog/ulid/v2"

	"github.com/typedapi/typedapi/models"
	"github.com/typedapi/typedapi/store/memory"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8081", "listen address")
	flag.Parse()
	store := memory.New()
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

	srv := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	log.Fatal(srv.ListenAndServe())
}

package main

import (
	"context"
	"net/http"
	"time"

	"github.com/akrylysov/algnhsa"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"github.com/typedapi/typedapi/internal/itemid"
	"github.com/typedapi/typedapi/models"
)

// bareHuma is the reference the Lambda issue quotes: the same two
// operations as typed Huma operations with huma.DefaultConfig (validation
// from the models' tags, schema links, problem+json), behind algnhsa with
// its default options, on the floor's memory store. No middleware, no
// access log, no request ids, no stage or base-path handling.
func bareHuma(f *floor) lambda.Handler {
	mux := http.NewServeMux()
	api := humago.New(mux, huma.DefaultConfig("bench", "1"))
	type getIn struct {
		ID string `path:"id"`
	}
	type itemOut struct {
		ETag string `header:"ETag"`
		Body models.Item
	}
	huma.Get(api, "/v1/items/{id}", func(ctx context.Context, in *getIn) (*itemOut, error) {
		it, err := f.store.Get(ctx, in.ID)
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
			it := models.Item{ID: itemid.New(now), ItemFields: in.Body,
				CreatedAt: now, UpdatedAt: now, Version: 1}
			stored, _, err := f.store.Create(ctx, it, nil)
			if err != nil {
				return nil, huma.Error500InternalServerError("store")
			}
			return &createOut{Location: "/v1/items/" + stored.ID, Body: stored}, nil
		})
	return algnhsa.New(mux, nil)
}

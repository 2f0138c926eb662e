// Command barehuma is the second cold-start reference for
// lambdatest/coldstart, the one the Lambda issue quotes: Huma behind
// algnhsa with default options and nothing else (no config, logger,
// middleware or store), answering the events coldstart sends. It lives
// under testdata so it is never part of the product.
package main

import (
	"context"
	"net/http"

	"github.com/akrylysov/algnhsa"
	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
)

type item struct {
	ID       string   `json:"id,omitempty" readOnly:"true"`
	Name     string   `json:"name" minLength:"1" maxLength:"200"`
	Price    int64    `json:"price" minimum:"0"`
	Currency string   `json:"currency" pattern:"^[A-Z]{3}$"`
	Tags     []string `json:"tags,omitempty" maxItems:"20"`
}

func main() {
	mux := http.NewServeMux()
	api := humago.New(mux, huma.DefaultConfig("barehuma", "1"))
	type listIn struct {
		Limit int `query:"limit" minimum:"1" maximum:"100" default:"20"`
	}
	type listOut struct{ Body struct{ Items []item } }
	huma.Get(api, "/v1/items", func(context.Context, *listIn) (*listOut, error) { return &listOut{}, nil })
	type getIn struct {
		ID string `path:"id"`
	}
	type itemOut struct{ Body item }
	huma.Get(api, "/v1/items/{id}", func(_ context.Context, in *getIn) (*itemOut, error) {
		return &itemOut{Body: item{ID: in.ID, Name: "x", Currency: "EUR"}}, nil
	})
	type createIn struct{ Body item }
	huma.Post(api, "/v1/items", func(_ context.Context, in *createIn) (*itemOut, error) {
		in.Body.ID = "01ARZ3NDEKTSV4RRFFQ69G5FAV"
		return &itemOut{Body: in.Body}, nil
	})
	algnhsa.ListenAndServe(mux, nil)
}

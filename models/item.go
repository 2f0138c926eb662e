// Package models holds the domain types of the API: what an item is, the
// rules a valid one follows, and the errors a store reports. It imports
// nothing from this module, so every other package can depend on it.
package models

import (
	"strconv"
	"time"

	"github.com/danielgtaylor/huma/v2"
)

// MaxSafePrice is the largest amount in minor units the API accepts: the
// largest integer a JSON number keeps exactly in every client (2^53 - 1).
const MaxSafePrice = 1<<53 - 1

// ItemFields are the fields a client writes: the body of create and replace.
type ItemFields struct {
	Name        string `json:"name" minLength:"1" maxLength:"200" doc:"Display name of the item, 1 to 200 characters." example:"Espresso cup"`
	Description string `json:"description,omitempty" maxLength:"2000" doc:"Optional free-text description, at most 2000 characters." example:"Porcelain cup, 80 ml, dishwasher safe."`
	Price       int64  `json:"price" minimum:"0" maximum:"9007199254740991" doc:"Price as an integer amount in the currency's minor unit (cents for USD), never a float." example:"1250"`
	Currency    string `json:"currency" maxLength:"3" pattern:"^[A-Z]{3}$" patternDescription:"ISO 4217 code" doc:"ISO 4217 currency code of the price, upper case." example:"EUR"`
	Tags        []Tag  `json:"tags" required:"false" maxItems:"20" uniqueItems:"true" doc:"Labels used to filter the list: at most 20, unique, each 1 to 50 characters." example:"[\"kitchen\",\"porcelain\"]"`
}

// Tag is one label of an item. It carries its own schema (the document's
// and the validator's), so every list of tags gets the rule for each
// element, which a struct tag on the list cannot state.
type Tag string

// Schema implements huma.SchemaProvider.
func (Tag) Schema(huma.Registry) *huma.Schema {
	minLen, maxLen := 1, 50
	return &huma.Schema{
		Type:        huma.TypeString,
		MinLength:   &minLen,
		MaxLength:   &maxLen,
		Description: "A tag, 1 to 50 characters.",
		Examples:    []any{"kitchen"},
	}
}

// Item is a stored item as the API returns it.
type Item struct {
	ID string `json:"id" readOnly:"true" doc:"Server-made identifier (a ULID): unique, and sorts by creation time." example:"01JDQ8Z6M3N4P5Q6R7S8T9V0WX"`
	ItemFields
	CreatedAt time.Time `json:"created_at" readOnly:"true" doc:"When the item was created (RFC 3339, UTC)." example:"2026-11-25T16:10:00Z"`
	UpdatedAt time.Time `json:"updated_at" readOnly:"true" doc:"When the item was last changed (RFC 3339, UTC)." example:"2026-11-25T16:12:30Z"`
	Version   int64     `json:"version" readOnly:"true" minimum:"1" doc:"Starts at 1 and grows by one on every change; the ETag is derived from it." example:"1"`
}

// ETag is the strong entity tag of this version of the item.
func (it Item) ETag() string {
	return `"` + it.ID + "." + strconv.FormatInt(it.Version, 10) + `"`
}

// Normalize puts client-written fields into their stored form: a nil tag list
// becomes empty so that every representation of an item has the same shape.
func (f *ItemFields) Normalize() {
	if f.Tags == nil {
		f.Tags = []Tag{}
	}
}

package operations

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"time"
	"unicode"

	"github.com/danielgtaylor/huma/v2"
	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/typedapi/typedapi/internal/itemid"
	"github.com/typedapi/typedapi/internal/middleware"
	"github.com/typedapi/typedapi/models"
)

// itemsPath is where the items collection lives; a later /v2 can sit beside it.
const itemsPath = "/v1/items"

// itemNoun names an item in its problems.
const itemNoun noun = "item"

// ItemStore is what the item operations need from persistence.
// Implementations live under store/ and report failures with the
// models.Err* values (wrapped as they like); anything else becomes a 500
// whose cause is only logged.
type ItemStore interface {
	// Create stores a new item and never overwrites. With idem set, a key
	// seen before (and not expired) returns that first result and
	// replayed=true, or models.ErrIdempotencyMismatch when the request
	// differs; the record is written atomically with the item.
	Create(ctx context.Context, item models.Item, idem *models.Idempotency) (stored models.Item, replayed bool, err error)
	// Get returns models.ErrNotFound when there is no such item.
	Get(ctx context.Context, id string) (models.Item, error)
	// List returns one page in id order; a position it did not make is
	// models.ErrInvalidPosition. A page holds Limit items unless it is the
	// last one; Next is "" exactly when there are no more matches.
	List(ctx context.Context, q models.ListQuery) (models.ListPage, error)
	// Update writes item (whose Version is prevVersion+1) only if the stored
	// version is still prevVersion: models.ErrVersionConflict otherwise,
	// models.ErrNotFound when the item is gone.
	Update(ctx context.Context, item models.Item, prevVersion int64) (models.Item, error)
	// Delete removes the item; with prevVersion > 0 only at that version.
	// Orders that name the item keep their own copy of its price and stay.
	Delete(ctx context.Context, id string, prevVersion int64) error
}

// items implements the /v1/items operations.
type items struct {
	store        ItemStore
	cursors      cursorCodec
	idemTTL      time.Duration
	now          func() time.Time
	exports      exportSlots
	writeTimeout time.Duration // of one page of an export
}

// ---- inputs and outputs -------------------------------------------------

// ItemID is the {id} path parameter.
type ItemID struct {
	ID string `path:"id" maxLength:"26" pattern:"^[0-9A-HJKMNP-TV-Z]{26}$" patternDescription:"an item id (26-character ULID, upper case)" doc:"Id of the item, as returned when it was created." example:"01JDQ8Z6M3N4P5Q6R7S8T9V0WX"`
}

// IfMatch makes a write conditional on the item's current ETag.
type IfMatch struct {
	IfMatch string `header:"If-Match" maxLength:"2048" doc:"Apply the change only if the current ETag is one of these (or * for any). A stale ETag answers 412." example:"\"01JDQ8Z6M3N4P5Q6R7S8T9V0WX.1\""`
}

// Resolve reads every If-Match line (inputs with a Resolve of their own
// call it).
func (m *IfMatch) Resolve(ctx huma.Context) []error {
	var errs []error
	m.IfMatch, errs = conditional(ctx, "If-Match")
	return errs
}

// maxConditional bounds an If-Match or If-None-Match value, all its lines
// together: room for dozens of ETags, not for the 64 KiB a request head
// may hold. The struct tags declare it; Huma checks only the first line.
const maxConditional = 2048

// conditional is every line of the conditional header name (allLines), or
// a problem detail when together they are longer than maxConditional.
func conditional(ctx huma.Context, name string) (string, []error) {
	v := allLines(ctx, name)
	if len(v) > maxConditional {
		return "", []error{&huma.ErrorDetail{Location: "header." + name, Message: fmt.Sprintf("expected length <= %d", maxConditional), Value: v}}
	}
	return v, nil
}

// allLines is every line of the header name joined with commas: RFC 9110
// (section 5.3) makes several lines one comma-separated list, and a Huma
// header field reads the first line only. A multi-value REST or ALB event
// arrives as several lines too.
func allLines(ctx huma.Context, name string) string {
	var vs []string
	ctx.EachHeader(func(k, v string) {
		if strings.EqualFold(k, name) {
			vs = append(vs, v)
		}
	})
	return strings.Join(vs, ", ")
}

type ListItemsInput struct {
	Limit  int        `query:"limit" minimum:"1" maximum:"100" default:"20" doc:"Most items to return in this page." example:"20"`
	Cursor string     `query:"cursor" maxLength:"512" doc:"Opaque cursor from the previous page's next_cursor (or its Link rel=next). Repeat the same tag and q with it." example:"MS5hYmMuMDFKRFE4WjZNM040UDVRNlI3UzhUOVYwV1g.5xk2bPq0s1c3uE7uWQvZ9g"`
	Tag    models.Tag `query:"tag" doc:"Only items carrying exactly this tag." example:"kitchen"`
	Q      string     `query:"q" minLength:"1" maxLength:"200" doc:"Only items whose name starts with this text, ignoring case." example:"esp"`
}

// ItemPage is one page of the item list.
type ItemPage struct {
	Items      []models.Item `json:"items" doc:"Items of this page in creation order (oldest first)." nullable:"false"`
	NextCursor string        `json:"next_cursor,omitempty" doc:"Pass as cursor to get the next page; absent on the last page." example:"MS5hYmMuMDFKRFE4WjZNM040UDVRNlI3UzhUOVYwV1g.5xk2bPq0s1c3uE7uWQvZ9g"`
}

type ListItemsOutput struct {
	Link string `header:"Link" doc:"RFC 8288 link to the next page (rel=\"next\"), when there is one." example:"</v1/items?cursor=MS5h...&limit=20>; rel=\"next\""`
	Body ItemPage
}

type ExportItemsInput struct {
	Tag models.Tag `query:"tag" doc:"Only items carrying exactly this tag." example:"kitchen"`
	Q   string     `query:"q" minLength:"1" maxLength:"200" doc:"Only items whose name starts with this text, ignoring case." example:"esp"`
}

// Resolve refuses a query parameter the export does not take.
func (in *ExportItemsInput) Resolve(ctx huma.Context) []error { return unknownFilters(ctx) }

type CreateItemInput struct {
	IdempotencyKey string `header:"Idempotency-Key" minLength:"1" maxLength:"255" doc:"Makes the create safe to retry: the same key with the same body returns the first response again (for 24 hours by default); with a different body, 422." example:"5f1b7c9e-2d4a-4e8b-9c1d-3a6f0e2b7d45"`
	Body           models.ItemFields
}

type ItemOutput struct {
	ETag string `header:"ETag" doc:"Entity tag of this version of the item, for If-None-Match and If-Match." example:"\"01JDQ8Z6M3N4P5Q6R7S8T9V0WX.1\""`
	Body models.Item
}

type CreateItemOutput struct {
	Location string `header:"Location" doc:"URL of the new item." example:"/v1/items/01JDQ8Z6M3N4P5Q6R7S8T9V0WX"`
	ETag     string `header:"ETag" doc:"Entity tag of the new item." example:"\"01JDQ8Z6M3N4P5Q6R7S8T9V0WX.1\""`
	Replayed string `header:"Idempotent-Replayed" doc:"\"true\" when this is the stored first response to an earlier request with the same Idempotency-Key." example:"true"`
	Body     models.Item
}

type GetItemInput struct {
	ItemID
	IfNoneMatch string `header:"If-None-Match" maxLength:"2048" doc:"Answer 304 Not Modified, with no body, if the item's ETag is one of these." example:"\"01JDQ8Z6M3N4P5Q6R7S8T9V0WX.1\""`
}

// Resolve reads every If-None-Match line (see allLines). A GET without the
// header, the common case, skips the scan: an empty first line followed by
// others only costs a 304 the client could have had.
func (in *GetItemInput) Resolve(ctx huma.Context) []error {
	var errs []error
	if in.IfNoneMatch != "" {
		in.IfNoneMatch, errs = conditional(ctx, "If-None-Match")
	}
	return errs
}

type ReplaceItemInput struct {
	ItemID
	IfMatch
	Body models.ItemFields
}

// ItemPatch is a JSON merge patch (RFC 7396) of an item: fields present are
// set, a null description removes it, absent fields stay as they are.
//
// Its schema is ItemFields' with every member optional (TransformSchema),
// so a rule written once on ItemFields holds for create, replace and patch
// alike; the fields here carry only their JSON names.
type ItemPatch struct {
	Name        *string      `json:"name,omitempty"`
	Description *string      `json:"description,omitempty"`
	Price       *int64       `json:"price,omitempty"`
	Currency    *string      `json:"currency,omitempty"`
	Tags        []models.Tag `json:"tags,omitempty"`

	raw map[string]jsontext.Value // what the client sent, to tell null from absent
}

// TransformSchema (huma.SchemaTransformer) replaces the members Huma made
// from ItemPatch's fields with ItemFields' own, none required, and lets
// description be null (that removes it). Null for a required member passes
// the schema, as an absent member does; nullRequired refuses it with a
// reason. The members are copies, so the patch's changes stay off
// ItemFields' schema.
func (ItemPatch) TransformSchema(r huma.Registry, s *huma.Schema) *huma.Schema {
	fields := r.Schema(reflect.TypeFor[models.ItemFields](), false, "")
	props := make(map[string]*huma.Schema, len(fields.Properties))
	for name, p := range fields.Properties {
		if name == "$schema" {
			continue // ItemFields' own link; ItemPatch gets its own when its operation is added
		}
		c := *p
		props[name] = &c
	}
	d := props["description"]
	d.Nullable = true
	d.Description += " Null removes it."
	s.Properties = props
	s.Required = nil
	s.Description = "A JSON merge patch (RFC 7396) of an item: members present are set (tags replaces the whole list; [] clears it), " +
		"`\"description\": null` removes the description, absent members stay as they are."
	return s
}

// UnmarshalJSON keeps the raw members next to the typed fields, read as
// the JSON format reads every body (jsonbody.go).
func (p *ItemPatch) UnmarshalJSON(b []byte) error {
	type plain ItemPatch
	if err := jsonv2.Unmarshal(b, (*plain)(p), unmarshalOptions); err != nil {
		return err
	}
	return jsonv2.Unmarshal(b, &p.raw, unmarshalOptions)
}

type PatchItemInput struct {
	ItemID
	IfMatch
	Body ItemPatch `contentType:"application/merge-patch+json"`
}

type DeleteItemInput struct {
	ItemID
	IfMatch
}

// ---- validation beyond the schema ---------------------------------------

// Resolve checks what JSON Schema cannot: a currency code ISO 4217 knows.
func (in *CreateItemInput) Resolve(_ huma.Context, prefix *huma.PathBuffer) []error {
	return append(checkCurrency(in.Body.Currency, prefix), checkText(prefix, &in.Body.Name, &in.Body.Description, in.Body.Tags)...)
}

func (in *ReplaceItemInput) Resolve(ctx huma.Context, prefix *huma.PathBuffer) []error {
	errs := in.IfMatch.Resolve(ctx)
	errs = append(errs, checkCurrency(in.Body.Currency, prefix)...)
	return append(errs, checkText(prefix, &in.Body.Name, &in.Body.Description, in.Body.Tags)...)
}

func (in *PatchItemInput) Resolve(ctx huma.Context, prefix *huma.PathBuffer) []error {
	errs := in.IfMatch.Resolve(ctx)
	errs = append(errs, checkText(prefix, in.Body.Name, in.Body.Description, in.Body.Tags)...)
	if in.Body.Currency == nil {
		return errs
	}
	return append(checkCurrency(*in.Body.Currency, prefix), errs...)
}

// checkText refuses control characters, which forge log lines and drive
// the terminals of whoever prints an item: none in names and tags; in a
// description only tabs and line breaks.
func checkText(prefix *huma.PathBuffer, name, description *string, tags []models.Tag) []error {
	var errs []error
	bad := func(loc, s string, allowed string) {
		for _, r := range s {
			if unicode.IsControl(r) && !strings.ContainsRune(allowed, r) {
				errs = append(errs, &huma.ErrorDetail{Location: prefix.With(loc), Message: "contains a control character", Value: s})
				return
			}
		}
	}
	if name != nil {
		bad("body.name", *name, "")
	}
	if description != nil {
		bad("body.description", *description, "\t\n\r")
	}
	for i, t := range tags {
		bad(fmt.Sprintf("body.tags[%d]", i), string(t), "")
	}
	return errs
}

func checkCurrency(code string, prefix *huma.PathBuffer) []error {
	if knownCurrency(code) || len(code) != 3 {
		return nil // malformed codes are already reported by the schema pattern
	}
	return []error{&huma.ErrorDetail{
		Location: prefix.With("body.currency"),
		Message:  "unknown ISO 4217 currency code",
		Value:    code,
	}}
}

// ---- operations ----------------------------------------------------------

func (h *items) list(ctx context.Context, in *ListItemsInput) (*ListItemsOutput, error) {
	tag := string(in.Tag)
	q := models.ListQuery{Limit: in.Limit, Tag: in.Tag, NamePrefix: in.Q}
	if in.Cursor != "" {
		after, err := h.cursors.Decode(in.Cursor, tag, in.Q)
		if err != nil {
			return nil, err
		}
		q.After = after
	}
	page, err := h.store.List(ctx, q)
	if err != nil {
		return nil, storeError(ctx, itemNoun, err)
	}
	out := &ListItemsOutput{Body: ItemPage{Items: page.Items}}
	if page.Next != "" {
		out.Body.NextCursor = h.cursors.Encode(page.Next, tag, in.Q)
		out.Link = nextLink(ctx, itemsPath, in.Limit, out.Body.NextCursor, "tag", tag, "q", in.Q)
	}
	return out, nil
}

// export streams every item the filters match as NDJSON (export.go).
func (h *items) export(ctx context.Context, in *ExportItemsInput) (*huma.StreamResponse, error) {
	release, err := h.exports.acquire()
	if err != nil {
		return nil, err
	}
	q := models.ListQuery{Limit: exportPageSize, Tag: in.Tag, NamePrefix: in.Q}
	first, err := h.store.List(ctx, q)
	if err != nil {
		release()
		return nil, storeError(ctx, itemNoun, err)
	}
	next := func(ctx context.Context, after string, reuse []models.Item) (models.ListPage, error) {
		q.After, q.Reuse = after, reuse
		return h.store.List(ctx, q)
	}
	return exportOf(first, next, release, h.writeTimeout, itemNoun), nil
}

func (h *items) create(ctx context.Context, in *CreateItemInput) (*CreateItemOutput, error) {
	caller, err := callerOf(ctx)
	if err != nil {
		return nil, err
	}
	in.Body.Normalize()
	now := h.now().UTC().Truncate(time.Millisecond)
	item := models.Item{
		ID:         itemid.New(now),
		ItemFields: in.Body,
		CreatedAt:  now,
		UpdatedAt:  now,
		Version:    1,
	}
	var idem *models.Idempotency
	if in.IdempotencyKey != "" {
		idem = &models.Idempotency{
			Key:         in.IdempotencyKey,
			Owner:       caller.Subject, // another caller's same key is another request
			RequestHash: requestHash(in.Body),
			ExpiresAt:   now.Add(h.idemTTL),
		}
	}
	stored, replayed, err := h.store.Create(ctx, item, idem)
	if err != nil {
		return nil, storeError(ctx, itemNoun, err)
	}
	out := &CreateItemOutput{
		Location: publicPath(ctx, itemsPath+"/"+stored.ID),
		ETag:     stored.ETag(),
		Body:     stored,
	}
	if replayed {
		out.Replayed = "true"
	}
	return out, nil
}

// requestHash fingerprints a create body: it is what makes "the same
// request" for an Idempotency-Key. The normalized fields are hashed, so
// whitespace or key order in the JSON does not matter.
func requestHash(f models.ItemFields) string {
	b, _ := json.Marshal(f)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func (h *items) get(ctx context.Context, in *GetItemInput) (*ItemOutput, error) {
	item, err := h.store.Get(ctx, in.ID)
	if err != nil {
		return nil, storeError(ctx, itemNoun, err)
	}
	etag := item.ETag()
	if in.IfNoneMatch != "" && etagListed(in.IfNoneMatch, etag, true) {
		return nil, huma.ErrorWithHeaders(huma.Status304NotModified(), http.Header{"ETag": {etag}})
	}
	return &ItemOutput{ETag: etag, Body: item}, nil
}

func (h *items) replace(ctx context.Context, in *ReplaceItemInput) (*ItemOutput, error) {
	in.Body.Normalize()
	return h.change(ctx, in.ID, in.IfMatch.IfMatch, func(cur models.Item) (models.ItemFields, error) {
		return in.Body, nil
	})
}

func (h *items) patch(ctx context.Context, in *PatchItemInput) (*ItemOutput, error) {
	if errs := in.Body.nullRequired(); len(errs) > 0 {
		return nil, huma.Error422UnprocessableEntity("validation failed", errs...)
	}
	if len(in.Body.raw) == 0 {
		return h.unchanged(ctx, in.ID, in.IfMatch.IfMatch)
	}
	return h.change(ctx, in.ID, in.IfMatch.IfMatch, func(cur models.Item) (models.ItemFields, error) {
		return applyPatch(cur.ItemFields, in.Body), nil
	})
}

// unchanged answers a merge patch with no members ({}): it sets nothing, so
// nothing is written and the version stays; If-Match is still checked, as
// for a patch that writes.
func (h *items) unchanged(ctx context.Context, id, ifMatch string) (*ItemOutput, error) {
	cur, err := h.store.Get(ctx, id)
	if err != nil {
		return nil, storeError(ctx, itemNoun, err)
	}
	if ifMatch != "" && !etagListed(ifMatch, cur.ETag(), false) {
		return nil, errPreconditionFailed(itemNoun, cur.ETag())
	}
	return &ItemOutput{ETag: cur.ETag(), Body: cur}, nil
}

// maxWriteAttempts bounds the retries of an unconditional write that lost a
// race with another writer.
const maxWriteAttempts = 6

// change is the read-modify-write behind PUT and PATCH. With If-Match the
// client's ETag must be current and a concurrent change answers 412;
// without it the write is retried on the newest version, so no update is
// ever lost either way.
func (h *items) change(ctx context.Context, id, ifMatch string, edit func(models.Item) (models.ItemFields, error)) (*ItemOutput, error) {
	for attempt := 1; ; attempt++ {
		cur, err := h.store.Get(ctx, id)
		if err != nil {
			return nil, storeError(ctx, itemNoun, err)
		}
		if ifMatch != "" && !etagListed(ifMatch, cur.ETag(), false) {
			return nil, errPreconditionFailed(itemNoun, cur.ETag())
		}
		fields, err := edit(cur)
		if err != nil {
			return nil, err
		}
		next := cur
		next.ItemFields = fields
		next.Version = cur.Version + 1
		next.UpdatedAt = h.now().UTC().Truncate(time.Millisecond)
		stored, err := h.store.Update(ctx, next, cur.Version)
		if errors.Is(err, models.ErrVersionConflict) && ifMatch == "" {
			if attempt < maxWriteAttempts {
				continue
			}
			return nil, errTooBusy(itemNoun)
		}
		if err != nil {
			return nil, storeError(ctx, itemNoun, err)
		}
		return &ItemOutput{ETag: stored.ETag(), Body: stored}, nil
	}
}

func (h *items) delete(ctx context.Context, in *DeleteItemInput) (*struct{}, error) {
	var version int64
	if in.IfMatch.IfMatch != "" {
		cur, err := h.store.Get(ctx, in.ID)
		if err != nil {
			return nil, storeError(ctx, itemNoun, err)
		}
		if !etagListed(in.IfMatch.IfMatch, cur.ETag(), false) {
			return nil, errPreconditionFailed(itemNoun, cur.ETag())
		}
		version = cur.Version
	}
	if err := h.store.Delete(ctx, in.ID, version); err != nil {
		return nil, storeError(ctx, itemNoun, err)
	}
	return nil, nil
}

// nullRequired reports members set to null that an item cannot lack: in a
// merge patch null means "remove", and name, price and currency are required.
func (p ItemPatch) nullRequired() []error {
	var errs []error
	for _, name := range []string{"name", "price", "currency"} {
		if string(p.raw[name]) == "null" {
			errs = append(errs, &huma.ErrorDetail{Location: "body." + name, Message: "cannot be removed: an item must have a " + name, Value: nil})
		}
	}
	return errs
}

// applyPatch merges p into f following RFC 7396: members present replace,
// a null description or tags removes them. Null for a required member is
// rejected by nullRequired before this runs.
func applyPatch(f models.ItemFields, p ItemPatch) models.ItemFields {
	if p.Name != nil {
		f.Name = *p.Name
	}
	if _, ok := p.raw["description"]; ok {
		f.Description = ""
		if p.Description != nil {
			f.Description = *p.Description
		}
	}
	if p.Price != nil {
		f.Price = *p.Price
	}
	if p.Currency != nil {
		f.Currency = *p.Currency
	}
	if _, ok := p.raw["tags"]; ok {
		f.Tags = p.Tags
	}
	f.Normalize()
	return f
}

// etagListed reports whether an If-Match / If-None-Match value lists etag
// or is "*". If-Match compares strongly (a weak W/ tag never matches);
// If-None-Match compares weakly.
func etagListed(header, etag string, weak bool) bool {
	for _, candidate := range strings.Split(header, ",") {
		candidate = strings.TrimSpace(candidate)
		if candidate == "*" {
			return true
		}
		if w, ok := strings.CutPrefix(candidate, "W/"); ok {
			if !weak {
				continue
			}
			candidate = w
		}
		if candidate == etag {
			return true
		}
	}
	return false
}

// publicPath is p as the client must ask for it: behind the mount prefix
// (base path or gateway stage) the request came through.
func publicPath(ctx context.Context, p string) string {
	return middleware.MountPrefix(ctx) + p
}

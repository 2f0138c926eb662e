package operations

import (
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/typedapi/typedapi/jsonbytes"
	"github.com/typedapi/typedapi/models"
)

// An item is the body of most responses, and Huma's generic path for it
// was a quarter of the cost of a GET on Lambda: the schema-link transformer
// copies the item by reflection into a struct with a `$schema` field, then
// encoding/json walks that by reflection and re-scans each timestamp's
// MarshalJSON output. itemLinks and itemBody.appendJSON make the same Link
// header and the same bytes directly. TestItemBodyAsHuma and FuzzItemBody
// compare both, byte for byte, with the generic path (fastItems off).

// fastItems switches the direct path on; tests turn it off to compare.
var fastItems = true

// itemBody is an item on its way out, with its `$schema` URL.
type itemBody struct {
	schema string
	item   models.Item
}

// itemLinks returns the transformer that answers for models.Item bodies
// what Huma's schema-link transformer would, or nil when v is not an item
// this path writes (the caller then hands v to Huma's transformer).
func itemLinks(c huma.Config) func(ctx huma.Context, v any) any {
	ref := strings.TrimSuffix(c.SchemasPath, "/") + "/Item.json"
	link := "<" + ref + `>; rel="describedBy"`
	oapi := c.OpenAPI
	return func(ctx huma.Context, v any) any {
		it, ok := v.(models.Item)
		if !ok || !fastItems || !rfc3339Year(it.CreatedAt) || !rfc3339Year(it.UpdatedAt) {
			return nil
		}
		ctx.AppendHeader("Link", link)
		return &itemBody{schema: schemaURL(ctx, oapi, ref), item: it}
	}
}

// rfc3339Year: encoding/json refuses other years, and the generic path
// answers that error.
func rfc3339Year(t time.Time) bool { y := t.Year(); return y >= 0 && y <= 9999 }

// schemaURL is the `$schema` value Huma's transformer makes: the host the
// client used (ctx is a prefixedContext, which folds in forwarding headers
// and the mount prefix), else the first absolute server URL, else
// localhost; then http for localhost without TLS, https otherwise.
func schemaURL(ctx huma.Context, oapi *huma.OpenAPI, ref string) string {
	host := ctx.Host()
	if host == "" || strings.HasPrefix(host, "localhost") {
		if oapi != nil && len(oapi.Servers) > 0 && oapi.Servers[0].URL != "" && !strings.HasPrefix(oapi.Servers[0].URL, "/") {
			host = oapi.Servers[0].URL
		}
		if host == "" {
			host = "localhost"
		}
	}
	scheme := ""
	if !strings.Contains(host, "://") {
		scheme = "https://"
		if ctx.TLS() == nil && (strings.HasPrefix(host, "localhost") || strings.HasPrefix(host, "127.0.0.1")) {
			scheme = "http://"
		}
	}
	return scheme + host + ref
}

// appendJSON writes the body as encoding/json writes Huma's wrapper type:
// `$schema` first, then the item's fields in declaration order.
func (b *itemBody) appendJSON(dst []byte) []byte {
	it := &b.item
	dst = append(dst, `{"$schema":`...)
	dst = jsonbytes.String(dst, b.schema)
	dst = append(dst, `,"id":`...)
	dst = jsonbytes.String(dst, it.ID)
	dst = append(dst, `,"name":`...)
	dst = jsonbytes.String(dst, it.Name)
	if it.Description != "" {
		dst = append(dst, `,"description":`...)
		dst = jsonbytes.String(dst, it.Description)
	}
	dst = append(dst, `,"price":`...)
	dst = strconv.AppendInt(dst, it.Price, 10)
	dst = append(dst, `,"currency":`...)
	dst = jsonbytes.String(dst, it.Currency)
	dst = append(dst, `,"tags":`...)
	if it.Tags == nil {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, '[')
		for i, tag := range it.Tags {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = jsonbytes.String(dst, tag)
		}
		dst = append(dst, ']')
	}
	dst = append(dst, `,"created_at":"`...)
	dst = it.CreatedAt.AppendFormat(dst, time.RFC3339Nano)
	dst = append(dst, `","updated_at":"`...)
	dst = it.UpdatedAt.AppendFormat(dst, time.RFC3339Nano)
	dst = append(dst, `","version":`...)
	dst = strconv.AppendInt(dst, it.Version, 10)
	return append(dst, '}')
}

var bodyBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// marshalItems wraps a JSON format's Marshal: item bodies are appended
// directly (with the newline json.Encoder ends a value with), everything
// else goes to marshal.
func marshalItems(marshal func(io.Writer, any) error) func(io.Writer, any) error {
	return func(w io.Writer, v any) error {
		b, ok := v.(*itemBody)
		if !ok {
			return marshal(w, v)
		}
		bp := bodyBuffers.Get().(*[]byte)
		defer bodyBuffers.Put(bp)
		*bp = append(b.appendJSON((*bp)[:0]), '\n')
		_, err := w.Write(*bp)
		return err
	}
}

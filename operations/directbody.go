package operations

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/typedapi/typedapi/internal/jsonbytes"
	"github.com/typedapi/typedapi/models"
)

// An item is the body of most responses and a problem the body of every
// error, and Huma's generic path for them was a quarter of the cost of a
// request on Lambda: the schema-link transformer copies the body by
// reflection into a struct with a `$schema` field, then encoding/json walks
// that by reflection (and re-scans each timestamp's MarshalJSON output).
// directBodies and appendJSON make the same Link header and the same bytes
// directly. TestItemBodyAsHuma, TestProblemBodyAsHuma and FuzzItemBody
// compare them, byte for byte, with the generic path (fastBodies off).

// fastBodies switches the direct path on; tests turn it off to compare.
var fastBodies = true

// directBody is a response body this file writes itself.
type directBody interface {
	appendJSON(dst []byte) []byte
}

// itemBody is an item on its way out, with its `$schema` URL.
type itemBody struct {
	schema string
	item   models.Item
}

// problemBody is a problem (Huma's ErrorModel) with its `$schema` URL.
type problemBody struct {
	schema string
	model  *huma.ErrorModel
}

// directBodies returns the transformer that answers for item and problem
// bodies what Huma's schema-link transformer would, or nil when v is not
// one this path writes (the caller then hands v to Huma's transformer).
func directBodies(c huma.Config) func(ctx prefixedContext, v any) any {
	schemas := strings.TrimSuffix(c.SchemasPath, "/")
	urls := &schemaURLs{item: schemas + "/Item.json", problem: schemas + "/ErrorModel.json"}
	itemLink, problemLink := "<"+urls.item+`>; rel="describedBy"`, "<"+urls.problem+`>; rel="describedBy"`
	return func(ctx prefixedContext, v any) any {
		if !fastBodies {
			return nil
		}
		switch b := v.(type) {
		case models.Item:
			if !strictRFC3339(b.CreatedAt) || !strictRFC3339(b.UpdatedAt) {
				return nil
			}
			ctx.AppendHeader("Link", itemLink)
			return &itemBody{schema: urls.get(ctx).item, item: b}
		case *huma.ErrorModel:
			if b == nil || !plainValues(b) {
				return nil
			}
			ctx.AppendHeader("Link", problemLink)
			return &problemBody{schema: urls.get(ctx).problem, model: b}
		}
		return nil
	}
}

// schemaURLs makes the `$schema` URLs and remembers the last ones made:
// nearly every request to a deployment comes through one host, and making
// the URL was a fifth of writing an item.
type schemaURLs struct {
	item, problem string // the schemas' paths
	last          atomic.Pointer[schemaURLsFor]
}

// schemaURLsFor are the URLs for requests that came in the same way.
type schemaURLsFor struct {
	via           schemaVia
	item, problem string
}

// schemaVia is everything of a request that the URLs depend on.
type schemaVia struct {
	host, forwardedHost, forwardedProto, prefix string
	tls                                         bool
}

func (s *schemaURLs) get(ctx prefixedContext) *schemaURLsFor {
	via := schemaVia{
		host:           ctx.humaContext.Host(),
		forwardedHost:  ctx.humaContext.Header("X-Forwarded-Host"),
		forwardedProto: ctx.humaContext.Header("X-Forwarded-Proto"),
		prefix:         ctx.prefix,
		tls:            ctx.humaContext.TLS() != nil,
	}
	if last := s.last.Load(); last != nil && last.via == via {
		return last
	}
	// What Huma's transformer writes: the base URL (prefixedContext.Host,
	// which has the scheme) and the schema's path.
	base := ctx.Host()
	u := &schemaURLsFor{via: via, item: base + s.item, problem: base + s.problem}
	s.last.Store(u)
	return u
}

// plainValues: every detail's value is one appendValue writes the way
// encoding/json does, or an object or array it hands to encoding/json.
func plainValues(m *huma.ErrorModel) bool {
	for _, d := range m.Errors {
		if d == nil {
			continue
		}
		switch v := d.Value.(type) {
		case nil, string, int, int64, bool, map[string]any, []any:
		case float64:
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return false // encoding/json refuses these; the generic path answers that
			}
		default:
			return false
		}
	}
	return true
}

// strictRFC3339 reports whether time.Time.MarshalJSON writes t: it refuses
// years outside 0..9999 and zone offsets of 24 hours or more, and the
// generic path answers that error.
func strictRFC3339(t time.Time) bool {
	_, offset := t.Zone()
	y := t.Year()
	return y >= 0 && y <= 9999 && offset > -24*3600 && offset < 24*3600
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

// marshalDirect wraps a JSON format's Marshal: item and problem bodies are appended
// directly (with the newline json.Encoder ends a value with), everything
// else goes to marshal.
func marshalDirect(marshal func(io.Writer, any) error) func(io.Writer, any) error {
	return func(w io.Writer, v any) error {
		b, ok := v.(directBody)
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

// appendJSON writes the problem as encoding/json writes Huma's wrapper
// type: `$schema` first, then ErrorModel's fields, each left out when empty.
func (b *problemBody) appendJSON(dst []byte) []byte {
	m := b.model
	dst = append(dst, `{"$schema":`...)
	dst = jsonbytes.String(dst, b.schema)
	for _, f := range [...]struct{ name, value string }{{"type", m.Type}, {"title", m.Title}} {
		if f.value != "" {
			dst = append(dst, `,"`+f.name+`":`...)
			dst = jsonbytes.String(dst, f.value)
		}
	}
	if m.Status != 0 {
		dst = append(dst, `,"status":`...)
		dst = strconv.AppendInt(dst, int64(m.Status), 10)
	}
	for _, f := range [...]struct{ name, value string }{{"detail", m.Detail}, {"instance", m.Instance}} {
		if f.value != "" {
			dst = append(dst, `,"`+f.name+`":`...)
			dst = jsonbytes.String(dst, f.value)
		}
	}
	if len(m.Errors) > 0 {
		dst = append(dst, `,"errors":[`...)
		for i, d := range m.Errors {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendDetail(dst, d)
		}
		dst = append(dst, ']')
	}
	return append(dst, '}')
}

func appendDetail(dst []byte, d *huma.ErrorDetail) []byte {
	if d == nil {
		return append(dst, "null"...)
	}
	dst = append(dst, '{')
	sep := ""
	if d.Message != "" {
		dst = append(dst, `"message":`...)
		dst = jsonbytes.String(dst, d.Message)
		sep = ","
	}
	if d.Location != "" {
		dst = append(dst, sep+`"location":`...)
		dst = jsonbytes.String(dst, d.Location)
		sep = ","
	}
	if d.Value != nil {
		dst = append(dst, sep+`"value":`...)
		dst = appendValue(dst, d.Value)
	}
	return append(dst, '}')
}

// appendValue writes a rejected value as Huma's encoder would; objects and
// arrays (a whole body or array that failed a rule) go through it.
func appendValue(dst []byte, v any) []byte {
	switch v := v.(type) {
	case string:
		return jsonbytes.String(dst, v)
	case float64:
		return jsonbytes.Float(dst, v)
	case int:
		return strconv.AppendInt(dst, int64(v), 10)
	case int64:
		return strconv.AppendInt(dst, v, 10)
	case bool:
		return strconv.AppendBool(dst, v)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return append(dst, "null"...) // unreachable: plainValues admits only JSON's own types
	}
	return append(dst, bytes.TrimSuffix(buf.Bytes(), []byte("\n"))...)
}

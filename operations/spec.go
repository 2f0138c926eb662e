package operations

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"github.com/typedapi/typedapi/internal/middleware"
)

// specHandler serves the OpenAPI document in its four forms with `servers`
// set to the base URL the client used: behind a gateway stage or a base
// path, "Try it out" then calls the API through the same prefix. Each form
// is rendered once per distinct base URL and cached.
type specHandler struct {
	api   huma.API
	fw    *middleware.Forwarding
	mu    sync.Mutex
	cache map[string][]byte
}

// specCacheLimit bounds the cache: without public_base_url, base URLs come
// from the request's Host, so a client could otherwise grow it without end.
const specCacheLimit = 64

func (s *specHandler) serve(format string) http.HandlerFunc {
	contentType := "application/openapi+json"
	if strings.HasSuffix(format, "yaml") {
		contentType = "application/openapi+yaml"
	}
	return func(w http.ResponseWriter, r *http.Request) {
		base := s.fw.BaseURL(r)
		key := format + " " + base
		s.mu.Lock()
		b, ok := s.cache[key]
		s.mu.Unlock()
		if !ok {
			var err error
			if b, err = s.render(format, base); err != nil {
				middleware.WriteProblem(w, r, http.StatusInternalServerError, "")
				return
			}
			s.mu.Lock()
			if len(s.cache) >= specCacheLimit {
				clear(s.cache)
			}
			s.cache[key] = b
			s.mu.Unlock()
		}
		w.Header().Set("Content-Type", contentType)
		_, _ = w.Write(b)
	}
}

func (s *specHandler) render(format, base string) ([]byte, error) {
	doc := *s.api.OpenAPI() // shallow copy: only Servers differs
	doc.Servers = []*huma.Server{{URL: base, Description: "This API, as you reached it."}}
	switch format {
	case "json":
		return json.Marshal(&doc)
	case "yaml":
		return doc.YAML()
	case "3.0.json":
		return Downgrade(&doc, false)
	default:
		return Downgrade(&doc, true)
	}
}

// prefixedContext shows Huma's schema-link transformer the request as the
// client made it, so `$schema` and `Link: rel="describedBy"` carry the
// mount prefix, and the base URL comes from middleware.Forwarding.
type prefixedContext struct {
	humaContext // embedded under another name: huma.Context has a Context() method
	prefix      string
	fw          *middleware.Forwarding
}

type humaContext = huma.Context

// Host is the external base URL, scheme included, as the spec's servers
// give it (Forwarding.BaseURL): the transformer puts it in front of
// /schemas/…, and with the scheme in it keeps it as it is, instead of
// calling every host but localhost https (so the transformer's TLS check
// never runs).
func (c prefixedContext) Host() string {
	r, _ := humago.Unwrap(c.humaContext)
	return c.fw.BaseURL(r)
}

// Header hides the forwarding headers the transformer would otherwise
// prefer to Host(): Forwarding alone decides what they may say.
func (c prefixedContext) Header(name string) string {
	if strings.EqualFold(name, "X-Forwarded-Host") || strings.EqualFold(name, "Forwarded") {
		return ""
	}
	return c.humaContext.Header(name)
}

func (c prefixedContext) AppendHeader(name, value string) {
	if name == "Link" && c.prefix != "" {
		value = strings.Replace(value, "</", "<"+c.prefix+"/", 1)
	}
	c.humaContext.AppendHeader(name, value)
}

// schemaLinks replaces the create hook of huma.DefaultConfig that installs
// the schema-link transformer, wrapping it so links get the mount prefix.
// A 304 gets no link: it has no body for one to describe.
func schemaLinks(fw *middleware.Forwarding) func(huma.Config) huma.Config {
	return func(c huma.Config) huma.Config {
		lt := huma.NewSchemaLinkTransformer("#/components/schemas/", c.SchemasPath)
		c.OnAddOperation = append(c.OnAddOperation, lt.OnAddOperation)
		c.Transformers = append(c.Transformers, func(ctx huma.Context, status string, v any) (any, error) {
			if status == "304" {
				return v, nil // no body, so nothing to describe
			}
			return lt.Transform(prefixedContext{ctx, middleware.MountPrefix(ctx.Context()), fw}, status, v)
		})
		return c
	}
}

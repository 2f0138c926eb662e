// Package swaggerui serves the interactive API documentation page from
// files embedded in the binary, so /docs works with no network at all.
//
// Only the files the page loads are embedded (the Swagger UI bundle, its
// stylesheet and an icon, gzip-compressed; no source maps, no unused
// bundles), copied from github.com/swaggo/files/v2 — the test in this
// package checks they still match that module and can refresh them.
package swaggerui

import (
	"bytes"
	"compress/gzip"
	"embed"
	"html"
	"io"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"

	"github.com/typedapi/typedapi/internal/middleware"
)

//go:embed assets/*.gz
var assets embed.FS

// CSP is the Content-Security-Policy of the page: everything from our own
// origin, nothing inline except style attributes Swagger UI sets on elements.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// page is the HTML shell. Every URL in it is relative so that the page keeps
// working behind a stage prefix or a base path: from /docs, "docs/x"
// resolves to /docs/x and "openapi.json" to /openapi.json; from
// /prod/docs they resolve under /prod.
const page = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{{TITLE}}</title>
<link rel="icon" type="image/png" href="docs/favicon-32x32.png">
<link rel="stylesheet" href="docs/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="docs/swagger-ui-bundle.js"></script>
<script src="docs/init.js" data-spec="{{SPEC}}"></script>
</body>
</html>
`

// initJS starts Swagger UI with the spec URL the page names; kept in a file
// rather than inline so the CSP can forbid inline scripts.
const initJS = `(function () {
  var spec = document.currentScript.getAttribute("data-spec");
  window.addEventListener("load", function () {
    window.ui = SwaggerUIBundle({
      url: spec,
      dom_id: "#swagger-ui",
      deepLinking: true,
      tryItOutEnabled: true,
      displayRequestDuration: true,
      validatorUrl: null,
      presets: [SwaggerUIBundle.presets.apis],
      layout: "BaseLayout"
    });
  });
})();
`

// Handler serves the page at docsPath and its assets below docsPath + "/".
// specPath is the spec URL relative to the page's directory
// (e.g. "openapi.json").
func Handler(title, docsPath, specPath string) http.Handler {
	html := strings.NewReplacer("{{TITLE}}", html.EscapeString(title), "{{SPEC}}", html.EscapeString(specPath)).Replace(page)
	// The page refers to its assets as "docs/…": that only resolves right
	// when the page's last path segment is "docs".
	base := path.Base(docsPath)
	html = strings.ReplaceAll(html, `"docs/`, `"`+base+`/`)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", CSP)
		h.Set("X-Content-Type-Options", "nosniff")
		name := strings.TrimPrefix(r.URL.Path, docsPath)
		switch name {
		case "", "/":
			h.Set("Content-Type", "text/html; charset=utf-8")
			h.Set("Cache-Control", "no-cache")
			// The CSP's frame-ancestors says the same to current browsers.
			h.Set("X-Frame-Options", "DENY")
			_, _ = io.WriteString(w, html)
		case "/init.js":
			h.Set("Content-Type", "text/javascript; charset=utf-8")
			h.Set("Cache-Control", "no-cache")
			_, _ = io.WriteString(w, initJS)
		default:
			serveAsset(w, r, strings.TrimPrefix(name, "/"))
		}
	})
}

// serveAsset writes an embedded file, compressed when the client accepts
// gzip and inflated otherwise.
func serveAsset(w http.ResponseWriter, r *http.Request, name string) {
	gz, err := assets.ReadFile("assets/" + name + ".gz")
	if err != nil || strings.Contains(name, "/") {
		middleware.WriteProblem(w, r, http.StatusNotFound, "No documentation asset "+name+".")
		return
	}
	h := w.Header()
	ctype := mime.TypeByExtension(path.Ext(name))
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	h.Set("Content-Type", ctype)
	// The assets change only with the binary; a day of caching is safe and
	// the ETag revalidates after a deploy.
	h.Set("Cache-Control", "public, max-age=86400")
	h.Set("Vary", "Accept-Encoding")
	// A strong ETag names one representation: the gzip one has its own.
	zipped := acceptsGzip(r.Header.Get("Accept-Encoding"))
	etag := `"` + name + "-" + strconv.Itoa(len(gz))
	if zipped {
		etag += "-gzip"
	}
	etag += `"`
	h.Set("ETag", etag)
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if zipped {
		h.Set("Content-Encoding", "gzip")
		_, _ = w.Write(gz)
		return
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		middleware.WriteProblem(w, r, http.StatusInternalServerError, "")
		return
	}
	_, _ = io.Copy(w, zr)
}

func acceptsGzip(accept string) bool {
	for _, part := range strings.Split(accept, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			continue
		}
		q, found := strings.CutPrefix(strings.ReplaceAll(params, " ", ""), "q=")
		if !found {
			return true
		}
		weight, err := strconv.ParseFloat(q, 64)
		return err == nil && weight > 0
	}
	return false
}

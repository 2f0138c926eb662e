package swaggerui

import (
	"bytes"
	"compress/gzip"
	"flag"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	swaggerfiles "github.com/swaggo/files/v2"
)

var update = flag.Bool("update", false, "rewrite assets/*.gz from github.com/swaggo/files/v2")

// TestAssetsMatchModule keeps the embedded copies equal to the files of the
// Swagger UI module in go.mod. After upgrading that module, refresh them:
//
//	go test ./swaggerui -run TestAssetsMatchModule -update
func TestAssetsMatchModule(t *testing.T) {
	entries, err := assets.ReadDir("assets")
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 3 {
		t.Errorf("embedded %d assets; the page loads 3 (bundle, css, icon)", len(entries))
	}
	for _, e := range entries {
		name := strings.TrimSuffix(e.Name(), ".gz")
		want, err := fs.ReadFile(swaggerfiles.FS, name)
		if err != nil {
			t.Fatalf("%s is not in the module: %v", name, err)
		}
		if *update {
			var buf bytes.Buffer
			zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
			zw.Write(want)
			zw.Close()
			if err := os.WriteFile("assets/"+e.Name(), buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		gz, _ := assets.ReadFile("assets/" + e.Name())
		zr, err := gzip.NewReader(bytes.NewReader(gz))
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(zr)
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from the module's copy; run with -update", name)
		}
	}
}

func TestServesPageAndAssets(t *testing.T) {
	h := Handler("Shop <API>", "/docs", "openapi.json")
	get := func(path string, headers ...string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", path, nil)
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}

	page := get("/docs")
	if page.Code != 200 || !strings.Contains(page.Body.String(), `data-spec="openapi.json"`) || !strings.Contains(page.Body.String(), "Shop &lt;API&gt;") {
		t.Errorf("page: %d %s", page.Code, page.Body)
	}
	if csp := page.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("CSP %q", csp)
	}
	if strings.Contains(page.Body.String(), "<script>") {
		t.Errorf("inline script would be blocked by the CSP")
	}

	plain := get("/docs/swagger-ui-bundle.js")
	if plain.Code != 200 || plain.Header().Get("Content-Encoding") != "" || !strings.Contains(plain.Body.String(), "SwaggerUIBundle") {
		t.Errorf("uncompressed bundle: %d %q", plain.Code, plain.Header().Get("Content-Encoding"))
	}
	gz := get("/docs/swagger-ui-bundle.js", "Accept-Encoding", "br, gzip;q=0.8")
	if gz.Code != 200 || gz.Header().Get("Content-Encoding") != "gzip" || gz.Body.Len() >= plain.Body.Len()/2 {
		t.Errorf("gzip bundle: %d %q %d bytes", gz.Code, gz.Header().Get("Content-Encoding"), gz.Body.Len())
	}
	if refused := get("/docs/swagger-ui.css", "Accept-Encoding", "gzip;q=0"); refused.Header().Get("Content-Encoding") != "" {
		t.Errorf("gzip;q=0 must not get gzip")
	}
	if rec := get("/docs/swagger-ui.css", "If-None-Match", get("/docs/swagger-ui.css").Header().Get("ETag")); rec.Code != http.StatusNotModified {
		t.Errorf("revalidation: %d", rec.Code)
	}
	// The two encodings are two representations, each with its own ETag.
	plainTag, gzTag := plain.Header().Get("ETag"), gz.Header().Get("ETag")
	if plainTag == "" || plainTag == gzTag {
		t.Errorf("identity and gzip share the ETag %q", plainTag)
	}
	if rec := get("/docs/swagger-ui-bundle.js", "If-None-Match", gzTag, "Accept-Encoding", "gzip"); rec.Code != http.StatusNotModified {
		t.Errorf("gzip revalidation: %d", rec.Code)
	}
	if rec := get("/docs/swagger-ui-bundle.js", "If-None-Match", gzTag); rec.Code != http.StatusOK {
		t.Errorf("the gzip ETag revalidated the identity representation: %d", rec.Code)
	}
	for _, missing := range []string{"/docs/swagger-ui-bundle.js.map", "/docs/../go.mod", "/docs/index.html"} {
		if rec := get(missing); rec.Code != 404 || rec.Header().Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s: %d", missing, rec.Code)
		}
	}

	// Under another page name, the asset URLs follow it.
	other := httptest.NewRecorder()
	Handler("x", "/reference", "openapi.json").ServeHTTP(other, httptest.NewRequest("GET", "/reference", nil))
	if !strings.Contains(other.Body.String(), `src="reference/swagger-ui-bundle.js"`) {
		t.Errorf("asset path does not follow the page: %s", other.Body)
	}
}

package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/typedapi/typedapi/config"
	"github.com/typedapi/typedapi/internal/lambdalocal"
	"github.com/typedapi/typedapi/internal/serve"
	"github.com/typedapi/typedapi/models"
)

// Fuzz targets for what a client controls: the body of each operation that
// takes one, and the whole Lambda event. Seeds are the bodies of the
// hostile-input suite and real events of every front door. scripts/fuzz
// runs each for a bounded time; a crasher lands in testdata/fuzz and then
// runs as a regular test case with `go test`.

func fuzzHandler(f *testing.F) (http.Handler, string) {
	f.Helper()
	cfg, err := config.Load("", func(string) string { return "" })
	if err != nil {
		f.Fatal(err)
	}
	h, _, err := newAPI(cfg, func(string) string { return "" }, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	if err != nil {
		f.Fatal(err)
	}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("POST", "/v1/items", strings.NewReader(okBody))
	req.Header.Set("Content-Type", jsonCT)
	h.ServeHTTP(rec, req)
	if rec.Code != 201 {
		f.Fatalf("seed item: %d", rec.Code)
	}
	return h, strings.TrimPrefix(rec.Header().Get("Location"), "/v1/items/")
}

func seedBodies(f *testing.F, method string) {
	f.Add([]byte(okBody))
	f.Add([]byte(`{"name":"Cup","description":"80 ml","price":1250,"currency":"EUR","tags":["kitchen","porcelain"]}`))
	for _, c := range badInputs {
		if c.method == method && c.body != "" && len(c.body) < 4096 {
			f.Add([]byte(c.body))
		}
	}
}

// checkBodyAnswer: never a 5xx; a rejection is a problem; an accepted item
// obeys every rule the schema and checkText promise.
func checkBodyAnswer(t *testing.T, rec *httptest.ResponseRecorder, body []byte) {
	t.Helper()
	if rec.Code >= 500 {
		t.Fatalf("status %d for body %q: %s", rec.Code, body, rec.Body.Bytes())
	}
	if rec.Code >= 400 {
		if ct := rec.Header().Get("Content-Type"); ct != problemCT {
			t.Fatalf("status %d with Content-Type %q", rec.Code, ct)
		}
		return
	}
	var it models.Item
	if err := json.Unmarshal(rec.Body.Bytes(), &it); err != nil {
		t.Fatalf("accepted body %q answered with %s: %v", body, rec.Body.Bytes(), err)
	}
	n := utf8.RuneCountInString(it.Name)
	if n < 1 || n > 200 || it.Price < 0 || len(it.Tags) > 20 || len(it.Currency) != 3 {
		t.Fatalf("accepted an item that breaks the rules: %+v (body %q)", it, body)
	}
	texts := []string{it.Name}
	for _, tag := range it.Tags {
		texts = append(texts, string(tag))
	}
	for _, s := range texts {
		if !utf8.ValidString(s) || strings.IndexFunc(s, unicode.IsControl) >= 0 {
			t.Fatalf("accepted text %q (body %q)", s, body)
		}
	}
}

func fuzzBody(f *testing.F, method, contentType string) {
	h, id := fuzzHandler(f)
	seedBodies(f, method)
	target := "/v1/items"
	if method != "POST" {
		target += "/" + id
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest(method, target, strings.NewReader(string(body)))
		req.Header.Set("Content-Type", contentType)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		checkBodyAnswer(t, rec, body)
	})
}

func FuzzCreateItemBody(f *testing.F)  { fuzzBody(f, "POST", jsonCT) }
func FuzzReplaceItemBody(f *testing.F) { fuzzBody(f, "PUT", jsonCT) }
func FuzzPatchItemBody(f *testing.F)   { fuzzBody(f, "PATCH", patchCT) }

// FuzzLambdaEvent: any payload the runtime hands over is either refused
// as no HTTP event (ErrUnsupportedEvent) or as a malformed VPC Lattice
// event (LatticeEventError), or answered below 500; the handler never
// panics.
func FuzzLambdaEvent(f *testing.F) {
	h := newLambda(f, io.Discard, nil)
	for _, src := range append(lambdalocal.Sources, lambdalocal.LatticeSources...) {
		for _, r := range []lambdalocal.Request{
			{Source: src, Method: "GET", Target: "/v1/items?limit=2&tag=kitchen"},
			{Source: src, Method: "POST", Target: "/v1/items", Header: jsonHeader(), Body: []byte(okBody)},
			{Source: src, Method: "PATCH", Target: "/v1/items/01ARZ3NDEKTSV4RRFFQ69G5FAV", Header: http.Header{"Content-Type": {patchCT}}, Body: []byte("\xff{")},
		} {
			ev, err := lambdalocal.Build(r)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(ev)
		}
	}
	for _, s := range []string{``, `{}`, `null`, `{"httpMethod":"GET","requestContext":{}}`, `{"version":"2.0","rawPath":7}`,
		`{"targetGroupArn":1}`, `{"Records":[{"eventSource":"aws:sqs"}]}`, `{"raw_path":1}`, `{"version":"2.0","method":"GET","path":"//x"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		out, err := h.Invoke(context.Background(), payload)
		if err != nil {
			var shape serve.LatticeEventError
			if !errors.Is(err, serve.ErrUnsupportedEvent) && !errors.As(err, &shape) {
				t.Fatalf("error %v, want ErrUnsupportedEvent or a LatticeEventError", err)
			}
			return
		}
		var resp lambdaResponse
		if err := json.Unmarshal(out, &resp); err != nil {
			t.Fatalf("response is not JSON: %v: %.200s", err, out)
		}
		if resp.StatusCode < 200 || resp.StatusCode >= 500 {
			t.Fatalf("status %d: %.300s", resp.StatusCode, out)
		}
	})
}

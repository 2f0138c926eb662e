package main

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/typedapi/typedapi/internal/auth"
	"github.com/typedapi/typedapi/internal/auth/authtest"
)

// BenchmarkHTTPGetItemWithToken is BenchmarkHTTPGetItem with a bearer
// token from the test issuer verified on every request by the JWT
// verifier the server would use (the same token each time, as a client
// reuses its token): what verification adds to an authenticated GET.
// Compare with BenchmarkHTTPGetItem in the same run:
//
//	go test -run '^$' -bench 'HTTPGetItem' -benchmem -count 10 ./cmd/api | tee a.txt && benchstat a.txt
func BenchmarkHTTPGetItemWithToken(b *testing.B) {
	issuer, ok := authtest.Issuer(b)
	if !ok {
		b.Skip("no test issuer")
	}
	v, err := auth.NewJWT(auth.JWTOptions{Issuer: issuer, Audience: authtest.Audience, Logger: benchLogger()})
	if err != nil {
		b.Fatal(err)
	}
	api := benchHandler(b)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := v.Authenticate(r.Context(), r.Header.Values("Authorization"))
		if err != nil {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		api.ServeHTTP(w, r.WithContext(auth.WithCaller(r.Context(), c)))
	})
	path := "/v1/items/" + seed(b, api)
	header := "Bearer " + authtest.Token(b, issuer, authtest.Request{Subject: "alice", Scope: "items:write"})
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", path, nil)
		req.Header.Set("Authorization", header)
		h.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatal(rec.Code, rec.Body.String())
		}
	}
}

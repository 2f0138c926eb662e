package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/akrylysov/algnhsa"
	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/typedapi/typedapi/internal/itemid"
	"github.com/typedapi/typedapi/internal/lambdalocal"
	"github.com/typedapi/typedapi/internal/serve"
	"github.com/typedapi/typedapi/models"
	"github.com/typedapi/typedapi/store/memory"
)

// BenchmarkInvokeFloor measures one HTTP API (payload v2) event from bytes
// to response bytes through our Lambda handler, beside two floors that do
// the same work by hand on the same memory store in the same run:
//
//   - impl=handparsed: what a team writes today, an aws-lambda-go handler
//     taking events.APIGatewayV2HTTPRequest, routing and validating by
//     hand, called through lambda.NewHandler(...).Invoke so the JSON decode
//     and encode count;
//
//   - impl=algnhsa: a net/http mux with the same hand validation behind
//     algnhsa with its default options.
//
// impl=serve-mux is our Lambda glue around that same mux: the difference
// to impl=algnhsa is what serve adds, the difference to impl=typedapi is
// what the API (Huma, middleware, access log) adds.
//
//	go test -run '^$' -bench InvokeFloor -benchmem -count 6 ./cmd/api | tee floor.txt
//	benchstat -col /impl floor.txt
func BenchmarkInvokeFloor(b *testing.B) {
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "bench"})
	jsonHeader := http.Header{"Content-Type": {"application/json"}}
	ops := []struct {
		name   string
		req    lambdalocal.Request
		status int
	}{
		{"get", lambdalocal.Request{Source: "http", Method: "GET", Target: "/v1/items/{id}"}, 200},
		{"create", lambdalocal.Request{Source: "http", Method: "POST", Target: "/v1/items", Header: jsonHeader, Body: []byte(benchBody)}, 201},
		{"invalid", lambdalocal.Request{Source: "http", Method: "POST", Target: "/v1/items", Header: jsonHeader, Body: []byte(`{"name":"","price":-1,"currency":"EUR"}`)}, 422},
	}
	impls := []struct {
		name string
		make func(b *testing.B) (lambda.Handler, string) // handler and a seeded item's id
	}{
		{"typedapi", func(b *testing.B) (lambda.Handler, string) {
			h := lambdaBenchHandler(b)
			return serve.NewLambdaHandler(h, serve.LambdaOptions{Logger: benchLogger()}), seed(b, h)
		}},
		{"handparsed", func(b *testing.B) (lambda.Handler, string) {
			f := newFloor(b)
			return lambda.NewHandler(f.handleEvent), f.seedID
		}},
		{"algnhsa", func(b *testing.B) (lambda.Handler, string) {
			f := newFloor(b)
			return algnhsa.New(f.mux(), nil), f.seedID
		}},
		// Not a floor: the reference the issue quotes (bare Huma behind
		// algnhsa with default options), to tell what our glue and middleware
		// cost beside it.
		{"huma-algnhsa", func(b *testing.B) (lambda.Handler, string) {
			f := newFloor(b)
			return bareHuma(f), f.seedID
		}},
		// Not a floor: our Lambda glue (serve) around the hand-written mux,
		// to tell what the glue costs from what the API behind it costs.
		{"serve-mux", func(b *testing.B) (lambda.Handler, string) {
			f := newFloor(b)
			return serve.NewLambdaHandler(f.mux(), serve.LambdaOptions{Logger: benchLogger()}), f.seedID
		}},
	}
	for _, op := range ops {
		for _, impl := range impls {
			b.Run("op="+op.name+"/impl="+impl.name, func(b *testing.B) {
				h, id := impl.make(b)
				req := op.req
				req.Target = strings.Replace(req.Target, "{id}", id, 1)
				ev, err := lambdalocal.Build(req)
				if err != nil {
					b.Fatal(err)
				}
				want := []byte(`{"statusCode":` + strconv.Itoa(op.status) + `,`)
				b.ReportAllocs()
				for b.Loop() {
					out, err := h.Invoke(ctx, ev)
					if err != nil || !bytes.HasPrefix(out, want) {
						b.Fatalf("%v %.200s", err, out)
					}
				}
			})
		}
	}
}

// floor is the hand-written API the floors share: the same routes, rules
// and store as ours, without a framework.
type floor struct {
	store  *memory.Store
	seedID string
}

func newFloor(b *testing.B) *floor {
	f := &floor{store: memory.New()}
	status, body, _ := f.create(context.Background(), []byte(benchBody))
	if status != http.StatusCreated {
		b.Fatalf("seed: %d %s", status, body)
	}
	var it models.Item
	if err := json.Unmarshal(body, &it); err != nil {
		b.Fatal(err)
	}
	f.seedID = it.ID
	return f
}

var currencyRe = regexp.MustCompile(`^[A-Z]{3}$`)

type fieldError struct {
	Location string `json:"location"`
	Message  string `json:"message"`
}

type floorProblem struct {
	Title  string       `json:"title"`
	Status int          `json:"status"`
	Errors []fieldError `json:"errors,omitempty"`
}

// validate checks the same rules the models' tags state, by hand.
func validate(f models.ItemFields) []fieldError {
	var errs []fieldError
	if n := utf8.RuneCountInString(f.Name); n < 1 || n > 200 {
		errs = append(errs, fieldError{"body.name", "expected length 1 to 200"})
	}
	if utf8.RuneCountInString(f.Description) > 2000 {
		errs = append(errs, fieldError{"body.description", "expected length at most 2000"})
	}
	if f.Price < 0 || f.Price > models.MaxSafePrice {
		errs = append(errs, fieldError{"body.price", "expected number >= 0"})
	}
	if !currencyRe.MatchString(f.Currency) {
		errs = append(errs, fieldError{"body.currency", "expected an ISO 4217 code"})
	}
	if len(f.Tags) > 20 {
		errs = append(errs, fieldError{"body.tags", "expected at most 20 items"})
	}
	seen := make(map[models.Tag]bool, len(f.Tags))
	for i, t := range f.Tags {
		if n := utf8.RuneCountInString(string(t)); n < 1 || n > 50 || seen[t] {
			errs = append(errs, fieldError{"body.tags[" + strconv.Itoa(i) + "]", "expected a unique tag of 1 to 50 characters"})
		}
		seen[t] = true
	}
	return errs
}

func problem(status int, errs []fieldError) []byte {
	b, _ := json.Marshal(floorProblem{Title: http.StatusText(status), Status: status, Errors: errs})
	return b
}

// create answers POST /v1/items: status, body and the Location (on 201).
func (f *floor) create(ctx context.Context, body []byte) (int, []byte, string) {
	var in models.ItemFields
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return http.StatusBadRequest, problem(http.StatusBadRequest, nil), ""
	}
	if errs := validate(in); len(errs) > 0 {
		return http.StatusUnprocessableEntity, problem(http.StatusUnprocessableEntity, errs), ""
	}
	in.Normalize()
	now := time.Now().UTC()
	it := models.Item{ID: itemid.New(now), ItemFields: in, CreatedAt: now, UpdatedAt: now, Version: 1}
	stored, _, err := f.store.Create(ctx, it, nil)
	if err != nil {
		return http.StatusInternalServerError, problem(http.StatusInternalServerError, nil), ""
	}
	out, _ := json.Marshal(stored)
	return http.StatusCreated, out, "/v1/items/" + stored.ID
}

// get answers GET /v1/items/{id}: status, body and the ETag (on 200).
func (f *floor) get(ctx context.Context, id string) (int, []byte, string) {
	it, err := f.store.Get(ctx, id)
	if errors.Is(err, models.ErrNotFound) {
		return http.StatusNotFound, problem(http.StatusNotFound, nil), ""
	}
	if err != nil {
		return http.StatusInternalServerError, problem(http.StatusInternalServerError, nil), ""
	}
	out, _ := json.Marshal(it)
	return http.StatusOK, out, it.ETag()
}

func contentType(status int) string {
	if status >= 400 {
		return "application/problem+json"
	}
	return "application/json"
}

// handleEvent is the hand-parsed Lambda handler.
func (f *floor) handleEvent(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	method, path := ev.RequestContext.HTTP.Method, ev.RawPath
	var status int
	var body []byte
	headers := map[string]string{}
	switch {
	case method == http.MethodPost && path == "/v1/items":
		if ct := ev.Headers["content-type"]; ct != "application/json" {
			status, body = http.StatusUnsupportedMediaType, problem(http.StatusUnsupportedMediaType, nil)
			break
		}
		var loc string
		status, body, loc = f.create(ctx, []byte(ev.Body))
		if loc != "" {
			headers["Location"] = loc
		}
	case method == http.MethodGet && strings.HasPrefix(path, "/v1/items/"):
		var etag string
		status, body, etag = f.get(ctx, strings.TrimPrefix(path, "/v1/items/"))
		if etag != "" {
			headers["ETag"] = etag
		}
	default:
		status, body = http.StatusNotFound, problem(http.StatusNotFound, nil)
	}
	headers["Content-Type"] = contentType(status)
	return events.APIGatewayV2HTTPResponse{StatusCode: status, Headers: headers, Body: string(body)}, nil
}

// mux is the same API as a plain net/http handler.
func (f *floor) mux() http.Handler {
	mux := http.NewServeMux()
	write := func(w http.ResponseWriter, status int, body []byte) {
		w.Header().Set("Content-Type", contentType(status))
		w.WriteHeader(status)
		_, _ = w.Write(body)
	}
	mux.HandleFunc("POST /v1/items", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Content-Type") != "application/json" {
			write(w, http.StatusUnsupportedMediaType, problem(http.StatusUnsupportedMediaType, nil))
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			write(w, http.StatusRequestEntityTooLarge, problem(http.StatusRequestEntityTooLarge, nil))
			return
		}
		status, out, loc := f.create(r.Context(), body)
		if loc != "" {
			w.Header().Set("Location", loc)
		}
		write(w, status, out)
	})
	mux.HandleFunc("GET /v1/items/{id}", func(w http.ResponseWriter, r *http.Request) {
		status, out, etag := f.get(r.Context(), r.PathValue("id"))
		if etag != "" {
			w.Header().Set("ETag", etag)
		}
		write(w, status, out)
	})
	return mux
}

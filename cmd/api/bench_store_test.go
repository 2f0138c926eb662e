package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/typedapi/typedapi/config"
)

// Benchmarks of GET and POST through the complete HTTP handler on each
// store: memory, and DynamoDB Local when the test command started it.
//
//	eval "$(scripts/dynamodb-local start)"
//	go test -run '^$' -bench BenchmarkStore -benchmem -count 6 ./cmd/api | tee store.txt && benchstat store.txt

func storeBenchEnvs(b *testing.B) map[string]map[string]string {
	envs := map[string]map[string]string{"memory": {}}
	endpoint := os.Getenv("TYPEDAPI_TEST_DYNAMODB_ENDPOINT")
	if endpoint == "" {
		b.Log("DynamoDB Local not running: memory only")
		return envs
	}
	env := map[string]string{
		"TYPEDAPI_STORE":             "dynamodb",
		"TYPEDAPI_DYNAMODB_ENDPOINT": endpoint,
		"TYPEDAPI_DYNAMODB_TABLE":    fmt.Sprintf("bench-%d", time.Now().UnixNano()),
		"TYPEDAPI_DYNAMODB_REGION":   "us-east-1",
	}
	if err := run(context.Background(), []string{"table", "create"}, func(k string) string { return env[k] }, nil, io.Discard, io.Discard); err != nil {
		b.Fatalf("table create: %v", err)
	}
	envs["dynamodb"] = env
	return envs
}

func storeHandler(b *testing.B, env map[string]string) http.Handler {
	cfg, err := config.Load("", func(k string) string { return env[k] })
	if err != nil {
		b.Fatal(err)
	}
	h, _, err := newAPI(cfg, func(k string) string { return env[k] }, benchLogger())
	if err != nil {
		b.Fatal(err)
	}
	return h
}

func BenchmarkStoreGet(b *testing.B) {
	for name, env := range storeBenchEnvs(b) {
		b.Run(name, func(b *testing.B) { benchGet(b, storeHandler(b, env)) })
	}
}

func BenchmarkStoreCreate(b *testing.B) {
	for name, env := range storeBenchEnvs(b) {
		b.Run(name, func(b *testing.B) { benchCreate(b, storeHandler(b, env)) })
	}
}

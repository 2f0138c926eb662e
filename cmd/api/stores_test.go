package main

import (
	"context"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/typedapi/typedapi/store/storetest"
)

// storeEnvs are the configurations the end-to-end tests repeat under: the
// memory store always, and DynamoDB Local when the test command started it
// (TYPEDAPI_TEST_DYNAMODB_ENDPOINT). Under CI a missing DynamoDB Local is a
// failure, never a silent skip.
func storeEnvs(t *testing.T) map[string]map[string]string {
	t.Helper()
	envs := map[string]map[string]string{"memory": nil}
	endpoint, ok := storetest.DynamoDBLocal(t)
	if !ok {
		return envs // the memory store only
	}
	env := map[string]string{
		"TYPEDAPI_STORE":             "dynamodb",
		"TYPEDAPI_DYNAMODB_ENDPOINT": endpoint,
		"TYPEDAPI_DYNAMODB_TABLE":    fmt.Sprintf("e2e-%s-%d", sanitize(t.Name()), time.Now().UnixNano()),
		"TYPEDAPI_DYNAMODB_REGION":   "us-east-1",
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := run(ctx, []string{"table", "create"}, func(k string) string { return env[k] }, nil, io.Discard, io.Discard); err != nil {
		t.Fatalf("api table create: %v", err)
	}
	envs["dynamodb"] = env
	return envs
}

func sanitize(name string) string {
	out := []byte{}
	for i := 0; i < len(name) && len(out) < 40; i++ {
		c := name[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			out = append(out, c)
		}
	}
	return string(out)
}

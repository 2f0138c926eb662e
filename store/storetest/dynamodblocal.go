package storetest

import (
	"os"
	"testing"
)

// DynamoDBLocal returns the endpoint of the DynamoDB Local that the test
// command starts (scripts/dynamodb-local, in TYPEDAPI_TEST_DYNAMODB_ENDPOINT)
// and true. Without one it returns false, and the caller skips or narrows
// its test; under CI it fails the test instead, since there a test that
// quietly did not run would hide exactly what it exists to show.
func DynamoDBLocal(t testing.TB) (string, bool) {
	t.Helper()
	if ep := os.Getenv("TYPEDAPI_TEST_DYNAMODB_ENDPOINT"); ep != "" {
		return ep, true
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("TYPEDAPI_TEST_DYNAMODB_ENDPOINT is not set under CI: scripts/test starts DynamoDB Local (scripts/dynamodb-local)")
	}
	t.Log("DynamoDB Local is not running (TYPEDAPI_TEST_DYNAMODB_ENDPOINT unset); run: eval \"$(scripts/dynamodb-local start)\"")
	return "", false
}

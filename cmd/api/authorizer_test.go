package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/typedapi/typedapi/internal/auth/authtest"
	"github.com/typedapi/typedapi/internal/lambdalocal"
	"github.com/typedapi/typedapi/internal/lambdatest"
)

// TestAuthorizerBinary: the bootstrap with lambda_handler=authorizer, under
// the Runtime Interface Emulator, is a REST API TOKEN authorizer: a token
// of the issuer gets an Allow for the stage and the caller in its context,
// a bad one the gateway's "Unauthorized" (401), and the process lives on.
// The context it returns, put in a REST event the way API Gateway does,
// makes the API function (auth_mode=gateway) act for that caller without
// verifying the token again: its scopes decide, an order is the caller's.
func TestAuthorizerBinary(t *testing.T) {
	issuer, ok := authtest.Issuer(t)
	if !ok {
		t.Skip("no test issuer")
	}
	rie, err := lambdatest.FindEmulator()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	bootstrap := filepath.Join(t.TempDir(), "bootstrap")
	if err := lambdatest.BuildBootstrap(ctx, "../..", "./cmd/api", bootstrap, lambdatest.DefaultTags); err != nil {
		t.Fatal(err)
	}
	em, err := lambdatest.Start(ctx, lambdatest.Options{Emulator: rie, Bootstrap: bootstrap, Env: []string{
		"TYPEDAPI_LAMBDA_HANDLER=authorizer", "TYPEDAPI_AUTH_ISSUER=" + issuer, "TYPEDAPI_AUTH_AUDIENCE=" + authtest.Audience,
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer em.Close()
	authorize := func(header string) (events.APIGatewayCustomAuthorizerResponse, string) {
		t.Helper()
		ev, _ := json.Marshal(events.APIGatewayCustomAuthorizerRequest{Type: "TOKEN", AuthorizationToken: header,
			MethodArn: "arn:aws:execute-api:eu-west-1:123456789012:abc123defg/prod/POST/v2/v1/orders"})
		status, body, err := em.Invoke(ctx, ev)
		if err != nil || status != 200 {
			t.Fatalf("invoke: %d %s %v\n%s", status, body, err, em.Output())
		}
		var out struct {
			events.APIGatewayCustomAuthorizerResponse
			ErrorMessage string `json:"errorMessage"`
		}
		if err := json.Unmarshal(body, &out); err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		return out.APIGatewayCustomAuthorizerResponse, out.ErrorMessage
	}

	for _, bad := range authtest.BadTokens(t, issuer) {
		if resp, errMsg := authorize("Bearer " + bad.Token); errMsg != "Unauthorized" || len(resp.PolicyDocument.Statement) != 0 {
			t.Errorf("%s: error %q, policy %+v; want Unauthorized and none", bad.Name, errMsg, resp.PolicyDocument)
		}
	}
	token := authtest.Token(t, issuer, authtest.Request{Subject: "erin"}) // a customer: no scopes
	resp, errMsg := authorize("Bearer " + token)
	if errMsg != "" || resp.PrincipalID != "erin" || len(resp.PolicyDocument.Statement) != 1 ||
		resp.PolicyDocument.Statement[0].Effect != "Allow" ||
		resp.PolicyDocument.Statement[0].Resource[0] != "arn:aws:execute-api:eu-west-1:123456789012:abc123defg/prod/*" {
		t.Fatalf("valid token: %+v %q\n%s", resp, errMsg, em.Output())
	}
	if strings.Contains(em.Output(), token) || strings.Contains(em.Output(), token[strings.LastIndexByte(token, '.')+1:]) {
		t.Error("the authorizer's log holds the token")
	}

	staff, errMsg := authorize("Bearer " + authtest.Token(t, issuer, authtest.Request{Subject: "sam", Scope: "items:write"}))
	if errMsg != "" || staff.Context["scope"] != "items:write" {
		t.Fatalf("staff token: %+v %q", staff, errMsg)
	}

	// API Gateway passes the context on in requestContext.authorizer, with
	// principalId, and no token is verified again by the function.
	api := newLambda(t, io.Discard, map[string]string{"TYPEDAPI_AUTH_MODE": "gateway"})
	viaGateway := func(as events.APIGatewayCustomAuthorizerResponse, method, target, body string) lambdaResponse {
		t.Helper()
		ev, err := lambdalocal.Build(lambdalocal.Request{Source: "rest", Method: method, Target: target,
			Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(body)})
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(ev, &m); err != nil {
			t.Fatal(err)
		}
		authorizer := map[string]any{"principalId": as.PrincipalID, "integrationLatency": 12}
		for k, v := range as.Context {
			authorizer[k] = v
		}
		m["requestContext"].(map[string]any)["authorizer"] = authorizer
		ev, _ = json.Marshal(m)
		return invokeRaw(t, api, ev)
	}
	item := `{"name":"Tea","price":350,"currency":"EUR"}`
	if r := viaGateway(resp, "POST", "/v1/items", item); r.StatusCode != 403 {
		t.Errorf("create item without items:write: %d %s", r.StatusCode, r.Body)
	}
	created := viaGateway(staff, "POST", "/v1/items", item)
	var it struct{ ID string }
	if created.StatusCode != 201 || json.Unmarshal([]byte(created.Body), &it) != nil {
		t.Fatalf("create item with items:write: %d %s", created.StatusCode, created.Body)
	}
	order := viaGateway(resp, "POST", "/v1/orders", `{"item_id":"`+it.ID+`","quantity":2}`)
	if order.StatusCode != 201 || !strings.Contains(order.Body, `"owner":"erin"`) {
		t.Fatalf("create order as erin through the authorizer's context: %d %s", order.StatusCode, order.Body)
	}
}

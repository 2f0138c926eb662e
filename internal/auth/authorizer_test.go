package auth_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/typedapi/typedapi/internal/auth"
	"github.com/typedapi/typedapi/internal/auth/authtest"
)

const methodArn = "arn:aws:execute-api:eu-west-1:123456789012:abc123defg/prod/POST/v2/v1/orders"

func tokenRequest(token string) events.APIGatewayCustomAuthorizerRequest {
	return events.APIGatewayCustomAuthorizerRequest{Type: "TOKEN", AuthorizationToken: token, MethodArn: methodArn}
}

// TestLambdaAuthorizer: the REST API's TOKEN authorizer allows a token the
// issuer signed for us, for every method of the stage, with the caller in
// the context; every bad token of issue 16's table is the gateway's 401.
func TestLambdaAuthorizer(t *testing.T) {
	issuer, ok := authtest.Issuer(t)
	if !ok {
		t.Skip("no test issuer")
	}
	a := auth.LambdaAuthorizer{Verifier: newVerifier(t, auth.JWTOptions{Issuer: issuer}), Logger: quietLogger()}

	token := authtest.Token(t, issuer, authtest.Request{Subject: "alice", Scope: "typedapi/orders:fulfil typedapi/items:write"})
	resp, err := a.Handle(context.Background(), tokenRequest("Bearer "+token))
	if err != nil {
		t.Fatalf("valid token: %v", err)
	}
	st := resp.PolicyDocument.Statement
	if resp.PrincipalID != "alice" || len(st) != 1 || st[0].Effect != "Allow" ||
		strings.Join(st[0].Resource, ",") != "arn:aws:execute-api:eu-west-1:123456789012:abc123defg/prod/*" ||
		strings.Join(st[0].Action, ",") != "execute-api:Invoke" {
		t.Errorf("response = %+v", resp)
	}
	// Scopes as the issuer wrote them: the function strips a prefix itself.
	if resp.Context["sub"] != "alice" || resp.Context["scope"] != "typedapi/orders:fulfil typedapi/items:write" {
		t.Errorf("context = %v", resp.Context)
	}

	refused := append(authtest.BadTokens(t, issuer),
		authtest.BadToken{Name: "no bearer scheme", Token: ""},
	)
	for _, c := range refused {
		t.Run(c.Name, func(t *testing.T) {
			header := "Bearer " + c.Token
			if c.Token == "" {
				header = "Basic YWxhZGRpbjpvcGVuc2VzYW1l"
			}
			resp, err := a.Handle(context.Background(), tokenRequest(header))
			if !errors.Is(err, auth.ErrUnauthorized) || err.Error() != "Unauthorized" {
				t.Fatalf("err = %v, want the gateway's exact \"Unauthorized\"", err)
			}
			if resp.PrincipalID != "" || len(resp.PolicyDocument.Statement) != 0 {
				t.Errorf("a refused token got a policy: %+v", resp)
			}
		})
	}
}

// TestLambdaAuthorizerRefusesWhatIsNotItsRequest: another request type or a
// method ARN that is not one is an invocation error (the gateway's 500),
// never an Allow.
func TestLambdaAuthorizerRefusesWhatIsNotItsRequest(t *testing.T) {
	issuer, ok := authtest.Issuer(t)
	if !ok {
		t.Skip("no test issuer")
	}
	a := auth.LambdaAuthorizer{Verifier: newVerifier(t, auth.JWTOptions{Issuer: issuer}), Logger: quietLogger()}
	good := "Bearer " + authtest.Token(t, issuer, authtest.Request{Subject: "alice"})
	for name, req := range map[string]events.APIGatewayCustomAuthorizerRequest{
		"REQUEST type":     {Type: "REQUEST", AuthorizationToken: good, MethodArn: methodArn},
		"empty method ARN": {Type: "TOKEN", AuthorizationToken: good},
		"no stage":         {Type: "TOKEN", AuthorizationToken: good, MethodArn: "arn:aws:execute-api:eu-west-1:123456789012:abc123defg"},
		"another service":  {Type: "TOKEN", AuthorizationToken: good, MethodArn: "arn:aws:s3:eu-west-1:123456789012:bucket/prod/GET/"},
		"wildcard stage":   {Type: "TOKEN", AuthorizationToken: good, MethodArn: "arn:aws:execute-api:eu-west-1:123456789012:abc123defg/*/GET/"},
	} {
		t.Run(name, func(t *testing.T) {
			resp, err := a.Handle(context.Background(), req)
			if err == nil || errors.Is(err, auth.ErrUnauthorized) || len(resp.PolicyDocument.Statement) != 0 {
				t.Fatalf("err = %v, resp = %+v; want an invocation error and no policy", err, resp)
			}
		})
	}
}

// TestLambdaAuthorizerOutage: a token whose key cannot be fetched is not a
// 401 (the token may be good) but an invocation error.
func TestLambdaAuthorizerOutage(t *testing.T) {
	issuer, ok := authtest.Issuer(t)
	if !ok {
		t.Skip("no test issuer")
	}
	proxy := newIssuerProxy(t, issuer)
	proxy.down.Store(true)
	a := auth.LambdaAuthorizer{Verifier: newVerifier(t, auth.JWTOptions{Issuer: issuer, JWKSURL: proxy.URL + "/jwks",
		FetchTimeout: 5 * time.Second}), Logger: quietLogger()}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	_, err = a.Handle(context.Background(), tokenRequest("Bearer "+authtest.SignedLocally(t, key, "k", authtest.ValidClaims(issuer))))
	if err == nil || errors.Is(err, auth.ErrUnauthorized) {
		t.Fatalf("err = %v, want an invocation error other than Unauthorized", err)
	}
}

package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// ErrUnauthorized is what a Lambda authorizer returns to have API Gateway
// answer 401: the gateway matches this exact message.
var ErrUnauthorized = errors.New("Unauthorized") //nolint:staticcheck // ST1005: API Gateway reads this exact text

// LambdaAuthorizer is an API Gateway REST API TOKEN authorizer: the gateway
// sends it the Authorization header of requests to protected methods and
// caches its answer per token. A REST API has no JWT authorizer for an
// arbitrary OIDC issuer; this one verifies with the same Authenticator the
// service uses, so a token is judged alike at the gateway and in the app.
//
// A verified token gets an Allow policy for every method of the stage (the
// answer is cached per token, not per method, so a policy for one method
// would refuse the next) and a context with "sub" and "scope": the function
// behind the gateway (auth_mode=gateway) reads them as the caller and checks
// each operation's scopes itself. Scopes are passed as the issuer wrote them.
type LambdaAuthorizer struct {
	Verifier Authenticator
	Logger   *slog.Logger
}

// Handle answers one authorizer request. A refused token is ErrUnauthorized
// (401 from the gateway); keys that cannot be fetched are another error,
// which the gateway answers 500: it has no 503 for an authorizer.
func (a LambdaAuthorizer) Handle(ctx context.Context, req events.APIGatewayCustomAuthorizerRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
	var none events.APIGatewayCustomAuthorizerResponse
	if req.Type != "TOKEN" {
		return none, fmt.Errorf("auth: want a TOKEN authorizer request, got type %q", req.Type)
	}
	resource, err := stageResource(req.MethodArn)
	if err != nil {
		return none, err
	}
	c, err := a.Verifier.Authenticate(ctx, []string{req.AuthorizationToken})
	if err != nil {
		if errors.Is(err, ErrUnavailable) {
			a.Logger.ErrorContext(ctx, "authorizer: token keys unavailable", "error", err.Error())
			return none, errors.New("auth: token keys unavailable")
		}
		a.Logger.InfoContext(ctx, "authorizer: token refused", "reason", err.Error())
		return none, ErrUnauthorized
	}
	return events.APIGatewayCustomAuthorizerResponse{
		PrincipalID: c.Subject,
		PolicyDocument: events.APIGatewayCustomAuthorizerPolicy{
			Version: "2012-10-17",
			Statement: []events.IAMPolicyStatement{{
				Action: []string{"execute-api:Invoke"}, Effect: "Allow", Resource: []string{resource},
			}},
		},
		Context: map[string]any{"sub": c.Subject, "scope": strings.Join(c.Scopes, " ")},
	}, nil
}

// stageResource turns a method ARN,
// arn:aws:execute-api:REGION:ACCOUNT:API/STAGE/METHOD/PATH, into the ARN of
// every method of its stage, arn:aws:execute-api:REGION:ACCOUNT:API/STAGE/*.
func stageResource(methodArn string) (string, error) {
	arn, rest, ok := strings.Cut(methodArn, "/")
	stage, _, _ := strings.Cut(rest, "/")
	if !ok || stage == "" || !strings.HasPrefix(arn, "arn:") || strings.Count(arn, ":") != 5 ||
		!strings.Contains(arn, ":execute-api:") || strings.ContainsAny(stage, "*?") {
		return "", fmt.Errorf("auth: authorizer request: %q is not an execute-api method ARN", methodArn)
	}
	return arn + "/" + stage + "/*", nil
}

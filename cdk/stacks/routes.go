package stacks

import (
	"fmt"
	"regexp"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// SpecRoutesProps say where the spec's operations become routes.
type SpecRoutesProps struct {
	Api         awsapigatewayv2.IHttpApi
	Integration awsapigatewayv2.HttpRouteIntegration
	// Authorizer guards the protected operations; Auth names their scopes
	// as the issuer writes them.
	Authorizer awsapigatewayv2.IHttpRouteAuthorizer
	Auth       Auth
	// Prefix goes before every path ("" at the root; /v2 when mounted).
	Prefix string
}

// SpecRoute is one operation's route.
type SpecRoute struct {
	Operation Operation
	Route     awsapigatewayv2.HttpRoute
}

// AddSpecRoutes makes one route per operation of spec: METHOD /path with
// the operation's own method and path (Huma's {id} is API Gateway's syntax
// too). A protected operation's route carries the JWT authorizer and its
// scopes, so API Gateway refuses a missing or bad token, or one without
// the scope, before Lambda runs and bills. A public one carries none.
//
// What no route names (unknown paths and methods, CORS preflights) is left
// to a catch-all route of the caller's, without authorizer, so the app
// answers it: 404/405 problems, and preflights that carry no token.
func AddSpecRoutes(scope constructs.Construct, spec Spec, p SpecRoutesProps) []SpecRoute {
	routes := make([]SpecRoute, 0, len(spec.Operations))
	for _, op := range spec.Operations {
		path := p.Prefix + op.Path
		if p.Prefix != "" && op.Path == "/" {
			path = p.Prefix // the app serves its root at the bare prefix
		}
		props := &awsapigatewayv2.HttpRouteProps{
			HttpApi:     p.Api,
			RouteKey:    awsapigatewayv2.HttpRouteKey_With(jsii.String(path), awsapigatewayv2.HttpMethod(op.Method)),
			Integration: p.Integration,
		}
		if op.Protected {
			props.Authorizer = p.Authorizer
			if len(op.Scopes) > 0 {
				props.AuthorizationScopes = jsii.Strings(p.Auth.scopes(op.Scopes)...)
			}
		}
		route := awsapigatewayv2.NewHttpRoute(scope, jsii.String(routeID(op)), props)
		if !op.Protected {
			cdknag.NagSuppressions_AddResourceSuppressions(route, &[]*cdknag.NagPackSuppression{{
				Id: jsii.String("AwsSolutions-APIG4"),
				Reason: jsii.String(fmt.Sprintf("Public by the OpenAPI document: %s %s (%s) declares no required security.",
					op.Method, op.Path, op.ID)),
			}}, jsii.Bool(false)) // the route only, not the integration made in its scope
		}
		routes = append(routes, SpecRoute{Operation: op, Route: route})
	}
	return routes
}

// suppressCatchAll records why a catch-all route has no authorizer.
func suppressCatchAll(route constructs.IConstruct) {
	cdknag.NagSuppressions_AddResourceSuppressions(route, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-APIG4"),
		Reason: jsii.String("Catch-all for what no operation of the OpenAPI document names: unknown paths and methods " +
			"(the app's 404/405 problems) and CORS preflights, which carry no token. Every operation has its own " +
			"route; the app, in gateway mode, treats a request without authorizer claims as anonymous."),
	}}, jsii.Bool(false))
}

var idUnsafe = regexp.MustCompile(`[^A-Za-z0-9-]+`)

// routeID is a construct id for the operation's route: its operationId, or
// its method and path when it has none.
func routeID(op Operation) string {
	if op.ID != "" {
		return "Route-" + idUnsafe.ReplaceAllString(op.ID, "-")
	}
	return "Route-" + op.Method + idUnsafe.ReplaceAllString(op.Path, "-")
}

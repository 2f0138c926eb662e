package stacks

import (
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// PathMountProps say where to mount the app on an API that already exists.
// Set exactly one of HttpApi and RestApi; import them by id
// (awsapigatewayv2.HttpApi_FromHttpApiAttributes,
// awsapigateway.RestApi_FromRestApiAttributes) when another stack or the
// console owns them.
type PathMountProps struct {
	HttpApi awsapigatewayv2.IHttpApi
	RestApi awsapigateway.IRestApi
	// RestStageName is the existing REST stage to redeploy so the new
	// resources go live there. Empty: deploy the stage yourself (the owner
	// of the API usually does, on its next deployment).
	RestStageName string
	// Prefix such as /v2 or /api/v2: the app answers <Prefix> and
	// <Prefix>/{proxy+}, with TYPEDAPI_BASE_PATH set to the same.
	Prefix string
	// Function makes the app's function; its BasePath is set from Prefix,
	// its AuthMode from the kind of API.
	Function ApiFunctionProps
	// Spec and Auth make the routes: one per operation, protected ones
	// behind a gateway authorizer of Auth. On an HTTP API it is a JWT
	// authorizer (as NewServerlessStack); a REST API has none for an
	// arbitrary issuer, so there it is a TOKEN authorizer running the
	// app's own verifier (lambda_handler=authorizer).
	Spec Spec
	Auth Auth
}

// PathMount is the app mounted under a prefix of an existing API: the
// gradual migration path. Routes of that API outside the prefix, and their
// functions, are left as they are, and can move to the app one at a time.
type PathMount struct {
	constructs.Construct
	Function ApiFunction
	Routes   []SpecRoute  // on an HTTP API
	Methods  []RestMethod // on a REST API
}

// NewPathMount adds the app's function and its routes under Prefix to an
// existing HTTP API (payload 2.0) or REST API (Lambda proxy integration).
// On an HTTP API, each operation of Spec gets its route, protected ones
// behind a JWT authorizer, and <Prefix> and <Prefix>/{proxy+} catch the
// rest without one (404/405 problems, CORS preflights); the function trusts
// the authorizer's claims. On a REST API the same, with a method per
// operation behind a TOKEN authorizer (the app's bootstrap verifying the
// token), and ANY catch-alls (see addRestMethods).
// On a REST API, binary responses need the API's binary media types to
// list them ("*/*" for browsers); this construct cannot set them on an
// imported API. JSON, and the /docs page with its scripts, need nothing.
func NewPathMount(scope constructs.Construct, id string, props PathMountProps) PathMount {
	prefix, err := cleanPrefix(props.Prefix)
	if err != nil {
		panic(err)
	}
	if (props.HttpApi == nil) == (props.RestApi == nil) {
		panic("PathMount: set exactly one of HttpApi and RestApi")
	}
	auth := props.Auth.must()
	m := constructs.NewConstruct(scope, jsii.String(id))
	fnProps := props.Function
	fnProps.BasePath = prefix
	fnProps.Auth = auth

	if len(props.Spec.Operations) == 0 {
		panic("PathMount: Spec has no operations (ReadSpec(SpecFile(repoRoot)))")
	}
	if props.HttpApi != nil {
		fnProps.AuthMode = AuthModeGateway
		fn := NewApiFunction(m, "Api", fnProps)
		integration := lambdaIntegration(fn)
		for _, r := range []struct{ id, path string }{{"PrefixRoute", prefix}, {"ProxyRoute", prefix + "/{proxy+}"}} {
			route := awsapigatewayv2.NewHttpRoute(m, jsii.String(r.id), &awsapigatewayv2.HttpRouteProps{
				HttpApi:     props.HttpApi,
				RouteKey:    awsapigatewayv2.HttpRouteKey_With(jsii.String(r.path), awsapigatewayv2.HttpMethod_ANY),
				Integration: integration,
			})
			suppressCatchAll(route)
		}
		routes := AddSpecRoutes(m, props.Spec, SpecRoutesProps{
			Api: props.HttpApi, Integration: integration, Authorizer: newJwtAuthorizer(auth, prefix), Auth: auth, Prefix: prefix,
		})
		return PathMount{Construct: m, Function: fn, Routes: routes}
	}

	fnProps.AuthMode = AuthModeGateway
	fn := NewApiFunction(m, "Api", fnProps)
	integration := awsapigateway.NewLambdaIntegration(fn.Function, &awsapigateway.LambdaIntegrationOptions{Proxy: jsii.Bool(true)})
	resource := props.RestApi.Root()
	for _, segment := range strings.Split(strings.TrimPrefix(prefix, "/"), "/") {
		resource = resource.AddResource(jsii.String(segment), nil)
	}
	authorizer := newTokenAuthorizer(m, "TokenAuthorizer", fnProps.CodeDir, prefix, fnProps.FunctionOptions, auth)
	methods := addRestMethods(m, resource, props.Spec, integration, authorizer)
	if props.RestStageName != "" {
		// Imported REST APIs are not redeployed by CDK: without a new
		// deployment the stage keeps serving the old routes.
		deployment := awsapigateway.NewDeployment(m, jsii.String("Deployment"), &awsapigateway.DeploymentProps{
			Api:         props.RestApi,
			StageName:   jsii.String(props.RestStageName),
			Description: jsii.String("typedapi mounted under " + prefix),
		})
		for _, rm := range methods {
			deployment.Node().AddDependency(rm.Method)
		}
		deployment.Node().AddDependency(resource)
	}
	return PathMount{Construct: m, Function: fn, Methods: methods}
}

// cleanPrefix accepts /v2 or /api/v2 (also without the leading or with a
// trailing slash) and refuses what is no plain path: the same rule the
// app's base_path setting enforces.
func cleanPrefix(p string) (string, error) {
	trimmed := strings.Trim(p, "/")
	if trimmed == "" {
		return "", fmt.Errorf("PathMount: a prefix such as /v2 is required, got %q", p)
	}
	for _, seg := range strings.Split(trimmed, "/") {
		if seg == "" || seg == "." || seg == ".." || strings.ContainsAny(seg, "{}?#% +") {
			return "", fmt.Errorf("PathMount: prefix %q: want plain path segments such as /api/v2", p)
		}
	}
	return "/" + trimmed, nil
}

package stacks

import (
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// RestMethod is the REST API method made for one operation of the spec.
type RestMethod struct {
	Operation Operation
	Method    awsapigateway.Method
}

// addRestMethods mounts spec's operations under base, a resource of a REST
// API: one method per operation, protected ones behind authorizer, so API
// Gateway refuses a missing or bad token before the function runs. Every
// resource also gets ANY without an authorizer, and those without a path
// variable below them a {proxy+} with ANY, so what no operation names
// still reaches the app (its 404/405 problems, CORS preflights). The
// function behind them trusts the authorizer's context (auth_mode=gateway)
// and verifies the token itself when a request came the catch-all way.
func addRestMethods(scope constructs.Construct, base awsapigateway.IResource, spec Spec,
	integration awsapigateway.Integration, authorizer awsapigateway.IAuthorizer) []RestMethod {
	resources := map[string]awsapigateway.IResource{"": base}
	order := []string{""}
	resourceFor := func(path string) awsapigateway.IResource {
		cur, at := base, ""
		for _, part := range strings.Split(strings.Trim(path, "/"), "/") {
			if part == "" {
				continue
			}
			at += "/" + part
			if r, ok := resources[at]; ok {
				cur = r
				continue
			}
			cur = cur.AddResource(jsii.String(part), nil)
			resources[at] = cur
			order = append(order, at)
		}
		return cur
	}

	methods := make([]RestMethod, 0, len(spec.Operations))
	for _, op := range spec.Operations {
		opts := &awsapigateway.MethodOptions{OperationName: jsii.String(op.ID)}
		if op.Protected {
			opts.AuthorizationType = awsapigateway.AuthorizationType_CUSTOM
			opts.Authorizer = authorizer
		}
		m := resourceFor(op.Path).AddMethod(jsii.String(op.Method), integration, opts)
		if op.Protected {
			cdknag.NagSuppressions_AddResourceSuppressions(m, &[]*cdknag.NagPackSuppression{{
				Id: jsii.String("AwsSolutions-COG4"),
				Reason: jsii.String("A Lambda TOKEN authorizer running the app's own verifier checks the issuer's JWT " +
					"(JWKS, iss, aud or client_id, exp, nbf): any OIDC issuer, and Cognito access tokens alike, where a " +
					"Cognito authorizer on a method without scopes would demand ID tokens."),
			}}, jsii.Bool(false))
		} else {
			reason := jsii.String(fmt.Sprintf("Public by the OpenAPI document: %s %s (%s) declares no required security.",
				op.Method, op.Path, op.ID))
			cdknag.NagSuppressions_AddResourceSuppressions(m, &[]*cdknag.NagPackSuppression{
				{Id: jsii.String("AwsSolutions-APIG4"), Reason: reason},
				{Id: jsii.String("AwsSolutions-COG4"), Reason: reason},
			}, jsii.Bool(false))
		}
		methods = append(methods, RestMethod{Operation: op, Method: m})
	}

	hasVariableChild := func(path string) bool {
		for p := range resources {
			if strings.HasPrefix(p, path+"/{") && !strings.Contains(p[len(path)+1:], "/") {
				return true
			}
		}
		return false
	}
	for _, path := range order {
		r := resources[path]
		suppressRestCatchAll(r.AddMethod(jsii.String("ANY"), integration, nil))
		if !hasVariableChild(path) {
			proxy := r.AddProxy(&awsapigateway.ProxyResourceOptions{DefaultIntegration: integration, AnyMethod: jsii.Bool(true)})
			suppressRestCatchAll(proxy.AnyMethod())
		}
	}
	return methods
}

// suppressRestCatchAll records why a catch-all method has no authorizer.
func suppressRestCatchAll(c constructs.IConstruct) {
	reason := jsii.String("Catch-all for what no operation of the OpenAPI document names: unknown paths and methods " +
		"(the app's 404/405 problems) and CORS preflights, which carry no token. Every operation has its own method; " +
		"the app, in gateway mode, verifies the bearer token itself when a request brings no authorizer context.")
	cdknag.NagSuppressions_AddResourceSuppressions(c, &[]*cdknag.NagPackSuppression{
		{Id: jsii.String("AwsSolutions-APIG4"), Reason: reason},
		{Id: jsii.String("AwsSolutions-COG4"), Reason: reason},
	}, jsii.Bool(false)) // the method only, not its invoke permission
}

// newTokenAuthorizer is a REST API TOKEN authorizer for auth: the app's
// own bootstrap with lambda_handler=authorizer, in a function of its own
// whose role may write its log group and nothing else. API Gateway caches
// its answer per token for a minute, the longest a token is accepted past
// its expiry.
func newTokenAuthorizer(scope constructs.Construct, id, codeDir, prefix string, o FunctionOptions, auth Auth) awsapigateway.TokenAuthorizer {
	o = o.withDefaults()
	c := constructs.NewConstruct(scope, jsii.String(id))
	logGroup, role := newLogsAndRole(c, o, "typedapi token authorizer: its own log group only")
	env := auth.environment(AuthModeJWT)
	env["TYPEDAPI_LAMBDA_HANDLER"] = "authorizer"
	env["TYPEDAPI_LOG_FORMAT"] = "json"
	env["TYPEDAPI_LOG_LEVEL"] = o.LogLevel
	delete(env, "TYPEDAPI_AUTH_SCOPE_PREFIX") // scopes go on as written: the API function takes the prefix off
	fn := awslambda.NewFunction(c, jsii.String("Function"), &awslambda.FunctionProps{
		Description:  jsii.String("typedapi: verifies bearer tokens for the REST API (TOKEN authorizer)"),
		Runtime:      awslambda.Runtime_PROVIDED_AL2023(),
		Architecture: o.Arch.lambda(),
		Handler:      jsii.String("bootstrap"),
		Code:         awslambda.Code_FromAsset(jsii.String(codeDir), nil),
		MemorySize:   jsii.Number(256),
		Timeout:      awscdk.Duration_Seconds(jsii.Number(10)), // a JWKS fetch is bounded at 5s
		Environment:  stringMap(env),
		Role:         role,
		LogGroup:     logGroup,
	})
	fn.Node().AddDependency(role)
	return awsapigateway.NewTokenAuthorizer(c, jsii.String("Authorizer"), &awsapigateway.TokenAuthorizerProps{
		Handler:         fn,
		AuthorizerName:  jsii.String("typedapi" + strings.ReplaceAll(prefix, "/", "-")),
		IdentitySource:  awsapigateway.IdentitySource_Header(jsii.String("Authorization")),
		ResultsCacheTtl: awscdk.Duration_Minutes(jsii.Number(1)),
	})
}

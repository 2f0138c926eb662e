package stacks

import (
	"fmt"
	"maps"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2integrations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// ServerlessStackProps configure the Lambda deployment.
type ServerlessStackProps struct {
	awscdk.StackProps
	Function FunctionOptions
	Table    ItemsTableProps
	// CodeDir holds the bootstrap built for Function.Arch (BuildBootstrap).
	CodeDir string
	// Stage-wide throttling: steady requests per second and burst. A cap
	// on what a flood of requests can cost. Defaults 100 and 200.
	ThrottleRate  float64
	ThrottleBurst float64
	// CursorSecret keeps the key that signs list cursors in Secrets
	// Manager ($0.40 a month), making cursors unforgeable. Off, the stack
	// costs nothing at rest but table and log storage, and the app signs
	// with its built-in key: cursors still reject tampering, and forging one
	// only starts a listing at another item, which the client may list anyway.
	CursorSecret bool
	// Spec is the OpenAPI document's operations (ReadSpec(SpecFile(root))):
	// one route each, protected ones behind the JWT authorizer of Auth.
	Spec Spec
	Auth Auth
	// Observability: the dashboard, alarms and saved queries (observability.go).
	Observability ObservabilityOptions
	// StreamingURL, when set, adds a second function from the same code
	// behind a Function URL that streams its answers (README "Which front
	// door"). nil: the HTTP API only.
	StreamingURL *StreamingURLOptions
}

// StreamingURLOptions shape the streaming front door: a Function URL with
// invoke mode RESPONSE_STREAM and auth type NONE in front of a function of
// its own. Its own, because how a function is invoked (Invoke or
// InvokeWithResponseStream) is not in the event, so the function learns it
// from TYPEDAPI_LAMBDA_STREAM, one value per function. With no authorizer
// in front, the app verifies bearer tokens itself (TYPEDAPI_AUTH_MODE=jwt);
// IAM auth would take the Authorization header for SigV4.
type StreamingURLOptions struct {
	// Timeout is the streaming function's timeout, which is also the
	// longest a response may stream (TYPEDAPI_LAMBDA_STREAM_MAX_DURATION).
	// Default 5 minutes; Lambda allows up to 15.
	Timeout time.Duration
}

// ServerlessStack is the whole API on Lambda behind an HTTP API.
type ServerlessStack struct {
	awscdk.Stack
	Api      awsapigatewayv2.HttpApi
	Function ApiFunction
	Routes   []SpecRoute

	Observability *Observability

	// With StreamingURL: the streaming function and its Function URL.
	StreamFunction *ApiFunction
	StreamURL      awslambda.FunctionUrl
}

// NewServerlessStack makes the table, the function and an HTTP API with a
// route per operation of the spec, protected ones behind a JWT authorizer,
// and a $default route without one for everything else (the app's own
// 404/405 answers, CORS preflights). The function trusts the authorizer's
// claims (TYPEDAPI_AUTH_MODE=gateway): only this API invokes it.
func NewServerlessStack(scope constructs.Construct, id string, props *ServerlessStackProps) ServerlessStack {
	auth := props.Auth.must()
	if len(props.Spec.Operations) == 0 {
		panic("NewServerlessStack: Spec has no operations (ReadSpec(SpecFile(repoRoot)))")
	}
	stack := awscdk.NewStack(scope, jsii.String(id), &props.StackProps)

	table := NewItemsTable(stack, "Items", &props.Table)
	var secret awssecretsmanager.ISecret
	if props.CursorSecret {
		secret = newCursorSecret(stack)
	}
	fn := NewApiFunction(stack, "Api", ApiFunctionProps{
		FunctionOptions: props.Function,
		Table:           table,
		CodeDir:         props.CodeDir,
		CursorSecret:    secret,
		AuthMode:        AuthModeGateway,
		Auth:            auth,
	})

	integration := lambdaIntegration(fn)
	// No CorsPreflight: the app answers preflights (TYPEDAPI_CORS_ORIGINS)
	// through $default, so API Gateway must not answer them itself.
	api := awsapigatewayv2.NewHttpApi(stack, jsii.String("HttpApi"), &awsapigatewayv2.HttpApiProps{
		Description:        jsii.String("typedapi: a route per operation, all proxied to one Lambda function"),
		DefaultIntegration: integration,
	})
	suppressCatchAll(api.Node().FindChild(jsii.String("DefaultRoute")))
	routes := AddSpecRoutes(api, props.Spec, SpecRoutesProps{
		Api: api, Integration: integration, Authorizer: newJwtAuthorizer(auth, ""), Auth: auth,
	})
	rate, burst := props.ThrottleRate, props.ThrottleBurst
	if rate == 0 {
		rate = 100
	}
	if burst == 0 {
		burst = 200
	}
	accessLogs := configureStage(stack, api, props.Function.withDefaults().LogRetention, rate, burst)

	functions := []ApiFunction{fn}
	var streamFn *ApiFunction
	var streamURL awslambda.FunctionUrl
	if props.StreamingURL != nil {
		sfn, u := newStreamingURL(stack, props, table, secret, auth)
		streamFn, streamURL = &sfn, u
		functions = append(functions, sfn)
	}

	obs := NewObservability(stack, "Observability", ObservabilityProps{
		ObservabilityOptions: props.Observability, Table: table, Functions: functions,
		HttpApi: api, AccessLogs: accessLogs,
	})

	url := *api.ApiEndpoint()
	awscdk.NewCfnOutput(stack, jsii.String("ApiUrl"), &awscdk.CfnOutputProps{
		Description: jsii.String("Base URL of the API"), Value: jsii.String(url + "/"),
	})
	awscdk.NewCfnOutput(stack, jsii.String("DocsUrl"), &awscdk.CfnOutputProps{
		Description: jsii.String("Interactive API documentation"), Value: jsii.String(url + "/docs"),
	})
	awscdk.NewCfnOutput(stack, jsii.String("TableName"), &awscdk.CfnOutputProps{Value: table.TableName()})
	return ServerlessStack{Stack: stack, Api: api, Function: fn, Routes: routes, Observability: obs,
		StreamFunction: streamFn, StreamURL: streamURL}
}

// newStreamingURL makes the streaming function and its Function URL.
func newStreamingURL(stack awscdk.Stack, props *ServerlessStackProps, table awsdynamodb.ITable, secret awssecretsmanager.ISecret, auth Auth) (ApiFunction, awslambda.FunctionUrl) {
	o := props.Function
	o.Timeout = props.StreamingURL.Timeout
	if o.Timeout == 0 {
		o.Timeout = 5 * time.Minute
	}
	if o.Timeout < time.Second || o.Timeout > 15*time.Minute {
		panic(fmt.Sprintf("NewServerlessStack: StreamingURL.Timeout must be from 1s to 15m, got %s", o.Timeout))
	}
	o.Environment = maps.Clone(o.Environment)
	if o.Environment == nil {
		o.Environment = map[string]string{}
	}
	o.Environment["TYPEDAPI_LAMBDA_STREAM"] = "true"
	o.Environment["TYPEDAPI_LAMBDA_STREAM_MAX_DURATION"] = o.Timeout.String()
	fn := NewApiFunction(stack, "StreamApi", ApiFunctionProps{
		FunctionOptions: o,
		Table:           table,
		CodeDir:         props.CodeDir,
		CursorSecret:    secret,
		AuthMode:        AuthModeJWT, // nothing verifies the token before the app
		Auth:            auth,
	})
	url := fn.Function.AddFunctionUrl(&awslambda.FunctionUrlOptions{
		AuthType:   awslambda.FunctionUrlAuthType_NONE,
		InvokeMode: awslambda.InvokeMode_RESPONSE_STREAM,
	})
	awscdk.NewCfnOutput(stack, jsii.String("StreamUrl"), &awscdk.CfnOutputProps{
		Description: jsii.String("The API behind a Function URL that streams its answers"), Value: url.Url(),
	})
	return fn, url
}

// lambdaIntegration proxies to fn with payload 2.0, what algnhsa reads for
// HTTP APIs. One integration serves every route, with one invoke
// permission for the whole API rather than one per route (a function's
// resource policy is capped at 20 KB).
func lambdaIntegration(fn ApiFunction) awsapigatewayv2integrations.HttpLambdaIntegration {
	return awsapigatewayv2integrations.NewHttpLambdaIntegration(jsii.String("Lambda"), fn.Function,
		&awsapigatewayv2integrations.HttpLambdaIntegrationProps{
			PayloadFormatVersion:   awsapigatewayv2.PayloadFormatVersion_VERSION_2_0(),
			ScopePermissionToRoute: jsii.Bool(false),
		})
}

// configureStage turns on JSON access logs (one line per request, with the
// request id the app logs too) and throttling on the $default stage. The L2
// HttpApi creates that stage itself, so its L1 is adjusted in place. It
// returns the access log group, which the dashboard and saved queries read.
func configureStage(scope constructs.Construct, api awsapigatewayv2.HttpApi, retention awslogs.RetentionDays, rate, burst float64) awslogs.LogGroup {
	accessLogs := awslogs.NewLogGroup(scope, jsii.String("AccessLogs"), &awslogs.LogGroupProps{
		Retention:     retention,
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	stage := api.DefaultStage().Node().DefaultChild().(awsapigatewayv2.CfnStage)
	stage.SetAccessLogSettings(&awsapigatewayv2.CfnStage_AccessLogSettingsProperty{
		DestinationArn: accessLogs.LogGroupArn(),
		Format: jsii.String(`{"requestId":"$context.requestId","ip":"$context.identity.sourceIp",` +
			`"requestTime":"$context.requestTime","method":"$context.httpMethod","path":"$context.path",` +
			`"routeKey":"$context.routeKey","status":"$context.status","responseLength":"$context.responseLength",` +
			`"integrationLatency":"$context.integrationLatency","integrationError":"$context.integrationErrorMessage"}`),
	})
	stage.SetDefaultRouteSettings(&awsapigatewayv2.CfnStage_RouteSettingsProperty{
		ThrottlingRateLimit:  jsii.Number(rate),
		ThrottlingBurstLimit: jsii.Number(burst),
	})
	return accessLogs
}

// newCursorSecret makes the random key that signs list cursors, shared by
// every instance of the app.
func newCursorSecret(scope constructs.Construct) awssecretsmanager.Secret {
	secret := awssecretsmanager.NewSecret(scope, jsii.String("CursorSecret"), &awssecretsmanager.SecretProps{
		Description: jsii.String("typedapi: signs list cursors (TYPEDAPI_CURSOR_SECRET)"),
		GenerateSecretString: &awssecretsmanager.SecretStringGenerator{
			PasswordLength:     jsii.Number(48),
			ExcludePunctuation: jsii.Bool(true),
		},
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	cdknag.NagSuppressions_AddResourceSuppressions(secret, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-SMG4"),
		Reason: jsii.String("The cursor key only signs short-lived list cursors; rotating it just invalidates " +
			"open cursors (clients restart the listing). Rotate by hand when needed; no rotation Lambda to run."),
	}}, jsii.Bool(false))
	return secret
}

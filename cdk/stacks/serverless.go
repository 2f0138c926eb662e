package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2integrations"
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
}

// ServerlessStack is the whole API on Lambda behind an HTTP API.
type ServerlessStack struct {
	awscdk.Stack
	Api      awsapigatewayv2.HttpApi
	Function ApiFunction
	Routes   []SpecRoute
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
	configureStage(stack, api, props.Function.withDefaults().LogRetention, rate, burst)

	url := *api.ApiEndpoint()
	awscdk.NewCfnOutput(stack, jsii.String("ApiUrl"), &awscdk.CfnOutputProps{
		Description: jsii.String("Base URL of the API"), Value: jsii.String(url + "/"),
	})
	awscdk.NewCfnOutput(stack, jsii.String("DocsUrl"), &awscdk.CfnOutputProps{
		Description: jsii.String("Interactive API documentation"), Value: jsii.String(url + "/docs"),
	})
	awscdk.NewCfnOutput(stack, jsii.String("TableName"), &awscdk.CfnOutputProps{Value: table.TableName()})
	return ServerlessStack{Stack: stack, Api: api, Function: fn, Routes: routes}
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
// HttpApi creates that stage itself, so its L1 is adjusted in place.
func configureStage(scope constructs.Construct, api awsapigatewayv2.HttpApi, retention awslogs.RetentionDays, rate, burst float64) {
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

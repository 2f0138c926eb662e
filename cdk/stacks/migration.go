package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2integrations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// MigrationExampleProps configure the gradual-migration example.
type MigrationExampleProps struct {
	awscdk.StackProps
	Function FunctionOptions
	Table    ItemsTableProps
	CodeDir  string
	// HttpApiID is an existing HTTP API to mount on. Empty: the stack makes a
	// stand-in "legacy" API with one hand-written route, to show that route
	// untouched next to the mounted app.
	HttpApiID string
	// RestApiID and RestRootResourceID name an existing REST API, with
	// RestStageName its stage to redeploy. Empty: a stand-in, as above.
	RestApiID          string
	RestRootResourceID string
	RestStageName      string
	// Prefix the app is mounted under on both APIs; default /v2.
	Prefix string
	// Spec (the HTTP API's routes) and Auth (the token issuer): see PathMountProps.
	Spec Spec
	Auth Auth
	// Observability: the dashboard, alarms and saved queries of both
	// mounted functions (observability.go).
	Observability ObservabilityOptions
}

// MigrationExampleStack shows PathMount on an HTTP API and on a REST API.
type MigrationExampleStack struct {
	awscdk.Stack
	HttpMount, RestMount PathMount

	Observability *Observability
}

// NewMigrationExampleStack mounts the app under Prefix on an existing HTTP
// API and an existing REST API (or stand-ins for them), sharing one table.
func NewMigrationExampleStack(scope constructs.Construct, id string, props *MigrationExampleProps) MigrationExampleStack {
	stack := awscdk.NewStack(scope, jsii.String(id), &props.StackProps)
	prefix := props.Prefix
	if prefix == "" {
		prefix = "/v2"
	}
	table := NewItemsTable(stack, "Items", &props.Table)
	secret := newCursorSecret(stack)
	fnProps := ApiFunctionProps{FunctionOptions: props.Function, Table: table, CodeDir: props.CodeDir, CursorSecret: secret}

	var legacy awslambda.Function // made once, only for a stand-in
	legacyFn := func() awslambda.Function {
		if legacy == nil {
			legacy = legacyFunction(stack)
		}
		return legacy
	}
	var httpApi awsapigatewayv2.IHttpApi
	if props.HttpApiID != "" {
		httpApi = awsapigatewayv2.HttpApi_FromHttpApiAttributes(stack, jsii.String("ExistingHttpApi"),
			&awsapigatewayv2.HttpApiAttributes{HttpApiId: jsii.String(props.HttpApiID)})
	} else {
		httpApi = legacyHttpApi(stack, legacyFn())
	}
	var restApi awsapigateway.IRestApi
	stage := props.RestStageName
	if props.RestApiID != "" {
		restApi = awsapigateway.RestApi_FromRestApiAttributes(stack, jsii.String("ExistingRestApi"),
			&awsapigateway.RestApiAttributes{
				RestApiId:      jsii.String(props.RestApiID),
				RootResourceId: jsii.String(props.RestRootResourceID),
			})
	} else {
		// The stand-in's own stage is deployed by CDK, routes included.
		restApi, stage = legacyRestApi(stack, legacyFn()), ""
	}

	httpMount := NewPathMount(stack, "HttpMount", PathMountProps{
		HttpApi: httpApi, Prefix: prefix, Function: fnProps, Spec: props.Spec, Auth: props.Auth,
	})
	restMount := NewPathMount(stack, "RestMount", PathMountProps{
		RestApi: restApi, RestStageName: stage, Prefix: prefix, Function: fnProps, Spec: props.Spec, Auth: props.Auth,
	})
	// The APIs are another team's and their metrics cover routes that are
	// not the app's: with no front door given, the alarms read the app's.
	obs := NewObservability(stack, "Observability", ObservabilityProps{
		ObservabilityOptions: props.Observability, Table: table,
		Functions: []ApiFunction{httpMount.Function, restMount.Function},
	})
	if api, ok := httpApi.(awsapigatewayv2.HttpApi); ok {
		awscdk.NewCfnOutput(stack, jsii.String("HttpDocsUrl"), &awscdk.CfnOutputProps{
			Description: jsii.String("The app's docs under the prefix of the HTTP API"),
			Value:       jsii.String(*api.ApiEndpoint() + prefix + "/docs"),
		})
	}
	if api, ok := restApi.(awsapigateway.RestApi); ok {
		awscdk.NewCfnOutput(stack, jsii.String("RestDocsUrl"), &awscdk.CfnOutputProps{
			Description: jsii.String("The app's docs under the prefix of the REST API"),
			Value:       jsii.String(*api.UrlForPath(jsii.String(prefix + "/docs"))),
		})
	}
	return MigrationExampleStack{Stack: stack, HttpMount: httpMount, RestMount: restMount, Observability: obs}
}

// legacyFunction stands in for one of the hand-written functions that a
// team migrating to the app already runs.
func legacyFunction(scope constructs.Construct) awslambda.Function {
	fn := awslambda.NewFunction(scope, jsii.String("LegacyOrders"), &awslambda.FunctionProps{
		Runtime: awslambda.Runtime_NODEJS_LATEST(),
		Handler: jsii.String("index.handler"),
		Code: awslambda.Code_FromInline(jsii.String(
			`exports.handler = async () => ({ statusCode: 200, body: JSON.stringify({ orders: [] }) });`)),
		Description: jsii.String("Stand-in for an existing function; untouched by the migration"),
	})
	cdknag.NagSuppressions_AddResourceSuppressions(fn, &[]*cdknag.NagPackSuppression{{
		Id:        jsii.String("AwsSolutions-IAM4"),
		Reason:    jsii.String("Stand-in for a function that already exists; its role is not ours to change."),
		AppliesTo: &[]interface{}{jsii.String("Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")},
	}}, jsii.Bool(true))
	return fn
}

func legacyHttpApi(stack awscdk.Stack, fn awslambda.Function) awsapigatewayv2.HttpApi {
	api := awsapigatewayv2.NewHttpApi(stack, jsii.String("LegacyHttpApi"), &awsapigatewayv2.HttpApiProps{
		Description: jsii.String("Stand-in for an existing HTTP API"),
	})
	api.AddRoutes(&awsapigatewayv2.AddRoutesOptions{
		Path:        jsii.String("/v1/orders"),
		Methods:     &[]awsapigatewayv2.HttpMethod{awsapigatewayv2.HttpMethod_GET},
		Integration: awsapigatewayv2integrations.NewHttpLambdaIntegration(jsii.String("Orders"), fn, nil),
	})
	cdknag.NagSuppressions_AddResourceSuppressions(api, &[]*cdknag.NagPackSuppression{
		{Id: jsii.String("AwsSolutions-APIG1"), Reason: jsii.String(standIn)},
		{Id: jsii.String("AwsSolutions-APIG4"), Reason: jsii.String(standIn)},
	}, jsii.Bool(true))
	return api
}

func legacyRestApi(stack awscdk.Stack, fn awslambda.Function) awsapigateway.RestApi {
	api := awsapigateway.NewRestApi(stack, jsii.String("LegacyRestApi"), &awsapigateway.RestApiProps{
		Description: jsii.String("Stand-in for an existing REST API"),
		// No account-wide CloudWatch role: the stand-in logs nothing.
		CloudWatchRole: jsii.Bool(false),
	})
	orders := api.Root().AddResource(jsii.String("v1"), nil).AddResource(jsii.String("orders"), nil)
	orders.AddMethod(jsii.String("GET"), awsapigateway.NewLambdaIntegration(fn, nil), nil)
	var s []*cdknag.NagPackSuppression
	for _, id := range []string{"AwsSolutions-APIG1", "AwsSolutions-APIG2", "AwsSolutions-APIG3", "AwsSolutions-APIG4",
		"AwsSolutions-APIG6", "AwsSolutions-COG4"} {
		s = append(s, &cdknag.NagPackSuppression{Id: jsii.String(id), Reason: jsii.String(standIn)})
	}
	cdknag.NagSuppressions_AddResourceSuppressions(api, &s, jsii.Bool(true))
	return api
}

const standIn = "Stand-in for an API that already exists and is owned elsewhere: the example only adds " +
	"routes to it and leaves its settings (logging, WAF, validation, authorizers) to its owner."

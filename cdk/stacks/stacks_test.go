package stacks

import (
	"debug/buildinfo"
	"debug/elf"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/cxapi"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// repoRoot and codeDir are set once by TestMain: the tests synthesize the
// stacks around a real arm64 bootstrap of the app, built here.
var repoRoot, codeDir string

func TestMain(m *testing.M) {
	os.Exit(func() int {
		defer jsii.Close()
		var err error
		if repoRoot, err = RepoRoot("."); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		tmp, err := os.MkdirTemp("", "typedapi-cdk-test-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(tmp)
		codeDir = filepath.Join(tmp, "arm64")
		if err := BuildBootstrap(repoRoot, ArchARM64, codeDir, false); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return m.Run()
	}())
}

// newApp is an app that synthesizes into a temporary directory with
// cdk-nag's AwsSolutions pack applied, as the real app does.
func newApp(t *testing.T) awscdk.App {
	t.Helper()
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(nil), nil)
	return app
}

// synth returns the stack's template after checking that cdk-nag reported
// no unsuppressed AwsSolutions error or warning on it.
func synth(t *testing.T, stack awscdk.Stack) assertions.Template {
	t.Helper()
	tmpl := assertions.Template_FromStack(stack, nil)
	ann := assertions.Annotations_FromStack(stack)
	nag := assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*"))
	// Annotations.FindError/FindWarning return cxapi.SynthesisMessage, which
	// awscdk v2.275.0 marks deprecated without a Go replacement.
	report := func(level string, found *[]*cxapi.SynthesisMessage) { //nolint:staticcheck // see above
		for _, m := range *found {
			t.Errorf("cdk-nag %s at %s: %v", level, *m.Id, m.Entry.Data) //nolint:staticcheck // see above
		}
	}
	report("error", ann.FindError(jsii.String("*"), nag))
	report("warning", ann.FindWarning(jsii.String("*"), nag))
	return tmpl
}

// check runs one assertion; the assertions library panics on a mismatch,
// which this turns into a test error that names what was checked.
func check(t *testing.T, what string, assert func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s:\n%v", what, r)
		}
	}()
	assert()
}

// onlyID is the logical id of the one resource of a type (fails otherwise).
func onlyID(t *testing.T, tmpl assertions.Template, typ string) string {
	t.Helper()
	found := *tmpl.FindResources(jsii.String(typ), nil)
	if len(found) != 1 {
		t.Fatalf("want exactly one %s, found %d", typ, len(found))
	}
	for id := range found {
		return id
	}
	return ""
}

func ref(id string) map[string]any      { return map[string]any{"Ref": id} }
func arnOf(id string) map[string]any    { return map[string]any{"Fn::GetAtt": []any{id, "Arn"}} }
func exact(v map[string]any) any        { return assertions.Match_ObjectEquals(&v) }
func count(n int) *float64              { return jsii.Number(n) }
func absent() assertions.Matcher        { return assertions.Match_Absent() }
func typ(s string) *string              { return jsii.String(s) }
func like(re string) assertions.Matcher { return assertions.Match_StringLikeRegexp(jsii.String(re)) }

// storeStatement is the one DynamoDB statement every role must have, exactly.
func storeStatement(tableID string) any {
	actions := make([]any, len(StoreActions))
	for i, a := range StoreActions {
		actions[i] = a
	}
	return exact(map[string]any{"Action": actions, "Effect": "Allow", "Resource": arnOf(tableID)})
}

func TestServerlessStackDefaults(t *testing.T) {
	app := newApp(t)
	s := NewServerlessStack(app, "Typedapi", &ServerlessStackProps{CodeDir: codeDir, Spec: readSpec(t, SpecFile(repoRoot)), Auth: testAuth})
	tmpl := synth(t, s.Stack)

	table := onlyID(t, tmpl, "AWS::DynamoDB::Table")
	fn := onlyID(t, tmpl, "AWS::Lambda::Function")
	role := onlyID(t, tmpl, "AWS::IAM::Role")

	check(t, "table: on-demand, pk/sk strings, PITR, TTL, deletion protection, retained", func() {
		tmpl.HasResource(typ("AWS::DynamoDB::Table"), map[string]any{
			"DeletionPolicy":      "Retain",
			"UpdateReplacePolicy": "Retain",
			"Properties": map[string]any{
				"BillingMode": "PAY_PER_REQUEST",
				"KeySchema": []any{
					map[string]any{"AttributeName": "pk", "KeyType": "HASH"},
					map[string]any{"AttributeName": "sk", "KeyType": "RANGE"},
				},
				"AttributeDefinitions": []any{
					map[string]any{"AttributeName": "pk", "AttributeType": "S"},
					map[string]any{"AttributeName": "sk", "AttributeType": "S"},
				},
				"PointInTimeRecoverySpecification": map[string]any{"PointInTimeRecoveryEnabled": true},
				"TimeToLiveSpecification":          map[string]any{"AttributeName": "expires_at", "Enabled": true},
				"DeletionProtectionEnabled":        true,
				"GlobalSecondaryIndexes":           absent(),
			},
		})
	})

	check(t, "function: provided.al2023 on arm64, defaults, app config in the environment", func() {
		tmpl.HasResourceProperties(typ("AWS::Lambda::Function"), map[string]any{
			"Runtime":                      "provided.al2023",
			"Architectures":                []any{"arm64"},
			"Handler":                      "bootstrap",
			"MemorySize":                   512,
			"Timeout":                      10,
			"ReservedConcurrentExecutions": absent(),
			"Role":                         arnOf(role),
			"Environment": map[string]any{"Variables": exact(map[string]any{
				"TYPEDAPI_STORE":           "dynamodb",
				"TYPEDAPI_DYNAMODB_TABLE":  ref(table),
				"TYPEDAPI_LOG_FORMAT":      "json",
				"TYPEDAPI_LOG_LEVEL":       "info",
				"TYPEDAPI_METRICS_SERVICE": "Typedapi",
				// Behind the JWT authorizer: the app takes the caller from its claims.
				"TYPEDAPI_AUTH_MODE":     "gateway",
				"TYPEDAPI_AUTH_ISSUER":   testAuth.Issuer,
				"TYPEDAPI_AUTH_AUDIENCE": testAuth.Audience,
			})},
		})
		// Nothing billed at rest but table and log storage by default.
		tmpl.ResourceCountIs(typ("AWS::SecretsManager::Secret"), jsii.Number(0))
	})

	check(t, "role: assumed by Lambda only, no managed policy", func() {
		tmpl.HasResourceProperties(typ("AWS::IAM::Role"), map[string]any{
			"AssumeRolePolicyDocument": map[string]any{"Statement": []any{exact(map[string]any{
				"Action": "sts:AssumeRole", "Effect": "Allow",
				"Principal": map[string]any{"Service": "lambda.amazonaws.com"},
			})}},
			"ManagedPolicyArns": absent(),
		})
	})
	check(t, "policy: the store's actions on the table ARN only, logs on the function's log group only", func() {
		tmpl.ResourceCountIs(typ("AWS::IAM::Policy"), count(1))
		tmpl.HasResourceProperties(typ("AWS::IAM::Policy"), map[string]any{
			"Roles": []any{ref(role)},
			"PolicyDocument": map[string]any{"Statement": []any{
				storeStatement(table),
				exact(map[string]any{
					"Action":   []any{"logs:CreateLogStream", "logs:PutLogEvents"},
					"Effect":   "Allow",
					"Resource": arnOf(fnLogGroup(t, tmpl, fn)),
				}),
			}},
		})
	})

	check(t, "log groups: one month of retention", func() {
		tmpl.AllResourcesProperties(typ("AWS::Logs::LogGroup"), map[string]any{"RetentionInDays": 30})
	})

	check(t, "HTTP API: one integration proxying every route to the function with payload 2.0", func() {
		tmpl.ResourceCountIs(typ("AWS::ApiGatewayV2::Api"), count(1))
		tmpl.HasResourceProperties(typ("AWS::ApiGatewayV2::Api"), map[string]any{"ProtocolType": "HTTP"})
		tmpl.ResourceCountIs(typ("AWS::ApiGatewayV2::Integration"), count(1))
		tmpl.HasResourceProperties(typ("AWS::ApiGatewayV2::Integration"), map[string]any{
			"IntegrationType": "AWS_PROXY", "PayloadFormatVersion": "2.0", "IntegrationUri": arnOf(fn),
		})
		// One invoke permission for the whole API, not one per route.
		tmpl.ResourceCountIs(typ("AWS::Lambda::Permission"), count(1))
	})
	checkRoutes(t, tmpl, SpecFile(repoRoot), "", testAuth)
	check(t, "stage: access logs and throttling", func() {
		tmpl.HasResourceProperties(typ("AWS::ApiGatewayV2::Stage"), map[string]any{
			"StageName":            "$default",
			"AutoDeploy":           true,
			"AccessLogSettings":    map[string]any{"DestinationArn": map[string]any{"Fn::GetAtt": []any{like("^AccessLogs"), "Arn"}}, "Format": like(`\$context\.requestId`)},
			"DefaultRouteSettings": exact(map[string]any{"ThrottlingRateLimit": 100, "ThrottlingBurstLimit": 200}),
		})
	})
	check(t, "outputs: API URL and docs URL", func() {
		endpoint := map[string]any{"Fn::GetAtt": []any{onlyID(t, tmpl, "AWS::ApiGatewayV2::Api"), "ApiEndpoint"}}
		tmpl.HasOutput(typ("ApiUrl"), map[string]any{"Value": map[string]any{"Fn::Join": []any{"", []any{endpoint, "/"}}}})
		tmpl.HasOutput(typ("DocsUrl"), map[string]any{"Value": map[string]any{"Fn::Join": []any{"", []any{endpoint, "/docs"}}}})
	})
}

// fnLogGroup is the logical id of the log group the function logs to.
func fnLogGroup(t *testing.T, tmpl assertions.Template, fnID string) string {
	t.Helper()
	res := *tmpl.FindResources(typ("AWS::Lambda::Function"), nil)
	props := (*res[fnID])["Properties"].(map[string]any)
	lg := props["LoggingConfig"].(map[string]any)["LogGroup"].(map[string]any)["Ref"]
	return lg.(string)
}

func TestServerlessStackProps(t *testing.T) {
	app := newApp(t)
	reserved := 5
	// The template does not look inside the asset, so the arm64 build
	// serves here; the real app builds the bootstrap for the chosen arch.
	s := NewServerlessStack(app, "Typedapi", &ServerlessStackProps{
		CodeDir: codeDir,
		Function: FunctionOptions{
			Arch: ArchX86, MemoryMiB: 1024, Timeout: 25 * time.Second, ReservedConcurrency: &reserved,
			LogRetention: awslogs.RetentionDays_ONE_WEEK, LogLevel: "debug",
			Environment: map[string]string{"TYPEDAPI_CORS_ORIGINS": "https://app.example.com"},
		},
		Table:        ItemsTableProps{DeletionProtection: jsii.Bool(false), Disposable: true},
		ThrottleRate: 10, ThrottleBurst: 20,
		CursorSecret: true,
		Spec:         readSpec(t, SpecFile(repoRoot)), Auth: testAuth,
	})
	tmpl := synth(t, s.Stack)
	check(t, "with CursorSecret, the cursor key comes from Secrets Manager", func() {
		tmpl.HasResourceProperties(typ("AWS::Lambda::Function"), map[string]any{
			"Environment": map[string]any{"Variables": map[string]any{
				// a dynamic reference, resolved by CloudFormation at deploy
				"TYPEDAPI_CURSOR_SECRET": map[string]any{"Fn::Join": []any{"", []any{
					"{{resolve:secretsmanager:", ref(onlyID(t, tmpl, "AWS::SecretsManager::Secret")), ":SecretString:::}}",
				}}},
			}},
		})
	})
	check(t, "function options reach the template", func() {
		tmpl.HasResourceProperties(typ("AWS::Lambda::Function"), map[string]any{
			"Architectures":                []any{"x86_64"},
			"MemorySize":                   1024,
			"Timeout":                      25,
			"ReservedConcurrentExecutions": 5,
			"Environment": map[string]any{"Variables": map[string]any{
				"TYPEDAPI_LOG_LEVEL":    "debug",
				"TYPEDAPI_CORS_ORIGINS": "https://app.example.com",
			}},
		})
		tmpl.AllResourcesProperties(typ("AWS::Logs::LogGroup"), map[string]any{"RetentionInDays": 7})
	})
	check(t, "a disposable table: no deletion protection, deleted with the stack", func() {
		tmpl.HasResource(typ("AWS::DynamoDB::Table"), map[string]any{
			"DeletionPolicy": "Delete",
			"Properties":     map[string]any{"DeletionProtectionEnabled": false},
		})
	})
	check(t, "throttling from props", func() {
		tmpl.HasResourceProperties(typ("AWS::ApiGatewayV2::Stage"), map[string]any{
			"DefaultRouteSettings": exact(map[string]any{"ThrottlingRateLimit": 10, "ThrottlingBurstLimit": 20}),
		})
	})
}

func TestPathMountOnExistingHttpApi(t *testing.T) {
	app := newApp(t)
	stack := awscdk.NewStack(app, jsii.String("Mount"), nil)
	table := NewItemsTable(stack, "Items", nil)
	existing := awsapigatewayv2.HttpApi_FromHttpApiAttributes(stack, jsii.String("Existing"),
		&awsapigatewayv2.HttpApiAttributes{HttpApiId: jsii.String("abc123")})
	NewPathMount(stack, "V2", PathMountProps{
		HttpApi: existing, Prefix: "/v2/",
		Function: ApiFunctionProps{Table: table, CodeDir: codeDir},
		Spec:     readSpec(t, fixtureSpec), Auth: testAuth,
	})
	tmpl := synth(t, stack)

	check(t, "no API is created; every route joins the existing one", func() {
		tmpl.ResourceCountIs(typ("AWS::ApiGatewayV2::Api"), count(0))
		tmpl.AllResourcesProperties(typ("AWS::ApiGatewayV2::Route"), map[string]any{"ApiId": "abc123"})
		tmpl.AllResourcesProperties(typ("AWS::ApiGatewayV2::Authorizer"), map[string]any{"ApiId": "abc123"})
		tmpl.HasResourceProperties(typ("AWS::ApiGatewayV2::Integration"), map[string]any{
			"ApiId": "abc123", "IntegrationType": "AWS_PROXY", "PayloadFormatVersion": "2.0",
		})
	})
	checkRoutes(t, tmpl, fixtureSpec, "/v2", testAuth)
	check(t, "the app's base path matches the prefix; it trusts the authorizer's claims", func() {
		tmpl.HasResourceProperties(typ("AWS::Lambda::Function"), map[string]any{
			"Environment": map[string]any{"Variables": map[string]any{
				"TYPEDAPI_BASE_PATH": "/v2", "TYPEDAPI_AUTH_MODE": "gateway",
				"TYPEDAPI_AUTH_ISSUER": testAuth.Issuer, "TYPEDAPI_AUTH_AUDIENCE": testAuth.Audience,
			}},
		})
	})
	check(t, "API Gateway may invoke the function only from that API", func() {
		tmpl.HasResourceProperties(typ("AWS::Lambda::Permission"), map[string]any{
			"Action": "lambda:InvokeFunction", "Principal": "apigateway.amazonaws.com",
			"SourceArn": map[string]any{"Fn::Join": []any{"", assertions.Match_ArrayWith(&[]any{like(":abc123/")})}},
		})
	})
	check(t, "the mounted function's role has the same least-privilege policy", func() {
		tmpl.HasResourceProperties(typ("AWS::IAM::Policy"), map[string]any{
			"PolicyDocument": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{
				storeStatement(onlyID(t, tmpl, "AWS::DynamoDB::Table")),
			})},
		})
	})
}

func TestPathMountOnExistingRestApi(t *testing.T) {
	app := newApp(t)
	stack := awscdk.NewStack(app, jsii.String("Mount"), nil)
	table := NewItemsTable(stack, "Items", nil)
	existing := awsapigateway.RestApi_FromRestApiAttributes(stack, jsii.String("Existing"),
		&awsapigateway.RestApiAttributes{RestApiId: jsii.String("rest123"), RootResourceId: jsii.String("root456")})
	NewPathMount(stack, "V2", PathMountProps{
		RestApi: existing, RestStageName: "prod", Prefix: "api/v2",
		Function: ApiFunctionProps{Table: table, CodeDir: codeDir}, Spec: readSpec(t, fixtureSpec), Auth: testAuth,
	})
	tmpl := synth(t, stack)

	check(t, "resources /api and /api/v2 on the existing API, and a catch-all below the prefix", func() {
		tmpl.ResourceCountIs(typ("AWS::ApiGateway::RestApi"), count(0))
		tmpl.HasResourceProperties(typ("AWS::ApiGateway::Resource"), map[string]any{
			"RestApiId": "rest123", "ParentId": "root456", "PathPart": "api",
		})
		tmpl.HasResourceProperties(typ("AWS::ApiGateway::Resource"), map[string]any{"PathPart": "v2"})
		tmpl.HasResourceProperties(typ("AWS::ApiGateway::Resource"), map[string]any{"PathPart": "{proxy+}"})
		tmpl.AllResourcesProperties(typ("AWS::ApiGateway::Method"), map[string]any{
			"RestApiId": "rest123", "Integration": map[string]any{"Type": "AWS_PROXY", "IntegrationHttpMethod": "POST"},
		})
	})
	checkRestMethods(t, tmpl, fixtureSpec, "/api/v2", testAuth)
	check(t, "the TOKEN authorizer: the Authorization header, answers cached a minute", func() {
		tmpl.HasResourceProperties(typ("AWS::ApiGateway::Authorizer"), map[string]any{
			"Type": "TOKEN", "RestApiId": "rest123", "Name": "typedapi-api-v2",
			"IdentitySource": "method.request.header.Authorization", "AuthorizerResultTtlInSeconds": 60,
		})
	})
	check(t, "the authorizer is the app's bootstrap verifying tokens, with no access to the table", func() {
		tmpl.HasResourceProperties(typ("AWS::Lambda::Function"), map[string]any{
			"Runtime": "provided.al2023",
			"Environment": map[string]any{"Variables": exact(map[string]any{
				"TYPEDAPI_LAMBDA_HANDLER": "authorizer", "TYPEDAPI_AUTH_MODE": "jwt",
				"TYPEDAPI_AUTH_ISSUER": testAuth.Issuer, "TYPEDAPI_AUTH_AUDIENCE": testAuth.Audience,
				"TYPEDAPI_LOG_FORMAT": "json", "TYPEDAPI_LOG_LEVEL": "info",
			})},
		})
		tmpl.ResourcePropertiesCountIs(typ("AWS::IAM::Policy"), map[string]any{
			"PolicyDocument": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{
				storeStatement(onlyID(t, tmpl, "AWS::DynamoDB::Table")),
			})},
		}, count(1))
	})
	check(t, "the existing stage is redeployed", func() {
		tmpl.HasResourceProperties(typ("AWS::ApiGateway::Deployment"), map[string]any{"RestApiId": "rest123", "StageName": "prod"})
	})
	check(t, "base path /api/v2; the app trusts the authorizer's context, verifies tokens of catch-all requests", func() {
		tmpl.HasResourceProperties(typ("AWS::Lambda::Function"), map[string]any{
			"Environment": map[string]any{"Variables": map[string]any{
				"TYPEDAPI_BASE_PATH": "/api/v2", "TYPEDAPI_AUTH_MODE": "gateway",
				"TYPEDAPI_AUTH_ISSUER": testAuth.Issuer, "TYPEDAPI_AUTH_AUDIENCE": testAuth.Audience,
			}},
		})
	})
}

func TestMigrationExample(t *testing.T) {
	app := newApp(t)
	spec := readSpec(t, SpecFile(repoRoot))
	s := NewMigrationExampleStack(app, "Example", &MigrationExampleProps{CodeDir: codeDir, Spec: spec, Auth: testAuth})
	tmpl := synth(t, s.Stack)

	legacyHTTP := onlyID(t, tmpl, "AWS::ApiGatewayV2::Api")
	check(t, "the legacy HTTP API keeps its own route next to the mounted ones", func() {
		tmpl.ResourceCountIs(typ("AWS::ApiGatewayV2::Route"), count(1+2+len(spec.Operations)))
		for _, key := range []string{"GET /v1/orders", "ANY /v2", "ANY /v2/{proxy+}", "GET /v2/v1/orders"} {
			tmpl.HasResourceProperties(typ("AWS::ApiGatewayV2::Route"), map[string]any{"ApiId": ref(legacyHTTP), "RouteKey": key})
		}
	})
	check(t, "the legacy REST API keeps /v1/orders and gains /v2", func() {
		for _, part := range []string{"v1", "orders", "v2", "{proxy+}"} {
			tmpl.HasResourceProperties(typ("AWS::ApiGateway::Resource"), map[string]any{"PathPart": part})
		}
		tmpl.HasResourceProperties(typ("AWS::ApiGateway::Method"), map[string]any{"HttpMethod": "GET"})
	})
	check(t, "four functions: the legacy one, the app on each API with base path /v2, the REST API's authorizer", func() {
		tmpl.ResourceCountIs(typ("AWS::Lambda::Function"), count(4))
		tmpl.ResourcePropertiesCountIs(typ("AWS::Lambda::Function"), map[string]any{
			"Runtime":     "provided.al2023",
			"Environment": map[string]any{"Variables": map[string]any{"TYPEDAPI_BASE_PATH": "/v2"}},
		}, count(2))
		// behind the HTTP API's JWT authorizer and the REST API's TOKEN one
		tmpl.ResourcePropertiesCountIs(typ("AWS::Lambda::Function"), map[string]any{
			"Environment": map[string]any{"Variables": map[string]any{"TYPEDAPI_AUTH_MODE": "gateway", "TYPEDAPI_BASE_PATH": "/v2"}},
		}, count(2))
		tmpl.ResourcePropertiesCountIs(typ("AWS::Lambda::Function"), map[string]any{
			"Environment": map[string]any{"Variables": map[string]any{"TYPEDAPI_LAMBDA_HANDLER": "authorizer"}},
		}, count(1))
	})
	check(t, "docs URLs under the prefix", func() {
		tmpl.HasOutput(typ("HttpDocsUrl"), map[string]any{"Value": map[string]any{"Fn::Join": []any{"", assertions.Match_ArrayWith(&[]any{"/v2/docs"})}}})
		tmpl.HasOutput(typ("RestDocsUrl"), map[string]any{"Value": map[string]any{"Fn::Join": []any{"", assertions.Match_ArrayWith(&[]any{like("/v2/docs$")})}}})
	})
}

func TestContainerStack(t *testing.T) {
	app := newApp(t)
	outdir := *app.Outdir()
	s := NewContainerStack(app, "Container", &ContainerStackProps{RepoRoot: repoRoot, Auth: testAuth})
	tmpl := synth(t, s.Stack)
	table := onlyID(t, tmpl, "AWS::DynamoDB::Table")
	taskRole := *tmpl.GetResourceId(typ("AWS::IAM::Role"), map[string]any{
		"Properties": map[string]any{"Description": like("^typedapi task")},
	})

	check(t, "task definition: Fargate on ARM64, 0.25 vCPU / 512 MiB, the task role", func() {
		tmpl.HasResourceProperties(typ("AWS::ECS::TaskDefinition"), map[string]any{
			"RequiresCompatibilities": []any{"FARGATE"},
			"NetworkMode":             "awsvpc",
			"Cpu":                     "256",
			"Memory":                  "512",
			"RuntimePlatform":         exact(map[string]any{"CpuArchitecture": "ARM64", "OperatingSystemFamily": "LINUX"}),
			"TaskRoleArn":             arnOf(taskRole),
		})
	})
	check(t, "container: image asset, port 8080, app config, secret from Secrets Manager, logs to CloudWatch", func() {
		tmpl.HasResourceProperties(typ("AWS::ECS::TaskDefinition"), map[string]any{
			"ContainerDefinitions": []any{map[string]any{
				"Image":                  map[string]any{"Fn::Sub": like("container-assets")},
				"PortMappings":           []any{map[string]any{"ContainerPort": 8080, "Protocol": "tcp"}},
				"StopTimeout":            30,
				"ReadonlyRootFilesystem": true,
				"Essential":              true,
				"Environment": []any{
					map[string]any{"Name": "PORT", "Value": "8080"},
					// The ALB verifies nothing: the app verifies every token.
					map[string]any{"Name": "TYPEDAPI_AUTH_AUDIENCE", "Value": testAuth.Audience},
					map[string]any{"Name": "TYPEDAPI_AUTH_ISSUER", "Value": testAuth.Issuer},
					map[string]any{"Name": "TYPEDAPI_AUTH_MODE", "Value": "jwt"},
					map[string]any{"Name": "TYPEDAPI_DYNAMODB_TABLE", "Value": ref(table)},
					map[string]any{"Name": "TYPEDAPI_LOG_FORMAT", "Value": "json"},
					map[string]any{"Name": "TYPEDAPI_LOG_LEVEL", "Value": "info"},
					map[string]any{"Name": "TYPEDAPI_RATE_BURST", "Value": "40"},
					map[string]any{"Name": "TYPEDAPI_RATE_LIMIT", "Value": "20"},
					map[string]any{"Name": "TYPEDAPI_SHUTDOWN_GRACE", "Value": "15s"},
					map[string]any{"Name": "TYPEDAPI_STORE", "Value": "dynamodb"},
					map[string]any{"Name": "TYPEDAPI_TRUSTED_PROXIES", "Value": map[string]any{"Fn::GetAtt": []any{onlyID(t, tmpl, "AWS::EC2::VPC"), "CidrBlock"}}},
					map[string]any{"Name": "TYPEDAPI_METRICS_SERVICE", "Value": "Container"}, // added by Observability
				},
				"Secrets": []any{map[string]any{
					"Name": "TYPEDAPI_CURSOR_SECRET", "ValueFrom": ref(onlyID(t, tmpl, "AWS::SecretsManager::Secret")),
				}},
				"LogConfiguration": map[string]any{"LogDriver": "awslogs", "Options": map[string]any{"awslogs-stream-prefix": "api"}},
			}},
		})
	})
	check(t, "task role: the store's actions on the table only", func() {
		tmpl.HasResourceProperties(typ("AWS::IAM::Role"), map[string]any{
			"AssumeRolePolicyDocument": map[string]any{"Statement": []any{exact(map[string]any{
				"Action": "sts:AssumeRole", "Effect": "Allow",
				"Principal": map[string]any{"Service": "ecs-tasks.amazonaws.com"},
			})}},
			"Description":       like("^typedapi task"),
			"ManagedPolicyArns": absent(),
		})
		tmpl.ResourcePropertiesCountIs(typ("AWS::IAM::Policy"), map[string]any{"Roles": []any{ref(taskRole)}}, count(1))
		tmpl.HasResourceProperties(typ("AWS::IAM::Policy"), map[string]any{
			"Roles":          []any{ref(taskRole)},
			"PolicyDocument": map[string]any{"Statement": []any{storeStatement(table)}},
		})
	})
	check(t, "service: Fargate, the task count left to scaling, rollback on failed deployments", func() {
		tmpl.HasResourceProperties(typ("AWS::ECS::Service"), map[string]any{
			"LaunchType":   "FARGATE",
			"DesiredCount": absent(),
			"DeploymentConfiguration": map[string]any{
				"DeploymentCircuitBreaker": map[string]any{"Enable": true, "Rollback": true},
				"MinimumHealthyPercent":    100,
			},
		})
	})
	check(t, "ALB: internet-facing, HTTP listener, target group health-checks /healthz on 8080", func() {
		tmpl.HasResourceProperties(typ("AWS::ElasticLoadBalancingV2::LoadBalancer"), map[string]any{"Scheme": "internet-facing", "Type": "application"})
		tmpl.HasResourceProperties(typ("AWS::ElasticLoadBalancingV2::Listener"), map[string]any{"Port": 80, "Protocol": "HTTP"})
		tmpl.HasResourceProperties(typ("AWS::ElasticLoadBalancingV2::TargetGroup"), map[string]any{
			"Port": 8080, "Protocol": "HTTP", "TargetType": "ip",
			"HealthCheckPath": "/healthz", "Matcher": map[string]any{"HttpCode": "200"},
		})
	})
	check(t, "the table and the logs", func() {
		tmpl.HasResourceProperties(typ("AWS::DynamoDB::Table"), map[string]any{
			"PointInTimeRecoverySpecification": map[string]any{"PointInTimeRecoveryEnabled": true},
			"DeletionProtectionEnabled":        true,
		})
		tmpl.HasResourceProperties(typ("AWS::Logs::LogGroup"), map[string]any{"RetentionInDays": 30})
	})
	check(t, "outputs: API URL and docs URL on the load balancer", func() {
		alb := onlyID(t, tmpl, "AWS::ElasticLoadBalancingV2::LoadBalancer")
		dns := map[string]any{"Fn::GetAtt": []any{alb, "DNSName"}}
		tmpl.HasOutput(typ("ApiUrl"), map[string]any{"Value": map[string]any{"Fn::Join": []any{"", []any{"http://", dns, "/"}}}})
		tmpl.HasOutput(typ("DocsUrl"), map[string]any{"Value": map[string]any{"Fn::Join": []any{"", []any{"http://", dns, "/docs"}}}})
	})

	// Synth staged the Docker build context without Docker: the Dockerfile
	// and sources, and none of the excluded trees.
	ctx := dockerAssetDir(t, outdir)
	for _, want := range []string{"Dockerfile", "go.mod", "cmd/api"} {
		if _, err := os.Stat(filepath.Join(ctx, want)); err != nil {
			t.Errorf("image build context lacks %s: %v", want, err)
		}
	}
	for _, unwanted := range []string{".git", "cdk", "scripts"} {
		if _, err := os.Stat(filepath.Join(ctx, unwanted)); err == nil {
			t.Errorf("image build context holds %s, which must be excluded", unwanted)
		}
	}
}

func TestContainerStackHTTPS(t *testing.T) {
	app := newApp(t)
	s := NewContainerStack(app, "Container", &ContainerStackProps{
		RepoRoot: repoRoot, Arch: ArchX86, Scaling: ScalingOptions{MinTasks: 1, MaxTasks: 3}, Auth: testAuth,
		CertificateArn: "arn:aws:acm:eu-west-1:111111111111:certificate/00000000-0000-0000-0000-000000000000",
	})
	tmpl := synth(t, s.Stack)
	check(t, "HTTPS on 443 with the certificate, HTTP redirected", func() {
		tmpl.HasResourceProperties(typ("AWS::ElasticLoadBalancingV2::Listener"), map[string]any{
			"Port": 443, "Protocol": "HTTPS", "Certificates": []any{map[string]any{"CertificateArn": like("^arn:aws:acm:")}},
		})
		tmpl.HasResourceProperties(typ("AWS::ElasticLoadBalancingV2::Listener"), map[string]any{
			"Port": 80, "DefaultActions": []any{map[string]any{"Type": "redirect"}},
		})
		tmpl.HasOutput(typ("DocsUrl"), map[string]any{"Value": map[string]any{"Fn::Join": []any{"", assertions.Match_ArrayWith(&[]any{"https://"})}}})
	})
	check(t, "x86_64, and one to three tasks", func() {
		tmpl.HasResourceProperties(typ("AWS::ECS::TaskDefinition"), map[string]any{
			"RuntimePlatform": map[string]any{"CpuArchitecture": "X86_64"},
		})
		tmpl.HasResourceProperties(typ("AWS::ApplicationAutoScaling::ScalableTarget"), map[string]any{"MinCapacity": 1, "MaxCapacity": 3})
	})
}

// dockerAssetDir is the staged directory of the stack's one image asset.
func dockerAssetDir(t *testing.T, outdir string) string {
	t.Helper()
	entries, err := os.ReadDir(outdir)
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, e := range entries {
		if e.IsDir() && strings.HasPrefix(e.Name(), "asset.") {
			if _, err := os.Stat(filepath.Join(outdir, e.Name(), "Dockerfile")); err == nil {
				dirs = append(dirs, filepath.Join(outdir, e.Name()))
			}
		}
	}
	if len(dirs) != 1 {
		t.Fatalf("want one staged Docker build context in %s, found %d", outdir, len(dirs))
	}
	return dirs[0]
}

func TestCleanPrefix(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"/v2", "/v2", true},
		{"v2", "/v2", true},
		{"/v2/", "/v2", true},
		{"/api/v2", "/api/v2", true},
		{"", "", false},
		{"/", "", false},
		{"/v2//x", "", false},
		{"/{proxy+}", "", false},
		{"/a/../b", "", false},
		{"/a b", "", false},
	} {
		got, err := cleanPrefix(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("cleanPrefix(%q) = %q, %v; want %q, ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

// The bootstrap is what provided.al2023 on arm64 runs: a static arm64 ELF.
func TestBuildBootstrap(t *testing.T) {
	f, err := elf.Open(filepath.Join(codeDir, "bootstrap"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Machine != elf.EM_AARCH64 {
		t.Errorf("bootstrap machine = %v, want EM_AARCH64", f.Machine)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("bootstrap is dynamically linked; want static (CGO_ENABLED=0)")
		}
	}
	if f.Section(".symtab") != nil {
		t.Error("bootstrap has a symbol table; want it stripped (-s -w)")
	}
	// Without -c tracing=true the OpenTelemetry SDK and otelhttp are not
	// linked at all: the module list the Go linker records says so.
	info, err := buildinfo.ReadFile(filepath.Join(codeDir, "bootstrap"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range info.Settings {
		if s.Key == "-tags" && s.Value != BootstrapTags(false) {
			t.Errorf("bootstrap built with tags %q, want %q", s.Value, BootstrapTags(false))
		}
	}
	for _, d := range info.Deps {
		if d.Path == "go.opentelemetry.io/otel/sdk" || strings.HasPrefix(d.Path, "go.opentelemetry.io/contrib/") {
			t.Errorf("a bootstrap without tracing links %s", d.Path)
		}
	}
	if BootstrapTags(true) != "lambda.norpc" {
		t.Errorf("BootstrapTags(true) = %q: tracing needs the SDK, so no notracing tag", BootstrapTags(true))
	}
}

// The app's Lambda tests build their bootstraps with internal/lambdatest's
// copies of these tags (this module cannot import the app's): reading them
// from its source keeps the two equal.
func TestBootstrapTagsMatchLambdaTests(t *testing.T) {
	src, err := os.ReadFile(filepath.Join(repoRoot, "internal", "lambdatest", "rie.go"))
	if err != nil {
		t.Fatal(err)
	}
	for name, tags := range map[string]string{"DefaultTags": BootstrapTags(false), "TracingTags": BootstrapTags(true)} {
		if !regexp.MustCompile(`\b` + name + `\s*=\s*"` + regexp.QuoteMeta(tags) + `"`).Match(src) {
			t.Errorf("internal/lambdatest.%s is not %q (BootstrapTags): change both together", name, tags)
		}
	}
}

// StoreActions duplicates store/dynamodb.IAMActions (this module cannot
// import the app's); reading that list from its source keeps the two equal.
func TestStoreActionsMatchStore(t *testing.T) {
	src := filepath.Join(repoRoot, "store", "dynamodb", "dynamodb.go")
	file, err := parser.ParseFile(token.NewFileSet(), src, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	ast.Inspect(file, func(n ast.Node) bool {
		spec, ok := n.(*ast.ValueSpec)
		if !ok || len(spec.Names) != 1 || spec.Names[0].Name != "IAMActions" || len(spec.Values) != 1 {
			return true
		}
		for _, elt := range spec.Values[0].(*ast.CompositeLit).Elts {
			s, err := strconv.Unquote(elt.(*ast.BasicLit).Value)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, s)
		}
		return false
	})
	if !slices.Equal(got, StoreActions) {
		t.Errorf("store/dynamodb.IAMActions = %q, cdk StoreActions = %q: change both together", got, StoreActions)
	}
}

// TestStoreActionsAreLeast: the role gets named actions only, no wildcard
// and nothing the store does not call: orders added ConditionCheckItem (the
// check, inside TransactWriteItems, that an ordered item is still at the
// version read) and no index, since orders are listed from copy rows with
// the table's own Query.
func TestStoreActionsAreLeast(t *testing.T) {
	want := []string{
		"dynamodb:DescribeTable", "dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem",
		"dynamodb:DeleteItem", "dynamodb:ConditionCheckItem",
	}
	if !slices.Equal(StoreActions, want) {
		t.Errorf("StoreActions = %q, want exactly %q", StoreActions, want)
	}
	for _, a := range StoreActions {
		if strings.Contains(a, "*") || !strings.HasPrefix(a, "dynamodb:") {
			t.Errorf("action %q is not one named DynamoDB action", a)
		}
	}
}

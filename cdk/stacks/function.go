package stacks

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Arch is a Lambda/Fargate CPU architecture.
type Arch string

const (
	ArchARM64 Arch = "arm64"  // default: Graviton, about 20% cheaper per GB-second
	ArchX86   Arch = "x86_64" // for dependencies that need amd64
)

func (a Arch) lambda() awslambda.Architecture {
	if a == ArchX86 {
		return awslambda.Architecture_X86_64()
	}
	return awslambda.Architecture_ARM_64()
}

// FunctionOptions are the knobs of the Lambda function; every zero value
// means the default named on the field.
type FunctionOptions struct {
	Arch      Arch          // ArchARM64; the bootstrap must be built for the same
	MemoryMiB int           // 512: a Go binary needs little memory, but CPU scales with it
	Timeout   time.Duration // 10s; API Gateway gives up at 29s (REST) / 30s (HTTP) anyway
	// ReservedConcurrency caps concurrent executions, bounding cost and the
	// load on the table. nil leaves the function on the account's unreserved
	// pool: accounts with a low concurrency quota cannot reserve any.
	ReservedConcurrency *int
	LogRetention        awslogs.RetentionDays // one month
	LogLevel            string                // info (TYPEDAPI_LOG_LEVEL)
	// Environment adds or overrides TYPEDAPI_* settings (see config/).
	Environment map[string]string
}

// ApiFunctionProps wire the function to its table, code and mount point.
type ApiFunctionProps struct {
	FunctionOptions
	Table awsdynamodb.ITable
	// CodeDir holds only the `bootstrap` built by BuildBootstrap for Arch.
	CodeDir string
	// BasePath is the prefix the API is mounted under ("" for the root);
	// the app strips it from every request path (TYPEDAPI_BASE_PATH).
	BasePath string
	// CursorSecret signs list cursors. Every instance must share it, or a
	// cursor made by one is rejected by another. Resolved into the
	// environment at deploy time by a CloudFormation dynamic reference, so
	// the template never holds it (those who may read the function's
	// configuration can). nil leaves it unset.
	CursorSecret awssecretsmanager.ISecret
	// AuthMode is how the app learns who calls, decided by the front door
	// in front of it: AuthModeGateway behind an HTTP API JWT authorizer,
	// AuthModeJWT where nothing verifies the token before the app. Auth is
	// the issuer either way. Both are required, and Environment cannot
	// override them.
	AuthMode string
	Auth     Auth
}

// ApiFunction is the app on Lambda with everything it owns.
type ApiFunction struct {
	Function awslambda.Function
	Role     awsiam.Role
	LogGroup awslogs.LogGroup
}

// NewApiFunction makes the app's Lambda function (provided.al2023), its log
// group with retention, and a role allowed only the store's actions on the
// table and only writing to that log group.
func NewApiFunction(scope constructs.Construct, id string, props ApiFunctionProps) ApiFunction {
	o := props.FunctionOptions.withDefaults()
	if props.AuthMode != AuthModeGateway && props.AuthMode != AuthModeJWT {
		panic(fmt.Sprintf("NewApiFunction %s: AuthMode must be %q or %q, got %q", id, AuthModeGateway, AuthModeJWT, props.AuthMode))
	}
	props.Auth.must()
	c := constructs.NewConstruct(scope, jsii.String(id))

	logGroup, role := newLogsAndRole(c, o, "typedapi Lambda: the store's actions on its table, and its own log group",
		StoreStatement(props.Table))

	env := AppEnvironment(props.Table, o.LogLevel, props.BasePath, o.Environment)
	maps.Copy(env, props.Auth.environment(props.AuthMode))
	if props.CursorSecret != nil {
		env["TYPEDAPI_CURSOR_SECRET"] = *props.CursorSecret.SecretValue().UnsafeUnwrap()
	}

	var reserved *float64
	if o.ReservedConcurrency != nil {
		reserved = jsii.Number(*o.ReservedConcurrency)
	}
	fn := awslambda.NewFunction(c, jsii.String("Function"), &awslambda.FunctionProps{
		Description:                  jsii.String("typedapi: the whole API in one function"),
		Runtime:                      awslambda.Runtime_PROVIDED_AL2023(),
		Architecture:                 o.Arch.lambda(),
		Handler:                      jsii.String("bootstrap"), // ignored by provided runtimes, required by the API
		Code:                         awslambda.Code_FromAsset(jsii.String(props.CodeDir), nil),
		MemorySize:                   jsii.Number(o.MemoryMiB),
		Timeout:                      awscdk.Duration_Millis(jsii.Number(o.Timeout.Milliseconds())),
		ReservedConcurrentExecutions: reserved,
		Environment:                  stringMap(env),
		Role:                         role,
		LogGroup:                     logGroup,
	})
	// The policy must exist before the function can run with it.
	fn.Node().AddDependency(role)
	return ApiFunction{Function: fn, Role: role, LogGroup: logGroup}
}

// newLogsAndRole makes a function's log group, with retention, and its
// role, allowed what grants says and to write to that log group. A role of
// our own instead of AWSLambdaBasicExecutionRole, whose logs:CreateLogGroup
// and logs:* on every log group are more than needed.
func newLogsAndRole(c constructs.Construct, o FunctionOptions, description string, grants ...awsiam.PolicyStatement) (awslogs.LogGroup, awsiam.Role) {
	logGroup := awslogs.NewLogGroup(c, jsii.String("Logs"), &awslogs.LogGroupProps{
		Retention:     o.LogRetention,
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	role := awsiam.NewRole(c, jsii.String("Role"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String(description),
	})
	for _, g := range grants {
		role.AddToPolicy(g)
	}
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("logs:CreateLogStream", "logs:PutLogEvents"),
		Resources: jsii.Strings(*logGroup.LogGroupArn()),
	}))
	return logGroup, role
}

func (o FunctionOptions) withDefaults() FunctionOptions {
	if o.Arch == "" {
		o.Arch = ArchARM64
	}
	if o.MemoryMiB == 0 {
		o.MemoryMiB = 512
	}
	if o.Timeout == 0 {
		o.Timeout = 10 * time.Second
	}
	if o.LogRetention == "" {
		o.LogRetention = awslogs.RetentionDays_ONE_MONTH
	}
	if o.LogLevel == "" {
		o.LogLevel = "info"
	}
	return o
}

// StoreStatement allows exactly StoreActions on the table and nothing else:
// the store uses no index, so no index ARN is granted.
func StoreStatement(table awsdynamodb.ITable) awsiam.PolicyStatement {
	return awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings(StoreActions...),
		Resources: jsii.Strings(*table.TableArn()),
	})
}

// AppEnvironment is the app's configuration (config/, TYPEDAPI_*) for a
// deployment on table: the DynamoDB store, JSON logs, and the mount prefix.
// The region is the SDK's default: AWS_REGION, set by Lambda and ECS.
func AppEnvironment(table awsdynamodb.ITable, logLevel, basePath string, extra map[string]string) map[string]string {
	env := map[string]string{
		"TYPEDAPI_STORE":          "dynamodb",
		"TYPEDAPI_DYNAMODB_TABLE": *table.TableName(),
		"TYPEDAPI_LOG_FORMAT":     "json",
		"TYPEDAPI_LOG_LEVEL":      logLevel,
	}
	if basePath != "" {
		env["TYPEDAPI_BASE_PATH"] = basePath
	}
	maps.Copy(env, extra)
	return env
}

func stringMap(m map[string]string) *map[string]*string {
	out := make(map[string]*string, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out[k] = jsii.String(m[k])
	}
	return &out
}

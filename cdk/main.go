// Command cdk is the CDK app (`cdk synth|diff|deploy`, run from cdk/): the
// serverless stack (Lambda + HTTP API + DynamoDB), the gradual-migration
// example (the app mounted under /v2 of existing APIs) and the container
// stack (Fargate + ALB). Every stack is checked by cdk-nag's AwsSolutions
// pack at synth. Context (-c key=value): arch=arm64|x86_64, dev=true (table
// without deletion protection, deleted with the stack), certificateArn,
// httpApiId, restApiId, restRootResourceId, restStageName; the token
// issuer every stack trusts, one of which is required: authIssuer and
// authAudience (an OIDC issuer of yours; authScopePrefix if it writes the
// scopes with a prefix), or cognito=true (the TypedapiAuth stack's user
// pool; cognitoDomainPrefix, cognitoCallbackUrls to use its OAuth pages);
// streamingUrl=true (a Function URL that streams, beside the HTTP API);
// and the alarm and scaling keys docs/DEPLOY.md lists (alarmEmail,
// maxTasks, ...). The HTTP API routes come from ../openapi/openapi.json.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
	"github.com/typedapi/typedapi/cdk/stacks"
)

func main() {
	defer jsii.Close()
	if err := run(nil); err != nil {
		fmt.Fprintln(os.Stderr, "cdk:", err)
		os.Exit(1)
	}
}

// run builds and synthesizes the app; props nil reads the context the CLI
// passes (cdk.json, -c).
func run(props *awscdk.AppProps) error {
	app := awscdk.NewApp(props)
	// cdk.json holds JSON: true or 4 where -c gives "true" or "4". Any
	// other JSON value (a list, an object) is refused, below, by name.
	var badContext error
	ctx := func(key string) string {
		switch v := app.Node().TryGetContext(jsii.String(key)).(type) {
		case nil:
			return ""
		case string:
			return v
		case bool:
			return strconv.FormatBool(v)
		case float64:
			return strconv.FormatFloat(v, 'f', -1, 64)
		default:
			if badContext == nil {
				badContext = fmt.Errorf("context %s: want a string, a number, true or false; got %T", key, v)
			}
			return ""
		}
	}
	// The switches, checked before anything is built: a typo such as
	// -c tracing=yes is an error, not a silent "off".
	flag := map[string]bool{}
	for _, key := range []string{"dev", "cognito", "tracing", "streamingUrl", "cursorSecret"} {
		switch v := ctx(key); v {
		case "", "false":
		case "true":
			flag[key] = true
		default:
			return fmt.Errorf("context %s=%q: want true or false", key, v)
		}
	}
	var arch stacks.Arch
	switch v := ctx("arch"); v {
	case "", string(stacks.ArchARM64):
		arch = stacks.ArchARM64
	case string(stacks.ArchX86):
		arch = stacks.ArchX86
	default:
		return fmt.Errorf("context arch=%q: want %s or %s", v, stacks.ArchARM64, stacks.ArchX86)
	}
	root, err := stacks.RepoRoot(".")
	if err != nil {
		return err
	}
	table := stacks.ItemsTableProps{}
	if flag["dev"] {
		table = stacks.ItemsTableProps{DeletionProtection: jsii.Bool(false), Disposable: true}
	}
	spec, err := stacks.ReadSpec(stacks.SpecFile(root))
	if err != nil {
		return err
	}
	// Secure by default: no stack without a token issuer.
	auth := stacks.Auth{Issuer: ctx("authIssuer"), Audience: ctx("authAudience"), ScopePrefix: ctx("authScopePrefix")}
	if flag["cognito"] {
		if auth.Issuer != "" || auth.Audience != "" {
			return fmt.Errorf("set either -c cognito=true or -c authIssuer/authAudience, not both")
		}
		var callbacks []string
		if v := ctx("cognitoCallbackUrls"); v != "" {
			callbacks = strings.Split(v, ",")
		}
		a := stacks.NewAuthStack(app, "TypedapiAuth", &stacks.AuthStackProps{UserPool: stacks.UserPoolProps{
			Scopes: stacks.IssuerScopes(spec), CallbackUrls: callbacks, DomainPrefix: ctx("cognitoDomainPrefix"),
		}})
		auth = a.UserPool.Auth
	}
	if err := auth.Check(); err != nil {
		return err
	}
	obs, err := stacks.ObservabilityOptionsFromContext(ctx)
	if err != nil {
		return err
	}
	scaling, err := stacks.ScalingOptionsFromContext(ctx)
	if err != nil {
		return err
	}
	if badContext != nil {
		return badContext
	}
	codeDir := filepath.Join(root, "cdk", ".build", string(arch))
	// -c tracing=true links the OpenTelemetry SDK into the bootstrap, for a
	// function given OTEL_* settings and a collector (docs/OBSERVABILITY.md).
	if err := stacks.BuildBootstrap(root, arch, codeDir, flag["tracing"]); err != nil {
		return err
	}
	// No account or region: the stacks are environment-agnostic, so synth
	// needs no credentials; deploy takes them from the CLI's profile.
	fn := stacks.FunctionOptions{Arch: arch}
	var streaming *stacks.StreamingURLOptions
	if flag["streamingUrl"] {
		streaming = &stacks.StreamingURLOptions{}
	}
	stacks.NewServerlessStack(app, "Typedapi", &stacks.ServerlessStackProps{
		Function: fn, Table: table, CodeDir: codeDir, CursorSecret: flag["cursorSecret"],
		Spec: spec, Auth: auth, Observability: obs, StreamingURL: streaming,
	})
	stacks.NewMigrationExampleStack(app, "TypedapiMigrationExample", &stacks.MigrationExampleProps{
		Function: fn, Table: table, CodeDir: codeDir,
		HttpApiID: ctx("httpApiId"), RestApiID: ctx("restApiId"),
		RestRootResourceID: ctx("restRootResourceId"), RestStageName: ctx("restStageName"),
		Spec: spec, Auth: auth, Observability: obs,
	})
	stacks.NewContainerStack(app, "TypedapiContainer", &stacks.ContainerStackProps{
		RepoRoot: root, Table: table, Arch: arch, CertificateArn: ctx("certificateArn"), Auth: auth,
		Observability: obs, Scaling: scaling,
	})
	if badContext != nil { // a key read after the build
		return badContext
	}
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
	app.Synth(nil)
	return nil
}

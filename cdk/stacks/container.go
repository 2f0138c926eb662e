package stacks

import (
	"fmt"
	"maps"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscertificatemanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecrassets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awselasticloadbalancingv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// ContainerPort is where the app listens in the container ($PORT).
const ContainerPort = 8080

// ContainerStackProps configure the Fargate deployment. Zero values mean
// the defaults named on the fields.
type ContainerStackProps struct {
	awscdk.StackProps
	// RepoRoot is the Docker build context: the repository with its
	// Dockerfile. The image is built at deploy time (cdk-assets), not synth.
	RepoRoot string
	Table    ItemsTableProps
	Arch     Arch // ArchARM64 (Graviton Fargate)
	// Task size: 256 CPU units (0.25 vCPU) and 512 MiB.
	CPU       int
	MemoryMiB int
	// DesiredCount of tasks: 2, one per availability zone.
	DesiredCount int
	// ShutdownGrace is how long in-flight requests may finish after SIGTERM
	// (TYPEDAPI_SHUTDOWN_GRACE): 15s. ECS waits 15s more before SIGKILL.
	ShutdownGrace time.Duration
	LogRetention  awslogs.RetentionDays // one month
	LogLevel      string                // info
	Environment   map[string]string     // more TYPEDAPI_* settings
	// Vpc to run in. nil: a new two-AZ VPC with public subnets only and no
	// NAT gateway (nothing to pay at rest), a free gateway endpoint for
	// DynamoDB and flow logs of rejected traffic.
	Vpc awsec2.IVpc
	// CertificateArn (ACM, same region) turns on HTTPS on 443 with HTTP
	// redirected to it. Empty: plain HTTP on 80.
	CertificateArn string
	// Auth is the token issuer. The ALB verifies nothing, so the app
	// verifies every bearer token itself (TYPEDAPI_AUTH_MODE=jwt).
	Auth Auth
}

// ContainerStack is the API on ECS Fargate behind an Application Load Balancer.
type ContainerStack struct {
	awscdk.Stack
	Service  awsecs.FargateService
	TaskRole awsiam.Role
	Alb      awselasticloadbalancingv2.ApplicationLoadBalancer
}

// NewContainerStack builds the image from the repository's Dockerfile and
// runs it on Fargate behind an ALB that health-checks /healthz.
func NewContainerStack(scope constructs.Construct, id string, props *ContainerStackProps) ContainerStack {
	p := props.withDefaults()
	auth := p.Auth.must()
	stack := awscdk.NewStack(scope, jsii.String(id), &p.StackProps)

	table := NewItemsTable(stack, "Items", &p.Table)
	secret := newCursorSecret(stack)
	vpc := p.Vpc
	if vpc == nil {
		vpc = newPublicVpc(stack)
	}

	taskRole := awsiam.NewRole(stack, jsii.String("TaskRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("ecs-tasks.amazonaws.com"), nil),
		Description: jsii.String("typedapi task: the store's actions on its table, nothing else"),
	})
	taskRole.AddToPolicy(StoreStatement(table))

	cpuArch := awsecs.CpuArchitecture_ARM64()
	platform := awsecrassets.Platform_LINUX_ARM64()
	if p.Arch == ArchX86 {
		cpuArch, platform = awsecs.CpuArchitecture_X86_64(), awsecrassets.Platform_LINUX_AMD64()
	}
	task := awsecs.NewFargateTaskDefinition(stack, jsii.String("Task"), &awsecs.FargateTaskDefinitionProps{
		Cpu:            jsii.Number(p.CPU),
		MemoryLimitMiB: jsii.Number(p.MemoryMiB),
		RuntimePlatform: &awsecs.RuntimePlatform{
			CpuArchitecture:       cpuArch,
			OperatingSystemFamily: awsecs.OperatingSystemFamily_LINUX(),
		},
		TaskRole: taskRole,
	})
	logGroup := awslogs.NewLogGroup(stack, jsii.String("Logs"), &awslogs.LogGroupProps{
		Retention:     p.LogRetention,
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	env := AppEnvironment(table, p.LogLevel, "", nil)
	env["PORT"] = fmt.Sprint(ContainerPort)
	env["TYPEDAPI_SHUTDOWN_GRACE"] = p.ShutdownGrace.String()
	// The ALB connects from inside the VPC: trusting its range makes the app
	// read the client's IP and scheme from the ALB's X-Forwarded-For and
	// X-Forwarded-Proto, and rate-limit each client by that IP.
	env["TYPEDAPI_TRUSTED_PROXIES"] = *vpc.VpcCidrBlock()
	env["TYPEDAPI_RATE_LIMIT"] = "20"
	env["TYPEDAPI_RATE_BURST"] = "40"
	maps.Copy(env, p.Environment)
	maps.Copy(env, auth.environment(AuthModeJWT)) // the front door decides, not an override
	task.AddContainer(jsii.String("api"), &awsecs.ContainerDefinitionOptions{
		Image: awsecs.ContainerImage_FromAsset(jsii.String(p.RepoRoot), &awsecs.AssetImageProps{
			Platform: platform,
			// .dockerignore is read too; these keep synth from copying the
			// repository's history and the CDK's own output into the asset.
			Exclude:    jsii.Strings(".git", "cdk", "scripts", "**/node_modules", "**/cdk.out"),
			IgnoreMode: awscdk.IgnoreMode_DOCKER,
		}),
		Environment: stringMap(env),
		Secrets: &map[string]awsecs.Secret{
			"TYPEDAPI_CURSOR_SECRET": awsecs.Secret_FromSecretsManager(secret, nil),
		},
		PortMappings:           &[]*awsecs.PortMapping{{ContainerPort: jsii.Number(ContainerPort)}},
		Logging:                awsecs.LogDrivers_AwsLogs(&awsecs.AwsLogDriverProps{StreamPrefix: jsii.String("api"), LogGroup: logGroup}),
		StopTimeout:            awscdk.Duration_Seconds(jsii.Number(p.ShutdownGrace.Seconds() + 15)),
		ReadonlyRootFilesystem: jsii.Bool(true), // the app writes nothing to disk
	})

	cluster := awsecs.NewCluster(stack, jsii.String("Cluster"), &awsecs.ClusterProps{
		Vpc:                 vpc,
		ContainerInsightsV2: awsecs.ContainerInsights_ENABLED,
	})
	service := awsecs.NewFargateService(stack, jsii.String("Service"), &awsecs.FargateServiceProps{
		Cluster:        cluster,
		TaskDefinition: task,
		DesiredCount:   jsii.Number(p.DesiredCount),
		// Public subnets with public IPs reach ECR without a NAT gateway;
		// the security group admits only the load balancer.
		AssignPublicIp:         jsii.Bool(true),
		VpcSubnets:             &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PUBLIC},
		CircuitBreaker:         &awsecs.DeploymentCircuitBreaker{Rollback: jsii.Bool(true)},
		MinHealthyPercent:      jsii.Number(100),
		MaxHealthyPercent:      jsii.Number(200),
		HealthCheckGracePeriod: awscdk.Duration_Seconds(jsii.Number(30)),
	})

	alb := awselasticloadbalancingv2.NewApplicationLoadBalancer(stack, jsii.String("Alb"),
		&awselasticloadbalancingv2.ApplicationLoadBalancerProps{
			Vpc:                     vpc,
			InternetFacing:          jsii.Bool(true),
			DropInvalidHeaderFields: jsii.Bool(true),
		})
	var listener awselasticloadbalancingv2.ApplicationListener
	scheme := "http"
	if p.CertificateArn != "" {
		scheme = "https"
		listener = alb.AddListener(jsii.String("Https"), &awselasticloadbalancingv2.BaseApplicationListenerProps{
			Port: jsii.Number(443),
			Certificates: &[]awselasticloadbalancingv2.IListenerCertificate{
				awscertificatemanager.Certificate_FromCertificateArn(stack, jsii.String("Certificate"), jsii.String(p.CertificateArn)),
			},
			SslPolicy: awselasticloadbalancingv2.SslPolicy_RECOMMENDED_TLS,
		})
		alb.AddRedirect(nil)
	} else {
		listener = alb.AddListener(jsii.String("Http"), &awselasticloadbalancingv2.BaseApplicationListenerProps{
			Port: jsii.Number(80),
		})
	}
	listener.AddTargets(jsii.String("Api"), &awselasticloadbalancingv2.AddApplicationTargetsProps{
		Port:     jsii.Number(ContainerPort),
		Protocol: awselasticloadbalancingv2.ApplicationProtocol_HTTP,
		Targets:  &[]awselasticloadbalancingv2.IApplicationLoadBalancerTarget{service},
		HealthCheck: &awselasticloadbalancingv2.HealthCheck{
			Path:                    jsii.String("/healthz"),
			HealthyHttpCodes:        jsii.String("200"),
			Interval:                awscdk.Duration_Seconds(jsii.Number(15)),
			Timeout:                 awscdk.Duration_Seconds(jsii.Number(5)),
			HealthyThresholdCount:   jsii.Number(2),
			UnhealthyThresholdCount: jsii.Number(3),
		},
		// ECS deregisters a task, waits this long, then sends SIGTERM; the
		// app drains what is left within ShutdownGrace.
		DeregistrationDelay: awscdk.Duration_Seconds(jsii.Number(30)),
	})

	suppressContainerFindings(stack, task, alb)

	url := fmt.Sprintf("%s://%s", scheme, *alb.LoadBalancerDnsName())
	awscdk.NewCfnOutput(stack, jsii.String("ApiUrl"), &awscdk.CfnOutputProps{
		Description: jsii.String("Base URL of the API"), Value: jsii.String(url + "/"),
	})
	awscdk.NewCfnOutput(stack, jsii.String("DocsUrl"), &awscdk.CfnOutputProps{
		Description: jsii.String("Interactive API documentation"), Value: jsii.String(url + "/docs"),
	})
	awscdk.NewCfnOutput(stack, jsii.String("TableName"), &awscdk.CfnOutputProps{Value: table.TableName()})
	return ContainerStack{Stack: stack, Service: service, TaskRole: taskRole, Alb: alb}
}

func (p ContainerStackProps) withDefaults() ContainerStackProps {
	if p.Arch == "" {
		p.Arch = ArchARM64
	}
	if p.CPU == 0 {
		p.CPU = 256
	}
	if p.MemoryMiB == 0 {
		p.MemoryMiB = 512
	}
	if p.DesiredCount == 0 {
		p.DesiredCount = 2
	}
	if p.ShutdownGrace == 0 {
		p.ShutdownGrace = 15 * time.Second
	}
	if p.LogRetention == "" {
		p.LogRetention = awslogs.RetentionDays_ONE_MONTH
	}
	if p.LogLevel == "" {
		p.LogLevel = "info"
	}
	return p
}

// newPublicVpc is a VPC that costs nothing at rest: public subnets in two
// zones, no NAT gateway, a gateway endpoint keeping DynamoDB traffic inside
// AWS, and flow logs of rejected connections.
func newPublicVpc(stack awscdk.Stack) awsec2.Vpc {
	vpc := awsec2.NewVpc(stack, jsii.String("Vpc"), &awsec2.VpcProps{
		MaxAzs:      jsii.Number(2),
		NatGateways: jsii.Number(0),
		SubnetConfiguration: &[]*awsec2.SubnetConfiguration{{
			Name: jsii.String("public"), SubnetType: awsec2.SubnetType_PUBLIC, CidrMask: jsii.Number(24),
		}},
	})
	vpc.AddGatewayEndpoint(jsii.String("DynamoDB"), &awsec2.GatewayVpcEndpointOptions{
		Service: awsec2.GatewayVpcEndpointAwsService_DYNAMODB(),
	})
	flowLogs := awslogs.NewLogGroup(stack, jsii.String("FlowLogs"), &awslogs.LogGroupProps{
		Retention:     awslogs.RetentionDays_TWO_WEEKS,
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	vpc.AddFlowLog(jsii.String("Rejected"), &awsec2.FlowLogOptions{
		Destination: awsec2.FlowLogDestination_ToCloudWatchLogs(flowLogs, nil),
		TrafficType: awsec2.FlowLogTrafficType_REJECT,
	})
	return vpc
}

// suppressContainerFindings records why the remaining AwsSolutions findings
// of the container stack are accepted.
func suppressContainerFindings(stack awscdk.Stack, task awsecs.FargateTaskDefinition, alb awselasticloadbalancingv2.ApplicationLoadBalancer) {
	cdknag.NagSuppressions_AddResourceSuppressions(task, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-ECS2"),
		Reason: jsii.String("The environment holds only non-secret settings (table name, log level, port, token issuer); " +
			"the one secret, the cursor key, is injected from Secrets Manager."),
	}, {
		Id: jsii.String("AwsSolutions-IAM5"),
		Reason: jsii.String("CDK's execution role policy: ecr:GetAuthorizationToken works only on resource *; " +
			"image pulls and secret reads are scoped to the asset repository and the one secret."),
		AppliesTo: &[]interface{}{jsii.String("Resource::*")},
	}}, jsii.Bool(true))
	cdknag.NagSuppressions_AddResourceSuppressions(alb, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-ELB2"),
		Reason: jsii.String("The app logs one access line per request (with the request id) to CloudWatch; " +
			"ALB access logs would add an S3 bucket and its cost for the same information."),
	}, {
		Id:     jsii.String("AwsSolutions-EC23"),
		Reason: jsii.String("An internet-facing load balancer for a public API is open to the world by design; tasks admit only the ALB."),
	}}, jsii.Bool(true))
}

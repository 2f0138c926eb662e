package stacks

import (
	"fmt"
	"net/mail"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awselasticloadbalancingv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/aws-cdk-go/awscdk/v2/interfaces/interfacesawscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/interfaces/interfacesawslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// ObservabilityOptions are what an operator tunes per deployment, from
// context (ObservabilityOptionsFromContext). Zero values mean the defaults
// named on the fields.
type ObservabilityOptions struct {
	// AlarmEmail is subscribed to the alarm topic (it must confirm the
	// subscription). Empty: the topic has no subscriber.
	AlarmEmail string
	// Service is the value of the Service dimension the app writes on its
	// metrics (MetricsServiceEnv, set by the stack): the stack's name.
	Service string
	// ErrorRatePercent: alarm when more than this share of requests in five
	// minutes are 5xx: 1.
	ErrorRatePercent float64
	// LatencyP99Ms: alarm when p99 latency stays above this many
	// milliseconds: 1000.
	LatencyP99Ms float64
	// LambdaErrors: alarm when a function fails this many invocations in
	// five minutes (a crash, a timeout; not a 5xx answer): 1.
	LambdaErrors float64
	// DynamoThrottles: alarm when the table throttles this many reads and
	// writes in five minutes: 1.
	DynamoThrottles float64
}

// minRequestsForRate keeps the 5xx-rate alarm quiet when traffic is too
// thin for a rate to mean anything: one failed request out of three is not
// an outage.
const minRequestsForRate = 20

func (o ObservabilityOptions) withDefaults() ObservabilityOptions {
	if o.ErrorRatePercent == 0 {
		o.ErrorRatePercent = 1
	}
	if o.LatencyP99Ms == 0 {
		o.LatencyP99Ms = 1000
	}
	if o.LambdaErrors == 0 {
		o.LambdaErrors = 1
	}
	if o.DynamoThrottles == 0 {
		o.DynamoThrottles = 1
	}
	return o
}

// serviceValue is what the app accepts as metrics_service, and what a
// SEARCH expression can quote safely.
var serviceValue = regexp.MustCompile(`^[A-Za-z0-9_.-]{3,255}$`)

// ObservabilityOptionsFromContext reads the context keys alarmEmail,
// alarmService, alarm5xxPercent, alarmP99Ms, alarmLambdaErrors and
// alarmDynamoThrottles; get returns "" for a key that is not set. A value
// that is set but unusable is an error, so a typo fails synth instead of
// deploying an alarm that never fires.
func ObservabilityOptionsFromContext(get func(string) string) (ObservabilityOptions, error) {
	o := ObservabilityOptions{AlarmEmail: get("alarmEmail"), Service: get("alarmService")}
	if o.AlarmEmail != "" {
		if a, err := mail.ParseAddress(o.AlarmEmail); err != nil || a.Address != o.AlarmEmail {
			return o, fmt.Errorf("context alarmEmail=%q: want one plain address such as oncall@example.com", o.AlarmEmail)
		}
	}
	if o.Service != "" && !serviceValue.MatchString(o.Service) {
		return o, fmt.Errorf("context alarmService=%q: want 3-255 letters, digits, '.', '_' or '-'", o.Service)
	}
	for _, n := range []struct {
		key string
		dst *float64
	}{
		{"alarm5xxPercent", &o.ErrorRatePercent},
		{"alarmP99Ms", &o.LatencyP99Ms},
		{"alarmLambdaErrors", &o.LambdaErrors},
		{"alarmDynamoThrottles", &o.DynamoThrottles},
	} {
		v, err := positiveContext(get, n.key)
		if err != nil {
			return o, err
		}
		*n.dst = v
	}
	return o, nil
}

// positiveContext is the number under key, 0 when unset.
func positiveContext(get func(string) string, key string) (float64, error) {
	s := get(key)
	if s == "" {
		return 0, nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || !(v > 0 && v <= 1e9) { // also refuses NaN
		return 0, fmt.Errorf("context %s=%q: want a number above 0", key, s)
	}
	return v, nil
}

// ObservabilityProps name what runs the service in a stack. Set Functions
// for Lambda, or Containers, LoadBalancer, TargetGroup and LogGroups for a
// container service; HttpApi and AccessLogs when the stack owns its HTTP
// API. The functions and containers get MetricsServiceEnv.
type ObservabilityProps struct {
	ObservabilityOptions
	Table     awsdynamodb.ITable
	Functions []ApiFunction
	// HttpApi is the front door the 5xx-rate and p99 alarms watch. Without
	// one or a load balancer (the app mounted on an API owned elsewhere,
	// whose metrics cover routes that are not the app's), they watch the
	// app's own service-wide metrics.
	HttpApi    awsapigatewayv2.IHttpApi
	AccessLogs awslogs.ILogGroup // the HTTP API's access logs: its throttled requests are 429s there
	// LoadBalancer and TargetGroup front a container service.
	LoadBalancer awselasticloadbalancingv2.IApplicationLoadBalancer
	TargetGroup  awselasticloadbalancingv2.IApplicationTargetGroup
	// Containers run the app; LogGroups hold its lines when not on Lambda.
	Containers []awsecs.ContainerDefinition
	LogGroups  []awslogs.ILogGroup
	// Alarms made elsewhere (ServiceScaling's) that notify the same topic
	// and show on the dashboard, with Widgets as more dashboard rows.
	Alarms  []awscloudwatch.Alarm
	Widgets [][]awscloudwatch.IWidget
}

// Observability is what an on-call engineer opens first: a dashboard,
// alarms sent to one topic, and saved Logs Insights queries.
type Observability struct {
	constructs.Construct
	Topic     awssns.Topic
	Dashboard awscloudwatch.Dashboard
	Alarms    []awscloudwatch.Alarm
	Queries   []awslogs.QueryDefinition
	opts      ObservabilityOptions
}

// NewObservability makes the alarm topic, the alarms, the dashboard and the
// saved queries for the app as props describe it.
func NewObservability(scope constructs.Construct, id string, props ObservabilityProps) *Observability {
	o := &Observability{
		Construct: constructs.NewConstruct(scope, jsii.String(id)),
		opts:      props.ObservabilityOptions.withDefaults(),
	}
	stack := awscdk.Stack_Of(o.Construct)
	if o.opts.Service == "" {
		o.opts.Service = *stack.StackName()
	}
	if !serviceValue.MatchString(o.opts.Service) {
		panic(fmt.Sprintf("Observability: Service %q: want 3-255 letters, digits, '.', '_' or '-'", o.opts.Service))
	}
	for _, fn := range props.Functions {
		fn.Function.AddEnvironment(jsii.String(MetricsServiceEnv), jsii.String(o.opts.Service), nil)
	}
	for _, c := range props.Containers {
		c.AddEnvironment(jsii.String(MetricsServiceEnv), jsii.String(o.opts.Service))
	}
	o.Topic = newAlarmTopic(o.Construct, o.opts.AlarmEmail)

	var frontDoor []awscloudwatch.IWidget
	switch {
	case props.HttpApi != nil:
		frontDoor = o.httpApiFrontDoor(props.HttpApi, props.AccessLogs)
	case props.LoadBalancer != nil:
		frontDoor = o.albFrontDoor(props.LoadBalancer, props.TargetGroup)
	default:
		o.appAlarms()
	}
	var lambdaRows [][]awscloudwatch.IWidget
	for i, fn := range props.Functions {
		lambdaRows = append(lambdaRows, o.lambdaRow(fmt.Sprint(i), fn))
	}
	dynamo := o.tableRow(props.Table)

	logGroups := props.LogGroups
	for _, fn := range props.Functions {
		logGroups = append(logGroups, fn.LogGroup)
	}
	o.savedQueries(stack, logGroups, props.AccessLogs, len(props.Functions) > 0)

	o.Dashboard = awscloudwatch.NewDashboard(o.Construct, jsii.String("Dashboard"), &awscloudwatch.DashboardProps{
		// Dashboards are global to the account: the region keeps a stack
		// deployed in two regions from clashing.
		DashboardName:   awscdk.Fn_Join(jsii.String("-"), &[]*string{stack.StackName(), stack.Region()}),
		DefaultInterval: awscdk.Duration_Hours(jsii.Number(3)),
	})
	o.Dashboard.AddWidgets(
		awscloudwatch.NewTextWidget(&awscloudwatch.TextWidgetProps{
			Markdown: jsii.String(fmt.Sprintf("## %s\nPer-operation metrics: namespace `%s`, %s `%s` (the app's EMF lines). "+
				"Saved queries: Logs Insights → Queries → `%s/…`. One request: the query *one request by id*, "+
				"with the `X-Request-Id` of the response.", *stack.StackName(), MetricsNamespace, DimService,
				o.opts.Service, *stack.StackName())),
			Width: jsii.Number(24), Height: jsii.Number(2),
		}))
	o.Dashboard.AddWidgets(o.serviceWidgets()...)
	o.Dashboard.AddWidgets(o.operationWidgets(MetricRequests, "Requests per operation", "Sum"),
		o.operationWidgets(MetricLatency, "Latency p50 per operation (ms)", "p50"),
		o.operationWidgets(MetricLatency, "Latency p99 per operation (ms)", "p99"))
	o.Dashboard.AddWidgets(append([]awscloudwatch.IWidget{
		o.operationWidgets(MetricErrors4xx, "4xx per operation", "Sum"),
		o.operationWidgets(MetricErrors5xx, "5xx per operation", "Sum"),
	}, frontDoor...)...)
	for _, row := range lambdaRows {
		o.Dashboard.AddWidgets(row...)
	}
	o.Dashboard.AddWidgets(dynamo...)
	for _, row := range props.Widgets {
		o.Dashboard.AddWidgets(row...)
	}
	o.watch(props.Alarms...)
	refs := make([]interfacesawscloudwatch.IAlarmRef, len(o.Alarms))
	for i, a := range o.Alarms {
		refs[i] = a
	}
	o.Dashboard.AddWidgets(awscloudwatch.NewAlarmStatusWidget(&awscloudwatch.AlarmStatusWidgetProps{
		Title: jsii.String("Alarms"), Alarms: &refs, Width: jsii.Number(24), Height: jsii.Number(3),
	}))

	awscdk.NewCfnOutput(o.Construct, jsii.String("DashboardUrl"), &awscdk.CfnOutputProps{
		Description: jsii.String("CloudWatch dashboard of the API"),
		Value: awscdk.Fn_Join(jsii.String(""), &[]*string{
			jsii.String("https://console.aws.amazon.com/cloudwatch/home?region="), stack.Region(),
			jsii.String("#dashboards:name="), o.Dashboard.DashboardName(),
		}),
	})
	awscdk.NewCfnOutput(o.Construct, jsii.String("AlarmTopicArn"), &awscdk.CfnOutputProps{
		Description: jsii.String("SNS topic every alarm of the API notifies; subscribe more endpoints here"),
		Value:       o.Topic.TopicArn(),
	})
	return o
}

// alarmName starts with the stack, so the e-mail's subject says which
// deployment and what, at a glance. Names are unique in a region, as
// stack names are; thresholds stay out, so changing one keeps the alarm.
func (o *Observability) alarmName(what string) *string {
	return jsii.String(*awscdk.Stack_Of(o.Construct).StackName() + ": " + what)
}

// watch sends the alarms' changes, to ALARM and back to OK, to the topic.
func (o *Observability) watch(alarms ...awscloudwatch.Alarm) {
	action := awscloudwatchactions.NewSnsAction(o.Topic)
	for _, a := range alarms {
		a.AddAlarmAction(action)
		a.AddOkAction(action)
	}
	o.Alarms = append(o.Alarms, alarms...)
}

// newAlarmTopic is the topic every alarm notifies. CloudWatch can publish
// to an encrypted topic only with a customer managed key whose policy lets
// it use the key (the AWS managed SNS key does not): $1 a month.
func newAlarmTopic(scope constructs.Construct, email string) awssns.Topic {
	key := awskms.NewKey(scope, jsii.String("AlarmsKey"), &awskms.KeyProps{
		Description:       jsii.String("typedapi: encrypts the alarm topic"),
		EnableKeyRotation: jsii.Bool(true),
		RemovalPolicy:     awscdk.RemovalPolicy_DESTROY,
		PendingWindow:     awscdk.Duration_Days(jsii.Number(7)),
	})
	key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("CloudWatchAlarmsPublish"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("cloudwatch.amazonaws.com"), nil)},
		Actions:    jsii.Strings("kms:Decrypt", "kms:GenerateDataKey*"),
		Resources:  jsii.Strings("*"), // a key policy's resource is the key itself
	}), nil)
	topic := awssns.NewTopic(scope, jsii.String("AlarmTopic"), &awssns.TopicProps{
		DisplayName: jsii.String("typedapi alarms"),
		MasterKey:   key,
		EnforceSSL:  jsii.Bool(true),
	})
	if email != "" {
		topic.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(email), nil))
	}
	return topic
}

// operationWidgets graphs one EMF metric per operation. A SEARCH finds every
// operation the app has reported, so a new operation appears without a
// deploy; the app bounds the operations (every unmatched path is one
// value), so the search stays small.
func (o *Observability) operationWidgets(metric, title, stat string) awscloudwatch.GraphWidget {
	return awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
		Title: jsii.String(title), Width: jsii.Number(8), Height: jsii.Number(6),
		Left: &[]awscloudwatch.IMetric{awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
			Expression: jsii.String(operationSearch(metric, o.opts.Service, stat)),
			Label:      jsii.String(""),
			Period:     awscdk.Duration_Minutes(jsii.Number(1)),
		})},
	})
}

// operationSearch is a SEARCH over the per-operation dimension set of one
// metric of one service.
func operationSearch(metric, service, stat string) string {
	return dimensionSearch(metric, DimOperation, service, stat)
}

// dimensionSearch is a SEARCH over the set [Service, dim] of one metric of
// one service: one line per value of dim.
func dimensionSearch(metric, dim, service, stat string) string {
	// A schema may name its dimensions in any order; sorted, the text
	// does not depend on the order written here.
	dims := []string{DimService, dim}
	slices.Sort(dims)
	return fmt.Sprintf(`SEARCH('{%s,%s} MetricName="%s" %s="%s"', '%s', 60)`,
		MetricsNamespace, strings.Join(dims, ","), metric, DimService, service, stat)
}

// serviceMetric is one of the app's metrics over the whole service.
func (o *Observability) serviceMetric(name, stat string, period awscdk.Duration) awscloudwatch.Metric {
	return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
		Namespace:     jsii.String(MetricsNamespace),
		MetricName:    jsii.String(name),
		DimensionsMap: &map[string]*string{DimService: jsii.String(o.opts.Service)},
		Statistic:     jsii.String(stat),
		Period:        period,
	})
}

// serviceWidgets are the whole service at a glance, as the app sees it:
// requests by status class, 5xx rate, latency p50 and p99, cold starts (on
// Lambda a new execution environment, in a container a task's first
// request).
func (o *Observability) serviceWidgets() []awscloudwatch.IWidget {
	return []awscloudwatch.IWidget{
		awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
			Title: jsii.String("Requests by status class"), Width: jsii.Number(6), Height: jsii.Number(6),
			Left: &[]awscloudwatch.IMetric{awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
				Expression: jsii.String(dimensionSearch(MetricRequests, DimStatusClass, o.opts.Service, "Sum")),
				Label:      jsii.String(""),
				Period:     oneMinute,
			})},
			Stacked: jsii.Bool(true),
		}),
		awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
			Title: jsii.String("5xx and 4xx, share of requests (0-1)"), Width: jsii.Number(6), Height: jsii.Number(6),
			Left: &[]awscloudwatch.IMetric{
				o.serviceMetric(MetricErrors5xx, "Average", oneMinute).With(&awscloudwatch.MetricOptions{Label: jsii.String("5xx")}),
				o.serviceMetric(MetricErrors4xx, "Average", oneMinute).With(&awscloudwatch.MetricOptions{Label: jsii.String("4xx")}),
			},
		}),
		awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
			Title: jsii.String("Latency p50 and p99 (ms), all operations"), Width: jsii.Number(6), Height: jsii.Number(6),
			Left: &[]awscloudwatch.IMetric{
				o.serviceMetric(MetricLatency, "p50", oneMinute),
				o.serviceMetric(MetricLatency, "p99", oneMinute),
			},
		}),
		awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
			Title: jsii.String("Cold starts (the app's ColdStart metric)"), Width: jsii.Number(6), Height: jsii.Number(6),
			Left: &[]awscloudwatch.IMetric{o.serviceMetric(MetricColdStart, "Sum", fiveMinutes)},
		}),
	}
}

// appAlarms alarm on the app's own 5xx rate and p99 latency, for a stack
// whose front door is not its own.
func (o *Observability) appAlarms() {
	o.watch(
		o.newRateAlarm("App5xxRate", "app",
			o.serviceMetric(MetricErrors5xx, "Sum", fiveMinutes), o.serviceMetric(MetricRequests, "Sum", fiveMinutes)),
		awscloudwatch.NewAlarm(o.Construct, jsii.String("AppLatencyP99"), &awscloudwatch.AlarmProps{
			AlarmName: o.alarmName("p99 latency of the app"),
			AlarmDescription: jsii.String(fmt.Sprintf("p99 latency of the app's requests above %g ms for 10 of 15 minutes. "+
				"Dashboard: latency p99 per operation; Logs Insights: slowest operations.", o.opts.LatencyP99Ms)),
			Metric:            o.serviceMetric(MetricLatency, "p99", fiveMinutes),
			Threshold:         jsii.Number(o.opts.LatencyP99Ms),
			EvaluationPeriods: jsii.Number(3), DatapointsToAlarm: jsii.Number(2),
			EvaluateLowSampleCountPercentile: p99FewSamples,
			ComparisonOperator:               awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
			TreatMissingData:                 awscloudwatch.TreatMissingData_NOT_BREACHING,
		}),
	)
}

// p99FewSamples keeps a p99 alarm's state when a period has too few
// requests for a 99th percentile to mean anything (at night, three
// requests of which one is a cold start): it is then the slowest request,
// not the tail of many.
var p99FewSamples = jsii.String("ignore")

var (
	fiveMinutes = awscdk.Duration_Minutes(jsii.Number(5))
	oneMinute   = awscdk.Duration_Minutes(jsii.Number(1))
)

func stat(s string, period awscdk.Duration) *awscloudwatch.MetricOptions {
	return &awscloudwatch.MetricOptions{Statistic: jsii.String(s), Period: period}
}

// httpApiFrontDoor alarms on the HTTP API's 5xx rate and p99 latency: what
// clients see, including the 5xx the app never logs (a crash, a timeout).
func (o *Observability) httpApiFrontDoor(api awsapigatewayv2.IHttpApi, accessLogs awslogs.ILogGroup) []awscloudwatch.IWidget {
	errors := api.MetricServerError(stat("Sum", fiveMinutes))
	requests := api.MetricCount(stat("Sum", fiveMinutes))
	o.watch(
		o.newRateAlarm("Api5xxRate", "HTTP API", errors, requests),
		awscloudwatch.NewAlarm(o.Construct, jsii.String("ApiLatencyP99"), &awscloudwatch.AlarmProps{
			AlarmName: o.alarmName("p99 latency at the HTTP API"),
			AlarmDescription: jsii.String(fmt.Sprintf("p99 latency of the HTTP API above %g ms for 10 of 15 minutes. "+
				"Dashboard: latency p99 per operation shows which; Logs Insights: slowest operations.", o.opts.LatencyP99Ms)),
			Metric:            api.MetricLatency(stat("p99", fiveMinutes)),
			Threshold:         jsii.Number(o.opts.LatencyP99Ms),
			EvaluationPeriods: jsii.Number(3), DatapointsToAlarm: jsii.Number(2),
			EvaluateLowSampleCountPercentile: p99FewSamples,
			ComparisonOperator:               awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
			TreatMissingData:                 awscloudwatch.TreatMissingData_NOT_BREACHING,
		}),
	)
	widgets := []awscloudwatch.IWidget{awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
		Title: jsii.String("HTTP API: requests, 4xx, 5xx"), Width: jsii.Number(8), Height: jsii.Number(6),
		Left: &[]awscloudwatch.IMetric{
			api.MetricCount(stat("Sum", oneMinute)),
			api.MetricClientError(stat("Sum", oneMinute)),
			api.MetricServerError(stat("Sum", oneMinute)),
		},
		Right: &[]awscloudwatch.IMetric{api.MetricLatency(stat("p99", oneMinute))},
	})}
	if accessLogs != nil {
		// HTTP APIs publish no throttle metric: a throttled request is a 429
		// in the access log, written by the gateway before the function runs.
		widgets = append(widgets, awscloudwatch.NewLogQueryWidget(&awscloudwatch.LogQueryWidgetProps{
			Title:         jsii.String("HTTP API throttles (429 from the gateway)"),
			LogGroupNames: &[]*string{accessLogs.LogGroupName()},
			QueryLines:    jsii.Strings(`filter status = "429" or status = 429`, "stats count(*) as throttled by bin(1m)"),
			View:          awscloudwatch.LogQueryVisualizationType_LINE,
			Width:         jsii.Number(24), Height: jsii.Number(4),
		}))
	}
	return widgets
}

// albFrontDoor alarms on the load balancer's 5xx rate (the tasks' and its
// own, such as no healthy target) and the targets' p99 response time.
func (o *Observability) albFrontDoor(alb awselasticloadbalancingv2.IApplicationLoadBalancer, tg awselasticloadbalancingv2.IApplicationTargetGroup) []awscloudwatch.IWidget {
	m := alb.Metrics()
	target5xx := m.HttpCodeTarget(awselasticloadbalancingv2.HttpCodeTarget_TARGET_5XX_COUNT, stat("Sum", fiveMinutes))
	elb5xx := m.HttpCodeElb(awselasticloadbalancingv2.HttpCodeElb_ELB_5XX_COUNT, stat("Sum", fiveMinutes))
	errors := awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
		Expression:   jsii.String("FILL(t, 0) + FILL(e, 0)"),
		UsingMetrics: &map[string]awscloudwatch.IMetric{"t": target5xx, "e": elb5xx},
		Label:        jsii.String("5xx"), Period: fiveMinutes,
	})
	o.watch(
		o.newRateAlarm("Alb5xxRate", "load balancer", errors, m.RequestCount(stat("Sum", fiveMinutes))),
		awscloudwatch.NewAlarm(o.Construct, jsii.String("AlbLatencyP99"), &awscloudwatch.AlarmProps{
			AlarmName: o.alarmName("p99 latency at the load balancer"),
			AlarmDescription: jsii.String(fmt.Sprintf("p99 response time of the tasks above %g ms for 10 of 15 minutes. "+
				"Dashboard: latency p99 per operation and CPU; Logs Insights: slowest operations.", o.opts.LatencyP99Ms)),
			Metric:            m.TargetResponseTime(stat("p99", fiveMinutes)),
			Threshold:         jsii.Number(o.opts.LatencyP99Ms / 1000), // the metric is in seconds
			EvaluationPeriods: jsii.Number(3), DatapointsToAlarm: jsii.Number(2),
			EvaluateLowSampleCountPercentile: p99FewSamples,
			ComparisonOperator:               awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
			TreatMissingData:                 awscloudwatch.TreatMissingData_NOT_BREACHING,
		}),
	)
	left := []awscloudwatch.IMetric{
		m.RequestCount(stat("Sum", oneMinute)),
		m.HttpCodeTarget(awselasticloadbalancingv2.HttpCodeTarget_TARGET_4XX_COUNT, stat("Sum", oneMinute)),
		m.HttpCodeTarget(awselasticloadbalancingv2.HttpCodeTarget_TARGET_5XX_COUNT, stat("Sum", oneMinute)),
		m.HttpCodeElb(awselasticloadbalancingv2.HttpCodeElb_ELB_5XX_COUNT, stat("Sum", oneMinute)),
		m.RejectedConnectionCount(stat("Sum", oneMinute)),
	}
	if tg != nil {
		left = append(left, tg.Metrics().UnhealthyHostCount(stat("Maximum", oneMinute)))
	}
	return []awscloudwatch.IWidget{awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
		Title: jsii.String("Load balancer: requests, 4xx, 5xx, rejected"), Width: jsii.Number(8), Height: jsii.Number(6),
		Left:  &left,
		Right: &[]awscloudwatch.IMetric{m.TargetResponseTime(stat("p99", oneMinute))},
	})}
}

// newRateAlarm alarms when more than ErrorRatePercent of at least
// minRequestsForRate requests in five minutes were 5xx.
func (o *Observability) newRateAlarm(id, where string, errors, requests awscloudwatch.IMetric) awscloudwatch.Alarm {
	rate := awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
		Expression:   jsii.String(fmt.Sprintf("IF(requests >= %d, 100 * FILL(errors, 0) / requests, 0)", minRequestsForRate)),
		UsingMetrics: &map[string]awscloudwatch.IMetric{"errors": errors, "requests": requests},
		Label:        jsii.String("5xx % of requests"),
		Period:       fiveMinutes,
	})
	return awscloudwatch.NewAlarm(o.Construct, jsii.String(id), &awscloudwatch.AlarmProps{
		AlarmName: o.alarmName("5xx rate at the " + where),
		AlarmDescription: jsii.String(fmt.Sprintf("More than %g%% of requests at the %s were 5xx in 5 minutes "+
			"(at least %d requests). Dashboard: 5xx per operation; Logs Insights: errors by operation, "+
			"then one request by id.", o.opts.ErrorRatePercent, where, minRequestsForRate)),
		Metric:             rate,
		Threshold:          jsii.Number(o.opts.ErrorRatePercent),
		EvaluationPeriods:  jsii.Number(1),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	})
}

// lambdaRow alarms on the function's failed invocations, and graphs
// invocations, errors, throttles, duration, concurrency, cold starts and
// init duration.
func (o *Observability) lambdaRow(n string, fn ApiFunction) []awscloudwatch.IWidget {
	f := fn.Function
	// The function's place in the stack, "Api" or "HttpMount/Api": what
	// tells two functions of one stack apart in an alarm's name.
	name := strings.TrimSuffix(strings.TrimPrefix(*f.Node().Path(), *awscdk.Stack_Of(f).Node().Path()+"/"), "/Function")
	o.watch(awscloudwatch.NewAlarm(o.Construct, jsii.String("LambdaErrors"+n), &awscloudwatch.AlarmProps{
		AlarmName: o.alarmName("Lambda errors of " + name),
		AlarmDescription: jsii.String(fmt.Sprintf("The function failed %g or more invocations in 5 minutes: a crash, "+
			"a timeout or an out-of-memory, which the client sees as a 5xx from the gateway. Logs Insights: "+
			"one request by id with the aws_request_id of the failed REPORT line.", o.opts.LambdaErrors)),
		Metric:             f.MetricErrors(stat("Sum", fiveMinutes)),
		Threshold:          jsii.Number(o.opts.LambdaErrors),
		EvaluationPeriods:  jsii.Number(1),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	}))
	return []awscloudwatch.IWidget{
		awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
			Title: jsii.String("Lambda: invocations, errors, throttles"), Width: jsii.Number(8), Height: jsii.Number(6),
			Left: &[]awscloudwatch.IMetric{
				f.MetricInvocations(stat("Sum", oneMinute)),
				f.MetricErrors(stat("Sum", oneMinute)),
				f.MetricThrottles(stat("Sum", oneMinute)),
			},
		}),
		awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
			Title: jsii.String("Lambda: duration p50/p99 (ms), concurrency"), Width: jsii.Number(8), Height: jsii.Number(6),
			Left: &[]awscloudwatch.IMetric{
				f.MetricDuration(stat("p50", oneMinute)),
				f.MetricDuration(stat("p99", oneMinute)),
			},
			Right: &[]awscloudwatch.IMetric{f.Metric(jsii.String("ConcurrentExecutions"), stat("Maximum", oneMinute))},
		}),
		// Lambda publishes no init-duration metric; its REPORT line has it.
		awscloudwatch.NewLogQueryWidget(&awscloudwatch.LogQueryWidgetProps{
			Title:         jsii.String("Lambda cold starts and init duration (ms), from REPORT lines"),
			LogGroupNames: &[]*string{fn.LogGroup.LogGroupName()},
			QueryLines: jsii.Strings(`filter @type = "REPORT" and ispresent(@initDuration)`,
				"stats count(*) as cold_starts, pct(@initDuration, 50) as p50_init, pct(@initDuration, 99) as p99_init by bin(5m)"),
			View:  awscloudwatch.LogQueryVisualizationType_LINE,
			Width: jsii.Number(8), Height: jsii.Number(6),
		}),
	}
}

// tableRow alarms on DynamoDB throttling and graphs consumed capacity and
// throttled events.
func (o *Observability) tableRow(table awsdynamodb.ITable) []awscloudwatch.IWidget {
	throttles := func(period awscdk.Duration) awscloudwatch.MathExpression {
		return awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
			Expression: jsii.String("FILL(r, 0) + FILL(w, 0)"),
			UsingMetrics: &map[string]awscloudwatch.IMetric{
				"r": table.Metric(jsii.String("ReadThrottleEvents"), stat("Sum", period)),
				"w": table.Metric(jsii.String("WriteThrottleEvents"), stat("Sum", period)),
			},
			Label: jsii.String("throttled reads + writes"), Period: period,
		})
	}
	o.watch(awscloudwatch.NewAlarm(o.Construct, jsii.String("DynamoThrottles"), &awscloudwatch.AlarmProps{
		AlarmName: o.alarmName("DynamoDB throttling"),
		AlarmDescription: jsii.String(fmt.Sprintf("The table throttled %g or more reads or writes in 5 minutes: "+
			"an on-demand table above twice its previous peak, or a hot partition. The app retries, then answers 503. "+
			"Dashboard: DynamoDB row.", o.opts.DynamoThrottles)),
		Metric:             throttles(fiveMinutes),
		Threshold:          jsii.Number(o.opts.DynamoThrottles),
		EvaluationPeriods:  jsii.Number(1),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	}))
	return []awscloudwatch.IWidget{
		awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
			Title: jsii.String("DynamoDB: consumed capacity units"), Width: jsii.Number(12), Height: jsii.Number(6),
			Left: &[]awscloudwatch.IMetric{
				table.MetricConsumedReadCapacityUnits(stat("Sum", oneMinute)),
				table.MetricConsumedWriteCapacityUnits(stat("Sum", oneMinute)),
			},
		}),
		awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
			Title: jsii.String("DynamoDB: throttled reads and writes"), Width: jsii.Number(12), Height: jsii.Number(6),
			Left: &[]awscloudwatch.IMetric{
				table.Metric(jsii.String("ReadThrottleEvents"), stat("Sum", oneMinute)),
				table.Metric(jsii.String("WriteThrottleEvents"), stat("Sum", oneMinute)),
				table.MetricSystemErrorsForOperations(&awsdynamodb.SystemErrorsForOperationsMetricOptions{
					Statistic: jsii.String("Sum"), Period: oneMinute,
				}),
			},
		}),
	}
}

// savedQueries are the Logs Insights queries an on-call engineer runs
// first, saved under "<stack>/" on the app's log groups.
func (o *Observability) savedQueries(stack awscdk.Stack, appLogs []awslogs.ILogGroup, accessLogs awslogs.ILogGroup, lambda bool) {
	access := fmt.Sprintf("msg = %q", LogMessage)
	startups := awslogs.NewQueryString(&awslogs.QueryStringProps{
		FilterStatements: jsii.Strings(fmt.Sprintf("msg = %q", LogStartMessage)),
		StatsStatements:  jsii.Strings("count(*) as task_starts by bin(1h)"),
	})
	startupsName := "task starts"
	if lambda {
		startupsName = "cold starts"
		startups = awslogs.NewQueryString(&awslogs.QueryStringProps{
			FilterStatements: jsii.Strings(`@type = "REPORT"`, "ispresent(@initDuration)"),
			StatsStatements: jsii.Strings("count(*) as cold_starts, avg(@initDuration) as avg_init_ms, " +
				"pct(@initDuration, 99) as p99_init_ms, max(@initDuration) as max_init_ms by bin(1h)"),
		})
	}
	byID := append([]awslogs.ILogGroup(nil), appLogs...)
	if accessLogs != nil {
		byID = append(byID, accessLogs)
	}
	for _, q := range []struct {
		id, name string
		query    awslogs.QueryString
		groups   []awslogs.ILogGroup
	}{
		{"SlowestOperations", "slowest operations", awslogs.NewQueryString(&awslogs.QueryStringProps{
			FilterStatements: jsii.Strings(access),
			StatsStatements: jsii.Strings(fmt.Sprintf("count(*) as requests, pct(%[1]s, 50) as p50_ms, "+
				"pct(%[1]s, 99) as p99_ms, max(%[1]s) as max_ms by %[2]s", LogDurationMs, LogOperation)),
			Sort:  jsii.String("p99_ms desc"),
			Limit: jsii.Number(50),
		}), appLogs},
		{"ErrorsByOperation", "errors by operation", awslogs.NewQueryString(&awslogs.QueryStringProps{
			FilterStatements: jsii.Strings(access, fmt.Sprintf("%s >= 400", LogStatus)),
			StatsStatements:  jsii.Strings(fmt.Sprintf("count(*) as errors by %s, %s", LogOperation, LogStatus)),
			Sort:             jsii.String("errors desc"),
			Limit:            jsii.Number(100),
		}), appLogs},
		{"ColdStarts", startupsName, startups, appLogs},
		// Every line that names the id: the access line (request_id,
		// aws_request_id, apigw_request_id), an error or panic logged with
		// it, Lambda's REPORT line, and the gateway's access line.
		{"RequestById", "one request by id (replace REQUEST-ID)", awslogs.NewQueryString(&awslogs.QueryStringProps{
			Fields:           jsii.Strings("@timestamp", "@log", "@message"),
			FilterStatements: jsii.Strings(`@message like "REQUEST-ID"`),
			Sort:             jsii.String("@timestamp asc"),
			Limit:            jsii.Number(200),
		}), byID},
	} {
		groups := make([]interfacesawslogs.ILogGroupRef, len(q.groups))
		for i, g := range q.groups {
			groups[i] = g
		}
		o.Queries = append(o.Queries, awslogs.NewQueryDefinition(o.Construct, jsii.String(q.id), &awslogs.QueryDefinitionProps{
			QueryDefinitionName: jsii.String(*stack.StackName() + "/" + q.name),
			QueryString:         q.query,
			LogGroups:           &groups,
		}))
	}
}

package stacks

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
)

// dashboard is the dashboard's body, parsed: CloudFormation's Fn::Join of
// JSON text and references, with each reference written as ${Id} or
// ${Id.Attr} so the text parses and still says what it points at.
type dashboard struct {
	Widgets []struct {
		Type       string         `json:"type"`
		Properties map[string]any `json:"properties"`
	} `json:"widgets"`
}

func dashboardOf(t *testing.T, tmpl assertions.Template) dashboard {
	t.Helper()
	res := *tmpl.FindResources(typ("AWS::CloudWatch::Dashboard"), nil)
	if len(res) != 1 {
		t.Fatalf("want one dashboard, found %d", len(res))
	}
	var body strings.Builder
	for _, r := range res {
		join := (*r)["Properties"].(map[string]any)["DashboardBody"].(map[string]any)["Fn::Join"].([]any)
		for _, part := range join[1].([]any) {
			switch p := part.(type) {
			case string:
				body.WriteString(p)
			case map[string]any:
				body.WriteString(refText(p))
			default:
				t.Fatalf("dashboard body part %v", part)
			}
		}
	}
	var d dashboard
	if err := json.Unmarshal([]byte(body.String()), &d); err != nil {
		t.Fatalf("dashboard body is not JSON: %v\n%s", err, body.String())
	}
	return d
}

// partial matches an object that has at least these members: inside
// Match.arrayWith, a plain map would have to match exactly.
func partial(m map[string]any) assertions.Matcher { return assertions.Match_ObjectLike(&m) }

func refText(p map[string]any) string {
	if r, ok := p["Ref"]; ok {
		return fmt.Sprintf("${%s}", r)
	}
	if g, ok := p["Fn::GetAtt"].([]any); ok {
		return fmt.Sprintf("${%s.%s}", g[0], g[1])
	}
	b, _ := json.Marshal(p)
	return strings.ReplaceAll(string(b), `"`, `'`)
}

// widget is the one widget titled title (fails otherwise), as JSON text.
func (d dashboard) widget(t *testing.T, title string) string {
	t.Helper()
	var found []string
	for _, w := range d.Widgets {
		if w.Properties["title"] == title {
			b, _ := json.Marshal(w.Properties)
			found = append(found, string(b))
		}
	}
	if len(found) != 1 {
		t.Fatalf("want one widget titled %q, found %d", title, len(found))
	}
	return found[0]
}

func (d dashboard) titles() []string {
	var out []string
	for _, w := range d.Widgets {
		if s, ok := w.Properties["title"].(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func wantIn(t *testing.T, what, text string, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(text, s) {
			t.Errorf("%s lacks %q:\n%s", what, s, text)
		}
	}
}

// alarmsNotifyTopic: every alarm of the stack sends ALARM and OK to the
// one topic, and the alarm status widget lists them all.
func alarmsNotifyTopic(t *testing.T, tmpl assertions.Template, d dashboard, n int) {
	t.Helper()
	topic := onlyID(t, tmpl, "AWS::SNS::Topic")
	check(t, fmt.Sprintf("%d alarms, each notifying the topic on ALARM and on OK", n), func() {
		tmpl.ResourceCountIs(typ("AWS::CloudWatch::Alarm"), count(n))
		tmpl.AllResourcesProperties(typ("AWS::CloudWatch::Alarm"), map[string]any{
			"AlarmActions":     []any{ref(topic)},
			"OKActions":        []any{ref(topic)},
			"AlarmDescription": like(`\S`),
			"TreatMissingData": "notBreaching",
		})
	})
	status := d.widget(t, "Alarms")
	for id := range *tmpl.FindResources(typ("AWS::CloudWatch::Alarm"), nil) {
		wantIn(t, "alarm status widget", status, "${"+id+".Arn}")
	}
}

// alarmNames: the alarms are named for the stack and what they watch,
// which is what the subject of the e-mail shows.
func alarmNames(t *testing.T, tmpl assertions.Template, want ...string) {
	t.Helper()
	var got []string
	for _, r := range *tmpl.FindResources(typ("AWS::CloudWatch::Alarm"), nil) {
		got = append(got, (*r)["Properties"].(map[string]any)["AlarmName"].(string))
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("alarm names = %q, want %q", got, want)
	}
}

// encryptedTopic: KMS with rotation, a key policy CloudWatch can publish
// with, TLS enforced; subscribed by email when one is given.
func encryptedTopic(t *testing.T, tmpl assertions.Template, email string) {
	t.Helper()
	key := onlyID(t, tmpl, "AWS::KMS::Key")
	topic := onlyID(t, tmpl, "AWS::SNS::Topic")
	check(t, "topic encrypted with a rotated customer managed key that CloudWatch may use", func() {
		tmpl.HasResourceProperties(typ("AWS::SNS::Topic"), map[string]any{"KmsMasterKeyId": arnOf(key)})
		tmpl.HasResourceProperties(typ("AWS::KMS::Key"), map[string]any{
			"EnableKeyRotation": true,
			"KeyPolicy": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{partial(map[string]any{
				"Action":    []any{"kms:Decrypt", "kms:GenerateDataKey*"},
				"Effect":    "Allow",
				"Principal": map[string]any{"Service": "cloudwatch.amazonaws.com"},
			})})},
		})
	})
	check(t, "topic refuses publishing without TLS", func() {
		tmpl.HasResourceProperties(typ("AWS::SNS::TopicPolicy"), map[string]any{
			"Topics": []any{ref(topic)},
			"PolicyDocument": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{partial(map[string]any{
				"Effect": "Deny", "Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
			})})},
		})
	})
	check(t, "email subscription only when an address is given", func() {
		if email == "" {
			tmpl.ResourceCountIs(typ("AWS::SNS::Subscription"), count(0))
			return
		}
		tmpl.ResourceCountIs(typ("AWS::SNS::Subscription"), count(1))
		tmpl.HasResourceProperties(typ("AWS::SNS::Subscription"), map[string]any{
			"Protocol": "email", "Endpoint": email, "TopicArn": ref(topic),
		})
	})
}

// operationGraphs: latency p50/p99, requests and errors per operation, and
// the service row, from the app's EMF metrics of the given service.
func operationGraphs(t *testing.T, d dashboard, service string) {
	t.Helper()
	for _, w := range []struct{ title, metric, stat string }{
		{"Requests per operation", "Requests", "Sum"},
		{"Latency p50 per operation (ms)", "Latency", "p50"},
		{"Latency p99 per operation (ms)", "Latency", "p99"},
		{"4xx per operation", "Errors4xx", "Sum"},
		{"5xx per operation", "Errors5xx", "Sum"},
	} {
		want := fmt.Sprintf(`SEARCH('{typedapi,Operation,Service} MetricName=\"%s\" Service=\"%s\"', '%s', 60)`, w.metric, service, w.stat)
		wantIn(t, w.title, d.widget(t, w.title), want)
	}
	wantIn(t, "cold starts widget", d.widget(t, "Cold starts (the app's ColdStart metric)"),
		fmt.Sprintf(`["typedapi","ColdStart","Service","%s",{"stat":"Sum"}]`, service))
	wantIn(t, "status class widget", d.widget(t, "Requests by status class"),
		fmt.Sprintf(`SEARCH('{typedapi,Service,StatusClass} MetricName=\"Requests\" Service=\"%s\"', 'Sum', 60)`, service))
	wantIn(t, "service latency widget", d.widget(t, "Latency p50 and p99 (ms), all operations"),
		fmt.Sprintf(`["typedapi","Latency","Service","%s",{"period":60,"stat":"p50"}]`, service),
		fmt.Sprintf(`["typedapi","Latency","Service","%s",{"period":60,"stat":"p99"}]`, service))
	// A metric widget shows the Average unless told otherwise, and a
	// period of 300 s: the JSON leaves both out.
	wantIn(t, "service error widget", d.widget(t, "5xx and 4xx, share of requests (0-1)"),
		fmt.Sprintf(`["typedapi","Errors5xx","Service","%s",{"label":"5xx","period":60}]`, service))
}

// savedQueries: the four queries, named under the stack, on the log
// groups given, with the access line's keys.
func savedQueries(t *testing.T, tmpl assertions.Template, stack string, appLogs []any, byIDLogs []any, coldStarts string) {
	t.Helper()
	check(t, "four saved queries", func() {
		tmpl.ResourceCountIs(typ("AWS::Logs::QueryDefinition"), count(4))
	})
	for _, q := range []struct {
		name  string
		logs  []any
		query []string
	}{
		{"slowest operations", appLogs, []string{`filter msg = "request"`, "pct(duration_ms, 99) as p99_ms", "by operation", "sort p99_ms desc"}},
		{"errors by operation", appLogs, []string{`filter msg = "request"`, "filter status >= 400", "by operation, status"}},
		{coldStarts, appLogs, nil},
		{"one request by id (replace REQUEST-ID)", byIDLogs, []string{`filter @message like "REQUEST-ID"`, "sort @timestamp asc"}},
	} {
		check(t, "query "+q.name, func() {
			tmpl.HasResourceProperties(typ("AWS::Logs::QueryDefinition"), map[string]any{
				"Name":          stack + "/" + q.name,
				"LogGroupNames": q.logs,
				"QueryString":   like(regexpAll(q.query)),
			})
		})
	}
}

// regexpAll matches text that holds every one of subs, in order.
func regexpAll(subs []string) string {
	var b strings.Builder
	for _, s := range subs {
		b.WriteString(`[\s\S]*`) // JavaScript's RegExp: no (?s)
		b.WriteString(regexpQuote(s))
	}
	return b.String()
}

func regexpQuote(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`\.+*?()|[]{}^$`, r) {
			b.WriteRune('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func TestObservabilityServerless(t *testing.T) {
	app := newApp(t)
	s := NewServerlessStack(app, "Typedapi", &ServerlessStackProps{CodeDir: codeDir, Spec: readSpec(t, SpecFile(repoRoot)), Auth: testAuth, Observability: ObservabilityOptions{
		AlarmEmail: "oncall@example.com", Service: "shop-api",
		ErrorRatePercent: 2.5, LatencyP99Ms: 800, LambdaErrors: 3, DynamoThrottles: 5,
	}})
	tmpl := synth(t, s.Stack)
	d := dashboardOf(t, tmpl)
	api := onlyID(t, tmpl, "AWS::ApiGatewayV2::Api")
	fn := onlyID(t, tmpl, "AWS::Lambda::Function")
	table := onlyID(t, tmpl, "AWS::DynamoDB::Table")
	fnLogs := fnLogGroup(t, tmpl, fn)
	var accessLogs string
	for id := range *tmpl.FindResources(typ("AWS::Logs::LogGroup"), nil) {
		if id != fnLogs {
			accessLogs = id
		}
	}

	encryptedTopic(t, tmpl, "oncall@example.com")
	alarmsNotifyTopic(t, tmpl, d, 4)
	alarmNames(t, tmpl, "Typedapi: 5xx rate at the HTTP API", "Typedapi: p99 latency at the HTTP API",
		"Typedapi: Lambda errors of Api", "Typedapi: DynamoDB throttling")
	apiDims := []any{map[string]any{"Name": "ApiId", "Value": ref(api)}}
	check(t, "5xx rate of the HTTP API above 2.5% of at least 20 requests in 5 minutes", func() {
		tmpl.HasResourceProperties(typ("AWS::CloudWatch::Alarm"), map[string]any{
			"Threshold": 2.5, "EvaluationPeriods": 1, "ComparisonOperator": "GreaterThanThreshold",
			"Metrics": assertions.Match_ArrayWith(&[]any{
				partial(map[string]any{"Expression": "IF(requests >= 20, 100 * FILL(errors, 0) / requests, 0)", "ReturnData": true}),
				partial(map[string]any{"Id": "errors", "MetricStat": map[string]any{"Metric": map[string]any{
					"Namespace": "AWS/ApiGateway", "MetricName": "5xx", "Dimensions": apiDims}, "Period": 300, "Stat": "Sum"}}),
				partial(map[string]any{"Id": "requests", "MetricStat": map[string]any{"Metric": map[string]any{
					"Namespace": "AWS/ApiGateway", "MetricName": "Count", "Dimensions": apiDims}, "Period": 300, "Stat": "Sum"}}),
			}),
		})
	})
	check(t, "p99 latency of the HTTP API above 800 ms in 2 of 3 five-minute periods", func() {
		tmpl.HasResourceProperties(typ("AWS::CloudWatch::Alarm"), map[string]any{
			"Namespace": "AWS/ApiGateway", "MetricName": "Latency", "Dimensions": apiDims,
			"ExtendedStatistic": "p99", "Period": 300, "Threshold": 800,
			"EvaluateLowSampleCountPercentile": "ignore",
			"EvaluationPeriods":                3, "DatapointsToAlarm": 2, "ComparisonOperator": "GreaterThanThreshold",
		})
	})
	check(t, "3 failed invocations of the function in 5 minutes", func() {
		tmpl.HasResourceProperties(typ("AWS::CloudWatch::Alarm"), map[string]any{
			"Namespace": "AWS/Lambda", "MetricName": "Errors", "Statistic": "Sum", "Period": 300,
			"Dimensions": []any{map[string]any{"Name": "FunctionName", "Value": ref(fn)}},
			"Threshold":  3, "ComparisonOperator": "GreaterThanOrEqualToThreshold",
		})
	})
	check(t, "the function's duration is not alarmed when the HTTP API's latency is", func() {
		tmpl.ResourcePropertiesCountIs(typ("AWS::CloudWatch::Alarm"), map[string]any{"MetricName": "Duration"}, count(0))
	})
	tableDims := []any{map[string]any{"Name": "TableName", "Value": ref(table)}}
	check(t, "5 throttled reads and writes of the table in 5 minutes", func() {
		tmpl.HasResourceProperties(typ("AWS::CloudWatch::Alarm"), map[string]any{
			"Threshold": 5, "ComparisonOperator": "GreaterThanOrEqualToThreshold",
			"Metrics": assertions.Match_ArrayWith(&[]any{
				partial(map[string]any{"Expression": "FILL(r, 0) + FILL(w, 0)", "ReturnData": true}),
				partial(map[string]any{"Id": "r", "MetricStat": map[string]any{"Metric": map[string]any{
					"Namespace": "AWS/DynamoDB", "MetricName": "ReadThrottleEvents", "Dimensions": tableDims}, "Period": 300, "Stat": "Sum"}}),
				partial(map[string]any{"Id": "w", "MetricStat": map[string]any{"Metric": map[string]any{
					"Namespace": "AWS/DynamoDB", "MetricName": "WriteThrottleEvents", "Dimensions": tableDims}, "Period": 300, "Stat": "Sum"}}),
			}),
		})
	})

	operationGraphs(t, d, "shop-api")
	wantIn(t, "HTTP API widget", d.widget(t, "HTTP API: requests, 4xx, 5xx"),
		`"AWS/ApiGateway","5xx","ApiId","${`+api+`}"`, `"AWS/ApiGateway","4xx"`, `"stat":"p99"`)
	wantIn(t, "gateway throttles widget", d.widget(t, "HTTP API throttles (429 from the gateway)"),
		"SOURCE '${"+accessLogs+"}'", `status = \"429\"`)
	wantIn(t, "Lambda throttles widget", d.widget(t, "Lambda: invocations, errors, throttles"),
		`"AWS/Lambda","Throttles","FunctionName","${`+fn+`}"`, `"AWS/Lambda","Errors"`)
	check(t, "the app writes its metrics under Service=shop-api", func() {
		tmpl.HasResourceProperties(typ("AWS::Lambda::Function"), map[string]any{
			"Environment": map[string]any{"Variables": map[string]any{"TYPEDAPI_METRICS_SERVICE": "shop-api"}},
		})
	})
	wantIn(t, "init duration widget", d.widget(t, "Lambda cold starts and init duration (ms), from REPORT lines"),
		"SOURCE '${"+fnLogs+"}'", "ispresent(@initDuration)", "pct(@initDuration, 99)")
	wantIn(t, "DynamoDB capacity widget", d.widget(t, "DynamoDB: consumed capacity units"),
		`"AWS/DynamoDB","ConsumedReadCapacityUnits","TableName","${`+table+`}"`, `"ConsumedWriteCapacityUnits"`)
	wantIn(t, "DynamoDB throttles widget", d.widget(t, "DynamoDB: throttled reads and writes"),
		`"ReadThrottleEvents"`, `"WriteThrottleEvents"`)

	fnLogName := ref(fnLogs)
	savedQueries(t, tmpl, "Typedapi", []any{fnLogName}, []any{fnLogName, ref(accessLogs)}, "cold starts")
	check(t, "cold starts from Lambda's REPORT lines", func() {
		tmpl.HasResourceProperties(typ("AWS::Logs::QueryDefinition"), map[string]any{
			"Name": "Typedapi/cold starts", "QueryString": like(`@type = "REPORT".*\n.*ispresent\(@initDuration\)`),
		})
	})
	check(t, "outputs: the dashboard's URL and the topic", func() {
		tmpl.HasOutput(typ("*"), map[string]any{"Value": map[string]any{"Fn::Join": []any{"", assertions.Match_ArrayWith(&[]any{
			"#dashboards:name=", ref(onlyID(t, tmpl, "AWS::CloudWatch::Dashboard")),
		})}}})
		tmpl.HasOutput(typ("*"), map[string]any{"Value": ref(onlyID(t, tmpl, "AWS::SNS::Topic"))})
	})
}

func TestObservabilityDefaults(t *testing.T) {
	app := newApp(t)
	s := NewServerlessStack(app, "Typedapi", &ServerlessStackProps{CodeDir: codeDir, Spec: readSpec(t, SpecFile(repoRoot)), Auth: testAuth})
	tmpl := synth(t, s.Stack)
	encryptedTopic(t, tmpl, "")
	operationGraphs(t, dashboardOf(t, tmpl), "Typedapi")
	check(t, "default thresholds: 1% 5xx, p99 1000 ms, 1 Lambda error, 1 throttle", func() {
		tmpl.HasResourceProperties(typ("AWS::CloudWatch::Alarm"), map[string]any{
			"Metrics": assertions.Match_ArrayWith(&[]any{partial(map[string]any{"Expression": like("^IF\\(requests")})}), "Threshold": 1,
		})
		tmpl.HasResourceProperties(typ("AWS::CloudWatch::Alarm"), map[string]any{"MetricName": "Latency", "Threshold": 1000})
		tmpl.HasResourceProperties(typ("AWS::CloudWatch::Alarm"), map[string]any{"MetricName": "Errors", "Threshold": 1})
		tmpl.HasResourceProperties(typ("AWS::CloudWatch::Alarm"), map[string]any{
			"Metrics": assertions.Match_ArrayWith(&[]any{partial(map[string]any{"Expression": "FILL(r, 0) + FILL(w, 0)"})}), "Threshold": 1,
		})
	})
}

func TestObservabilityMigrationExample(t *testing.T) {
	app := newApp(t)
	s := NewMigrationExampleStack(app, "Example", &MigrationExampleProps{CodeDir: codeDir, Spec: readSpec(t, SpecFile(repoRoot)), Auth: testAuth,
		Observability: ObservabilityOptions{LatencyP99Ms: 1500}})
	tmpl := synth(t, s.Stack)
	d := dashboardOf(t, tmpl)
	var appFns []string
	for id, r := range *tmpl.FindResources(typ("AWS::Lambda::Function"), nil) {
		props := (*r)["Properties"].(map[string]any)
		if env, _ := props["Environment"].(map[string]any); props["Runtime"] == "provided.al2023" &&
			env["Variables"].(map[string]any)["TYPEDAPI_LAMBDA_HANDLER"] == nil {
			appFns = append(appFns, id) // not the REST API's token authorizer
		}
	}
	slices.Sort(appFns)
	if len(appFns) != 2 {
		t.Fatalf("want the app's two functions, found %v", appFns)
	}
	// The APIs are the legacy owner's: the 5xx rate and p99 are the app's
	// own, with errors of each function and the table's throttles.
	alarmsNotifyTopic(t, tmpl, d, 5)
	alarmNames(t, tmpl, "Example: 5xx rate at the app", "Example: p99 latency of the app", "Example: DynamoDB throttling",
		"Example: Lambda errors of HttpMount/Api", "Example: Lambda errors of RestMount/Api")
	svc := []any{map[string]any{"Name": "Service", "Value": "Example"}}
	check(t, "5xx rate of the app's requests, from its EMF metrics", func() {
		tmpl.HasResourceProperties(typ("AWS::CloudWatch::Alarm"), map[string]any{
			"Threshold": 1,
			"Metrics": assertions.Match_ArrayWith(&[]any{
				partial(map[string]any{"Expression": "IF(requests >= 20, 100 * FILL(errors, 0) / requests, 0)", "ReturnData": true}),
				partial(map[string]any{"Id": "errors", "MetricStat": map[string]any{"Metric": map[string]any{
					"Namespace": "typedapi", "MetricName": "Errors5xx", "Dimensions": svc}, "Stat": "Sum"}}),
				partial(map[string]any{"Id": "requests", "MetricStat": map[string]any{"Metric": map[string]any{
					"Namespace": "typedapi", "MetricName": "Requests", "Dimensions": svc}, "Stat": "Sum"}}),
			}),
		})
	})
	check(t, "p99 latency of the app's requests above 1500 ms", func() {
		tmpl.HasResourceProperties(typ("AWS::CloudWatch::Alarm"), map[string]any{
			"Namespace": "typedapi", "MetricName": "Latency", "Dimensions": svc, "ExtendedStatistic": "p99", "Threshold": 1500,
			"EvaluateLowSampleCountPercentile": "ignore",
		})
	})
	var logs []any
	for _, fn := range appFns {
		check(t, "errors of "+fn+", and its metrics under the stack's Service", func() {
			dims := []any{map[string]any{"Name": "FunctionName", "Value": ref(fn)}}
			tmpl.HasResourceProperties(typ("AWS::CloudWatch::Alarm"), map[string]any{"MetricName": "Errors", "Dimensions": dims})
			tmpl.HasResource(typ("AWS::Lambda::Function"), map[string]any{
				"Properties": map[string]any{"Environment": map[string]any{"Variables": map[string]any{"TYPEDAPI_METRICS_SERVICE": "Example"}}},
			})
		})
		logs = append(logs, ref(fnLogGroup(t, tmpl, fn)))
	}
	check(t, "no alarm on the legacy APIs' metrics", func() {
		tmpl.ResourcePropertiesCountIs(typ("AWS::CloudWatch::Alarm"), map[string]any{"Namespace": "AWS/ApiGateway"}, count(0))
	})
	// Query definitions list their log groups in the order given: the
	// mounts' order, HTTP then REST. Match either order.
	check(t, "the queries read both functions' logs", func() {
		tmpl.ResourcePropertiesCountIs(typ("AWS::Logs::QueryDefinition"), map[string]any{
			"LogGroupNames": assertions.Match_ArrayWith(&[]any{logs[0]}),
		}, count(4))
		tmpl.ResourcePropertiesCountIs(typ("AWS::Logs::QueryDefinition"), map[string]any{
			"LogGroupNames": assertions.Match_ArrayWith(&[]any{logs[1]}),
		}, count(4))
	})
	n := 0
	for _, title := range d.titles() {
		if title == "Lambda: invocations, errors, throttles" {
			n++
		}
	}
	if n != 2 {
		t.Errorf("want a Lambda row per function, found %d", n)
	}
}

func TestObservabilityContainer(t *testing.T) {
	app := newApp(t)
	s := NewContainerStack(app, "Container", &ContainerStackProps{
		RepoRoot: repoRoot,
		Auth:     testAuth,
		Scaling:  ScalingOptions{MaxTasks: 7},
		Observability: ObservabilityOptions{
			AlarmEmail: "ops@example.com", LatencyP99Ms: 500, ErrorRatePercent: 5,
		},
	})
	tmpl := synth(t, s.Stack)
	d := dashboardOf(t, tmpl)
	alb := onlyID(t, tmpl, "AWS::ElasticLoadBalancingV2::LoadBalancer")
	service := onlyID(t, tmpl, "AWS::ECS::Service")
	cluster := onlyID(t, tmpl, "AWS::ECS::Cluster")
	tg := onlyID(t, tmpl, "AWS::ElasticLoadBalancingV2::TargetGroup")
	appLogs := *tmpl.GetResourceId(typ("AWS::Logs::LogGroup"), map[string]any{"Properties": map[string]any{"RetentionInDays": 30}})

	check(t, "the service scales between 2 and 7 tasks", func() {
		tmpl.HasResourceProperties(typ("AWS::ApplicationAutoScaling::ScalableTarget"), map[string]any{
			"MinCapacity": 2, "MaxCapacity": 7, "ScalableDimension": "ecs:service:DesiredCount", "ServiceNamespace": "ecs",
		})
	})
	check(t, "target tracking on CPU at 60%", func() {
		tmpl.HasResourceProperties(typ("AWS::ApplicationAutoScaling::ScalingPolicy"), map[string]any{
			"PolicyType": "TargetTrackingScaling",
			"TargetTrackingScalingPolicyConfiguration": map[string]any{
				"PredefinedMetricSpecification": map[string]any{"PredefinedMetricType": "ECSServiceAverageCPUUtilization"},
				"TargetValue":                   60, "ScaleOutCooldown": 60, "ScaleInCooldown": 300,
			},
		})
	})
	check(t, "target tracking on the ALB's requests per target of the service's target group", func() {
		tmpl.HasResourceProperties(typ("AWS::ApplicationAutoScaling::ScalingPolicy"), map[string]any{
			"PolicyType": "TargetTrackingScaling",
			"TargetTrackingScalingPolicyConfiguration": map[string]any{
				"PredefinedMetricSpecification": map[string]any{
					"PredefinedMetricType": "ALBRequestCountPerTarget",
					"ResourceLabel": map[string]any{"Fn::Join": []any{"", assertions.Match_ArrayWith(&[]any{
						partial(map[string]any{"Fn::GetAtt": []any{tg, "TargetGroupFullName"}}),
					})}},
				},
				"TargetValue": 3000,
			},
		})
	})
	check(t, "an alarm when the service has wanted 7 tasks for 15 minutes", func() {
		tmpl.HasResourceProperties(typ("AWS::CloudWatch::Alarm"), map[string]any{
			"Namespace": "ECS/ContainerInsights", "MetricName": "DesiredTaskCount", "Statistic": "Minimum",
			"Dimensions": assertions.Match_ArrayWith(&[]any{
				partial(map[string]any{"Name": "ClusterName", "Value": ref(cluster)}),
				partial(map[string]any{"Name": "ServiceName", "Value": map[string]any{"Fn::GetAtt": []any{service, "Name"}}}),
			}),
			"Threshold": 7, "Period": 300, "EvaluationPeriods": 3, "ComparisonOperator": "GreaterThanOrEqualToThreshold",
		})
	})

	encryptedTopic(t, tmpl, "ops@example.com")
	// 5xx rate, p99, DynamoDB throttles, at the maximum of tasks.
	alarmsNotifyTopic(t, tmpl, d, 4)
	alarmNames(t, tmpl, "Container: 5xx rate at the load balancer", "Container: p99 latency at the load balancer",
		"Container: DynamoDB throttling", "Container: at the maximum of tasks")
	lbDims := []any{map[string]any{"Name": "LoadBalancer", "Value": map[string]any{"Fn::GetAtt": []any{alb, "LoadBalancerFullName"}}}}
	check(t, "5xx rate at the load balancer, its own 5xx and the tasks', above 5%", func() {
		tmpl.HasResourceProperties(typ("AWS::CloudWatch::Alarm"), map[string]any{
			"Threshold": 5,
			"Metrics": assertions.Match_ArrayWith(&[]any{
				partial(map[string]any{"Expression": "IF(requests >= 20, 100 * FILL(errors, 0) / requests, 0)", "ReturnData": true}),
				partial(map[string]any{"Id": "errors", "Expression": "FILL(t, 0) + FILL(e, 0)"}),
				partial(map[string]any{"Id": "e", "MetricStat": map[string]any{"Metric": map[string]any{
					"Namespace": "AWS/ApplicationELB", "MetricName": "HTTPCode_ELB_5XX_Count", "Dimensions": lbDims}}}),
				partial(map[string]any{"Id": "t", "MetricStat": map[string]any{"Metric": map[string]any{
					"Namespace": "AWS/ApplicationELB", "MetricName": "HTTPCode_Target_5XX_Count", "Dimensions": lbDims}}}),
				partial(map[string]any{"Id": "requests", "MetricStat": map[string]any{"Metric": map[string]any{
					"Namespace": "AWS/ApplicationELB", "MetricName": "RequestCount", "Dimensions": lbDims}}}),
			}),
		})
	})
	check(t, "p99 target response time above 500 ms (the metric is in seconds)", func() {
		tmpl.HasResourceProperties(typ("AWS::CloudWatch::Alarm"), map[string]any{
			"Namespace": "AWS/ApplicationELB", "MetricName": "TargetResponseTime", "Dimensions": lbDims,
			"ExtendedStatistic": "p99", "Threshold": 0.5, "EvaluateLowSampleCountPercentile": "ignore",
		})
	})
	check(t, "no Lambda alarm on a container stack", func() {
		tmpl.ResourcePropertiesCountIs(typ("AWS::CloudWatch::Alarm"), map[string]any{"Namespace": "AWS/Lambda"}, count(0))
	})

	operationGraphs(t, d, "Container")
	check(t, "the app writes its metrics under Service=Container", func() {
		tmpl.HasResourceProperties(typ("AWS::ECS::TaskDefinition"), map[string]any{
			"ContainerDefinitions": []any{partial(map[string]any{"Environment": assertions.Match_ArrayWith(&[]any{
				map[string]any{"Name": "TYPEDAPI_METRICS_SERVICE", "Value": "Container"},
			})})},
		})
	})
	wantIn(t, "task count widget", d.widget(t, "Fargate: tasks (desired, running) and bounds"),
		`"ECS/ContainerInsights","DesiredTaskCount"`, `"RunningTaskCount"`, `"value":7`, `"value":2`)
	wantIn(t, "load balancer widget", d.widget(t, "Load balancer: requests, 4xx, 5xx, rejected"),
		`"HTTPCode_Target_5XX_Count"`, `"HTTPCode_ELB_5XX_Count"`, `"RejectedConnectionCount"`, `"stat":"p99"`)
	wantIn(t, "DynamoDB throttles widget", d.widget(t, "DynamoDB: throttled reads and writes"), `"WriteThrottleEvents"`)

	logs := []any{ref(appLogs)}
	savedQueries(t, tmpl, "Container", logs, logs, "task starts")
	check(t, "task starts from the app's start-up line", func() {
		tmpl.HasResourceProperties(typ("AWS::Logs::QueryDefinition"), map[string]any{
			"Name": "Container/task starts", "QueryString": like(`filter msg = "starting"`),
		})
	})
}

func TestObservabilityOptionsFromContext(t *testing.T) {
	for _, tc := range []struct {
		name    string
		ctx     map[string]string
		want    ObservabilityOptions
		wantErr string
	}{
		{"unset: defaults later", nil, ObservabilityOptions{}, ""},
		{"all set", map[string]string{
			"alarmEmail": "oncall@example.com", "alarmService": "shop-api", "alarm5xxPercent": "0.5",
			"alarmP99Ms": "750", "alarmLambdaErrors": "2", "alarmDynamoThrottles": "10",
		}, ObservabilityOptions{AlarmEmail: "oncall@example.com", Service: "shop-api", ErrorRatePercent: 0.5,
			LatencyP99Ms: 750, LambdaErrors: 2, DynamoThrottles: 10}, ""},
		{"not an address", map[string]string{"alarmEmail": "oncall"}, ObservabilityOptions{}, "alarmEmail"},
		{"a name with the address", map[string]string{"alarmEmail": "On Call <oncall@example.com>"}, ObservabilityOptions{}, "alarmEmail"},
		{"two addresses", map[string]string{"alarmEmail": "a@example.com,b@example.com"}, ObservabilityOptions{}, "alarmEmail"},
		{"a quote in the service", map[string]string{"alarmService": `xy"z`}, ObservabilityOptions{}, "alarmService"},
		{"a service too short for the app", map[string]string{"alarmService": "ab"}, ObservabilityOptions{}, "alarmService"},
		{"not a number", map[string]string{"alarmP99Ms": "1s"}, ObservabilityOptions{}, "alarmP99Ms"},
		{"zero", map[string]string{"alarm5xxPercent": "0"}, ObservabilityOptions{}, "alarm5xxPercent"},
		{"negative", map[string]string{"alarmLambdaErrors": "-1"}, ObservabilityOptions{}, "alarmLambdaErrors"},
		{"not finite", map[string]string{"alarmDynamoThrottles": "NaN"}, ObservabilityOptions{}, "alarmDynamoThrottles"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ObservabilityOptionsFromContext(func(k string) string { return tc.ctx[k] })
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one naming %s", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

func TestScalingOptionsFromContext(t *testing.T) {
	for _, tc := range []struct {
		name    string
		ctx     map[string]string
		want    ScalingOptions
		wantErr string
	}{
		{"unset", nil, ScalingOptions{}, ""},
		{"all set", map[string]string{"maxTasks": "20", "minTasks": "3", "scaleCpuPercent": "50", "scaleRequestsPerTarget": "1200"},
			ScalingOptions{MinTasks: 3, MaxTasks: 20, CPUPercent: 50, RequestsPerTarget: 1200}, ""},
		{"max below the default min", map[string]string{"maxTasks": "1"}, ScalingOptions{}, "maxTasks (1)"},
		{"max below min", map[string]string{"maxTasks": "4", "minTasks": "5"}, ScalingOptions{}, "minTasks (5)"},
		{"not whole", map[string]string{"maxTasks": "2.5"}, ScalingOptions{}, "maxTasks"},
		{"not a number", map[string]string{"maxTasks": "ten"}, ScalingOptions{}, "maxTasks"},
		{"CPU above 100", map[string]string{"scaleCpuPercent": "120"}, ScalingOptions{}, "scaleCpuPercent"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ScalingOptionsFromContext(func(k string) string { return tc.ctx[k] })
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one naming %s", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

// The names the app writes are read from one place: changing emf.go
// changes every expression built from it.
func TestOperationSearchUsesEMFNames(t *testing.T) {
	got := operationSearch(MetricLatency, "svc", "p99")
	want := `SEARCH('{` + MetricsNamespace + `,` + DimOperation + `,` + DimService + `} MetricName="` + MetricLatency +
		`" ` + DimService + `="svc"', 'p99', 60)`
	if got != want {
		t.Errorf("operationSearch = %s\nwant %s", got, want)
	}
}

// emf.go mirrors the app's EMF contract (internal/emf, config's
// metrics_service): this reads the app's source, as
// TestStoreActionsMatchStore does, so the two cannot drift apart. It
// skips only in a checkout that predates the app's EMF package.
func TestEMFNamesMatchApp(t *testing.T) {
	literals := func(rel string) map[string]bool {
		src := filepath.Join(repoRoot, filepath.FromSlash(rel))
		if _, err := os.Stat(src); err != nil {
			t.Skipf("%s: %v (the app writes no EMF in this checkout)", rel, err)
		}
		file, err := parser.ParseFile(token.NewFileSet(), src, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		found := map[string]bool{}
		ast.Inspect(file, func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if s, err := strconv.Unquote(lit.Value); err == nil {
					found[s] = true
				}
			}
			return true
		})
		return found
	}
	emf := literals("internal/emf/emf.go")
	for _, name := range []string{MetricsNamespace, MetricRequests, MetricLatency, MetricErrors4xx, MetricErrors5xx,
		MetricColdStart, DimService, DimOperation, DimStatusClass} {
		if !emf[name] {
			t.Errorf("internal/emf/emf.go has no %q: change cdk/stacks/emf.go with it", name)
		}
	}
	key := strings.ToLower(strings.TrimPrefix(MetricsServiceEnv, "TYPEDAPI_"))
	if !literals("config/config.go")[key] {
		t.Errorf("config/config.go has no key %q, which %s sets", key, MetricsServiceEnv)
	}
}

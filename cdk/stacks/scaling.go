package stacks

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapplicationautoscaling"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awselasticloadbalancingv2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// ScalingOptions bound and steer the Fargate service's task count. Zero
// values mean the defaults named on the fields.
type ScalingOptions struct {
	MinTasks int // 2: one per availability zone, so a zone can fail
	MaxTasks int // 10: the cap on cost and on load on the table
	// CPUPercent is the average CPU the service tracks: 60, leaving room
	// for a surge while new tasks start (a minute or so).
	CPUPercent float64
	// RequestsPerTarget is the ALB requests per task per minute tracked:
	// 3000 (50 a second; a 0.25 vCPU task serves several times that, so
	// CPU usually acts first and this catches cheap requests in bulk).
	RequestsPerTarget float64
}

func (o ScalingOptions) withDefaults() ScalingOptions {
	if o.MinTasks == 0 {
		o.MinTasks = 2
	}
	if o.MaxTasks == 0 {
		o.MaxTasks = 10
	}
	if o.CPUPercent == 0 {
		o.CPUPercent = 60
	}
	if o.RequestsPerTarget == 0 {
		o.RequestsPerTarget = 3000
	}
	return o
}

func (o ScalingOptions) validate() error {
	// Named as the context keys are, since that is where they are set.
	switch {
	case o.MinTasks < 1 || o.MaxTasks < o.MinTasks:
		return fmt.Errorf("scaling: want 1 <= minTasks (%d) <= maxTasks (%d)", o.MinTasks, o.MaxTasks)
	case !(o.CPUPercent > 0 && o.CPUPercent <= 100):
		return fmt.Errorf("scaling: scaleCpuPercent %g: want above 0, at most 100", o.CPUPercent)
	case !(o.RequestsPerTarget > 0):
		return fmt.Errorf("scaling: scaleRequestsPerTarget %g: want above 0", o.RequestsPerTarget)
	}
	return nil
}

// ScalingOptionsFromContext reads the context keys maxTasks, minTasks,
// scaleCpuPercent and scaleRequestsPerTarget; get returns "" for a key that
// is not set.
func ScalingOptionsFromContext(get func(string) string) (ScalingOptions, error) {
	var o ScalingOptions
	for _, n := range []struct {
		key string
		dst *int
	}{{"maxTasks", &o.MaxTasks}, {"minTasks", &o.MinTasks}} {
		v, err := positiveContext(get, n.key)
		if err != nil {
			return o, err
		}
		if v != float64(int(v)) {
			return o, fmt.Errorf("context %s=%q: want a whole number", n.key, get(n.key))
		}
		*n.dst = int(v)
	}
	var err error
	if o.CPUPercent, err = positiveContext(get, "scaleCpuPercent"); err != nil {
		return o, err
	}
	if o.RequestsPerTarget, err = positiveContext(get, "scaleRequestsPerTarget"); err != nil {
		return o, err
	}
	return o, o.withDefaults().validate()
}

// ServiceScaling is the service's target tracking and the alarm that says
// it has run out of room.
type ServiceScaling struct {
	constructs.Construct
	// AtMax fires when the service has wanted its maximum of tasks for 15
	// minutes: the cap, not the load, now bounds what it serves.
	AtMax awscloudwatch.Alarm
	// Widgets is a dashboard row: task counts against the bounds, CPU,
	// requests per task.
	Widgets []awscloudwatch.IWidget
}

// NewServiceScaling lets the service scale between MinTasks and MaxTasks,
// tracking CPU and the load balancer's requests per task, whichever asks
// for more tasks.
func NewServiceScaling(scope constructs.Construct, id string, service awsecs.FargateService,
	tg awselasticloadbalancingv2.ApplicationTargetGroup, opts ScalingOptions) ServiceScaling {
	o := opts.withDefaults()
	if err := o.validate(); err != nil {
		panic(err)
	}
	c := constructs.NewConstruct(scope, jsii.String(id))
	count := service.AutoScaleTaskCount(&awsapplicationautoscaling.EnableScalingProps{
		MinCapacity: jsii.Number(o.MinTasks),
		MaxCapacity: jsii.Number(o.MaxTasks),
	})
	// Out fast, in slowly: a task takes a minute to start, and scaling in
	// too early during a lull just means scaling out again.
	outCooldown, inCooldown := awscdk.Duration_Seconds(jsii.Number(60)), awscdk.Duration_Seconds(jsii.Number(300))
	count.ScaleOnCpuUtilization(jsii.String("Cpu"), &awsecs.CpuUtilizationScalingProps{
		TargetUtilizationPercent: jsii.Number(o.CPUPercent),
		ScaleOutCooldown:         outCooldown, ScaleInCooldown: inCooldown,
	})
	count.ScaleOnRequestCount(jsii.String("Requests"), &awsecs.RequestCountScalingProps{
		RequestsPerTarget: jsii.Number(o.RequestsPerTarget),
		TargetGroup:       tg,
		ScaleOutCooldown:  outCooldown, ScaleInCooldown: inCooldown,
	})

	// Container Insights (on for the cluster) publishes the task counts;
	// AWS/ECS has only utilization.
	tasks := func(name, stat string) awscloudwatch.Metric {
		return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
			Namespace:  jsii.String("ECS/ContainerInsights"),
			MetricName: jsii.String(name),
			DimensionsMap: &map[string]*string{
				"ClusterName": service.Cluster().ClusterName(),
				"ServiceName": service.ServiceName(),
			},
			Statistic: jsii.String(stat),
			Period:    awscdk.Duration_Minutes(jsii.Number(5)),
		})
	}
	atMax := awscloudwatch.NewAlarm(c, jsii.String("AtMaxTasks"), &awscloudwatch.AlarmProps{
		AlarmName: jsii.String(*awscdk.Stack_Of(c).StackName() + ": at the maximum of tasks"),
		AlarmDescription: jsii.String(fmt.Sprintf("The service has wanted its maximum of %d tasks for 15 minutes: "+
			"load above what the cap allows queues up as latency and 5xx. Raise maxTasks (context) if the table "+
			"and budget allow, or find what made requests expensive (dashboard: latency per operation, CPU).", o.MaxTasks)),
		Metric:             tasks("DesiredTaskCount", "Minimum"),
		Threshold:          jsii.Number(o.MaxTasks),
		EvaluationPeriods:  jsii.Number(3),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	})
	oneMinute := awscdk.Duration_Minutes(jsii.Number(1))
	widgets := []awscloudwatch.IWidget{
		awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
			Title: jsii.String("Fargate: tasks (desired, running) and bounds"), Width: jsii.Number(8), Height: jsii.Number(6),
			Left: &[]awscloudwatch.IMetric{tasks("DesiredTaskCount", "Maximum"), tasks("RunningTaskCount", "Minimum")},
			LeftAnnotations: &[]*awscloudwatch.HorizontalAnnotation{
				{Value: jsii.Number(o.MaxTasks), Label: jsii.String("max")},
				{Value: jsii.Number(o.MinTasks), Label: jsii.String("min")},
			},
		}),
		awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
			Title: jsii.String("Fargate: CPU and memory (%)"), Width: jsii.Number(8), Height: jsii.Number(6),
			Left: &[]awscloudwatch.IMetric{
				service.MetricCpuUtilization(&awscloudwatch.MetricOptions{Statistic: jsii.String("Average"), Period: oneMinute}),
				service.MetricMemoryUtilization(&awscloudwatch.MetricOptions{Statistic: jsii.String("Average"), Period: oneMinute}),
			},
			LeftAnnotations: &[]*awscloudwatch.HorizontalAnnotation{{Value: jsii.Number(o.CPUPercent), Label: jsii.String("CPU target")}},
		}),
		awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
			Title: jsii.String("ALB requests per task (per minute)"), Width: jsii.Number(8), Height: jsii.Number(6),
			Left: &[]awscloudwatch.IMetric{tg.Metrics().RequestCountPerTarget(&awscloudwatch.MetricOptions{
				Statistic: jsii.String("Sum"), Period: oneMinute,
			})},
			LeftAnnotations: &[]*awscloudwatch.HorizontalAnnotation{{Value: jsii.Number(o.RequestsPerTarget), Label: jsii.String("target")}},
		}),
	}
	return ServiceScaling{Construct: c, AtMax: atMax, Widgets: widgets}
}

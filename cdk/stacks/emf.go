package stacks

// The names the app writes in CloudWatch Embedded Metric Format on its
// access line; docs/OBSERVABILITY.md ("Metrics: EMF on the access line") is
// the contract. The dashboards, alarms and saved queries read only these,
// so a rename in the app is one edit here.
const (
	MetricsNamespace = "typedapi"
	// MetricsServiceEnv sets the Service dimension's value in the app
	// (config key metrics_service): one per deployment, so two stacks in
	// one account and region never mix their metrics. The stacks set it to
	// ObservabilityOptions.Service, by default the stack's name.
	MetricsServiceEnv = "TYPEDAPI_METRICS_SERVICE"

	MetricRequests  = "Requests"  // Count, 1 per request
	MetricLatency   = "Latency"   // Milliseconds
	MetricErrors4xx = "Errors4xx" // Count, 1 when 400-499 else 0
	MetricErrors5xx = "Errors5xx" // Count, 1 when >= 500 else 0
	MetricColdStart = "ColdStart" // Count, on a process's first access line; [Service] only

	// Requests, Latency, Errors4xx and Errors5xx carry the sets [Service,
	// Operation] and [Service]; Requests also [Service, StatusClass].
	DimService     = "Service"
	DimOperation   = "Operation"
	DimStatusClass = "StatusClass"
)

// The access line's keys and message (README, "Logs"). The one-request
// query matches any line holding the id, whichever of request_id,
// aws_request_id or apigw_request_id it is.
const (
	LogMessage      = "request" // msg of the access line
	LogOperation    = "operation"
	LogStatus       = "status"
	LogDurationMs   = "duration_ms"
	LogStartMessage = "starting" // msg of the line each process writes at start-up
)

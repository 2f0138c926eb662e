package stacks

// The names the app writes in CloudWatch Embedded Metric Format on its
// access line (docs/OBSERVABILITY.md), and the keys of that line
// (internal/middleware.AccessLog). The dashboards, alarms and saved queries
// read only these, so a rename in the app is one edit here.
const (
	MetricsNamespace = "typedapi"
	// MetricsService is the Service dimension's value unless a stack says
	// otherwise (ObservabilityOptions.Service).
	MetricsService = "typedapi"

	MetricRequests  = "Requests"  // Count, one per request
	MetricLatency   = "Latency"   // Milliseconds
	MetricErrors4xx = "Errors4xx" // Count
	MetricErrors5xx = "Errors5xx" // Count
	MetricColdStart = "ColdStart" // Count, on the first request of a Lambda instance

	// The app writes the sets [Service, Operation] and [Service, Operation,
	// StatusClass]; the dashboard reads the first.
	DimService   = "Service"
	DimOperation = "Operation"
)

// The access line's keys and message (README, "Logs").
// The one-request query matches any line holding the id, whichever of
// request_id, aws_request_id or apigw_request_id it is.
const (
	LogMessage      = "request" // msg of the access line
	LogOperation    = "operation"
	LogStatus       = "status"
	LogDurationMs   = "duration_ms"
	LogStartMessage = "starting" // msg of the line each process writes at start-up
)

// operationDims is the dimension set the per-operation metrics carry.
var operationDims = []string{DimService, DimOperation}

// Package dynamodb is the durable store: items and orders in one DynamoDB table, every
// write conditional and transactional, listings served by Query in id order.
// docs/DYNAMODB.md describes the table: keys, rows, access patterns and what a
// page guarantees.
package dynamodb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/logging"
	"go.opentelemetry.io/otel/trace"
)

// IAMActions are all the actions the running service calls on its table;
// the deployment grants exactly these (on the table ARN). Transactions are
// authorised per action kind, so TransactWriteItems needs PutItem,
// DeleteItem and ConditionCheckItem rather than an action of its own.
var IAMActions = []string{
	"dynamodb:DescribeTable",      // Ping (/readyz)
	"dynamodb:GetItem",            // Get/GetOrder, and the read before every write
	"dynamodb:Query",              // List/ListOrders
	"dynamodb:PutItem",            // creates and updates (inside TransactWriteItems)
	"dynamodb:DeleteItem",         // updates and deletes (inside TransactWriteItems)
	"dynamodb:ConditionCheckItem", // CreateOrder: the item is still at the version read
}

// TableAdminActions are what CreateTable needs in addition: the `table
// create` command for local use, never the service's role in AWS (where the
// infrastructure stack owns the table).
var TableAdminActions = []string{
	"dynamodb:CreateTable",
	"dynamodb:DescribeTable",
	"dynamodb:UpdateTimeToLive",
	"dynamodb:DescribeTimeToLive",
}

// Options configure New. Only Table is required.
type Options struct {
	Table string
	// Region defaults to the SDK's usual sources (AWS_REGION, ~/.aws/config);
	// with an Endpoint and no region anywhere, "us-east-1".
	Region string
	// Endpoint overrides the AWS endpoint, e.g. DynamoDB Local at
	// http://127.0.0.1:8000.
	Endpoint string

	// MaxAttempts is how often the SDK tries one call (3): bounded so a
	// request fails within its deadline rather than retrying past it.
	MaxAttempts int
	// MaxBackoff caps the wait between attempts (1s).
	MaxBackoff time.Duration
	// AttemptTimeout bounds one HTTP attempt (5s); DynamoDB answers in
	// milliseconds, so a longer wait means a lost connection.
	AttemptTimeout time.Duration
	// DialTimeout bounds a TCP connect (2s).
	DialTimeout time.Duration
	// MaxConns bounds the connections to DynamoDB (64), all kept open for
	// reuse: beyond it calls wait for a free connection (within
	// AttemptTimeout) instead of opening, and TLS-handshaking, ever more.
	MaxConns int

	// Logger receives the SDK's own log lines (retries, warnings) so they
	// stay JSON with the rest; slog.Default() when nil.
	Logger *slog.Logger
	// Getenv is the environment (os.Getenv when nil), consulted only to
	// decide whether credentials are configured.
	Getenv func(string) string
	// Now is the clock idempotency expiry is judged by (time.Now).
	Now func() time.Time

	// TracerProvider makes a client span for each HTTP attempt of a
	// DynamoDB call (tracedhttp.go), child of the request's span; nil is
	// OpenTelemetry's global provider, a no-op until tracing is set up.
	// Either way the call carries the request's W3C trace context.
	TracerProvider trace.TracerProvider
}

// Store is a models-level store over one DynamoDB table. It is safe for
// concurrent use; make one per process and share it.
type Store struct {
	client *dynamodb.Client
	table  string
	now    func() time.Time
}

// New configures the client. It makes no network call, so a Lambda cold
// start pays only for reading the environment; Ping checks the table.
func New(ctx context.Context, o Options) (*Store, error) {
	if o.Table == "" {
		return nil, errors.New("dynamodb: a table name is required")
	}
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 3
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = time.Second
	}
	if o.AttemptTimeout <= 0 {
		o.AttemptTimeout = 5 * time.Second
	}
	if o.DialTimeout <= 0 {
		o.DialTimeout = 2 * time.Second
	}
	if o.MaxConns <= 0 {
		o.MaxConns = 64
	}

	httpClient := awshttp.NewBuildableClient().
		WithTimeout(o.AttemptTimeout).
		WithDialerOptions(func(d *net.Dialer) { d.Timeout = o.DialTimeout }).
		WithTransportOptions(func(tr *http.Transport) {
			tr.MaxConnsPerHost = o.MaxConns
			tr.MaxIdleConnsPerHost = o.MaxConns
		})
	cfg, err := loadConfig(ctx, o, sdkSettings{
		httpClient: httpClient,
		logger:     sdkLogger(o.Logger),
		retryer: func() aws.Retryer {
			return retry.NewStandard(func(so *retry.StandardOptions) {
				so.MaxAttempts = o.MaxAttempts
				so.MaxBackoff = o.MaxBackoff
			})
		},
	})
	if err != nil {
		return nil, err
	}
	// Wrapped after loading: the loader configures the buildable client
	// itself (a CA bundle from the environment, say).
	cfg.HTTPClient = traced(cfg.HTTPClient, o.TracerProvider)
	if cfg.Region == "" {
		if o.Endpoint == "" {
			return nil, errors.New("dynamodb: no region: set dynamodb_region or AWS_REGION")
		}
		cfg.Region = "us-east-1"
	}
	client := dynamodb.NewFromConfig(cfg, func(do *dynamodb.Options) {
		if o.Endpoint != "" {
			do.BaseEndpoint = aws.String(o.Endpoint)
		}
		// DynamoDB Local sends "X-Amz-Crc32: 0" on some responses, which
		// makes the SDK warn on every such call. The check is kept against
		// anything but a plain-HTTP loopback endpoint.
		do.DisableValidateResponseChecksum = isLocal(o.Endpoint)
	})
	return &Store{client: client, table: o.Table, now: o.Now}, nil
}

// isLocal reports whether endpoint is plain HTTP on this machine, which is
// only ever DynamoDB Local.
func isLocal(endpoint string) bool {
	u, err := url.Parse(endpoint)
	if err != nil || u.Scheme != "http" {
		return false
	}
	h := u.Hostname()
	ip := net.ParseIP(h)
	return h == "localhost" || (ip != nil && ip.IsLoopback())
}

// sdkLogger adapts the SDK's printf-style logging to slog.
func sdkLogger(l *slog.Logger) logging.Logger {
	return logging.LoggerFunc(func(c logging.Classification, format string, v ...any) {
		level := slog.LevelDebug
		if c == logging.Warn {
			level = slog.LevelWarn
		}
		l.Log(context.Background(), level, fmt.Sprintf(format, v...), "component", "aws-sdk")
	})
}

// Ping checks that DynamoDB answers and the table exists and is usable.
func (s *Store) Ping(ctx context.Context) error {
	out, err := s.client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &s.table})
	if err != nil {
		return classify(ctx, "describe table", err)
	}
	if st := out.Table.TableStatus; st != "ACTIVE" && st != "UPDATING" {
		return fmt.Errorf("%w: dynamodb table %s is %s", errUnavailable, s.table, st)
	}
	return nil
}

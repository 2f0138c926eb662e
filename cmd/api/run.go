package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"syscall"
	"time"

	"github.com/typedapi/typedapi/config"
	"github.com/typedapi/typedapi/internal/emf"
	"github.com/typedapi/typedapi/internal/logwriter"
	"github.com/typedapi/typedapi/internal/middleware"
	"github.com/typedapi/typedapi/internal/serve"
	"github.com/typedapi/typedapi/internal/tracing"
	"github.com/typedapi/typedapi/operations"
	"github.com/typedapi/typedapi/store/dynamodb"
	"github.com/typedapi/typedapi/store/memory"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3";
// otherwise it comes from the module's build information.
var version = ""

const usage = `Usage: api [--config FILE] [command]

Commands:
  serve        serve the API (default). On AWS Lambda (AWS_LAMBDA_RUNTIME_API
               set) it answers Lambda events; elsewhere it listens on $PORT.
  openapi      print the OpenAPI document and exit
               [--format json|yaml] [--spec 3.1|3.0]
  healthcheck  GET /healthz on the local server; exit 0 if healthy
               (for container HEALTHCHECKs in images without curl)
  event        print a realistic Lambda event for a request:
               api event METHOD PATH [--source rest|http|alb|url] [--stage S]
               [--base-path /p] [--header k=v]... [--body @file|-|text]
  invoke       pass an event (--event FILE, or standard input) through the
               Lambda handler in process and print the Lambda response
               (--decode: the HTTP status, headers and body instead)
  gateway      serve HTTP through the Lambda handler like a front door would
               [--addr 127.0.0.1:3000] [--source rest|http|alb|url]
               [--stage S] [--base-path /p]: try /docs on the Lambda path;
               --source url --stream: a RESPONSE_STREAM Function URL
  table create create the DynamoDB table (and its TTL setting) named by
               dynamodb_table, for local development and tests; in AWS
               the CDK stack owns it
  help         print this text

Configuration: defaults < config file (--config or TYPEDAPI_CONFIG) <
environment (TYPEDAPI_*, and PORT). See the README for every key.
`

// run is the whole program with its OS dependencies passed in, so tests
// start the real thing.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("api", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage) }
	configFile := fs.String("config", "", "config file (yaml, json or toml)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	command, rest := "serve", []string(nil)
	if fs.NArg() > 0 {
		command, rest = fs.Arg(0), fs.Args()[1:]
	}

	cfg, err := config.Load(*configFile, getenv)
	if err != nil {
		return err
	}
	var logTo io.Writer = stdout
	switch {
	case command == "invoke":
		logTo = stderr // its standard output is the Lambda response, for a pipe
	case command == "serve" && getenv("AWS_LAMBDA_RUNTIME_API") == "":
		// The HTTP server writes its access lines off the request path, many
		// per system call under load. Not on Lambda: it freezes the process
		// as soon as an answer is returned, so there each line is written
		// before the answer leaves.
		lw := logwriter.New(stdout)
		defer lw.Close()
		logTo = lw
	}
	logger := newLogger(cfg, logTo)
	slog.SetDefault(logger)

	switch command {
	case "serve":
		return runServe(ctx, cfg, getenv, logger)
	case "openapi":
		return printSpec(cfg, rest, stdout, stderr)
	case "healthcheck":
		return healthcheck(ctx, cfg)
	case "event":
		return eventCommand(rest, stdin, stdout, stderr)
	case "invoke":
		return invokeCommand(ctx, cfg, rest, getenv, logger, stdin, stdout, stderr)
	case "gateway":
		return gatewayCommand(ctx, cfg, rest, getenv, logger, stderr)
	case "table":
		return tableCommand(ctx, cfg, rest, getenv, logger)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", command)
	}
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "text" {
		return slog.New(middleware.TraceIDs(slog.NewTextHandler(w, opts)))
	}
	if cfg.Metrics {
		// EMF is JSON: with text logs there are no metrics. It adds
		// trace ids itself.
		return slog.New(emf.New(w, cfg.MetricsService, opts))
	}
	return slog.New(middleware.TraceIDs(slog.NewJSONHandler(w, opts)))
}

func buildVersion() string {
	if version != "" {
		return version
	}
	if info, ok := debug.ReadBuildInfo(); ok {
		if v := info.Main.Version; v != "" && v != "(devel)" {
			return v
		}
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				return s.Value[:12]
			}
		}
	}
	return "dev"
}

// newAPI builds the handler on the configured store, with the configured
// authentication (auth.go): cfg.Host is where it listens, which decides
// whether auth may default to off.
func newAPI(cfg config.Config, getenv func(string) string, logger *slog.Logger) (http.Handler, operations.Options, error) {
	authn, err := newAuthenticator(cfg, getenv("AWS_LAMBDA_RUNTIME_API") != "", cfg.ListensOnLoopbackOnly(), logger)
	if err != nil {
		return nil, operations.Options{}, err
	}
	store, err := newStore(cfg, getenv, logger)
	if err != nil {
		return nil, operations.Options{}, err
	}
	opts := operations.Options{
		Title:          "typedapi",
		Version:        buildVersion(),
		BodyLimit:      cfg.BodyLimit,
		IdempotencyTTL: cfg.IdempotencyTTL,
		CursorSecret:   cfg.CursorSecret,
		CORSOrigins:    cfg.CORSOrigins,
		BasePath:       cfg.BasePath,
		TrustedProxies: cfg.TrustedProxies,
		PublicBaseURL:  cfg.PublicBaseURL,
		RateLimit:      cfg.RateLimit,
		RateBurst:      cfg.RateBurst,

		ExportConcurrency:  cfg.ExportConcurrency,
		StreamWriteTimeout: cfg.WriteTimeout,
		EventsMaxDuration:  cfg.EventsMaxDuration,
		EventsHeartbeat:    cfg.EventsHeartbeat,
		EventsPollInterval: cfg.EventsPollInterval,
		Logger:             logger,
		Auth:               authn,
		Lazy:               lazyOperations(getenv),
	}
	h, _ := operations.New(opts, store)
	return h, opts, nil
}

// lazyOperations says whether operations are registered with Huma on their
// first request (operations.Options.Lazy): on Lambda, where a cold start
// answers one request and one invocation runs at a time, it pays for one
// operation instead of all of them. Everything is registered at start-up,
// as on the HTTP server, where that is better: with provisioned
// concurrency, whose init runs before any traffic, and with
// AWS_LAMBDA_MAX_CONCURRENCY above 1 (Lambda Managed Instances), where
// invocations run side by side and would wait on each other's
// registrations.
func lazyOperations(getenv func(string) string) bool {
	if getenv("AWS_LAMBDA_RUNTIME_API") == "" || getenv("AWS_LAMBDA_INITIALIZATION_TYPE") == "provisioned-concurrency" {
		return false
	}
	n, err := strconv.Atoi(getenv("AWS_LAMBDA_MAX_CONCURRENCY"))
	return err != nil || n <= 1
}

// newStore makes the configured store. The DynamoDB client is built here,
// once per process, without touching the network (Lambda cold starts).
func newStore(cfg config.Config, getenv func(string) string, logger *slog.Logger) (operations.Stores, error) {
	if cfg.Store == "dynamodb" {
		s, err := dynamodbStore(cfg, getenv, logger)
		if err != nil {
			return operations.Stores{}, err
		}
		return operations.StoresOf(s), nil
	}
	return operations.StoresOf(memory.New()), nil
}

func dynamodbStore(cfg config.Config, getenv func(string) string, logger *slog.Logger) (*dynamodb.Store, error) {
	return dynamodb.New(context.Background(), dynamodb.Options{
		Table:    cfg.DynamoDBTable,
		Region:   cfg.DynamoDBRegion,
		Endpoint: cfg.DynamoDBEndpoint,
		Logger:   logger,
		Getenv:   getenv,
	})
}

func tableCommand(ctx context.Context, cfg config.Config, args []string, getenv func(string) string, logger *slog.Logger) error {
	if len(args) != 1 || args[0] != "create" {
		return errors.New("usage: api table create")
	}
	store, err := dynamodbStore(cfg, getenv, logger)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := store.CreateTable(ctx); err != nil {
		return err
	}
	logger.Info("table ready", "table", cfg.DynamoDBTable)
	return nil
}

func runServe(ctx context.Context, cfg config.Config, getenv func(string) string, logger *slog.Logger) error {
	if cfg.LambdaHandler == "authorizer" {
		return runAuthorizer(cfg, getenv, logger)
	}
	tr, err := tracing.Setup(ctx, getenv, tracing.Options{ServiceVersion: buildVersion(), Logger: logger})
	if err != nil {
		return err
	}
	// Setup made tr OpenTelemetry's global provider, which the DynamoDB
	// store (built below) takes: this process's, on or off.
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = tr.Shutdown(sctx)
	}()
	h, _, err := newAPI(cfg, getenv, logger)
	if err != nil {
		return err
	}
	h = tr.Handler(h)
	if getenv("AWS_LAMBDA_RUNTIME_API") != "" {
		// returns only when the runtime ends the process, or its API fails
		return serve.Lambda(h, lambdaOptions(cfg, logger, tr.Flush))
	}
	logger.Info("starting", append([]any{"version", buildVersion()}, cfg.Redacted()...)...)
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	return serve.HTTP(ctx, h, serve.HTTPOptions{
		Addr:              cfg.Addr(),
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		ReadTimeout:       cfg.ReadTimeout,
		WriteTimeout:      cfg.WriteTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		ShutdownGrace:     cfg.ShutdownGrace,
		Ready:             readyHook(ctx),
	}, logger)
}

// lambdaOptions are the Lambda handler's options from the configuration.
func lambdaOptions(cfg config.Config, logger *slog.Logger, afterInvoke func(context.Context)) serve.LambdaOptions {
	return serve.LambdaOptions{
		Logger:            logger,
		AfterInvoke:       afterInvoke,
		Stream:            cfg.LambdaStream,
		MaxStreamBytes:    cfg.LambdaStreamMaxBytes,
		StreamMaxDuration: cfg.LambdaStreamMaxDuration,
	}
}

// readyHookKey lets tests learn the bound address when they listen on port 0.
type readyHookKey struct{}

func readyHook(ctx context.Context) func(net.Addr) {
	f, _ := ctx.Value(readyHookKey{}).(func(net.Addr))
	return f
}

func printSpec(cfg config.Config, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("openapi", flag.ContinueOnError)
	fs.SetOutput(stderr)
	format := fs.String("format", "json", "json or yaml")
	spec := fs.String("spec", "3.1", "OpenAPI version: 3.1 or 3.0")
	if err := fs.Parse(args); err != nil {
		return err
	}
	_, api := operations.New(operations.Options{Title: "typedapi", Version: buildVersion(), BodyLimit: cfg.BodyLimit}, operations.StoresOf(memory.New()))
	doc := api.OpenAPI()
	var out []byte
	var err error
	switch *format + "/" + *spec {
	case "json/3.1":
		out, err = json.MarshalIndent(doc, "", "  ")
	case "yaml/3.1":
		out, err = doc.YAML()
	case "json/3.0":
		out, err = operations.Downgrade(doc, false)
	case "yaml/3.0":
		out, err = operations.Downgrade(doc, true)
	default:
		return fmt.Errorf("openapi: --format must be json or yaml and --spec 3.1 or 3.0 (got %q, %q)", *format, *spec)
	}
	if err != nil {
		return err
	}
	_, err = stdout.Write(append(out, '\n'))
	return err
}

func healthcheck(ctx context.Context, cfg config.Config) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	host := cfg.Host
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+net.JoinHostPort(host, fmt.Sprint(cfg.Port))+cfg.BasePath+"/healthz", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return errors.New("healthcheck: /healthz answered " + resp.Status)
	}
	return nil
}

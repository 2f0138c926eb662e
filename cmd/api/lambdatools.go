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
	"strings"
	"syscall"
	"time"

	"github.com/typedapi/typedapi/config"
	"github.com/typedapi/typedapi/internal/lambdalocal"
	"github.com/typedapi/typedapi/internal/serve"
)

// The local Lambda tooling: nobody should need to know an event's shape
// to try the Lambda path.
//
//	api event POST /v1/items --source http --header content-type=application/json --body @item.json
//	api event GET /v1/items | api invoke
//	api gateway --source rest --stage prod     # then open http://127.0.0.1:3000/prod/docs

// headerFlags collects repeated --header k=v flags.
type headerFlags http.Header

func (h headerFlags) String() string { return "" }
func (h headerFlags) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok || strings.TrimSpace(k) == "" {
		return fmt.Errorf("--header wants name=value, got %q", v)
	}
	http.Header(h).Add(strings.TrimSpace(k), val)
	return nil
}

// eventCommand prints a realistic event for METHOD PATH.
func eventCommand(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("event", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: api event METHOD PATH [--source rest|http|alb|url|lattice|lattice-v2] [--stage S] [--base-path /p] [--header k=v]... [--body @file|-|text] [--multi-value] [--proxy-route]")
		fs.PrintDefaults()
	}
	source := fs.String("source", "http", "front door: rest, http, alb, url, lattice or lattice-v2 (VPC Lattice event structure v1 or v2)")
	stage := fs.String("stage", "", "API Gateway stage (rest defaults to prod)")
	basePath := fs.String("base-path", "", "custom-domain base path mapping, e.g. /shop")
	body := fs.String("body", "", "request body: text, @file, or - for standard input")
	multi := fs.Bool("multi-value", false, "ALB target group with multi-value headers on")
	proxy := fs.Bool("proxy-route", false, `HTTP API route "ANY /{proxy+}" instead of $default`)
	header := headerFlags{}
	fs.Var(header, "header", "request header name=value (repeatable)")
	// Flags may follow the two positional arguments.
	if len(args) < 2 {
		fs.Usage()
		return errors.New("event: METHOD and PATH are required")
	}
	method, target := args[0], args[1]
	if err := fs.Parse(args[2:]); err != nil {
		return err
	}
	b, err := readBody(*body, stdin)
	if err != nil {
		return err
	}
	if len(b) > 0 && http.Header(header).Get("Content-Type") == "" {
		ct := "application/json"
		if method == http.MethodPatch {
			ct = "application/merge-patch+json" // the one type a PATCH takes
		}
		http.Header(header).Set("Content-Type", ct)
	}
	ev, err := lambdalocal.Build(lambdalocal.Request{Source: *source, Method: method, Target: target, Header: http.Header(header),
		Body: b, Stage: *stage, BasePath: *basePath, MultiValue: *multi, ProxyRoute: *proxy})
	if err != nil {
		return err
	}
	_, err = stdout.Write(append(ev, '\n'))
	return err
}

func readBody(spec string, stdin io.Reader) ([]byte, error) {
	switch {
	case spec == "-":
		return io.ReadAll(stdin)
	case strings.HasPrefix(spec, "@"):
		return os.ReadFile(spec[1:])
	}
	return []byte(spec), nil
}

// invokeCommand passes an event through the exact Lambda handler, in
// process, and prints the Lambda response.
func invokeCommand(ctx context.Context, cfg config.Config, args []string, getenv func(string) string, logger *slog.Logger, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("invoke", flag.ContinueOnError)
	fs.SetOutput(stderr)
	eventFile := fs.String("event", "-", "event file, or - for standard input")
	decode := fs.Bool("decode", false, "print the HTTP response (status, headers, decoded body) instead of the Lambda response")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var ev []byte
	var err error
	if *eventFile == "-" {
		ev, err = io.ReadAll(stdin)
	} else {
		ev, err = os.ReadFile(*eventFile)
	}
	if err != nil {
		return err
	}
	// invoke listens nowhere: only this machine's own input reaches it, as
	// with a loopback listener.
	cfg.Host = "127.0.0.1"
	h, _, err := newAPI(cfg, getenv, logger)
	if err != nil {
		return err
	}
	out, err := serve.NewLambdaHandler(h, serve.LambdaOptions{Logger: logger}).Invoke(serve.LocalInvocation(ctx), ev)
	if err != nil {
		return fmt.Errorf("invoke: %w", err)
	}
	if !*decode {
		var pretty any
		_ = json.Unmarshal(out, &pretty)
		out, _ = json.MarshalIndent(pretty, "", "  ")
		_, err = stdout.Write(append(out, '\n'))
		return err
	}
	status, header, body, err := lambdalocal.Decode(out)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%d %s\n", status, http.StatusText(status))
	_ = header.Write(stdout)
	fmt.Fprintln(stdout)
	_, err = stdout.Write(body)
	return err
}

// gatewayCommand serves HTTP through the Lambda handler, the way a front
// door would, so /docs and "Try it out" exercise the Lambda path locally.
func gatewayCommand(ctx context.Context, cfg config.Config, args []string, getenv func(string) string, logger *slog.Logger, stderr io.Writer) error {
	fs := flag.NewFlagSet("gateway", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:3000", "address to listen on")
	opts := lambdalocal.GatewayOptions{Logger: logger}
	fs.StringVar(&opts.Source, "source", "http", "front door: rest, http, alb, url, lattice or lattice-v2 (VPC Lattice event structure v1 or v2)")
	fs.StringVar(&opts.Stage, "stage", "", "API Gateway stage; paths start with /{stage} (rest defaults to prod)")
	fs.StringVar(&opts.BasePath, "base-path", "", "custom-domain base path mapping, e.g. /shop")
	fs.BoolVar(&opts.MultiValue, "multi-value", false, "ALB target group with multi-value headers on")
	fs.BoolVar(&opts.ProxyRoute, "proxy-route", false, `HTTP API route "ANY /{proxy+}" instead of $default`)
	stream := fs.Bool("stream", false, "with --source url: a RESPONSE_STREAM Function URL, answers streamed as they are written")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *stream && opts.Source != "url" {
		return errors.New("gateway: --stream needs --source url: of the front doors only a Function URL streams here")
	}
	// What the tool listens on decides whether auth may default to off.
	cfg.Host, _, _ = net.SplitHostPort(*addr)
	h, _, err := newAPI(cfg, getenv, logger)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	opts = opts.WithDefaults() // so the line says the stage it serves
	logger.Info("local gateway", "source", opts.Source, "stage", opts.Stage, "base_path", opts.BasePath, "addr", *addr, "stream", *stream)
	if *stream {
		return streamingGateway(ctx, cfg, h, *addr, opts, logger)
	}
	lh := serve.NewLambdaHandler(h, serve.LambdaOptions{Logger: logger})
	invoke := func(ctx context.Context, payload []byte) ([]byte, error) {
		return lh.Invoke(serve.LocalInvocation(ctx), payload)
	}
	return serve.HTTP(ctx, lambdalocal.Gateway(invoke, opts), serve.HTTPOptions{
		Addr:              *addr,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		ReadTimeout:       cfg.ReadTimeout,
		WriteTimeout:      cfg.WriteTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		ShutdownGrace:     cfg.ShutdownGrace,
		Ready:             readyHook(ctx),
	}, logger)
}

// streamingGateway is `api gateway --source url --stream`: the handler runs
// on the streaming path exactly as on Lambda, behind a Runtime API stand-in
// on 127.0.0.1, and the gateway writes each body to the client as the
// stream brings it.
func streamingGateway(ctx context.Context, cfg config.Config, h http.Handler, addr string, opts lambdalocal.GatewayOptions, logger *slog.Logger) error {
	api := lambdalocal.NewRuntimeAPI(cfg.LambdaStreamMaxDuration)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	runtimeSrv := &http.Server{Handler: api, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = runtimeSrv.Serve(ln) }()
	defer runtimeSrv.Close()
	lopts := lambdaOptions(cfg, logger, nil)
	lopts.Stream = true
	lh := serve.NewLambdaHandler(h, lopts)
	// Several execution environments, so one long stream does not hold
	// up the next request. They outlive ctx until the server has drained,
	// so the streams in flight can finish.
	loopCtx, cancelLoops := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelLoops()
	for range 4 {
		go func() {
			if err := lh.ServeRuntimeAPI(loopCtx, ln.Addr().String()); loopCtx.Err() == nil {
				logger.Error("local runtime loop stopped", "error", err.Error())
			}
		}()
	}
	return serve.HTTP(ctx, lambdalocal.StreamingGateway(api, opts), serve.HTTPOptions{
		Addr:              addr,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		ReadTimeout:       cfg.ReadTimeout,
		WriteTimeout:      cfg.LambdaStreamMaxDuration, // a stream may run as long as the function may
		IdleTimeout:       cfg.IdleTimeout,
		ShutdownGrace:     cfg.ShutdownGrace,
		Ready:             readyHook(ctx),
	}, logger)
}

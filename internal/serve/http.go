// Package serve runs an http.Handler in one of the runtimes the service
// supports: a plain net/http server (laptop, container) with timeouts and a
// graceful drain, or AWS Lambda through algnhsa. It knows nothing of the
// operations behind the handler.
package serve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/typedapi/typedapi/internal/requestinfo"
)

// HTTPOptions are the server's limits.
type HTTPOptions struct {
	Addr              string
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	WriteTimeout      time.Duration
	IdleTimeout       time.Duration
	MaxHeaderBytes    int
	ShutdownGrace     time.Duration
	// Ready, when set, is called with the bound address once the server
	// accepts connections (tests use it with port 0).
	Ready func(addr net.Addr)
}

// HTTP serves h until ctx is done, then stops accepting connections and
// gives in-flight requests ShutdownGrace to finish. It returns nil after a
// clean drain, and an error if the server failed or the drain timed out.
func HTTP(ctx context.Context, h http.Handler, opts HTTPOptions, logger *slog.Logger) error {
	if opts.MaxHeaderBytes == 0 {
		opts.MaxHeaderBytes = 64 << 10
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: opts.ReadHeaderTimeout,
		ReadTimeout:       opts.ReadTimeout,
		WriteTimeout:      opts.WriteTimeout,
		IdleTimeout:       opts.IdleTimeout,
		MaxHeaderBytes:    opts.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
		// The peer is a fact of the connection: described once per
		// connection, not copied into every request on it.
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			ip := c.RemoteAddr().String()
			if host, _, err := net.SplitHostPort(ip); err == nil {
				ip = host
			}
			return requestinfo.With(ctx, requestinfo.Info{SourceIP: ip})
		},
	}
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", opts.Addr, err)
	}
	logger.Info("listening", "addr", ln.Addr().String())
	if opts.Ready != nil {
		opts.Ready(ln.Addr())
	}

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	select {
	case err := <-served:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}

	logger.Info("shutting down: draining in-flight requests", "grace", opts.ShutdownGrace.String())
	drainCtx, cancel := context.WithTimeout(context.Background(), opts.ShutdownGrace)
	defer cancel()
	if err := srv.Shutdown(drainCtx); err != nil {
		_ = srv.Close()
		return fmt.Errorf("drain did not finish within %s: %w", opts.ShutdownGrace, err)
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("http server: %w", err)
	}
	logger.Info("shut down cleanly")
	return nil
}

package serve

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/typedapi/typedapi/internal/requestinfo"
)

// On the HTTP server an operation learns the caller's IP through
// requestinfo, as on Lambda, and that it is not on Lambda.
func TestHTTPDescribesTheCaller(t *testing.T) {
	got := make(chan requestinfo.Info, 1)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got <- requestinfo.FromContext(r.Context()) })
	ctx, cancel := context.WithCancel(context.Background())
	addrs := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() {
		done <- HTTP(ctx, h, HTTPOptions{Addr: "127.0.0.1:0", ShutdownGrace: 5 * time.Second, Ready: func(a net.Addr) { addrs <- a }},
			slog.New(slog.NewTextHandler(io.Discard, nil)))
	}()
	var addr net.Addr
	select {
	case addr = <-addrs:
	case err := <-done:
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + addr.String() + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	info := <-got
	if info.SourceIP != "127.0.0.1" || info.OnLambda {
		t.Errorf("info %+v, want SourceIP 127.0.0.1 and OnLambda false", info)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// Command floor serves one of the httpbench floors for scripts/bench-http.
package main

import (
	"flag"
	"log"
	"net/http"
	"time"

	"github.com/typedapi/typedapi/internal/httpbench"
	"github.com/typedapi/typedapi/store/memory"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8081", "listen address")
	kind := flag.String("kind", "barehuma", "barehuma | nethttp")
	flag.Parse()
	var h http.Handler
	switch *kind {
	case "barehuma":
		h = httpbench.BareHuma(memory.New())
	case "nethttp":
		h = httpbench.NetHTTP(memory.New())
	default:
		log.Fatalf("unknown -kind %q", *kind)
	}
	srv := &http.Server{Addr: *addr, Handler: h, ReadHeaderTimeout: 5 * time.Second}
	log.Fatal(srv.ListenAndServe())
}

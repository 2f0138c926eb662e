// Command exportrss measures what a large NDJSON export costs the real
// server process in resident memory (issue 17: "peak RSS during it stays
// within 5 MiB of idle"). It builds and starts `api` on 127.0.0.1 with the
// memory store, creates -n items through the API, waits for the process
// to settle, then reads /v1/items/export to the end while sampling the
// server's VmRSS, and prints idle, peak and the time to the first line.
//
//	go run ./internal/httpbench/exportrss              # from the module root
//	go run ./internal/httpbench/exportrss -n 100000 -rounds 3
//
// It prints numbers; it asserts nothing (see docs/PERFORMANCE.md).
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	n := flag.Int("n", 100_000, "items to create before the export")
	rounds := flag.Int("rounds", 3, "exports to measure, one after another")
	workers := flag.Int("workers", 16, "concurrent creates while seeding")
	flag.Parse()
	if err := run(*n, *rounds, *workers); err != nil {
		fmt.Fprintln(os.Stderr, "exportrss:", err)
		os.Exit(1)
	}
}

func run(n, rounds, workers int) error {
	dir, err := os.MkdirTemp("", "exportrss")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "api")
	build := exec.Command("go", "build", "-o", bin, "./cmd/api") //nolint:gosec // G204: our own temporary path
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("build: %w", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	srv := exec.CommandContext(ctx, bin) //nolint:gosec // G204: the binary just built
	srv.Env = append(os.Environ(), "TYPEDAPI_HOST=127.0.0.1", "TYPEDAPI_PORT="+strconv.Itoa(port),
		"TYPEDAPI_AUTH_MODE=off", "TYPEDAPI_LOG_LEVEL=warn", "TYPEDAPI_WRITE_TIMEOUT=5m")
	srv.Stdout, srv.Stderr = io.Discard, os.Stderr
	if err := srv.Start(); err != nil {
		return err
	}
	defer func() { _ = srv.Process.Kill(); _ = srv.Wait() }()
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	if err := waitReady(ctx, base); err != nil {
		return err
	}

	start := time.Now()
	if err := seed(ctx, base, n, workers); err != nil {
		return err
	}
	fmt.Printf("created %d items in %.1fs\n", n, time.Since(start).Seconds())
	time.Sleep(3 * time.Second) // let the seeding's garbage be collected
	fmt.Printf("%-6s %12s %12s %12s %14s %12s\n", "round", "idle RSS", "peak RSS", "peak-idle", "first line", "whole")
	for r := 1; r <= rounds; r++ {
		idle, err := rss(srv.Process.Pid)
		if err != nil {
			return err
		}
		var peak atomic.Int64
		peak.Store(idle)
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() {
			t := time.NewTicker(2 * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-stop:
					return
				case <-t.C:
					if v, err := rss(srv.Process.Pid); err == nil && v > peak.Load() {
						peak.Store(v)
					}
				}
			}
		})
		first, whole, lines, err := export(ctx, base)
		close(stop)
		wg.Wait()
		if err != nil {
			return err
		}
		if lines != n {
			return fmt.Errorf("export: %d lines, want %d", lines, n)
		}
		mib := func(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
		fmt.Printf("%-6d %12s %12s %12s %14s %12s\n", r, mib(idle), mib(peak.Load()), mib(peak.Load()-idle),
			first.Round(10*time.Microsecond), whole.Round(time.Millisecond))
		time.Sleep(time.Second)
	}
	return nil
}

func waitReady(ctx context.Context, base string) error {
	for {
		resp, err := http.Get(base + "/readyz") //nolint:gosec // G107: our own server on 127.0.0.1
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return errors.New("the server did not get ready")
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func seed(ctx context.Context, base string, n, workers int) error {
	var next atomic.Int64
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := next.Add(1); i <= int64(n); i = next.Add(1) {
				body := fmt.Sprintf(`{"name":"Item %d","price":%d,"currency":"EUR","tags":["export"]}`, i, 100+i%1000)
				req, _ := http.NewRequestWithContext(ctx, "POST", base+"/v1/items", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					errs <- err
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				if resp.StatusCode != 201 {
					errs <- fmt.Errorf("create: %s", resp.Status)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}

func export(ctx context.Context, base string) (first, whole time.Duration, lines int, err error) {
	start := time.Now()
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/v1/items/export", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, 0, 0, err
	}
	defer resp.Body.Close()
	br := bufio.NewReaderSize(resp.Body, 64<<10)
	for {
		line, err := br.ReadSlice('\n')
		if len(line) > 0 && lines == 0 {
			first = time.Since(start)
		}
		if bytes.HasSuffix(line, []byte("\n")) {
			lines++
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return 0, 0, 0, err
		}
	}
	return first, time.Since(start), lines, nil
}

// rss is a process's resident set size in bytes.
func rss(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("no VmRSS")
}
